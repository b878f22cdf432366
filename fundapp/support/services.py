"""Interest support: the schemes, enrolling a loan, the claims to the paying agency and
their payment (docs/rules.md#interest-support).

The split of each instalment is the engine's (``domain.support``, applied by the replay):
enrolling a loan snapshots the scheme's terms on it and replays it, so its schedule, its
balances and its ledger follow. The budget's share is billed to the budget's receivable
when the instalment falls due (``domain.posting``); a claim asks the paying agency for what
was billed and not yet claimed; its payment is cash in and the receivable out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from fundapp import audit
from fundapp.core import validation
from fundapp.core.lists import fold
from fundapp.core.security import Role, has_role
from fundapp.domain import accounts as acc
from fundapp.domain.cooperatives import CooperativeKind
from fundapp.domain.errors import N_, NotFound, PermissionDenied, ValidationFailed
from fundapp.domain.money import MoneyError, parse_rate
from fundapp.extensions import db
from fundapp.ledger.services import Line, balances, post
from fundapp.loans import store
from fundapp.loans.days import last_run_date
from fundapp.loans.models import Instalment, Loan, LoanStatus
from fundapp.loans.numbering import next_number
from fundapp.support.models import SupportClaim, SupportClaimLine, SupportScheme

ENROLLABLE = (LoanStatus.APPROVED, LoanStatus.CONTRACTED, LoanStatus.ACTIVE)
MANAGERS = (Role.DIRECTOR,)
CLAIM_STATUS_LABELS = {"submitted": N_("Đã gửi, chờ cấp"), "paid": N_("Đã cấp")}


def _require(actor: Any, roles: tuple[Role, ...]) -> None:
    if not any(has_role(actor, r) for r in roles):
        raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))


# --------------------------------------------------------------------------------------
# Schemes


def _words(raw: object) -> list[str]:
    """A list of words from a list or a comma/newline separated text, folded, unique."""
    items = raw if isinstance(raw, list) else str(raw or "").replace("\n", ",").split(",")
    out: list[str] = []
    for item in items:
        word = fold(str(item))
        if word and word not in out:
            out.append(word)
    return out


def parse_scheme(data: dict[str, Any]) -> dict[str, Any]:
    """A scheme's fields from a form or a JSON body, or every error at once."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {
        "code": validation.text(data, "code", 40, True, errors).upper(),
        "name": validation.text(data, "name", 200, True, errors),
        "legal_basis": validation.text(data, "legal_basis", 255, True, errors),
        "paying_agency": validation.text(data, "paying_agency", 200, True, errors),
        "first_due": validation.iso_date(data, "first_due", errors),
        "last_due": validation.iso_date(data, "last_due", errors, required=False),
        "cap_per_loan": None,
    }
    try:
        share = parse_rate(data.get("share"))
        if share <= 0:
            raise MoneyError("bad_rate")
        out["share"] = share
    except MoneyError:
        errors["share"] = _("Tỷ lệ hỗ trợ là phần trăm trên 0 đến 100 (ví dụ 50).")
    if data.get("cap_per_loan") not in (None, ""):
        out["cap_per_loan"] = validation.amount(data, "cap_per_loan", errors)
    first, last = out["first_due"], out["last_due"]
    if first and last and last < first:
        errors["last_due"] = _("Ngày cuối phải từ ngày đầu trở đi.")
    kinds = data.get("borrower_kinds") or []
    if isinstance(kinds, str):
        kinds = [k for k in kinds.replace(",", " ").split() if k]
    known = {k.value for k in CooperativeKind}
    if not isinstance(kinds, list) or any(not isinstance(k, str) or k not in known for k in kinds):
        errors["borrower_kinds"] = _("Loại đối tượng không hợp lệ.")
        kinds = []
    out["borrower_kinds"] = sorted(set(kinds))
    out["purposes"] = _words(data.get("purposes"))
    if len(out["purposes"]) > 30 or any(len(w) > 60 for w in out["purposes"]):
        errors["purposes"] = _("Tối đa 30 từ khóa, mỗi từ khóa tối đa 60 ký tự.")
    if out["code"] and db.session.scalar(
        select(SupportScheme.id).where(SupportScheme.code == out["code"])
    ):
        errors["code"] = _("Mã chương trình đã có.")
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    return out


def create_scheme(actor: Any, data: dict[str, Any]) -> SupportScheme:
    _require(actor, MANAGERS)
    fields = parse_scheme(data)
    scheme = SupportScheme(**fields, created_by_id=getattr(actor, "id", None))
    db.session.add(scheme)
    db.session.flush()
    audit.record(actor, "support_scheme.create", "support_scheme", scheme.id, after=fields)
    return scheme


def schemes() -> list[SupportScheme]:
    return list(db.session.scalars(select(SupportScheme).order_by(SupportScheme.id)))


def scheme(scheme_id: int) -> SupportScheme:
    found = db.session.get(SupportScheme, scheme_id)
    if found is None:
        raise NotFound(_("Không tìm thấy chương trình hỗ trợ lãi suất."))
    return found


# --------------------------------------------------------------------------------------
# Enrolment


def problems(loan: Loan, chosen: SupportScheme) -> list[str]:
    """Why ``loan`` cannot be supported by ``chosen`` (empty: it can)."""
    out = []
    if loan.status not in ENROLLABLE:
        out.append(_("Chỉ khoản vay đã phê duyệt, đã ký hợp đồng hoặc đang vay mới được hỗ trợ."))
    if loan.support_terms:
        out.append(_("Khoản vay đã được hỗ trợ lãi suất."))
    kind = loan.cooperative.kind if loan.cooperative is not None else None
    if chosen.borrower_kinds and kind not in chosen.borrower_kinds:
        out.append(_("Loại đối tượng vay không thuộc đối tượng của chương trình."))
    if chosen.purposes:
        text = fold(f"{loan.purpose} {loan.project_name}")
        if not any(word in text for word in chosen.purposes):
            out.append(
                _(
                    "Mục đích vay không thuộc lĩnh vực được hỗ trợ (%(w)s).",
                    w=", ".join(chosen.purposes),
                )
            )
    return out


def support_snapshot(chosen: SupportScheme, first_due: date) -> dict[str, Any]:
    """The scheme's terms as the loan keeps them (``loans.store.support_of`` reads them)."""
    return {
        "scheme_id": chosen.id,
        "share": format(chosen.share, "f"),
        "first_due": first_due.isoformat(),
        "last_due": chosen.last_due.isoformat() if chosen.last_due else None,
        "cap": chosen.cap_per_loan,
    }


def enrol(
    actor: Any, loan_id: int, scheme_id: int, today: date, first_due: date | None = None
) -> Loan:
    """Enrol a loan on a scheme from ``first_due`` (the scheme's first date by default; for a
    loan already disbursed, not before today: instalments already due keep their split)."""
    _require(actor, MANAGERS)
    loan = store.lock_loan(loan_id)
    chosen = scheme(scheme_id)
    start = max(chosen.first_due, first_due or chosen.first_due)
    errors = problems(loan, chosen)
    if chosen.last_due is not None and start > chosen.last_due:
        errors.append(_("Chương trình đã hết thời gian hỗ trợ."))
    if loan.disbursed and start < today:
        errors.append(
            _(
                "Khoản vay đã giải ngân: hỗ trợ tính từ kỳ đến hạn hôm nay (%(d)s) trở đi.",
                d=today.strftime("%d/%m/%Y"),
            )
        )
    if errors:
        raise ValidationFailed(errors[0], {"scheme_id": " ".join(errors)})
    loan.support_terms = support_snapshot(chosen, start)
    _replayed(actor, loan, today, _("Hỗ trợ lãi suất: %(c)s", c=chosen.code))
    audit.record(actor, "loan.support", "loan", loan.id, after=dict(loan.support_terms))
    return loan


def stop(actor: Any, loan_id: int, last_due: date, today: date, reason: str) -> Loan:
    """End a loan's support after ``last_due`` (not before today): later instalments are
    the borrower's in full."""
    _require(actor, MANAGERS)
    loan = store.lock_loan(loan_id)
    terms = dict(loan.support_terms or {})
    errors: dict[str, str] = {}
    if not terms:
        errors["last_due"] = _("Khoản vay không được hỗ trợ lãi suất.")
    elif last_due < today:
        errors["last_due"] = _("Ngày kết thúc hỗ trợ không được trước hôm nay.")
    note = validation.text({"reason": reason}, "reason", 500, True, errors)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), errors)
    current = date.fromisoformat(terms["last_due"]) if terms.get("last_due") else None
    terms["last_due"] = (min(current, last_due) if current else last_due).isoformat()
    before = dict(loan.support_terms or {})
    loan.support_terms = terms
    _replayed(actor, loan, today, _("Dừng hỗ trợ lãi suất"))
    audit.record(actor, "loan.support_stop", "loan", loan.id, before=before, after=terms, note=note)
    return loan


def _replayed(actor: Any, loan: Loan, today: date, description: str) -> None:
    if loan.disbursed:
        store.refresh(loan, today, "support", actor, loan.contract_no, description)


# --------------------------------------------------------------------------------------
# Claims


@dataclass(frozen=True)
class ClaimLine:
    loan_id: int
    contract_no: str
    cooperative: str
    no: int
    due_date: date
    interest: int  # the instalment's in-term interest
    supported: int  # the budget's share of it now
    borrower_share: int  # interest − supported
    claimed: int  # asked by earlier claims
    amount: int  # asked now: supported − claimed


@dataclass(frozen=True)
class ClaimPreview:
    scheme: SupportScheme
    period_from: date
    period_to: date
    lines: list[ClaimLine]

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def interest(self) -> int:
        return sum(line.interest for line in self.lines)

    @property
    def supported(self) -> int:
        return sum(line.supported for line in self.lines)


def enrolled_loans(scheme_id: int) -> list[Loan]:
    loans = db.session.scalars(select(Loan).where(Loan.support_terms.is_not(None)))
    return [loan for loan in loans if (loan.support_terms or {}).get("scheme_id") == scheme_id]


@dataclass(frozen=True)
class Enrolled:
    loan: Loan
    first_due: date
    last_due: date | None
    cap: int | None
    supported: int  # the budget's share over the whole schedule


def enrolled(scheme_id: int) -> list[Enrolled]:
    """The loans on the scheme with their terms and the budget's share of their schedule."""
    loans = enrolled_loans(scheme_id)
    totals = dict(
        db.session.execute(
            select(Instalment.loan_id, func.sum(Instalment.interest_supported))
            .where(Instalment.loan_id.in_([loan.id for loan in loans]))
            .group_by(Instalment.loan_id)
        ).all()
    )
    out = []
    for loan in sorted(loans, key=lambda item: item.contract_no):
        terms = loan.support or {}
        out.append(
            Enrolled(
                loan,
                terms["first_due"],
                terms["last_due"],
                terms["cap"],
                int(totals.get(loan.id) or 0),
            )
        )
    return out


def _claimed(scheme_id: int) -> dict[tuple[int, date], int]:
    out: dict[tuple[int, date], int] = defaultdict(int)
    for loan_id, due, amount in db.session.execute(
        select(SupportClaimLine.loan_id, SupportClaimLine.due_date, SupportClaimLine.amount)
        .join(SupportClaim)
        .where(SupportClaim.scheme_id == scheme_id)
    ):
        out[(loan_id, due)] += int(amount)
    return out


def next_period_from(chosen: SupportScheme) -> date:
    last = db.session.scalar(
        select(func.max(SupportClaim.period_to)).where(SupportClaim.scheme_id == chosen.id)
    )
    return last + timedelta(days=1) if last else chosen.first_due


def preview(chosen: SupportScheme, period_to: date) -> ClaimPreview:
    """What a claim up to ``period_to`` asks for: the budget's share of every supported
    instalment billed (fallen due before the last close of day, or settled ahead by the
    borrower) on or before ``period_to``, less what earlier claims asked."""
    book_date = last_run_date()
    claimed = _claimed(chosen.id)
    lines: list[ClaimLine] = []
    seen: set[tuple[int, date]] = set()
    loans = {loan.id: loan for loan in enrolled_loans(chosen.id)}
    # Every loan an earlier claim named, in case it has left the scheme since.
    for loan_id, _due in claimed:
        if loan_id not in loans:
            found = db.session.get(Loan, loan_id)
            if found is not None:
                loans[loan_id] = found
    rows = db.session.scalars(
        select(Instalment)
        .where(Instalment.loan_id.in_(list(loans)), Instalment.interest_supported > 0)
        .order_by(Instalment.loan_id, Instalment.no)
    )
    for row in rows:
        due = book_date is not None and row.due_date < book_date
        borrower_paid = row.interest_paid - row.interest_supported - row.interest_waived
        settled = row.principal_paid == row.principal and row.interest_paid == row.interest
        ahead = settled and borrower_paid > 0 and row.paid_on is not None
        loan = loans[row.loan_id]
        # A loan paid off: nothing more falls due, so its budget's share is billed.
        closed = loan.status == LoanStatus.CLOSED and loan.closed_on is not None
        billed_on = (
            row.due_date if due else row.paid_on if ahead else loan.closed_on if closed else None
        )
        if billed_on is None or billed_on > period_to:
            continue
        key = (row.loan_id, row.due_date)
        seen.add(key)
        lines.append(
            _line(loan, row.no, row.due_date, row.interest, row.interest_supported, claimed)
        )
    for key, amount in claimed.items():
        if key not in seen and amount:
            loan = loans[key[0]]
            lines.append(_line(loan, 0, key[1], 0, 0, claimed))
    lines = [line for line in lines if line.amount]
    lines.sort(key=lambda line: (line.contract_no, line.due_date))
    return ClaimPreview(chosen, next_period_from(chosen), period_to, lines)


def _line(
    loan: Loan, no: int, due: date, interest: int, supported: int, claimed: dict
) -> ClaimLine:
    before = claimed.get((loan.id, due), 0)
    return ClaimLine(
        loan.id,
        loan.contract_no,
        loan.cooperative.name,
        no,
        due,
        int(interest),
        int(supported),
        int(interest) - int(supported),
        before,
        int(supported) - before,
    )


def submit_claim(
    actor: Any, scheme_id: int, period_to: date, today: date, note: str = ""
) -> SupportClaim:
    """Record the claim up to ``period_to`` (before today) with its lines."""
    _require(actor, (Role.ACCOUNTANT, Role.DIRECTOR))
    chosen = scheme(scheme_id)
    errors: dict[str, str] = {}
    text = validation.text({"note": note}, "note", 500, False, errors)
    if period_to >= today:
        errors["period_to"] = _("Kỳ đề nghị cấp bù phải kết thúc trước hôm nay.")
    elif period_to < next_period_from(chosen):
        errors["period_to"] = _("Kỳ này đã được đề nghị cấp bù.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), errors)
    # One claim at a time per scheme: the scheme row is the lock.
    db.session.execute(
        select(SupportScheme.id).where(SupportScheme.id == chosen.id).with_for_update()
    )
    draft = preview(chosen, period_to)
    if draft.total <= 0:
        raise ValidationFailed(
            _("Không có khoản hỗ trợ nào chưa đề nghị cấp bù đến ngày này."),
            {"period_to": _("Không có khoản hỗ trợ nào chưa đề nghị cấp bù đến ngày này.")},
        )
    claim = SupportClaim(
        scheme_id=chosen.id,
        reference=next_number(f"HTLS-{today.year}", 4),
        period_from=draft.period_from,
        period_to=period_to,
        amount=draft.total,
        status="submitted",
        submitted_by_id=getattr(actor, "id", None),
        submitted_at=datetime.now().astimezone(),
        note=text,
        lines=[
            SupportClaimLine(
                loan_id=line.loan_id,
                due_date=line.due_date,
                no=line.no,
                interest=line.interest,
                supported=line.supported,
                amount=line.amount,
            )
            for line in draft.lines
        ],
    )
    db.session.add(claim)
    db.session.flush()
    audit.record(
        actor,
        "support_claim.submit",
        "support_claim",
        claim.id,
        after={"reference": claim.reference, "amount": claim.amount, "to": period_to},
    )
    return claim


def claim(claim_id: int) -> SupportClaim:
    found = db.session.get(SupportClaim, claim_id)
    if found is None:
        raise NotFound(_("Không tìm thấy hồ sơ đề nghị cấp bù."))
    return found


def record_payment(
    actor: Any, claim_id: int, paid_on: date, reference: str, today: date
) -> SupportClaim:
    """The agency paid the claim: Dr cash / Cr the budget's receivable, once."""
    _require(actor, (Role.ACCOUNTANT,))
    found = db.session.execute(
        select(SupportClaim).where(SupportClaim.id == claim_id).with_for_update(of=SupportClaim)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(_("Không tìm thấy hồ sơ đề nghị cấp bù."))
    errors: dict[str, str] = {}
    ref = validation.text({"reference": reference}, "reference", 80, True, errors)
    if found.status == "paid":
        errors["paid_on"] = _("Hồ sơ này đã được ghi nhận cấp bù.")
    elif paid_on > today:
        errors["paid_on"] = _("Ngày nhận tiền không được sau hôm nay.")
    elif paid_on <= found.period_to:
        errors["paid_on"] = _("Ngày nhận tiền phải sau kỳ đề nghị cấp bù.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), errors)
    entry = post(
        paid_on,
        "support_claim",
        [
            Line(acc.CASH, debit=found.amount),
            Line(acc.SUPPORT_RECEIVABLE, credit=found.amount),
        ],
        actor=actor,
        reference=found.reference,
        description=_("Nhận cấp bù hỗ trợ lãi suất %(r)s", r=found.reference),
    )
    found.status = "paid"
    found.paid_on = paid_on
    found.paid_reference = ref
    found.paid_by_id = getattr(actor, "id", None)
    found.paid_entry_id = entry.id
    audit.record(
        actor,
        "support_claim.paid",
        "support_claim",
        found.id,
        after={"paid_on": paid_on, "reference": ref, "amount": found.amount},
    )
    return found


def claims(scheme_id: int | None = None) -> list[SupportClaim]:
    query = select(SupportClaim).order_by(SupportClaim.id.desc())
    if scheme_id is not None:
        query = query.where(SupportClaim.scheme_id == scheme_id)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class Receivable:
    """The budget's receivable as of a date: on the ledger, and how much of it is claimed."""

    as_of: date
    balance: int  # the ledger's balance of the budget's receivable
    claimed_unpaid: int  # in claims sent and not yet paid
    not_claimed: int  # billed, not yet in a claim


def receivable(as_of: date) -> Receivable:
    claimed = db.session.scalar(
        select(func.coalesce(func.sum(SupportClaim.amount), 0)).where(
            SupportClaim.status == "submitted"
        )
    )
    balance = balances(as_of)[acc.SUPPORT_RECEIVABLE]
    return Receivable(as_of, balance, int(claimed or 0), balance - int(claimed or 0))


def share_label(share: Decimal) -> str:
    return f"{format(share.normalize(), 'f')} %"
