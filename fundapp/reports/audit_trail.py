"""The audit log as people read it: Vietnamese labels for actions, objects named as the fund
names them ("Khoản vay HD-2026-0012", not ``loan #51``), values formatted (money with đ,
dates dd/mm/yyyy, checks as lines), and people by their full names.

The stored rows stay as they are (append-only, machine-readable); this module only reads
them, in a few bulk queries per page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from fundapp.audit.models import AuditLog
from fundapp.auth.models import User
from fundapp.cooperatives.models import Cooperative
from fundapp.core.formatting import date_filter, money_filter, rate_filter
from fundapp.extensions import db
from fundapp.ledger.models import CapitalEntry
from fundapp.loans import models as m
from fundapp.policy.parameters import BY_KEY

ACTION_LABELS: dict[str, Any] = {
    "application.create": _l("Lập hồ sơ vay vốn"),
    "application.update": _l("Sửa hồ sơ vay vốn"),
    "application.appraise": _l("Thẩm định hồ sơ vay vốn"),
    "application.document_upload": _l("Tải lên tài liệu hồ sơ"),
    "capital.create": _l("Ghi nhận vốn"),
    "collateral.create": _l("Thêm tài sản bảo đảm"),
    "cooperative.create": _l("Thêm hợp tác xã"),
    "cooperative.update": _l("Sửa hợp tác xã"),
    "disbursement.create": _l("Ghi nhận giải ngân"),
    "disbursement.approve": _l("Duyệt giải ngân"),
    "disbursement.reject": _l("Từ chối giải ngân"),
    "disbursement.import": _l("Nhập giải ngân từ sổ cũ"),
    "committee.open": _l("Mở phiên họp Hội đồng xử lý rủi ro"),
    "committee.update": _l("Sửa biên bản họp Hội đồng xử lý rủi ro"),
    "committee.decision": _l("Ghi quyết định của Hội đồng xử lý rủi ro"),
    "committee.close": _l("Kết thúc phiên họp Hội đồng xử lý rủi ro"),
    "file_document.issue": _l("Lập văn bản hồ sơ tín dụng"),
    "form_template.save": _l("Sửa mẫu văn bản"),
    "fund.create": _l("Thêm quỹ gốc"),
    "inspection.create": _l("Ghi nhận kiểm tra sử dụng vốn"),
    "loan.create": _l("Tạo khoản vay"),
    "loan.import": _l("Nhập khoản vay từ sổ cũ"),
    "loan.repayment_order": _l("Đổi thứ tự thu nợ"),
    "plan.create": _l("Lập kế hoạch năm"),
    "plan.update": _l("Sửa kế hoạch năm"),
    "plan.approve": _l("Phê duyệt kế hoạch năm"),
    "policy.change": _l("Thay đổi chính sách"),
    "policy.propose": _l("Đề xuất thay đổi chính sách"),
    "policy.approve": _l("Phê duyệt thay đổi chính sách"),
    "policy.reject": _l("Từ chối thay đổi chính sách"),
    "policy.withdraw": _l("Rút đề xuất thay đổi chính sách"),
    "ranking.record": _l("Ghi nhận kết quả tự đánh giá, xếp loại Quỹ"),
    "related_group.create": _l("Thêm nhóm liên quan"),
    "repayment.create": _l("Thu nợ"),
    "restructuring.request": _l("Đề nghị cơ cấu lại thời hạn trả nợ"),
    "restructuring.approve": _l("Duyệt cơ cấu lại thời hạn trả nợ"),
    "restructuring.reject": _l("Từ chối cơ cấu lại thời hạn trả nợ"),
    "reversal.request": _l("Đề nghị hủy khoản thu"),
    "reversal.approve": _l("Duyệt hủy khoản thu"),
    "reversal.reject": _l("Từ chối hủy khoản thu"),
    "token.issue": _l("Cấp mã truy cập API"),
    "token.revoke": _l("Thu hồi mã truy cập API"),
    "user.create": _l("Tạo tài khoản"),
    "user.update": _l("Sửa tài khoản"),
    "user.password": _l("Đặt lại mật khẩu"),
    "write_off.propose": _l("Đề xuất xử lý rủi ro"),
    "write_off.approve": _l("Duyệt xử lý rủi ro"),
    "write_off.reject": _l("Từ chối xử lý rủi ro"),
}

ENTITY_LABELS: dict[str, Any] = {
    "annual_plan": _l("Kế hoạch năm"),
    "api_token": _l("Mã truy cập API"),
    "application": _l("Hồ sơ vay vốn"),
    "capital_entry": _l("Khoản vốn"),
    "collateral": _l("Tài sản bảo đảm"),
    "committee_decision": _l("Quyết định của Hội đồng xử lý rủi ro"),
    "committee_meeting": _l("Phiên họp Hội đồng xử lý rủi ro"),
    "cooperative": _l("Hợp tác xã"),
    "disbursement": _l("Giải ngân"),
    "file_document": _l("Văn bản hồ sơ tín dụng"),
    "form_template": _l("Mẫu văn bản"),
    "fund": _l("Quỹ gốc"),
    "inspection": _l("Kiểm tra sử dụng vốn"),
    "loan": _l("Khoản vay"),
    "policy_change": _l("Đề xuất thay đổi chính sách"),
    "policy_parameter": _l("Tham số chính sách"),
    "ranking_assessment": _l("Tự đánh giá, xếp loại Quỹ"),
    "related_group": _l("Nhóm liên quan"),
    "repayment": _l("Khoản thu nợ"),
    "restructuring": _l("Cơ cấu lại thời hạn trả nợ"),
    "reversal": _l("Hủy khoản thu"),
    "user": _l("Tài khoản"),
    "write_off": _l("Xử lý rủi ro"),
}

# Field names as the forms call them.
FIELD_LABELS: dict[str, Any] = {
    "active": _l("Đang hoạt động"),
    "address": _l("Địa chỉ"),
    "allocations": _l("Phân bổ"),
    "amount": _l("Số tiền"),
    "annual_rate": _l("Lãi suất"),
    "bank_account": _l("Số tài khoản"),
    "bank_name": _l("Ngân hàng"),
    "checks": _l("Kết quả kiểm tra điều kiện"),
    "collateral_offered": _l("Tài sản bảo đảm đề nghị"),
    "commune_code": _l("Mã xã, phường"),
    "commune_name": _l("Xã, phường"),
    "contract_no": _l("Số hợp đồng"),
    "cooperative_id": _l("Hợp tác xã"),
    "date": _l("Ngày"),
    "description": _l("Mô tả"),
    "discount_factor": _l("Hệ số khấu trừ"),
    "effective_date": _l("Ngày hiệu lực"),
    "effective_from": _l("Hiệu lực từ"),
    "email": _l("Thư điện tử"),
    "finding": _l("Kết luận"),
    "full_name": _l("Họ và tên"),
    "grace_months": _l("Số tháng ân hạn"),
    "interest_every_months": _l("Kỳ trả lãi (tháng)"),
    "key": _l("Tham số"),
    "kind": _l("Loại"),
    "legal_reference": _l("Căn cứ pháp lý"),
    "loan": _l("Khoản vay"),
    "members_count": _l("Số thành viên"),
    "name": _l("Tên"),
    "new_maturity": _l("Ngày đáo hạn mới"),
    "note": _l("Ghi chú"),
    "override_reason": _l("Lý do vượt hạn mức"),
    "own_equity": _l("Vốn đối ứng"),
    "phone": _l("Điện thoại"),
    "principal_every_months": _l("Kỳ trả gốc (tháng)"),
    "principal_method": _l("Cách trả gốc"),
    "project_name": _l("Tên dự án"),
    "purpose": _l("Mục đích"),
    "reason": _l("Lý do"),
    "receipt_no": _l("Số phiếu"),
    "recommended_amount": _l("Số tiền đề nghị cho vay"),
    "reference": _l("Chứng từ"),
    "registration_no": _l("Số đăng ký"),
    "representative": _l("Người đại diện"),
    "requested_amount": _l("Số tiền xin vay"),
    "roles": _l("Vai trò"),
    "sector": _l("Ngành nghề"),
    "source": _l("Nguồn vốn"),
    "source_name": _l("Tên nguồn"),
    "status": _l("Trạng thái"),
    "tax_code": _l("Mã số thuế"),
    "term_months": _l("Thời hạn (tháng)"),
    "total_project_cost": _l("Tổng mức đầu tư"),
    "username": _l("Tên đăng nhập"),
    "valuation": _l("Giá trị định giá"),
    "value": _l("Giá trị"),
}

MONEY_FIELDS = frozenset(
    {
        "amount",
        "own_equity",
        "recommended_amount",
        "requested_amount",
        "total_project_cost",
        "valuation",
    }
)
RATE_FIELDS = frozenset({"annual_rate"})
# Internal ids and derived copies a reader does not need.
HIDDEN_FIELDS = frozenset(
    {"id", "journal_entry_id", "former_province_code", "province_code", "commune_needs_confirming"}
)

STATUS_LABELS: dict[str, Any] = {
    "draft": _l("Nháp"),
    "submitted": _l("Đã nộp"),
    "appraised": _l("Đã thẩm định"),
    "approved": _l("Đã phê duyệt"),
    "rejected": _l("Từ chối"),
    "withdrawn": _l("Đã rút"),
    "contracted": _l("Đã ký hợp đồng"),
    "active": _l("Đang vay"),
    "closed": _l("Đã tất toán"),
    "written_off": _l("Đã xử lý rủi ro"),
    "removed": _l("Đã xuất toán ngoại bảng"),
    "cancelled": _l("Đã hủy"),
    "pending": _l("Chờ duyệt"),
    "posted": _l("Đã hạch toán"),
}
COMPONENT_LABELS: dict[str, Any] = {
    "penalty": _l("lãi phạt"),
    "interest": _l("lãi"),
    "principal": _l("gốc"),
}

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+([+-][0-9:]+)?")


@dataclass(frozen=True)
class Change:
    label: str
    before: list[str] | None  # None: the key was not there before
    after: list[str] | None
    same: bool = False


@dataclass
class AuditRow:
    log: AuditLog
    at: Any
    who: str
    username: str
    action: str
    action_code: str
    subject: str
    changes: list[Change] = field(default_factory=list)
    note: str = ""


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    entity, _sep, to = action.partition(".")
    # A status transition recorded as "<entity>.<new status>".
    if to in STATUS_LABELS and entity in ENTITY_LABELS:
        return _("%(e)s chuyển sang «%(s)s»", e=ENTITY_LABELS[entity], s=STATUS_LABELS[to])
    return action


def _lines(key: str, value: Any) -> list[str]:
    """One value as lines of text: never a Python repr."""
    if value is None or value == "":
        return ["—"]
    if value is True:
        return [_("Có")]
    if value is False:
        return [_("Không")]
    if key in MONEY_FIELDS and isinstance(value, int):
        return [money_filter(value)]
    if key in RATE_FIELDS:
        try:
            return [rate_filter(str(value))]
        except ArithmeticError:
            return [str(value)]
    if key == "status" and isinstance(value, str):
        return [str(STATUS_LABELS.get(value, value))]
    if key == "checks" and isinstance(value, list):
        out = []
        for check in value:
            if isinstance(check, dict):
                mark = "✓" if check.get("passed") else "✗"
                detail = check.get("detail") or ""
                label = check.get("label") or check.get("code") or ""
                out.append(f"{mark} {label}" + (f": {detail}" if detail else ""))
            else:
                out.append(str(check))
        return out or ["—"]
    if key == "allocations" and isinstance(value, list):
        out = []
        for part in value:
            if isinstance(part, dict):
                out.append(
                    _(
                        "Kỳ %(n)s, %(c)s: %(a)s",
                        n=part.get("no", "?"),
                        c=COMPONENT_LABELS.get(part.get("component"), part.get("component")),
                        a=money_filter(part["amount"])
                        if isinstance(part.get("amount"), int)
                        else part.get("amount"),
                    )
                )
            else:
                out.append(str(part))
        return out or ["—"]
    if isinstance(value, str):
        if _ISO_DAY.fullmatch(value):
            try:
                return [date_filter(date.fromisoformat(value))]
            except ValueError:
                return [value]
        if _ISO_TIME.fullmatch(value):
            return [value[8:10] + "/" + value[5:7] + "/" + value[:4] + " " + value[11:16]]
        return [value]
    if isinstance(value, dict):
        return [f"{FIELD_LABELS.get(k, k)}: {', '.join(_lines(k, v))}" for k, v in value.items()]
    if isinstance(value, list):
        return [", ".join(", ".join(_lines(key, v)) for v in value)]
    return [str(value)]


def _changes(log: AuditLog) -> list[Change]:
    before = log.before or {}
    after = log.after or {}
    keys = list(after) + [k for k in before if k not in after]
    out = []
    for key in keys:
        if key in HIDDEN_FIELDS:
            continue
        label = str(FIELD_LABELS.get(key, key))
        b = _lines(key, before[key]) if key in before else None
        a = _lines(key, after[key]) if key in after else None
        same = key in before and key in after and before[key] == after[key]
        out.append(Change(label, b, a, same))
    return out


def _names(logs: Sequence[AuditLog]) -> dict[tuple[str, str], str]:
    """Each (entity, id) of the page named as the fund names it, in one query per kind."""
    ids: dict[str, set[int]] = defaultdict(set)
    for log in logs:
        if log.entity_id and log.entity_id.isdigit() and len(log.entity_id) < 10:
            ids[log.entity].add(int(log.entity_id))
    names: dict[tuple[str, str], str] = {}

    def put(entity: str, rows: Iterable[tuple[int, str]]) -> None:
        for row_id, text in rows:
            names[(entity, str(row_id))] = text

    if ids.get("loan"):
        put(
            "loan",
            (
                (i, _("Khoản vay %(c)s", c=c))
                for i, c in db.session.execute(
                    select(m.Loan.id, m.Loan.contract_no).where(m.Loan.id.in_(ids["loan"]))
                )
            ),
        )
    if ids.get("application"):
        rows = db.session.execute(
            select(m.Application.id, m.Application.project_name).where(
                m.Application.id.in_(ids["application"])
            )
        )
        put("application", ((i, _("Hồ sơ số %(n)s — %(p)s", n=i, p=p)) for i, p in rows))
    for entity, model, text in (
        ("disbursement", m.Disbursement, _l("Giải ngân %(r)s, khoản vay %(c)s")),
        ("repayment", m.Repayment, _l("Phiếu thu %(r)s, khoản vay %(c)s")),
    ):
        if ids.get(entity):
            rows = db.session.execute(
                select(model.id, model.receipt_no, m.Loan.contract_no)
                .join(m.Loan, m.Loan.id == model.loan_id)
                .where(model.id.in_(ids[entity]))
            )
            put(entity, ((i, str(text) % {"r": r, "c": c}) for i, r, c in rows))
    for entity, model, text in (
        ("restructuring", m.Restructuring, _l("Cơ cấu lại khoản vay %(c)s")),
        ("write_off", m.WriteOff, _l("Xử lý rủi ro khoản vay %(c)s")),
        ("collateral", m.Collateral, _l("Tài sản bảo đảm của khoản vay %(c)s")),
        ("inspection", m.Inspection, _l("Kiểm tra sử dụng vốn khoản vay %(c)s")),
    ):
        if ids.get(entity):
            rows = db.session.execute(
                select(model.id, m.Loan.contract_no)
                .join(m.Loan, m.Loan.id == model.loan_id)
                .where(model.id.in_(ids[entity]))
            )
            put(entity, ((i, str(text) % {"c": c}) for i, c in rows))
    if ids.get("reversal"):
        rows = db.session.execute(
            select(m.Reversal.id, m.Repayment.receipt_no, m.Loan.contract_no)
            .join(m.Repayment, m.Repayment.id == m.Reversal.repayment_id)
            .join(m.Loan, m.Loan.id == m.Repayment.loan_id)
            .where(m.Reversal.id.in_(ids["reversal"]))
        )
        put(
            "reversal",
            ((i, _("Hủy phiếu thu %(r)s, khoản vay %(c)s", r=r, c=c)) for i, r, c in rows),
        )
    if ids.get("cooperative"):
        put(
            "cooperative",
            db.session.execute(
                select(Cooperative.id, Cooperative.name).where(
                    Cooperative.id.in_(ids["cooperative"])
                )
            ),
        )
    if ids.get("user"):
        rows = db.session.execute(
            select(User.id, User.full_name, User.username).where(User.id.in_(ids["user"]))
        )
        put("user", ((i, _("Tài khoản %(n)s", n=f or u)) for i, f, u in rows))
    if ids.get("capital_entry"):
        rows = db.session.execute(
            select(CapitalEntry.id, CapitalEntry.amount, CapitalEntry.entry_date).where(
                CapitalEntry.id.in_(ids["capital_entry"])
            )
        )
        put(
            "capital_entry",
            (
                (i, _("Khoản vốn %(a)s ngày %(d)s", a=money_filter(a), d=date_filter(d)))
                for i, a, d in rows
            ),
        )
    return names


def _policy_subject(log: AuditLog) -> str | None:
    key = (log.after or {}).get("key") or (log.before or {}).get("key") or log.entity_id
    param = BY_KEY.get(str(key))
    if param is None:
        return None
    return _("Tham số «%(p)s»", p=param.label)


def present(logs: Sequence[AuditLog]) -> list[AuditRow]:
    """The rows of a page of the audit log, ready to show."""
    names = _names(logs)
    rows = []
    for log in logs:
        subject = names.get((log.entity, log.entity_id))
        if subject is None and log.entity in ("policy_parameter", "policy_change"):
            subject = _policy_subject(log)
        if subject is None:
            label = str(ENTITY_LABELS.get(log.entity, log.entity))
            subject = f"{label} {log.entity_id}".strip() if log.entity_id else label
        who = ""
        if log.user is not None:
            who = log.user.full_name or log.user.username
        elif log.username == "system":
            who = _("Hệ thống")
        else:
            who = log.username or "—"
        rows.append(
            AuditRow(
                log=log,
                at=log.at,
                who=who,
                username=log.username,
                action=action_label(log.action),
                action_code=log.action,
                subject=subject,
                changes=_changes(log),
                note=log.note or "",
            )
        )
    return rows
