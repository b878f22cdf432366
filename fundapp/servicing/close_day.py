"""Close of day for a business date D (SPEC §8), run at the start of D.

One transaction per date, guarded by a database lock and a unique run row:

1. instalments due before D and not fully paid are overdue: their principal moves from
   loans in term to loans overdue, their interest is billed;
2. overdue interest (150 % of the rate on overdue principal, 10 %/year on unpaid interest)
   is accrued to D;
3. days past due per loan (from the oldest unpaid due date);
4. debt group per loan by the law in force on D (``book.classification_version``: the
   bands and floors of the policy versions of D, the clauses of Circular 11/2021 until
   11/08/2024 and of Circular 14/2024 from 12/08/2024, the upgrade waiting period after
   arrears are cleared), then per borrower (its worst loan), which every loan of the
   borrower takes; history kept on change;
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
from sqlalchemy import NUMERIC, and_, exists, func, insert, or_, select, text, union, update

from fundapp.core.db import upsert
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import DomainError
from fundapp.domain.money import provision, round_dong
from fundapp.domain.overdue import (
    YEAR_PERCENT,
    Standing,
    days_past_due,
    interest_from_balance_days,
)
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalLine, LoanBalance
from fundapp.ledger.services import Line, post
from fundapp.loans import store as book
from fundapp.loans.days import CloseDayRun, DebtGroupHistory, LoanDay
from fundapp.loans.models import (
    ApprovalStatus,
    Collateral,
    Instalment,
    Loan,
    LoanStatus,
    Restructuring,
)
from fundapp.policy import services as policy
from fundapp.servicing import accrual

LOCK_KEY = 8_241_001  # pg advisory lock id of the close of day


@dataclass
class CloseDayResult:
    business_date: date
    ran: bool
    counts: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


def last_run_date() -> date | None:
    return db.session.scalar(select(func.max(CloseDayRun.business_date)))


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


CHUNK = 5000  # ids per IN list (PostgreSQL allows 65 535 parameters a statement)


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[n : n + CHUNK] for n in range(0, len(ids), CHUNK)]


_OPEN = or_(
    Instalment.principal_paid < Instalment.principal,
    Instalment.interest_paid < Instalment.interest,
)
_ACTIVE = select(Loan.id).where(Loan.status == LoanStatus.ACTIVE)


_LATE = or_(_OPEN, Instalment.penalty_accrued > Instalment.penalty_paid)  # = UNSETTLED


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
        or _provision_rates(last_closed) != _provision_rates(day)
        or _law(last_closed) != _law(day)
    ):
        return list(db.session.scalars(select(Loan.id).where(active).order_by(Loan.id)))
    late = (
        select(Instalment.loan_id)
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(active, Instalment.due_date < day, _LATE)
    )
    changed = select(Loan.id).where(active, Loan.reclassify)
    never_classified = select(Loan.id).where(active, ~exists().where(LoanDay.loan_id == Loan.id))
    waiting = (
        select(LoanDay.loan_id)
        .join(Loan, Loan.id == LoanDay.loan_id)
        .where(active, LoanDay.cured_on.is_not(None))
    )
    return sorted(db.session.scalars(union(late, changed, never_classified, waiting)))


def _law(day: date) -> tuple[Any, ...]:
    """What the classification law of ``day`` is made of: a change re-examines the book."""
    version = book.classification_version(day)
    return (version.group_starts, version.restructure_floors, version.clauses.code)


def _provision_rates(day: date) -> tuple[Any, Any]:
    return (policy.value("provision_rates_pct", day), policy.value("general_provision_pct", day))


def _lock_loans() -> None:
    """Hold the loans still while the run reads and posts them: on PostgreSQL one table
    lock (plain reads go on; repayments and other writers wait for the commit, seconds at
    night) rather than a row lock on each of thousands of loans."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE loans IN EXCLUSIVE MODE"))


def _seed_overdue_state(day: date) -> None:
    """First run ever: the overdue state of each late loan from its history, as of ``day``
    (the run row is flushed, so ``book.store`` computes as of this date)."""
    late = db.session.scalars(
        select(Loan)
        .where(
            Loan.status == LoanStatus.ACTIVE,
            exists().where(Instalment.loan_id == Loan.id, Instalment.due_date < day, _OPEN),
        )
        .order_by(Loan.id)
    )
    for loan in late:
        book.store(loan, book.replay(loan), day)
    db.session.flush()


def _advance_overdue_state(day: date) -> int:
    """One more day [day − 1, day) of overdue balance on every open past-due instalment,
    and their overdue interest from the new sums, rounded half-up once:
    (Σ principal·days × rate × multiplier / 100 + Σ interest·days × late rate) / 36 500.

    PostgreSQL does both in one UPDATE with exact NUMERIC arithmetic (``div`` of the
    numerator plus half the divisor is the half-up rounding); elsewhere the new sums are
    read back and the interest computed in Python, with the same formula."""
    touched = and_(Instalment.due_date < day, _OPEN, Instalment.loan_id.in_(_ACTIVE))
    principal_days = Instalment.principal_balance_days + (
        Instalment.principal - Instalment.principal_paid
    )
    interest_days = Instalment.interest_balance_days + (
        Instalment.interest - Instalment.interest_paid
    )
    if db.engine.dialect.name == "postgresql":
        exact = principal_days * func.cast(Loan.annual_rate, NUMERIC) * func.cast(
            Loan.overdue_multiplier, NUMERIC
        ) / 100 + interest_days * func.cast(Loan.late_rate, NUMERIC)
        result = db.session.execute(
            update(Instalment)
            .where(Loan.id == Instalment.loan_id, Loan.status == LoanStatus.ACTIVE)
            .where(Instalment.due_date < day, _OPEN)
            .values(
                principal_balance_days=principal_days,
                interest_balance_days=interest_days,
                penalty_accrued=func.div(exact + YEAR_PERCENT / 2, YEAR_PERCENT),
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)
    db.session.execute(
        update(Instalment)
        .where(touched)
        .values(principal_balance_days=principal_days, interest_balance_days=interest_days)
        .execution_options(synchronize_session=False)
    )
    rows = db.session.execute(
        select(
            Instalment.id,
            Instalment.principal_balance_days,
            Instalment.interest_balance_days,
            Loan.annual_rate,
            Loan.overdue_multiplier,
            Loan.late_rate,
        )
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(touched)
    ).all()
    if rows:
        db.session.execute(
            update(Instalment).execution_options(synchronize_session=False),
            [
                {
                    "id": id_,
                    "penalty_accrued": round_dong(
                        interest_from_balance_days(
                            pbd, ibd, rate, overdue_multiplier=mult, late_rate=late
                        )
                    ),
                }
                for id_, pbd, ibd, rate, mult, late in rows
            ],
        )
    return len(rows)


def _close(day: date, last_closed: date | None) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    if last_closed is None:
        _seed_overdue_state(day)
        counts["instalments_accruing"] = 0
    else:
        counts["instalments_accruing"] = _advance_overdue_state(day)
    _lock_loans()
    # Month end (D is the first of a month): the month's accrued interest, dated D − 1,
    # before this run bills anything (servicing.accrual).
    counts.update(accrual.month_end(day))
    version = book.classification_version(day)
    loans: dict[int, Any] = {}
    figures: dict[int, tuple[int, int, int]] = {}
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
        for part in _chunks(ids):
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
                ).where(Loan.id.in_(part))
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
                .where(Instalment.loan_id.in_(part), Instalment.due_date < day, _LATE)
                .group_by(Instalment.loan_id)
            ):
                figures[loan_id] = (int(overdue or 0), int(billed or 0), int(penalty or 0))
                oldest[loan_id] = due
            # Days past due on the restructured schedule: instalments due after the latest
            # restructuring took effect.
            latest = (
                select(
                    Restructuring.loan_id,
                    func.max(Restructuring.effective_date).label("since"),
                )
                .where(
                    Restructuring.loan_id.in_(part),
                    Restructuring.status == ApprovalStatus.APPROVED,
                )
                .group_by(Restructuring.loan_id)
                .subquery()
            )
            for loan_id, due in db.session.execute(
                select(Instalment.loan_id, func.min(Instalment.due_date))
                .join(latest, latest.c.loan_id == Instalment.loan_id)
                .where(Instalment.due_date < day, _LATE, Instalment.due_date > latest.c.since)
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
                ).where(LoanDay.loan_id.in_(part))
            ):
                previous[loan_id] = record[2]
                before[loan_id] = Standing(record[1], record[0], record[5])
                classified[loan_id] = tuple(record)
        for loan_id in ids:
            dpd = days_past_due(oldest.get(loan_id), day)
            late = days_past_due(restructured_late.get(loan_id), day)
            now = book.own_standing(loans[loan_id], dpd, day, before.get(loan_id), late, version)
            own[loan_id] = (dpd, now.group)
            held[loan_id] = now.cured_on

    examine(_affected_loan_ids(day, last_closed))
    # After the first run, the instalments advanced are exactly those overdue.
    counts["instalments_overdue"] = counts["instalments_accruing"] or int(
        db.session.scalar(
            select(func.count(Instalment.id)).where(
                Instalment.due_date < day, _OPEN, Instalment.loan_id.in_(_ACTIVE)
            )
        )
        or 0
    )
    counts["overdue_transfers"] = int(
        db.session.scalar(
            select(func.count(Instalment.id)).where(
                Instalment.due_date == day - timedelta(days=1),
                Instalment.principal_paid < Instalment.principal,
                Instalment.loan_id.in_(_ACTIVE),
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
    for coop_part in _chunks(sorted(coops)):
        for coop_id, loan_id, group, own_before in db.session.execute(
            select(Loan.cooperative_id, Loan.id, Loan.debt_group, LoanDay.group_by_days)
            .outerjoin(LoanDay, LoanDay.loan_id == Loan.id)
            .where(Loan.cooperative_id.in_(coop_part), Loan.status == LoanStatus.ACTIVE)
        ):
            if loan_id in own:
                g = own[loan_id][1]
            else:
                g = own_before or 1
                others[loan_id] = (coop_id, group)
            borrower_group[coop_id] = max(borrower_group.get(coop_id, 1), g)
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
    _borrower_history(day, borrower_group)
    regrouped = [{"id": i, "debt_group": g} for i, g in final.items() if loans[i].debt_group != g]
    if regrouped:
        db.session.execute(update(Loan).execution_options(synchronize_session=False), regrouped)

    # Steps 1–2 in the ledger: transfer, billing and accrual, as one entry of differences.
    have = _positions(list(loans))
    accrued = accrual.accrued_of_loans(list(loans), day, accrual.horizon_of(day))
    lines: list[Line] = []
    for loan_id, row in loans.items():
        overdue, billed, penalty = figures.get(loan_id, (0, 0, 0))
        want = book.targets_from(
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
        )
        want = accrual.split_doubtful(loan_id, want, have.get(loan_id, {}), day)
        moved = book.difference_lines(loan_id, row.cooperative_id, want, have.get(loan_id, {}))
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
    counts["provision_change"], specific = _provisions(day, loans, final, have)
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
    from fundapp.servicing import notices

    counts["notices"] = notices.for_day(day, changed, last_closed)
    db.session.execute(
        update(Loan)
        .where(Loan.reclassify)
        .values(reclassify=False)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return counts


def latest_groups(
    kind: str, *, as_of: date | None = None, refs: list[int] | None = None
) -> dict[int, int]:
    """The debt group of each loan or borrower (``kind``) from its latest classification
    (on or before ``as_of``; of ``refs`` only)."""
    conditions = [DebtGroupHistory.kind == kind]
    if as_of is not None:
        conditions.append(DebtGroupHistory.business_date <= as_of)
    if refs is not None:
        conditions.append(DebtGroupHistory.ref_id.in_(refs))
    ranked = (
        select(
            DebtGroupHistory.ref_id,
            DebtGroupHistory.debt_group,
            func.row_number()
            .over(
                partition_by=DebtGroupHistory.ref_id,
                order_by=DebtGroupHistory.business_date.desc(),
            )
            .label("n"),
        )
        .where(*conditions)
        .subquery()
    )
    return dict(
        db.session.execute(select(ranked.c.ref_id, ranked.c.debt_group).where(ranked.c.n == 1))
        .tuples()
        .all()
    )


def _borrower_history(day: date, borrower_group: dict[int, int]) -> None:
    if not borrower_group:
        return
    latest: dict[int, int] = {}
    for part in _chunks(sorted(borrower_group)):
        latest.update(latest_groups("borrower", refs=part))
    rows = [
        {
            "kind": "borrower",
            "ref_id": coop,
            "business_date": day,
            "days_past_due": 0,
            "debt_group": group,
            "previous_group": latest.get(coop),
        }
        for coop, group in borrower_group.items()
        if latest.get(coop) != group
    ]
    if rows:
        db.session.execute(insert(DebtGroupHistory), rows)


def _positions(ids: list[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for part in _chunks(ids):
        for loan_id, account, balance in db.session.execute(
            select(LoanBalance.loan_id, LoanBalance.account, LoanBalance.balance).where(
                LoanBalance.loan_id.in_(part)
            )
        ):
            out.setdefault(loan_id, {})[account] = int(balance)
    return out


def _discounted_collateral(loan_ids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for loan_id, valuation, factor in db.session.execute(
        select(Collateral.loan_id, Collateral.valuation, Collateral.discount_factor).where(
            Collateral.loan_id.in_(loan_ids)
        )
    ):
        out[loan_id] = out.get(loan_id, 0) + int(Decimal(valuation) * Decimal(factor))
    return out


def _provisions(
    day: date, loans: dict[int, Any], groups: dict[int, int], have: dict[int, dict[str, int]]
) -> tuple[int, dict[int, int]]:
    """Specific provision of each examined loan and the general provision, as differences."""
    rates = policy.value("provision_rates_pct", day)
    general_rate = policy.value("general_provision_pct", day)
    ids = list(loans)
    collateral: dict[int, int] = {}
    for part in _chunks(ids):
        collateral.update(_discounted_collateral(part))
    lines: list[Line] = []
    change = 0
    wanted: dict[int, int] = {}
    for loan_id, row in loans.items():
        base = row.principal_outstanding - collateral.get(loan_id, 0)
        want = provision(base, rates[groups[loan_id] - 1])
        wanted[loan_id] = want
        held = -have.get(loan_id, {}).get(acc.PROVISION, 0)
        delta = want - held
        if delta:
            change += delta
            lines.append(_provision_line(delta, loan_id, row.cooperative_id))
    # General provision: on all group 1–4 principal of the book (set-based).
    base = int(
        db.session.scalar(
            select(func.coalesce(func.sum(Loan.principal_outstanding), 0)).where(
                Loan.status == LoanStatus.ACTIVE, Loan.debt_group <= 4
            )
        )
        or 0
    )
    want_general = provision(base, general_rate)
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
        lines.append(_provision_line(delta, None, None))
    if lines:
        if change > 0:
            lines.append(Line(acc.PROVISION_EXPENSE, debit=change))
        elif change < 0:
            # A release (hoàn nhập dự phòng) is income, not a negative provision expense.
            lines.append(Line(acc.PROVISION_RELEASE_INCOME, credit=-change))
        post(
            day,
            "provision",
            lines,
            reference=day.isoformat(),
            description=_("Trích lập dự phòng rủi ro ngày %(d)s", d=day.strftime("%d/%m/%Y")),
        )
    return change, wanted


def _provision_line(delta: int, loan_id: int | None, cooperative_id: int | None) -> Line:
    if delta > 0:
        return Line(acc.PROVISION, credit=delta, loan_id=loan_id, cooperative_id=cooperative_id)
    return Line(acc.PROVISION, debit=-delta, loan_id=loan_id, cooperative_id=cooperative_id)


def run_pending(until: date, trigger: str) -> list[CloseDayResult]:
    """Close every date not yet closed up to ``until``, in order, one transaction each.
    A failure rolls its date back whole, is recorded, and stops the catch-up; the next
    tick retries it."""
    from fundapp.loans.days import CloseDayFailure
    from fundapp.servicing import notices

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
