"""Applications (hồ sơ vay vốn): work queue, form, documents, appraisal, decision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.routing import BuildError

from fundapp.auth.models import User
from fundapp.cooperatives.models import Cooperative
from fundapp.core import lists
from fundapp.core.dates import business_date
from fundapp.core.formatting import money_filter
from fundapp.core.forms import apply_errors, form_data, page_arg
from fundapp.core.security import STAFF_READ, Role, has_role, roles_required
from fundapp.core.validation import row_id
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.lending import applications, lifecycle, limits, readiness, uploads
from fundapp.lending.application_forms import (
    FREQUENCY_LABELS,
    METHOD_LABELS,
    ApplicationForm,
    AppraiseForm,
    ApproveForm,
    RejectForm,
    SubmitForm,
    UploadForm,
    WithdrawForm,
    grouped,
    plain_rate,
)
from fundapp.loans.models import (
    Application,
    ApplicationDocument,
    ApplicationStatus,
    LoanTransition,
)
from fundapp.policy import services as policy

bp = Blueprint("applications", __name__, url_prefix="/applications")

OFFICER = (Role.OFFICER,)
DECIDERS = (Role.DIRECTOR, Role.BOARD)
STATUSES = [s.value for s in ApplicationStatus]
# Where each role's work waits: officers appraise what was submitted, the director and the
# board decide what was appraised.
QUEUES = (
    (Role.OFFICER, ApplicationStatus.SUBMITTED.value),
    (Role.DIRECTOR, ApplicationStatus.APPRAISED.value),
    (Role.BOARD, ApplicationStatus.APPRAISED.value),
)
OPEN = (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED, ApplicationStatus.APPRAISED)


def _cooperatives() -> list[Cooperative]:
    return list(db.session.scalars(select(Cooperative).order_by(Cooperative.name_key)))


def local_day(value: datetime) -> date:
    """The fund's calendar day of a UTC timestamp (what "submitted on" means to staff)."""
    return value.astimezone(ZoneInfo(current_app.config["FUNDAPP_TIMEZONE"])).date()


def _queue_status() -> str:
    for role, status in QUEUES:
        if has_role(current_user, role):
            return status
    return "all"


# --- list ------------------------------------------------------------------------------------


APPLICATION_SORTS: dict[str, tuple[Any, ...]] = {
    "": (),  # the status's own order (a queue oldest first, else newest first)
    "borrower": (Cooperative.name_key,),
    "project": (Application.project_name,),
    "amount": (Application.requested_amount,),
    "term": (Application.term_months,),
    "status": (Application.status,),
    "submitted": (Application.submitted_at,),
}


def application_columns() -> list[lists.Column]:
    return [
        lists.Column(_("Hợp tác xã"), width=36),
        lists.Column(_("Dự án / phương án"), width=40),
        lists.Column(_("Số tiền đề nghị vay"), "money"),
        lists.Column(_("Thời hạn (tháng)"), "int", width=10),
        lists.Column(_("Trạng thái"), width=16),
        lists.Column(_("Ngày nộp"), "date", width=14),
    ]


def application_row(app: Application) -> tuple[Any, ...]:
    return (
        app.cooperative.name,
        app.project_name,
        app.requested_amount,
        app.term_months,
        _(lifecycle.STATUS_LABELS.get(app.status, app.status)),
        local_day(app.submitted_at) if app.submitted_at else None,
    )


@bp.route("/")
@roles_required(*STAFF_READ)
def index() -> Any:
    queue = _queue_status()
    status = request.args.get("status", "") or queue
    if status not in STATUSES:
        status = "all"
    q = request.args.get("q", "").strip()[:100]
    search = []
    if q:  # the borrower's name or number, or the project, without diacritics or case
        search = [
            or_(
                lists.contains(Cooperative.search_key, q),
                lists.contains(Application.search_key, q),
            )
        ]
    query = select(Application).join(Application.cooperative).where(*search)
    counts = dict(
        db.session.execute(
            select(Application.status, func.count(Application.id))
            .join(Application.cooperative)
            .where(*search)
            .group_by(Application.status)
        ).all()
    )
    if status != "all":
        query = query.where(Application.status == status)
    sort = lists.sort_arg(APPLICATION_SORTS, "", descending=True)
    if sort.key:
        query = query.order_by(*lists.order_by(sort, APPLICATION_SORTS, Application.id))
    elif status in (ApplicationStatus.SUBMITTED, ApplicationStatus.APPRAISED):
        # A queue is worked oldest first.
        query = query.order_by(Application.submitted_at, Application.id)
    else:
        query = query.order_by(Application.id.desc())
    if lists.wants_xlsx():
        rows = db.session.scalars(query.limit(lists.EXPORT_LIMIT))
        return lists.xlsx_response(
            "ho-so-vay", _("Hồ sơ vay vốn"), application_columns(), map(application_row, rows)
        )
    page = db.paginate(
        query, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    return render_template(
        "applications/index.html",
        listing=lists.Listing("applications.index", sort, {"status": status, "q": q}),
        page=page,
        status=status,
        queue=queue,
        q=q,
        counts=counts,
        total=sum(counts.values()),
        statuses=STATUSES,
        labels=lifecycle.STATUS_LABELS,
        local_day=local_day,
    )


# --- create and edit -------------------------------------------------------------------------


def _application_form(app: Application | None = None) -> ApplicationForm:
    form = ApplicationForm()
    form.fill_choices(_cooperatives())
    if request.method == "GET":
        if app is not None:
            form.fill_from(app)
        else:
            form.annual_rate.data = plain_rate(policy.value("default_annual_rate", business_date()))
            form.principal_every_months.data = "1"
            form.interest_every_months.data = "1"
            form.grace_months.data = "0"
            wanted = row_id(request.args.get("cooperative_id", ""))
            if wanted is not None:
                form.cooperative_id.data = str(wanted)
    return form


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*OFFICER)
def create() -> Any:
    form = _application_form()
    if form.validate_on_submit():
        try:
            app = applications.create_application(
                current_user, form_data(form, applications.APPLICATION_FIELDS), business_date()
            )
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(
                _("Đã lập hồ sơ nháp «%(name)s».", name=app.project_name),
                "success",
            )
            return redirect(url_for(".detail", application_id=app.id))
    return _form_page(form, None)


@bp.route("/<int:application_id>/edit", methods=["GET", "POST"])
@roles_required(*OFFICER)
def edit(application_id: int) -> Any:
    app = db.get_or_404(Application, application_id)
    if app.status != ApplicationStatus.DRAFT:
        flash(_("Chỉ sửa được hồ sơ ở trạng thái nháp."), "error")
        return redirect(url_for(".detail", application_id=app.id))
    form = _application_form(app)
    if form.validate_on_submit():
        try:
            applications.update_application(
                current_user, app, form_data(form, applications.APPLICATION_FIELDS), business_date()
            )
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Đã lưu hồ sơ."), "success")
            return redirect(url_for(".detail", application_id=app.id))
    return _form_page(form, app)


def _form_page(form: ApplicationForm, app: Application | None) -> Any:
    status = 422 if form.is_submitted() else 200
    as_of = business_date()
    return render_template(
        "applications/form.html",
        form=form,
        application=app,
        has_cooperatives=len(form.cooperative_id.choices or []) > 1,
        default_rate=policy.value("default_annual_rate", as_of),
        min_equity=plain_rate(policy.value("min_equity_pct", as_of)),
    ), status


# --- detail ----------------------------------------------------------------------------------


@bp.route("/<int:application_id>")
@roles_required(*STAFF_READ)
def detail(application_id: int) -> Any:
    app = db.get_or_404(Application, application_id)
    return _detail_page(app)


def _detail_page(app: Application, code: int = 200, **forms: Any) -> Any:
    as_of = business_date()
    amount = app.recommended_amount or app.requested_amount
    live_checks = None
    if app.status in OPEN:
        approver = current_user if has_role(current_user, *DECIDERS) else None
        live_checks = limits.rule_checks(app, amount, as_of, approver=approver)
    # What the borrower still lacks, on the application's own amounts (the same lending
    # checks: nothing computed twice).
    conditions = readiness.check_application(app, as_of, live_checks) if live_checks else None
    history = list(
        db.session.scalars(
            select(LoanTransition)
            .where(LoanTransition.entity == "application", LoanTransition.entity_id == app.id)
            .order_by(LoanTransition.at, LoanTransition.id)
        )
    )
    uploader_ids = {d.uploaded_by_id for d in app.documents if d.uploaded_by_id}
    uploaders = {
        u.id: u.full_name or u.username
        for u in db.session.scalars(select(User).where(User.id.in_(uploader_ids)))
    }
    custom_rows = [
        {"day": date.fromisoformat(day), "amount": int(value)}
        for day, value in app.custom_schedule or []
    ]
    appraise_form = forms.get("appraise_form") or AppraiseForm(formdata=None)
    if appraise_form.recommended_amount.data is None:
        appraise_form.recommended_amount.data = grouped(app.requested_amount)
    page = render_template(
        "applications/detail.html",
        application=app,
        loan=app.loan,
        amount=amount,
        live_checks=live_checks,
        readiness=conditions,
        history=history,
        uploaders=uploaders,
        custom_rows=custom_rows,
        labels=lifecycle.STATUS_LABELS,
        method_labels=METHOD_LABELS,
        frequency_labels=FREQUENCY_LABELS,
        size_label=uploads.size_label,
        accept=uploads.ACCEPT,
        allowed_label=uploads.ALLOWED_LABEL,
        max_upload=uploads.size_label(int(current_app.config["UPLOAD_MAX_BYTES"])),
        loan_url=_loan_url(app.loan),
        may=_permissions(app, live_checks),
        submit_form=forms.get("submit_form") or SubmitForm(formdata=None),
        withdraw_form=forms.get("withdraw_form") or WithdrawForm(formdata=None),
        appraise_form=appraise_form,
        approve_form=forms.get("approve_form") or ApproveForm(formdata=None),
        reject_form=forms.get("reject_form") or RejectForm(formdata=None),
        upload_form=forms.get("upload_form") or UploadForm(formdata=None),
    )
    return page, code


def _permissions(app: Application, live_checks: list[Any] | None = None) -> dict[str, Any]:
    """Which action forms to show; the services decide again on every POST."""
    officer = has_role(current_user, Role.OFFICER)
    decider = has_role(current_user, *DECIDERS)
    involved = current_user.id in (app.appraised_by_id, app.created_by_id)
    # A director is not offered "Phê duyệt" on a file above his approval limit: the page
    # says it goes to the board instead (the service refuses it as well).
    beyond = any(c.code == "authority" and not c.passed for c in live_checks or [])
    submitted = app.status == ApplicationStatus.SUBMITTED
    own = (
        submitted and officer and not applications.may_appraise(current_user, app, business_date())
    )
    return {
        "beyond_authority": decider
        and app.status == ApplicationStatus.APPRAISED
        and not involved
        and beyond,
        "own_file": own,
        "edit": officer and app.status == ApplicationStatus.DRAFT,
        "submit": officer and app.status == ApplicationStatus.DRAFT,
        "withdraw": officer and app.status in OPEN,
        "appraise": officer and submitted and not own,
        "decide": decider
        and app.status == ApplicationStatus.APPRAISED
        and not involved
        and not beyond,
        "reject": decider
        and app.status in (ApplicationStatus.SUBMITTED, ApplicationStatus.APPRAISED)
        and app.appraised_by_id != current_user.id,
        "involved": decider and app.status == ApplicationStatus.APPRAISED and involved,
        "override": has_role(current_user, Role.BOARD),
        "upload": officer
        and app.status not in (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN),
    }


def _loan_url(loan: Any) -> str | None:
    if loan is None:
        return None
    try:
        return url_for("loans.detail", loan_id=loan.id)
    except BuildError:  # the loan pages are not there yet
        return None


# --- actions ---------------------------------------------------------------------------------


def _refused(app_id: int, exc: DomainError, form_name: str, form: Any) -> Any:
    db.session.rollback()
    apply_errors(form, exc)
    app = db.get_or_404(Application, app_id)
    return _detail_page(app, exc.status_code, **{form_name: form})


@bp.route("/<int:application_id>/submit", methods=["POST"])
@roles_required(*OFFICER)
def submit(application_id: int) -> Any:
    app = db.get_or_404(Application, application_id)
    form = SubmitForm()
    if form.validate_on_submit():
        try:
            applications.submit(current_user, app)
        except DomainError as exc:
            return _refused(application_id, exc, "submit_form", form)
        db.session.commit()
        flash(_("Đã nộp hồ sơ để thẩm định."), "success")
    return redirect(url_for(".detail", application_id=app.id))


@bp.route("/<int:application_id>/withdraw", methods=["POST"])
@roles_required(*OFFICER)
def withdraw(application_id: int) -> Any:
    app = db.get_or_404(Application, application_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            applications.withdraw(current_user, app, (form.reason.data or "").strip())
        except DomainError as exc:
            return _refused(application_id, exc, "withdraw_form", form)
        db.session.commit()
        flash(_("Đã rút hồ sơ."), "success")
    return redirect(url_for(".detail", application_id=app.id))


@bp.route("/<int:application_id>/appraise", methods=["POST"])
@roles_required(*OFFICER)
def appraise(application_id: int) -> Any:
    app = db.get_or_404(Application, application_id)
    form = AppraiseForm()
    if form.validate_on_submit():
        try:
            checks = applications.appraise(
                current_user,
                app,
                form.recommended_amount.data or "",
                form.note.data or "",
                business_date(),
            )
        except DomainError as exc:
            return _refused(application_id, exc, "appraise_form", form)
        db.session.commit()
        failed = [c for c in checks if not c.passed]
        if failed:
            flash(
                _(
                    "Đã thẩm định; %(n)s điều kiện chưa đạt, xem bảng kiểm tra.",
                    n=len(failed),
                ),
                "warning",
            )
        else:
            flash(_("Đã thẩm định; hồ sơ chờ phê duyệt."), "success")
    return redirect(url_for(".detail", application_id=app.id))


@bp.route("/<int:application_id>/approve", methods=["POST"])
@roles_required(*DECIDERS)
def approve(application_id: int) -> Any:
    app = db.get_or_404(Application, application_id)
    form = ApproveForm()
    if form.validate_on_submit():
        try:
            loan = applications.approve(
                current_user,
                app,
                form.note.data or "",
                business_date(),
                override_reason=form.override_reason.data or "",
            )
        except DomainError as exc:
            return _refused(application_id, exc, "approve_form", form)
        db.session.commit()
        flash(
            _(
                "Đã phê duyệt hồ sơ; khoản vay %(no)s số tiền %(amount)s.",
                no=loan.contract_no,
                amount=money_filter(loan.amount),
            ),
            "success",
        )
        return redirect(_loan_url(loan) or url_for(".detail", application_id=app.id))
    return redirect(url_for(".detail", application_id=app.id))


@bp.route("/<int:application_id>/reject", methods=["POST"])
@roles_required(*DECIDERS)
def reject(application_id: int) -> Any:
    app = db.get_or_404(Application, application_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            applications.reject(current_user, app, form.reason.data or "")
        except DomainError as exc:
            return _refused(application_id, exc, "reject_form", form)
        db.session.commit()
        flash(_("Đã từ chối hồ sơ."), "success")
    return redirect(url_for(".detail", application_id=app.id))


# --- documents -------------------------------------------------------------------------------


def upload_document(
    app: Application, refused: Callable[[int, DomainError, str, Any], Any], page: str
) -> Any:
    """A document uploaded to ``app``, from the staff page or the cooperative's portal:
    a refusal re-renders through ``refused``, success goes back to ``page`` (the
    blueprint's own endpoint of the application) at its documents."""
    form = UploadForm()
    if form.validate_on_submit():
        try:
            doc = uploads.save_document(app, form.file.data, current_user)
        except DomainError as exc:
            return refused(app.id, exc, "upload_form", form)
        uploads.commit_with(doc)
        flash(_("Đã tải lên «%(name)s».", name=doc.original_name), "success")
    return redirect(url_for(page, application_id=app.id, _anchor="documents"))


@bp.route("/<int:application_id>/documents", methods=["POST"])
@roles_required(*OFFICER)
def upload(application_id: int) -> Any:
    return upload_document(db.get_or_404(Application, application_id), _refused, ".detail")


@bp.route("/<int:application_id>/documents/<int:doc_id>")
@roles_required(*STAFF_READ)
def document(application_id: int, doc_id: int) -> Any:
    doc = db.get_or_404(ApplicationDocument, doc_id)
    if doc.application_id != application_id:
        abort(404)
    return uploads.send_document(doc)
