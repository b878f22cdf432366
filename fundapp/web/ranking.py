"""The director records the year's A/B/C self-assessment; the assessment itself is the
report ``reports.ranking`` (page, PDF, Excel), whose page holds this form."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField

from fundapp.core.dates import business_date
from fundapp.core.security import Role, roles_required
from fundapp.domain.errors import DomainError
from fundapp.domain.ranking import COMPLIANCE, COMPLIANCE_CODES
from fundapp.extensions import db
from fundapp.planning.services import MAX_YEAR, MIN_YEAR
from fundapp.reports import ranking

bp = Blueprint("ranking", __name__, url_prefix="/ranking")


class RankingForm(FlaskForm):
    """One checkbox per compliance item (named by its code) and the note; the service
    checks them."""

    note = TextAreaField(_l("Ghi chú"))


for _item in COMPLIANCE:
    setattr(RankingForm, _item.code, BooleanField(_l(_item.label)))


@bp.route("/<int:year>", methods=["POST"])
@roles_required(Role.DIRECTOR)
def record(year: int) -> Any:
    if not MIN_YEAR <= year <= MAX_YEAR:
        flash(_("Năm không hợp lệ."), "error")
        return redirect(url_for("reports.ranking"))
    back = url_for("reports.ranking", year=year)
    form = RankingForm()
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return redirect(back)
    answers = {code: bool(getattr(form, code).data) for code in COMPLIANCE_CODES}
    try:
        saved = ranking.record(current_user, year, answers, form.note.data, business_date())
    except DomainError as exc:
        db.session.rollback()
        fields = getattr(exc, "fields", None) or {}
        page = render_template(
            "ranking/refused.html", year=year, message=exc.message, fields=fields, back=back
        )
        return page, exc.status_code
    db.session.commit()
    flash(
        _("Đã ghi nhận kết quả tự đánh giá năm %(y)s: loại %(r)s.", y=year, r=saved.rank),
        "success",
    )
    return redirect(back)
