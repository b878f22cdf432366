"""Amounts in Vietnamese words, as written on receipts and debt receipts.

Northern usage: "linh" for a zero tens digit (một trăm linh năm), "mốt", "tư" and "lăm" for
1, 4 and 5 after "mươi" (hai mươi mốt, hai mươi tư, hai mươi lăm), "lăm" after "mười".
Groups of three digits below the leading one are read in full (một triệu không trăm linh
năm nghìn); all-zero groups are left out. Above a billion the count of "tỷ" is read like
any number (một nghìn tỷ). "chẵn" closes an amount that ends with a whole thousand.
"""

from __future__ import annotations

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
GROUP_UNITS = ("", "nghìn", "triệu")
BILLION = 10**9


def _units_after_tens(tens: int, units: int) -> str:
    if units == 1 and tens >= 2:
        return "mốt"
    if units == 4 and tens >= 2:
        return "tư"
    if units == 5 and tens >= 1:
        return "lăm"
    return DIGITS[units]


def _three_digits(value: int, full: bool) -> list[str]:
    """0 < value < 1000; ``full`` reads the hundreds even when they are zero."""
    hundreds, rest = divmod(value, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append("linh")
            words.append(DIGITS[units])
    elif tens == 1:
        words.append("mười")
        if units:
            words.append(_units_after_tens(1, units))
    else:
        words += [DIGITS[tens], "mươi"]
        if units:
            words.append(_units_after_tens(tens, units))
    return words


def _below_billion(value: int, leading: bool) -> list[str]:
    groups = []
    while value:
        value, group = divmod(value, 1000)
        groups.append(group)
    words: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if not group:
            continue
        full = not (leading and not words and index == len(groups) - 1)
        words += _three_digits(group, full)
        if GROUP_UNITS[index]:
            words.append(GROUP_UNITS[index])
    return words


def _number(value: int, leading: bool = True) -> list[str]:
    billions, rest = divmod(value, BILLION)
    words: list[str] = []
    if billions:
        words += [*_number(billions, leading), "tỷ"]
    if rest:
        words += _below_billion(rest, leading and not words)
    return words


def amount_in_words(amount: int) -> str:
    """``14_450_000_000`` → "Mười bốn tỷ bốn trăm năm mươi triệu đồng chẵn"."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError("amount_in_words takes a whole number of đồng, 0 or more")
    if amount == 0:
        return "Không đồng"
    words = [*_number(amount), "đồng"]
    if amount % 1000 == 0:
        words.append("chẵn")
    text = " ".join(words)
    return text[0].upper() + text[1:]
