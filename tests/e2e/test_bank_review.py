"""The accountant's review of a bank statement in a real browser: upload the collection
account's CSV, read how each credit was matched, confirm one, ignore another with its
reason, send the confirmed line to posting; the director approves the batch and the line
becomes a repayment with its receipt.

The statement has three lines: a transfer naming the loan's structured reference (matched by
reference, 99 %), a transfer from someone who owes nothing (not matched), and a debit
(skipped).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fundapp.extensions import db
from fundapp.loans.models import Repayment
from fundapp.payments.vietqr import reference
from tests.conftest import BUSINESS_DATE
from tests.e2e.conftest import sign_in
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff
from tests.services.test_bank_import import agribank_csv


@pytest.fixture(scope="module")
def world(live_server: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict:
    with live_server["app"].app_context():
        staff = fund_and_staff()
        loan = contracted_loan(staff, on=date(2026, 5, 4))
        disburse(staff, loan, 120_000_000, date(2026, 5, 5))
        text = reference(loan.contract_no, 6)
        data = agribank_csv(
            [
                ("FT26321000001", BUSINESS_DATE, "", "1.000.000", f"{text} tra no", "", ""),
                ("FT26321000002", BUSINESS_DATE, "", "250.000", "ung ho quy", "NGUYEN VAN X", ""),
                ("FT26321000003", BUSINESS_DATE, "55.000", "", "phi dich vu", "", ""),
            ]
        )
        folder = tmp_path_factory.mktemp("bank")
        path = folder / "sao_ke_agribank.csv"
        path.write_bytes(data)
        return {
            "accountant": staff.accountant.username,
            "director": staff.director.username,
            "loan_id": loan.id,
            "contract": loan.contract_no,
            "file": str(path),
        }


def test_the_accountant_reviews_a_statement_and_the_director_approves_the_batch(
    page: Page, live_server: dict[str, Any], world: dict
) -> None:
    base = live_server["url"]
    sign_in(page, base, world["accountant"])
    page.get_by_role("link", name="Sao kê thu nợ").click()
    expect(page).to_have_url(re.compile(r"/bank/$"))
    page.get_by_label("Ngân hàng").select_option("AGRIBANK")
    page.get_by_label("Tệp sao kê (CSV hoặc Excel)").set_input_files(world["file"])
    page.get_by_role("button", name="Nhập và khớp").click()

    expect(page).to_have_url(re.compile(r"/bank/statements/\d+$"))
    expect(
        page.get_by_text("Đã nhập 2 khoản ghi có: 1 khớp, 1 chưa khớp, 0 trùng.")
    ).to_be_visible()
    rows = page.locator("#bank-lines tbody tr")
    expect(rows).to_have_count(2)
    matched, stranger = rows.nth(0), rows.nth(1)
    expect(matched).to_contain_text(world["contract"])
    expect(matched).to_contain_text("Mã thanh toán (99 %)")
    expect(matched).to_contain_text("Đã khớp, chờ xác nhận")
    expect(stranger).to_contain_text("Chưa khớp")

    # Confirm the match; ignore the stranger's transfer with its reason.
    matched.get_by_label("Thao tác").select_option("confirm")
    matched.get_by_role("button", name="Lưu").click()
    expect(page.locator("#bank-lines tbody tr").nth(0)).to_contain_text("Đã xác nhận")
    stranger = page.locator("#bank-lines tbody tr").nth(1)
    stranger.get_by_label("Thao tác").select_option("ignore")
    stranger.get_by_label("Lý do").fill("Không phải tiền trả nợ")
    stranger.get_by_role("button", name="Lưu").click()
    expect(page.locator("#bank-lines tbody tr").nth(1)).to_contain_text("Không phải tiền trả nợ")

    # Send the confirmed line to posting: with the default policy it waits for the director.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Ghi thu nợ các dòng đã xác nhận").click()
    expect(page.get_by_text("Lô 1 dòng, 1.000.000 đ chờ Giám đốc duyệt.")).to_be_visible()
    statement_url = page.url

    sign_in(page, base, world["director"])
    page.goto(statement_url)
    page.get_by_role("button", name="Duyệt và ghi thu nợ").click()
    expect(page.get_by_text("Đã ghi thu nợ 1 dòng; 0 dòng không ghi được.")).to_be_visible()
    expect(page.locator("#bank-lines tbody tr").nth(0)).to_contain_text("Đã ghi thu nợ")

    with live_server["app"].app_context():
        paid = db.session.query(Repayment).filter_by(loan_id=world["loan_id"]).one()
        assert (paid.amount, paid.reference) == (1_000_000, "FT26321000001")
        assert paid.receipt_no.startswith("PT-2026-")
