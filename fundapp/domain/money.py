"""Money: whole Vietnamese đồng as ``int``, rates as ``Decimal`` percent per year
(docs/rules.md#money-and-rounding, docs/rules.md#interest-overdue-interest-and-late-interest).

This module holds the one rounding rule of the fund (half-up to the đồng), the one
interest formula (actual/365), how amounts and rates are typed, and the provision product
(rate × base, rounded once). Nothing here touches the database.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

DAYS_IN_YEAR = Decimal(365)
HUNDRED = Decimal(100)
MINUS = "\u2212"  # the one sign of a negative amount on screen and in documents

# Largest amount we accept anywhere: 10^15 đồng (a million billion), far above any fund,
# and safely inside a signed 64-bit column.
MAX_AMOUNT = 10**15


class MoneyError(ValueError):
    """Input that is not a whole, positive number of đồng."""


def is_whole(value: object) -> bool:
    """An ``int`` that is not a ``bool``: the only shape money may take in the maths."""
    return isinstance(value, int) and not isinstance(value, bool)


def round_dong(value: Decimal) -> int:
    """Round a Decimal amount half-up to a whole đồng (the fund's only rounding rule)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def provision(base: int, rate_pct: Decimal) -> int:
    """A loan-loss provision of ``rate_pct`` % on ``base`` đồng (never below 0).

    The product is exact (``Decimal``) and rounded half-up once, here: the specific
    provision (group rate × (principal − discounted collateral)) and the general one
    (its rate × groups 1–4 principal) both come from this function, in the close of day
    and in the reports alike.
    """
    if isinstance(rate_pct, float):  # Decimal(0.75) is 0.74999…: a binary float is not a rate
        raise TypeError("provision rate must be a Decimal, not a float")
    with localcontext() as ctx:
        ctx.prec = 50  # any base up to MAX_AMOUNT times any rate, exactly
        return round_dong(Decimal(max(base, 0)) * Decimal(rate_pct) / HUNDRED)


def interest_exact(principal: int, annual_rate: Decimal, days: int) -> Decimal:
    """Interest on ``principal`` for ``days`` days at ``annual_rate`` %/year, actual/365.

    Returned at full precision; callers sum the pieces of one instalment and round once.
    """
    return Decimal(principal) * Decimal(annual_rate) * Decimal(days) / (HUNDRED * DAYS_IN_YEAR)


def interest(principal: int, annual_rate: Decimal, days: int) -> int:
    """Interest for a single span, rounded to the đồng."""
    return round_dong(interest_exact(principal, annual_rate, days))


# ASCII digits only: in Python patterns \d is any script's digit, and ``int`` reads them all.
_GROUPED = re.compile(r"[0-9]{1,3}([., ])[0-9]{3}(?:\1[0-9]{3})*")
_PLAIN = re.compile(r"[0-9]+")
_RATE = re.compile(r"[0-9]+(\.[0-9]+)?")


def parse_dong(raw: object) -> int:
    """Parse user input into whole đồng.

    Accepts ``1234567``, ``1.234.567``, ``1,234,567`` and ``1 234 567`` (thousands
    separators only), in the ASCII digits 0–9. Refuses decimals, letters, signs, other
    scripts' digits (``１２３``, ``١٢٣``: code ``not_ascii``) and empty input with a
    :class:`MoneyError` whose code says which.
    """
    if isinstance(raw, bool):
        raise MoneyError("not_a_number")
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip().replace("\u00a0", " ")
        for suffix in ("đ", "VND", "vnd", "đồng"):
            if text.endswith(suffix):
                text = text[: -len(suffix)].strip()
        if not text:
            raise MoneyError("empty")
        if _PLAIN.fullmatch(text):
            value = int(text)
        elif _GROUPED.fullmatch(text):
            value = int(re.sub(r"[^0-9]", "", text))
        elif any(c.isdigit() and not c.isascii() for c in text):
            raise MoneyError("not_ascii")
        else:
            raise MoneyError("not_whole_dong")
    if value > MAX_AMOUNT:
        raise MoneyError("too_large")
    return value


def parse_rate(raw: object) -> Decimal:
    """Parse an annual rate in percent (``"7.2"`` or ``"7,2"``) into a Decimal."""
    if isinstance(raw, (bool, float)):
        raise MoneyError("bad_rate")
    if isinstance(raw, Decimal):
        raw = format(raw, "f")
    text = str(raw if raw is not None else "").strip().replace(",", ".")
    # Plain ASCII digits: ``Decimal`` alone would also read "٧.٢", "7_2" or "7e0".
    if not _RATE.fullmatch(text):
        raise MoneyError("bad_rate")
    try:
        rate = Decimal(text)
    except InvalidOperation as exc:
        raise MoneyError("bad_rate") from exc
    if not rate.is_finite() or rate < 0 or rate > 100 or rate.as_tuple().exponent < -4:
        raise MoneyError("bad_rate")
    return rate


def format_dong(amount: int | None, locale: str = "vi") -> str:
    """``1.234.567.890 đ`` in Vietnamese, ``1,234,567,890 VND`` in English.

    A negative amount has one shape everywhere: the minus sign U+2212 before the digits
    (``−1.234 đ``), never brackets or a hyphen."""
    if amount is None:
        return ""
    sign = MINUS if amount < 0 else ""
    grouped = f"{abs(int(amount)):,}"
    if locale.startswith("vi"):
        return f"{sign}{grouped.replace(',', '.')} đ"
    return f"{sign}{grouped} VND"


def format_rate(rate: Decimal | str | None, locale: str = "vi") -> str:
    """``7,2 %/năm`` in Vietnamese, ``7.2 %/year`` in English."""
    if rate is None:
        return ""
    try:
        # A rate stored as typed with the Vietnamese comma ("6,8") is read as 6.8.
        number = Decimal(rate.strip().replace(",", ".")) if isinstance(rate, str) else rate
        text = format(Decimal(number).normalize(), "f")
    except (InvalidOperation, ValueError):
        return str(rate)  # unreadable: shown as stored, never an error on a page
    if locale.startswith("vi"):
        return f"{text.replace('.', ',')} %/năm"
    return f"{text} %/year"
