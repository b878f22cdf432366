"""VietQR payloads against the NAPAS test vectors (QR Switching specification v1.5.2, 6.1)."""

from __future__ import annotations

import re

import pytest
from vietnam_qr_pay import QRPay

from fundapp.payments import vietqr
from fundapp.payments.vietqr import VietQRError

# NAPAS 6.1.3, dynamic QR to an account: 180.000 đ to 0011012345678 at BIN 970403, bill
# NPS6869, content "thanh toan don hang".
NAPAS_613 = (
    "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA"
    "530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E"
)
# NAPAS 6.1.1, static QR to an account, as printed (CRC F4E5).
NAPAS_611 = (
    "00020101021138570010A00000072701270006970403011200110123456780208QRIBFTTA53037045802VN6304F4E5"
)


def crc(text: str) -> str:
    """CRC-16/CCITT-FALSE written out bit by bit (poly 0x1021, init 0xFFFF, no reflection)."""
    value = 0xFFFF
    for byte in text.encode("ascii"):
        value ^= byte << 8
        for _ in range(8):
            value = ((value << 1) ^ 0x1021) if value & 0x8000 else value << 1
            value &= 0xFFFF
    return f"{value:04X}"


def test_crc_check_value_and_the_napas_vectors() -> None:
    assert crc("123456789") == "29B1"  # the CRC-16/CCITT-FALSE check value
    assert crc(NAPAS_613[:-4]) == "2E2E"
    assert crc(NAPAS_611[:-4]) == "F4E5"
    assert QRPay(NAPAS_611).is_valid and QRPay(NAPAS_613).is_valid


def test_hand_built_dynamic_qr_equals_napas_6_1_3() -> None:
    built = vietqr.payload(
        "970403", "0011012345678", 180_000, "thanh toan don hang", bill_number="NPS6869"
    )
    assert built == NAPAS_613


def test_the_fund_s_code_field_by_field() -> None:
    text = vietqr.payload("970405", "2500 201 012 345", 10_611_507, "HD20260014 K03")
    assert (
        text
        == (
            "000201"  # payload format 01
            "010212"  # dynamic: one amount, one payment
            "3857"
            "0010A000000727"  # NAPAS
            "0127"
            "0006970405"
            "01132500201012345"  # Agribank, the account without its spaces
            "0208QRIBFTTA"  # NAPAS 247 transfer to an account
            "5303704"  # VND
            "540810611507"  # amount
            "5802VN"
            "6218"
            "0814HD20260014 K03"  # purpose of transaction
            "6304" + crc(text[:-4])
        )
    )
    parsed = QRPay(text)
    assert parsed.is_valid and parsed.amount == "10611507"


def test_static_code_without_amount_or_content() -> None:
    text = vietqr.payload("970405", "2500201012345", None, "")
    assert re.fullmatch(r"00020101021138.*5303704" r"5802VN6304[0-9A-F]{4}", text)


@pytest.mark.parametrize(
    ("contract", "no", "expected"),
    [
        ("HD-2026-0014", 3, "HD20260014 K03"),
        ("HD-2026-0014", 12, "HD20260014 K12"),
        ("HD-2026-0014", None, "HD20260014"),
        ("123/2024/HĐTD-Quỹ", 1, "1232024HDTDQUY K01"),
        ("HĐ-" + "9" * 40, 7, "HD" + "9" * 19 + " K07"),  # 25 characters, the K kept
    ],
)
def test_reference_keeps_what_banks_keep(contract: str, no: int | None, expected: str) -> None:
    ref = vietqr.reference(contract, no)
    assert ref == expected
    assert len(ref) <= 25


@pytest.mark.parametrize(
    ("bank_bin", "account", "amount", "content"),
    [
        ("97040", "2500201012345", 1, ""),  # BIN of 5 digits
        ("97040A", "2500201012345", 1, ""),
        ("970405", "", 1, ""),
        ("970405", "1" * 20, 1, ""),  # account longer than 19
        ("970405", "2500201012345", 0, ""),
        ("970405", "2500201012345", -5, ""),
        ("970405", "2500201012345", 10**13, ""),  # 14 digits do not fit ID 54
        ("970405", "2500201012345", 1.5, ""),  # never a float
        ("970405", "2500201012345", True, ""),
        ("970405", "2500201012345", 1, "trả nợ"),  # not ASCII: its length would lie
        ("970405", "2500201012345", 1, "A" * 26),
    ],
)
def test_refuses_what_the_payload_cannot_carry(
    bank_bin: str, account: str, amount: object, content: str
) -> None:
    with pytest.raises(VietQRError):
        vietqr.payload(bank_bin, account, amount, content)  # type: ignore[arg-type]


def test_fund_qr_needs_the_bin_and_something_to_pay() -> None:
    config = {
        "FUNDAPP_BANK_BIN": "970405",
        "FUNDAPP_BANK_ACCOUNT": "2500 201 012 345",
        "FUNDAPP_BANK_NAME": "Agribank chi nhánh Bắc Giang",
        "FUNDAPP_BANK_ACCOUNT_NAME": "QUY HO TRO PHAT TRIEN HTX TINH BAC NINH",
    }
    qr = vietqr.fund_qr(config, 500_000, "HD20260001 K01")
    assert qr is not None
    assert (qr.amount, qr.reference, qr.account_no) == (
        500_000,
        "HD20260001 K01",
        "2500 201 012 345",
    )
    assert QRPay(qr.payload).additional_data.purpose == "HD20260001 K01"
    assert vietqr.fund_qr(config, 0, "HD20260001 K01") is None
    assert vietqr.fund_qr({**config, "FUNDAPP_BANK_BIN": "off"}, 500_000, "X") is None
    assert vietqr.fund_qr({**config, "FUNDAPP_BANK_BIN": ""}, 500_000, "X") is None
    assert vietqr.fund_qr({**config, "FUNDAPP_BANK_ACCOUNT": ""}, 500_000, "X") is None


def test_svg_is_plain_markup() -> None:
    markup = str(vietqr.svg(NAPAS_613))
    assert markup.startswith("<svg ") and markup.endswith("</svg>")
    for forbidden in ("<script", "style=", "href", "http", "<?xml", "<image"):
        assert forbidden not in markup, forbidden
    assert not re.search(r"\son\w+=", markup)  # no event handler
