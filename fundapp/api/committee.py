"""API v1: the risk committee (Hội đồng xử lý rủi ro, Decree 45/2021 Art. 29) — its quarterly
meetings, the decision on each risk handling proposal, the close that applies them, and
the quarterly pack PDF.

Same roles and rules as the pages (fundapp/web/committee.py): the board records, the
director and the controller read. The rules live in fundapp/lending/committee.py.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Response, jsonify
from pydantic import Field
from sqlalchemy import select

from fundapp.api import bp, shapes
from fundapp.api.common import api_roles, current_api_user, get_or_404, paginate, timestamp
from fundapp.api.spec import (
    PDF,
    Day,
    NotRequired,
    Page,
    PageQuery,
    Timestamp,
    TypedDict,
    operation,
    read_body,
    read_query,
    strict,
)
from fundapp.core.dates import business_date
from fundapp.core.security import Role
from fundapp.documents.pdf import pdf_response
from fundapp.extensions import db
from fundapp.lending import committee
from fundapp.loans.committee import CommitteeMeeting
from fundapp.reports import committee_pack
from fundapp.web.committee import READERS

Text = Annotated[str, Field(max_length=committee.TEXT_LIMIT, pattern=r"^[^\x00]*$")]
DecisionKind = Literal["approve", "reject", "defer"]


class CommitteeProposal(TypedDict):
    write_off_id: int
    loan_id: int
    contract_no: str
    amount: int
    reason: str
    status: Literal["pending", "approved", "rejected"]
    # The committee's decision in this meeting; null when none was recorded.
    decision: DecisionKind | None
    decision_reason: str


class CommitteeMeetingItem(TypedDict):
    id: int
    quarter: str
    held_on: shapes.IsoDate
    place: str
    members: str
    minutes: str
    status: Literal["draft", "closed"]
    created_by_id: int | None
    closed_by_id: int | None
    closed_at: Timestamp | None
    created_at: Timestamp | None


class CommitteeMeetingDetail(CommitteeMeetingItem):
    # Decided in this meeting, and, while a draft, every pending proposal.
    proposals: list[CommitteeProposal]


@strict
class CommitteeMeetingCreate(TypedDict):
    quarter: Annotated[str, Field(pattern=r"^[0-9]{4}-Q[1-4]$", description="e.g. 2026-Q3")]
    held_on: Day
    place: Annotated[str, Field(max_length=200, pattern=r"^[^\x00]*$")]
    members: Text
    minutes: NotRequired[Text]


@strict
class CommitteeMeetingChanges(TypedDict, total=False):
    held_on: Day
    place: Annotated[str, Field(max_length=200, pattern=r"^[^\x00]*$")]
    members: Text
    minutes: Text


@strict
class CommitteeDecisionBody(TypedDict):
    decision: DecisionKind
    reason: Text


def meeting_json(item: CommitteeMeeting) -> CommitteeMeetingItem:
    return {
        "id": item.id,
        "quarter": item.quarter,
        "held_on": item.held_on.isoformat(),
        "place": item.place,
        "members": item.members,
        "minutes": item.minutes,
        "status": item.status,  # type: ignore[typeddict-item]
        "created_by_id": item.created_by_id,
        "closed_by_id": item.closed_by_id,
        "closed_at": timestamp(item.closed_at),
        "created_at": timestamp(item.created_at),
    }


def detail_json(item: CommitteeMeeting) -> CommitteeMeetingDetail:
    decided = {d.write_off_id: d for d in item.decisions}
    proposals: list[CommitteeProposal] = []
    for p in committee.proposals(item):
        d = decided.get(p.id)
        proposals.append(
            {
                "write_off_id": p.id,
                "loan_id": p.loan_id,
                "contract_no": p.loan.contract_no,
                "amount": p.amount,
                "reason": p.reason,
                "status": p.status,  # type: ignore[typeddict-item]
                "decision": d.decision if d else None,  # type: ignore[typeddict-item]
                "decision_reason": d.reason if d else "",
            }
        )
    return {**meeting_json(item), "proposals": proposals}  # type: ignore[typeddict-item]


@bp.route("/committee/meetings", methods=["GET"])
@api_roles(*READERS)
@operation(query=PageQuery, returns=Page[CommitteeMeetingItem])
def list_committee_meetings() -> Any:
    """The risk committee's meetings, newest quarter first."""
    read_query(PageQuery)
    query = select(CommitteeMeeting).order_by(CommitteeMeeting.quarter.desc())
    return jsonify(paginate(query, meeting_json))


@bp.route("/committee/meetings", methods=["POST"])
@api_roles(Role.BOARD)
@operation(body=CommitteeMeetingCreate, returns=CommitteeMeetingDetail, status=201)
def open_committee_meeting() -> Any:
    """Open the meeting of an ended quarter (one per quarter), as a draft.

    The meeting date is after the quarter's last day and not after the business date."""
    data = read_body(CommitteeMeetingCreate)
    item = committee.open_meeting(
        current_api_user(), data["quarter"], committee.meeting_input(data), business_date()
    )
    db.session.commit()
    return jsonify(detail_json(item)), 201


@bp.route("/committee/meetings/<int:meeting_id>", methods=["GET"])
@api_roles(*READERS)
@operation(returns=CommitteeMeetingDetail)
def get_committee_meeting(meeting_id: int) -> Any:
    """A meeting with the proposals before it and the decisions recorded."""
    return jsonify(detail_json(get_or_404(CommitteeMeeting, meeting_id)))


@bp.route("/committee/meetings/<int:meeting_id>", methods=["PATCH"])
@api_roles(Role.BOARD)
@operation(body=CommitteeMeetingChanges, returns=CommitteeMeetingDetail)
def update_committee_meeting(meeting_id: int) -> Any:
    """Change a draft meeting's date, place, members or minutes; only the fields sent
    change. A closed meeting is read-only (422)."""
    item = get_or_404(CommitteeMeeting, meeting_id)
    current = {k: getattr(item, k) for k in ("held_on", "place", "members", "minutes")}
    data = {**current, **read_body(CommitteeMeetingChanges)}
    committee.update_meeting(
        current_api_user(), item.id, committee.meeting_input(data), business_date()
    )
    db.session.commit()
    return jsonify(detail_json(item))


@bp.route("/committee/meetings/<int:meeting_id>/decisions/<int:write_off_id>", methods=["PUT"])
@api_roles(Role.BOARD)
@operation(body=CommitteeDecisionBody, returns=CommitteeMeetingDetail)
def record_committee_decision(meeting_id: int, write_off_id: int) -> Any:
    """Record (or replace) the committee's decision on a pending proposal, with its reason.

    Nothing is posted until the meeting is closed."""
    item = get_or_404(CommitteeMeeting, meeting_id)
    data = read_body(CommitteeDecisionBody)
    committee.record_decision(
        current_api_user(), item.id, write_off_id, data["decision"], data["reason"]
    )
    db.session.commit()
    return jsonify(detail_json(item))


@bp.route("/committee/meetings/<int:meeting_id>/close", methods=["POST"])
@api_roles(Role.BOARD)
@operation(returns=CommitteeMeetingDetail)
def close_committee_meeting(meeting_id: int) -> Any:
    """Close the meeting: each approval and rejection is applied as the board's decision on
    the write-off (posted on the business date; the proposer may not decide), deferrals stay
    pending; the meeting is then read-only."""
    item = get_or_404(CommitteeMeeting, meeting_id)
    committee.close_meeting(current_api_user(), item.id, business_date())
    db.session.commit()
    return jsonify(detail_json(item))


@bp.route("/committee/meetings/<int:meeting_id>/pack.pdf", methods=["GET"])
@api_roles(*READERS)
@operation(returns=bytes, content=PDF)
def committee_pack_pdf(meeting_id: int) -> Response:
    """The quarterly pack: classification and provisions, the loans proposed for risk
    handling with their figures and credit-file references, the minutes and decisions."""
    item = get_or_404(CommitteeMeeting, meeting_id)
    return pdf_response(committee_pack.pack_pdf(item), committee_pack.filename(item))
