"""API v1: the fund's annual A/B/C self-assessment (docs/rules.md#ranking-and-dissolution).

``GET /ranking/{year}`` is the assessment of a year with its figures from the ledger (the
same as the report ``GET /reports/ranking?year=``), the stored record if any, and the
dissolution warnings of Decree 45/2021 Art. 46; a director records it with
``POST /ranking/{year}`` (the compliance answers and a note) once the year is over.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import abort, jsonify
from pydantic import Field

from fundapp.api import bp
from fundapp.api.common import api_roles, current_api_user
from fundapp.api.shapes import IsoDate, QueryDay
from fundapp.api.spec import NotRequired, TypedDict, operation, read_body, strict
from fundapp.core.dates import business_date
from fundapp.core.replica import reads_from_replica
from fundapp.core.security import Role
from fundapp.extensions import db
from fundapp.planning.services import MAX_YEAR, MIN_YEAR
from fundapp.reports import ranking
from fundapp.reports.catalogue import REPORTS, as_json

RANKING_READ = (Role.DIRECTOR, Role.ACCOUNTANT, Role.CONTROLLER)
Score = Literal["met", "partial", "not_met"]


class RankingQuery(TypedDict, total=False):
    year: Annotated[str, Field(pattern=r"^[0-9]{4}$", description="The assessed year")]
    as_of: QueryDay


class Indicator(TypedDict):
    code: Literal["loan_growth", "bad_debt", "financial_result", "compliance"]
    label: str
    unit: Annotated[Literal["money", "bp", "count"], Field(description="đồng, basis points")]
    plan: int
    actual: int
    previous: Annotated[int | None, Field(description="outstanding at 31/12 the year before")]
    score: Score
    points: int
    reason: str


class Answer(TypedDict):
    code: str
    label: str
    complied: bool | None


class Recorded(TypedDict):
    rank: Literal["A", "B", "C"]
    points: int
    as_of: IsoDate
    recorded_by: str | None
    recorded_at: str
    note: str


class Case(TypedDict):
    case: Literal["charter_minimum", "rank_c_low_lending", "bad_debt", "accumulated_loss"]
    title: str
    text: str
    years: list[int]
    required: int
    met: bool


class RankingFilters(TypedDict):
    year: str
    as_of: IsoDate


class RankingReport(TypedDict):
    report: Literal["ranking"]
    title: str
    year: int
    as_of: IsoDate
    final: bool
    plan_id: int
    plan_status: Literal["draft", "approved"]
    indicators: list[Indicator]
    points: int
    max_points: int
    rank: Literal["A", "B", "C"]
    reason: str
    compliance: list[Answer]
    recorded: Recorded | None
    criteria_from: IsoDate
    warnings: list[Case]
    filters: RankingFilters


@strict
class Compliance(TypedDict):
    reports_on_time: bool
    no_violations: bool
    lending_rules: bool
    provisions: bool
    accounting: bool


@strict
class RankingRecord(TypedDict):
    compliance: Compliance
    note: NotRequired[Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")]]


def _year(year: int) -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        abort(404)
    return year


def _report(year: int) -> dict[str, Any]:
    spec = REPORTS["ranking"]
    built = spec.built_for({"year": str(year)}, business_date())
    return {
        "report": spec.slug,
        "title": str(spec.title),
        **as_json(built.report),
        "filters": built.filters,
    }


@bp.route("/ranking/<int:year>", methods=["GET"])
@api_roles(*RANKING_READ)
@operation(returns=RankingReport)
@reads_from_replica
def get_ranking(year: int) -> Any:
    """The self-assessment of a year: the four indicators against the plan (a year without
    a plan is a 422), the rank computed now, the stored record if any, and the Decree 45
    Art. 46 warnings for the business date."""
    return jsonify(_report(_year(year)))


@bp.route("/ranking/<int:year>", methods=["POST"])
@api_roles(Role.DIRECTOR)
@operation(body=RankingRecord, returns=RankingReport, errors=(409,))
def record_ranking(year: int) -> Any:
    """Record the self-assessment of a year that is over (a year not over is a 409): every
    compliance answer, and a note; the rank and figures of 31 December are stored with it.
    Recording again replaces the record."""
    data = read_body(RankingRecord)
    ranking.record(
        current_api_user(),
        _year(year),
        data["compliance"],
        data.get("note", ""),
        business_date(),
    )
    db.session.commit()
    return jsonify(_report(year))
