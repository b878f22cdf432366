"""Close of day for a business date D (SPEC §8), run at the start of D.

One transaction per date, guarded by a database lock and a unique run row:

1. instalments due before D and not fully paid are overdue: their principal moves from
   loans in term to loans overdue, their interest is billed;
2. overdue interest (150 % of the rate on overdue principal, 10 %/year on unpaid interest)
   is accrued to D;
3. days past due per loan (from the oldest unpaid due date);
4. debt group per loan (with the restructuring floor), then per borrower (its worst loan),
   which every loan of the borrower takes; history kept on change;
5. provisions: specific (group rate × (principal − discounted collateral)) and general
   (a rate of groups 1–4 principal), posted as the difference;
6. notices: due soon, overdue transfer, group change.

Steps 1, 2 and the income rule are the ledger targets of ``book.targets`` with the book
date D and the loan's group: interest of group-1 loans is receivable and income; for groups
2–5 it is kept off-balance (suspended interest) until cash comes in (Circular 52/2022).

Only loans that can change on D are replayed: those with an instalment past due and unpaid,
one that fell due the day before, a group above 1, or never classified. The set is chosen
in SQL; the rest of the book is not touched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select, text

from fundapp.core.dates import utcnow
from fundapp.core.errors import DomainError
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalLine
from fundapp.ledger.services import Line, post
from fundapp.lending import book
from fundapp.lending.models import Collateral, Instalment, Loan, LoanStatus
from fundapp.policy import services as policy
from fundapp.servicing.models import CloseDayRun, DebtGroupHistory, LoanDay

LOCK_KEY = 8_241_001  # pg advisory lock id of the close of day


@dataclass
class CloseDayResult:
    business_date: date
    ran: bool
    counts: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


def last_run_date() -> date | None:
    return db.session.scalar(select(func.max(CloseDayRun.business_date)))


def _lock() -> bool:
    """The close-of-day lock for this transaction (PostgreSQL advisory lock). SQLite allows
    one writer at a time, which is lock enough."""
    if db.engine.dialect.name == "postgresql":
        return bool(
            db.session.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY}
            ).scalar()
        )
    return True


def run_close_day(business_date: date, trigger: str = "cli") -> CloseDayResult:
    """Close ``business_date`` in the caller's transaction (the caller commits).

    Running a date that is already closed changes nothing. Dates run in order: a date
    after a gap is refused (use :func:`run_pending`), a date before the last run too.
    """
    if not _lock():
        return CloseDayResult(business_date, False, reason="locked")
    if db.session.scalar(select(CloseDayRun.id).where(CloseDayRun.business_date == business_date)):
        return CloseDayResult(business_date, False, reason="already_done")
    last = last_run_date()
    if last is not None and business_date < last:
        raise DomainError(
            _(
                "Ngày %(d)s trước ngày đã khóa sổ gần nhất (%(l)s).",
                d=business_date.strftime("%d/%m/%Y"),
                l=last.strftime("%d/%m/%Y"),
            )
        )
    if last is not None and business_date > last + timedelta(days=1):
        raise DomainError(
            _(
                "Chưa khóa sổ các ngày từ %(f)s; chạy bù theo thứ tự trước.",
                f=(last + timedelta(days=1)).strftime("%d/%m/%Y"),
            )
        )
    started = time.perf_counter()
    run = CloseDayRun(business_date=business_date, started_at=utcnow(), trigger=trigger)
    db.session.add(run)
    db.session.flush()
    counts = _close(business_date, last)
    run.counts = counts
    run.finished_at = utcnow()
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    db.session.flush()
    return CloseDayResult(business_date, True, counts)


def pending_dates(until: date) -> list[date]:
    """Dates still to close up to ``until``, oldest first (a fresh fund starts at ``until``)."""
    last = last_run_date()
    if last is None:
        return [until]
    return [last + timedelta(days=n) for n in range(1, (until - last).days + 1)]


def _affected_loan_ids(day: date) -> list[int]:
    unpaid = or_(
        Instalment.principal_paid < Instalment.principal,
        Instalment.interest_paid < Instalment.interest,
    )
    past_due = exists().where(
        Instalment.loan_id == Loan.id,
        or_(
            and_(Instalment.due_date < day, unpaid),
            Instalment.due_date == day - timedelta(days=1),
        ),
    )
    classified_above_one = exists().where(LoanDay.loan_id == Loan.id, LoanDay.debt_group > 1)
    never_classified = ~exists().where(LoanDay.loan_id == Loan.id)
    return list(
        db.session.scalars(
            select(Loan.id)
            .where(
                Loan.status == LoanStatus.ACTIVE,
                or_(past_due, classified_above_one, never_classified),
            )
            .order_by(Loan.id)
        )
    )


def _close(day: date, last_closed: date | None) -> dict[str, Any]:
    counts = {
        "loans_examined": 0,
        "instalments_overdue": 0,
        "overdue_transfers": 0,
        "group_changes": 0,
        "ledger_entries": 0,
        "notices": 0,
    }
    ids = _affected_loan_ids(day)
    counts["loans_examined"] = len(ids)
    loans = (
        {
            loan.id: loan
            for loan in db.session.scalars(
                select(Loan).where(Loan.id.in_(ids)).with_for_update(of=Loan)
            )
        }
        if ids
        else {}
    )

    # Steps 2–3: replay each changed loan to D; own group from days past due and floor.
    states = {}
    own: dict[int, tuple[int, int]] = {}
    for loan_id in ids:
        loan = loans[loan_id]
        state = book.replay(loan)
        states[loan_id] = state
        balances = state.balances(day)
        own[loan_id] = (balances.days_past_due, book.own_group(loan, balances.days_past_due))
        counts["instalments_overdue"] += sum(
            1 for r in state.rows if r.due_date < day and (r.principal_unpaid or r.interest_unpaid)
        )
        counts["overdue_transfers"] += sum(
            1 for r in state.rows if r.due_date == day - timedelta(days=1) and r.principal_unpaid
        )

    # Step 4: one borrower, one group — the worst of all its active loans.
    days = {
        d.loan_id: d for d in db.session.scalars(select(LoanDay).where(LoanDay.loan_id.in_(ids)))
    }
    coops = {loans[i].cooperative_id for i in ids}
    borrower_group: dict[int, int] = {}
    if coops:
        for coop_id, loan_id, group in db.session.execute(
            select(Loan.cooperative_id, Loan.id, Loan.debt_group).where(
                Loan.cooperative_id.in_(coops), Loan.status == LoanStatus.ACTIVE
            )
        ):
            g = own[loan_id][1] if loan_id in own else group
            borrower_group[coop_id] = max(borrower_group.get(coop_id, 1), g)

    changed: list[tuple[Loan, int, int]] = []
    for loan_id in ids:
        loan = loans[loan_id]
        dpd, own_group = own[loan_id]
        group = borrower_group[loan.cooperative_id]
        previous = days[loan_id].debt_group if loan_id in days else None
        record = days.get(loan_id) or LoanDay(loan_id=loan_id)
        record.business_date, record.days_past_due = day, dpd
        record.group_by_days, record.debt_group = own_group, group
        record.penalty_accrued = states[loan_id].balances(day).penalty_due
        db.session.add(record)
        loan.debt_group = group
        if previous != group:
            db.session.add(
                DebtGroupHistory(
                    kind="loan",
                    ref_id=loan_id,
                    business_date=day,
                    days_past_due=dpd,
                    debt_group=group,
                    previous_group=previous,
                )
            )
            if previous is not None:
                changed.append((loan, previous, group))
    counts["group_changes"] = len(changed)
    for coop_id, group in borrower_group.items():
        last = db.session.scalar(
            select(DebtGroupHistory.debt_group)
            .where(DebtGroupHistory.kind == "borrower", DebtGroupHistory.ref_id == coop_id)
            .order_by(DebtGroupHistory.business_date.desc())
            .limit(1)
        )
        if last != group:
            db.session.add(
                DebtGroupHistory(
                    kind="borrower",
                    ref_id=coop_id,
                    business_date=day,
                    debt_group=group,
                    previous_group=last,
                )
            )
    db.session.flush()

    # Steps 1, 2 (ledger): transfer, billing and accrual as the difference per loan.
    for loan_id in ids:
        loan = loans[loan_id]
        entry = book.sync_ledger(
            loan,
            states[loan_id],
            day,
            "close_day",
            None,
            day.isoformat(),
            _("Khóa sổ ngày %(d)s: %(c)s", d=day.strftime("%d/%m/%Y"), c=loan.contract_no),
            book_date=day,
            group=loan.debt_group,
        )
        if entry:
            counts["ledger_entries"] += 1

    # Step 5: provisions.
    counts["provision_change"] = _provisions(day, ids, loans)

    # Step 6: notices.
    from fundapp.servicing import notices

    counts["notices"] = notices.for_day(day, changed, last_closed)
    return counts


def _discounted_collateral(loan_ids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for loan_id, valuation, factor in db.session.execute(
        select(Collateral.loan_id, Collateral.valuation, Collateral.discount_factor).where(
            Collateral.loan_id.in_(loan_ids)
        )
    ):
        out[loan_id] = out.get(loan_id, 0) + int(Decimal(valuation) * Decimal(factor))
    return out


def _provisions(day: date, ids: list[int], loans: dict[int, Loan]) -> int:
    """Specific provision of each changed loan and the general provision, as differences."""
    rates = policy.value("provision_rates_pct", day)
    general_rate = policy.value("general_provision_pct", day)
    collateral = _discounted_collateral(ids)
    lines: list[Line] = []
    held = (
        dict(
            db.session.execute(
                select(JournalLine.loan_id, func.sum(JournalLine.credit - JournalLine.debit))
                .where(JournalLine.account == acc.PROVISION, JournalLine.loan_id.in_(ids))
                .group_by(JournalLine.loan_id)
            ).all()
        )
        if ids
        else {}
    )
    change = 0
    for loan_id in ids:
        loan = loans[loan_id]
        base = max(loan.principal_outstanding - collateral.get(loan_id, 0), 0)
        want = int(Decimal(base) * rates[loan.debt_group - 1] / 100)
        have = int(held.get(loan_id) or 0)
        delta = want - have
        record = db.session.get(LoanDay, loan_id)
        if record is not None:
            record.specific_provision = want
        if delta:
            change += delta
            lines.append(_provision_line(delta, loan))
    # General provision: on all group 1–4 principal (set-based, whole book).
    base = int(
        db.session.scalar(
            select(func.coalesce(func.sum(Loan.principal_outstanding), 0)).where(
                Loan.status == LoanStatus.ACTIVE, Loan.debt_group <= 4
            )
        )
        or 0
    )
    want_general = int(Decimal(base) * general_rate / 100)
    have_general = int(
        db.session.scalar(
            select(func.coalesce(func.sum(JournalLine.credit - JournalLine.debit), 0)).where(
                JournalLine.account == acc.PROVISION, JournalLine.loan_id.is_(None)
            )
        )
        or 0
    )
    delta = want_general - have_general
    if delta:
        change += delta
        lines.append(_provision_line(delta, None))
    if lines:
        if change > 0:
            lines.append(Line(acc.PROVISION_EXPENSE, debit=change))
        elif change < 0:
            lines.append(Line(acc.PROVISION_EXPENSE, credit=-change))
        _balance_provision_lines(lines)
        post(
            day,
            "provision",
            lines,
            reference=day.isoformat(),
            description=_("Trích lập dự phòng rủi ro ngày %(d)s", d=day.strftime("%d/%m/%Y")),
        )
    return change


def _provision_line(delta: int, loan: Loan | None) -> Line:
    kwargs = {"loan_id": loan.id, "cooperative_id": loan.cooperative_id} if loan else {}
    if delta > 0:
        return Line(acc.PROVISION, credit=delta, **kwargs)
    return Line(acc.PROVISION, debit=-delta, **kwargs)


def _balance_provision_lines(lines: list[Line]) -> None:
    """Increases and releases of different loans net in one expense line; when they cancel
    out exactly the expense line is absent and the entry still balances."""
    debit = sum(line.debit for line in lines)
    credit = sum(line.credit for line in lines)
    assert debit == credit, (debit, credit)


def run_pending(until: date, trigger: str) -> list[CloseDayResult]:
    """Close every date not yet closed up to ``until``, in order, one transaction each.
    A failure rolls its date back whole, is recorded, and stops the catch-up; the next
    tick retries it."""
    from fundapp.servicing import notices
    from fundapp.servicing.models import CloseDayFailure

    results = []
    for day in pending_dates(until):
        try:
            result = run_close_day(day, trigger)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            db.session.add(CloseDayFailure(business_date=day, at=utcnow(), error=repr(exc)[:4000]))
            db.session.commit()
            raise
        results.append(result)
        if not result.ran and result.reason == "locked":
            break
        notices.deliver_pending()
        db.session.commit()
    return results
