"""The risk committee's quarterly pack (Decree 45/2021/NĐ-CP Art. 29): the quarter's debt
classification and provisions (``classification.build``), the loans proposed for risk
handling with their figures as of the quarter's last day and the reference numbers of their
credit-file documents, the minutes with each decision and its reason, and the members'
signature blocks. Built from plain data, printed with WeasyPrint in Vietnamese.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import url_for
from flask_babel import force_locale
from sqlalchemy import select

from fundapp.documents import credit_file
from fundapp.documents.pdf import render_pdf
from fundapp.extensions import db
from fundapp.lending import committee
from fundapp.loans.committee import CommitteeMeeting
from fundapp.loans.models import Collateral, Inspection, Loan, Restructuring, WriteOff
from fundapp.reports import classification
from fundapp.reports.params import Quarter


@dataclass(frozen=True)
class FileRef:
    reference_no: str
    title: str
    version: int
    url: str


@dataclass(frozen=True)
class ProposedLoan:
    write_off_id: int
    contract_no: str
    cooperative_name: str
    proposed_amount: int
    proposal_reason: str
    status: str
    # As of the quarter's last day (the classification report's row); None when the loan
    # was not in groups 2–5 that day.
    outstanding: int | None
    debt_group: int | None
    days_past_due: int | None
    provision_held: int | None
    collateral_value: int | None
    documents: tuple[FileRef, ...]
    decision: str  # "" when the committee recorded none
    decision_reason: str


@dataclass(frozen=True)
class Pack:
    meeting_id: int
    quarter: str
    held_on: date
    place: str
    members: tuple[str, ...]
    minutes: str
    closed: bool
    classification: classification.ClassificationReport
    loans: tuple[ProposedLoan, ...]


def quarter_of(meeting: CommitteeMeeting) -> Quarter:
    year, number = meeting.quarter.split("-Q")
    return Quarter(int(year), int(number))


def _documents(loans: list[Loan]) -> dict[int, tuple[FileRef, ...]]:
    """Each loan's issued credit-file documents (newest version of each), with a link."""
    ids = [loan.id for loan in loans]
    subjects: dict[tuple[str, int], int] = {("loan", lid): lid for lid in ids}
    for loan in loans:
        if loan.application_id:
            subjects[("application", loan.application_id)] = loan.id
    for kind, model in (
        ("collateral", Collateral),
        ("inspection", Inspection),
        ("restructuring", Restructuring),
    ):
        for row_id, loan_id in db.session.execute(
            select(model.id, model.loan_id).where(model.loan_id.in_(ids))
        ):
            subjects[(kind, row_id)] = loan_id
    out: dict[int, list[FileRef]] = {lid: [] for lid in ids}
    for subject, documents in credit_file.histories(list(subjects)).items():
        seen: set[str] = set()
        for document in documents:  # newest version first per kind
            if document.kind in seen:
                continue
            seen.add(document.kind)
            spec = credit_file.get_kind(document.kind)
            out[subjects[subject]].append(
                FileRef(
                    document.reference_no,
                    str(spec.title) if spec else document.kind,
                    document.version,
                    url_for(
                        "credit_file.version",
                        key=document.kind,
                        subject_id=document.subject_id,
                        version=document.version,
                        _external=True,
                    ),
                )
            )
    return {lid: tuple(refs) for lid, refs in out.items()}


def build(meeting: CommitteeMeeting) -> Pack:
    report = classification.build(quarter_of(meeting))
    by_loan = {row.loan_id: row for row in report.loans}
    decided = {d.write_off_id: d for d in meeting.decisions}
    proposals: list[WriteOff] = committee.proposals(meeting)
    with force_locale(credit_file.LANGUAGE):
        files = _documents([p.loan for p in proposals])
    rows = []
    for proposal in proposals:
        loan = proposal.loan
        row = by_loan.get(loan.id)
        decision = decided.get(proposal.id)
        rows.append(
            ProposedLoan(
                write_off_id=proposal.id,
                contract_no=loan.contract_no,
                cooperative_name=loan.cooperative.name if loan.cooperative else "",
                proposed_amount=proposal.amount,
                proposal_reason=proposal.reason,
                status=proposal.status,
                outstanding=row.outstanding if row else None,
                debt_group=row.debt_group if row else None,
                days_past_due=row.days_past_due if row else None,
                provision_held=row.specific_held if row else None,
                collateral_value=row.collateral_value if row else None,
                documents=files.get(loan.id, ()),
                decision=decision.decision if decision else "",
                decision_reason=decision.reason if decision else "",
            )
        )
    members = tuple(line.strip() for line in meeting.members.splitlines() if line.strip())
    return Pack(
        meeting_id=meeting.id,
        quarter=meeting.quarter,
        held_on=meeting.held_on,
        place=meeting.place,
        members=members,
        minutes=meeting.minutes,
        closed=meeting.status == "closed",
        classification=report,
        loans=tuple(rows),
    )


def pack_pdf(meeting: CommitteeMeeting) -> bytes:
    """The pack as a PDF, in Vietnamese whoever asks (a paper of the fund)."""
    with force_locale(credit_file.LANGUAGE):
        pack = build(meeting)
        return render_pdf(
            "committee/pack.html",
            d=pack,
            decisions=committee.DECISION_LABELS,
            statuses=committee.PROPOSAL_LABELS,
            landscape=True,
        )


def filename(meeting: CommitteeMeeting) -> str:
    return f"ho-so-hoi-dong-xu-ly-rui-ro-{meeting.quarter}.pdf"
