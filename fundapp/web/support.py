"""Interest support: the schemes, the loans enrolled on each, the claims to the paying agency
and their payment (``fundapp.support``); the claim itself is the report ``support-claim``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from fundapp.core import validation
from fundapp.core.dates import business_date
from fundapp.core.formatting import money_filter
from fundapp.core.forms import apply_errors
from fundapp.core.security import Role, roles_required
from fundapp.domain.errors import DomainError, ValidationFailed
from fundapp.extensions import db
from fundapp.loans.models import Loan
from fundapp.support import services
from fundapp.support.forms import ClaimForm, EnrolForm, PaymentForm, SchemeForm, StopForm
from fundapp.support.models import SupportClaim, SupportScheme

bp = Blueprint("support", __name__, url_prefix="/support")

READERS = (Role.DIRECTOR, Role.ACCOUNTANT, Role.CONTROLLER, Role.OFFICER)


@bp.route("/")
@roles_required(*READERS)
def index() -> Any:
    today = business_date()
    return render_template(
        "support/index.html",
        schemes=services.schemes(),
        claims=services.claims(),
        receivable=services.receivable(today),
        labels=services.CLAIM_STATUS_LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.DIRECTOR)
def new() -> Any:
    form = SchemeForm()
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in form.data if name != "csrf_token"}
        try:
            scheme = services.create_scheme(current_user, data)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            return render_template("support/new.html", form=form), 422
        db.session.commit()
        flash(_("Đã tạo chương trình hỗ trợ lãi suất %(c)s.", c=scheme.code), "success")
        return redirect(url_for(".scheme", scheme_id=scheme.id))
    return render_template("support/new.html", form=form)


def _default_period_to(today: date) -> date:
    """The last day of the month before the business date's."""
    return today.replace(day=1) - timedelta(days=1)


def _scheme_page(chosen: SupportScheme, status: int = 200, **forms: Any) -> Any:
    today = business_date()
    enrolled = services.enrolled(chosen.id)
    claim_form = forms.get("claim_form") or ClaimForm(prefix="claim")
    if not claim_form.period_to.data:
        claim_form.period_to.data = _default_period_to(today).strftime("%d/%m/%Y")
    return render_template(
        "support/scheme.html",
        scheme=chosen,
        enrolled=enrolled,
        claims=services.claims(chosen.id),
        enrol_form=forms.get("enrol_form") or EnrolForm(prefix="enrol"),
        claim_form=claim_form,
        stop_form=StopForm(prefix="stop"),
        payment_form=PaymentForm(prefix="pay"),
        labels=services.CLAIM_STATUS_LABELS,
        share=services.share_label(chosen.share),
        next_from=services.next_period_from(chosen),
    ), status


@bp.route("/<int:scheme_id>")
@roles_required(*READERS)
def scheme(scheme_id: int) -> Any:
    return _scheme_page(db.get_or_404(SupportScheme, scheme_id))


@bp.route("/<int:scheme_id>/enrol", methods=["POST"])
@roles_required(Role.DIRECTOR)
def enrol(scheme_id: int) -> Any:
    chosen = db.get_or_404(SupportScheme, scheme_id)
    form = EnrolForm(prefix="enrol")
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return _scheme_page(chosen, 422, enrol_form=form)
    contract = (form.contract_no.data or "").strip()[:40]
    loan = db.session.scalar(
        select(Loan).where(Loan.contract_no == contract, Loan.origin_fund_id.is_(None))
    )
    try:
        if loan is None:
            raise ValidationFailed(
                _("Không tìm thấy hợp đồng %(c)s.", c=contract),
                {"contract_no": _("Không tìm thấy hợp đồng %(c)s.", c=contract)},
            )
        first = validation.one_date(form.first_due.data, "first_due", required=False)
        services.enrol(current_user, loan.id, chosen.id, business_date(), first)
    except DomainError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _scheme_page(chosen, 422, enrol_form=form)
    db.session.commit()
    flash(_("Khoản vay %(c)s được hỗ trợ lãi suất.", c=loan.contract_no), "success")
    return redirect(url_for(".scheme", scheme_id=chosen.id))


@bp.route("/loans/<int:loan_id>/stop", methods=["POST"])
@roles_required(Role.DIRECTOR)
def stop(loan_id: int) -> Any:
    loan = db.get_or_404(Loan, loan_id)
    scheme_id = (loan.support_terms or {}).get("scheme_id")
    back = url_for(".scheme", scheme_id=scheme_id) if scheme_id else url_for(".index")
    form = StopForm(prefix="stop")
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return redirect(back)
    try:
        last_due = validation.one_date(form.last_due.data, "last_due")
        assert last_due is not None
        services.stop(current_user, loan.id, last_due, business_date(), form.reason.data or "")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        for message in exc.fields.values():
            if message != exc.message:
                flash(message, "error")
        return redirect(back)
    db.session.commit()
    flash(_("Đã dừng hỗ trợ lãi suất khoản vay %(c)s.", c=loan.contract_no), "success")
    return redirect(back)


@bp.route("/<int:scheme_id>/claims", methods=["POST"])
@roles_required(Role.ACCOUNTANT, Role.DIRECTOR)
def submit(scheme_id: int) -> Any:
    chosen = db.get_or_404(SupportScheme, scheme_id)
    form = ClaimForm(prefix="claim")
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return _scheme_page(chosen, 422, claim_form=form)
    try:
        period_to = validation.one_date(form.period_to.data, "period_to")
        assert period_to is not None
        claim = services.submit_claim(
            current_user, chosen.id, period_to, business_date(), form.note.data or ""
        )
    except DomainError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _scheme_page(chosen, 422, claim_form=form)
    db.session.commit()
    flash(
        _(
            "Đã lập hồ sơ đề nghị cấp bù %(r)s: %(a)s.",
            r=claim.reference,
            a=money_filter(claim.amount),
        ),
        "success",
    )
    return redirect(url_for("reports.support_claim", scheme=chosen.code, claim=claim.reference))


@bp.route("/claims/<int:claim_id>/paid", methods=["POST"])
@roles_required(Role.ACCOUNTANT)
def paid(claim_id: int) -> Any:
    found = db.session.get(SupportClaim, claim_id) or abort(404)
    back = url_for(".scheme", scheme_id=found.scheme_id)
    form = PaymentForm(prefix="pay")
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return redirect(back)
    try:
        paid_on = validation.one_date(form.paid_on.data, "paid_on")
        assert paid_on is not None
        services.record_payment(
            current_user, found.id, paid_on, form.reference.data or "", business_date()
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    flash(_("Đã ghi nhận tiền cấp bù của hồ sơ %(r)s.", r=found.reference), "success")
    return redirect(back)
