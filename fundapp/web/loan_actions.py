"""Loans: the actions on a loan (contract, disbursements, repayments, reversals,
restructuring, write-off, collateral, inspections), POST views of the "loans" blueprint of
``web.loans``, which the app imports with it before registering it.

Views are thin: role check → load or 404 → form → one service call → commit → flash →
redirect. A refused action re-renders the loan page with the failing form (its values and
the field messages) and the status of the error; everything else on the page is fresh.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from fundapp.core import validation
from fundapp.core.dates import business_date
from fundapp.core.formatting import date_filter, money_filter
from fundapp.core.forms import apply_errors
from fundapp.core.security import Role, roles_required
from fundapp.domain.errors import DomainError, ValidationFailed
from fundapp.extensions import db
from fundapp.lending import collateral as lending_collateral
from fundapp.lending import contracts, restructuring, writeoffs
from fundapp.lending import disbursements as lending_disbursements
from fundapp.lending import inspections as lending_inspections
from fundapp.lending.forms import (
    KIND_LABELS,
    CollateralForm,
    ConfirmForm,
    ContractForm,
    DisbursementForm,
    InspectionForm,
    NoteForm,
    ReasonForm,
    RepaymentForm,
    RestructuringForm,
    values,
)
from fundapp.loans.models import (
    Disbursement,
    Loan,
    LoanStatus,
    Repayment,
    Restructuring,
    Reversal,
    WriteOff,
)
from fundapp.repayments import services as repayments
from fundapp.servicing.close_day import closed_day_warning
from fundapp.web.loans import bp, detail_page


def _act(
    loan_id: int,
    form: FlaskForm,
    prefix: str,
    call: Callable[[], str],
) -> Any:
    """Validate, run the one service call, commit, flash its message, back to the loan at
    the message (``#flashes``: issue 16, the page no longer jumps to a table below the
    message). A refused action rolls back and shows the loan page with this form's errors."""
    if form.validate_on_submit():
        try:
            message = call()
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            return detail_page(loan_id, {prefix: form}, exc.status_code)
        db.session.commit()
        flash(message, "success")
        return redirect(url_for(".detail", loan_id=loan_id, _anchor="flashes"))
    flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
    return detail_page(loan_id, {prefix: form}, 400)


def _warn_closed_day(day: date | None) -> None:
    """A money entry dated on a day already closed: accepted, with a visible warning of
    what it does (issue 16)."""
    warning = closed_day_warning(day, business_date(), "loan")
    if warning:
        flash(warning, "warning")


def _loan(loan_id: int) -> Loan:
    return db.get_or_404(Loan, loan_id)


def _child(model: Any, child_id: int, loan_id: int) -> Any:
    item = db.get_or_404(model, child_id)
    owner = item.repayment.loan_id if isinstance(item, Reversal) else item.loan_id
    if owner != loan_id:
        abort(404)
    return item


@bp.route("/<int:loan_id>/contract", methods=["POST"])
@roles_required(Role.OFFICER, Role.DIRECTOR)
def sign_contract(loan_id: int) -> Any:
    loan = _loan(loan_id)
    form = ContractForm(prefix="contract")

    def call() -> str:
        errors: dict[str, str] = {}
        when = validation.iso_date(
            {"contract_date": form.contract_date.data}, "contract_date", errors
        )
        if errors or when is None:
            raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
        contracts.sign_contract(
            current_user, loan, when, business_date(), form.repayment_order.data or None
        )
        return _("Đã ký hợp đồng %(c)s ngày %(d)s.", c=loan.contract_no, d=date_filter(when))

    return _act(loan_id, form, "contract", call)


@bp.route("/<int:loan_id>/cancel", methods=["POST"])
@roles_required(Role.DIRECTOR, Role.BOARD)
def cancel(loan_id: int) -> Any:
    loan = _loan(loan_id)
    form = ReasonForm(prefix="cancel")

    def call() -> str:
        contracts.cancel(current_user, loan, form.reason.data or "")
        return _("Đã hủy khoản vay %(c)s.", c=loan.contract_no)

    return _act(loan_id, form, "cancel", call)


@bp.route("/<int:loan_id>/disbursements", methods=["POST"])
@roles_required(Role.ACCOUNTANT)
def record_disbursement(loan_id: int) -> Any:
    _loan(loan_id)
    form = DisbursementForm(prefix="disburse")

    def call() -> str:
        d = lending_disbursements.record_disbursement(
            current_user, loan_id, values(form, DisbursementForm.FIELDS), business_date()
        )
        _warn_closed_day(d.value_date)
        return _(
            "Đã lập đợt giải ngân %(r)s: %(a)s. Chờ Giám đốc phê duyệt.",
            r=d.receipt_no,
            a=money_filter(d.amount),
        )

    return _act(loan_id, form, "disburse", call)


@bp.route("/<int:loan_id>/disbursements/<int:item_id>/approve", methods=["POST"])
@roles_required(Role.DIRECTOR)
def approve_disbursement(loan_id: int, item_id: int) -> Any:
    item = _child(Disbursement, item_id, loan_id)
    prefix = f"disb{item_id}-approve"
    form = ConfirmForm(prefix=prefix)

    def call() -> str:
        lending_disbursements.approve_disbursement(current_user, item.id, business_date())
        _warn_closed_day(item.value_date)
        return _(
            "Đã phê duyệt và hạch toán đợt giải ngân %(r)s: %(a)s.",
            r=item.receipt_no,
            a=money_filter(item.amount),
        )

    return _act(loan_id, form, prefix, call)


@bp.route("/<int:loan_id>/disbursements/<int:item_id>/reject", methods=["POST"])
@roles_required(Role.DIRECTOR)
def reject_disbursement(loan_id: int, item_id: int) -> Any:
    item = _child(Disbursement, item_id, loan_id)
    prefix = f"disb{item_id}-reject"
    form = NoteForm(prefix=prefix)

    def call() -> str:
        lending_disbursements.reject_disbursement(current_user, item.id, form.note.data or "")
        return _("Đã từ chối đợt giải ngân %(r)s.", r=item.receipt_no)

    return _act(loan_id, form, prefix, call)


@bp.route("/<int:loan_id>/repayments", methods=["POST"])
@roles_required(Role.ACCOUNTANT)
def record_repayment(loan_id: int) -> Any:
    _loan(loan_id)
    form = RepaymentForm(prefix="repay")
    form.fill_choices()

    def call() -> str:
        r = repayments.record_repayment(
            current_user, loan_id, values(form, RepaymentForm.FIELDS), business_date()
        )
        _warn_closed_day(r.value_date)
        message = _(
            "Đã thu %(a)s của hợp đồng %(c)s, phiếu thu %(r)s.",
            a=money_filter(r.amount),
            c=r.loan.contract_no,
            r=r.receipt_no,
        )
        if r.loan.status == LoanStatus.CLOSED:
            message += " " + _("Khoản vay đã trả hết nợ và được tất toán.")
        return message

    return _act(loan_id, form, "repay", call)


@bp.route("/<int:loan_id>/repayments/<int:item_id>/reverse", methods=["POST"])
@roles_required(Role.ACCOUNTANT)
def request_reversal(loan_id: int, item_id: int) -> Any:
    item = _child(Repayment, item_id, loan_id)
    prefix = f"rep{item_id}-reverse"
    form = ReasonForm(prefix=prefix)

    def call() -> str:
        repayments.request_reversal(current_user, item.id, form.reason.data or "")
        return _("Đã gửi đề nghị hủy phiếu thu %(r)s. Chờ Giám đốc phê duyệt.", r=item.receipt_no)

    return _act(loan_id, form, prefix, call)


def _decide_reversal(loan_id: int, item_id: int, approve_it: bool) -> Any:
    item = _child(Reversal, item_id, loan_id)
    prefix = f"rev{item_id}-{'approve' if approve_it else 'reject'}"
    form = NoteForm(prefix=prefix)

    def call() -> str:
        repayments.decide_reversal(
            current_user, item.id, approve_it, business_date(), form.note.data or ""
        )
        if approve_it:
            return _(
                "Đã hủy phiếu thu %(r)s; khoản vay đã được tính lại.", r=item.repayment.receipt_no
            )
        return _("Đã từ chối đề nghị hủy phiếu thu %(r)s.", r=item.repayment.receipt_no)

    return _act(loan_id, form, prefix, call)


@bp.route("/<int:loan_id>/reversals/<int:item_id>/approve", methods=["POST"])
@roles_required(Role.DIRECTOR)
def approve_reversal(loan_id: int, item_id: int) -> Any:
    return _decide_reversal(loan_id, item_id, True)


@bp.route("/<int:loan_id>/reversals/<int:item_id>/reject", methods=["POST"])
@roles_required(Role.DIRECTOR)
def reject_reversal(loan_id: int, item_id: int) -> Any:
    return _decide_reversal(loan_id, item_id, False)


@bp.route("/<int:loan_id>/restructurings", methods=["POST"])
@roles_required(Role.OFFICER)
def request_restructuring(loan_id: int) -> Any:
    _loan(loan_id)
    form = RestructuringForm(prefix="restructure")
    form.fill_choices()

    def call() -> str:
        r = restructuring.request_restructuring(
            current_user, loan_id, values(form, RestructuringForm.FIELDS), business_date()
        )
        return _(
            "Đã gửi đề nghị %(k)s. Chờ Giám đốc hoặc Hội đồng quản lý phê duyệt.",
            k=str(KIND_LABELS[r.kind]).lower(),
        )

    return _act(loan_id, form, "restructure", call)


def _decide_restructuring(loan_id: int, item_id: int, approve_it: bool) -> Any:
    item = _child(Restructuring, item_id, loan_id)
    prefix = f"rst{item_id}-{'approve' if approve_it else 'reject'}"
    form = NoteForm(prefix=prefix)

    def call() -> str:
        restructuring.decide_restructuring(
            current_user, item.id, approve_it, form.note.data or "", business_date()
        )
        if approve_it:
            return _("Đã phê duyệt cơ cấu lại; lịch trả nợ đã được lập lại.")
        return _("Đã từ chối đề nghị cơ cấu lại.")

    return _act(loan_id, form, prefix, call)


@bp.route("/<int:loan_id>/restructurings/<int:item_id>/approve", methods=["POST"])
@roles_required(Role.DIRECTOR, Role.BOARD)
def approve_restructuring(loan_id: int, item_id: int) -> Any:
    return _decide_restructuring(loan_id, item_id, True)


@bp.route("/<int:loan_id>/restructurings/<int:item_id>/reject", methods=["POST"])
@roles_required(Role.DIRECTOR, Role.BOARD)
def reject_restructuring(loan_id: int, item_id: int) -> Any:
    return _decide_restructuring(loan_id, item_id, False)


@bp.route("/<int:loan_id>/write-off", methods=["POST"])
@roles_required(Role.DIRECTOR)
def propose_write_off(loan_id: int) -> Any:
    _loan(loan_id)
    form = ReasonForm(prefix="writeoff")

    def call() -> str:
        w = writeoffs.propose_write_off(
            current_user, loan_id, form.reason.data or "", business_date()
        )
        return _(
            "Đã đề nghị xử lý rủi ro %(a)s. Chờ Hội đồng quản lý phê duyệt.",
            a=money_filter(w.amount),
        )

    return _act(loan_id, form, "writeoff", call)


def _decide_write_off(loan_id: int, item_id: int, approve_it: bool) -> Any:
    item = _child(WriteOff, item_id, loan_id)
    prefix = f"wo{item_id}-{'approve' if approve_it else 'reject'}"
    form = NoteForm(prefix=prefix)

    def call() -> str:
        writeoffs.decide_write_off(
            current_user, item.id, approve_it, form.note.data or "", business_date()
        )
        if approve_it:
            return _("Đã xử lý rủi ro khoản vay: %(a)s.", a=money_filter(item.amount))
        return _("Đã từ chối đề nghị xử lý rủi ro.")

    return _act(loan_id, form, prefix, call)


@bp.route("/<int:loan_id>/write-offs/<int:item_id>/approve", methods=["POST"])
@roles_required(Role.BOARD)
def approve_write_off(loan_id: int, item_id: int) -> Any:
    return _decide_write_off(loan_id, item_id, True)


@bp.route("/<int:loan_id>/write-offs/<int:item_id>/reject", methods=["POST"])
@roles_required(Role.BOARD)
def reject_write_off(loan_id: int, item_id: int) -> Any:
    return _decide_write_off(loan_id, item_id, False)


@bp.route("/<int:loan_id>/collateral", methods=["POST"])
@roles_required(Role.OFFICER)
def add_collateral(loan_id: int) -> Any:
    loan = _loan(loan_id)
    form = CollateralForm(prefix="collateral")

    def call() -> str:
        lending_collateral.add_collateral(current_user, loan, values(form, CollateralForm.FIELDS))
        return _("Đã thêm tài sản bảo đảm.")

    return _act(loan_id, form, "collateral", call)


@bp.route("/<int:loan_id>/inspections", methods=["POST"])
@roles_required(Role.OFFICER)
def add_inspection(loan_id: int) -> Any:
    loan = _loan(loan_id)
    form = InspectionForm(prefix="inspection")
    form.fill_choices()

    def call() -> str:
        lending_inspections.add_inspection(
            current_user, loan, values(form, InspectionForm.FIELDS), business_date()
        )
        return _("Đã ghi nhận kết quả kiểm tra sử dụng vốn vay.")

    return _act(loan_id, form, "inspection", call)
