"""The VietQR code a payment document carries (fundapp/payments/vietqr.py): the amount to pay
and the reference that names the contract and the instalment.

What a code asks for: on a due-soon notice, the instalment; on an overdue notice, what the
loan owed that day (the instalment's overdue principal and unpaid interest when the
position is not known); on the statement, the schedule and the portal, what is due on the
document's date, named after the oldest unpaid instalment, or, when nothing is due, the next
instalment. None when nothing is to be paid or the fund's account has no VietQR settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask import current_app

from fundapp.loans.models import Loan, LoanStatus
from fundapp.loans.queries import ScheduleRow
from fundapp.payments.vietqr import PaymentQR, fund_qr, reference

# (instalment no, due date, still to pay on it)
Due = tuple[int, date, int]


def instalment_qr(contract_no: str, no: int | None, amount: int) -> PaymentQR | None:
    """The code for paying ``amount`` on instalment ``no`` of the contract."""
    return fund_qr(current_app.config, amount, reference(contract_no, no))


def notice_qr(
    kind: str,
    contract_no: str,
    no: int | None,
    instalment_total: int,
    overdue_total: int,
    total_due: int | None,
) -> PaymentQR | None:
    """The code of a notice: ``instalment_total`` on a due-soon notice; on an overdue one
    ``total_due`` (the loan's, that day) or else ``overdue_total`` (the instalment's)."""
    if kind == "due_soon":
        return instalment_qr(contract_no, no, instalment_total)
    if kind == "overdue_transfer":
        return instalment_qr(contract_no, no, total_due or overdue_total)
    return None


def due_qr(contract_no: str, rows: Iterable[Due], due_now: int, as_of: date) -> PaymentQR | None:
    """The code for what is due on ``as_of`` (``due_now``), or for the next instalment."""
    unpaid = sorted((row for row in rows if row[2] > 0), key=lambda row: (row[1], row[0]))
    if due_now > 0:
        oldest = next((no for no, day, _ in unpaid if day <= as_of), None)
        return instalment_qr(contract_no, oldest, due_now)
    coming = next(((no, left) for no, day, left in unpaid if day > as_of), None)
    if coming is None:
        return None
    return instalment_qr(contract_no, coming[0], coming[1])


def loan_qr(loan: Loan, rows: Iterable[ScheduleRow], due_now: int, as_of: date) -> PaymentQR | None:
    """The code of an active loan's schedule (``rows`` on ``as_of``): ``due_now`` named after
    the oldest unpaid instalment, or the next instalment's remaining amount."""
    if loan.status != LoanStatus.ACTIVE:
        return None
    return due_qr(loan.contract_no, [(r.no, r.due_date, r.remaining) for r in rows], due_now, as_of)
