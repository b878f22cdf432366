"""Posting the confirmed lines of a bank statement as repayments: one batch made by the
accountant, approved by the director where the policy asks, posted exactly once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from fundapp.audit.models import AuditLog
from fundapp.auth.models import User
from fundapp.banking import posting, services
from fundapp.banking.models import BankBatch, BankLine, BankStatement
from fundapp.domain.errors import Conflict, PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.ledger.services import check_invariants
from fundapp.loans.models import Loan, Repayment
from fundapp.policy.models import PolicyParameter
from tests.conftest import BUSINESS_DATE, count, make_user
from tests.services.test_bank_import import DAY, _demo_statement, agribank_csv


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _demo_import() -> tuple[User, User, bytes, BankStatement]:
    from fundapp.demo.seed import seed

    seed(BUSINESS_DATE)
    db.session.commit()
    accountant = _user("ketoan")
    rows, _expected = _demo_statement()
    data = agribank_csv(rows)
    result = services.import_statement(accountant, "AGRIBANK", "sao_ke.csv", data)
    db.session.commit()
    return accountant, _user("giamdoc"), data, result.statement


def _confirm_matched(accountant: User, statement_id: int) -> list[BankLine]:
    matched = [line for line in services.statement_lines(statement_id) if line.status == "matched"]
    for line in matched:
        services.correct_line(accountant, line.id, "confirm")
    db.session.commit()
    return matched


def test_the_demo_statement_posts_once_after_the_directors_approval(app):
    accountant, director, data, statement = _demo_import()
    confirmed = _confirm_matched(accountant, statement.id)
    assert len(confirmed) == 149
    total = sum(line.amount for line in confirmed)
    repayments_before = count(Repayment)

    # The default policy (0 đ) sends every batch to the director: nothing posts yet.
    made = posting.post_batch(accountant, statement.id, BUSINESS_DATE)
    db.session.commit()
    batch = made.batch
    assert (batch.status, batch.needs_approval, batch.lines, batch.total) == (
        "pending",
        True,
        149,
        total,
    )
    assert made.outcomes == ()
    assert count(Repayment) == repayments_before
    # Its lines are held: no correction while the director decides, no second batch.
    with pytest.raises(Conflict):
        services.correct_line(accountant, confirmed[0].id, "clear")
    with pytest.raises(Conflict):
        posting.post_batch(accountant, statement.id, BUSINESS_DATE)
    db.session.rollback()
    # The accountant cannot approve, the director can.
    with pytest.raises(PermissionDenied):
        posting.approve_batch(accountant, batch.id, BUSINESS_DATE)
    db.session.rollback()

    done = posting.approve_batch(director, batch.id, BUSINESS_DATE, "Đã đối chiếu sao kê")
    db.session.commit()
    assert (batch.status, batch.posted, batch.posted_total, batch.failed) == (
        "posted",
        149,
        total,
        0,
    )
    assert (batch.decided_by_id, batch.made_by_id) == (director.id, accountant.id)
    assert count(Repayment) == repayments_before + 149
    # Each line is one repayment: its amount, value date, the bank's id as the reference,
    # recorded by the accountant; receipts numbered on from the series, in posting order.
    lines = posting.batch_lines(batch.id)
    assert {line.status for line in lines} == {"posted"}
    by_order = sorted(lines, key=lambda x: (x.value_date, x.line_no, x.id))
    receipts = []
    for line in by_order:
        repayment = db.session.get(Repayment, line.repayment_id)
        assert (repayment.loan_id, repayment.amount, repayment.value_date) == (
            line.loan_id,
            line.amount,
            line.value_date,
        )
        assert (repayment.reference, repayment.method) == (line.txn_id, "bank")
        assert repayment.recorded_by_id == accountant.id
        receipts.append(repayment.receipt_no)
    first = int(receipts[0].rsplit("-", 1)[1])
    assert receipts == [f"PT-2026-{n:06d}" for n in range(first, first + 149)]
    assert [o.receipt_no for o in done.outcomes] == receipts
    assert check_invariants().ok

    # Approving again, posting again, re-importing the file and posting: nothing changes.
    state = (count(Repayment), count(BankLine), count(BankStatement), count(BankBatch))
    with pytest.raises(Conflict, match="đã được quyết định"):
        posting.approve_batch(director, batch.id, BUSINESS_DATE)
    db.session.rollback()
    with pytest.raises(Conflict, match="không còn dòng đã xác nhận"):
        posting.post_batch(accountant, statement.id, BUSINESS_DATE)
    db.session.rollback()
    with pytest.raises(Conflict):
        services.correct_line(accountant, lines[0].id, "confirm")
    db.session.rollback()
    again = services.import_statement(accountant, "AGRIBANK", "sao_ke.csv", data)
    db.session.commit()
    assert not again.new and again.statement.id == statement.id
    with pytest.raises(Conflict):
        posting.post_batch(accountant, again.statement.id, BUSINESS_DATE)
    db.session.rollback()
    assert (count(Repayment), count(BankLine), count(BankStatement), count(BankBatch)) == state
    assert check_invariants().ok
    assert [a.action for a in _audits(batch.id)] == ["bank_batch.create", "bank_batch.post"]


def _audits(batch_id: int) -> list[AuditLog]:
    return list(
        db.session.scalars(
            select(AuditLog)
            .where(AuditLog.entity == "bank_batch", AuditLog.entity_id == str(batch_id))
            .order_by(AuditLog.id)
        )
    )


def _set_threshold(amount: int) -> None:
    db.session.add(
        PolicyParameter(
            key="bank_batch_approval_above",
            value=str(amount),
            effective_from=date(2026, 1, 1),
            legal_reference="Quy chế nội bộ của Quỹ",
        )
    )
    db.session.commit()


def test_small_batches_post_at_once_large_ones_wait_and_a_refused_line_stays(app):
    accountant, director, _data, statement = _demo_import()
    _set_threshold(100_000_000)
    # Three confirmed lines, 15 003 000 đ: within the policy, posted at once.
    three = [line for line in services.statement_lines(statement.id) if line.status == "matched"][
        :3
    ]
    for line in three:
        services.correct_line(accountant, line.id, "confirm")
    made = posting.post_batch(accountant, statement.id, BUSINESS_DATE)
    db.session.commit()
    assert sum(line.amount for line in three) == 15_003_000
    assert (made.batch.status, made.batch.needs_approval, made.batch.posted) == (
        "posted",
        False,
        3,
    )
    assert made.batch.decided_by_id is None
    assert all(o.posted for o in made.outcomes)

    # The next file: a transfer of 9 billion đ for HD-2026-0014, far above all it owes,
    # and an ordinary one. Made by a user who is accountant and director both.
    both = make_user("accountant", "director", username="kiemnhiem")
    loan = db.session.scalar(select(Loan).where(Loan.contract_no == "HD-2026-0014"))
    next_file = agribank_csv(
        [
            ("FT2800001", DAY, "", "9.000.000.000", "HD20260014 K04", "", ""),
            ("FT2800002", DAY, "", "1.627.397", "HD20260014 K04", "", ""),
        ]
    )
    second = services.import_statement(both, "AGRIBANK", "sao_ke_2.csv", next_file).statement
    lines = services.statement_lines(second.id)
    assert [(x.loan_id, x.status) for x in lines] == [(loan.id, "matched")] * 2
    for line in lines:
        services.correct_line(both, line.id, "confirm")
    pending = posting.post_batch(both, second.id, BUSINESS_DATE).batch
    db.session.commit()
    assert (pending.status, pending.total) == ("pending", 9_001_627_397)
    with pytest.raises(PermissionDenied, match="không được tự phê duyệt"):
        posting.approve_batch(both, pending.id, BUSINESS_DATE)
    db.session.rollback()
    before = count(Repayment)
    done = posting.approve_batch(director, pending.id, BUSINESS_DATE)
    db.session.commit()
    # Per line: the ordinary transfer posts, the overpayment stays confirmed with the reason.
    assert [(o.txn_id, o.posted) for o in done.outcomes] == [
        ("FT2800001", False),
        ("FT2800002", True),
    ]
    assert (pending.posted, pending.posted_total, pending.failed) == (1, 1_627_397, 1)
    assert count(Repayment) == before + 1
    over, ordinary = services.statement_lines(second.id)
    assert (over.status, over.batch_id, over.repayment_id) == ("confirmed", None, None)
    assert over.post_error == (
        "Số tiền trả vượt quá toàn bộ số phải trả của khoản vay tại ngày đó."
    )
    assert (ordinary.status, ordinary.batch_id) == ("posted", pending.id)

    # Sent again, the director refuses it (with a reason): the line is free again.
    again = posting.post_batch(both, second.id, BUSINESS_DATE).batch
    db.session.commit()
    assert (again.status, again.lines, again.total) == ("pending", 1, 9_000_000_000)
    with pytest.raises(ValidationFailed):
        posting.reject_batch(director, again.id, "  ")
    db.session.rollback()
    posting.reject_batch(director, again.id, "Chuyển nhầm, trả lại người chuyển")
    db.session.commit()
    assert (again.status, again.decided_by_id, again.note) == (
        "rejected",
        director.id,
        "Chuyển nhầm, trả lại người chuyển",
    )
    db.session.refresh(over)
    assert (over.status, over.batch_id) == ("confirmed", None)
    with pytest.raises(Conflict):
        posting.approve_batch(director, again.id, BUSINESS_DATE)
    db.session.rollback()
    services.correct_line(both, over.id, "ignore", note="Trả lại người chuyển")
    db.session.commit()
    assert count(Repayment) == before + 1
    assert check_invariants().ok
