"""The data of the credit file's documents after the loan is paid out
(``documents.credit_file``): the minutes of an inspection of the use of the loan, a
restructuring's request and decision, the notice of early recall for misuse, the
liquidation of the contract and the release of a collateral once the loan is closed.

Like ``documents.file_data``, each builder reads stored facts only (the loan's columns, its
stored instalments, the request's row) and returns plain values: the same facts give the
same data whatever the day it runs. Amounts owed are the loan's as stored, never worked out
to today.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from fundapp.audit.models import AuditLog
from fundapp.documents import credit_file
from fundapp.documents.credit_file import kind
from fundapp.documents.file_data import (
    _money,
    _person,
    borrower,
    collaterals_of,
    contract_date_of,
    fund,
)
from fundapp.documents.positions import local_date
from fundapp.domain import schedule as plans
from fundapp.extensions import db
from fundapp.lending.inspections import FINDINGS
from fundapp.loans import store
from fundapp.loans.models import ApprovalStatus, Collateral, Inspection, Loan, Restructuring
from fundapp.loans.queries import instalments_of, posted_disbursements

REPAY_WITHIN_DAYS = 30  # the recall notice's time to repay, from the notice's date
# The documents are Vietnamese legal text: these labels print as they are, untranslated.
RESTRUCTURING_KINDS = {"term_adjustment": "điều chỉnh kỳ hạn trả nợ", "extension": "gia hạn nợ"}

LOAN_FIELD = _l(
    "Khoản vay: contract_no, contract_date, project_name, purpose, amount (value, words), "
    "disbursed (value, words), principal_outstanding (value, words), annual_rate, "
    "term_months, maturity_date (ngày đáo hạn đang lưu)"
)


def _loan(loan: Loan) -> dict[str, Any]:
    """The loan as stored: its contract, what was paid out and what is still owed."""
    return {
        "contract_no": loan.contract_no,
        "contract_date": contract_date_of(loan),
        "project_name": loan.project_name,
        "purpose": loan.purpose or "",
        "amount": _money(loan.amount),
        "disbursed": _money(loan.disbursed),
        "principal_outstanding": _money(loan.principal_outstanding),
        "annual_rate": loan.annual_rate,
        "term_months": loan.term_months,
        "maturity_date": loan.maturity_date,
    }


def _loan_of(item: Any) -> Loan:
    loan = db.session.get(Loan, item.loan_id)
    assert loan is not None
    return loan


# --- the inspection of the use of the loan ---------------------------------------------------

INSPECTION_FIELDS = [
    ("title", _l("Tên văn bản")),
    ("document_date", _l("Ngày kiểm tra")),
    ("fund", _l("Quỹ")),
    ("borrower", _l("Bên vay")),
    ("loan", LOAN_FIELD),
    ("finding", _l("Kết quả: proper, partial hoặc improper")),
    ("finding_label", _l("Kết quả kiểm tra (chữ)")),
    ("notes", _l("Nội dung kiểm tra, ghi nhận")),
    ("inspector", _l("Cán bộ kiểm tra")),
]


def _finding(item: Inspection) -> dict[str, Any]:
    return {"finding": item.finding, "finding_label": FINDINGS.get(item.finding, item.finding)}


@kind("inspection", _l("Biên bản kiểm tra sử dụng vốn vay"), "inspection", "BBKT",
      "bien-ban-kiem-tra", INSPECTION_FIELDS)  # fmt: skip
def inspection_data(item: Inspection) -> dict[str, Any]:
    loan = _loan_of(item)
    return {
        "title": str(_l("Biên bản kiểm tra sử dụng vốn vay")),
        "document_date": item.inspected_on,
        "fund": fund(),
        "borrower": borrower(loan.cooperative),
        "loan": _loan(loan),
        **_finding(item),
        "notes": item.notes or "",
        "inspector": _person(item.inspector),
    }


# --- the notice of early recall --------------------------------------------------------------

RECALL_FIELDS = [
    ("title", _l("Tên văn bản")),
    ("document_date", _l("Ngày thông báo (ngày kiểm tra)")),
    ("fund", _l("Quỹ")),
    ("borrower", _l("Bên vay")),
    ("loan", LOAN_FIELD),
    ("finding", _l("Kết quả kiểm tra: proper, partial hoặc improper")),
    ("finding_label", _l("Kết quả kiểm tra (chữ)")),
    ("notes", _l("Nội dung vi phạm ghi nhận khi kiểm tra")),
    ("inspector", _l("Cán bộ kiểm tra")),
    ("inspected_on", _l("Ngày kiểm tra")),
    ("principal_due", _l("Nợ gốc đã đến hạn chưa trả: value, words")),
    ("interest_due", _l("Lãi đã đến hạn chưa trả: value, words")),
    ("overdue_interest", _l("Lãi quá hạn, lãi chậm trả đã tính chưa trả: value, words")),
    ("total_owed", _l("Tổng số phải trả (dư nợ gốc + lãi + lãi quá hạn): value, words")),
    ("repay_within_days", _l("Thời hạn trả nợ (số ngày kể từ ngày thông báo)")),
    ("repay_by", _l("Hạn trả nợ (ngày)")),
]


def owed_as_stored(loan: Loan, day: date) -> dict[str, int]:
    """What the loan owes by ``day`` as its stored instalments stand: principal and interest
    of the rows due by then and unpaid, and the overdue interest accrued to the last close of
    day and unpaid (``penalty_accrued`` less ``penalty_paid``, which counts waivers)."""
    principal = interest = overdue = 0
    for row in instalments_of(loan):
        if row.due_date <= day:
            principal += row.principal - row.principal_paid
            interest += row.interest - row.interest_paid
        overdue += max(row.penalty_accrued - row.penalty_paid, 0)
    return {"principal": principal, "interest": interest, "overdue": overdue}


@kind("recall_notice", _l("Thông báo thu hồi nợ trước hạn"), "inspection", "TBTH",
      "thong-bao-thu-hoi-no", RECALL_FIELDS)  # fmt: skip
def recall_data(item: Inspection) -> dict[str, Any]:
    loan = _loan_of(item)
    day = item.inspected_on
    owed = owed_as_stored(loan, day)
    total = loan.principal_outstanding + owed["interest"] + owed["overdue"]
    return {
        "title": str(_l("Thông báo thu hồi nợ trước hạn")),
        "document_date": day,
        "fund": fund(),
        "borrower": borrower(loan.cooperative),
        "loan": _loan(loan),
        **_finding(item),
        "notes": item.notes or "",
        "inspector": _person(item.inspector),
        "inspected_on": item.inspected_on,
        "principal_due": _money(owed["principal"]),
        "interest_due": _money(owed["interest"]),
        "overdue_interest": _money(owed["overdue"]),
        "total_owed": _money(total),
        "repay_within_days": REPAY_WITHIN_DAYS,
        "repay_by": day + timedelta(days=REPAY_WITHIN_DAYS),
    }


# --- restructuring: the request and the decision ---------------------------------------------

RESTRUCTURING_FIELDS = [
    ("title", _l("Tên văn bản")),
    ("document_date", _l("Ngày của văn bản")),
    ("fund", _l("Quỹ")),
    ("borrower", _l("Bên vay")),
    ("loan", LOAN_FIELD),
    ("contract_maturity", _l("Ngày đáo hạn theo hợp đồng (theo các lần giải ngân)")),
    ("kind", _l("term_adjustment (điều chỉnh kỳ hạn) hoặc extension (gia hạn nợ)")),
    ("kind_label", _l("Hình thức cơ cấu (chữ)")),
    ("reason", _l("Lý do đề nghị")),
    ("effective_date", _l("Ngày hiệu lực")),
    ("new_maturity", _l("Ngày đáo hạn mới (gia hạn nợ)")),
    ("principal_plan", _l("Lịch trả gốc mới: due_date, amount (value, words; trống: chia đều)")),
    ("requested_by", _l("Cán bộ lập đề nghị")),
    ("requested_on", _l("Ngày đề nghị")),
]
DECISION_FIELDS = [
    *RESTRUCTURING_FIELDS,
    ("status", _l("approved hoặc rejected")),
    ("approved", _l("true: chấp thuận; false: từ chối")),
    ("decided_by", _l("Người quyết định")),
    ("decision_note", _l("Ý kiến, lý do của người quyết định")),
]


def contract_maturity(loan: Loan) -> date | None:
    """The maturity of the contract's terms for the tranches paid out: the date before any
    restructuring (the stored ``maturity_date`` moves with an approved one)."""
    tranches = [plans.Disbursement(d.value_date, d.amount) for d in posted_disbursements(loan.id)]
    if not tranches:
        return loan.maturity_date
    rows = plans.build_schedule(store.terms_of(loan), tranches)
    return rows[-1].due_date if rows else loan.maturity_date


def _plan(item: Restructuring) -> list[dict[str, Any]]:
    return [
        {"due_date": date.fromisoformat(day), "amount": _money(amount) if amount else None}
        for day, amount in (item.principal_plan or [])
    ]


def restructuring_common(item: Restructuring) -> dict[str, Any]:
    loan = _loan_of(item)
    requested_on = local_date(item.created_at) or item.effective_date
    return {
        "document_date": requested_on,
        "fund": fund(),
        "borrower": borrower(loan.cooperative),
        "loan": _loan(loan),
        "contract_maturity": contract_maturity(loan),
        "kind": item.kind,
        "kind_label": RESTRUCTURING_KINDS.get(item.kind, item.kind),
        "reason": item.reason or "",
        "effective_date": item.effective_date,
        "new_maturity": item.new_maturity,
        "principal_plan": _plan(item),
        "requested_by": _person(item.requested_by),
        "requested_on": requested_on,
    }


@kind("restructuring_request", _l("Đơn đề nghị điều chỉnh kỳ hạn / gia hạn nợ"), "restructuring",
      "ĐNCC", "de-nghi-co-cau", RESTRUCTURING_FIELDS)  # fmt: skip
def restructuring_request_data(item: Restructuring) -> dict[str, Any]:
    data = restructuring_common(item)
    return {"title": "Đơn đề nghị " + data["kind_label"], **data}


def decision_note(item: Restructuring) -> str:
    """The decider's note: a restructuring keeps it in its audit record only."""
    note = db.session.scalar(
        select(AuditLog.note)
        .where(
            AuditLog.entity == "restructuring",
            AuditLog.entity_id == str(item.id),
            AuditLog.action.in_(("restructuring.approve", "restructuring.reject")),
        )
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
    return note or ""


@kind("restructuring_decision", _l("Quyết định điều chỉnh kỳ hạn / gia hạn nợ"), "restructuring",
      "QĐCC", "quyet-dinh-co-cau", DECISION_FIELDS)  # fmt: skip
def restructuring_decision_data(item: Restructuring) -> dict[str, Any]:
    data = restructuring_common(item)
    approved = item.status == ApprovalStatus.APPROVED
    label = data["kind_label"]
    title = f"Quyết định {label}" if approved else f"Thông báo từ chối {label}"
    return {
        **data,
        "title": title,
        "document_date": local_date(item.decided_at) or data["requested_on"],
        "status": item.status,
        "approved": approved,
        "decided_by": _person(item.approved_by),
        "decision_note": decision_note(item) if item.decided_at is not None else "",
    }


# --- closure: the contract's liquidation and the collaterals' release ------------------------

CLOSURE_FIELDS = [
    ("title", _l("Tên văn bản")),
    ("document_date", _l("Ngày tất toán khoản vay")),
    ("closed_on", _l("Ngày tất toán khoản vay")),
    ("fund", _l("Quỹ")),
    ("borrower", _l("Bên vay")),
    ("loan", LOAN_FIELD),
    ("principal_paid", _l("Nợ gốc đã trả: value, words")),
    ("interest_paid", _l("Lãi đã trả: value, words")),
    ("penalty_paid", _l("Lãi quá hạn, lãi chậm trả đã trả: value, words")),
    ("total_paid", _l("Tổng số đã trả: value, words")),
    ("collaterals", _l("Tài sản bảo đảm được giải chấp: kind, description, valuation")),
]


@kind("closure", _l("Biên bản thanh lý hợp đồng tín dụng"), "loan", "TLHĐ", "thanh-ly-hop-dong",
      CLOSURE_FIELDS)  # fmt: skip
def closure_data(loan: Loan) -> dict[str, Any]:
    day = loan.closed_on or contract_date_of(loan)
    paid = loan.principal_paid + loan.interest_paid + loan.penalty_paid
    return {
        "title": str(_l("Biên bản thanh lý hợp đồng tín dụng")),
        "document_date": day,
        "closed_on": day,
        "fund": fund(),
        "borrower": borrower(loan.cooperative),
        "loan": _loan(loan),
        "principal_paid": _money(loan.principal_paid),
        "interest_paid": _money(loan.interest_paid),
        "penalty_paid": _money(loan.penalty_paid),
        "total_paid": _money(paid),
        "collaterals": [
            {"kind": c.kind, "description": c.description or "", "valuation": int(c.valuation)}
            for c in collaterals_of(loan)
        ],
    }


RELEASE_FIELDS = [
    ("title", _l("Tên văn bản")),
    ("document_date", _l("Ngày giải chấp (ngày tất toán khoản vay)")),
    ("fund", _l("Bên nhận bảo đảm")),
    ("borrower", _l("Bên bảo đảm (bên vay)")),
    ("loan", LOAN_FIELD),
    ("security_contract_no", _l("Số hợp đồng bảo đảm (nếu đã lập trong hồ sơ)")),
    ("collateral", _l("Tài sản: kind, description, valuation (value, words)")),
]


@kind("collateral_release", _l("Biên bản giải chấp tài sản bảo đảm"), "collateral", "GCTS",
      "bien-ban-giai-chap", RELEASE_FIELDS)  # fmt: skip
def release_data(item: Collateral) -> dict[str, Any]:
    loan = _loan_of(item)
    contract = credit_file.latest("collateral_contract", item.id)
    return {
        "title": str(_l("Biên bản giải chấp tài sản bảo đảm")),
        "document_date": loan.closed_on or contract_date_of(loan),
        "fund": fund(),
        "borrower": borrower(loan.cooperative),
        "loan": _loan(loan),
        "security_contract_no": contract.reference_no if contract is not None else "",
        "collateral": {
            "kind": item.kind,
            "description": item.description or "",
            "valuation": _money(item.valuation),
        },
    }
