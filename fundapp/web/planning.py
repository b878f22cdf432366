"""The fund's annual plan: the list, the accountant's form and the director's approval;
plan against actual is the report ``reports.plan_actual``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fundapp.core.dates import business_date
from fundapp.core.forms import apply_errors
from fundapp.core.security import STAFF_READ, Role, roles_required
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.planning import services
from fundapp.planning.forms import ApproveForm, PlanForm
from fundapp.planning.models import AnnualPlan

bp = Blueprint("planning", __name__, url_prefix="/plans")


def _amounts(form: PlanForm) -> dict[str, str]:
    return {d.code: getattr(form, d.code).data or "" for d in services.LINES}


def _fields(form: PlanForm) -> list[tuple[str, list[Any]]]:
    """The form's line fields grouped by section, in the plan's order."""
    titles = {
        "lending": _("Hoạt động cho vay"),
        "sources": _("Nguồn vốn"),
        "income": _("Thu nhập"),
        "expense": _("Chi phí"),
    }
    return [
        (title, [getattr(form, d.code) for d in services.LINES if d.section == section])
        for section, title in titles.items()
    ]


@bp.route("/")
@roles_required(*STAFF_READ)
def index() -> Any:
    return render_template("planning/index.html", plans=services.all_plans(), today=business_date())


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ACCOUNTANT)
def new() -> Any:
    form = PlanForm()
    if not form.is_submitted():
        form.year.data = str(business_date().year + 1)
    if form.validate_on_submit():
        try:
            plan = services.create(current_user, form.year.data, _amounts(form), form.note.data)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            return render_template(
                "planning/form.html", form=form, plan=None, sections=_fields(form)
            ), 422
        db.session.commit()
        flash(_("Đã lập kế hoạch năm %(y)s (bản nháp).", y=plan.year), "success")
        return redirect(url_for(".edit", plan_id=plan.id))
    return render_template("planning/form.html", form=form, plan=None, sections=_fields(form))


def _page(plan: AnnualPlan, form: PlanForm, status: int = 200) -> Any:
    return render_template(
        "planning/form.html",
        form=form,
        plan=plan,
        sections=_fields(form),
        approve_form=ApproveForm(prefix="approve"),
    ), status


@bp.route("/<int:plan_id>")
@roles_required(*STAFF_READ)
def edit(plan_id: int) -> Any:
    plan = db.get_or_404(AnnualPlan, plan_id)
    form = PlanForm(formdata=None)
    form.year.data = str(plan.year)
    form.note.data = plan.note
    for code, amount in services.amounts_of(plan).items():
        grouped = f"{amount:,}".replace(",", ".")
        bp_line = services.BY_CODE[code].unit == services.BASIS_POINTS
        getattr(form, code).data = str(amount) if bp_line else grouped
    return _page(plan, form)


@bp.route("/<int:plan_id>", methods=["POST"])
@roles_required(Role.ACCOUNTANT)
def save(plan_id: int) -> Any:
    plan = db.get_or_404(AnnualPlan, plan_id)
    form = PlanForm()
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return _page(plan, form, 422)
    try:
        services.update(current_user, plan, _amounts(form), form.note.data)
    except DomainError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _page(plan, form, 422)
    db.session.commit()
    flash(_("Đã lưu kế hoạch năm %(y)s.", y=plan.year), "success")
    return redirect(url_for(".edit", plan_id=plan.id))


@bp.route("/<int:plan_id>/approve", methods=["POST"])
@roles_required(Role.DIRECTOR)
def approve(plan_id: int) -> Any:
    plan = db.get_or_404(AnnualPlan, plan_id)
    if not ApproveForm(prefix="approve").validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return redirect(url_for(".edit", plan_id=plan.id))
    try:
        services.approve(current_user, plan)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".edit", plan_id=plan.id))
    db.session.commit()
    flash(_("Đã phê duyệt kế hoạch năm %(y)s.", y=plan.year), "success")
    return redirect(url_for(".edit", plan_id=plan.id))
