"""The trial balance and the per-account ledger of a tiny book worked out by hand.

Book (all amounts in đồng):
- 10/01/2026 charter capital 1.000.000: Dr 1121 / Cr 4111
- 05/02/2026 entrusted capital 500.000:  Dr 1121 / Cr 4531
- 10/02/2026 Dr 2111 300.000 / Cr 1121 300.000
- 01/03/2026 Dr 2111 100.000 / Cr 1121 100.000 (after the period)

Period 01/02/2026 – 28/02/2026:
- 1121: opening Dr 1.000.000; turnover Dr 500.000, Cr 300.000; closing Dr 1.200.000
- 2111: opening 0; turnover Dr 300.000; closing Dr 300.000
- 4111: opening Cr 1.000.000; closing Cr 1.000.000
- 4531: turnover Cr 500.000; closing Cr 500.000
- totals: opening 1.000.000 = 1.000.000; turnover 800.000 = 800.000;
  closing 1.200.000 + 300.000 = 1.500.000 = 1.000.000 + 500.000
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.services import Line, post, record_capital
from fundapp.reports.trial_balance import account_ledger, sides, trial_balance
from tests.conftest import login, make_user

FEB = (date(2026, 2, 1), date(2026, 2, 28))


def _book() -> None:
    record_capital(None, "charter", 1_000_000, date(2026, 1, 10))
    record_capital(None, "entrusted", 500_000, date(2026, 2, 5), source_name="TW")
    post(
        date(2026, 2, 10),
        "test",
        [Line(acc.LOANS_IN_TERM, debit=300_000), Line(acc.CASH, credit=300_000)],
    )
    post(
        date(2026, 3, 1),
        "test",
        [Line(acc.LOANS_IN_TERM, debit=100_000), Line(acc.CASH, credit=100_000)],
    )
    db.session.commit()


@pytest.fixture
def book(app):
    _book()


@pytest.mark.parametrize(
    ("code", "figures"),
    [
        # opening Dr, opening Cr, turnover Dr, turnover Cr, closing Dr, closing Cr
        (acc.CASH, (1_000_000, 0, 500_000, 300_000, 1_200_000, 0)),
        (acc.LOANS_IN_TERM, (0, 0, 300_000, 0, 300_000, 0)),
        (acc.CHARTER_CAPITAL, (0, 1_000_000, 0, 0, 0, 1_000_000)),
        (acc.ENTRUSTED_CAPITAL, (0, 0, 0, 500_000, 0, 500_000)),
    ],
)
def test_trial_balance_rows_by_hand(book, code, figures):
    report = trial_balance(*FEB)
    row = next(r for r in report.rows if r.code == code)
    got = (
        row.opening_debit,
        row.opening_credit,
        row.debit,
        row.credit,
        row.closing_debit,
        row.closing_credit,
    )
    assert got == figures


def test_trial_balance_totals_balance(book):
    report = trial_balance(*FEB)
    assert [r.code for r in report.rows] == ["1121", "2111", "4111", "4531"]
    t = report.total
    assert (t.opening_debit, t.opening_credit) == (1_000_000, 1_000_000)
    assert (t.debit, t.credit) == (800_000, 800_000)
    assert (t.closing_debit, t.closing_credit) == (1_500_000, 1_500_000)
    assert report.balanced


def test_account_ledger_running_balance_by_hand(book):
    ledger = account_ledger(acc.CASH, *FEB)
    assert ledger.opening == 1_000_000
    # 1.000.000 + 500.000 = 1.500.000; 1.500.000 − 300.000 = 1.200.000
    assert [(x.entry_date, x.debit, x.credit, x.balance_debit) for x in ledger.lines] == [
        (date(2026, 2, 5), 500_000, 0, 1_500_000),
        (date(2026, 2, 10), 0, 300_000, 1_200_000),
    ]
    assert (ledger.debit, ledger.credit, ledger.closing) == (500_000, 300_000, 1_200_000)
    # A credit-side account: its balance shows in the Dư Có column.
    capital = account_ledger(acc.CHARTER_CAPITAL, *FEB)
    assert capital.lines == [] and sides(capital.closing) == (0, 1_000_000)


def test_screen_pdf_and_excel_carry_the_same_figures(book, client, app):
    app.config["FUNDAPP_BUSINESS_DATE"] = "2026-03-31"
    login(client, make_user("accountant"))
    args = {"from": "2026-02-01", "to": "2026-02-28"}
    page = client.get("/reports/trial-balance", query_string=args)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "1.500.000" in html and "800.000" in html
    pdf = client.get("/reports/trial-balance.pdf", query_string=args)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    xlsx = client.get("/reports/trial-balance.xlsx", query_string=args)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, int)]
    assert values.count(1_500_000) == 2  # closing debit total = closing credit total
    ledger = client.get("/reports/account-ledger", query_string={**args, "account": "1121"})
    assert ledger.status_code == 200 and "1.200.000" in ledger.get_data(as_text=True)
    for suffix in (".pdf", ".xlsx"):
        r = client.get(f"/reports/account-ledger{suffix}", query_string={**args, "account": "1121"})
        assert r.status_code == 200


@pytest.mark.parametrize(
    "args",
    [
        {"account": "9998"},
        {"account": "<script>"},
        {"from": "2026-02-30"},
        {"from": "2026-03-01", "to": "2026-02-01"},
    ],
)
def test_bad_filters_get_a_message_not_a_500(book, client, app, args):
    app.config["FUNDAPP_BUSINESS_DATE"] = "2026-03-31"
    login(client, make_user("accountant"))
    response = client.get("/reports/account-ledger", query_string=args)
    assert response.status_code == 422
    assert "<script>" not in response.get_data(as_text=True)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=89),
            st.sampled_from([acc.CASH, acc.LOANS_IN_TERM, acc.LOANS_OVERDUE, acc.PROVISION]),
            st.sampled_from([acc.CHARTER_CAPITAL, acc.INTEREST_INCOME, acc.CASH]),
            st.integers(min_value=1, max_value=10**12),
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(min_value=0, max_value=89),
    st.integers(min_value=0, max_value=89),
)
def test_any_book_balances_in_any_period(app, entries, a, b):
    from sqlalchemy import delete

    from fundapp.ledger.models import JournalEntry, JournalLine

    db.session.execute(delete(JournalLine))
    db.session.execute(delete(JournalEntry))
    base = date(2026, 1, 1)
    for offset, debit_account, credit_account, amount in entries:
        if debit_account == credit_account:
            continue
        post(
            base.fromordinal(base.toordinal() + offset),
            "test",
            [Line(debit_account, debit=amount), Line(credit_account, credit=amount)],
        )
    start, end = sorted((a, b))
    report = trial_balance(
        base.fromordinal(base.toordinal() + start), base.fromordinal(base.toordinal() + end)
    )
    assert report.balanced
    # Each row: opening + turnover = closing (net debit).
    for r in report.rows:
        assert (
            r.opening_debit - r.opening_credit
        ) + r.debit - r.credit == r.closing_debit - r.closing_credit
    db.session.rollback()
