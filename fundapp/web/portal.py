"""The cooperative's own pages: its loans, applications, notices and profile.

Every view works on the signed-in user's cooperative, never on one named in the URL or a
form; an id of another cooperative's loan, application or document is "not found".
"""

from __future__ import annotations

from typing import Any

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
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import Form, SelectField, StringField

from fundapp.cooperatives.models import Cooperative
from fundapp.core.dates import business_date
from fundapp.core.forms import apply_errors, form_data
from fundapp.core.security import Role, roles_required
from fundapp.documents.payment_qr import loan_qr
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.lending import applications as lending_applications
from fundapp.lending import contracts, lifecycle, readiness, uploads
from fundapp.lending.application_forms import FREQUENCY_LABELS, METHOD_LABELS, plain_rate
from fundapp.loans import queries
from fundapp.loans.models import Application, ApplicationDocument, ApplicationStatus
from fundapp.policy import services as policy
from fundapp.portal import services
from fundapp.portal.forms import (
    ConfirmForm,
    ContactForm,
    OwnApplicationForm,
    UploadForm,
    WithdrawForm,
)
from fundapp.web.applications import upload_document

bp = Blueprint("portal", __name__, url_prefix="/portal")

COOPERATIVE = Role.COOPERATIVE
# While the fund has not appraised it, the cooperative may still add papers or withdraw.
OWN_OPEN = (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED)


def own_cooperative() -> Cooperative:
    """The cooperative of the logged-in cooperative user; never taken from the URL."""
    coop = db.session.get(Cooperative, current_user.cooperative_id or -1)
    if coop is None:
        abort(404)
    return coop


# --- home and loans --------------------------------------------------------------------------


@bp.route("/")
@roles_required(COOPERATIVE)
def home() -> Any:
    coop = own_cooperative()
    as_of = business_date()
    return render_template(
        "portal/home.html",
        coop=coop,
        as_of=as_of,
        home=services.home(coop.id, as_of),
        labels=lifecycle.STATUS_LABELS,
    )


@bp.route("/loans")
@roles_required(COOPERATIVE)
def loans() -> Any:
    coop = own_cooperative()
    return render_template(
        "portal/loans.html",
        coop=coop,
        loans=services.loans_of(coop.id),
        labels=lifecycle.STATUS_LABELS,
    )


@bp.route("/loans/<int:loan_id>")
@roles_required(COOPERATIVE)
def loan(loan_id: int) -> Any:
    coop = own_cooperative()
    item = services.own_loan(coop.id, loan_id)
    as_of = business_date()
    position = queries.loan_position(item, as_of)
    schedule = queries.build_schedule(item, as_of).rows
    due_now = position.balances.total_due if position.balances else 0
    return render_template(
        "portal/loan.html",
        coop=coop,
        loan=item,
        as_of=as_of,
        position=position,
        pay_qr=loan_qr(item, schedule, due_now, as_of),
        maturity=contracts.maturity_of(item),
        overdue_rate=queries.overdue_rate(item),
        schedule=schedule,
        payments=services.payment_rows(item),
        disbursements=queries.posted_disbursements(item.id),
        labels=lifecycle.STATUS_LABELS,
    )


# --- applications ----------------------------------------------------------------------------


@bp.route("/applications")
@roles_required(COOPERATIVE)
def applications() -> Any:
    coop = own_cooperative()
    return render_template(
        "portal/applications.html",
        coop=coop,
        applications=services.applications_of(coop.id),
        labels=lifecycle.STATUS_LABELS,
    )


def _application_form(app: Application | None = None) -> OwnApplicationForm:
    form = OwnApplicationForm()
    form.fill_choices()
    if request.method == "GET":
        if app is None:
            form.fill_defaults()
        else:
            form.fill_from(app)
    return form


def _form_page(form: OwnApplicationForm, app: Application | None) -> Any:
    as_of = business_date()
    return render_template(
        "portal/application_form.html",
        form=form,
        application=app,
        default_rate=policy.value("default_annual_rate", as_of),
        min_equity=plain_rate(policy.value("min_equity_pct", as_of)),
        accept=uploads.ACCEPT,
        allowed_label=uploads.ALLOWED_LABEL,
        max_upload=uploads.size_label(int(current_app.config["UPLOAD_MAX_BYTES"])),
    ), (422 if form.is_submitted() else 200)


def _save_files(app: Application, saved: list[ApplicationDocument]) -> None:
    for file_storage in request.files.getlist("documents"):
        if file_storage and file_storage.filename:
            saved.append(uploads.save_document(app, file_storage, current_user))


def _discard(saved: list[ApplicationDocument]) -> None:
    for doc in saved:
        uploads.discard_file(doc)


def _save_application(form: OwnApplicationForm, app: Application | None) -> Application | None:
    """Create or update the draft with its new documents, submitted if asked, in one
    transaction; on refusal nothing is kept and the form carries the messages."""
    saved: list[ApplicationDocument] = []
    data = form_data(form, lending_applications.APPLICATION_FIELDS)
    try:
        if app is None:
            app = lending_applications.create_application(current_user, data, business_date())
        else:
            lending_applications.update_application(current_user, app, data, business_date())
        _save_files(app, saved)
        if request.form.get("action") == "submit":
            lending_applications.submit(current_user, app)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _discard(saved)
        apply_errors(form, exc)
        return None
    except Exception:
        db.session.rollback()
        _discard(saved)
        raise
    return app


def _saved_message(app: Application) -> str:
    if app.status == ApplicationStatus.SUBMITTED:
        return _("Đã nộp hồ sơ «%(name)s»; Quỹ sẽ thẩm định và báo kết quả.", name=app.project_name)
    return _("Đã lưu nháp hồ sơ «%(name)s».", name=app.project_name)


@bp.route("/applications/new", methods=["GET", "POST"])
@roles_required(COOPERATIVE)
def application_new() -> Any:
    own_cooperative()
    form = _application_form()
    if form.validate_on_submit():
        app = _save_application(form, None)
        if app is not None:
            flash(_saved_message(app), "success")
            return redirect(url_for(".application", application_id=app.id))
    return _form_page(form, None)


@bp.route("/applications/<int:application_id>/edit", methods=["GET", "POST"])
@roles_required(COOPERATIVE)
def application_edit(application_id: int) -> Any:
    app = services.own_application(own_cooperative().id, application_id)
    if app.status != ApplicationStatus.DRAFT:
        flash(_("Chỉ sửa được hồ sơ ở trạng thái nháp."), "error")
        return redirect(url_for(".application", application_id=app.id))
    form = _application_form(app)
    if form.validate_on_submit():
        saved = _save_application(form, app)
        if saved is not None:
            flash(_saved_message(saved), "success")
            return redirect(url_for(".application", application_id=saved.id))
        app = services.own_application(own_cooperative().id, application_id)
    return _form_page(form, app)


def _application_page(app: Application, code: int = 200, **forms: Any) -> Any:
    return render_template(
        "portal/application.html",
        application=app,
        history=queries.transitions_of("application", app.id),
        labels=lifecycle.STATUS_LABELS,
        method_labels=METHOD_LABELS,
        frequency_labels=FREQUENCY_LABELS,
        open=app.status in OWN_OPEN,
        size_label=uploads.size_label,
        accept=uploads.ACCEPT,
        allowed_label=uploads.ALLOWED_LABEL,
        max_upload=uploads.size_label(int(current_app.config["UPLOAD_MAX_BYTES"])),
        loan_url=url_for(".loan", loan_id=app.loan.id) if app.loan else None,
        submit_form=ConfirmForm(formdata=None),
        withdraw_form=forms.get("withdraw_form") or WithdrawForm(formdata=None),
        upload_form=forms.get("upload_form") or UploadForm(formdata=None),
    ), code


@bp.route("/applications/<int:application_id>")
@roles_required(COOPERATIVE)
def application(application_id: int) -> Any:
    return _application_page(services.own_application(own_cooperative().id, application_id))


def _refused(application_id: int, exc: DomainError, name: str, form: Any) -> Any:
    db.session.rollback()
    apply_errors(form, exc)
    app = services.own_application(own_cooperative().id, application_id)
    return _application_page(app, exc.status_code, **{name: form})


@bp.route("/applications/<int:application_id>/submit", methods=["POST"])
@roles_required(COOPERATIVE)
def application_submit(application_id: int) -> Any:
    app = services.own_application(own_cooperative().id, application_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            lending_applications.submit(current_user, app)
        except DomainError as exc:
            return _refused(application_id, exc, "submit_form", form)
        db.session.commit()
        flash(_saved_message(app), "success")
    return redirect(url_for(".application", application_id=app.id))


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@roles_required(COOPERATIVE)
def application_withdraw(application_id: int) -> Any:
    app = services.own_application(own_cooperative().id, application_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            lending_applications.withdraw(
                current_user, app, (form.reason.data or "").strip()[:2000]
            )
        except DomainError as exc:
            return _refused(application_id, exc, "withdraw_form", form)
        db.session.commit()
        flash(_("Đã rút hồ sơ."), "success")
    return redirect(url_for(".application", application_id=app.id))


@bp.route("/applications/<int:application_id>/documents", methods=["POST"])
@roles_required(COOPERATIVE)
def application_upload(application_id: int) -> Any:
    app = services.own_application(own_cooperative().id, application_id)
    return upload_document(app, _refused, ".application")


@bp.route("/applications/<int:application_id>/documents/<int:doc_id>")
@roles_required(COOPERATIVE)
def application_document(application_id: int, doc_id: int) -> Any:
    doc = services.own_document(own_cooperative().id, application_id, doc_id)
    return uploads.send_document(doc)


# --- readiness ----------------------------------------------------------------------------


class ReadinessForm(Form):
    """The amounts a cooperative means to apply for (a GET form: nothing is saved)."""

    total_project_cost = StringField(_l("Tổng mức đầu tư của dự án (đồng)"))
    own_equity = StringField(_l("Vốn đối ứng của hợp tác xã (đồng)"))
    requested_amount = StringField(_l("Số tiền đề nghị vay (đồng)"))
    purpose = StringField(_l("Mục đích sử dụng vốn"))
    collateral = SelectField(_l("Có tài sản bảo đảm"))


@bp.route("/readiness")
@roles_required(COOPERATIVE)
def readiness_check() -> Any:
    """Which lending conditions the cooperative meets on the amounts it types, before it
    applies; nothing is stored."""
    coop = own_cooperative()
    as_of = business_date()
    form = ReadinessForm(request.args)
    form.collateral.choices = [("no", _("Không")), ("yes", _("Có"))]
    conditions = None
    if request.args:
        try:
            amounts = readiness.read_amounts(request.args.to_dict())
        except DomainError as exc:
            apply_errors(form, exc)  # type: ignore[arg-type]
        else:
            conditions = readiness.check(coop, amounts, as_of)
    return render_template(
        "portal/readiness.html",
        coop=coop,
        form=form,
        conditions=conditions,
        min_equity=plain_rate(policy.value("min_equity_pct", as_of)),
    ), (422 if any(f.errors for f in form) else 200)


# --- profile ---------------------------------------------------------------------------------


@bp.route("/profile", methods=["GET", "POST"])
@roles_required(COOPERATIVE)
def profile() -> Any:
    coop = own_cooperative()
    form = ContactForm()
    if request.method == "GET":
        form.phone.data, form.email.data, form.address.data = coop.phone, coop.email, coop.address
    if form.validate_on_submit():
        try:
            services.update_contact(current_user, coop, form_data(form, services.CONTACT_FIELDS))
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Đã cập nhật thông tin liên hệ của hợp tác xã."), "success")
            return redirect(url_for(".profile"))
        coop = own_cooperative()
    code = 422 if form.is_submitted() else 200
    return render_template("portal/profile.html", coop=coop, form=form), code
