"""The risk committee's quarterly meeting (Hội đồng xử lý rủi ro, Decree 45/2021/NĐ-CP
Art. 29): the board opens it for an ended quarter, records a decision (approve, reject,
defer) with its reason on each pending risk handling proposal, and closes it. Closing
applies the decisions through ``writeoffs.decide_write_off`` (its rules and posting: the
board decides, the proposer never) and leaves the meeting read-only. Every step is audited.

Functions take the actor and the business date, flush and never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from fundapp import audit
from fundapp.core.security import Role
from fundapp.core.validation import iso_date
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import N_, DomainError, NotFound, ValidationFailed
from fundapp.extensions import db
from fundapp.lending import writeoffs
from fundapp.lending.lifecycle import add_audited, require
from fundapp.loans.committee import CommitteeDecision, CommitteeMeeting, Decision, MeetingStatus
from fundapp.loans.models import ApprovalStatus, WriteOff

_QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")
TEXT_LIMIT = 20_000
DECISION_LABELS = {
    Decision.APPROVE: N_("Đồng ý xử lý rủi ro"),
    Decision.REJECT: N_("Không đồng ý"),
    Decision.DEFER: N_("Hoãn xem xét"),
}
PROPOSAL_LABELS = {
    ApprovalStatus.PENDING: N_("Chờ quyết định"),
    ApprovalStatus.APPROVED: N_("Đã xử lý rủi ro"),
    ApprovalStatus.REJECTED: N_("Không đồng ý"),
}
MEETING_LABELS = {MeetingStatus.DRAFT: N_("Đang họp"), MeetingStatus.CLOSED: N_("Đã kết thúc")}


@dataclass(frozen=True)
class MeetingInput:
    held_on: date | None
    place: str
    members: str
    minutes: str = ""


def meeting_input(data: dict[str, Any]) -> MeetingInput:
    """The meeting's fields from a form or a JSON body (``held_on`` as ``yyyy-mm-dd`` or
    ``dd/mm/yyyy``)."""
    errors: dict[str, str] = {}
    held_on = iso_date(data, "held_on", errors)
    if errors:
        raise ValidationFailed(errors["held_on"], errors)
    return MeetingInput(
        held_on,
        str(data.get("place") or ""),
        str(data.get("members") or ""),
        str(data.get("minutes") or ""),
    )


def quarter_end(code: str) -> date | None:
    """The last day of ``2026-Q3``; ``None`` when ``code`` is not a quarter."""
    match = _QUARTER.fullmatch(code or "")
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        return None
    year, number = int(match.group(1)), int(match.group(2))
    if number == 4:
        return date(year, 12, 31)
    return date(year, 3 * number + 1, 1) - timedelta(days=1)


def _fail(field: str, message: str) -> None:
    raise ValidationFailed(message, {field: message})


def _checked(data: MeetingInput, end: date, as_of: date) -> None:
    if data.held_on is None:
        _fail("held_on", _("Cần ghi ngày họp."))
    elif not end < data.held_on <= as_of:  # type: ignore[operator]
        _fail("held_on", _("Ngày họp phải sau ngày cuối quý và không sau ngày làm việc."))
    if not data.place.strip():
        _fail("place", _("Cần ghi địa điểm họp."))
    if len(data.place) > 200:
        _fail("place", _("Địa điểm quá dài (tối đa 200 ký tự)."))
    if not data.members.strip():
        _fail("members", _("Cần ghi thành viên dự họp."))
    for name, value in (("members", data.members), ("minutes", data.minutes)):
        if len(value) > TEXT_LIMIT:
            _fail(name, _("Nội dung quá dài (tối đa %(n)s ký tự).", n=TEXT_LIMIT))
    # PostgreSQL stores no NUL character in text: refused here for every caller.
    for name in ("place", "members", "minutes"):
        if "\x00" in getattr(data, name):
            _fail(name, _("Nội dung có ký tự không hợp lệ."))


def _facts(meeting: CommitteeMeeting) -> dict[str, Any]:
    return {
        "quarter": meeting.quarter,
        "held_on": meeting.held_on,
        "place": meeting.place,
        "members": meeting.members,
        "minutes": meeting.minutes,
        "status": meeting.status,
    }


def open_meeting(actor: Any, quarter: str, data: MeetingInput, as_of: date) -> CommitteeMeeting:
    """The meeting of an ended quarter, as a draft; one per quarter."""
    require(actor, Role.BOARD)
    quarter = (quarter or "").strip().upper()
    end = quarter_end(quarter)
    if end is None:
        _fail("quarter", _("Quý không hợp lệ; ghi theo dạng 2026-Q3."))
    elif end >= as_of:
        _fail("quarter", _("Quý chưa kết thúc."))
    _checked(data, end, as_of)  # type: ignore[arg-type]
    if db.session.scalar(select(CommitteeMeeting.id).where(CommitteeMeeting.quarter == quarter)):
        _fail("quarter", _("Quý này đã có cuộc họp của Hội đồng xử lý rủi ro."))
    meeting = CommitteeMeeting(
        quarter=quarter,
        held_on=data.held_on,
        place=data.place.strip(),
        members=data.members.strip(),
        minutes=data.minutes.strip(),
        status=MeetingStatus.DRAFT,
        created_by_id=actor.id,
    )
    add_audited(actor, meeting, "committee.open", "committee_meeting", _facts(meeting))
    return meeting


def _draft(meeting_id: int) -> CommitteeMeeting:
    """The meeting, locked; refused once closed."""
    meeting = db.session.scalar(
        select(CommitteeMeeting).where(CommitteeMeeting.id == meeting_id).with_for_update()
    )
    if meeting is None:
        raise NotFound(_("Không tìm thấy cuộc họp."))
    if meeting.status != MeetingStatus.DRAFT:
        raise DomainError(_("Cuộc họp đã kết thúc; biên bản không sửa được."))
    return meeting


def update_meeting(
    actor: Any, meeting_id: int, data: MeetingInput, as_of: date
) -> CommitteeMeeting:
    """The date, place, members and minutes of a draft meeting."""
    require(actor, Role.BOARD)
    meeting = _draft(meeting_id)
    _checked(data, quarter_end(meeting.quarter), as_of)  # type: ignore[arg-type]
    before = _facts(meeting)
    meeting.held_on = data.held_on  # type: ignore[assignment]
    meeting.place = data.place.strip()
    meeting.members = data.members.strip()
    meeting.minutes = data.minutes.strip()
    db.session.flush()
    before_, after = audit.diff(before, _facts(meeting))
    audit.record(actor, "committee.update", "committee_meeting", meeting.id, before_, after)
    return meeting


def proposals(meeting: CommitteeMeeting) -> list[WriteOff]:
    """The proposals before the meeting: those decided in it, and, while it is a draft,
    every risk handling proposal still pending (oldest first)."""
    decided = select(CommitteeDecision.write_off_id).where(
        CommitteeDecision.meeting_id == meeting.id
    )
    where = WriteOff.id.in_(decided)
    if meeting.status == MeetingStatus.DRAFT:
        where = or_(where, WriteOff.status == ApprovalStatus.PENDING)
    return list(db.session.scalars(select(WriteOff).where(where).order_by(WriteOff.id)))


def record_decision(
    actor: Any, meeting_id: int, write_off_id: int, decision: str, reason: str
) -> CommitteeDecision:
    """The committee's decision on a pending proposal, with its reason (a second one for the
    same proposal replaces the first while the meeting is a draft)."""
    require(actor, Role.BOARD)
    meeting = _draft(meeting_id)
    if decision not in {d.value for d in Decision}:
        _fail("decision", _("Quyết định không hợp lệ."))
    reason = (reason or "").strip()
    if not reason:
        _fail("reason", _("Cần ghi lý do."))
    if len(reason) > TEXT_LIMIT:
        _fail("reason", _("Nội dung quá dài (tối đa %(n)s ký tự).", n=TEXT_LIMIT))
    proposal = db.session.get(WriteOff, write_off_id)
    if proposal is None:
        raise NotFound(_("Không tìm thấy đề nghị xử lý rủi ro."))
    item = db.session.scalar(
        select(CommitteeDecision).where(
            CommitteeDecision.meeting_id == meeting.id,
            CommitteeDecision.write_off_id == proposal.id,
        )
    )
    # Decided elsewhere meanwhile (the approvals page): only a deferral may replace the
    # committee's decision, so that the close does not apply it twice.
    if proposal.status != ApprovalStatus.PENDING and (item is None or decision != Decision.DEFER):
        raise DomainError(_("Đề nghị này đã được xử lý."))
    after = {"write_off": proposal.id, "decision": decision, "reason": reason}
    if item is None:
        item = CommitteeDecision(
            meeting_id=meeting.id,
            write_off_id=proposal.id,
            decision=decision,
            reason=reason,
            decided_by_id=actor.id,
        )
        add_audited(actor, item, "committee.decision", "committee_decision", after)
        return item
    before = {"write_off": proposal.id, "decision": item.decision, "reason": item.reason}
    item.decision, item.reason, item.decided_by_id = decision, reason, actor.id
    db.session.flush()
    audit.record(actor, "committee.decision", "committee_decision", item.id, before, after)
    return item


def close_meeting(actor: Any, meeting_id: int, as_of: date) -> CommitteeMeeting:
    """Closes the meeting: each approval and rejection is applied as the board's decision
    on the proposal (``writeoffs.decide_write_off``, posted on ``as_of``), deferrals leave
    it pending; then the meeting is read-only."""
    require(actor, Role.BOARD)
    meeting = _draft(meeting_id)
    if not meeting.minutes.strip():
        _fail("minutes", _("Cần ghi biên bản cuộc họp trước khi kết thúc."))
    applied = []
    for item in meeting.decisions:
        if item.decision == Decision.DEFER:
            continue
        try:
            writeoffs.decide_write_off(
                actor, item.write_off_id, item.decision == Decision.APPROVE, item.reason, as_of
            )
        except DomainError as exc:
            raise type(exc)(
                _(
                    "Không áp dụng được quyết định về khoản vay %(c)s: %(m)s",
                    c=item.write_off.loan.contract_no,
                    m=exc.message,
                )
            ) from exc
        applied.append({"write_off": item.write_off_id, "decision": item.decision})
    meeting.status = MeetingStatus.CLOSED
    meeting.closed_by_id, meeting.closed_at = actor.id, utcnow()
    db.session.flush()
    audit.record(
        actor,
        "committee.close",
        "committee_meeting",
        meeting.id,
        {"status": MeetingStatus.DRAFT.value},
        {"status": MeetingStatus.CLOSED.value, "applied": applied},
    )
    return meeting
