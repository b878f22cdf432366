"""Close of day for a business date D (docs/rules.md#close-of-day), run at the start of D.

One transaction per date, guarded by a database lock and a unique run row:

1. instalments due before D and not fully paid are overdue: their principal moves from
   loans in term to loans overdue, their interest is billed;
2. overdue interest (150 % of the rate on overdue principal, 10 %/year on unpaid interest)
   is accrued to D;
3. days past due per loan (from the oldest unpaid due date);
4. debt group per loan by the law in force on D (``standing.classification_version``: the
   bands and floors of the policy versions of D, the clauses of Circular 11/2021 until
   11/08/2024 and of Circular 14/2024 from 12/08/2024, the upgrade waiting period after
   arrears are cleared), then per borrower (its worst loan), which every loan of the
   borrower takes; history kept on change;
5. provisions: specific (group rate × (principal − discounted collateral)) and general
   (a rate of groups 1–4 principal), posted as the difference;
6. notices: due soon, overdue transfer, group change.

Steps 1, 2 and the income rule are the ledger targets of ``posting.targets`` with the book
date D and the loan's group: interest of group-1 loans is receivable and income; for groups
2–5 it is kept off-balance (suspended interest) until cash comes in (Circular 52/2022).

Only loans that can change on D are replayed: those with an instalment past due and unpaid,
one that fell due the day before, a group above 1, or never classified. The set is chosen
in SQL; the rest of the book is not touched.

This module runs the dates and holds the run's loop over the loans; the overdue state of
the instalments (steps 1–2) is ``servicing.overdue_accrual``, the group history
``servicing.debt_groups``, the provisions (step 5) ``servicing.provisions`` with the rules
of ``domain.provisioning``, the notices ``servicing.notices``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, insert, or_, select, text, union, update

from fundapp.core.db import among, in_chunks, touch_loans, upsert
from fundapp.domain.accrual import horizon_of
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import DomainError
from fundapp.domain.overdue import (
    Standing,
    days_past_due,
    worst_group,
)
from fundapp.domain.posting import targets_from
from fundapp.extensions import db
from fundapp.ledger.models import LoanBalance
from fundapp.ledger.services import Line, post
from fundapp.loans import book, standing
from fundapp.loans.days import (
    CloseDayFailure,
    CloseDayRun,
    DebtGroupHistory,
    LoanDay,
    last_run_date,
)
from fundapp.loans.models import (
    ApprovalStatus,
    Instalment,
    Loan,
    LoanStatus,
    Restructuring,
)
from fundapp.loans.posting import difference_lines, with_doubtful_expense
from fundapp.servicing import accrual, debt_groups, notices, overdue_accrual, provisions
from fundapp.servicing.overdue_accrual import ACTIVE, LATE, OPEN

LOCK_KEY = 8_241_001  # pg advisory lock id of the close of day


@dataclass
class CloseDayResult:
    business_date: date
    ran: bool
    counts: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


def on_closed_day(day: date | None) -> bool:
    """Whether an entry dated ``day`` falls on a day a close of day has already taken in.

    The run of D (at the start of D) takes in the entries of the days before D, so a day
    before the last run's date is closed; an entry dated then is still accepted (the loan
    is replayed from its value date), but the user is warned (issue 16)."""
    last = last_run_date()
    return day is not None and last is not None and day < last


def closed_day_warning(day: date | None, as_of: date, kind: str) -> str | None:
    """The warning shown when an entry is recorded with a date on a closed day: ``kind``
    "loan" (repayment, disbursement: the loan is recomputed from the value date) or
    "capital" (the journal entry keeps its date). None when the day is open."""
    if not on_closed_day(day):
        return None
    assert day is not None
    if kind == "capital":
        return _(
            "Lưu ý: ngày %(d)s đã khóa sổ. Bút toán vẫn được ghi với ngày %(d)s nên số dư và "
            "báo cáo từ ngày đó thay đổi; các lần khóa sổ đã chạy không chạy lại.",
            d=day.strftime("%d/%m/%Y"),
        )
    return _(
        "Lưu ý: ngày %(d)s đã khóa sổ. Khoản vay được tính lại từ ngày giá trị %(d)s (phân "
        "bổ, lãi, lãi quá hạn, số ngày quá hạn); phần chênh lệch được hạch toán vào ngày làm "
        "việc %(b)s, số liệu của các ngày đã khóa không bị sửa.",
        d=day.strftime("%d/%m/%Y"),
        b=as_of.strftime("%d/%m/%Y"),
    )


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


def _affected_loan_ids(day: date, last_closed: date | None) -> list[int]:
    """Loans whose own figures can change on ``day``: something past due and not settled
    (an instalment that fell due yesterday unpaid included), a change since the last run
    (``reclassify``), waiting for an upgrade after its arrears were cleared, or never
    classified; every active loan when the provision rates or the classification law
    change (12/08/2024: Circular 14/2024). The late instalments come from the partial index
    of unsettled ones."""
    active = Loan.status == LoanStatus.ACTIVE
    if (
        last_closed is None
        or provisions.rates_of(last_closed) != provisions.rates_of(day)
        or _law(last_closed) != _law(day)
    ):
        return list(db.session.scalars(select(Loan.id).where(active).order_by(Loan.id)))
    late = (
        select(Instalment.loan_id)
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(active, Instalment.due_date < day, LATE)
    )
    changed = select(Loan.id).where(active, Loan.reclassify)
    # A supported instalment that fell due since the last run bills the budget's share.
    supported = (
        select(Instalment.loan_id)
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(
            active,
            Instalment.due_date < day,
            Instalment.due_date >= last_closed,
            Instalment.interest_supported > 0,
        )
    )
    never_classified = select(Loan.id).where(active, ~exists().where(LoanDay.loan_id == Loan.id))
    waiting = (
        select(LoanDay.loan_id)
        .join(Loan, Loan.id == LoanDay.loan_id)
        .where(active, LoanDay.cured_on.is_not(None))
    )
    return sorted(db.session.scalars(union(late, changed, never_classified, waiting, supported)))


def _law(day: date) -> tuple[Any, ...]:
    """What the classification law of ``day`` is made of: a change re-examines the book."""
    version = standing.classification_version(day)
    return (version.group_starts, version.restructure_floors, version.clauses.code)


def _lock_loans() -> None:
    """Hold the loans still while the run reads and posts them: on PostgreSQL one table
    lock (plain reads go on; repayments and other writers wait for the commit, seconds at
    night) rather than a row lock on each of thousands of loans."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE loans IN EXCLUSIVE MODE"))


def _close(day: date, last_closed: date | None) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    # The loans first, then their instalments: the order a repayment takes them in
    # (``store.lock_loan``, then the store), so the two wait for each other, never deadlock.
    _lock_loans()
    if last_closed is None:
        overdue_accrual.seed_overdue_state(day)
        counts["instalments_accruing"] = 0
    else:
        counts["instalments_accruing"] = overdue_accrual.advance_overdue_state(day)
        counts["loans_restated"] = overdue_accrual.restate_later_events(day)
    # Month end (D is the first of a month): the month's accrued interest, dated D − 1,
    # before this run bills anything (servicing.accrual).
    counts.update(accrual.month_end(day))
    version = standing.classification_version(day)
    loans: dict[int, Any] = {}
    figures: dict[int, tuple[int, int, int]] = {}
    supported: dict[int, int] = {}
    oldest: dict[int, date] = {}
    previous: dict[int, int] = {}
    before: dict[int, Standing] = {}
    classified: dict[int, tuple[Any, ...]] = {}
    own: dict[int, tuple[int, int]] = {}
    held: dict[int, date | None] = {}
    restructured_late: dict[int, date] = {}

    def examine(ids: list[int]) -> None:
        """Load the figures of ``ids`` and their days past due and own group (the law in
        force on the day, the upgrade waiting period): steps 3 and the first half of 4."""
        for part in in_chunks(ids):
            for row in db.session.execute(
                select(
                    Loan.id,
                    Loan.cooperative_id,
                    Loan.disbursed,
                    Loan.principal_outstanding,
                    Loan.principal_paid,
                    Loan.interest_paid,
                    Loan.penalty_paid,
                    Loan.term_adjustments,
                    Loan.extensions,
                    Loan.interest_reliefs,
                    Loan.term_months,
                    Loan.policy_snapshot,
                    Loan.contract_no,
                    Loan.officer_id,
                    Loan.debt_group,
                ).where(among(Loan.id, part))
            ):
                loans[row.id] = row
            # Only instalments past due and not settled carry overdue principal, billed
            # interest or overdue interest.
            for loan_id, overdue, billed, penalty, due in db.session.execute(
                select(
                    Instalment.loan_id,
                    func.sum(Instalment.principal - Instalment.principal_paid),
                    func.sum(Instalment.interest - Instalment.interest_paid),
                    func.sum(Instalment.penalty_accrued - Instalment.penalty_paid),
                    func.min(Instalment.due_date),
                )
                .where(among(Instalment.loan_id, part), Instalment.due_date < day, LATE)
                .group_by(Instalment.loan_id)
            ):
                figures[loan_id] = (int(overdue or 0), int(billed or 0), int(penalty or 0))
                oldest[loan_id] = due
            # The budget's share of the supported instalments billed: fallen due, or
            # settled ahead by the borrower (``domain.replay.Row.support_billed``).
            for loan_id, amount in db.session.execute(
                select(Instalment.loan_id, func.sum(Instalment.interest_supported))
                .where(
                    among(Instalment.loan_id, part),
                    Instalment.interest_supported > 0,
                    or_(
                        Instalment.due_date < day,
                        and_(
                            Instalment.principal_paid == Instalment.principal,
                            Instalment.interest_paid == Instalment.interest,
                            Instalment.interest_paid
                            > Instalment.interest_supported + Instalment.interest_waived,
                        ),
                    ),
                )
                .group_by(Instalment.loan_id)
            ):
                supported[loan_id] = int(amount or 0)
            # Days past due on the restructured schedule: instalments due after the latest
            # restructuring took effect.
            latest = (
                select(
                    Restructuring.loan_id,
                    func.max(Restructuring.effective_date).label("since"),
                )
                .where(
                    among(Restructuring.loan_id, part),
                    Restructuring.status == ApprovalStatus.APPROVED,
                )
                .group_by(Restructuring.loan_id)
                .subquery()
            )
            for loan_id, due in db.session.execute(
                select(Instalment.loan_id, func.min(Instalment.due_date))
                .join(latest, latest.c.loan_id == Instalment.loan_id)
                .where(Instalment.due_date < day, LATE, Instalment.due_date > latest.c.since)
                .group_by(Instalment.loan_id)
            ):
                restructured_late[loan_id] = due
            for loan_id, *record in db.session.execute(
                select(
                    LoanDay.loan_id,
                    LoanDay.days_past_due,
                    LoanDay.group_by_days,
                    LoanDay.debt_group,
                    LoanDay.specific_provision,
                    LoanDay.penalty_accrued,
                    LoanDay.cured_on,
                ).where(among(LoanDay.loan_id, part))
            ):
                previous[loan_id] = record[2]
                before[loan_id] = Standing(record[1], record[0], record[5])
                classified[loan_id] = tuple(record)
        for loan_id in ids:
            dpd = days_past_due(oldest.get(loan_id), day)
            late = days_past_due(restructured_late.get(loan_id), day)
            now = standing.own_standing(
                loans[loan_id], dpd, day, before.get(loan_id), late, version
            )
            own[loan_id] = (dpd, now.group)
            held[loan_id] = now.cured_on

    examine(_affected_loan_ids(day, last_closed))
    # After the first run, the instalments advanced are exactly those overdue.
    counts["instalments_overdue"] = counts["instalments_accruing"] or int(
        db.session.scalar(
            select(func.count(Instalment.id)).where(
                Instalment.due_date < day, OPEN, Instalment.loan_id.in_(ACTIVE)
            )
        )
        or 0
    )
    counts["overdue_transfers"] = int(
        db.session.scalar(
            select(func.count(Instalment.id)).where(
                Instalment.due_date == day - timedelta(days=1),
                Instalment.principal_paid < Instalment.principal,
                Instalment.loan_id.in_(ACTIVE),
            )
        )
        or 0
    )

    # Step 4: one group per borrower, its worst loan's. The borrower's other loans keep
    # their own group of the last run (nothing of theirs changed); those whose borrower
    # group moves are examined too.
    coops = {row.cooperative_id for row in loans.values()}
    coops.update(db.session.scalars(select(Loan.cooperative_id).where(Loan.reclassify)))
    borrower_group: dict[int, int] = {}
    others: dict[int, tuple[int, int]] = {}
    for coop_part in in_chunks(sorted(coops)):
        for coop_id, loan_id, group, own_before in db.session.execute(
            select(Loan.cooperative_id, Loan.id, Loan.debt_group, LoanDay.group_by_days)
            .outerjoin(LoanDay, LoanDay.loan_id == Loan.id)
            .where(among(Loan.cooperative_id, coop_part), Loan.status == LoanStatus.ACTIVE)
        ):
            if loan_id in own:
                g = own[loan_id][1]
            else:
                g = own_before or 1
                others[loan_id] = (coop_id, group)
            borrower_group[coop_id] = worst_group((borrower_group.get(coop_id, 1), g))
    examine(sorted(i for i, (coop, group) in others.items() if borrower_group[coop] != group))
    counts["loans_examined"] = len(loans)

    final: dict[int, int] = {i: borrower_group[row.cooperative_id] for i, row in loans.items()}
    changed: list[tuple[int, int, int]] = []
    history = []
    for loan_id, group in final.items():
        before = previous.get(loan_id)
        if before != group:
            history.append(
                {
                    "kind": "loan",
                    "ref_id": loan_id,
                    "business_date": day,
                    "days_past_due": own[loan_id][0],
                    "debt_group": group,
                    "previous_group": before,
                }
            )
            if before is not None:
                changed.append((loan_id, before, group))
    counts["group_changes"] = len(changed)
    if history:
        db.session.execute(insert(DebtGroupHistory), history)
    debt_groups.record_borrower_groups(day, borrower_group)
    regrouped = [{"id": i, "debt_group": g} for i, g in final.items() if loans[i].debt_group != g]
    if regrouped:
        db.session.execute(update(Loan).execution_options(synchronize_session=False), regrouped)
        touch_loans(r["id"] for r in regrouped)

    # Steps 1–2 in the ledger: transfer, billing and accrual, as one entry of differences.
    have = _positions(list(loans))
    accrued = accrual.accrued_of_loans(list(loans), day, horizon_of(day))
    lines: list[Line] = []
    for loan_id, row in loans.items():
        overdue, billed, penalty = figures.get(loan_id, (0, 0, 0))
        want = targets_from(
            disbursed=row.disbursed,
            repaid=row.principal_paid + row.interest_paid + row.penalty_paid,
            outstanding=row.principal_outstanding,
            interest_paid=row.interest_paid,
            penalty_paid=row.penalty_paid,
            overdue=overdue,
            billed=billed,
            penalty=penalty,
            group=final[loan_id],
            accrued_interest=accrued.get(loan_id, 0),
            supported=supported.get(loan_id, 0),
        )
        want = with_doubtful_expense(loan_id, want, have.get(loan_id, {}), day)
        moved = difference_lines(loan_id, row.cooperative_id, want, have.get(loan_id, {}))
        if moved:
            counts.setdefault("loans_posted", 0)
            counts["loans_posted"] += 1
            lines.extend(moved)
    if lines:
        post(
            day,
            "close_day",
            lines,
            reference=day.isoformat(),
            description=_("Khóa sổ ngày %(d)s", d=day.strftime("%d/%m/%Y")),
        )

    # Step 5: provisions.
    counts["provision_change"], specific = provisions.post_provisions(day, loans, final, have)
    # Rewritten only where something changed (the row keeps the date it was last set):
    # a loan with nothing past due keeps its classification from one day to the next.
    records = {
        i: (
            own[i][0],
            own[i][1],
            final[i],
            specific.get(i, 0),
            max(figures.get(i, (0, 0, 0))[2], 0),
            held.get(i),
        )
        for i in loans
    }
    fields = (
        "days_past_due",
        "group_by_days",
        "debt_group",
        "specific_provision",
        "penalty_accrued",
        "cured_on",
    )
    upsert(
        LoanDay,
        [
            {"loan_id": i, "business_date": day, **dict(zip(fields, record, strict=True))}
            for i, record in records.items()
            if classified.get(i) != record
        ],
        ["loan_id"],
        replace=("business_date", *fields),
    )

    # Step 6: notices.
    counts["notices"] = notices.for_day(day, changed, last_closed)
    book.sweep()
    db.session.execute(
        update(Loan)
        .where(Loan.reclassify)
        .values(reclassify=False)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return counts


def _positions(ids: list[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for part in in_chunks(ids):
        for loan_id, account, balance in db.session.execute(
            select(LoanBalance.loan_id, LoanBalance.account, LoanBalance.balance).where(
                among(LoanBalance.loan_id, part)
            )
        ):
            out.setdefault(loan_id, {})[account] = int(balance)
    return out


# What runs after each date's commit: the e-mails of its notices. Sending renders the
# notice's PDF (documents, a layer above this one), so the app factory registers it
# (``fundapp.notices.delivery.deliver_pending``) rather than this module importing it.
_AFTER_COMMIT: list[Callable[[], Any]] = []


def after_each_date(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``fn`` after each date :func:`run_pending` commits (once, however often the
    app is made)."""
    if fn not in _AFTER_COMMIT:
        _AFTER_COMMIT.append(fn)
    return fn


def run_pending(until: date, trigger: str) -> list[CloseDayResult]:
    """Close every date not yet closed up to ``until``, in order, one transaction each,
    then send what the date wrote (:func:`after_each_date`). A failure rolls its date back
    whole, is recorded, and stops the catch-up; the next tick retries it."""
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
        for fn in _AFTER_COMMIT:
            fn()
        db.session.commit()
    return results
