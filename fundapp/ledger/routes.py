from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from fundapp.core import validation
from fundapp.core.dates import business_date
from fundapp.core.errors import DomainError, ValidationFailed
from fundapp.core.forms import apply_errors, page_arg
from fundapp.core.security import STAFF_READ, Role, roles_required
from fundapp.extensions import db
from fundapp.ledger import services
from fundapp.ledger.accounts import ACCOUNTS
from fundapp.ledger.forms import SOURCE_LABELS, CapitalEntryForm
from fundapp.ledger.models import CapitalEntry, JournalEntry

bp = Blueprint("ledger", __name__)


@bp.route("/fund")
@roles_required(*STAFF_READ)
def overview() -> Any:
    from fundapp.cooperatives.models import Cooperative

    position = services.fund_position()
    recent = list(
        db.session.scalars(select(JournalEntry).order_by(JournalEntry.id.desc()).limit(10))
    )
    cooperatives = db.session.scalar(select(func.count(Cooperative.id))) or 0
    return render_template(
        "ledger/overview.html",
        position=position,
        recent=recent,
        cooperatives=cooperatives,
        accounts=ACCOUNTS,
        extra=services.overview_extras(),
    )


@bp.route("/capital")
@roles_required(*STAFF_READ)
def capital() -> Any:
    query = select(CapitalEntry).order_by(CapitalEntry.entry_date.desc(), CapitalEntry.id.desc())
    page = db.paginate(
        query, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    from fundapp.funds.services import code_of

    return render_template(
        "ledger/capital.html", page=page, labels=SOURCE_LABELS, origin_code=code_of
    )


@bp.route("/capital/new", methods=["GET", "POST"])
@roles_required(Role.ACCOUNTANT)
def capital_new() -> Any:
    form = CapitalEntryForm()
    form.fill_choices()
    if not form.is_submitted():
        form.entry_date.data = business_date().strftime("%d/%m/%Y")
    if form.validate_on_submit():
        errors: dict[str, str] = {}
        data = {"amount": form.amount.data, "entry_date": form.entry_date.data}
        amount = validation.amount(data, "amount", errors)
        entry_date = validation.iso_date(data, "entry_date", errors)
        if entry_date and entry_date > business_date():
            errors["entry_date"] = _("Ngày nhận vốn không được sau ngày làm việc hiện tại.")
        try:
            if errors:
                raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
            entry = services.record_capital(
                current_user,
                form.source.data or "",
                amount,
                entry_date,  # type: ignore[arg-type]
                reference=form.reference.data or "",
                note=form.note.data or "",
                source_name=form.source_name.data or "",
                origin_fund=form.origin_fund.data or None,
            )
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "Đã ghi nhận vốn %(amount)s (bút toán số %(no)s).",
                    amount=f"{entry.amount:,}".replace(",", "."),
                    no=entry.journal_entry_id,
                ),
                "success",
            )
            return redirect(url_for(".capital"))
    return render_template("ledger/capital_form.html", form=form)


@bp.route("/journal")
@roles_required(*STAFF_READ)
def journal() -> Any:
    query = select(JournalEntry).order_by(JournalEntry.entry_date.desc(), JournalEntry.id.desc())
    page = db.paginate(
        query, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    return render_template("ledger/journal.html", page=page, accounts=ACCOUNTS)
