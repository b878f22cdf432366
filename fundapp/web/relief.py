"""Interest relief (miễn, giảm lãi) and removal from off-balance tracking (xuất toán) on the
web: the loan's relief page (request, history, decisions), the request panel of the loan
page, and the decisions of the approvals page. The rules are in relief.py and risk.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import SelectField, StringField, TextAreaField

from fundapp.core.dates import business_date
from fundapp.core.formatting import money_filter
from fundapp.core.forms import apply_errors
from fundapp.core.security import STAFF_READ, Role, has_role, roles_required
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.lending.lifecycle import STATUS_LABELS
from fundapp.loans.models import Loan, LoanStatus
from fundapp.loans.relief import InterestRelief, OffBalanceRemoval
from fundapp.servicing import relief as reliefs
from fundapp.servicing import risk

bp = Blueprint("relief", __name__)


class ReliefForm(FlaskForm):
    FIELDS = ("kind", "reason_code", "interest", "penalty", "reason", "evidence")

    kind = SelectField(_l("Hình thức"), choices=[], validate_choice=False)
    reason_code = SelectField(_l("Lý do"), choices=[], validate_choice=False)
    interest = StringField(_l("Lãi trong hạn đến hạn được miễn, giảm (đồng)"))
    penalty = StringField(_l("Lãi quá hạn, lãi chậm trả được miễn, giảm (đồng)"))
    reason = TextAreaField(_l("Giải trình"))
    evidence = TextAreaField(_l("Hồ sơ, chứng từ chứng minh"))

    def fill_choices(self) -> None:
        self.kind.choices = [(k.value, _(v)) for k, v in reliefs.KIND_LABELS.items()]
        self.reason_code.choices = [(k.value, _(v)) for k, v in reliefs.REASON_LABELS.items()]


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Ý kiến, lý do"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Lý do"))


@dataclass(frozen=True)
class Panel:
    """What the loan page shows of relief for the signed-in user."""

    loan: Loan
    can_request: bool
    waivable: reliefs.Waivable | None
    pending: int
    form: ReliefForm | None


@bp.app_template_global("relief_panel")
def relief_panel(loan: Loan) -> Panel:
    can = loan.status == LoanStatus.ACTIVE and has_role(current_user, Role.OFFICER)
    form = None
    can_see = None
    if can:
        form = ReliefForm(prefix="relief", formdata=None)
        form.fill_choices()
        try:
            can_see = reliefs.waivable(loan, business_date())
        except DomainError:
            can_see = None
    pending = db.session.scalar(
        select(func.count())
        .select_from(InterestRelief)
        .where(InterestRelief.loan_id == loan.id, InterestRelief.status == "pending")
    )
    return Panel(loan, can, can_see, pending, form)


def _loan(loan_id: int) -> Loan:
    return db.get_or_404(Loan, loan_id)


def _page(loan_id: int, forms: dict[str, FlaskForm] | None = None, status: int = 200) -> Any:
    loan = _loan(loan_id)
    today = business_date()
    forms = forms or {}
    form = forms.get("relief")
    if form is None:
        form = ReliefForm(prefix="relief", formdata=None)
    form.fill_choices()
    try:
        can_waive: reliefs.Waivable | None = reliefs.waivable(loan, today)
    except DomainError:
        can_waive = None
    handling = risk.risk_handling_of(loan.id)
    items = reliefs.reliefs_of(loan.id)
    removals = risk.removals_of(loan.id)
    return (
        render_template(
            "relief/loan.html",
            loan=loan,
            today=today,
            waivable=can_waive,
            limit=reliefs.director_limit(today),
            reliefs=items,
            may_decide={r.id: reliefs.may_decide(current_user, r, today) for r in items},
            kinds=reliefs.KIND_LABELS,
            reasons=reliefs.REASON_LABELS,
            statuses=reliefs.STATUS_LABELS,
            loan_statuses=STATUS_LABELS,
            can_request=loan.status == LoanStatus.ACTIVE and has_role(current_user, Role.OFFICER),
            form=form,
            note_form=NoteForm(prefix="decide", formdata=None),
            handling=handling,
            removable_from=risk.removable_from(handling[1]) if handling else None,
            removals=removals,
            can_propose_removal=loan.status == LoanStatus.WRITTEN_OFF
            and has_role(current_user, Role.DIRECTOR)
            and not any(r.status == "pending" for r in removals),
            can_decide_removal=has_role(current_user, Role.BOARD),
            removal_form=forms.get("removal") or ReasonForm(prefix="removal", formdata=None),
        ),
        status,
    )


def _back(default: str) -> Any:
    """Back to the approvals page when the decision was made there, else ``default``."""
    if request.form.get("back") == "approvals":
        return redirect(url_for("loans.approvals"))
    return redirect(default)


@bp.route("/loans/<int:loan_id>/relief")
@roles_required(*STAFF_READ)
def loan_page(loan_id: int) -> Any:
    return _page(loan_id)


@bp.route("/loans/<int:loan_id>/relief", methods=["POST"])
@roles_required(Role.OFFICER)
def request_relief(loan_id: int) -> Any:
    _loan(loan_id)
    form = ReliefForm(prefix="relief")
    form.fill_choices()
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return _page(loan_id, {"relief": form}, 400)
    data = {name: getattr(form, name).data for name in ReliefForm.FIELDS}
    try:
        item = reliefs.request_relief(current_user, loan_id, data, business_date())
    except DomainError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _page(loan_id, {"relief": form}, exc.status_code)
    db.session.commit()
    flash(
        _(
            "Đã gửi đề nghị miễn, giảm lãi %(a)s. Chờ Giám đốc hoặc Hội đồng quản lý phê duyệt.",
            a=money_filter(item.total),
        ),
        "success",
    )
    return redirect(url_for(".loan_page", loan_id=loan_id))


def _decide(
    model: type[InterestRelief | OffBalanceRemoval],
    item_id: int,
    approve_it: bool,
    decide: Callable[[Any, int, bool, str, date], Any],
    done: Callable[[Any], str],
) -> Any:
    """A checker's decision from the relief page or the approvals page: ``decide`` is the
    service, ``done`` the message of its success (read after the commit)."""
    item = db.get_or_404(model, item_id)
    loan_id = item.loan_id
    form = NoteForm(prefix="decide")
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return _back(url_for(".loan_page", loan_id=loan_id))
    try:
        decide(current_user, item.id, approve_it, form.note.data or "", business_date())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back(url_for(".loan_page", loan_id=loan_id))
    db.session.commit()
    flash(done(item), "success")
    return _back(url_for(".loan_page", loan_id=loan_id))


@bp.route("/interest-reliefs/<int:relief_id>/approve", methods=["POST"])
@roles_required(Role.DIRECTOR, Role.BOARD)
def approve_relief(relief_id: int) -> Any:
    return _decide(
        InterestRelief,
        relief_id,
        True,
        reliefs.decide_relief,
        lambda item: _("Đã phê duyệt miễn, giảm lãi %(a)s.", a=money_filter(item.total)),
    )


@bp.route("/interest-reliefs/<int:relief_id>/reject", methods=["POST"])
@roles_required(Role.DIRECTOR, Role.BOARD)
def reject_relief(relief_id: int) -> Any:
    return _decide(
        InterestRelief,
        relief_id,
        False,
        reliefs.decide_relief,
        lambda _item: _("Đã từ chối đề nghị miễn, giảm lãi."),
    )


@bp.route("/loans/<int:loan_id>/removals", methods=["POST"])
@roles_required(Role.DIRECTOR)
def propose_removal(loan_id: int) -> Any:
    _loan(loan_id)
    form = ReasonForm(prefix="removal")
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return _page(loan_id, {"removal": form}, 400)
    try:
        risk.propose_removal(current_user, loan_id, form.reason.data or "", business_date())
    except DomainError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _page(loan_id, {"removal": form}, exc.status_code)
    db.session.commit()
    flash(_("Đã đề nghị xuất toán khỏi ngoại bảng. Chờ Hội đồng quản lý phê duyệt."), "success")
    return redirect(url_for(".loan_page", loan_id=loan_id))


@bp.route("/removals/<int:removal_id>/approve", methods=["POST"])
@roles_required(Role.BOARD)
def approve_removal(removal_id: int) -> Any:
    return _decide(
        OffBalanceRemoval,
        removal_id,
        True,
        risk.decide_removal,
        lambda _item: _("Đã xuất toán khoản vay khỏi ngoại bảng."),
    )


@bp.route("/removals/<int:removal_id>/reject", methods=["POST"])
@roles_required(Role.BOARD)
def reject_removal(removal_id: int) -> Any:
    return _decide(
        OffBalanceRemoval,
        removal_id,
        False,
        risk.decide_removal,
        lambda _item: _("Đã từ chối đề nghị xuất toán."),
    )


def approval_items(today: date) -> dict[str, Any]:
    """The approvals page's pending reliefs and removals, with who may decide each."""
    pending = reliefs.pending_reliefs()
    removals = risk.pending_removals()
    return {
        "interest_reliefs": pending,
        "relief_may_decide": {r.id: reliefs.may_decide(current_user, r, today) for r in pending},
        "removals": removals,
        "removal_may_decide": {
            r.id: has_role(current_user, Role.BOARD) and r.proposed_by_id != current_user.id
            for r in removals
        },
        "relief_note_form": NoteForm(prefix="decide", formdata=None),
        "relief_kinds": reliefs.KIND_LABELS,
        "relief_reasons": reliefs.REASON_LABELS,
    }
