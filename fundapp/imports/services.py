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
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fundapp.cooperatives import services as cooperatives
from fundapp.cooperatives.models import KIND_LABELS, Cooperative, CooperativeKind
from fundapp.core import audit
from fundapp.core.formatting import date_filter, money_filter
from fundapp.core.security import Role
from fundapp.domain.dates import add_months, utcnow
from fundapp.domain.errors import N_, DomainError
from fundapp.extensions import db
from fundapp.funds import services as funds
from fundapp.imports.columns import normal
from fundapp.imports.parser import (
    CooperativeData,
    Dated,
    ImportFileError,
    LoanRow,
    ParsedLine,
    parse,
)
from fundapp.lending import services as lending
from fundapp.loans import store as book
from fundapp.loans.models import (
    DisbursementStatus,
    Loan,
    LoanStatus,
    LoanTransition,
)
from fundapp.policy import services as policy
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
    lending.require(actor, Role.ACCOUNTANT)
    origin_id = funds.resolve(origin, "origin")
    origin_code = funds.code_of(origin_id)
    name = (file_name or "").strip()[:255]
    try:
        lines = parse(data, name, as_of, max_bytes)
    except ImportFileError as exc:
        return ImportReport(name, not write, False, exc.message, origin_fund=origin_code)
    _check_against_book(lines, origin_id)
    good = [item for item in lines if item.row is not None and not item.reasons]
    shortfall = _cash_shortfall(good, as_of)
    savepoint = db.session.begin_nested()
    try:
        run = _Run(
            actor, _(IMPORTED) + f" ({name})", _group_cooperatives(good), origin_id, as_of=as_of
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


# --- checks against the fund's books ----------------------------------------------------------


def _check_against_book(lines: list[ParsedLine], origin_id: int | None = None) -> None:
    """Contract numbers already used in the same origin fund's book, cooperatives
    registered under another name, tax codes of another cooperative, borrower types the
    policy does not lend to, payments beyond anything the loan could owe."""
    contracts = {normal(i.contract_no) for i in lines if i.contract_no}
    same_book = (
        Loan.origin_fund_id.is_(None) if origin_id is None else Loan.origin_fund_id == origin_id
    )
    taken = {
        normal(no)
        for no in db.session.scalars(
            select(Loan.contract_no).where(func.lower(Loan.contract_no).in_(contracts), same_book)
        )
    }
    known = _known_cooperatives(lines)
    needs_tax = _new_registrations_without_tax(lines, known)
    for item in lines:
        if item.contract_no and normal(item.contract_no) in taken:
            item.reasons.append(_("số hợp đồng “%(c)s” đã có trong hệ thống", c=item.contract_no))
        coop = known.get(normal(item.registration_no))
        if coop is not None and item.cooperative_name:
            if normal(coop.name) != normal(item.cooperative_name):
                item.reasons.append(
                    _(
                        "số đăng ký “%(r)s” đã có trong hệ thống với tên “%(n)s”, khác tên "
                        "trong tệp",
                        r=item.registration_no,
                        n=coop.name,
                    )
                )
        elif item.line in needs_tax:
            item.reasons.append(_("thiếu mã số thuế (bắt buộc với hợp tác xã mới)"))
        if coop is None and item.tax_code:
            owner = db.session.scalar(
                select(Cooperative.name).where(Cooperative.tax_code == item.tax_code)
            )
            if owner is not None:
                item.reasons.append(
                    _(
                        "mã số thuế %(t)s đã thuộc hợp tác xã “%(n)s”",
                        t=item.tax_code,
                        n=owner,
                    )
                )
        if item.row is not None:
            kind = coop.kind if coop is not None else item.row.cooperative.kind
            _check_row(item, item.row, kind)
        if item.reasons:
            item.row = None


def _known_cooperatives(lines: list[ParsedLine]) -> dict[str, Cooperative]:
    numbers = {normal(i.registration_no) for i in lines if i.registration_no}
    return {
        normal(c.registration_no): c
        for c in db.session.scalars(
            select(Cooperative).where(func.lower(Cooperative.registration_no).in_(numbers))
        )
    }


def _new_registrations_without_tax(
    lines: list[ParsedLine], known: dict[str, Cooperative]
) -> set[int]:
    """The first line of each new cooperative when none of its lines gives a tax code."""
    first: dict[str, int] = {}
    taxed: set[str] = set()
    for item in lines:
        reg = normal(item.registration_no)
        if not reg or reg in known:
            continue
        first.setdefault(reg, item.line)
        if item.tax_code:
            taxed.add(reg)
    return {line for reg, line in first.items() if reg not in taxed}


def _check_row(item: ParsedLine, row: LoanRow, kind: str) -> None:
    kinds = policy.value("eligible_kinds", row.disbursement_date)
    if kind not in kinds:
        item.reasons.append(
            _(
                "loại hình “%(k)s” không thuộc đối tượng được vay theo chính sách",
                k=str(KIND_LABELS.get(CooperativeKind(kind), kind)),
            )
        )
    paid = sum(p.amount for p in row.payments)
    most = most_owed(row)
    if paid > most:
        item.reasons.append(
            _(
                "tổng các lần đã trả %(p)s vượt số tối đa khoản vay có thể phải trả %(m)s "
                "(gốc, lãi và lãi quá hạn)",
                p=money_filter(paid),
                m=money_filter(most),
            )
        )


def most_owed(row: LoanRow) -> int:
    """An upper bound of what the loan could ever owe by its last payment: all principal,
    interest at the overdue rate on all of it every day, and late interest on all the
    in-term interest for the whole span. A file paying more is wrong whatever the schedule."""
    first = row.disbursement_date
    end = max([add_months(first, row.terms.term_months), *(p.date for p in row.payments)])
    days = Decimal((end - first).days)
    principal = sum(t.amount for t in row.tranches)
    rate = row.terms.annual_rate / 100
    overdue = Decimal(policy.value("overdue_rate_pct", first)) / 100
    late = Decimal(policy.value("late_interest_rate", first)) / 100
    in_term = principal * rate * days / 365
    bound = principal + in_term * overdue + in_term * late * days / 365
    return int(bound) + 1


def _cash_shortfall(lines: list[ParsedLine], as_of: date) -> str | None:
    """The file would leave the fund's cash below zero: one message, no simulation."""
    need = sum(
        sum(t.amount for t in item.row.tranches) - sum(p.amount for p in item.row.payments)
        for item in lines
        if item.row is not None
    )
    cash = lending.cash_available(as_of)
    if need <= cash:
        return None
    return _(
        "Quỹ không đủ vốn cho các khoản vay trong tệp: số giải ngân trừ số đã thu là %(n)s, "
        "tiền của Quỹ hiện có %(c)s. Hãy ghi nhận các nguồn vốn (với ngày nhận thực tế) "
        "trước khi nhập.",
        n=money_filter(need),
        c=money_filter(cash),
    )


def _group_cooperatives(lines: list[ParsedLine]) -> dict[str, CooperativeData]:
    """Per registration number, what a new cooperative is created with: the first line's
    name, kind, district and sector, and the first tax code given."""
    out: dict[str, CooperativeData] = {}
    for item in lines:
        assert item.row is not None
        data = item.row.cooperative
        reg = normal(data.registration_no)
        known = out.get(reg)
        if known is None:
            out[reg] = data
        elif not known.tax_code and data.tax_code:
            out[reg] = CooperativeData(
                known.name,
                known.kind,
                known.registration_no,
                data.tax_code,
                known.district_code,
                known.sector,
                known.commune_code,
                known.commune_on,
            )
    return out


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
        snapshot = policy.snapshot(day)
        terms = row.terms
        loan = Loan(
            contract_no=row.contract_no,
            cooperative_id=coop.id,
            project_name=row.project_name,
            amount=row.amount,
            status=LoanStatus.APPROVED,
            term_months=terms.term_months,
            annual_rate=terms.annual_rate,
            principal_method=terms.principal_method,
            principal_every_months=terms.principal_every_months,
            interest_every_months=terms.interest_every_months,
            grace_months=terms.grace_months,
            custom_schedule=terms.custom_schedule,
            overdue_multiplier=Decimal(snapshot["overdue_rate_pct"]),
            late_rate=Decimal(snapshot["late_interest_rate"]),
            policy_snapshot=snapshot,
            approved_on=day,
            extensions=row.extensions,
            term_adjustments=row.term_adjustments,
            repayment_order=row.repayment_order,
            origin_fund_id=self.origin_id,
        )
        db.session.add(loan)
        db.session.flush()
        db.session.add(
            LoanTransition(
                entity="loan",
                entity_id=loan.id,
                from_status="",
                to_status=LoanStatus.APPROVED,
                at=utcnow(),
                user_id=self.actor.id,
                reason=self.note,
            )
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
        lending.transition(loan, LoanStatus.CONTRACTED, self.actor, self.note)
        loan.contract_date = day
        self.loans[row.line] = loan.id

    def _limits(self, row: LoanRow, coop: Cooperative) -> None:
        """The concentration limits, as the approval would check them on that date. The
        loans exist already, so a breach is reported, not refused."""
        proposal = SimpleNamespace(cooperative=coop, own_equity=0, total_project_cost=row.amount)
        for check in lending.rule_checks(proposal, row.amount, row.disbursement_date):  # type: ignore[arg-type]
            if check.code in ("single_borrower", "related_group") and not check.passed:
                self.warnings[row.line].append(f"{check.label}: {check.detail}")

    def _disburse(self, row: LoanRow, tranche: Dated) -> None:
        """Recorded by the importer through the disbursement service, then posted on its
        date without a second approver (it was approved in the old system)."""
        disbursement = lending.record_disbursement(
            self.actor,
            self.loans[row.line],
            {"amount": tranche.amount, "date": tranche.date, "reference": _(IMPORTED)},
            tranche.date,
        )
        loan = book.lock_loan(disbursement.loan_id)
        disbursement.status = DisbursementStatus.POSTED
        disbursement.decided_at = utcnow()
        db.session.flush()
        if loan.status == LoanStatus.CONTRACTED:
            lending.transition(loan, LoanStatus.ACTIVE, self.actor, self.note)
        _state, entry_id = book.refresh(
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
