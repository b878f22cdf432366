"""Issue 16, defect 2: a notice states the facts of its own date.

An overdue-transfer notice said the principal was overdue "từ ngày <the run's date>" while
the loan's statement shows the transfer on the day after the due date. A first close of day
(or one catching up) notices several past transfers at once; each must carry the
statement's transfer date, and the amounts still unpaid on the notice's own date.

The loan (hand figures): 120.000.000 đ at 6 %/year, 12 monthly instalments of
10.000.000 đ principal, disbursed 15/01/2026, nothing repaid. Interest actual/365:
- instalment 1, due 15/02: 120.000.000 × 6 % × 31/365 = 611.506,8 → 611.507 đ;
- instalment 2, due 15/03: 110.000.000 × 6 % × 28/365 = 506.301,4 → 506.301 đ;
- instalment 3, due 15/04: 100.000.000 × 6 % × 31/365 = 509.589,0 → 509.589 đ.
The first close of day ever runs on 20/04/2026: the three are overdue, transferred on
16/02, 16/03 and 16/04 (the statement's dates), at 6 % × 150 % = 9 %/year; late interest
10 %/year on unpaid interest.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from fundapp.documents.statement import build_statement
from fundapp.extensions import db
from fundapp.loans.days import Notice
from fundapp.servicing.close_day import run_close_day
from fundapp.servicing.notices import (
    contradictory_overdue_notices,
    repair_overdue_notices,
)
from tests.conftest import make_cooperative
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

RUN = date(2026, 4, 20)
EXPECTED = [
    # (no, due, transfer, principal, interest)
    (1, "15/02/2026", "16/02/2026", "10.000.000 đ", "611.507 đ"),
    (2, "15/03/2026", "16/03/2026", "10.000.000 đ", "506.301 đ"),
    (3, "15/04/2026", "16/04/2026", "10.000.000 đ", "509.589 đ"),
]


def _loan():
    staff = fund_and_staff()
    loan = contracted_loan(staff, cooperative=make_cooperative(name="HTX Vải thiều Lục Ngạn"))
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    assert run_close_day(RUN, "cli").ran
    db.session.commit()
    return loan


def _coop_notices(loan) -> list[Notice]:
    return list(
        db.session.scalars(
            select(Notice)
            .where(
                Notice.kind == "overdue_transfer",
                Notice.loan_id == loan.id,
                Notice.user_id.is_(None),
            )
            .order_by(Notice.id)
        )
    )


def test_each_overdue_notice_carries_the_statements_transfer_date(app):
    loan = _loan()
    notices = _coop_notices(loan)
    assert len(notices) == 3
    for notice, (no, due, transfer, principal, interest) in zip(notices, EXPECTED, strict=True):
        assert notice.business_date == RUN
        assert notice.data["no"] == no
        assert notice.body == (
            f"Kỳ {no} đến hạn ngày {due} chưa trả: nợ gốc của kỳ chuyển sang nợ quá hạn từ "
            f"ngày {transfer}, lãi suất quá hạn 9 %/năm. Đến ngày 20/04/2026 còn {principal} "
            f"nợ gốc quá hạn; lãi chưa trả {interest} chịu lãi chậm trả 10 %/năm."
        )
        assert "20/04/2026, lãi suất" not in notice.body  # not the run's date as transfer
    # The statement of the same loan shows the same transfers, on the same dates.
    statement = build_statement(loan, date(2026, 1, 15), RUN)
    transfers = [
        (line.day, line.no, line.amount) for line in statement.lines if line.kind == "transfer"
    ]
    assert transfers == [
        (date(2026, 2, 16), 1, 10_000_000),
        (date(2026, 3, 16), 2, 10_000_000),
        (date(2026, 4, 16), 3, 10_000_000),
    ]
    for notice, (day, _no, _amount) in zip(notices, transfers, strict=True):
        assert notice.data["transfer_date"] == day.isoformat()
    assert contradictory_overdue_notices() == []


def test_notices_written_with_the_runs_date_are_corrected(app):
    loan = _loan()
    # As an older version wrote them: the run's date as the transfer date.
    for notice in db.session.scalars(select(Notice).where(Notice.kind == "overdue_transfer")):
        notice.data = {**notice.data, "transfer_date": RUN.isoformat()}
        notice.data.pop("late_rate", None)
        notice.body = "… chuyển sang nợ quá hạn từ ngày 20/04/2026 …"
    db.session.commit()
    assert len(contradictory_overdue_notices()) == 6  # 3 instalments × (coop, officer)
    assert repair_overdue_notices() == 6
    db.session.commit()
    assert contradictory_overdue_notices() == []
    first = _coop_notices(loan)[0]
    assert first.data["transfer_date"] == "2026-02-16" and first.data["late_rate"] == "10"
    assert "chuyển sang nợ quá hạn từ ngày 16/02/2026" in first.body
    assert "Đến ngày 20/04/2026 còn 10.000.000 đ nợ gốc quá hạn" in first.body
    assert repair_overdue_notices() == 0  # idempotent


def test_the_cli_lists_and_corrects_them(app, runner):
    _loan()
    for notice in db.session.scalars(select(Notice).where(Notice.kind == "overdue_transfer")):
        notice.data = {**notice.data, "transfer_date": RUN.isoformat()}
    db.session.commit()
    listed = runner.invoke(args=["fund", "repair-notices", "--dry-run"])
    assert "notices to correct: 6" in listed.output
    fixed = runner.invoke(args=["fund", "repair-notices"])
    assert "notices corrected: 6" in fixed.output
    assert contradictory_overdue_notices() == []
