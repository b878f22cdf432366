"""The loan terms as a form or a file gives them: each field checked with a message a user
can act on, then the schedule engine's own rules on the whole (annuity dates, grace, a
custom plan's sum). One reading for applications, restructuring plans and the loan import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from fundapp.core import validation
from fundapp.domain.money import MoneyError, parse_rate
from fundapp.domain.schedule import ScheduleError
from fundapp.domain.schedule import validate_terms as schedule_validate
from fundapp.domain.terms import FREQUENCIES, CustomPrincipal, LoanTerms
from fundapp.loans import store
from fundapp.loans.models import METHODS


def _int_field(data: dict, key: str, errors: dict, low: int, high: int, default: int) -> int:
    raw = data.get(key)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or not (isinstance(raw, int) or validation.digits(str(raw).strip())):
        errors[key] = _("Phải là số nguyên.")
        return default
    value = int(raw)
    if not low <= value <= high:
        errors[key] = _("Phải trong khoảng %(a)s – %(b)s.", a=low, b=high)
    return value


def parse_custom(raw: Any, errors: dict, key: str = "custom_schedule") -> list | None:
    """``[["2027-06-30", 50000000], …]`` or lines ``30/06/2027; 50.000.000``."""
    if raw in (None, "", []):
        return None
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, str):
        for line in raw.strip().splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.replace("\t", ";").split(";")]
            if len(parts) != 2:
                errors[key] = _("Mỗi dòng: ngày; số tiền (ví dụ 30/06/2027; 50.000.000).")
                return None
            pairs.append((parts[0], parts[1]))
    elif isinstance(raw, list):
        for item in raw:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                errors[key] = _("Mỗi kỳ là [ngày, số tiền].")
                return None
            pairs.append((item[0], item[1]))
    else:
        errors[key] = _("Lịch trả gốc không hợp lệ.")
        return None
    out = []
    for when, amount in pairs:
        sub: dict[str, str] = {}
        day = validation.iso_date({"d": when}, "d", sub)
        value = validation.amount({"a": amount}, "a", sub)
        if sub:
            errors[key] = _("Dòng «%(w)s»: %(m)s", w=str(when)[:20], m=next(iter(sub.values())))
            return None
        out.append([day.isoformat(), value])  # type: ignore[union-attr]
    return out


@dataclass(frozen=True)
class CleanTerms:
    term_months: int
    annual_rate: Decimal
    principal_method: str
    principal_every_months: int
    interest_every_months: int
    grace_months: int
    custom_schedule: list | None


def clean_terms(data: dict, errors: dict, default_rate: Decimal) -> CleanTerms:
    term = _int_field(data, "term_months", errors, 1, 600, 0)
    if data.get("term_months") in (None, ""):
        errors["term_months"] = _("Nhập thời hạn vay (tháng).")
    raw_rate = data.get("annual_rate")
    rate = default_rate
    if raw_rate not in (None, ""):
        try:
            rate = parse_rate(raw_rate)
        except MoneyError:
            errors["annual_rate"] = _("Lãi suất là số từ 0 đến 100 (phần trăm một năm), ví dụ 6.0.")
    method = str(data.get("principal_method") or "equal_principal")
    if method not in METHODS:
        errors["principal_method"] = _("Phương thức trả gốc không hợp lệ.")
    p_every = _int_field(data, "principal_every_months", errors, 1, 12, 1)
    i_every = _int_field(data, "interest_every_months", errors, 1, 12, 1)
    for key, value in (("principal_every_months", p_every), ("interest_every_months", i_every)):
        if key not in errors and value not in FREQUENCIES:
            errors[key] = _("Kỳ hạn trả là 1, 3, 6 hoặc 12 tháng.")
    grace = _int_field(data, "grace_months", errors, 0, 599, 0)
    custom = parse_custom(data.get("custom_schedule"), errors)
    if method == "custom" and not custom and "custom_schedule" not in errors:
        errors["custom_schedule"] = _("Phương thức tự nhập cần lịch trả gốc theo từng ngày.")
    return CleanTerms(term, rate, method, p_every, i_every, grace, custom)


def check_terms(terms: CleanTerms, amount: int, errors: dict) -> None:
    """The schedule engine's own rules on these terms (annuity dates, grace…)."""
    if errors or amount <= 0:
        return
    custom = tuple(
        CustomPrincipal(date.fromisoformat(d), a) for d, a in terms.custom_schedule or []
    )
    try:
        schedule_validate(
            LoanTerms(
                amount,
                terms.annual_rate,
                terms.term_months,
                terms.principal_method,
                terms.principal_every_months,
                terms.interest_every_months,
                terms.grace_months,
                custom,
            )
        )
    except ScheduleError as exc:
        field = {
            "grace_range": "grace_months",
            "annuity_same_dates": "interest_every_months",
            "annuity_grace_periods": "grace_months",
            "term_range": "term_months",
            "custom_sum": "custom_schedule",
            "custom_required": "custom_schedule",
            "custom_dates_order": "custom_schedule",
            "custom_amount_positive": "custom_schedule",
            "custom_only": "custom_schedule",
        }.get(exc.rule, "principal_method")
        errors[field] = store.rule_message(exc.rule, exc.detail)
