"""The data of each document of the credit file (``documents.credit_file``).

Each builder reads the file's stored facts and returns plain values (text, whole đồng,
rates as ``Decimal``, dates) under the names the kind lists as its fields, so that the fund's
wording of the document can print them. Nothing here depends on the day it runs: the same
facts give the same data, hence the same version of the document.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from fundapp.cooperatives.models import Cooperative
from fundapp.core.formatting import decimal_text, money_filter
from fundapp.documents.credit_file import kind
from fundapp.documents.labels import labels
from fundapp.documents.positions import local_date
from fundapp.documents.statement import loan_facts
from fundapp.documents.words import amount_in_words
from fundapp.domain import schedule as plans
from fundapp.domain.provisioning import discounted_value
from fundapp.domain.terms import overdue_rate
from fundapp.extensions import db
from fundapp.lending.application_forms import METHOD_LABELS
from fundapp.loans import store
from fundapp.loans.models import Application, ApplicationStatus, Collateral, Loan
from fundapp.loans.queries import instalments_of, posted_disbursements
from fundapp.policy import services as policy
from fundapp.servicing.debt_groups import latest_groups

PREPAYMENT_MODES = {
    "keep_maturity": _l("giữ nguyên ngày đáo hạn, giảm số gốc các kỳ còn lại"),
    "shorten_term": _l("giữ nguyên số trả mỗi kỳ, rút ngắn thời hạn"),
}

# --- shared pieces ---------------------------------------------------------------------------


def fund() -> dict[str, Any]:
    config = current_app.config
    return {
        "name": config["FUNDAPP_NAME"],
        "address": config["FUNDAPP_ADDRESS"],
        "bank_account": config.get("FUNDAPP_BANK_ACCOUNT", ""),
        "bank_name": config.get("FUNDAPP_BANK_NAME", ""),
    }


def borrower(coop: Cooperative) -> dict[str, Any]:
    return {
        "name": coop.name,
        "kind": coop.kind_label,
        "address": coop.full_address,
        "tax_code": coop.tax_code or "",
        "registration_no": coop.registration_no or "",
        "representative": coop.representative or "",
        "phone": coop.phone or "",
        "bank_account": coop.bank_account or "",
        "bank_name": coop.bank_name or "",
    }


def _person(user: Any) -> str:
    return (user.full_name or user.username) if user is not None else ""


def _money(amount: int | None) -> dict[str, Any]:
    value = int(amount or 0)
    return {"value": value, "words": amount_in_words(value)}


def _terms(terms: Any) -> dict[str, Any]:
    return {
        "term_months": terms.term_months,
        "annual_rate": terms.annual_rate,
        "principal_method": str(METHOD_LABELS.get(terms.principal_method, terms.principal_method)),
        "principal_every_months": terms.principal_every_months,
        "interest_every_months": terms.interest_every_months,
        "grace_months": terms.grace_months,
    }


def _rows(rows: Any) -> tuple[list[dict[str, Any]], dict[str, int]]:
    lines = [
        {
            "no": r.no,
            "due_date": r.due_date,
            "principal": int(r.principal),
            "interest": int(r.interest),
            "total": int(r.principal) + int(r.interest),
        }
        for r in rows
    ]
    totals = {k: sum(line[k] for line in lines) for k in ("principal", "interest", "total")}
    return lines, totals


def projected_schedule(loan: Loan, first_day: date) -> list[Any]:
    """The schedule of the whole amount paid out on ``first_day`` (a contract signed before
    any disbursement prints it as the indicative schedule)."""
    return list(
        plans.build_schedule(store.terms_of(loan), [plans.Disbursement(first_day, loan.amount)])
    )


# --- the application -------------------------------------------------------------------------

# The project as the application states it (the application form, the appraisal report).
PROJECT_FIELDS = [
    ("project_name", _l("Tên dự án")),
    ("description", _l("Mô tả dự án")),
    ("purpose", _l("Mục đích sử dụng vốn vay")),
    ("total_project_cost", _l("Tổng mức đầu tư: value, words")),
    ("own_equity", _l("Vốn đối ứng: value, words")),
    ("requested", _l("Số tiền đề nghị vay: value, words")),
]

APPLICATION_FIELDS = [
    ("title", _l("Tên văn bản")),
    ("document_date", _l("Ngày của văn bản (ngày nộp hồ sơ)")),
    ("fund", _l("Quỹ: name, address, bank_account, bank_name")),
    (
        "borrower",
        _l(
            "Bên vay: name, kind, address, tax_code, registration_no, representative, "
            "phone, bank_account, bank_name"
        ),
    ),
    *PROJECT_FIELDS,
    ("own_equity_pct", _l("Tỷ lệ vốn đối ứng (%)")),
    (
        "terms",
        _l(
            "Điều kiện vay đề nghị: term_months, annual_rate, principal_method, "
            "principal_every_months, interest_every_months, grace_months"
        ),
    ),
    ("collateral_offered", _l("Tài sản bảo đảm đề xuất")),
    ("attachments", _l("Danh sách tài liệu kèm theo")),
    ("officer", _l("Cán bộ tiếp nhận")),
]


def _application_date(app: Application) -> date:
    return local_date(app.submitted_at or app.created_at) or date(2000, 1, 1)


@kind("application", _l("Giấy đề nghị vay vốn"), "application", "ĐNVV", "de-nghi-vay-von",
      APPLICATION_FIELDS)  # fmt: skip
def application_data(app: Application) -> dict[str, Any]:
    share = app.own_equity * 1000 // app.total_project_cost  # tenths of a per cent
    return {
        "title": str(_l("Giấy đề nghị vay vốn")),
        "document_date": _application_date(app),
        "fund": fund(),
        "borrower": borrower(app.cooperative),
        "project_name": app.project_name,
        "description": app.description or "",
        "purpose": app.purpose or "",
        "total_project_cost": _money(app.total_project_cost),
        "own_equity": _money(app.own_equity),
        "own_equity_pct": f"{share // 10},{share % 10}",
        "requested": _money(app.requested_amount),
        "terms": _terms(app),
        "collateral_offered": app.collateral_offered or "",
        "attachments": [d.original_name for d in app.documents],
        "officer": _person(app.created_by),
    }


# --- the decision ----------------------------------------------------------------------------

DECISION_FIELDS = [
    ("title", _l("Tên văn bản")),
    ("document_date", _l("Ngày quyết định")),
    ("approved", _l("true: quyết định cho vay; false: thông báo từ chối")),
    ("fund", _l("Quỹ")),
    ("borrower", _l("Bên vay")),
    ("project_name", _l("Tên dự án")),
    ("purpose", _l("Mục đích")),
    ("requested", _l("Số tiền đề nghị vay: value, words")),
    ("amount", _l("Số tiền cho vay: value, words")),
    ("terms", _l("Điều kiện vay")),
    ("overdue_rate", _l("Lãi suất quá hạn (%/năm)")),
    ("late_rate", _l("Lãi suất chậm trả lãi (%/năm)")),
    ("contract_no", _l("Số hợp đồng tín dụng (khi cho vay)")),
    ("reasons", _l("Lý do từ chối hoặc ghi chú quyết định")),
    ("override_reason", _l("Lý do phê duyệt vượt giới hạn (nếu có)")),
    ("appraised_by", _l("Người thẩm định")),
    ("decided_by", _l("Người quyết định")),
    ("application_date", _l("Ngày nộp hồ sơ")),
]


@kind("decision", _l("Quyết định cho vay / Thông báo từ chối"), "application", "QĐ", "quyet-dinh",
      DECISION_FIELDS)  # fmt: skip
def decision_data(app: Application) -> dict[str, Any]:
    approved = app.status == ApplicationStatus.APPROVED or app.loan is not None
    loan = app.loan
    amount = loan.amount if loan is not None else (app.recommended_amount or 0)
    return {
        "title": str(_l("Quyết định cho vay") if approved else _l("Thông báo từ chối cho vay")),
        "document_date": local_date(app.decided_at) or _application_date(app),
        "approved": approved,
        "fund": fund(),
        "borrower": borrower(app.cooperative),
        "project_name": app.project_name,
        "purpose": app.purpose or "",
        "requested": _money(app.requested_amount),
        "amount": _money(amount if approved else 0),
        "terms": _terms(loan if loan is not None else app),
        "overdue_rate": overdue_rate(loan.annual_rate, loan.overdue_multiplier) if loan else None,
        "late_rate": loan.late_rate if loan is not None else None,
        "contract_no": loan.contract_no if loan is not None else "",
        "reasons": app.decision_note or "",
        "override_reason": app.override_reason or "",
        "appraised_by": _person(app.appraised_by),
        "decided_by": _person(app.decided_by),
        "application_date": _application_date(app),
    }


def decision_ready(app: Application) -> bool:
    return app.decided_at is not None


# --- the credit contract ---------------------------------------------------------------------

CONTRACT_FIELDS = [
    ("title", _l("Tên văn bản")),
    ("document_date", _l("Ngày ký hợp đồng")),
    ("contract_no", _l("Số hợp đồng")),
    ("fund", _l("Bên cho vay")),
    ("fund_representative", _l("Người đại diện bên cho vay (người phê duyệt khoản vay)")),
    ("borrower", _l("Bên vay")),
    ("project_name", _l("Tên dự án")),
    ("purpose", _l("Mục đích sử dụng vốn vay")),
    ("amount", _l("Số tiền cho vay: value, words")),
    ("terms", _l("Thời hạn, lãi suất, phương thức trả nợ")),
    ("overdue_rate", _l("Lãi suất quá hạn (%/năm)")),
    ("overdue_multiplier", _l("Lãi suất quá hạn bằng bao nhiêu % lãi suất trong hạn")),
    ("late_rate", _l("Lãi suất chậm trả lãi (%/năm)")),
    ("repayment_order", _l("Thứ tự thu nợ")),
    ("prepayment_mode", _l("Cách tính lại lịch khi trả nợ trước hạn")),
    ("approved_on", _l("Ngày phê duyệt")),
    ("disbursements", _l("Các lần giải ngân: receipt_no, value_date, amount")),
    ("schedule", _l("Lịch trả nợ: no, due_date, principal, interest, total")),
    ("schedule_totals", _l("Cộng lịch trả nợ: principal, interest, total")),
    ("schedule_projected", _l("true: lịch dự kiến (chưa giải ngân)")),
    ("collaterals", _l("Tài sản bảo đảm: kind, description, valuation")),
]


def collaterals_of(loan: Loan) -> list[Collateral]:
    return list(
        db.session.scalars(
            select(Collateral).where(Collateral.loan_id == loan.id).order_by(Collateral.id)
        )
    )


def contract_date_of(loan: Loan) -> date:
    return loan.contract_date or loan.approved_on


@kind("contract", _l("Hợp đồng tín dụng"), "loan", "HĐTD", "hop-dong-tin-dung", CONTRACT_FIELDS)
def contract_data(loan: Loan) -> dict[str, Any]:
    facts = loan_facts(loan)
    stored = instalments_of(loan)
    day = contract_date_of(loan)
    rows = stored or projected_schedule(loan, day)
    lines, totals = _rows(rows)
    approver = loan.application.decided_by if loan.application is not None else None
    return {
        "title": str(_l("Hợp đồng tín dụng")),
        "document_date": day,
        "contract_no": loan.contract_no,
        "fund": fund(),
        "fund_representative": _person(approver),
        "borrower": borrower(loan.cooperative),
        "project_name": loan.project_name,
        "purpose": loan.purpose or "",
        "amount": _money(loan.amount),
        "terms": _terms(loan),
        "overdue_rate": facts.overdue_rate,
        "overdue_multiplier": decimal_text(loan.overdue_multiplier),
        "late_rate": loan.late_rate,
        "repayment_order": str(labels()["repayment_orders"].get(loan.repayment_order, "")),
        "prepayment_mode": str(PREPAYMENT_MODES.get(loan.prepayment_mode, loan.prepayment_mode)),
        "approved_on": loan.approved_on,
        "disbursements": [
            {"receipt_no": d.receipt_no or "", "value_date": d.value_date, "amount": d.amount}
            for d in posted_disbursements(loan.id)
        ],
        "schedule": lines,
        "schedule_totals": totals,
        "schedule_projected": not stored,
        "collaterals": [
            {"kind": c.kind, "description": c.description or "", "valuation": int(c.valuation)}
            for c in collaterals_of(loan)
        ],
    }


# --- the security contract, one per collateral -----------------------------------------------

COLLATERAL_FIELDS = [
    ("title", _l("Tên văn bản")),
    ("document_date", _l("Ngày ký (ngày hợp đồng tín dụng)")),
    ("fund", _l("Bên nhận bảo đảm")),
    ("borrower", _l("Bên bảo đảm (bên vay)")),
    ("contract_no", _l("Số hợp đồng tín dụng được bảo đảm")),
    ("loan_amount", _l("Số tiền vay được bảo đảm: value, words")),
    ("collateral", _l("Tài sản: kind, description, valuation (value, words), discount_pct")),
]


@kind("collateral_contract", _l("Hợp đồng bảo đảm"), "collateral", "HĐBĐ", "hop-dong-bao-dam",
      COLLATERAL_FIELDS)  # fmt: skip
def collateral_data(item: Collateral) -> dict[str, Any]:
    loan = db.session.get(Loan, item.loan_id)
    assert loan is not None
    return {
        "title": str(_l("Hợp đồng bảo đảm tiền vay")),
        "document_date": contract_date_of(loan),
        "fund": fund(),
        "borrower": borrower(loan.cooperative),
        "contract_no": loan.contract_no,
        "loan_amount": _money(loan.amount),
        "collateral": {
            "kind": item.kind,
            "description": item.description or "",
            "valuation": _money(item.valuation),
            "discount_pct": item.discount_factor * 100,
        },
    }


# --- the appraisal report --------------------------------------------------------------------

APPRAISAL_FIELDS = [
    ("title", _l("Tên văn bản")),
    ("document_date", _l("Ngày thẩm định")),
    ("fund", _l("Quỹ")),
    ("borrower", _l("Bên vay")),
    *PROJECT_FIELDS,
    ("conditions", _l("Điều kiện vay vốn (Nghị định 45/2021 Điều 22): label, passed, evidence")),
    (
        "limits",
        _l(
            "Kiểm tra giới hạn (Điều 23) và nguồn vốn lúc thẩm định: label, passed, "
            "detail, blocking"
        ),
    ),
    ("collateral_offered", _l("Tài sản bảo đảm đề xuất")),
    ("collaterals", _l("Tài sản bảo đảm đã định giá: kind, description, valuation, discounted")),
    ("recommended", _l("Số tiền đề nghị cho vay: value, words")),
    ("terms", _l("Thời hạn, lãi suất, phương thức trả nợ đề nghị")),
    ("schedule", _l("Lịch trả nợ dự kiến của số đề nghị cho vay")),
    ("schedule_totals", _l("Cộng lịch trả nợ dự kiến")),
    ("opinion", _l("Ý kiến thẩm định, rủi ro và biện pháp")),
    ("appraised_by", _l("Cán bộ thẩm định")),
    ("attachments", _l("Tài liệu trong hồ sơ")),
]


def _conditions(app: Application, day: date) -> list[dict[str, Any]]:
    """Decree 45/2021 Art. 22 as the fund applies it, each with the evidence on file."""
    coop = app.cooperative
    checks = {c["code"]: c for c in app.appraisal_checks or []}
    equity = checks.get("equity", {})
    group = latest_groups("borrower", as_of=day, refs=[coop.id]).get(coop.id, 1)
    bad_from = int(policy.value("bad_debt_from_group", day))
    registered = bool(coop.registration_no and coop.tax_code)
    return [
        {
            "label": str(_l("Đối tượng được vay, thành lập và hoạt động hợp pháp")),
            "passed": registered and bool(checks.get("eligibility", {}).get("passed", True)),
            "evidence": str(
                _l(
                    "%(k)s; số đăng ký %(r)s; mã số thuế %(t)s",
                    k=coop.kind_label,
                    r=coop.registration_no or "—",
                    t=coop.tax_code or "—",
                )
            ),
        },
        {
            "label": str(_l("Có dự án, phương án sản xuất kinh doanh khả thi")),
            "passed": bool(app.project_name and app.total_project_cost > 0),
            "evidence": str(
                _l(
                    "%(p)s; tổng mức đầu tư %(c)s; %(n)s tài liệu kèm theo",
                    p=app.project_name,
                    c=money_filter(app.total_project_cost),
                    n=len(app.documents),
                )
            ),
        },
        {
            "label": str(equity.get("label") or _l("Vốn đối ứng")),
            "passed": bool(equity.get("passed", False)),
            "evidence": str(equity.get("detail", "")),
        },
        {
            "label": str(_l("Không có nợ xấu tại Quỹ")),
            "passed": group < bad_from,
            "evidence": str(_l("Nhóm nợ của bên vay tại Quỹ: %(g)s", g=group)),
        },
        {
            "label": str(_l("Tài sản bảo đảm theo quy định của Quỹ")),
            "passed": True,
            "evidence": app.collateral_offered or str(_l("Không đề xuất tài sản bảo đảm")),
        },
    ]


def appraisal_ready(app: Application) -> bool:
    return app.appraised_at is not None


@kind("appraisal", _l("Báo cáo thẩm định"), "application", "BCTĐ", "bao-cao-tham-dinh",
      APPRAISAL_FIELDS)  # fmt: skip
def appraisal_data(app: Application) -> dict[str, Any]:
    day = local_date(app.appraised_at) or _application_date(app)
    amount = app.recommended_amount or app.requested_amount
    rows = list(
        plans.build_schedule(store.terms_of(app, amount), [plans.Disbursement(day, amount)])
    )
    lines, totals = _rows(rows)
    loan = app.loan
    collaterals = collaterals_of(loan) if loan is not None else []
    return {
        "title": str(_l("Báo cáo thẩm định cho vay")),
        "document_date": day,
        "fund": fund(),
        "borrower": borrower(app.cooperative),
        "project_name": app.project_name,
        "description": app.description or "",
        "purpose": app.purpose or "",
        "total_project_cost": _money(app.total_project_cost),
        "own_equity": _money(app.own_equity),
        "requested": _money(app.requested_amount),
        "conditions": _conditions(app, day),
        "limits": [
            {k: c[k] for k in ("label", "passed", "detail", "blocking")}
            for c in app.appraisal_checks or []
            if c["code"] not in ("eligibility", "equity")
        ],
        "collateral_offered": app.collateral_offered or "",
        "collaterals": [
            {
                "kind": c.kind,
                "description": c.description or "",
                "valuation": int(c.valuation),
                "discounted": discounted_value(c.valuation, c.discount_factor),
            }
            for c in collaterals
        ],
        "recommended": _money(amount),
        "terms": _terms(app),
        "schedule": lines,
        "schedule_totals": totals,
        "opinion": app.appraisal_note or "",
        "appraised_by": _person(app.appraised_by),
        "attachments": [d.original_name for d in app.documents],
    }
