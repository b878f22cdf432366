"""The fund's annual A/B/C self-assessment, due to the provincial Cooperative Alliance by
31/05 of the next year, and the dissolution warnings of Decree 45/2021 Art. 46
(docs/rules.md#ranking-and-dissolution).

The four indicators of year Y come from the operations report (Phụ lục 2a) of 1 January
to 31 December of Y (or the business date, before the year is over), so they agree with
plan against actual: the outstanding at the date against the plan and against 31/12/Y-1,
the bad-debt ratio (groups 3–5 over the outstanding) against the plan's ceiling, the
result (income − expenses) against the planned result, and the compliance checklist the
director answers. The scoring and the rank are ``fundapp.domain.ranking``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from fundapp.domain import ranking as rules
from fundapp.domain.dates import format_date
from fundapp.domain.errors import Conflict, ValidationFailed
from fundapp.planning import ranking as records
from fundapp.planning import services as planning
from fundapp.reports import aggregates, cache, operations, plan_actual
from fundapp.reports.origin_book import fund_position
from fundapp.reports.positions import BAD_DEBT_GROUPS
from fundapp.reports.tables import Column, Row, Table, amount_filter, pct_filter, ratio


def score_label(score: str) -> str:
    return {
        rules.MET: _("Đạt"),
        rules.PARTIAL: _("Đạt một phần"),
        rules.NOT_MET: _("Không đạt"),
    }[score]


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    unit: str  # "money" (đồng) or "bp" (basis points)
    plan: int
    actual: int
    previous: int | None  # loan growth: the outstanding at 31/12 of the year before
    score: str  # met, partial, not_met
    points: int
    reason: str


@dataclass(frozen=True)
class Answer:
    code: str
    label: str
    complied: bool | None  # None: not yet recorded


@dataclass(frozen=True)
class Recorded:
    rank: str
    points: int
    as_of: date
    recorded_by: str | None
    recorded_at: str
    note: str


@dataclass(frozen=True)
class Case:
    case: str
    title: str
    text: str
    years: tuple[int, ...]
    required: int
    met: bool


@dataclass(frozen=True)
class RankingReport:
    year: int
    as_of: date
    final: bool  # the year is over: the figures are those of 31 December
    plan_id: int
    plan_status: str
    indicators: tuple[Indicator, ...]
    points: int
    max_points: int
    rank: str
    reason: str
    compliance: tuple[Answer, ...]
    recorded: Recorded | None
    criteria_from: date
    warnings: tuple[Case, ...]


def filters(args: Mapping[str, str], today: date) -> tuple[int, date]:
    """``year`` (default: the last year, whose assessment is due by 31/05) and ``as_of``
    as for plan against actual."""
    if not (args.get("year") or "").strip() and not (args.get("as_of") or "").strip():
        return plan_actual.filters({"year": str(today.year - 1)}, today)
    return plan_actual.filters(args, today)


def _growth_reason(actual: int, plan: int, previous: int) -> str:
    if not plan:
        return _("Kế hoạch không đặt dư nợ; cuối năm trước %(b)s.", b=amount_filter(previous))
    return _(
        "Đạt %(r)s kế hoạch; cuối năm trước %(b)s.",
        r=pct_filter(ratio(actual, plan)),
        b=amount_filter(previous),
    )


def _indicators(
    ops: operations.OperationsReport,
    planned: dict[str, int],
    answers: dict[str, bool] | None,
    c: rules.Criteria,
) -> tuple[Indicator, ...]:
    outstanding, previous = ops.lending.closing, ops.lending.opening
    growth = rules.loan_growth(outstanding, planned["outstanding"], previous, c)
    bad_bp = int(ops.quality.bad_debt_ratio * 100)
    bad = rules.bad_debt(bad_bp, planned["bad_debt_ratio"], c)
    ceiling = rules.bad_debt_ceiling(planned["bad_debt_ratio"], c)
    plan_result = (
        planned["interest_income"]
        + planned["other_income"]
        - planned["provision_expense"]
        - planned["operating_costs"]
    )
    result = ops.result.result
    fin = rules.financial_result(result, plan_result)
    comp = rules.compliance(answers, c)
    complied = sum(1 for v in (answers or {}).values() if v)
    out = (
        Indicator(
            "loan_growth",
            _("Tăng trưởng dư nợ cho vay"),
            "money",
            planned["outstanding"],
            outstanding,
            previous,
            growth,
            rules.POINTS[growth],
            _growth_reason(outstanding, planned["outstanding"], previous),
        ),
        Indicator(
            "bad_debt",
            _("Tỷ lệ nợ xấu (nhóm 3–5 trên dư nợ)"),
            "bp",
            planned["bad_debt_ratio"],
            bad_bp,
            None,
            bad,
            rules.POINTS[bad],
            _(
                "Mức tối đa %(c)s (kế hoạch hoặc tiêu chí, mức thấp hơn).",
                c=pct_filter(Decimal(ceiling) / 100),
            ),
        ),
        Indicator(
            "financial_result",
            _("Kết quả tài chính (thu nhập − chi phí)"),
            "money",
            plan_result,
            result,
            None,
            fin,
            rules.POINTS[fin],
            _("Lỗ trong năm.") if result < 0 else _("Có lãi hoặc hòa vốn."),
        ),
        Indicator(
            "compliance",
            _("Chấp hành chế độ, chính sách"),
            "count",
            len(rules.COMPLIANCE),
            complied,
            None,
            comp,
            rules.POINTS[comp],
            _("Chưa tự đánh giá.")
            if answers is None
            else _("%(n)s/%(t)s nội dung chấp hành.", n=complied, t=len(rules.COMPLIANCE)),
        ),
    )
    return out


def _reason(indicators: tuple[Indicator, ...], rank: str, c: rules.Criteria) -> str:
    points = sum(i.points for i in indicators)
    failed = [i.label for i in indicators if i.score == rules.NOT_MET]
    text = _(
        "%(p)s/%(m)s điểm (loại A: từ %(a)s điểm và không chỉ tiêu nào không đạt; "
        "loại B: từ %(b)s điểm).",
        p=points,
        m=rules.MAX_POINTS,
        a=c.a_min_points,
        b=c.b_min_points,
    )
    if failed:
        text += " " + _("Không đạt: %(l)s.", l="; ".join(failed))
    return text


def build(year: int, as_of: date, today: date | None = None) -> RankingReport:
    """The self-assessment of ``year`` with the figures at ``as_of`` (31/12 once over)."""
    plan = planning.plan_for_year(year)
    if plan is None:
        message = _("Chưa có kế hoạch năm %(y)s: cần kế hoạch để tự đánh giá.", y=year)
        raise ValidationFailed(message, {"year": message})
    c = rules.criteria_for(date(year, 12, 31))
    record = records.assessment_for(year)
    answers = record.compliance if record else None
    ops = operations.build(date(year, 1, 1), as_of)
    indicators = _indicators(ops, planning.amounts_of(plan), answers, c)
    rank = rules.rank([i.score for i in indicators], c)
    recorded = None
    if record:
        recorded = Recorded(
            record.rank,
            record.points,
            record.as_of,
            record.recorded_by.username if record.recorded_by else None,
            record.recorded_at.isoformat(),
            record.note,
        )
    return RankingReport(
        year=year,
        as_of=as_of,
        final=as_of == date(year, 12, 31),
        plan_id=plan.id,
        plan_status=plan.status,
        indicators=indicators,
        points=sum(i.points for i in indicators),
        max_points=rules.MAX_POINTS,
        rank=rank,
        reason=_reason(indicators, rank, c),
        compliance=tuple(
            Answer(i.code, _(i.label), None if answers is None else bool(answers.get(i.code)))
            for i in rules.COMPLIANCE
        ),
        recorded=recorded,
        criteria_from=c.effective_from,
        warnings=tuple(warnings(today or as_of)),
    )


def record(actor: Any, year: int, raw_answers: Mapping[str, Any], note: Any, today: date) -> Any:
    """The director records the self-assessment of a year that is over, with the figures
    of its 31 December. Flushes."""
    answers = records.parse_answers(raw_answers)
    text = records.parse_note(note)
    if year >= today.year:
        message = _("Năm %(y)s chưa kết thúc; chỉ tự đánh giá năm đã qua.", y=year)
        raise Conflict(message, {"year": message})
    end = date(year, 12, 31)
    plan = planning.plan_for_year(year)
    if plan is None:
        message = _("Chưa có kế hoạch năm %(y)s: cần kế hoạch để tự đánh giá.", y=year)
        raise ValidationFailed(message, {"year": message})
    c = rules.criteria_for(end)
    ops = operations.build(date(year, 1, 1), end)
    indicators = _indicators(ops, planning.amounts_of(plan), answers, c)
    rank = rules.rank([i.score for i in indicators], c)
    figures = {
        i.code: {"plan": i.plan, "actual": i.actual, "previous": i.previous, "score": i.score}
        for i in indicators
    }
    points = sum(i.points for i in indicators)
    return records.save(actor, year, end, answers, text, rank, points, figures)


# --- Decree 45 Art. 46 ----------------------------------------------------------------------


def _year_end(year: int, ranks: dict[int, str]) -> rules.YearEnd:
    end = date(year, 12, 31)
    p = fund_position(end)
    bad = 0
    if p.outstanding:
        held = aggregates.book(end, ("debt_group",), outstanding_only=False)
        bad = sum(r.outstanding for r in held.rows if r.debt_group in BAD_DEBT_GROUPS)
    equity = p.charter + p.grants + p.other + p.accumulated_result
    return rules.YearEnd(
        year, p.charter, equity, p.outstanding, bad, p.accumulated_result, ranks.get(year)
    )


def _case(w: rules.DissolutionCase, c: rules.Criteria) -> Case:
    money = amount_filter(c.minimum_charter_capital)
    titles = {
        "charter_minimum": (
            _("Vốn điều lệ thấp hơn mức tối thiểu"),
            _(
                "Vốn điều lệ thực có thấp hơn mức tối thiểu %(m)s "
                "(Nghị định 45/2021/NĐ-CP Điều 46 khoản 1, Điều 37).",
                m=money,
            ),
        ),
        "rank_c_low_lending": (
            _("Xếp loại C và dư nợ dưới 20 % vốn chủ sở hữu"),
            _("Nghị định 45/2021/NĐ-CP Điều 46 khoản 2."),
        ),
        "bad_debt": (
            _("Nợ xấu trên 50 % vốn điều lệ thực có"),
            _("Nghị định 45/2021/NĐ-CP Điều 46 khoản 3."),
        ),
        "accumulated_loss": (
            _("Lỗ lũy kế từ 75 % vốn điều lệ thực có"),
            _("Nghị định 45/2021/NĐ-CP Điều 46 khoản 4."),
        ),
    }
    title, text = titles[w.case]
    if w.required > 1:
        text += " " + _(
            "Đã %(n)s năm liên tiếp (%(y)s); trường hợp giải thể khi đủ %(r)s năm liên tiếp.",
            n=len(w.years),
            y=", ".join(str(y) for y in sorted(w.years)),
            r=w.required,
        )
    return Case(w.case, title, text, w.years, w.required, w.met)


def _warnings(today: date) -> list[Case]:
    c = rules.criteria_for(today)
    ranks = records.ranks_by_year()
    last = today.year - 1
    year_ends = [_year_end(y, ranks) for y in range(last, last - c.dissolution_years, -1)]
    charter_now = fund_position(today).charter
    return [_case(w, c) for w in rules.dissolution_warnings(charter_now, year_ends, c)]


def warnings(today: date) -> list[Case]:
    """The Art. 46 cases that apply on ``today``: empty when none does."""
    return cache.remembered("ranking:warnings", (today.isoformat(),), lambda: _warnings(today))


def tables(report: RankingReport) -> list[Table]:
    columns = (
        Column(_("Chỉ tiêu"), "text", 36),
        Column(_("Kế hoạch"), "money", 18),
        Column(_("Thực hiện đến %(d)s", d=format_date(report.as_of)), "money", 18),
        Column(_("Đánh giá"), "text", 14),
        Column(_("Điểm"), "count", 8),
        Column(_("Căn cứ"), "text", 50),
    )

    def row(i: Indicator) -> Row:
        if i.unit == "bp":
            values: tuple[Any, Any] = (Decimal(i.plan) / 100, Decimal(i.actual) / 100)
            kinds = ("text", "ratio", "ratio", "text", "count", "text")
        else:
            values = (i.plan, i.actual)
            kind = "count" if i.unit == "count" else "money"
            kinds = ("text", kind, kind, "text", "count", "text")
        cells = (i.label, *values, score_label(i.score), i.points, i.reason)
        return Row(cells, kinds=kinds)

    rows = tuple(row(i) for i in report.indicators)
    total = Row(
        (_("Xếp loại: %(r)s", r=report.rank), None, None, "", report.points, report.reason),
        strong=True,
        kinds=("text", "text", "text", "text", "count", "text"),
    )
    checklist = tuple(
        Row(
            (
                a.label,
                _("Chưa đánh giá")
                if a.complied is None
                else (_("Có") if a.complied else _("Không")),
            ),
        )
        for a in report.compliance
    )
    out = [
        Table(
            "indicators",
            _("I. Các chỉ tiêu đánh giá"),
            columns,
            rows,
            total,
            note=_(
                "Số liệu từ sổ kế toán từ ngày 01/01 đến ngày báo cáo, như báo cáo Phụ lục 2a; "
                "ngưỡng xếp loại áp dụng từ %(d)s.",
                d=format_date(report.criteria_from),
            ),
            sheet=_("Chỉ tiêu"),
        ),
        Table(
            "compliance",
            _("II. Chấp hành chế độ, chính sách"),
            (Column(_("Nội dung"), "text", 70), Column(_("Chấp hành"), "text", 16)),
            checklist,
            None,
            sheet=_("Chấp hành"),
        ),
    ]
    if report.warnings:
        out.append(
            Table(
                "dissolution",
                _("III. Cảnh báo trường hợp giải thể (Nghị định 45/2021/NĐ-CP Điều 46)"),
                (Column(_("Trường hợp"), "text", 40), Column(_("Chi tiết"), "text", 80)),
                tuple(Row((w.title, w.text)) for w in report.warnings),
                None,
                sheet=_("Cảnh báo"),
            )
        )
    return out
