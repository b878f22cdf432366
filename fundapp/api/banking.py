"""API v1: statements of the collection account and posting their lines
(docs/rules.md "Bank statement import and matching").

The accountant uploads a statement (``POST /bank-statements``, multipart fields ``bank`` and
``file``): its credits are stored once each and matched to loans. Each line is reviewed
(``POST /bank-lines/{id}``: confirm, assign another loan, clear, ignore); the lines no loan
was found for are ``GET /bank-lines?status=unmatched``. ``POST
/bank-statements/{id}/batches`` sends the confirmed lines to posting: posted at once, or,
above the policy's ``bank_batch_approval_above``, when a director other than the maker
approves (``POST /bank-batches/{id}/approve``; ``/reject`` releases the lines).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import jsonify, request
from flask_babel import gettext as _
from pydantic import Field
from sqlalchemy import select

from fundapp.api import bp
from fundapp.api.common import api_roles, current_api_user, get_or_404, timestamp
from fundapp.api.shapes import Dong, IsoDate
from fundapp.api.spec import (
    NotRequired,
    Timestamp,
    TypedDict,
    operation,
    read_body,
    read_query,
    strict,
)
from fundapp.auth.models import User
from fundapp.banking import posting, services
from fundapp.banking.models import BankBatch, BankLine, BankStatement
from fundapp.banking.parsers import MAX_BYTES
from fundapp.core.dates import business_date
from fundapp.core.security import Role
from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db
from fundapp.lending.uploads import clean_name
from fundapp.loans.models import Loan

READERS = (Role.ACCOUNTANT, Role.DIRECTOR, Role.CONTROLLER)
Text = Annotated[str, Field(max_length=500, pattern=r"^[^\x00]*$")]
LineStatus = Literal["matched", "unmatched", "confirmed", "ignored", "duplicate", "posted"]


class StatementUpload(TypedDict):
    bank: Annotated[
        str, Field(max_length=20, description="The bank's code, e.g. AGRIBANK, VCB, BIDV")
    ]
    file: Annotated[bytes, Field(description="The statement as exported, .xlsx or .csv")]


class ImportShape(TypedDict):
    statement_id: int
    new: Annotated[bool, Field(description="false: the same file was imported before")]
    rows_read: int
    credits: Annotated[int, Field(description="Credit lines stored by this import")]
    debits: int
    duplicates: Annotated[int, Field(description="Credits already stored (bank txn id)")]
    matched: int
    unmatched: int


class LineShape(TypedDict):
    id: int
    statement_id: int
    bank: str
    txn_id: str
    line_no: int
    value_date: IsoDate
    amount: Dong
    description: str
    payer_name: str
    payer_account: str
    loan_id: int | None
    contract_no: str | None
    instalment_no: int | None
    method: Literal["reference", "contract", "borrower", "amount", "manual", "none"]
    confidence: Annotated[int, Field(description="0–100")]
    reason: Annotated[str, Field(description="Why the line was matched (or not)")]
    status: LineStatus
    note: str
    batch_id: int | None
    repayment_id: int | None
    post_error: Annotated[str, Field(description="Why the last posting left it unposted")]


class StatementShape(TypedDict):
    id: int
    bank: str
    filename: str
    uploaded_at: Timestamp
    first_date: IsoDate | None
    last_date: IsoDate | None
    rows_read: int
    credits: int
    debits: int
    duplicates: int
    matched: int
    unmatched: int
    lines: list[LineShape]


class Lines(TypedDict):
    items: list[LineShape]


class LinesQuery(TypedDict, total=False):
    status: LineStatus
    bank: Annotated[str, Field(max_length=20)]


@strict
class Correction(TypedDict):
    action: Literal["confirm", "assign", "clear", "ignore", "duplicate", "reopen"]
    loan_id: NotRequired[Annotated[int, Field(ge=1)] | None]
    instalment_no: NotRequired[Annotated[int, Field(ge=1, le=10_000)] | None]
    reason: NotRequired[Text]


class Outcome(TypedDict):
    line_id: int
    txn_id: str
    posted: bool
    receipt_no: str | None
    error: str


class BatchShape(TypedDict):
    id: int
    statement_id: int
    status: Literal["pending", "posted", "rejected"]
    needs_approval: bool
    made_by: str | None
    made_at: Timestamp
    decided_by: str | None
    decided_at: Timestamp | None
    note: str
    lines: int
    total: Dong
    posted: int
    posted_total: Dong
    failed: int
    outcomes: Annotated[list[Outcome], Field(description="This request's lines, when posted")]


@strict
class Approval(TypedDict, total=False):
    note: Text


@strict
class Rejection(TypedDict):
    reason: Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[^\x00]*$")]


def line_json(line: BankLine, contracts: dict[int, str]) -> dict[str, Any]:
    return {
        "id": line.id,
        "statement_id": line.statement_id,
        "bank": line.bank,
        "txn_id": line.txn_id,
        "line_no": line.line_no,
        "value_date": line.value_date.isoformat(),
        "amount": line.amount,
        "description": line.description,
        "payer_name": line.payer_name,
        "payer_account": line.payer_account,
        "loan_id": line.loan_id,
        "contract_no": contracts.get(line.loan_id) if line.loan_id else None,
        "instalment_no": line.instalment_no,
        "method": line.method,
        "confidence": line.confidence,
        "reason": line.reason,
        "status": line.status,
        "note": line.note,
        "batch_id": line.batch_id,
        "repayment_id": line.repayment_id,
        "post_error": line.post_error,
    }


def _lines_json(lines: list[BankLine]) -> list[dict[str, Any]]:
    ids = sorted({line.loan_id for line in lines if line.loan_id})
    contracts: dict[int, str] = {}
    if ids:
        rows = db.session.execute(select(Loan.id, Loan.contract_no).where(Loan.id.in_(ids)))
        contracts = dict(rows.tuples().all())
    return [line_json(line, contracts) for line in lines]


def _username(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.username if user else None


def batch_json(batch: BankBatch, outcomes: tuple[posting.LineOutcome, ...] = ()) -> dict:
    return {
        "id": batch.id,
        "statement_id": batch.statement_id,
        "status": batch.status,
        "needs_approval": batch.needs_approval,
        "made_by": _username(batch.made_by_id),
        "made_at": timestamp(batch.made_at),
        "decided_by": _username(batch.decided_by_id),
        "decided_at": timestamp(batch.decided_at),
        "note": batch.note,
        "lines": batch.lines,
        "total": batch.total,
        "posted": batch.posted,
        "posted_total": batch.posted_total,
        "failed": batch.failed,
        "outcomes": [
            {
                "line_id": o.line_id,
                "txn_id": o.txn_id,
                "posted": o.posted,
                "receipt_no": o.receipt_no,
                "error": o.error,
            }
            for o in outcomes
        ],
    }


@bp.route("/bank-statements", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@operation(form=StatementUpload, returns=ImportShape)
def import_bank_statement() -> Any:
    """Import a statement (multipart fields ``bank`` and ``file``): its credits not stored
    before, each matched to a loan. The same file again changes nothing (``new`` false)."""
    bank = request.form.get("bank", "")[:40]  # the service checks the code
    storage = request.files.get("file")
    if storage is None:
        message = _("Gửi tệp trong trường file của biểu mẫu multipart/form-data.")
        raise ValidationFailed(message, {"file": message})
    data = storage.stream.read(MAX_BYTES + 1)
    result = services.import_statement(current_api_user(), bank, clean_name(storage.filename), data)
    db.session.commit()
    body = {
        "statement_id": result.statement.id,
        "new": result.new,
        "rows_read": result.rows_read,
        "credits": result.credits,
        "debits": result.debits,
        "duplicates": result.duplicates,
        "matched": result.matched,
        "unmatched": result.unmatched,
    }
    return jsonify(body)


@bp.route("/bank-statements/<int:statement_id>", methods=["GET"])
@api_roles(*READERS)
@operation(returns=StatementShape)
def get_bank_statement(statement_id: int) -> Any:
    """A statement and its credit lines: each with its match, reason, confidence, status."""
    statement = get_or_404(BankStatement, statement_id)
    return jsonify(
        {
            "id": statement.id,
            "bank": statement.bank,
            "filename": statement.filename,
            "uploaded_at": timestamp(statement.uploaded_at),
            "first_date": statement.first_date.isoformat() if statement.first_date else None,
            "last_date": statement.last_date.isoformat() if statement.last_date else None,
            "rows_read": statement.rows_read,
            "credits": statement.credits,
            "debits": statement.debits,
            "duplicates": statement.duplicates,
            "matched": statement.matched,
            "unmatched": statement.unmatched,
            "lines": _lines_json(services.statement_lines(statement.id)),
        }
    )


@bp.route("/bank-lines", methods=["GET"])
@api_roles(*READERS)
@operation(query=LinesQuery, returns=Lines)
def list_bank_lines() -> Any:
    """Lines of every statement in one status (default ``unmatched``: the credits no loan
    was found for), oldest first; ``bank`` narrows to one bank."""
    args = read_query(LinesQuery)
    lines = services.open_lines(args.get("bank") or None, (args.get("status", "unmatched"),))
    return jsonify({"items": _lines_json(lines)})


@bp.route("/bank-lines/<int:line_id>", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@operation(body=Correction, returns=LineShape, errors=(409,))
def correct_bank_line(line_id: int) -> Any:
    """The accountant's decision on a line: ``confirm`` its match, ``assign`` another
    ``loan_id`` (and ``instalment_no``), ``clear`` it, ``ignore`` it or mark it a
    ``duplicate`` (both with a ``reason``), ``reopen`` one. A posted line, or one in a
    batch waiting for the director, is a 409."""
    get_or_404(BankLine, line_id)
    data = read_body(Correction)
    line = services.correct_line(
        current_api_user(),
        line_id,
        data["action"],
        data.get("loan_id"),
        data.get("instalment_no"),
        data.get("reason", ""),
    )
    db.session.commit()
    return jsonify(_lines_json([line])[0])


@bp.route("/bank-statements/<int:statement_id>/batches", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@operation(returns=BatchShape, status=201, errors=(409,))
def post_bank_batch(statement_id: int) -> Any:
    """Send the statement's confirmed lines to posting as one batch: posted at once when
    its total is within the policy's ``bank_batch_approval_above``, else ``pending`` for a
    director. No confirmed line left to post is a 409."""
    get_or_404(BankStatement, statement_id)
    result = posting.post_batch(current_api_user(), statement_id, business_date())
    db.session.commit()
    return jsonify(batch_json(result.batch, result.outcomes)), 201


@bp.route("/bank-batches/<int:batch_id>/approve", methods=["POST"])
@api_roles(Role.DIRECTOR)
@operation(body=Approval, returns=BatchShape, errors=(409,))
def approve_bank_batch(batch_id: int) -> Any:
    """Approve a pending batch: each line becomes a repayment with its receipt; a line the
    rules refuse stays confirmed with the reason. Its maker may not (403); a batch already
    decided is a 409."""
    get_or_404(BankBatch, batch_id)
    note = read_body(Approval).get("note", "")
    result = posting.approve_batch(current_api_user(), batch_id, business_date(), note)
    db.session.commit()
    return jsonify(batch_json(result.batch, result.outcomes))


@bp.route("/bank-batches/<int:batch_id>/reject", methods=["POST"])
@api_roles(Role.DIRECTOR)
@operation(body=Rejection, returns=BatchShape, errors=(409,))
def reject_bank_batch(batch_id: int) -> Any:
    """Refuse a pending batch (with a ``reason``): nothing posts, its lines stay confirmed
    for the accountant."""
    get_or_404(BankBatch, batch_id)
    reason = read_body(Rejection)["reason"]
    batch = posting.reject_batch(current_api_user(), batch_id, reason)
    db.session.commit()
    return jsonify(batch_json(batch))
