"""Close of day on the web: the runs, what is pending, and a button to catch up now."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select

from fundapp.core.dates import business_date
from fundapp.core.forms import page_arg
from fundapp.core.security import STAFF_READ, Role, roles_required
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.loans.days import CloseDayFailure, CloseDayRun, last_run_date
from fundapp.servicing.close_day import CloseDayResult, pending_dates, run_pending

bp = Blueprint("servicing", __name__, url_prefix="/close-day")

RUNNERS = (Role.ACCOUNTANT, Role.DIRECTOR)
TRIGGER_LABELS = {
    "scheduler": _l("Lịch tự động"),
    "cli": _l("Dòng lệnh"),
    "api": _l("API"),
    "web": _l("Trên web"),
    "demo": _l("Dữ liệu mẫu"),
}
# The counts of a run, in the order shown; provision_change is money (đồng). A count not
# named here is still shown, under its key.
COUNT_LABELS = (
    ("loans_examined", _l("Khoản vay được xét")),
    ("instalments_overdue", _l("Kỳ trả nợ quá hạn")),
    ("instalments_accruing", _l("Kỳ đang tính lãi quá hạn")),
    ("loans_restated", _l("Khoản vay tính lại từ lịch sử (có giao dịch ghi ngày từ ngày khóa sổ)")),
    ("overdue_transfers", _l("Chuyển nợ quá hạn")),
    ("group_changes", _l("Đổi nhóm nợ")),
    ("ledger_entries", _l("Bút toán")),
    ("loans_posted", _l("Khoản vay được hạch toán")),
    ("provision_change", _l("Dự phòng tăng (giảm)")),
    ("notices", _l("Thông báo")),
)
MONEY_COUNTS = frozenset({"provision_change"})
FAILURES_SHOWN = 10


class RunForm(FlaskForm):
    """The button only: the CSRF token and nothing else."""


def _fmt(day: date) -> str:
    return day.strftime("%d/%m/%Y")


@bp.route("/")
@roles_required(*STAFF_READ)
def index() -> Any:
    today = business_date()
    last = last_run_date()
    pending = pending_dates(today)
    query = select(CloseDayRun).order_by(CloseDayRun.business_date.desc())
    page = db.paginate(
        query, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    failures = list(
        db.session.scalars(
            select(CloseDayFailure).order_by(CloseDayFailure.id.desc()).limit(FAILURES_SHOWN)
        )
    )
    closed = set(
        db.session.scalars(
            select(CloseDayRun.business_date).where(
                CloseDayRun.business_date.in_(sorted({f.business_date for f in failures}))
            )
        )
    )
    return render_template(
        "servicing/index.html",
        page=page,
        last=last,
        pending=pending,
        next_date=pending[0] if pending else (last + timedelta(days=1) if last else today),
        failures=failures,
        resolved=closed,
        trigger_labels=TRIGGER_LABELS,
        count_labels=COUNT_LABELS,
        count_keys=frozenset(key for key, _label in COUNT_LABELS),
        money_counts=MONEY_COUNTS,
        close_day_at=current_app.config.get("FUNDAPP_CLOSE_DAY_AT", "00:15"),
        timezone=current_app.config["FUNDAPP_TIMEZONE"],
        form=RunForm(),
    )


def _flash_results(results: list[CloseDayResult], until: date) -> None:
    closed = [r.business_date for r in results if r.ran]
    if closed:
        flash(
            _(
                "Đã khóa sổ %(n)s ngày, từ %(f)s đến %(t)s.",
                n=len(closed),
                f=_fmt(closed[0]),
                t=_fmt(closed[-1]),
            ),
            "success",
        )
    if any(r.reason == "locked" for r in results):
        flash(
            _("Một tiến trình khác đang khóa sổ; các ngày còn lại do tiến trình đó thực hiện."),
            "warning",
        )
    elif not closed:
        flash(
            _("Không còn ngày nào cần khóa sổ: đã khóa sổ đến ngày %(d)s.", d=_fmt(until)), "info"
        )


@bp.route("/run", methods=["POST"])
@roles_required(*RUNNERS)
def run() -> Any:
    form = RunForm()
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang."), "error")
        return redirect(url_for(".index"))
    until = business_date()
    before = last_run_date()
    try:
        results = run_pending(until, "web")
    except Exception as exc:
        # run_pending committed the dates before the failing one and recorded the failure.
        db.session.rollback()
        if not isinstance(exc, DomainError):
            current_app.logger.exception("close of day from the web failed")
        after = last_run_date()
        if after is not None and after != before:
            flash(_("Đã khóa sổ đến ngày %(d)s.", d=_fmt(after)), "success")
        message = exc.message if isinstance(exc, DomainError) else _("lỗi hệ thống")
        flash(
            _(
                "Khóa sổ bị lỗi (%(e)s); ngày lỗi đã được hoàn tác, xem mục Lần khóa sổ bị lỗi.",
                e=message,
            ),
            "error",
        )
        return redirect(url_for(".index"))
    _flash_results(results, until)
    return redirect(url_for(".index"))
