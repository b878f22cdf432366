"""Issue 16, defects 5 and 6.

5. After a money action the success message is in view: the redirect goes to the flash
   area (``#flashes``, at the top of the page), not to a table below it.
6. ``/close-day/``: an entry dated on a closed day (repayment, disbursement, capital) is
   accepted with a visible warning of its effect; the run button is disabled, with the
   reason, when there is nothing to run.

The books are closed once, on 20/11/2026 (the business date; the first run ever closes that
date only): the days before 20/11/2026 are closed, 20/11/2026 itself is open."""

from __future__ import annotations

import re
from datetime import date

from fundapp.extensions import db
from fundapp.servicing.close_day import on_closed_day, run_pending
from tests.conftest import BUSINESS_DATE, login
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff


def _closed_book():
    staff = fund_and_staff()
    loan = contracted_loan(staff, 120_000_000, date(2026, 10, 1))
    disburse(staff, loan, 120_000_000, date(2026, 10, 1))
    run_pending(BUSINESS_DATE, "cli")
    db.session.commit()
    return staff, loan


def _flashes(page: str) -> str:
    match = re.search(r'<div class="flashes" id="flashes".*?</div>\s*</div>', page, re.S)
    assert match, "no flash area"
    return match.group(0)


def test_which_days_are_closed(app):
    assert on_closed_day(date(2026, 11, 19)) is False  # nothing closed yet
    _closed_book()
    assert on_closed_day(date(2026, 11, 19)) is True
    assert on_closed_day(date(2026, 10, 1)) is True
    assert on_closed_day(BUSINESS_DATE) is False
    assert on_closed_day(None) is False


def test_a_repayment_dated_on_a_closed_day_is_taken_with_a_warning_in_view(client, app):
    staff, loan = _closed_book()
    login(client, staff.accountant)
    response = client.post(
        f"/loans/{loan.id}/repayments",
        data={"repay-amount": "1.000.000", "repay-date": "10/11/2026", "repay-method": "bank"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/loans/{loan.id}#flashes")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    flashes = _flashes(page)
    assert "Đã thu 1.000.000 đ" in flashes
    assert "Lưu ý: ngày 10/11/2026 đã khóa sổ." in flashes
    assert "tính lại từ ngày giá trị 10/11/2026" in flashes
    assert "hạch toán vào ngày làm việc 20/11/2026" in flashes
    assert page.index('id="flashes"') < page.index('id="repayments"')


def test_a_repayment_dated_today_has_no_warning(client, app):
    staff, loan = _closed_book()
    login(client, staff.accountant)
    response = client.post(
        f"/loans/{loan.id}/repayments",
        data={"repay-amount": "1.000.000", "repay-date": "20/11/2026", "repay-method": "bank"},
    )
    assert response.headers["Location"].endswith("#flashes")
    flashes = _flashes(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Đã thu 1.000.000 đ" in flashes and "đã khóa sổ" not in flashes


def test_a_disbursement_dated_on_a_closed_day_is_recorded_with_a_warning(client, app):
    staff, _loan = _closed_book()
    loan = contracted_loan(staff, 50_000_000, date(2026, 11, 1))
    login(client, staff.accountant)
    response = client.post(
        f"/loans/{loan.id}/disbursements",
        data={"disburse-amount": "50.000.000", "disburse-date": "10/11/2026"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("#flashes")
    flashes = _flashes(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Đã lập đợt giải ngân" in flashes
    assert "Lưu ý: ngày 10/11/2026 đã khóa sổ." in flashes


def test_capital_dated_on_a_closed_day_is_recorded_with_a_warning(client, app):
    staff, _loan = _closed_book()
    login(client, staff.accountant)
    data = {
        "source": "charter",
        "amount": "2.000.000.000",
        "entry_date": "01/11/2026",
        "reference": "",
        "note": "",
        "source_name": "",
    }
    response = client.post("/capital/new", data=data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Đã ghi nhận vốn" in page
    assert "Lưu ý: ngày 01/11/2026 đã khóa sổ. Bút toán vẫn được ghi với ngày 01/11/2026" in page


def test_the_run_button_is_disabled_with_the_reason_when_nothing_is_left(client, app):
    staff, _loan = _closed_book()
    login(client, staff.accountant)
    page = client.get("/close-day/").get_data(as_text=True)
    assert 'id="pending-count">0<' in page
    assert re.search(r'<button type="button"[^>]*id="run-close-day" disabled', page)
    assert "Không có ngày nào cần khóa sổ: đã khóa sổ đến ngày làm việc 20/11/2026." in page
    assert 'action="/close-day/run"' not in page
    assert "Bút toán ghi với ngày đã khóa sổ" in page


def test_the_run_button_is_active_when_a_day_is_pending(client, app):
    staff = fund_and_staff()
    login(client, staff.accountant)
    page = client.get("/close-day/").get_data(as_text=True)
    assert 'id="pending-count">1<' in page  # a fresh fund: the business date
    assert 'action="/close-day/run"' in page and 'id="run-close-day"' not in page
