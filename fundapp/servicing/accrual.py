"""Accrued interest (lãi dự thu) and doubtful accrued interest (Circular 52/2022, Art. 5–6).

Interest of a group-1 loan is income as it is earned, not only when it is billed. At each
month end the close of day (the run for D, the first day of a month, covers the month
ending D − 1) recognises, per loan, the in-term interest earned since the last billing up
to that month end: Dr accrued interest (3942) / Cr interest income. Each month's piece is
actual/365 on the balance of each day, first day counted, last not, and rounded half-up
once (``domain.money.round_dong``). When the instalment's interest is billed (close of the
day after its due date, or a payment of it) the accrual of its period is reversed in the
same entry that bills it, so the income of the period is exactly the billed interest.

Everything here is a *target*: what the accrued-interest account should hold for a loan on
a date, from the schedule. The postings are differences from what the ledger holds, so a
date run twice posts nothing the second time and a back-dated change corrects itself.

For groups 2–5 nothing is accrued on-balance: the same amount is held off-balance with the
suspended interest (``domain.posting.targets_from``). When a loan leaves group 1, what it
had on its receivable accounts is reversed: against income for what was recognised this
financial year, to an expense (8091) for what was recognised in an earlier one
(``loans.posting.doubtful_charge``).

The pure arithmetic (month pieces, the accrual of a schedule) is ``domain.accrual``; here
are its database sides: many loans from their stored schedules, the month-end posting, and
the accrued interest to any date for the reports.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select

from fundapp.core.db import among, in_chunks
from fundapp.domain.accrual import AccrualRow, accrued, month_start
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry, JournalLine, LoanBalance
from fundapp.ledger.services import Line, post
from fundapp.loans.models import (
    Disbursement,
    DisbursementStatus,
    Instalment,
    Loan,
    LoanStatus,
    Repayment,
)
from fundapp.servicing.debt_groups import latest_groups

# --------------------------------------------------------------------------------------
# From the stored schedule, for many loans at once (close of day, reports)
#
# ``accrued`` only reads, of a loan's rows, (a) the rows it accrues: due on or after
# ``billed_before`` with an interest span starting before ``min(horizon, due)``, and (b)
# every row's principal as a balance change on its due date, summed over day spans that
# all lie in ``[start, horizon)``, start being the earliest span start of (a). So it is
# loaded as: the rows due on or after ``billed_before`` that start or fall due before
# ``horizon`` (a change on or after ``horizon`` is outside every span), and the principal
# of the rows due earlier as ONE change on the latest of their due dates: a change on or
# before a span's first day only sets the opening balance, so the sum is the same as long
# as that date is not after ``start``; a loan where it is (an odd schedule) has its earlier
# rows loaded one by one.


def _payments_after(part: list[int], paid_until: date) -> dict[tuple[int, int], int]:
    """Interest paid on each (loan, row) by the repayments valued after ``paid_until``.

    The store writes on each row ``interest_paid`` = Σ of the interest lines of the
    repayments' allocations on it + ``interest_waived`` + ``interest_supported``
    (``loans.store.instalment_columns`` and ``repayment_columns``, from one replay; the
    incremental path writes both from the same state), so what was paid up to
    ``paid_until`` is the stored figure less the waivers, the budget's share and these."""
    out: dict[tuple[int, int], int] = defaultdict(int)
    for loan_id, allocations in db.session.execute(
        select(Repayment.loan_id, Repayment.allocations).where(
            among(Repayment.loan_id, part),
            Repayment.reversed.is_(False),
            Repayment.value_date > paid_until,
        )
    ):
        for line in allocations or []:
            if line.get("component") == "interest":
                out[(loan_id, int(line["no"]))] += int(line["amount"])
    return out


def _earlier_rows(
    part: list[int], billed_before: date, starts: dict[int, date]
) -> dict[int, list[AccrualRow]]:
    """The rows due before ``billed_before`` as :func:`accrued` reads them (principal only:
    it accrues none of them), per loan that accrues anything (``starts``: its first day
    accrued): one row of their whole principal due on the latest of their due dates (see
    above), or each row when that date is after ``starts``."""
    out: dict[int, list[AccrualRow]] = {}
    each: list[int] = []
    for loan_id, last_due, principal in db.session.execute(
        select(Instalment.loan_id, func.max(Instalment.due_date), func.sum(Instalment.principal))
        .where(
            among(Instalment.loan_id, part),
            Instalment.due_date < billed_before,
            Instalment.principal > 0,
        )
        .group_by(Instalment.loan_id)
    ):
        start = starts.get(loan_id)
        if start is None:  # nothing accrued: no change is read
            continue
        if last_due <= start:
            out[loan_id] = [AccrualRow(last_due, None, int(principal), 0, 0)]
        else:
            each.append(loan_id)
    for ids in in_chunks(each):
        for loan_id, due, principal in db.session.execute(
            select(Instalment.loan_id, Instalment.due_date, Instalment.principal).where(
                among(Instalment.loan_id, ids),
                Instalment.due_date < billed_before,
                Instalment.principal > 0,
            )
        ):
            out.setdefault(loan_id, []).append(AccrualRow(due, None, int(principal), 0, 0))
    return out


def accrued_of_loans(
    loan_ids: list[int],
    billed_before: date,
    horizon: date,
    paid_until: date | None = None,
) -> dict[int, int]:
    """:func:`accrued` of each loan from its stored schedule, with a few queries per
    5 000 loans (no replay), reading only the rows that matter (see above). ``paid_until``:
    count only payments with a value date up to it (a report on an earlier date: the stored
    paid amounts less waivers and the repayments valued later); by default the stored paid
    amounts."""
    out: dict[int, int] = {}
    for part in in_chunks(sorted(set(loan_ids))):
        rates = dict(
            db.session.execute(select(Loan.id, Loan.annual_rate).where(among(Loan.id, part))).all()
        )
        rows: dict[int, list[tuple]] = defaultdict(list)
        starts: dict[int, date] = {}
        for loan_id, no, due, since, principal, interest, paid, waived in db.session.execute(
            select(
                Instalment.loan_id,
                Instalment.no,
                Instalment.due_date,
                Instalment.interest_from,
                Instalment.principal,
                Instalment.interest,
                # Settled by the borrower (or waived), and the budget's share once billed:
                # at the due date, or when the borrower settled the row ahead
                # (``domain.rows.Row.support_billed``).
                case(
                    (
                        and_(
                            Instalment.principal_paid == Instalment.principal,
                            Instalment.interest_paid == Instalment.interest,
                            Instalment.interest_paid
                            > Instalment.interest_supported + Instalment.interest_waived,
                        ),
                        Instalment.interest_paid,
                    ),
                    else_=Instalment.interest_paid - Instalment.interest_supported,
                ),
                Instalment.interest_waived,
            ).where(
                among(Instalment.loan_id, part),
                Instalment.due_date >= billed_before,
                (Instalment.due_date < horizon) | (Instalment.interest_from < horizon),
            )
        ):
            rows[loan_id].append((no, due, since, int(principal), int(interest), paid, waived))
            if since is not None and since < min(horizon, due):
                starts[loan_id] = min(since, starts.get(loan_id, since))
        earlier = _earlier_rows(part, billed_before, starts)
        tranches: dict[int, list[tuple[date, int]]] = defaultdict(list)
        for loan_id, when, amount in db.session.execute(
            select(Disbursement.loan_id, Disbursement.value_date, Disbursement.amount).where(
                among(Disbursement.loan_id, part), Disbursement.status == DisbursementStatus.POSTED
            )
        ):
            tranches[loan_id].append((when, int(amount)))
        prepaid: dict[int, list[tuple[date, int]]] = defaultdict(list)
        # Never below 0 (the replay writes them); a report read every repayment, so any
        # figure that is not 0.
        some = (
            Repayment.prepaid_principal > 0
            if paid_until is None
            else Repayment.prepaid_principal != 0
        )
        for loan_id, when, amount in db.session.execute(
            select(Repayment.loan_id, Repayment.value_date, Repayment.prepaid_principal).where(
                among(Repayment.loan_id, part), Repayment.reversed.is_(False), some
            )
        ):
            prepaid[loan_id].append((when, int(amount)))
        later = _payments_after(part, paid_until) if paid_until is not None else {}
        for loan_id in part:
            if loan_id not in rates or not tranches.get(loan_id):
                continue
            plan = earlier.get(loan_id, []) + [
                AccrualRow(
                    due,
                    since,
                    principal,
                    interest,
                    int(paid)
                    if paid_until is None
                    else int(paid) - int(waived) - later.get((loan_id, no), 0),
                )
                for no, due, since, principal, interest, paid, waived in rows.get(loan_id, [])
            ]
            out[loan_id] = accrued(
                Decimal(rates[loan_id]),
                plan,
                tranches[loan_id],
                prepaid.get(loan_id, []),
                billed_before,
                horizon,
            )
    return out


# --------------------------------------------------------------------------------------
# The month-end step of the close of day


def month_end(day: date) -> dict[str, int]:
    """The close of ``day`` (the first of a month): post the interest earned in the month
    ending ``day`` − 1 by every active loan, dated that month end. Group 1: Dr accrued
    interest / Cr interest income, to what the schedule says; groups 2–5: the same
    month's interest off-balance (suspended interest memo). One entry; a second run of the
    same date finds nothing to post. Cost: a few queries per 5 000 active loans, once a
    month."""
    if day.day != 1:
        return {}
    month_end_day = day - timedelta(days=1)
    ids = list(
        db.session.scalars(
            select(Loan.id).where(Loan.status == LoanStatus.ACTIVE).order_by(Loan.id)
        )
    )
    if not ids:
        return {"accrual_loans": 0, "accrual_amount": 0}
    # Billing as of the run before this one (instalments due on the month end are billed
    # by this run, after this step, in the entry dated ``day`` that reverses their accrual).
    target = accrued_of_loans(ids, month_end_day, day)
    before = accrued_of_loans(ids, month_end_day, month_start(month_end_day))
    groups: dict[int, tuple[int, int]] = {}
    for part in in_chunks(ids):
        for loan_id, group, coop in db.session.execute(
            select(Loan.id, Loan.debt_group, Loan.cooperative_id).where(among(Loan.id, part))
        ):
            groups[loan_id] = (group, coop)
    held: dict[int, int] = {}
    for part in in_chunks(ids):
        for loan_id, balance in db.session.execute(
            select(LoanBalance.loan_id, LoanBalance.balance).where(
                among(LoanBalance.loan_id, part), LoanBalance.account == acc.ACCRUED_INTEREST
            )
        ):
            held[loan_id] = int(balance)
    lines: list[Line] = []
    loans = amount = 0
    for loan_id, want in target.items():
        group, coop = groups[loan_id]
        if group == 1:
            delta = want - held.get(loan_id, 0)
            debit_account, credit_account = acc.ACCRUED_INTEREST, acc.INTEREST_INCOME
        else:
            delta = want - before.get(loan_id, 0)
            debit_account, credit_account = acc.SUSPENDED_INTEREST_MEMO, acc.MEMO_CONTRA
        if not delta:
            continue
        loans += 1
        amount += delta if group == 1 else 0
        if delta < 0:
            debit_account, credit_account, delta = credit_account, debit_account, -delta
        lines += [
            Line(debit_account, debit=delta, cooperative_id=coop, loan_id=loan_id),
            Line(credit_account, credit=delta, cooperative_id=coop, loan_id=loan_id),
        ]
    if lines:
        post(
            month_end_day,
            "accrual",
            lines,
            reference=month_end_day.isoformat(),
            description=_("Dự thu lãi đến hết ngày %(d)s", d=month_end_day.strftime("%d/%m/%Y")),
        )
    return {"accrual_loans": loans, "accrual_amount": amount}


# --------------------------------------------------------------------------------------
# Reports: accrued interest up to any date


@dataclass(frozen=True)
class AccruedToDate:
    as_of: date
    computed: int  # group-1 interest earned and not billed, through the end of ``as_of``
    posted: int  # on the accrued-interest account, entries dated up to ``as_of``

    @property
    def not_posted(self) -> int:
        return self.computed - self.posted


def accrued_to_date(as_of: date) -> AccruedToDate:
    """The accrued interest of group-1 loans through the end of ``as_of`` (days up to and
    including it), computed from the schedules; the month-end postings are part of it."""
    ids = list(
        db.session.scalars(
            select(Loan.id).where(
                Loan.first_disbursement_date.is_not(None),
                Loan.first_disbursement_date <= as_of,
                Loan.status.in_((LoanStatus.ACTIVE, LoanStatus.CLOSED)),
            )
        )
    )
    groups = latest_groups("loan", as_of=as_of)
    group_one = [i for i in ids if groups.get(i, 1) == 1]
    values = accrued_of_loans(group_one, as_of, as_of + timedelta(days=1), paid_until=as_of)
    posted = int(
        db.session.scalar(
            select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
            .join(JournalEntry)
            .where(
                JournalLine.account == acc.ACCRUED_INTEREST,
                JournalEntry.entry_date <= as_of,
            )
        )
        or 0
    )
    return AccruedToDate(as_of, sum(values.values()), posted)
