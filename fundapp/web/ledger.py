from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from fundapp.cooperatives.models import Cooperative
from fundapp.core import lists, validation
from fundapp.core.dates import business_date
from fundapp.core.forms import apply_errors, page_arg
from fundapp.core.security import STAFF_READ, Role, roles_required
from fundapp.domain.errors import DomainError, ValidationFailed
from fundapp.extensions import db
from fundapp.funds.services import code_of
from fundapp.ledger import services
from fundapp.ledger.accounts import ACCOUNTS
from fundapp.ledger.forms import SOURCE_LABELS, CapitalEntryForm
from fundapp.ledger.models import CapitalEntry, JournalEntry, JournalLine
from fundapp.loans.models import Loan
from fundapp.servicing.close_day import closed_day_warning

bp = Blueprint("ledger", __name__)


@bp.route("/fund")
@roles_required(*STAFF_READ)
def overview() -> Any:
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


CAPITAL_SORTS: dict[str, tuple[Any, ...]] = {
    "date": (CapitalEntry.entry_date,),
    "source": (CapitalEntry.source,),
    "amount": (CapitalEntry.amount,),
    "reference": (CapitalEntry.reference,),
}


def capital_columns() -> list[lists.Column]:
    return [
        lists.Column(_("Ngày nhận"), "date", width=13),
        lists.Column(_("Nguồn vốn"), width=24),
        lists.Column(_("Bên ủy thác"), width=28),
        lists.Column(_("Số tiền"), "money"),
        lists.Column(_("Số chứng từ"), width=16),
        lists.Column(_("Ghi chú"), width=36),
        lists.Column(_("Bút toán"), "int", width=10),
    ]


@bp.route("/capital")
@roles_required(*STAFF_READ)
def capital() -> Any:
    errors: dict[str, str] = {}
    start, end = lists.date_range(errors)
    source = request.args.get("source", "")
    source = source if source in SOURCE_LABELS else ""
    q = request.args.get("q", "").strip()[:100]
    where: list[Any] = lists.within(CapitalEntry.entry_date, start, end)
    if source:
        where.append(CapitalEntry.source == source)
    if q:
        where.append(lists.contains(CapitalEntry.search_key, q))
    sort = lists.sort_arg(CAPITAL_SORTS, "date", descending=True)
    query = select(CapitalEntry).where(*where)
    query = query.order_by(*lists.order_by(sort, CAPITAL_SORTS, CapitalEntry.id))
    labels = {k: str(v) for k, v in SOURCE_LABELS.items()}
    if lists.wants_xlsx():
        rows = (
            (
                e.entry_date,
                labels.get(e.source, e.source),
                e.source_name,
                e.amount,
                e.reference,
                e.note,
                e.journal_entry_id,
            )
            for e in db.session.scalars(query.limit(lists.EXPORT_LIMIT))
        )
        return lists.xlsx_response("nguon-von", _("Nguồn vốn"), capital_columns(), rows)
    page = db.paginate(
        query, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    total = db.session.scalar(select(func.coalesce(func.sum(CapitalEntry.amount), 0)).where(*where))
    filters = {
        "from": request.args.get("from", "") if start else "",
        "to": request.args.get("to", "") if end else "",
        "source": source,
        "q": q,
    }
    return render_template(
        "ledger/capital.html",
        page=page,
        labels=SOURCE_LABELS,
        origin_code=code_of,
        listing=lists.Listing("ledger.capital", sort, filters),
        filters=filters,
        errors=errors,
        total=int(total or 0),
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
            warning = closed_day_warning(entry_date, business_date(), "capital")
            if warning:
                flash(warning, "warning")
            return redirect(url_for(".capital"))
    return render_template("ledger/capital_form.html", form=form)


JOURNAL_SORTS: dict[str, tuple[Any, ...]] = {
    "date": (JournalEntry.entry_date,),
    "number": (),
    "kind": (JournalEntry.kind, JournalEntry.entry_date),
}


def journal_columns() -> list[lists.Column]:
    return [
        lists.Column(_("Ngày"), "date", width=13),
        lists.Column(_("Số"), "int", width=9),
        lists.Column(_("Nghiệp vụ"), width=24),
        lists.Column(_("Diễn giải"), width=40),
        lists.Column(_("Chứng từ"), width=16),
        lists.Column(_("Tài khoản"), width=10),
        lists.Column(_("Tên tài khoản"), width=32),
        lists.Column(_("Nợ"), "money"),
        lists.Column(_("Có"), "money"),
    ]


def _journal_filters(errors: dict[str, str]) -> tuple[list[Any], list[Any], dict[str, str]]:
    """The journal's filters: the entries' conditions, the lines' (an account, a loan), and
    the values to show again."""
    start, end = lists.date_range(errors)
    account = request.args.get("account", "")
    account = account if account in ACCOUNTS else ""
    kind = request.args.get("kind", "")[:40]
    loan_no = request.args.get("loan", "").strip()[:40]
    entries: list[Any] = lists.within(JournalEntry.entry_date, start, end)
    lines: list[Any] = []
    if kind:
        entries.append(JournalEntry.kind == kind)
    if account:
        lines.append(JournalLine.account == account)
    if loan_no:
        loan_ids = select(Loan.id).where(func.upper(Loan.contract_no) == loan_no.upper())
        lines.append(JournalLine.loan_id.in_(loan_ids))
    if lines:
        entries.append(JournalEntry.id.in_(select(JournalLine.entry_id).where(*lines)))
    shown = {
        "from": request.args.get("from", "") if start else "",
        "to": request.args.get("to", "") if end else "",
        "account": account,
        "kind": kind,
        "loan": loan_no,
    }
    return entries, lines, shown


@bp.route("/journal")
@roles_required(*STAFF_READ)
def journal() -> Any:
    errors: dict[str, str] = {}
    where, line_where, filters = _journal_filters(errors)
    sort = lists.sort_arg(JOURNAL_SORTS, "date", descending=True)
    query = select(JournalEntry).where(*where)
    query = query.order_by(*lists.order_by(sort, JOURNAL_SORTS, JournalEntry.id))
    if lists.wants_xlsx():
        kind_label = get_template_attribute("ledger/_journal.html", "kind_label")

        def rows() -> Any:
            for entry in db.session.scalars(query.limit(lists.EXPORT_LIMIT)):
                for line in entry.lines:
                    account = ACCOUNTS.get(line.account)
                    yield (
                        entry.entry_date,
                        entry.id,
                        str(kind_label(entry.kind)).strip(),
                        entry.description,
                        entry.reference,
                        line.account,
                        str(account.name) if account else "",
                        line.debit or None,
                        line.credit or None,
                    )

        return lists.xlsx_response("nhat-ky", _("Nhật ký kế toán"), journal_columns(), rows())
    page = db.paginate(
        query, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    # Totals of the filtered lines: of one account's lines when an account is chosen (its
    # movement over the period), else of every line (debits equal credits).
    debit, credit = db.session.execute(
        select(
            func.coalesce(func.sum(JournalLine.debit), 0),
            func.coalesce(func.sum(JournalLine.credit), 0),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(*where, *line_where)
    ).one()
    kinds = list(
        db.session.scalars(select(JournalEntry.kind).distinct().order_by(JournalEntry.kind))
    )
    return render_template(
        "ledger/journal.html",
        page=page,
        accounts=ACCOUNTS,
        listing=lists.Listing("ledger.journal", sort, filters),
        filters=filters,
        errors=errors,
        kinds=kinds,
        totals={"debit": int(debit), "credit": int(credit)},
    )
