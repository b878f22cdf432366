"""The lending policy's parameters: what each one means, its type, its legal default and the
range the law (or, where the law is silent, good sense) allows a new version to take.

Two ways of reading a value:

- ``Param.parse`` reads a value as stored (a version, a contract's snapshot): lenient, so
  that nothing already stored becomes unreadable;
- ``Param.validate`` checks a value a board member proposes: its shape (ASCII digits, the
  Vietnamese decimal comma accepted) and the legal range in force on the date it would take
  effect. It returns the value as it is stored ("6,8" → "6.8"), or raises ``OutOfRange``
  with a message naming the allowed range and the legal act (the ranges, the shapes and
  their wording are in :mod:`fundapp.policy.bounds`).

The rules: docs/rules.md#lending-policy-as-dated-data; each parameter's own section is
named by its ``legal_reference``. The defaults of the overdue and late rates are the
domain's (:mod:`fundapp.domain.terms`).

The fund may be stricter than the law, never looser: a limit the law caps (single borrower
≤ 15 %, related group ≤ 25 %, overdue rate ≤ 150 %) may be set lower, a minimum the law
sets (own equity ≥ 20 %, the debt groups and provision rates of the SBV rules) higher.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from fundapp.domain.cooperatives import CooperativeKind
from fundapp.domain.money import MAX_AMOUNT, MoneyError, parse_dong
from fundapp.domain.overdue import CIRCULAR_14_FROM
from fundapp.domain.terms import (
    DEFAULT_LATE_RATE,
    DEFAULT_OVERDUE_MULTIPLIER,
    MAX_LATE_RATE,
    MAX_OVERDUE_MULTIPLIER,
)
from fundapp.policy.bounds import (
    INTEGER,
    LIST_PERCENT,
    PERCENT,
    YES_NO,
    Bound,
    OutOfRange,
    Range,
    describe,
    list_message,
    ordered,
    plain,
    shape_message,
)

DEFAULTS_EFFECTIVE = date(2021, 4, 1)  # Decree 45/2021/NĐ-CP in force

# The legal acts, as cited in the references below.
DECREE_45 = "Nghị định 45/2021/NĐ-CP ngày 31/03/2021"
CIVIL_CODE = "Bộ luật Dân sự 2015 (hiệu lực từ 01/01/2017)"
CIRCULAR_39 = "Thông tư 39/2016/TT-NHNN"
CIRCULAR_11 = "Thông tư 11/2021/TT-NHNN"
CIRCULAR_14 = "Thông tư 14/2024/TT-NHNN (hiệu lực từ 12/08/2024)"
DECREE_86 = "Nghị định 86/2024/NĐ-CP"
# Decree 86/2024/NĐ-CP on provisions: signed 11/07/2024 and, as reported, in force from its
# signature; its text was not found in the sources at hand
# (docs/rules.md#debt-classification-and-provisions).
DECREE_86_FROM = date(2024, 7, 11)
FUND_RULES = "Quy chế nội bộ của Quỹ"
# The steps of lending kept apart: appraisal (thẩm định) separate from the decision, and the
# appraiser independent of the file's preparer (docs/rules.md#daily-work).
APPRAISAL_SEPARATION = (
    "Thông tư 39/2016/TT-NHNN (quy định nội bộ về cho vay: thẩm định tách khỏi quyết định); "
    "Nghị định 39/2019/NĐ-CP; quy chế nội bộ của Quỹ"
)


@dataclass(frozen=True)
class Param:
    key: str
    # percent | money | months | days | group | int_list | group_list | percent_list | kinds
    # | yesno ("yes" or "no")
    kind: str
    default: str
    label: Any
    legal_reference: str
    bounds: tuple[Bound, ...] = ()
    # Later legal defaults, when the law changed the value: (in force from, value, act).
    later: tuple[tuple[date, str, str], ...] = ()

    def legal_versions(self) -> tuple[tuple[date, str, str], ...]:
        """The law's own versions of this parameter, oldest first: the default from
        ``DEFAULTS_EFFECTIVE`` and each later one (written by ``flask policy init``)."""
        return ((DEFAULTS_EFFECTIVE, self.default, self.legal_reference), *self.later)

    def default_on(self, day: date) -> str:
        """The legal default in force on ``day`` (the first one before any is)."""
        chosen = self.default
        for since, value, _ref in self.later:
            if since <= day:
                chosen = value
        return chosen

    def parse(self, raw: str) -> Any:
        """Typed value of ``raw`` as stored; raises ValueError when it cannot be read."""
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
            if self.kind == "yesno":
                answer = YES_NO.get(text.lower())
                if answer is None:
                    raise ValueError
                return answer == "yes"
            if self.kind == "kinds":
                kinds = [p.strip() for p in text.split(",") if p.strip()]
                known = {k.value for k in CooperativeKind}
                if not kinds or any(k not in known for k in kinds):
                    raise ValueError
                return kinds
        except (ValueError, InvalidOperation, ArithmeticError):
            pass
        raise ValueError(self.kind)

    def canonical(self, raw: str | None) -> str:
        """``raw`` as it would be stored today ("6,8" → "6.8", " 0700000000" → "700000000"),
        for a value an older version stored another way; a value that cannot be read at all
        is returned as it is (shown as text, named by ``flask fund check``), never an error."""
        text = (raw or "").strip()
        try:
            value = self.parse(text)
        except ValueError:
            return text
        if self.kind == "percent" or self.kind in {"money", "months", "days", "group"}:
            return plain(value)
        if self.kind in {"int_list", "group_list", "percent_list"}:
            return ",".join(plain(v) for v in value)
        if self.kind == "yesno":
            return "yes" if value else "no"
        return ",".join(value)

    def tolerant(self, raw: str) -> str:
        """``raw`` as stored when it reads plainly; otherwise (a value an older version
        stored as typed, "6,8" or " 6.8 ") its canonical form. The criterion of
        ``flask fund check``'s "not stored canonically"."""
        return raw if self.stored_plainly(raw) else self.canonical(raw)

    def stored_plainly(self, raw: str) -> bool:
        return raw == raw.strip() and not (self.kind == "percent" and "," in raw)

    def bound_on(self, day: date) -> Bound | None:
        """The legal bound in force on ``day`` (the earliest one before any is in force)."""
        chosen = self.bounds[0] if self.bounds else None
        for bound in self.bounds:
            if bound.since <= day:
                chosen = bound
        return chosen

    def validate(self, raw: str, effective_from: date) -> str:
        """``raw`` as it is stored, if this parameter may take it from ``effective_from``;
        otherwise ``OutOfRange`` with a message naming what it may take and why."""
        text = (raw or "").strip()
        bound = self.bound_on(effective_from)
        if self.kind == "kinds":
            return self._validate_kinds(text, bound)
        if self.kind == "yesno":
            if YES_NO.get(text.lower()) is None:
                reference = bound.reference if bound else self.legal_reference
                raise OutOfRange(f"{shape_message(self.kind)} ({reference})")
            return YES_NO[text.lower()]
        if self.kind in {"int_list", "group_list", "percent_list"}:
            return self._validate_list(text, bound)
        value: Decimal | int
        if self.kind == "money":
            # The fund's one way of typing money: 500000000, 500.000.000, 500 000 000 đ.
            try:
                value = parse_dong(text)
            except MoneyError as exc:
                if str(exc) != "too_large" or bound is None:
                    raise OutOfRange(shape_message(self.kind)) from None
                value = MAX_AMOUNT + 1  # a number, above every money range
        else:
            pattern = PERCENT if self.kind == "percent" else INTEGER
            if not pattern.fullmatch(text):
                raise OutOfRange(shape_message(self.kind))
            value = Decimal(text.replace(",", ".")) if self.kind == "percent" else int(text)
        if bound is not None and value not in bound.ranges[0]:
            raise OutOfRange(
                _(
                    "Giá trị phải %(range)s (%(ref)s).",
                    range=describe(bound.ranges[0], self.kind),
                    ref=bound.reference,
                )
            )
        return plain(value)

    def _validate_kinds(self, text: str, bound: Bound | None) -> str:
        known = [k.value for k in CooperativeKind]
        kinds = [p.strip() for p in text.split(",")]
        if not text or any(k not in known for k in kinds) or len(set(kinds)) != len(kinds):
            raise OutOfRange(
                _(
                    "Chọn một hoặc nhiều loại trong số %(kinds)s, mỗi loại một lần (%(ref)s).",
                    kinds=", ".join(known),
                    ref=bound.reference if bound else self.legal_reference,
                )
            )
        return ",".join(kinds)

    def _validate_list(self, text: str, bound: Bound | None) -> str:
        parts = [p.strip() for p in text.split(",")]
        size = {"int_list": 4, "group_list": 4, "percent_list": 5}[self.kind]
        pattern = LIST_PERCENT if self.kind == "percent_list" else INTEGER
        if len(parts) != size or not all(pattern.fullmatch(p) for p in parts):
            raise OutOfRange(shape_message(self.kind))
        values: list[Any] = [Decimal(p) if self.kind == "percent_list" else int(p) for p in parts]
        if bound is not None and not (
            all(v in r for v, r in zip(values, bound.ranges, strict=True))
            and ordered(values, bound.order)
        ):
            raise OutOfRange(list_message(self.kind, bound))
        return ",".join(plain(v) for v in values)

    def allowed(self, day: date) -> str:
        """What this parameter may take from ``day``, in words (a hint on the form)."""
        bound = self.bound_on(day)
        if bound is None:
            return ""
        if self.kind == "kinds":
            return _("Các loại đối tượng theo %(ref)s.", ref=bound.reference)
        if self.kind == "yesno":
            return _("Có hoặc không (%(ref)s).", ref=bound.reference)
        if self.kind in {"int_list", "group_list", "percent_list"}:
            return list_message(self.kind, bound)
        return _(
            "Giá trị phải %(range)s (%(ref)s).",
            range=describe(bound.ranges[0], self.kind),
            ref=bound.reference,
        )


def _r(low: Any, high: Any, low_open: bool = False, high_open: bool = False) -> Range:
    return Range(Decimal(low), Decimal(high), low_open, high_open)


def _one(since: date, span: Range, reference: str) -> tuple[Bound, ...]:
    return (Bound(since, (span,), reference),)


def _dated(order: str, *versions: tuple[date, tuple[Range, ...], str]) -> tuple[Bound, ...]:
    """The bounds of a list parameter, one per (in force from, ranges, act), all keeping
    ``order``."""
    return tuple(Bound(since, ranges, reference, order) for since, ranges, reference in versions)


PARAMS: tuple[Param, ...] = (
    Param(
        "eligible_kinds",
        "kinds",
        "cooperative,union,coop_member,group_member",
        _l("Đối tượng được vay"),
        f"{DECREE_45}, Điều 20",
        (Bound(DEFAULTS_EFFECTIVE, (), f"{DECREE_45}, Điều 20"),),
    ),
    Param(
        "min_equity_pct",
        "percent",
        "20",
        _l("Vốn đối ứng tối thiểu (% tổng mức đầu tư)"),
        f"{DECREE_45}, Điều 22",
        # The law's minimum is 20 %; the fund may ask more, and 100 % would leave no loan.
        _one(DEFAULTS_EFFECTIVE, _r(20, 100, high_open=True), f"{DECREE_45}, Điều 22"),
    ),
    Param(
        "single_borrower_limit_pct",
        "percent",
        "15",
        _l("Giới hạn cho vay một khách hàng (% vốn điều lệ thực có)"),
        f"{DECREE_45}, Điều 23",
        _one(DEFAULTS_EFFECTIVE, _r(0, 15, low_open=True), f"{DECREE_45}, Điều 23"),
    ),
    Param(
        "related_group_limit_pct",
        "percent",
        "25",
        _l("Giới hạn cho vay khách hàng và người có liên quan (% vốn điều lệ thực có)"),
        f"{DECREE_45}, Điều 23",
        _one(DEFAULTS_EFFECTIVE, _r(0, 25, low_open=True), f"{DECREE_45}, Điều 23"),
    ),
    Param(
        "default_annual_rate",
        "percent",
        "6.0",
        _l("Lãi suất cho vay trong hạn mặc định (%/năm)"),
        f"{DECREE_45}, Điều 25; quyết định của Quỹ",
        # An agreed rate above 20 %/year is void beyond the cap.
        _one(
            DEFAULTS_EFFECTIVE,
            _r(0, 20, low_open=True),
            f"{DECREE_45}, Điều 25; {CIVIL_CODE}, Điều 468 khoản 1",
        ),
    ),
    Param(
        "overdue_rate_pct",
        "percent",
        plain(DEFAULT_OVERDUE_MULTIPLIER),
        _l("Lãi suất nợ gốc quá hạn (% lãi suất trong hạn)"),
        f"{DECREE_45}, Điều 25",
        # A multiplier of the in-term rate (the overdue rate replaces it): at most 150 %, and
        # never below the in-term rate itself, which would reward paying late.
        _one(
            DEFAULTS_EFFECTIVE,
            _r(100, MAX_OVERDUE_MULTIPLIER),
            f"{DECREE_45}, Điều 25; {CIVIL_CODE}, Điều 466 khoản 5",
        ),
    ),
    Param(
        "late_interest_rate",
        "percent",
        plain(DEFAULT_LATE_RATE),
        _l("Lãi chậm trả trên lãi quá hạn (%/năm)"),
        f"{CIVIL_CODE}, Điều 466, 468",
        # Interest on unpaid interest: the rate of Art. 468 par. 2, 10 %/year; 0 waives it.
        _one(
            DEFAULTS_EFFECTIVE,
            _r(0, MAX_LATE_RATE),
            f"{CIVIL_CODE}, Điều 466 khoản 5, Điều 468 khoản 2",
        ),
    ),
    Param(
        "director_approval_limit",
        "money",
        "500000000",
        _l("Thẩm quyền phê duyệt của Giám đốc (đồng)"),
        FUND_RULES,
        _one(DEFAULTS_EFFECTIVE, _r(0, MAX_AMOUNT, low_open=True), FUND_RULES),
    ),
    Param(
        # Who decides an exemption or reduction of interest (miễn, giảm lãi): the director up
        # to this total waived by one decision, the board above. The default mirrors the
        # director's approval limit.
        "director_relief_limit",
        "money",
        "500000000",
        _l("Thẩm quyền miễn, giảm lãi của Giám đốc (đồng)"),
        FUND_RULES,
        _one(DEFAULTS_EFFECTIVE, _r(0, MAX_AMOUNT, low_open=True), FUND_RULES),
    ),
    Param(
        # Posting a batch of bank statement lines (fundapp.banking.posting): a batch whose
        # total is above this waits for the director's approval; 0, the default, sends
        # every batch to the director (maker-checker on all money put on loans).
        "bank_batch_approval_above",
        "money",
        "0",
        _l("Lô thu nợ từ sao kê ngân hàng cần Giám đốc duyệt khi tổng tiền trên (đồng)"),
        FUND_RULES,
        _one(DEFAULTS_EFFECTIVE, _r(0, MAX_AMOUNT), FUND_RULES),
    ),
    Param(
        "short_term_max_months",
        "months",
        "12",
        _l("Cho vay ngắn hạn: tối đa (tháng)"),
        f"{CIRCULAR_39}, Điều 10",
        # Short-term lending is lending for at most one year.
        _one(DEFAULTS_EFFECTIVE, _r(1, 12), f"{CIRCULAR_39}, Điều 10"),
    ),
    Param(
        "medium_term_max_months",
        "months",
        "60",
        _l("Cho vay trung hạn: tối đa (tháng)"),
        f"{CIRCULAR_39}, Điều 10",
        # Medium-term: above one year, at most five.
        _one(DEFAULTS_EFFECTIVE, _r(13, 60), f"{CIRCULAR_39}, Điều 10"),
    ),
    Param(
        "group_thresholds_days",
        "int_list",
        "10,91,181,361",
        _l("Số ngày quá hạn bắt đầu nhóm 2, 3, 4, 5"),
        CIRCULAR_11,
        # A loan may be classified worse sooner than the SBV rules say, never later.
        _dated(
            "increasing",
            (
                DEFAULTS_EFFECTIVE,
                (_r(1, 10), _r(1, 91), _r(1, 181), _r(1, 361)),
                f"{DECREE_45}, Điều 28; {CIRCULAR_11}",
            ),
            (
                CIRCULAR_14_FROM,
                (_r(1, 10), _r(1, 30), _r(1, 90), _r(1, 180)),
                f"{DECREE_45}, Điều 28; {CIRCULAR_14}",
            ),
        ),
        ((CIRCULAR_14_FROM, "10,30,90,180", f"{DECREE_45}, Điều 28; {CIRCULAR_14}, Điều 5"),),
    ),
    Param(
        "restructure_floor_groups",
        "group_list",
        "2,3,4,5",
        _l("Nhóm nợ tối thiểu khi cơ cấu: điều chỉnh kỳ hạn lần 1, gia hạn lần 1, lần 2, lần 3+"),
        CIRCULAR_11,
        _dated(
            "floors",
            (
                DEFAULTS_EFFECTIVE,
                (_r(2, 5), _r(3, 5), _r(4, 5), _r(5, 5)),
                f"{DECREE_45}, Điều 28; {CIRCULAR_11}",
            ),
            # Circular 14/2024 Art. 5: any first restructuring is group 2 (term adjustment
            # and extension alike), a second one group 4, a third or later group 5.
            (
                CIRCULAR_14_FROM,
                (_r(2, 5), _r(2, 5), _r(4, 5), _r(5, 5)),
                f"{DECREE_45}, Điều 28; {CIRCULAR_14}, Điều 5",
            ),
        ),
        ((CIRCULAR_14_FROM, "2,2,4,5", f"{DECREE_45}, Điều 28; {CIRCULAR_14}, Điều 5"),),
    ),
    Param(
        "provision_rates_pct",
        "percent_list",
        "0,5,20,50,100",
        _l("Tỷ lệ trích lập dự phòng cụ thể nhóm 1–5 (%)"),
        CIRCULAR_11,
        # The lower of the two regimes' rates (0/5/20/50/100 and 0/2/25/50/100): a fund may
        # provide more, never less; a loss (group 5) is fully provided.
        _dated(
            "non_decreasing",
            (
                DEFAULTS_EFFECTIVE,
                (_r(0, 100), _r(2, 100), _r(20, 100), _r(50, 100), _r(100, 100)),
                f"{DECREE_45}, Điều 28; {CIRCULAR_11}; {DECREE_86}",
            ),
            # The microfinance rates of Decree 86/2024 (0 / 2 / 25 / 50 / 100 %) are the
            # minimum from its date.
            (
                DECREE_86_FROM,
                (_r(0, 100), _r(2, 100), _r(25, 100), _r(50, 100), _r(100, 100)),
                f"{DECREE_45}, Điều 28; {DECREE_86}",
            ),
        ),
        ((DECREE_86_FROM, "0,2,25,50,100", f"{DECREE_45}, Điều 28; {DECREE_86}"),),
    ),
    Param(
        "general_provision_pct",
        "percent",
        "0.75",
        _l("Dự phòng chung (% dư nợ nhóm 1–4)"),
        CIRCULAR_11,
        _one(DEFAULTS_EFFECTIVE, _r(0, Decimal("0.75")), f"{DECREE_45}, Điều 28; {CIRCULAR_11}"),
    ),
    Param(
        "bad_debt_from_group",
        "group",
        "3",
        _l("Nợ xấu: từ nhóm"),
        f"{DECREE_45}, Điều 2",
        # Bad debt is groups 3–5; the fund may count group 2 as well, never fewer groups.
        _one(DEFAULTS_EFFECTIVE, _r(2, 3), f"{DECREE_45}, Điều 2"),
    ),
    Param(
        # Whether the officer who prepared an application (its creator, or its officer) may
        # also appraise it. Default no: the appraisal is a second officer's check.
        "self_appraisal_allowed",
        "yesno",
        "no",
        _l("Cán bộ lập hồ sơ được tự thẩm định hồ sơ của mình"),
        APPRAISAL_SEPARATION,
        (Bound(DEFAULTS_EFFECTIVE, (), APPRAISAL_SEPARATION),),
    ),
    Param(
        "due_soon_days",
        "days",
        "7",
        _l("Thông báo sắp đến hạn trước (ngày)"),
        "Thực tiễn của Quỹ",
        _one(DEFAULTS_EFFECTIVE, _r(1, 60), "Thực tiễn của Quỹ"),
    ),
)

BY_KEY: dict[str, Param] = {p.key: p for p in PARAMS}
