"""Importing a statement of the collection account, and the accountant's review of its
lines: confirm a match, set another loan, clear it, ignore a credit that is no repayment.
Nothing here posts: confirmed lines become repayments in a batch of their own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fundapp import audit
from fundapp.banking import matching
from fundapp.banking.models import BankLine, BankMapping, BankStatement
from fundapp.banking.parsers import (
    BANK_CODE,
    PRESETS,
    Mapping,
    Row,
    StatementError,
    digest,
    mapping_from,
    parse,
)
from fundapp.core.db import among, bulk_insert
from fundapp.core.security import Role, has_role
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.loans.models import Instalment, Loan, LoanStatus

TXN_CHUNK = 5000
# Where a line may move: the accountant's corrections, and posting (a confirmed line
# becomes a repayment: ``fundapp.banking.posting``). A posted line is final; a wrong one is
# undone by reversing its repayment.
TRANSITIONS: dict[str, frozenset[str]] = {
    "matched": frozenset({"confirmed", "unmatched", "ignored", "duplicate"}),
    "unmatched": frozenset({"confirmed", "ignored", "duplicate"}),
    "confirmed": frozenset({"confirmed", "unmatched", "ignored", "duplicate", "posted"}),
    "ignored": frozenset({"unmatched"}),
    "duplicate": frozenset({"unmatched"}),
    "posted": frozenset(),
}
# What each correction does: the status it moves the line to.
ACTIONS = {
    "confirm": "confirmed",
    "assign": "confirmed",
    "clear": "unmatched",
    "ignore": "ignored",
    "duplicate": "duplicate",
    "reopen": "unmatched",
}


def can_move(status: str, to: str) -> bool:
    return to in TRANSITIONS.get(status, frozenset())


@dataclass(frozen=True)
class ImportResult:
    """What one import did; ``new`` False: the same file had been imported (nothing done)."""

    statement: BankStatement
    new: bool
    rows_read: int
    credits: int
    debits: int
    duplicates: int
    matched: int
    unmatched: int


def _require_accountant(actor: Any) -> None:
    if not has_role(actor, Role.ACCOUNTANT):
        raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))


def _bank_code(bank: str) -> str:
    code = str(bank or "").strip().upper()
    if not BANK_CODE.fullmatch(code):
        raise ValidationFailed(
            _("Mã ngân hàng không hợp lệ."),
            {"bank": _("Chữ in hoa và số, 2 đến 20 ký tự (ví dụ AGRIBANK).")},
        )
    return code


def mapping_for(bank: str) -> Mapping:
    """The bank's saved mapping, else its built-in preset."""
    code = _bank_code(bank)
    saved = db.session.scalar(select(BankMapping).where(BankMapping.bank == code))
    if saved is not None:
        return Mapping(
            date=saved.date_column,
            credit=saved.credit_column,
            description=saved.description_column,
            debit=saved.debit_column,
            txn_id=saved.txn_id_column,
            payer=saved.payer_column,
            payer_account=saved.payer_account_column,
            date_format=saved.date_format,
            header_row=saved.header_row,
        )
    if code in PRESETS:
        return PRESETS[code]
    raise StatementError(
        _("Chưa có cách đọc sao kê của ngân hàng %(b)s: hãy lưu tên các cột trước.", b=code)
    )


def save_mapping(actor: Any, bank: str, data: dict[str, Any]) -> BankMapping:
    """Save (or replace) how a bank's statement is read."""
    _require_accountant(actor)
    code = _bank_code(bank)
    mapping, errors = mapping_from(data)
    if mapping is None:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    values = {
        "date_column": mapping.date,
        "credit_column": mapping.credit,
        "debit_column": mapping.debit,
        "description_column": mapping.description,
        "txn_id_column": mapping.txn_id,
        "payer_column": mapping.payer,
        "payer_account_column": mapping.payer_account,
        "date_format": mapping.date_format,
        "header_row": mapping.header_row,
    }
    saved = db.session.scalar(select(BankMapping).where(BankMapping.bank == code).with_for_update())
    before = None
    if saved is None:
        saved = BankMapping(bank=code)
        db.session.add(saved)
    else:
        before = {k: getattr(saved, k) for k in values}
    for key, value in values.items():
        setattr(saved, key, value)
    saved.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record(actor, "update" if before else "create", "bank_mapping", saved.id, before, values)
    return saved


def _stored_ids(bank: str, txn_ids: list[str]) -> set[str]:
    stored: set[str] = set()
    for start in range(0, len(txn_ids), TXN_CHUNK):
        chunk = txn_ids[start : start + TXN_CHUNK]
        stored.update(
            db.session.scalars(
                select(BankLine.txn_id).where(BankLine.bank == bank, among(BankLine.txn_id, chunk))
            )
        )
    return stored


def import_statement(
    actor: Any, bank: str, filename: str, data: bytes, mapping: Mapping | None = None
) -> ImportResult:
    """Read the file, keep its credits not stored before, match each to a loan and store
    them with the statement. The same file again changes nothing; a line another file
    already brought (the bank's transaction id) is counted as a duplicate, never stored
    twice."""
    _require_accountant(actor)
    code = _bank_code(bank)
    fingerprint = digest(data or b"")
    existing = db.session.scalar(
        select(BankStatement).where(BankStatement.bank == code, BankStatement.sha256 == fingerprint)
    )
    if existing is not None:
        every = existing.credits + existing.duplicates
        return ImportResult(existing, False, existing.rows_read, 0, existing.debits, every, 0, 0)
    rows = parse(data, filename, mapping or mapping_for(code))
    credits = [r for r in rows if not r.debit]
    stored = _stored_ids(code, sorted({r.txn_id for r in credits}))
    fresh: list[Row] = []
    for row in credits:
        if row.txn_id not in stored:
            stored.add(row.txn_id)  # a second line of the same id in this file
            fresh.append(row)
    book = matching.load_book({r.value_date for r in fresh})
    matches = [matching.match(book, r) for r in fresh]
    matched = sum(1 for m in matches if m.loan_id is not None)
    statement = BankStatement(
        bank=code,
        filename=str(filename or "")[:255],
        sha256=fingerprint,
        uploaded_by_id=getattr(actor, "id", None),
        uploaded_at=utcnow(),
        first_date=min((r.value_date for r in rows), default=None),
        last_date=max((r.value_date for r in rows), default=None),
        rows_read=len(rows),
        credits=len(fresh),
        debits=len(rows) - len(credits),
        duplicates=len(credits) - len(fresh),
        matched=matched,
        unmatched=len(fresh) - matched,
    )
    now = utcnow()
    try:
        with db.session.begin_nested():
            db.session.add(statement)
            db.session.flush()
            bulk_insert(
                BankLine,
                [
                    _line_values(statement.id, code, row, found, now)
                    for row, found in zip(fresh, matches, strict=True)
                ],
            )
    except IntegrityError:
        raise Conflict(
            _("Một lần nhập khác đang ghi các dòng này; xin thử lại sau giây lát.")
        ) from None
    audit.record(
        actor,
        "import",
        "bank_statement",
        statement.id,
        after={
            "bank": code,
            "filename": statement.filename,
            "rows_read": statement.rows_read,
            "credits": statement.credits,
            "debits": statement.debits,
            "duplicates": statement.duplicates,
            "matched": statement.matched,
            "unmatched": statement.unmatched,
        },
    )
    return ImportResult(
        statement,
        True,
        statement.rows_read,
        statement.credits,
        statement.debits,
        statement.duplicates,
        statement.matched,
        statement.unmatched,
    )


def _line_values(
    statement_id: int, bank: str, row: Row, found: matching.Match, now: Any
) -> dict[str, Any]:
    return {
        "statement_id": statement_id,
        "bank": bank,
        "txn_id": row.txn_id,
        "line_no": row.line_no,
        "value_date": row.value_date,
        "amount": row.amount,
        "description": row.description,
        "payer_name": row.payer_name,
        "payer_account": row.payer_account,
        "loan_id": found.loan_id,
        "instalment_no": found.instalment_no,
        "method": found.method,
        "confidence": found.confidence,
        "reason": found.reason,
        "status": "matched" if found.loan_id is not None else "unmatched",
        "handled_by_id": None,
        "handled_at": None,
        "note": "",
        "created_at": now,
    }


def statement_lines(statement_id: int) -> list[BankLine]:
    if db.session.get(BankStatement, statement_id) is None:
        raise NotFound(_("Không tìm thấy sao kê."))
    return list(
        db.session.scalars(
            select(BankLine).where(BankLine.statement_id == statement_id).order_by(BankLine.line_no)
        )
    )


def open_lines(
    bank: str | None = None, statuses: tuple[str, ...] = ("unmatched",)
) -> list[BankLine]:
    """Lines waiting for the accountant across every statement, oldest first: by default
    the credits no loan was found for, which stay here until handled."""
    query = select(BankLine).where(BankLine.status.in_(statuses))
    if bank:
        query = query.where(BankLine.bank == _bank_code(bank))
    return list(db.session.scalars(query.order_by(BankLine.value_date, BankLine.id)))


def unmatched_lines(bank: str | None = None) -> list[BankLine]:
    return open_lines(bank, ("unmatched",))


_WHITESPACE = re.compile(r"\s+")


def correct_line(
    actor: Any,
    line_id: int,
    action: str,
    loan_id: int | None = None,
    instalment_no: int | None = None,
    note: str = "",
) -> BankLine:
    """The accountant's decision on one line: ``confirm`` the match, ``assign`` another
    loan (and instalment), ``clear`` the match, ``ignore`` a credit that repays no loan or
    mark it a ``duplicate`` of money already recorded (both with a reason), ``reopen`` one."""
    _require_accountant(actor)
    line = db.session.get(BankLine, line_id, with_for_update=True)
    if line is None:
        raise NotFound(_("Không tìm thấy dòng sao kê."))
    target = ACTIONS.get(action)
    if target is None:
        raise ValidationFailed(_("Thao tác không hợp lệ."))
    if line.batch_id is not None and line.status == "confirmed":
        raise Conflict(_("Dòng sao kê này đang trong lô chờ Giám đốc duyệt; chưa sửa được."))
    if not can_move(line.status, target) or (action == "confirm" and line.loan_id is None):
        raise Conflict(_("Dòng sao kê này không thể chuyển sang trạng thái đã chọn."))
    note = _WHITESPACE.sub(" ", str(note or "")).strip()[:500]
    before = _state(line)
    if action == "assign":
        loan = db.session.get(Loan, loan_id) if isinstance(loan_id, int) else None
        if loan is None or loan.status != LoanStatus.ACTIVE:
            raise ValidationFailed(
                _("Dữ liệu chưa hợp lệ, xin kiểm tra lại."),
                {"loan_id": _("Chọn một khoản vay đang vay.")},
            )
        if instalment_no is not None and (
            db.session.scalar(
                select(Instalment.id).where(
                    Instalment.loan_id == loan.id, Instalment.no == instalment_no
                )
            )
            is None
        ):
            raise ValidationFailed(
                _("Dữ liệu chưa hợp lệ, xin kiểm tra lại."),
                {"instalment_no": _("Khoản vay không có kỳ này.")},
            )
        line.loan_id, line.instalment_no = loan.id, instalment_no
        line.method, line.confidence = "manual", 100
        line.reason = _("Kế toán chọn hợp đồng %(c)s.", c=loan.contract_no)
    elif target in ("unmatched", "ignored", "duplicate"):
        if target != "unmatched" and not note:
            raise ValidationFailed(
                _("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), {"note": _("Nhập lý do.")}
            )
        line.loan_id, line.instalment_no, line.method, line.confidence = None, None, "none", 0
        if action == "clear":
            line.reason = _("Kế toán bỏ khớp.")
    line.status = target
    line.note = note
    line.handled_by_id = getattr(actor, "id", None)
    line.handled_at = utcnow()
    db.session.flush()
    audit.record(actor, action, "bank_line", line.id, before, _state(line), note)
    return line


def _state(line: BankLine) -> dict[str, Any]:
    return {
        "status": line.status,
        "loan_id": line.loan_id,
        "instalment_no": line.instalment_no,
        "method": line.method,
    }
