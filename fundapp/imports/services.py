"""Dry run and import of a loan file.

Both run the whole file through the real services inside a savepoint: cooperatives are
registered, each loan gets its contract with the policy in force on its first
disbursement, each tranche is recorded and posted on its own date, and each repayment is
recorded on its value date, so allocation, receipts and journal entries are the engine's.
Events run in date order across the file (disbursements before repayments on one day),
so every cash check sees the fund as it stood on that date. A dry run, or a file with any
bad row, rolls the savepoint back: nothing is written, and every bad row is reported.

An import is one accountant's migration of loans the fund approved and disbursed in its
old system. It does not pretend to a second approval: the importer is the maker of every
record, tranches are posted without an approver, and the loans, their transitions and the
import itself are audited as imported ("nhập từ hệ thống cũ").
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fundapp import audit
from fundapp.cooperatives import services as cooperatives
from fundapp.cooperatives.models import Cooperative
from fundapp.core.formatting import date_filter, money_filter
from fundapp.core.security import Role
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import N_, DomainError
from fundapp.extensions import db
from fundapp.funds import services as funds
from fundapp.imports.book_checks import cash_shortfall, check_against_book, group_cooperatives
from fundapp.imports.cells import Dated
from fundapp.imports.columns import normal
from fundapp.imports.parser import (
    CooperativeData,
    ImportFileError,
    LoanRow,
    ParsedLine,
    parse,
)
from fundapp.lending import contracts, disbursements, lifecycle, limits
from fundapp.loans import store
from fundapp.loans.models import (
    DisbursementStatus,
    Loan,
    LoanStatus,
)
from fundapp.repayments import services as repayments

IMPORTED = N_("Nhập từ hệ thống cũ")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class RowResult:
    line: int
    contract_no: str
    cooperative: str
    reasons: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    principal_outstanding: int | None = None
    status: str | None = None

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def message(self) -> str:
        """One message for the line, naming every reason."""
        if self.ok:
            return ""
        return _("Dòng %(n)s: %(r)s", n=self.line, r="; ".join(self.reasons))

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "contract_no": self.contract_no,
            "cooperative": self.cooperative,
            "ok": self.ok,
            "message": self.message,
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
            "principal_outstanding": self.principal_outstanding,
            "status": self.status,
        }


@dataclass(frozen=True)
class ImportReport:
    file_name: str
    dry_run: bool
    imported: bool
    error: str | None
    rows: tuple[RowResult, ...] = ()
    cooperatives_created: int = 0
    origin_fund: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.rows) and all(r.ok for r in self.rows)

    @property
    def bad_rows(self) -> list[RowResult]:
        return [r for r in self.rows if not r.ok]

    @property
    def principal_outstanding(self) -> int:
        return sum(r.principal_outstanding or 0 for r in self.rows if r.ok)

    @property
    def summary(self) -> str:
        if self.error:
            return self.error
        if not self.ok:
            return _(
                "Tệp có %(n)s dòng lỗi trên %(t)s dòng; không có dữ liệu nào được ghi.",
                n=len(self.bad_rows),
                t=len(self.rows),
            )
        if self.imported:
            return _(
                "Đã nhập %(n)s khoản vay, dư nợ gốc %(o)s.",
                n=len(self.rows),
                o=money_filter(self.principal_outstanding),
            )
        return _(
            "Kiểm tra thử: %(n)s khoản vay hợp lệ, dư nợ gốc %(o)s; chưa ghi gì.",
            n=len(self.rows),
            o=money_filter(self.principal_outstanding),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "dry_run": self.dry_run,
            "imported": self.imported,
            "ok": self.ok,
            "message": self.summary,
            "loans": len(self.rows) if self.ok else 0,
            "bad_rows": len(self.bad_rows),
            "cooperatives_created": self.cooperatives_created,
            "principal_outstanding": self.principal_outstanding,
            "origin_fund": self.origin_fund,
            "rows": [r.to_dict() for r in self.rows],
        }


def dry_run(
    actor: Any,
    data: bytes,
    file_name: str,
    as_of: date,
    max_bytes: int = DEFAULT_MAX_BYTES,
    origin: str | None = None,
) -> ImportReport:
    """Everything the import would do, then rolled back: the report, nothing written."""
    return _run(actor, data, file_name, as_of, max_bytes, write=False, origin=origin)


def import_loans(
    actor: Any,
    data: bytes,
    file_name: str,
    as_of: date,
    max_bytes: int = DEFAULT_MAX_BYTES,
    origin: str | None = None,
) -> ImportReport:
    """The whole file, or nothing when any row is refused. Flushes; the caller commits.

    ``origin`` names the fund whose book the file is (a fund taken over, ``flask origins
    add``): its loans and the cooperatives it registers carry that origin, and its
    contract numbers need only be unique within that fund's book. Blank: this fund's."""
    return _run(actor, data, file_name, as_of, max_bytes, write=True, origin=origin)


def _run(
    actor: Any,
    data: bytes,
    file_name: str,
    as_of: date,
    max_bytes: int,
    write: bool,
    origin: str | None = None,
) -> ImportReport:
    lifecycle.require(actor, Role.ACCOUNTANT)
    origin_id = funds.resolve(origin, "origin")
    origin_code = funds.code_of(origin_id)
    name = (file_name or "").strip()[:255]
    try:
        lines = parse(data, name, as_of, max_bytes)
    except ImportFileError as exc:
        return ImportReport(name, not write, False, exc.message, origin_fund=origin_code)
    check_against_book(lines, origin_id)
    good = [item for item in lines if item.row is not None and not item.reasons]
    shortfall = cash_shortfall(good, as_of)
    savepoint = db.session.begin_nested()
    try:
        run = _Run(
            actor, _(IMPORTED) + f" ({name})", group_cooperatives(good), origin_id, as_of=as_of
        )
        if shortfall is None:
            run.simulate(good)
        results = tuple(run.result(item) for item in lines)
        clean = shortfall is None and all(r.ok for r in results)
        if write and clean:
            _audit_import(actor, name, data, results, run.created, origin_id)
            savepoint.commit()
        else:
            savepoint.rollback()
    except BaseException:
        savepoint.rollback()
        raise
    return ImportReport(
        name, not write, write and clean, shortfall, results, run.created, origin_code
    )


# --- the run ----------------------------------------------------------------------------------

OPEN, DISBURSE, REPAY = range(3)


@dataclass
class _Run:
    actor: Any
    note: str
    cooperative_data: dict[str, CooperativeData]
    origin_id: int | None = None
    cooperatives: dict[str, int] = field(default_factory=dict)
    loans: dict[int, int] = field(default_factory=dict)
    warnings: defaultdict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    created: int = 0
    as_of: date | None = None  # the import's business date (a new cooperative's registration)

    def simulate(self, lines: list[ParsedLine]) -> None:
        events: list[tuple[date, int, int, int, ParsedLine, Dated | None]] = []
        for item in lines:
            row = item.row
            assert row is not None
            events.append((row.disbursement_date, OPEN, row.line, 0, item, None))
            events += [(t.date, DISBURSE, row.line, n, item, t) for n, t in enumerate(row.tranches)]
            events += [(p.date, REPAY, row.line, n, item, p) for n, p in enumerate(row.payments)]
        events.sort(key=lambda e: e[:4])
        for day, kind, _line, _n, item, dated in events:
            if item.reasons:
                continue  # an earlier event of this loan was refused
            try:
                with db.session.begin_nested():
                    self._apply(kind, day, item.row, dated)  # type: ignore[arg-type]
            except DomainError as exc:
                item.reasons.append(_event_reason(kind, day, dated, exc))
            except IntegrityError:
                # Another user wrote the same contract or cooperative meanwhile.
                message = _("Dữ liệu vừa được người khác thay đổi; xin kiểm tra lại tệp.")
                item.reasons.append(_event_reason(kind, day, dated, DomainError(message)))

    def _apply(self, kind: int, day: date, row: LoanRow, dated: Dated | None) -> None:
        if kind == OPEN:
            self._open(row)
        elif kind == DISBURSE:
            assert dated is not None
            self._disburse(row, dated)
        else:
            assert dated is not None
            repayments.record_repayment(
                self.actor,
                self.loans[row.line],
                {
                    "amount": dated.amount,
                    "date": dated.date,
                    "method": "bank",
                    "reference": _(IMPORTED),
                },
                dated.date,
            )

    def _cooperative(self, row: LoanRow) -> Cooperative:
        reg = normal(row.cooperative.registration_no)
        if reg in self.cooperatives:
            coop = db.session.get(Cooperative, self.cooperatives[reg])
            assert coop is not None
            return coop
        coop = db.session.scalar(
            select(Cooperative).where(func.lower(Cooperative.registration_no) == reg)
        )
        if coop is None:
            data = self.cooperative_data[reg]
            # The former district as written; the commune of the loan's time (or of today),
            # shown through its successions. Neither: the officer confirms the commune
            # (the cooperative is listed among those to confirm).
            coop = cooperatives.create(
                self.actor,
                {
                    "name": data.name,
                    "kind": data.kind,
                    "registration_no": data.registration_no,
                    "tax_code": data.tax_code,
                    "commune_code": data.commune_code,
                    "former_district_code": data.district_code,
                    "sector": data.sector,
                },
                as_of=self.as_of,
                entered_on=data.commune_on,
            )
            # A borrower first registered by a book taken over belongs to that book.
            coop.origin_fund_id = self.origin_id
            self.created += 1
        self.cooperatives[reg] = coop.id
        return coop

    def _open(self, row: LoanRow) -> None:
        """The loan as the old system approved it: contract dated on the first
        disbursement, with the policy in force that day."""
        coop = self._cooperative(row)
        day = row.disbursement_date
        self._limits(row, coop)
        loan = contracts.new_loan(
            self.actor,
            row.terms,
            day,
            self.note,
            contract_no=row.contract_no,
            cooperative_id=coop.id,
            project_name=row.project_name,
            amount=row.amount,
            extensions=row.extensions,
            term_adjustments=row.term_adjustments,
            repayment_order=row.repayment_order,
            origin_fund_id=self.origin_id,
        )
        audit.record(
            self.actor,
            "loan.import",
            "loan",
            loan.id,
            None,
            {
                "contract_no": loan.contract_no,
                "amount": loan.amount,
                "cooperative": coop.registration_no,
                "extensions": row.extensions,
                "term_adjustments": row.term_adjustments,
                "repayment_order": row.repayment_order,
                "origin_fund": funds.code_of(self.origin_id),
            },
            note=self.note,
        )
        lifecycle.transition(loan, LoanStatus.CONTRACTED, self.actor, self.note)
        loan.contract_date = day
        self.loans[row.line] = loan.id

    def _limits(self, row: LoanRow, coop: Cooperative) -> None:
        """The concentration limits, as the approval would check them on that date. The
        loans exist already, so a breach is reported, not refused."""
        proposal = SimpleNamespace(cooperative=coop, own_equity=0, total_project_cost=row.amount)
        for check in limits.rule_checks(proposal, row.amount, row.disbursement_date):  # type: ignore[arg-type]
            if check.code in ("single_borrower", "related_group") and not check.passed:
                self.warnings[row.line].append(f"{check.label}: {check.detail}")

    def _disburse(self, row: LoanRow, tranche: Dated) -> None:
        """Recorded by the importer through the disbursement service, then posted on its
        date without a second approver (it was approved in the old system)."""
        disbursement = disbursements.record_disbursement(
            self.actor,
            self.loans[row.line],
            {"amount": tranche.amount, "date": tranche.date, "reference": _(IMPORTED)},
            tranche.date,
        )
        loan = store.lock_loan(disbursement.loan_id)
        disbursement.status = DisbursementStatus.POSTED
        disbursement.decided_at = utcnow()
        db.session.flush()
        if loan.status == LoanStatus.CONTRACTED:
            lifecycle.transition(loan, LoanStatus.ACTIVE, self.actor, self.note)
        _state, entry_id = store.refresh(
            loan,
            tranche.date,
            "disbursement",
            self.actor,
            disbursement.receipt_no,
            _("Giải ngân %(c)s", c=loan.contract_no),
        )
        disbursement.journal_entry_id = entry_id
        audit.record(
            self.actor,
            "disbursement.import",
            "disbursement",
            disbursement.id,
            None,
            {"loan": loan.contract_no, "amount": tranche.amount, "date": tranche.date},
            note=self.note,
        )

    def result(self, item: ParsedLine) -> RowResult:
        base = (item.line, item.contract_no, item.cooperative_name, tuple(item.reasons))
        warnings = tuple(self.warnings.get(item.line, ()))
        loan_id = self.loans.get(item.line)
        if item.reasons or loan_id is None:
            return RowResult(*base, warnings)
        loan = db.session.get(Loan, loan_id)
        assert loan is not None
        return RowResult(*base, warnings, loan.principal_outstanding, loan.status)


def _event_reason(kind: int, day: date, dated: Dated | None, exc: DomainError) -> str:
    detail = "; ".join(m.rstrip(".") for m in exc.fields.values()) or exc.message.rstrip(".")
    if kind == DISBURSE:
        return _("đợt giải ngân ngày %(d)s: %(m)s", d=date_filter(day), m=detail)
    if kind == REPAY and dated is not None:
        return _(
            "lần trả ngày %(d)s (%(a)s): %(m)s",
            d=date_filter(day),
            a=money_filter(dated.amount),
            m=detail,
        )
    return detail


def _audit_import(
    actor: Any,
    file_name: str,
    data: bytes,
    results: tuple[RowResult, ...],
    created: int,
    origin_id: int | None = None,
) -> None:
    audit.record(
        actor,
        "loans.import",
        "import",
        "",
        None,
        {
            "file": file_name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "rows": len(results),
            "loans": [r.contract_no for r in results],
            "cooperatives_created": created,
            "principal_outstanding": sum(r.principal_outstanding or 0 for r in results),
            "origin_fund": funds.code_of(origin_id),
        },
        note=_(IMPORTED),
    )
