"""The accountant's review of the collection account's statements: upload a statement, look
at how each credit was matched and why, confirm, assign, clear or ignore it, send the
confirmed lines to posting; the director approves or refuses a batch
(``fundapp.banking``, docs/rules.md#bank-statement-import-and-matching)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select
from wtforms import SelectField, StringField, TextAreaField

from fundapp.banking import posting, services
from fundapp.banking.models import BankBatch, BankLine, BankStatement
from fundapp.banking.parsers import MAX_BYTES, PRESETS
from fundapp.core.dates import business_date
from fundapp.core.formatting import money_filter
from fundapp.core.security import Role, roles_required
from fundapp.domain.errors import DomainError, ValidationFailed
from fundapp.extensions import db
from fundapp.lending.uploads import clean_name
from fundapp.loans.models import Loan

bp = Blueprint("banking", __name__, url_prefix="/bank")

READERS = (Role.ACCOUNTANT, Role.DIRECTOR, Role.CONTROLLER)
METHOD_LABELS = {
    "reference": _l("Mã thanh toán"),
    "contract": _l("Số hợp đồng"),
    "borrower": _l("Tên, mã số thuế khách hàng"),
    "amount": _l("Số tiền đến hạn"),
    "manual": _l("Kế toán chọn"),
    "none": _l("Chưa khớp"),
}
STATUS_LABELS = {
    "matched": _l("Đã khớp, chờ xác nhận"),
    "unmatched": _l("Chưa khớp"),
    "confirmed": _l("Đã xác nhận"),
    "ignored": _l("Bỏ qua"),
    "duplicate": _l("Trùng (đã ghi nhận)"),
    "posted": _l("Đã ghi thu nợ"),
}
BATCH_LABELS = {
    "pending": _l("Chờ Giám đốc duyệt"),
    "posted": _l("Đã ghi thu nợ"),
    "rejected": _l("Bị từ chối"),
}


class UploadForm(FlaskForm):
    bank = SelectField(_l("Ngân hàng"), choices=[], validate_choice=False)
    file = FileField(_l("Tệp sao kê (CSV hoặc Excel)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bank.choices = [(code, code) for code in sorted(PRESETS)]


class LineForm(FlaskForm):
    action = SelectField(_l("Thao tác"), choices=[], validate_choice=False)
    contract_no = StringField(_l("Số hợp đồng"))
    note = StringField(_l("Lý do"))


class PostForm(FlaskForm):
    pass


class DecideForm(FlaskForm):
    reason = TextAreaField(_l("Lý do"))


def _statement_page(statement: BankStatement, status: int = 200) -> Any:
    lines = services.statement_lines(statement.id)
    contracts = dict(
        db.session.execute(
            select(Loan.id, Loan.contract_no).where(
                Loan.id.in_({line.loan_id for line in lines if line.loan_id})
            )
        ).all()
    )
    batches = db.session.scalars(
        select(BankBatch).where(BankBatch.statement_id == statement.id).order_by(BankBatch.id)
    ).all()
    confirmed = [line for line in lines if line.status == "confirmed" and line.batch_id is None]
    return render_template(
        "banking/statement.html",
        statement=statement,
        lines=lines,
        contracts=contracts,
        batches=batches,
        ready=len(confirmed),
        ready_total=sum(line.amount for line in confirmed),
        methods=METHOD_LABELS,
        statuses=STATUS_LABELS,
        batch_labels=BATCH_LABELS,
        line_form=LineForm(),
        post_form=PostForm(prefix="post"),
        decide_form=DecideForm(prefix="decide"),
    ), status


def _refused(exc: DomainError) -> None:
    """The service's message(s) flashed, the transaction rolled back: nothing changed."""
    db.session.rollback()
    flash(exc.message, "error")
    for message in exc.fields.values():
        if message != exc.message:
            flash(message, "error")


@bp.route("/")
@roles_required(*READERS)
def index() -> Any:
    return _index_page()


def _index_page(form: UploadForm | None = None, status: int = 200) -> Any:
    statements = db.session.scalars(
        select(BankStatement).order_by(BankStatement.id.desc()).limit(50)
    ).all()
    unmatched = db.session.scalar(
        select(func.count(BankLine.id)).where(BankLine.status.in_(("unmatched", "matched")))
    )
    pending = db.session.scalars(
        select(BankBatch).where(BankBatch.status == "pending").order_by(BankBatch.id)
    ).all()
    return render_template(
        "banking/index.html",
        statements=statements,
        open_lines=int(unmatched or 0),
        pending=pending,
        form=form or UploadForm(),
    ), status


@bp.route("/upload", methods=["POST"])
@roles_required(Role.ACCOUNTANT)
def upload() -> Any:
    form = UploadForm()
    storage = form.file.data
    if not form.validate_on_submit() or storage is None or not getattr(storage, "filename", ""):
        flash(_("Chọn ngân hàng và tệp sao kê."), "error")
        return _index_page(form, 422)
    data = storage.stream.read(MAX_BYTES + 1)
    try:
        result = services.import_statement(
            current_user, form.bank.data or "", clean_name(storage.filename), data
        )
    except DomainError as exc:
        _refused(exc)
        return _index_page(form, 422)
    db.session.commit()
    if result.new:
        flash(
            _(
                "Đã nhập %(n)s khoản ghi có: %(m)s khớp, %(u)s chưa khớp, %(d)s trùng.",
                n=result.credits,
                m=result.matched,
                u=result.unmatched,
                d=result.duplicates,
            ),
            "success",
        )
    else:
        flash(_("Tệp này đã được nhập trước đây; không có gì thay đổi."), "info")
    return redirect(url_for(".statement", statement_id=result.statement.id))


@bp.route("/statements/<int:statement_id>")
@roles_required(*READERS)
def statement(statement_id: int) -> Any:
    return _statement_page(db.get_or_404(BankStatement, statement_id))


@bp.route("/lines/<int:line_id>", methods=["POST"])
@roles_required(Role.ACCOUNTANT)
def correct(line_id: int) -> Any:
    line = db.get_or_404(BankLine, line_id)
    back = url_for(".statement", statement_id=line.statement_id, _anchor=f"line-{line.id}")
    form = LineForm()
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return _statement_page(line.statement, 422)
    action = form.action.data or ""
    loan_id = None
    try:
        if action == "assign":
            contract = (form.contract_no.data or "").strip()[:40]
            loan_id = db.session.scalar(select(Loan.id).where(Loan.contract_no == contract))
            if loan_id is None:
                message = _("Không tìm thấy hợp đồng %(c)s.", c=contract)
                raise ValidationFailed(message, {"contract_no": message})
        services.correct_line(current_user, line.id, action, loan_id, None, form.note.data or "")
    except DomainError as exc:
        _refused(exc)
        return _statement_page(db.session.get(BankStatement, line.statement_id), 422)
    db.session.commit()
    flash(_("Đã cập nhật dòng %(n)s.", n=line.line_no), "success")
    return redirect(back)


@bp.route("/statements/<int:statement_id>/post", methods=["POST"])
@roles_required(Role.ACCOUNTANT)
def post(statement_id: int) -> Any:
    found = db.get_or_404(BankStatement, statement_id)
    back = url_for(".statement", statement_id=found.id)
    if not PostForm(prefix="post").validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return redirect(back)
    try:
        result = posting.post_batch(current_user, found.id, business_date())
    except DomainError as exc:
        _refused(exc)
        return _statement_page(db.session.get(BankStatement, statement_id), 422)
    db.session.commit()
    _flash_batch(result)
    return redirect(back)


def _flash_batch(result: posting.BatchResult) -> None:
    batch = result.batch
    if batch.status == "pending":
        flash(
            _(
                "Lô %(n)s dòng, %(t)s chờ Giám đốc duyệt.",
                n=batch.lines,
                t=money_filter(batch.total),
            ),
            "success",
        )
        return
    flash(
        _("Đã ghi thu nợ %(p)s dòng; %(f)s dòng không ghi được.", p=batch.posted, f=batch.failed),
        "success" if not batch.failed else "warning",
    )
    for outcome in result.outcomes:
        if outcome.error:
            flash(f"{outcome.txn_id}: {outcome.error}", "error")


def _decide(batch_id: int, approve: bool) -> Any:
    batch = db.get_or_404(BankBatch, batch_id)
    back = url_for(".statement", statement_id=batch.statement_id)
    form = DecideForm(prefix="decide")
    statement_id = batch.statement_id
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
        return redirect(back)
    try:
        if approve:
            result = posting.approve_batch(current_user, batch.id, business_date())
        else:
            posting.reject_batch(current_user, batch.id, form.reason.data or "")
    except DomainError as exc:
        _refused(exc)
        return _statement_page(db.session.get(BankStatement, statement_id), 422)
    db.session.commit()
    if approve:
        _flash_batch(result)
    else:
        flash(_("Đã từ chối lô; các dòng vẫn ở trạng thái đã xác nhận."), "success")
    return redirect(back)


@bp.route("/batches/<int:batch_id>/approve", methods=["POST"])
@roles_required(Role.DIRECTOR)
def approve(batch_id: int) -> Any:
    return _decide(batch_id, True)


@bp.route("/batches/<int:batch_id>/reject", methods=["POST"])
@roles_required(Role.DIRECTOR)
def reject(batch_id: int) -> Any:
    return _decide(batch_id, False)


@bp.route("/unmatched")
@roles_required(*READERS)
def unmatched() -> Any:
    return render_template(
        "banking/unmatched.html",
        lines=services.unmatched_lines(),
        statuses=STATUS_LABELS,
    )
