"""The risk committee (Hội đồng xử lý rủi ro) on the web: its meetings, a meeting's
proposals with a decision form each, the close, and the quarterly pack PDF. The board
records; the director and the controller read. Rules in fundapp/lending/committee.py."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField, TextAreaField

from fundapp.core.dates import business_date
from fundapp.core.forms import apply_errors
from fundapp.core.security import Role, has_role, roles_required
from fundapp.documents.pdf import pdf_response
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.lending import committee
from fundapp.loans.committee import CommitteeMeeting, MeetingStatus
from fundapp.reports import committee_pack
from fundapp.reports.params import last_complete_quarter

bp = Blueprint("committee", __name__)

READERS = (Role.BOARD, Role.DIRECTOR, Role.CONTROLLER)


class MeetingForm(FlaskForm):
    quarter = StringField(_l("Quý (ví dụ 2026-Q3)"))
    held_on = StringField(_l("Ngày họp"))
    place = StringField(_l("Địa điểm"))
    members = TextAreaField(_l("Thành viên dự họp (mỗi người một dòng)"))
    minutes = TextAreaField(_l("Biên bản cuộc họp"))

    def data_dict(self) -> dict[str, Any]:
        return {n: getattr(self, n).data for n in ("held_on", "place", "members", "minutes")}


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Quyết định"), choices=[], validate_choice=False)
    reason = TextAreaField(_l("Lý do"))

    def fill_choices(self) -> None:
        self.decision.choices = [(k.value, _(v)) for k, v in committee.DECISION_LABELS.items()]


class CloseForm(FlaskForm):
    pass


def _form_error() -> None:
    flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")


def _meeting(meeting_id: int) -> CommitteeMeeting:
    return db.get_or_404(CommitteeMeeting, meeting_id)


@bp.route("/committee")
@roles_required(*READERS)
def index() -> Any:
    meetings = db.session.scalars(
        select(CommitteeMeeting).order_by(CommitteeMeeting.quarter.desc())
    ).all()
    return _index(meetings)


def _index(meetings: Any, form: MeetingForm | None = None, status: int = 200) -> Any:
    if form is None:
        form = MeetingForm(formdata=None)
        form.quarter.data = last_complete_quarter(business_date()).code
    return (
        render_template(
            "committee/index.html",
            meetings=meetings,
            form=form,
            statuses=committee.MEETING_LABELS,
            can_record=has_role(current_user, Role.BOARD),
        ),
        status,
    )


@bp.route("/committee", methods=["POST"])
@roles_required(Role.BOARD)
def open_meeting() -> Any:
    form = MeetingForm()
    meetings = db.session.scalars(
        select(CommitteeMeeting).order_by(CommitteeMeeting.quarter.desc())
    ).all()
    if not form.validate_on_submit():
        _form_error()
        return _index(meetings, form, 400)
    try:
        data = committee.meeting_input(form.data_dict())
        meeting = committee.open_meeting(
            current_user, form.quarter.data or "", data, business_date()
        )
    except DomainError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _index(meetings, form, exc.status_code)
    db.session.commit()
    flash(_("Đã mở cuộc họp quý %(q)s.", q=meeting.quarter), "success")
    return redirect(url_for(".meeting", meeting_id=meeting.id))


def _page(
    meeting: CommitteeMeeting,
    form: MeetingForm | None = None,
    decision_forms: dict[int, DecisionForm] | None = None,
    status: int = 200,
) -> Any:
    if form is None:
        form = MeetingForm(formdata=None, obj=meeting)
        form.held_on.data = meeting.held_on.isoformat()
    decided = {d.write_off_id: d for d in meeting.decisions}
    forms = {}
    proposals = committee.proposals(meeting)
    for proposal in proposals:
        f = (decision_forms or {}).get(proposal.id)
        if f is None:
            f = DecisionForm(prefix=f"d{proposal.id}", formdata=None)
            if proposal.id in decided:
                f.decision.data = decided[proposal.id].decision
                f.reason.data = decided[proposal.id].reason
        f.fill_choices()
        forms[proposal.id] = f
    return (
        render_template(
            "committee/meeting.html",
            meeting=meeting,
            proposals=proposals,
            decided=decided,
            forms=forms,
            form=form,
            close_form=CloseForm(formdata=None),
            draft=meeting.status == MeetingStatus.DRAFT,
            can_record=has_role(current_user, Role.BOARD),
            decisions=committee.DECISION_LABELS,
            proposal_statuses=committee.PROPOSAL_LABELS,
            statuses=committee.MEETING_LABELS,
        ),
        status,
    )


@bp.route("/committee/<int:meeting_id>")
@roles_required(*READERS)
def meeting(meeting_id: int) -> Any:
    return _page(_meeting(meeting_id))


@bp.route("/committee/<int:meeting_id>", methods=["POST"])
@roles_required(Role.BOARD)
def update_meeting(meeting_id: int) -> Any:
    item = _meeting(meeting_id)
    form = MeetingForm()
    if not form.validate_on_submit():
        _form_error()
        return _page(item, form, status=400)
    try:
        data = committee.meeting_input(form.data_dict())
        committee.update_meeting(current_user, item.id, data, business_date())
    except DomainError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _page(_meeting(meeting_id), form, status=exc.status_code)
    db.session.commit()
    flash(_("Đã lưu biên bản cuộc họp."), "success")
    return redirect(url_for(".meeting", meeting_id=meeting_id))


@bp.route("/committee/<int:meeting_id>/decisions/<int:write_off_id>", methods=["POST"])
@roles_required(Role.BOARD)
def record_decision(meeting_id: int, write_off_id: int) -> Any:
    item = _meeting(meeting_id)
    form = DecisionForm(prefix=f"d{write_off_id}")
    form.fill_choices()
    if not form.validate_on_submit():
        _form_error()
        return _page(item, decision_forms={write_off_id: form}, status=400)
    try:
        committee.record_decision(
            current_user, item.id, write_off_id, form.decision.data or "", form.reason.data or ""
        )
    except DomainError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _page(
            _meeting(meeting_id), decision_forms={write_off_id: form}, status=exc.status_code
        )
    db.session.commit()
    flash(_("Đã ghi quyết định của Hội đồng."), "success")
    return redirect(url_for(".meeting", meeting_id=meeting_id) + f"#proposal-{write_off_id}")


@bp.route("/committee/<int:meeting_id>/close", methods=["POST"])
@roles_required(Role.BOARD)
def close_meeting(meeting_id: int) -> Any:
    item = _meeting(meeting_id)
    if not CloseForm().validate_on_submit():
        _form_error()
        return redirect(url_for(".meeting", meeting_id=item.id))
    try:
        committee.close_meeting(current_user, item.id, business_date())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _page(_meeting(meeting_id), status=exc.status_code)
    db.session.commit()
    flash(_("Đã kết thúc cuộc họp và thực hiện các quyết định."), "success")
    return redirect(url_for(".meeting", meeting_id=meeting_id))


@bp.route("/committee/<int:meeting_id>/pack.pdf")
@roles_required(*READERS)
def pack(meeting_id: int) -> Response:
    item = _meeting(meeting_id)
    return pdf_response(committee_pack.pack_pdf(item), committee_pack.filename(item))
