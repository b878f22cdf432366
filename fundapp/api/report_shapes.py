"""The JSON of the dashboard and the reports (fund balance, lending activity, operations,
classification, PAR, trial balance, account ledger), as ``TypedDict`` shapes (see
``fundapp.api.shapes``).

Kept apart from the loan shapes because they follow the reports' own serialisers
(fundapp/reports/), not the loan book's; money is whole đồng, ratios are strings.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from fundapp.api.shapes import (
    AreaGrouping,
    DebtGroup,
    Dong,
    FundSources,
    Grouping,
    IsoDate,
    QueryDay,
)
from fundapp.api.spec import TypedDict

# --- the dashboard -------------------------------------------------------------------------


class DashboardCapital(TypedDict):
    total: Dong
    charter: Dong
    entrusted: Dong
    grants: Dong
    other: Dong


class DashboardOutstanding(TypedDict):
    total: Dong
    in_term: Dong
    overdue: Dong
    bad_debt: Dong


class DashboardRatios(TypedDict):
    overdue: Annotated[str, Field(description="Percent, two decimals")]
    bad_debt: str


DashboardPeriod = TypedDict(
    "DashboardPeriod",
    {
        "from": IsoDate,
        "to": IsoDate,
        "disbursed": Dong,
        "collected": Dong,
        "principal_collected": Dong,
        "interest_collected": Dong,
    },
)


class PendingApprovals(TypedDict):
    applications_to_appraise: int
    applications_to_decide: int
    disbursements: int
    reversals: int
    restructurings: int
    write_offs: int
    total: int


class MonthOutstanding(TypedDict):
    date: IsoDate
    outstanding: Dong


class AreaOutstanding(TypedDict):
    code: Annotated[str, Field(description="Commune, former district or former province code")]
    name: str
    outstanding: Dong


class GroupOutstanding(TypedDict):
    group: DebtGroup
    outstanding: Dong


class MonthCollection(TypedDict):
    month: Annotated[str, Field(description="YYYY-MM")]
    due: Dong
    collected: Dong


class DashboardSeries(TypedDict):
    outstanding_by_month: list[MonthOutstanding]
    area_by: AreaGrouping
    by_area: list[AreaOutstanding]
    debt_groups: list[GroupOutstanding]
    collections: list[MonthCollection]


class Dashboard(TypedDict):
    as_of: IsoDate
    capital: DashboardCapital
    outstanding: DashboardOutstanding
    available_to_lend: Dong
    ratios: DashboardRatios
    projects: int
    cooperatives: int
    this_month: DashboardPeriod
    this_year: DashboardPeriod
    pending_approvals: PendingApprovals
    series: DashboardSeries


# --- reports -------------------------------------------------------------------------------

Ratio = Annotated[str, Field(description="Percent, e.g. 12.50")]

# A report of one origin fund's book; none: consolidated (every origin).
ReportOrigin = Annotated[
    str,
    Field(max_length=20, description="Origin fund code (GET /funds); default: consolidated"),
]
FundBalanceQuery = TypedDict(
    "FundBalanceQuery",
    {
        "as_of": QueryDay,
        "from": Annotated[QueryDay, Field(description="Start of the period")],
        "origin": ReportOrigin,
    },
    total=False,
)
# A statutory period (fundapp/reports/params.py::preset), for both ``from`` and ``to``.
ReportPeriod = Annotated[
    str,
    Field(
        max_length=10,
        json_schema_extra={"pattern": r"^[0-9]{4}(-[Hh]1)?$"},
        description="2026-H1: the first half of 2026; 2026: the year; replaces from and to",
    ),
]
LendingActivityQuery = TypedDict(
    "LendingActivityQuery",
    {
        "period": ReportPeriod,
        "from": QueryDay,
        "to": QueryDay,
        "group_by": Annotated[
            str, Field(max_length=20, json_schema_extra={"enum": list(get_args(Grouping))})
        ],
        "by": Annotated[
            str, Field(max_length=20, json_schema_extra={"enum": list(get_args(AreaGrouping))})
        ],
        "origin": ReportOrigin,
    },
    total=False,
)


class ClassificationQuery(TypedDict, total=False):
    quarter: Annotated[
        str,
        Field(
            max_length=10,
            json_schema_extra={"pattern": r"^[0-9]{4}-?[Qq][1-4]$"},
            description="e.g. 2026-Q3; default: the last quarter ended",
        ),
    ]
    origin: ReportOrigin


class ParQuery(TypedDict, total=False):
    as_of: QueryDay
    origin: ReportOrigin


class UsesWithProvisions(TypedDict):
    loans_in_term: Dong
    loans_overdue: Dong
    outstanding: Dong
    interest_receivable: Dong
    accrued_interest: Annotated[
        Dong, Field(description="Accrued interest (lãi dự thu) posted at month ends")
    ]
    support_receivable: Annotated[
        Dong, Field(description="The budget's share of supported interest not yet paid")
    ]
    specific_provision: Dong
    general_provision: Dong
    provision: Dong
    cash: Dong
    total: Dong


class GroupShare(TypedDict):
    group: DebtGroup
    loans: int
    outstanding: Dong
    share: Ratio


class PeriodFigures(TypedDict):
    start: IsoDate
    end: IsoDate
    disbursed: Dong
    principal_collected: Dong
    interest_collected: Dong


FundBalanceFilters = TypedDict("FundBalanceFilters", {"as_of": IsoDate, "from": IsoDate})


class AccruedInterestToDate(TypedDict):
    computed: Annotated[
        Dong, Field(description="Group-1 interest earned and not billed, to the end of as_of")
    ]
    posted: Dong
    not_posted: Dong


class FundBalanceReport(TypedDict):
    report: Literal["fund-balance"]
    title: str
    as_of: IsoDate
    total_capital: Dong
    sources: FundSources
    uses: UsesWithProvisions
    debt_groups: list[GroupShare]
    period: PeriodFigures
    projects: int
    cooperatives: int
    overdue_ratio: Ratio
    bad_debt: Dong
    bad_debt_ratio: Ratio
    accrued_to_date: AccruedInterestToDate
    filters: FundBalanceFilters


class ActivityLine(TypedDict):
    key: Annotated[str, Field(description="The group's code; total for the total line")]
    label: str
    opening: Dong
    disbursed: Dong
    principal_collected: Dong
    interest_collected: Dong
    written_off: Dong
    closing: Dong
    overdue: Dong
    bad_debt: Dong
    provision: Dong
    projects: int
    cooperatives: int


LendingActivityFilters = TypedDict(
    "LendingActivityFilters",
    {"from": IsoDate, "to": IsoDate, "group_by": Grouping, "by": AreaGrouping},
)


class LendingActivityReport(TypedDict):
    report: Literal["lending-activity"]
    title: str
    start: IsoDate
    end: IsoDate
    group_by: Grouping
    by: AreaGrouping
    rows: list[ActivityLine]
    total: ActivityLine
    general_provision: Dong
    total_provision: Dong
    filters: LendingActivityFilters


class ClassificationGroup(TypedDict):
    group: DebtGroup
    label: str
    loans: int
    outstanding: Dong
    principal_overdue: Dong
    collateral_value: Dong
    discounted_collateral: Dong
    provision_rate: Ratio
    specific_required: Dong
    specific_held: Dong


class ClassifiedLoan(TypedDict):
    loan_id: int
    contract_no: str
    cooperative_name: str
    district_name: str
    debt_group: DebtGroup
    days_past_due: int
    outstanding: Dong
    principal_overdue: Dong
    collateral_value: Dong
    discounted_collateral: Dong
    provision_rate: Ratio
    specific_required: Dong
    specific_held: Dong


class ClassificationFilters(TypedDict):
    quarter: str


class ClassificationBasis(TypedDict):
    """A policy version the report applied, with its date and legal reference."""

    label: str
    value: str
    effective_from: IsoDate
    reference: str


class ClassificationReport(TypedDict):
    report: Literal["classification"]
    title: str
    quarter: Annotated[str, Field(description="e.g. 2026-Q3")]
    start: IsoDate
    as_of: IsoDate
    groups: list[ClassificationGroup]
    total_loans: int
    total_outstanding: Dong
    total_specific_required: Dong
    total_specific_held: Dong
    general_rate: Ratio
    general_base: Dong
    general_required: Dong
    general_held: Dong
    total_required: Dong
    total_held: Dong
    loans: list[ClassifiedLoan]
    basis: list[ClassificationBasis]
    filters: ClassificationFilters


class ParLine(TypedDict):
    days: Annotated[int, Field(description="PAR n: loans with a payment more than n days late")]
    loans: int
    outstanding: Dong
    ratio: Ratio


class AgeBucket(TypedDict):
    key: str
    first_day: int
    last_day: int | None
    loans: int
    outstanding: Dong
    principal_overdue: Dong
    share: Ratio


class ParFilters(TypedDict):
    as_of: IsoDate


class ParReport(TypedDict):
    report: Literal["par"]
    title: str
    as_of: IsoDate
    loans: int
    outstanding: Dong
    principal_overdue: Dong
    par: list[ParLine]
    buckets: list[AgeBucket]
    filters: ParFilters


# --- trial balance and per-account ledger (fundapp/reports/trial_balance.py) -----------------

TrialBalanceQuery = TypedDict(
    "TrialBalanceQuery",
    {"from": QueryDay, "to": QueryDay, "origin": ReportOrigin},
    total=False,
)
AccountLedgerQuery = TypedDict(
    "AccountLedgerQuery",
    {
        "account": Annotated[
            str, Field(max_length=8, description="Account code of the chart; default 1121")
        ],
        "from": QueryDay,
        "to": QueryDay,
        "origin": ReportOrigin,
    },
    total=False,
)
PeriodFilters = TypedDict("PeriodFilters", {"from": IsoDate, "to": IsoDate})
AccountPeriodFilters = TypedDict(
    "AccountPeriodFilters", {"account": str, "from": IsoDate, "to": IsoDate}
)


class TrialRow(TypedDict):
    code: str
    name: str
    opening_debit: Dong
    opening_credit: Dong
    debit: Dong
    credit: Dong
    closing_debit: Dong
    closing_credit: Dong


class TrialBalanceReport(TypedDict):
    report: Literal["trial-balance"]
    title: str
    start: IsoDate
    end: IsoDate
    rows: list[TrialRow]
    total: TrialRow
    filters: PeriodFilters


class LedgerLine(TypedDict):
    entry_date: IsoDate
    entry_id: int
    kind: str
    reference: str
    description: str
    contract_no: str
    debit: Dong
    credit: Dong
    balance_debit: Dong
    balance_credit: Dong


class AccountLedgerReport(TypedDict):
    report: Literal["account-ledger"]
    title: str
    code: str
    name: str
    start: IsoDate
    end: IsoDate
    opening: Annotated[int, Field(description="Opening balance, debit positive (đồng)")]
    lines: list[LedgerLine]
    debit: Dong
    credit: Dong
    filters: AccountPeriodFilters


# --- plan against actual (fundapp/reports/plan_actual.py) ----------------------------------


class PlanActualQuery(TypedDict, total=False):
    year: Annotated[str, Field(pattern=r"^[0-9]{4}$", description="The plan's year")]
    as_of: QueryDay


class PlanFigure(TypedDict):
    section: Literal["lending", "sources", "income", "expense", "result"]
    code: str
    label: str
    unit: Annotated[Literal["money", "bp"], Field(description="đồng, or basis points")]
    plan: int
    actual: int
    difference: Annotated[int, Field(description="actual − plan")]
    achieved: Annotated[str | None, Field(description="actual / plan in percent, 2 decimals")]


class PlanActualFilters(TypedDict):
    year: str
    as_of: IsoDate


class PlanActualReport(TypedDict):
    report: Literal["plan-actual"]
    title: str
    year: int
    as_of: IsoDate
    plan_id: int
    status: Literal["draft", "approved"]
    lines: list[PlanFigure]
    result: PlanFigure
    filters: PlanActualFilters


# --- operations (fundapp/reports/operations.py) ---------------------------------------------

OperationsQuery = TypedDict(
    "OperationsQuery",
    {"period": ReportPeriod, "from": QueryDay, "to": QueryDay, "origin": ReportOrigin},
    total=False,
)


class OperationsSources(TypedDict):
    charter_capital: Dong
    entrusted_capital: Dong
    grants: Dong
    other_capital: Dong
    total_capital: Dong
    accumulated_result: Dong
    total: Dong


class OperationsUses(TypedDict):
    loans_in_term: Dong
    loans_overdue: Dong
    outstanding: Dong
    interest_receivable: Dong
    accrued_interest: Dong
    support_receivable: Dong
    provision: Dong
    cash: Dong
    total: Dong


class OperationsPosition(TypedDict):
    as_of: IsoDate
    sources: OperationsSources
    uses: OperationsUses


class OperationsLending(TypedDict):
    opening: Dong
    disbursed: Dong
    principal_collected: Dong
    interest_collected: Dong
    written_off: Dong
    closing: Dong


class AccountAmount(TypedDict):
    code: str
    name: str
    amount: Annotated[int, Field(description="What the account moved in the period (đồng)")]


class OperationsResult(TypedDict):
    income: list[AccountAmount]
    total_income: int
    expenses: list[AccountAmount]
    total_expenses: int
    result: int


class OperationsQuality(TypedDict):
    outstanding: Dong
    overdue: Dong
    overdue_ratio: Ratio
    bad_debt: Dong
    bad_debt_ratio: Ratio
    specific_provision: Dong
    general_provision: Dong
    provision: Dong


class OperationsReport(TypedDict):
    report: Literal["operations"]
    title: str
    start: IsoDate
    end: IsoDate
    opening: OperationsPosition
    closing: OperationsPosition
    lending: OperationsLending
    result: OperationsResult
    quality: OperationsQuality
    filters: PeriodFilters
