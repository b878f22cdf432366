"""VietQR codes for the fund's collection account: the payload, its QR as SVG, the reference.

VietQR is NAPAS's profile of the EMVCo merchant-presented QR (NAPAS "QR Switching"
specification v1.5.2, section 6): under ID 38 the NAPAS GUID ``A000000727``, the bank's
BIN and the account number, and the service ``QRIBFTTA`` (NAPAS 247 transfer to an
account); currency 704, country VN, the amount in ID 54, the transfer's content in ID 62-08,
and a CRC-16/CCITT-FALSE in ID 63. Every Vietnamese banking app reads it and fills in the
bank, the account, the amount and the content.

The TLV encoding and the CRC come from ``vietnam-qr-pay`` (it reproduces the NAPAS test
vectors, tests/unit/test_vietqr.py); this module checks what goes in, since that library
writes whatever it is given, and draws the code with ``segno`` as SVG markup (no script, no
style attribute, no external reference: CSP-safe on a page, vector in a WeasyPrint PDF).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import segno
from markupsafe import Markup
from vietnam_qr_pay import QRPay

# EMVCo field limits (NAPAS v1.5.2): BIN n6, account ans..19, amount ans..13, ID 62-08 ans..25.
BIN_PATTERN = re.compile(r"[0-9]{6}")
ACCOUNT_MAX = 19
AMOUNT_MAX = 10**13 - 1
REFERENCE_MAX = 25
# What every bank keeps of a transfer's content: capitals, digits and spaces.
_REJECTED = re.compile(r"[^A-Z0-9 ]+")
_NOT_ACCOUNT = re.compile(r"[^A-Z0-9]")
# What the payload accepts in ID 62 (ASCII, so that each character is one byte of its length).
_ANS = re.compile(rf"[A-Za-z0-9 ]{{0,{REFERENCE_MAX}}}")
# One QR module in millimetres: 45 mm for a version 8 code with its quiet zone, which any
# phone reads from paper or from a screen.
MODULE_MM = 0.8


class VietQRError(ValueError):
    """A value the VietQR payload cannot carry."""


def _ascii_upper(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in folded if not unicodedata.combining(c)).upper()


def reference(contract_no: str, instalment_no: int | None = None) -> str:
    """The transfer's content naming the contract and the instalment, as banks keep it:
    ``HD-2026-0014``, 3 → ``HD20260014 K03``; capitals, digits and one space only, at most
    25 characters (the contract part is shortened, never the instalment)."""
    contract = _REJECTED.sub("", _ascii_upper(contract_no)).replace(" ", "")
    suffix = f" K{instalment_no:02d}" if instalment_no else ""
    return contract[: REFERENCE_MAX - len(suffix)] + suffix


def account_number(text: str) -> str:
    """An account number as the payload carries it: ``2500 201 012 345`` → ``2500201012345``."""
    return _NOT_ACCOUNT.sub("", text.upper())


def payload(
    bank_bin: str,
    account: str,
    amount: int | None,
    reference_text: str,
    bill_number: str | None = None,
) -> str:
    """The VietQR string for a transfer of ``amount`` đồng (None: the payer types it) to
    ``account`` at the bank ``bank_bin``, with ``reference_text`` as its content (ID 62-08)
    and ``bill_number`` (ID 62-01) if given."""
    if not BIN_PATTERN.fullmatch(bank_bin):
        raise VietQRError(f"bank BIN must be 6 digits, not {bank_bin!r}")
    account = account_number(account)
    if not 0 < len(account) <= ACCOUNT_MAX:
        raise VietQRError(f"account number must have 1 to {ACCOUNT_MAX} letters or digits")
    if amount is not None and (
        isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= AMOUNT_MAX
    ):
        raise VietQRError(f"amount must be whole đồng from 1 to {AMOUNT_MAX}, not {amount!r}")
    for name, text in (("reference", reference_text), ("bill number", bill_number or "")):
        if not _ANS.fullmatch(text):
            raise VietQRError(f"{name} must be at most {REFERENCE_MAX} letters, digits, spaces")
    qr = QRPay.init_viet_qr(
        bank_bin=bank_bin,
        bank_number=account,
        amount=str(amount) if amount is not None else None,
        purpose=reference_text or None,
    )
    qr.additional_data.bill_number = bill_number or None
    return qr.build()


def svg(text: str) -> Markup:
    """The QR code of ``text`` as inline SVG markup, sized in millimetres."""
    code = segno.make(text, error="m", micro=False)
    return Markup(  # noqa: S704 - segno writes only its own path markup, no input text
        code.svg_inline(scale=MODULE_MM, unit="mm", title="VietQR", svgclass="vietqr-code")
    )


@dataclass(frozen=True)
class PaymentQR:
    """A QR to pay the fund, with what it says in words beside it."""

    payload: str
    svg: Markup
    amount: int
    reference: str
    bank_name: str
    account_no: str
    account_name: str


def fund_qr(config: Mapping[str, Any], amount: int, reference_text: str) -> PaymentQR | None:
    """The QR for paying ``amount`` to the fund's account (config ``FUNDAPP_BANK_BIN``,
    ``FUNDAPP_BANK_ACCOUNT``, ``FUNDAPP_BANK_NAME``, ``FUNDAPP_BANK_ACCOUNT_NAME``), or None
    when the account is not configured for VietQR or there is nothing to pay."""
    bank_bin = str(config.get("FUNDAPP_BANK_BIN") or "").strip()
    account = str(config.get("FUNDAPP_BANK_ACCOUNT") or "").strip()
    if not bank_bin or not account or amount <= 0:
        return None
    try:
        text = payload(bank_bin, account, amount, reference_text)
    except VietQRError:
        return None
    return PaymentQR(
        payload=text,
        svg=svg(text),
        amount=amount,
        reference=reference_text,
        bank_name=str(config.get("FUNDAPP_BANK_NAME") or ""),
        account_no=account,
        account_name=str(config.get("FUNDAPP_BANK_ACCOUNT_NAME") or ""),
    )
