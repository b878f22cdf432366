"""The lending policy's parameters: what each one means, its type and its legal default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from fundapp.core.money import MAX_AMOUNT

DEFAULTS_EFFECTIVE = date(2021, 4, 1)  # Decree 45/2021/NĐ-CP in force


@dataclass(frozen=True)
class Param:
    key: str
    kind: str  # percent | money | months | days | int_list | percent_list | kinds | group
    default: str
    label: Any
    legal_reference: str

    def parse(self, raw: str) -> Any:
        """Typed value of ``raw``; raises ValueError with a user-facing message."""
        text = (raw or "").strip()
        try:
            if self.kind == "percent":
                value = Decimal(text.replace(",", "."))
                if not value.is_finite() or value < 0 or value > 1000:
                    raise ValueError
                return value
            if self.kind in {"money", "months", "days", "group"}:
                if not text.isdigit():
                    raise ValueError
                number = int(text)
                limits = {"money": MAX_AMOUNT, "months": 600, "days": 3650, "group": 5}
                if number > limits[self.kind] or (self.kind == "group" and number < 1):
                    raise ValueError
                return number
            if self.kind == "int_list":
                numbers = [int(p) for p in text.split(",")]
                if len(numbers) != 4 or numbers != sorted(set(numbers)) or numbers[0] < 1:
                    raise ValueError
                return numbers
            if self.kind == "group_list":
                numbers = [int(p) for p in text.split(",")]
                if len(numbers) != 4 or any(not 1 <= n <= 5 for n in numbers):
                    raise ValueError
                return numbers
            if self.kind == "percent_list":
                rates = [Decimal(p.strip().replace(";", ".")) for p in text.split(",")]
                if len(rates) != 5 or any(not r.is_finite() or r < 0 or r > 100 for r in rates):
                    raise ValueError
                return rates
            if self.kind == "kinds":
                from fundapp.cooperatives.models import CooperativeKind

                kinds = [p.strip() for p in text.split(",") if p.strip()]
                known = {k.value for k in CooperativeKind}
                if not kinds or any(k not in known for k in kinds):
                    raise ValueError
                return kinds
        except (ValueError, InvalidOperation, ArithmeticError):
            pass
        raise ValueError(self.kind)


PARAMS: tuple[Param, ...] = (
    Param(
        "eligible_kinds",
        "kinds",
        "cooperative,union,coop_member,group_member",
        _l("Đối tượng được vay"),
        "Nghị định 45/2021/NĐ-CP, Điều 20",
    ),
    Param(
        "min_equity_pct",
        "percent",
        "20",
        _l("Vốn đối ứng tối thiểu (% tổng mức đầu tư)"),
        "Nghị định 45/2021/NĐ-CP, Điều 22",
    ),
    Param(
        "single_borrower_limit_pct",
        "percent",
        "15",
        _l("Giới hạn cho vay một khách hàng (% vốn điều lệ thực có)"),
        "Nghị định 45/2021/NĐ-CP, Điều 23",
    ),
    Param(
        "related_group_limit_pct",
        "percent",
        "25",
        _l("Giới hạn cho vay khách hàng và người có liên quan (% vốn điều lệ thực có)"),
        "Nghị định 45/2021/NĐ-CP, Điều 23",
    ),
    Param(
        "default_annual_rate",
        "percent",
        "6.0",
        _l("Lãi suất cho vay trong hạn mặc định (%/năm)"),
        "Nghị định 45/2021/NĐ-CP, Điều 25; quyết định của Quỹ",
    ),
    Param(
        "overdue_rate_pct",
        "percent",
        "150",
        _l("Lãi suất nợ gốc quá hạn (% lãi suất trong hạn)"),
        "Nghị định 45/2021/NĐ-CP, Điều 25",
    ),
    Param(
        "late_interest_rate",
        "percent",
        "10",
        _l("Lãi chậm trả trên lãi quá hạn (%/năm)"),
        "Bộ luật Dân sự 2015, Điều 466, 468",
    ),
    Param(
        "director_approval_limit",
        "money",
        "500000000",
        _l("Thẩm quyền phê duyệt của Giám đốc (đồng)"),
        "Quy chế nội bộ của Quỹ",
    ),
    Param(
        "short_term_max_months",
        "months",
        "12",
        _l("Cho vay ngắn hạn: tối đa (tháng)"),
        "Thông tư 39/2016/TT-NHNN, Điều 10",
    ),
    Param(
        "medium_term_max_months",
        "months",
        "60",
        _l("Cho vay trung hạn: tối đa (tháng)"),
        "Thông tư 39/2016/TT-NHNN, Điều 10",
    ),
    Param(
        "group_thresholds_days",
        "int_list",
        "10,91,181,361",
        _l("Số ngày quá hạn bắt đầu nhóm 2, 3, 4, 5"),
        "Thông tư 11/2021/TT-NHNN",
    ),
    Param(
        "restructure_floor_groups",
        "group_list",
        "2,3,4,5",
        _l("Nhóm nợ tối thiểu khi cơ cấu: điều chỉnh kỳ hạn lần 1, gia hạn lần 1, lần 2, lần 3+"),
        "Thông tư 11/2021/TT-NHNN",
    ),
    Param(
        "provision_rates_pct",
        "percent_list",
        "0,5,20,50,100",
        _l("Tỷ lệ trích lập dự phòng cụ thể nhóm 1–5 (%)"),
        "Thông tư 11/2021/TT-NHNN",
    ),
    Param(
        "general_provision_pct",
        "percent",
        "0.75",
        _l("Dự phòng chung (% dư nợ nhóm 1–4)"),
        "Thông tư 11/2021/TT-NHNN",
    ),
    Param(
        "bad_debt_from_group",
        "group",
        "3",
        _l("Nợ xấu: từ nhóm"),
        "Nghị định 45/2021/NĐ-CP, Điều 2",
    ),
    Param(
        "due_soon_days",
        "days",
        "7",
        _l("Thông báo sắp đến hạn trước (ngày)"),
        "Thực tiễn của Quỹ",
    ),
)

BY_KEY: dict[str, Param] = {p.key: p for p in PARAMS}
