"""The fund's annual A/B/C self-assessment and the dissolution cases of Decree 45/2021/NĐ-CP
Art. 46, as pure rules (docs/rules.md#ranking-and-dissolution).

No act found sets the four indicators' thresholds or the points of each rank (Circular
52/2022/TT-BTC and the Ministry of Finance's rules on ranking state financial funds were
not found), so they are the fund's own, kept as dated versions (``CRITERIA``): a new
version is a new entry from its date, never an edit of an old one, so a past year is
always assessed under the criteria of its own 31 December. Art. 46's thresholds (20 %,
50 %, 75 %, five consecutive years) are the Decree's; the minimum charter capital of its
Art. 37 was not found and is the fund's assumption, marked so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from fundapp.domain.errors import N_

MET, PARTIAL, NOT_MET = "met", "partial", "not_met"
POINTS = {MET: 2, PARTIAL: 1, NOT_MET: 0}
INDICATORS = ("loan_growth", "bad_debt", "financial_result", "compliance")
MAX_POINTS = POINTS[MET] * len(INDICATORS)
RANKS = ("A", "B", "C")
BASIS_POINTS = 10_000

DECREE_45 = "Nghị định 45/2021/NĐ-CP"


@dataclass(frozen=True)
class Criteria:
    """One version of the thresholds, in force from ``effective_from``. Ratios are basis
    points (1/100 of a percent), money whole đồng."""

    effective_from: date
    # loan growth: partly met when the outstanding reaches this share of the plan
    growth_partial_bp: int
    # bad debt: met at or under the plan's ceiling and this one (the stricter), partly met
    # at or under the second
    bad_debt_met_bp: int
    bad_debt_partial_bp: int
    # compliance: partly met with at most this many items not complied with
    compliance_partial_misses: int
    # rank A: at least these points and no indicator not met; B: at least b_min_points
    a_min_points: int
    b_min_points: int
    # Decree 45 Art. 46
    minimum_charter_capital: int  # Art. 37 (assumed: text not found)
    dissolution_years: int
    lending_to_equity_min_bp: int
    bad_debt_to_charter_max_bp: int
    accumulated_loss_to_charter_bp: int
    basis: str


CRITERIA: tuple[Criteria, ...] = (
    Criteria(
        effective_from=date(2021, 5, 15),  # Decree 45/2021 in force
        growth_partial_bp=9_000,
        bad_debt_met_bp=300,
        bad_debt_partial_bp=500,
        compliance_partial_misses=1,
        a_min_points=7,
        b_min_points=4,
        minimum_charter_capital=100_000_000_000,
        dissolution_years=5,
        lending_to_equity_min_bp=2_000,
        bad_debt_to_charter_max_bp=5_000,
        accumulated_loss_to_charter_bp=7_500,
        basis=f"{DECREE_45} Điều 37, 46; ngưỡng xếp loại A, B, C do Quỹ quy định",
    ),
)


def criteria_for(day: date) -> Criteria:
    """The version in force on ``day`` (the first one before any version began)."""
    found = CRITERIA[0]
    for version in CRITERIA:
        if version.effective_from <= day:
            found = version
    return found


@dataclass(frozen=True)
class ComplianceItem:
    code: str
    label: str  # Vietnamese source text; shown through gettext


COMPLIANCE: tuple[ComplianceItem, ...] = (
    ComplianceItem(
        "reports_on_time", N_("Gửi đầy đủ, đúng hạn các báo cáo định kỳ (Phụ lục 1a, 2a)")
    ),
    ComplianceItem(
        "no_violations",
        N_("Không có sai phạm do thanh tra, kiểm tra, kiểm toán kết luận trong năm"),
    ),
    ComplianceItem(
        "lending_rules", N_("Cho vay đúng đối tượng, mức cho vay, lãi suất và thời hạn")
    ),
    ComplianceItem(
        "provisions", N_("Phân loại nợ, trích lập và sử dụng dự phòng rủi ro đúng quy định")
    ),
    ComplianceItem("accounting", N_("Chấp hành chế độ kế toán, kiểm toán và công khai tài chính")),
)
COMPLIANCE_CODES = tuple(item.code for item in COMPLIANCE)


def loan_growth(outstanding: int, plan: int, previous: int, c: Criteria) -> str:
    """Met: the outstanding at 31/12 reaches the plan and is no lower than a year before;
    partly: it reaches ``growth_partial_bp`` of the plan, or at least grew."""
    if outstanding >= plan and outstanding >= previous:
        return MET
    if outstanding * BASIS_POINTS >= plan * c.growth_partial_bp or outstanding >= previous:
        return PARTIAL
    return NOT_MET


def bad_debt_ceiling(plan_bp: int, c: Criteria) -> int:
    """The plan's ceiling or the criteria's, whichever is stricter (the criteria's when
    the plan sets none)."""
    return min(plan_bp, c.bad_debt_met_bp) if plan_bp > 0 else c.bad_debt_met_bp


def bad_debt(ratio_bp: int, plan_bp: int, c: Criteria) -> str:
    if ratio_bp <= bad_debt_ceiling(plan_bp, c):
        return MET
    return PARTIAL if ratio_bp <= c.bad_debt_partial_bp else NOT_MET


def financial_result(result: int, plan: int) -> str:
    """Met: no loss and at least the planned result; partly: no loss; a loss is not met."""
    if result < 0:
        return NOT_MET
    return MET if result >= plan else PARTIAL


def compliance(answers: Mapping[str, bool] | None, c: Criteria) -> str:
    """Every item complied with is met; not assessed (``None``) is not met."""
    if answers is None:
        return NOT_MET
    misses = sum(1 for code in COMPLIANCE_CODES if not answers.get(code, False))
    if misses == 0:
        return MET
    return PARTIAL if misses <= c.compliance_partial_misses else NOT_MET


def rank(scores: Sequence[str], c: Criteria) -> str:
    points = sum(POINTS[s] for s in scores)
    if points >= c.a_min_points and NOT_MET not in scores:
        return "A"
    return "B" if points >= c.b_min_points else "C"


# --- Decree 45 Art. 46: dissolution cases --------------------------------------------------


@dataclass(frozen=True)
class YearEnd:
    """The fund's figures at 31 December of ``year``, with its recorded rank."""

    year: int
    charter: int  # paid-in charter capital (vốn điều lệ thực có): the charter account
    equity: int  # owner's equity: charter, grants, other capital and accumulated result
    outstanding: int
    bad_debt: int  # groups 3–5
    accumulated_result: int
    rank: str | None


def low_lending_and_rank_c(y: YearEnd, c: Criteria) -> bool:
    """Art. 46.2: ranked C and the outstanding below 20 % of owner's equity."""
    low = y.equity > 0 and y.outstanding * BASIS_POINTS < y.equity * c.lending_to_equity_min_bp
    return y.rank == "C" and low


def bad_debt_over_charter(y: YearEnd, c: Criteria) -> bool:
    """Art. 46.3: bad debt above 50 % of the paid-in charter capital."""
    return y.charter > 0 and y.bad_debt * BASIS_POINTS > y.charter * c.bad_debt_to_charter_max_bp


def accumulated_loss(y: YearEnd, c: Criteria) -> bool:
    """Art. 46.4: an accumulated loss of at least 75 % of the paid-in charter capital."""
    loss = -y.accumulated_result
    return (
        y.charter > 0
        and loss > 0
        and loss * BASIS_POINTS >= y.charter * c.accumulated_loss_to_charter_bp
    )


CASES: tuple[tuple[str, Callable[[YearEnd, Criteria], bool]], ...] = (
    ("rank_c_low_lending", low_lending_and_rank_c),
    ("bad_debt", bad_debt_over_charter),
    ("accumulated_loss", accumulated_loss),
)


@dataclass(frozen=True)
class DissolutionCase:
    case: str  # charter_minimum, or a key of CASES
    years: tuple[int, ...]  # the consecutive years the case held, the latest first
    required: int  # years needed for the case to be met (1 for the charter minimum)

    @property
    def met(self) -> bool:
        return len(self.years) >= self.required


def streak(year_ends: Sequence[YearEnd], test: Callable[[YearEnd], bool]) -> tuple[int, ...]:
    """The years, latest first, for which ``test`` holds without a break back from the
    latest year (``year_ends`` is latest first)."""
    out = []
    for y in year_ends:
        if not test(y):
            break
        out.append(y.year)
    return tuple(out)


def dissolution_warnings(
    charter_now: int, year_ends: Sequence[YearEnd], c: Criteria
) -> list[DissolutionCase]:
    """The Art. 46 cases that hold now: the charter capital below the minimum today, and
    each five-year case that held in the last completed year (with how many years in a
    row); none when nothing applies."""
    out = []
    if charter_now < c.minimum_charter_capital:
        out.append(DissolutionCase("charter_minimum", (), 0))
    for key, test in CASES:
        years = streak(year_ends, lambda y, test=test: test(y, c))
        if years:
            out.append(DissolutionCase(key, years, c.dissolution_years))
    return out
