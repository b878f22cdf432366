"""The loan statement: hand-checked events and balances, the loan's own balances at the
close, and balances of a past date unchanged by what was recorded later."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import pytest

from fundapp.documents.positions import position_at
from fundapp.documents.statement import build_statement, parse_period
from fundapp.domain.errors import ValidationFailed
from tests.conftest import BUSINESS_DATE, api_token, login, make_user
from tests.documents.conftest import squeeze
from tests.documents.helpers import repay, story
from tests.services.lending_helpers import contracted_loan, disburse

Q1 = (date(2026, 1, 1), date(2026, 3, 31))


def _events(statement) -> list[tuple]:
    return [
        (
            line.day,
            line.kind,
            line.no,
            line.reference,
            line.disbursed,
            line.due_principal,
            line.due_interest,
            line.penalty_charged,
            line.paid_penalty,
            line.paid_interest,
            line.paid_principal,
            line.principal_outstanding,
            line.principal_overdue,
            line.interest_unpaid,
            line.penalty_unpaid,
        )
        for line in statement.lines
    ]


def test_first_quarter_line_by_line(app) -> None:
    s = story()
    statement = build_statement(s.loan, *Q1)
    d = date
    # 26.045 = round(10.000.000 × 9 % × 10/365 + 506.301 × 10 % × 10/365) for 05/03–14/03;
    # 21.826 = round((10.000.000 × 10 + 5.532.346 × 16) × 9 %/365 + 506.301 × 10 × 10 %/365)
    #          − 26.045, for 15/03–30/03 on the principal left after the payment of 15/03.
    assert _events(statement) == [
        (d(2026, 1, 5), "disbursement", None, "KU-2026-0001", 120_000_000, 0, 0, 0, 0, 0, 0,
         120_000_000, 0, 0, 0),
        (d(2026, 2, 5), "due", 1, "", 0, 10_000_000, 611_507, 0, 0, 0, 0,
         120_000_000, 0, 611_507, 0),
        (d(2026, 2, 5), "repayment", None, "PT-2026-000001", 0, 0, 0, 0, 0, 611_507, 10_000_000,
         110_000_000, 0, 0, 0),
        (d(2026, 3, 5), "due", 2, "", 0, 10_000_000, 506_301, 0, 0, 0, 0,
         110_000_000, 0, 506_301, 0),
        (d(2026, 3, 6), "transfer", 2, "", 0, 0, 0, 0, 0, 0, 0,
         110_000_000, 10_000_000, 506_301, 0),
        (d(2026, 3, 15), "penalty", None, "", 0, 0, 0, 26_045, 0, 0, 0,
         110_000_000, 10_000_000, 506_301, 26_045),
        (d(2026, 3, 15), "repayment", None, "PT-2026-000002", 0, 0, 0, 0, 26_045, 506_301,
         4_467_654, 105_532_346, 5_532_346, 0, 0),
        (d(2026, 3, 20), "reversed_repayment", None, "PT-2026-000003", 0, 0, 0, 0, 0, 0, 0,
         105_532_346, 5_532_346, 0, 0),
        (d(2026, 3, 25), "reversal", None, "PT-2026-000003", 0, 0, 0, 0, 0, 0, 0,
         105_532_346, 5_532_346, 0, 0),
        (d(2026, 3, 31), "penalty", None, "", 0, 0, 0, 21_826, 0, 0, 0,
         105_532_346, 5_532_346, 0, 21_826),
    ]  # fmt: skip
    transfer = statement.lines[4]
    assert (transfer.amount, transfer.since) == (10_000_000, date(2026, 3, 5))
    first_penalty, last_penalty = statement.lines[5], statement.lines[9]
    assert (first_penalty.since, first_penalty.until) == (date(2026, 3, 5), date(2026, 3, 14))
    assert (last_penalty.since, last_penalty.until) == (date(2026, 3, 15), date(2026, 3, 30))
    assert statement.totals == {
        "disbursed": 120_000_000,
        "due_principal": 20_000_000,
        "due_interest": 1_117_808,
        "penalty_charged": 47_871,
        "paid_penalty": 26_045,
        "paid_interest": 1_117_808,
        "paid_principal": 14_467_654,
    }
    closing = statement.closing
    assert statement.opening.principal_outstanding == 0
    assert (
        closing.principal_outstanding,
        closing.principal_in_term,
        closing.principal_overdue,
        closing.interest_unpaid,
        closing.penalty_due,
        closing.days_past_due,
        closing.debt_group,
    ) == (105_532_346, 100_000_000, 5_532_346, 0, 21_826, 26, 2)


def _running(line) -> tuple[int, int, int, int]:
    return (
        line.principal_outstanding,
        line.principal_overdue,
        line.interest_unpaid,
        line.penalty_unpaid,
    )


def _closing(position) -> tuple[int, int, int, int]:
    return (
        position.principal_outstanding,
        position.principal_overdue,
        position.interest_unpaid,
        position.penalty_due,
    )


def test_closing_equals_the_loans_balances_on_the_business_date(app, client) -> None:
    s = story()
    statement = build_statement(s.loan, date(2026, 1, 5), BUSINESS_DATE)
    staff = make_user("controller")
    api = client.get(f"/api/v1/loans/{s.loan.id}", headers=api_token(client, staff)).get_json()
    balances = api["balances"]
    closing = statement.closing
    assert balances["principal_overdue"] > 0 and balances["penalty_due"] > 0
    assert closing.principal_outstanding == balances["principal_outstanding"]
    assert closing.principal_overdue == balances["principal_overdue"]
    assert closing.principal_due == balances["principal_due"]
    assert closing.interest_due == balances["interest_due"]
    assert closing.interest_overdue == balances["interest_overdue"]
    assert closing.penalty_due == balances["penalty_due"]
    assert closing.total_due == balances["total_due"]
    assert closing.days_past_due == balances["days_past_due"]
    assert closing.debt_group == balances["debt_group"]
    # The movements, line by line from the opening, arrive at the same closing.
    assert _running(statement.lines[-1]) == _closing(closing)
    # Instalments 3–10 (due 05/04–05/11) fell overdue unpaid: 80.000.000 + 5.532.346 left.
    assert closing.principal_overdue == 85_532_346


def test_the_statement_prints_the_borrowers_group_as_the_api_does(app, client) -> None:
    """One borrower, one group: a loan with nothing overdue of a borrower whose other loan
    is late prints the borrower's group, not its own group 1."""
    s = story()
    second = contracted_loan(s.staff, 50_000_000, date(2026, 11, 2), s.loan.cooperative)
    disburse(s.staff, second, 50_000_000, date(2026, 11, 2))
    headers = api_token(client, make_user("controller"))
    late = client.get(f"/api/v1/loans/{s.loan.id}", headers=headers).get_json()["balances"]
    on_time = client.get(f"/api/v1/loans/{second.id}", headers=headers).get_json()["balances"]
    assert late["debt_group"] > 1 and on_time["days_past_due"] == 0
    assert on_time["debt_group"] == late["debt_group"]
    statement = build_statement(second, date(2026, 11, 2), BUSINESS_DATE)
    assert statement.closing.days_past_due == 0
    assert statement.closing.debt_group == late["debt_group"]


def test_consecutive_statements_chain(app) -> None:
    s = story()
    repay(s.staff, s.loan, 3_000_000, date(2026, 6, 10))
    first = build_statement(s.loan, date(2026, 1, 1), date(2026, 4, 30))
    second = build_statement(s.loan, date(2026, 5, 1), date(2026, 9, 30))
    assert asdict(second.opening) | {"as_of": None} == asdict(first.closing) | {"as_of": None}
    whole = build_statement(s.loan, date(2026, 1, 1), date(2026, 9, 30))
    assert whole.closing == second.closing
    assert _running(second.lines[-1]) == _closing(second.closing)
    for key in ("paid_principal", "paid_interest", "paid_penalty", "due_principal"):
        assert whole.totals[key] == first.totals[key] + second.totals[key]


def test_a_past_statement_is_not_changed_by_later_repayments(app) -> None:
    s = story()
    before = build_statement(s.loan, *Q1)
    position = position_at(s.loan, date(2026, 3, 31))
    repay(s.staff, s.loan, 20_000_000, date(2026, 5, 2))
    after = build_statement(s.loan, *Q1)
    assert after.closing == before.closing == position
    assert _events(after) == _events(before)


def test_the_period(app) -> None:
    s = story()
    loan = s.loan
    assert parse_period({}, loan, BUSINESS_DATE) == (date(2026, 1, 5), BUSINESS_DATE)
    assert parse_period({"from": "01/02/2026", "to": "2026-03-31"}, loan, BUSINESS_DATE) == (
        date(2026, 2, 1),
        date(2026, 3, 31),
    )
    with pytest.raises(ValidationFailed, match="trước hoặc bằng ngày kết thúc") as bad_order:
        parse_period({"from": "2026-04-01", "to": "2026-03-31"}, loan, BUSINESS_DATE)
    assert set(bad_order.value.fields) == {"from"}
    with pytest.raises(ValidationFailed, match="không được sau ngày làm việc") as future:
        parse_period({"to": "2026-11-21"}, loan, BUSINESS_DATE)
    assert set(future.value.fields) == {"to"}
    with pytest.raises(ValidationFailed, match="không hợp lệ") as garbage:
        parse_period({"from": "31/02/2026"}, loan, BUSINESS_DATE)
    assert set(garbage.value.fields) == {"from"}


def test_statement_pdf(app, client, pdf) -> None:
    s = story()
    login(client, make_user("officer"))
    response = client.get(f"/loans/{s.loan.id}/statement.pdf?from=2026-01-01&to=2026-03-31")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert "sao-ke-HD-2026-0001-20260101-20260331.pdf" in response.headers["Content-Disposition"]
    text = pdf(response.data)
    flat = squeeze(text)
    for wording in (
        "SAO KÊ KHOẢN VAY",
        "Từ ngày 01/01/2026 đến ngày 31/03/2026",
        "QUỸ HỖ TRỢ PHÁT TRIỂN HỢP TÁC XÃ TỈNH BẮC NINH",
        "Số 1 đường Nguyễn Văn Cừ, phường Bắc Giang, tỉnh Bắc Ninh",
        "Giải ngân, khế ước nhận nợ KU-2026-0001",
        "Chuyển nợ quá hạn kỳ 2 (đến hạn 05/03/2026): gốc 10.000.000 đ",
        "Lãi phạt quá hạn từ 05/03/2026 đến 14/03/2026",
        "Thu nợ, phiếu thu PT-2026-000002",
        "đã hủy, không tính",
        "Ghi nhầm khoản vay",
        "Lãi suất quá hạn 9 %/năm",
        "Trang 1/2",
        "Trang 2/2",
        "In ngày 20/11/2026",
    ):
        assert wording in flat, wording
    # The closing row: outstanding, in term, overdue, due today, interest, of which overdue,
    # penalty, total, days past due, group.
    assert (
        "Cuối kỳ, ngày 31/03/2026 105.532.346 100.000.000 5.532.346 0 0 0 21.826 5.554.172 26 2"
        in flat
    )
    assert "26.045 506.301 4.467.654 105.532.346 5.532.346" in flat
    assert "Cộng phát sinh trong kỳ 120.000.000 20.000.000 1.117.808 47.871 26.045" in flat


def test_bad_period_gives_a_clear_message_on_the_page_and_in_the_api(app, client) -> None:
    s = story()
    staff = make_user("accountant")
    login(client, staff)
    page = client.get(f"/loans/{s.loan.id}/statement.pdf?from=2026-04-01&to=2026-03-31")
    assert page.status_code == 422
    assert page.mimetype == "text/html"
    assert "Ngày bắt đầu (01/04/2026) phải trước hoặc bằng ngày kết thúc (31/03/2026)." in (
        page.get_data(as_text=True)
    )
    headers = api_token(client, staff)
    url = f"/api/v1/loans/{s.loan.id}/statement.pdf"
    for query, field, message in (
        ("?from=2026-04-01&to=2026-03-31", "from", "phải trước hoặc bằng ngày kết thúc"),
        ("?to=2027-01-01", "to", "không được sau ngày làm việc hiện tại (20/11/2026)"),
        ("?from=hôm-qua", "from", "Dữ liệu chưa hợp lệ"),  # the API reads YYYY-MM-DD only
    ):
        response = client.get(url + query, headers=headers)
        assert response.status_code == 422
        error = response.get_json()["error"]
        assert error["code"] == "validation_error"
        assert message in error["message"]
        assert list(error["fields"]) == [field]
    ok = client.get(url + "?from=2026-01-01&to=2026-03-31", headers=headers)
    assert ok.status_code == 200 and ok.mimetype == "application/pdf"
