"""The loan book's invariants, checked by ``flask fund check``: the cached balances, the
stored schedule, the repayments and the ledger agree with each other.

Each invariant is one statement over the whole book that returns only the rows breaking it
(a few seconds at 100 000 loans, where a loop over the loans took many minutes); that the
stored figures are the ones the history makes is proven by replaying every loan,
``flask fund check --deep`` (``loans.verify``). What the database itself refuses (an
instalment paid above what is due, negative scheduled amounts, a negative outstanding:
the CHECK constraints of ``loans.models``) is not checked again here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, and_, case, cast, exists, false, func, or_, select, true
from sqlalchemy.orm import aliased

from fundapp.domain import accounts as acc
from fundapp.extensions import db
from fundapp.ledger.models import JournalLine
from fundapp.loans.days import last_run_date
from fundapp.loans.models import Disbursement, DisbursementStatus, Instalment, Loan, Repayment
from fundapp.loans.relief import InterestRelief


@dataclass(frozen=True)
class Rule:
    checked: str  # what ``flask fund check`` lists as checked
    broken: Any  # SQL condition, true on a row that breaks the rule
    message: Callable[[Any], str]  # the failure, from the row


def _whole(column: Any) -> Any:
    # BigInteger on PostgreSQL is whole by its type; SQLite stores a fraction written into
    # an INTEGER column as REAL, which the cast truncates.
    return column != cast(column, BigInteger)


def _loan_rules(f: Any) -> list[Rule]:
    """The rules over one loan's figures; ``f``: the columns of ``_loan_figures``."""
    return [
        Rule(
            "each loan: outstanding = disbursed − principal repaid − written off",
            f.principal_outstanding != f.disbursed - f.principal_paid - f.written_off,
            lambda r: (
                f"loan {r.contract_no}: outstanding {r.principal_outstanding} != disbursed "
                f"{r.disbursed} − repaid {r.principal_paid} − written off {r.written_off}"
            ),
        ),
        Rule(
            "each loan: outstanding = sum of unpaid scheduled principal",
            f.principal_outstanding != f.unpaid - f.written_off,
            lambda r: (
                f"loan {r.contract_no}: outstanding {r.principal_outstanding} != unpaid "
                f"scheduled principal {r.unpaid - r.written_off}"
            ),
        ),
        Rule(
            "each loan: outstanding = its ledger balance",
            f.principal_outstanding != f.on_ledger,
            lambda r: (
                f"loan {r.contract_no}: outstanding {r.principal_outstanding} != ledger "
                f"balance {r.on_ledger}"
            ),
        ),
        Rule(
            "each loan: disbursed = sum of its posted disbursements",
            f.disbursed != f.tranches,
            lambda r: (
                f"loan {r.contract_no}: disbursed {r.disbursed} != posted disbursements "
                f"{r.tranches}"
            ),
        ),
        Rule(
            "each loan: repayments received = principal + interest + overdue interest repaid",
            f.received != f.principal_paid + f.interest_paid + f.penalty_paid,
            lambda r: (
                f"loan {r.contract_no}: repayments {r.received} != principal {r.principal_paid}"
                f" + interest {r.interest_paid} + overdue interest {r.penalty_paid} repaid"
            ),
        ),
        Rule(
            "each loan: principal repaid = principal paid on the schedule + prepaid principal",
            f.principal_paid != f.scheduled_paid + f.prepaid,
            lambda r: (
                f"loan {r.contract_no}: principal repaid {r.principal_paid} != paid on the "
                f"schedule {r.scheduled_paid} + prepaid {r.prepaid}"
            ),
        ),
        Rule(
            "each loan: scheduled principal + prepaid principal = disbursed",
            f.scheduled + f.prepaid != f.disbursed,
            lambda r: (
                f"loan {r.contract_no}: scheduled principal {r.scheduled} + prepaid "
                f"{r.prepaid} != disbursed {r.disbursed}"
            ),
        ),
        Rule(
            "each loan: instalments numbered 1, 2, … without a gap",
            and_(f.rows > 0, or_(f.first_no != 1, f.last_no != f.rows)),
            lambda r: (
                f"loan {r.contract_no}: {r.rows} instalments numbered {r.first_no} to {r.last_no}"
            ),
        ),
        Rule(
            "each loan: no negative cached money",
            or_(
                f.disbursed < 0,
                f.principal_paid < 0,
                f.interest_paid < 0,
                f.penalty_paid < 0,
                f.written_off < 0,
            ),
            lambda r: f"loan {r.contract_no}: a cached balance is negative",
        ),
        Rule(
            "each loan: money in whole đồng",
            or_(*(_whole(c) for c in (f.disbursed, f.principal_paid, f.principal_outstanding))),
            lambda r: f"loan {r.contract_no}: money is not whole đồng",
        ),
    ]


def _sum(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def _loan_figures() -> Any:
    """Each loan's cached columns beside the sums of its rows in the other tables."""
    inst = (
        select(
            Instalment.loan_id,
            _sum(Instalment.principal).label("scheduled"),
            _sum(Instalment.principal_paid).label("scheduled_paid"),
            func.count().label("rows"),
            func.min(Instalment.no).label("first_no"),
            func.max(Instalment.no).label("last_no"),
        )
        .group_by(Instalment.loan_id)
        .subquery()
    )
    ledger = (
        select(JournalLine.loan_id, _sum(JournalLine.debit - JournalLine.credit).label("total"))
        .where(
            JournalLine.loan_id.is_not(None),
            JournalLine.account.in_([acc.LOANS_IN_TERM, acc.LOANS_OVERDUE]),
        )
        .group_by(JournalLine.loan_id)
        .subquery()
    )
    repaid = (
        select(
            Repayment.loan_id,
            _sum(Repayment.amount).label("received"),
            _sum(Repayment.prepaid_principal).label("prepaid"),
        )
        .where(Repayment.reversed.is_(False))
        .group_by(Repayment.loan_id)
        .subquery()
    )
    tranches = (
        select(Disbursement.loan_id, _sum(Disbursement.amount).label("total"))
        .where(Disbursement.status == DisbursementStatus.POSTED)
        .group_by(Disbursement.loan_id)
        .subquery()
    )
    scheduled = func.coalesce(inst.c.scheduled, 0)
    scheduled_paid = func.coalesce(inst.c.scheduled_paid, 0)
    return (
        select(
            Loan.contract_no,
            Loan.disbursed,
            Loan.principal_outstanding,
            Loan.principal_paid,
            Loan.interest_paid,
            Loan.penalty_paid,
            Loan.written_off,
            scheduled.label("scheduled"),
            scheduled_paid.label("scheduled_paid"),
            (scheduled - scheduled_paid).label("unpaid"),
            func.coalesce(inst.c.rows, 0).label("rows"),
            inst.c.first_no,
            inst.c.last_no,
            func.coalesce(ledger.c.total, 0).label("on_ledger"),
            func.coalesce(repaid.c.received, 0).label("received"),
            func.coalesce(repaid.c.prepaid, 0).label("prepaid"),
            func.coalesce(tranches.c.total, 0).label("tranches"),
        )
        .outerjoin(inst, inst.c.loan_id == Loan.id)
        .outerjoin(ledger, ledger.c.loan_id == Loan.id)
        .outerjoin(repaid, repaid.c.loan_id == Loan.id)
        .outerjoin(tranches, tranches.c.loan_id == Loan.id)
        .subquery()
    )


def _instalment_rules(book_date: date | None) -> list[Rule]:
    i = Instalment
    settled = and_(i.principal_paid == i.principal, i.interest_paid == i.interest)
    rules = [
        Rule(
            "each instalment: waived interest within the interest settled",
            or_(i.interest_waived < 0, i.interest_waived > i.interest_paid),
            lambda r: (
                f"loan {r.contract_no} instalment {r.no}: interest waived {r.interest_waived}"
                f" outside 0 … settled {r.interest_paid}"
            ),
        ),
        Rule(
            "each instalment: the budget's and the waived interest within the interest settled",
            or_(
                i.interest_supported < 0,
                i.interest_supported + i.interest_waived > i.interest_paid,
            ),
            lambda r: (
                f"loan {r.contract_no} instalment {r.no}: budget's share {r.interest_supported}"
                f" + waived {r.interest_waived} above settled {r.interest_paid}"
            ),
        ),
        Rule(
            "each instalment: waived overdue interest within the overdue interest settled",
            or_(i.penalty_waived < 0, i.penalty_waived > i.penalty_paid),
            lambda r: (
                f"loan {r.contract_no} instalment {r.no}: overdue interest waived "
                f"{r.penalty_waived} outside 0 … settled {r.penalty_paid}"
            ),
        ),
        Rule(
            "each instalment: paid on a date once paid in full, and only then",
            or_(
                and_(i.paid_on.is_not(None), ~settled),
                and_(i.paid_on.is_(None), settled, i.principal + i.interest > 0),
            ),
            lambda r: (
                f"loan {r.contract_no} instalment {r.no}: paid on {r.paid_on} but paid "
                f"{r.principal_paid}/{r.principal} principal, {r.interest_paid}/{r.interest}"
                " interest"
            ),
        ),
    ]
    # Overdue state is kept as of the last close of day, for the rows due before it only.
    not_due = true() if book_date is None else i.due_date >= book_date
    rules.append(
        Rule(
            "each instalment: overdue state only once due, never negative",
            or_(
                i.principal_balance_days < 0,
                i.interest_balance_days < 0,
                i.penalty_accrued < 0,
                and_(
                    not_due,
                    or_(
                        i.principal_balance_days != 0,
                        i.interest_balance_days != 0,
                        i.penalty_accrued != 0,
                    ),
                ),
            ),
            lambda r: (
                f"loan {r.contract_no} instalment {r.no} due {r.due_date}: overdue state "
                f"{r.principal_balance_days}/{r.interest_balance_days} balance-days, "
                f"{r.penalty_accrued} accrued as of the last close of day {book_date}"
            ),
        )
    )
    if book_date is not None:
        # Overdue interest is paid or waived out of what accrued by that day, which the
        # stored accrual (to the last close of day) includes unless the payment or relief is
        # dated after it. Only on a row still open: the close of day keeps the overdue state
        # of those; a row settled before the first close of day keeps the state it was
        # stored with (none), which only ``--deep`` compares with the replay.
        later = or_(
            exists().where(
                Repayment.loan_id == i.loan_id,
                Repayment.reversed.is_(False),
                Repayment.value_date > book_date,
            ),
            exists().where(
                InterestRelief.loan_id == i.loan_id,
                InterestRelief.status == "approved",
                InterestRelief.effective_date > book_date,
            ),
        )
        rules.append(
            Rule(
                "each open instalment: overdue interest settled ≤ accrued to the last close of day",
                and_(i.due_date < book_date, ~settled, i.penalty_paid > i.penalty_accrued, ~later),
                lambda r: (
                    f"loan {r.contract_no} instalment {r.no}: overdue interest settled "
                    f"{r.penalty_paid} > accrued {r.penalty_accrued} by {book_date}"
                ),
            )
        )
    return rules


def _run(result: Any, rules: list[Rule], query: Any) -> None:
    """One statement for ``rules``: the rows breaking any, with a flag per rule."""
    for rule in rules:
        result.checked.append(rule.checked)
    flags = [case((rule.broken, 1), else_=0).label(f"broken_{n}") for n, rule in enumerate(rules)]
    for row in db.session.execute(
        query.add_columns(*flags).where(or_(false(), *(r.broken for r in rules)))
    ):
        for n, rule in enumerate(rules):
            if getattr(row, f"broken_{n}"):
                result.fail(rule.message(row))


def check_loans(result: Any) -> None:
    """The loan invariants of docs/rules.md#posting-and-accounts, for ``flask fund check``."""
    figures = _loan_figures()
    _run(result, _loan_rules(figures.c), select(*figures.c).order_by(figures.c.contract_no))
    book_date = last_run_date()
    _run(
        result,
        _instalment_rules(book_date),
        select(Loan.contract_no, *Instalment.__table__.c)
        .select_from(Instalment)
        .join(Loan, Loan.id == Instalment.loan_id)
        .order_by(Loan.contract_no, Instalment.no),
    )
    result.checked.append("each loan: instalments fall due in the order of their numbers")
    nxt = aliased(Instalment)
    for contract_no, no, due, next_due in db.session.execute(
        select(Loan.contract_no, Instalment.no, Instalment.due_date, nxt.due_date)
        .join(Loan, Loan.id == Instalment.loan_id)
        .join(nxt, and_(nxt.loan_id == Instalment.loan_id, nxt.no == Instalment.no + 1))
        .where(nxt.due_date <= Instalment.due_date)
        .order_by(Loan.contract_no, Instalment.no)
    ):
        result.fail(
            f"loan {contract_no}: instalment {no + 1} falls due on {next_due}, not after "
            f"instalment {no} on {due}"
        )
    result.checked.append("each repayment: prepaid principal not negative, none on a reversed one")
    for contract_no, repayment_id, prepaid in db.session.execute(
        select(Loan.contract_no, Repayment.id, Repayment.prepaid_principal)
        .join(Loan, Loan.id == Repayment.loan_id)
        .where(or_(Repayment.prepaid_principal < 0, Repayment.reversed.is_(True)))
        .where(Repayment.prepaid_principal != 0)
        .order_by(Repayment.id)
    ):
        result.fail(f"loan {contract_no}: repayment {repayment_id} prepays {prepaid}")
