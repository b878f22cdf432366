"""The JSON the API takes and returns, as ``TypedDict`` shapes (see ``fundapp.api.spec``).

Bodies (``@strict``) and query strings are what the views accept; results are exactly the
keys the serialisers return. Money is whole đồng (``Dong`` in results: it may be negative in
a balance or a change), rates and ratios are strings, dates in results ISO strings.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from fundapp.api.spec import (
    DAY_PATTERN,
    Day,
    Id,
    Money,
    NotRequired,
    PageQuery,
    PositiveMoney,
    Rate,
    Text,
    Timestamp,
    TypedDict,
    strict,
)
from fundapp.core.validation import iso_day

Dong = Annotated[int, Field(description="Whole đồng")]
LongText = Annotated[str, Field(max_length=5000, pattern=r"^[^\x00]*$")]  # PostgreSQL: no NUL
# Free text a query compares with stored values: no control characters (PostgreSQL refuses
# a NUL in a string).
SearchText = Annotated[str, Field(max_length=100, pattern=r"^[^\x00-\x1f]*$")]


def _query_day(value: Any) -> Any:
    """``YYYY-MM-DD`` and a real day, else refused here (the pages' readers behind the views
    would also take dd/mm/yyyy); the view still checks its own range with its message."""
    if isinstance(value, str) and iso_day(value) is None:
        raise PydanticCustomError("date_format", "a date as YYYY-MM-DD")
    return value


# A date in a query string, kept as the text the view reads.
QueryDay = Annotated[
    str,
    BeforeValidator(_query_day),
    Field(
        max_length=20,
        pattern=DAY_PATTERN,
        json_schema_extra={"format": "date"},
        description="YYYY-MM-DD",
    ),
]
IsoDate = Annotated[str, Field(description="YYYY-MM-DD")]

RoleName = Literal[
    "officer", "accountant", "director", "board", "controller", "cooperative", "admin"
]
# GSO codes: a district (before 01/07/2025) has 3 digits, a commune-level unit 5.
DistrictCode = Annotated[
    str, Field(pattern=r"^[0-9]{3}$", description="GSO district code, e.g. 219")
]
CommuneCode = Annotated[
    str, Field(pattern=r"^[0-9]{5}$", description="GSO commune code, e.g. 07525")
]
AreaGrouping = Literal["commune", "former_district", "former_province"]
CooperativeKind = Literal["cooperative", "union", "coop_member", "group_member"]
CapitalSource = Literal["charter", "entrusted", "grant", "other"]
ApplicationStatus = Literal["draft", "submitted", "appraised", "approved", "rejected", "withdrawn"]
LoanStatus = Literal[
    "approved", "contracted", "active", "closed", "written_off", "removed", "cancelled"
]
DisbursementStatus = Literal["pending", "posted", "rejected"]
ApprovalStatus = Literal["pending", "approved", "rejected"]
PrincipalMethod = Literal["equal_principal", "annuity", "bullet", "custom"]
RepaymentOrder = Literal["standard", "principal_first"]
# A fund whose book is carried here (``GET /funds``); blank or this fund's code: this fund.
OriginFundCode = Annotated[
    str,
    Field(
        max_length=20,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="Origin fund code (GET /funds); default this fund",
    ),
]
PrepaymentMode = Literal["keep_maturity", "shorten_term"]
PaymentMethod = Literal["bank", "cash", "offset"]
InstalmentStatus = Literal["paid", "overdue", "due", "partial", "scheduled"]
Component = Literal["penalty", "interest", "principal"]
RestructuringKind = Literal["term_adjustment", "extension"]
Frequency = Literal[1, 3, 6, 12]
DebtGroup = Literal[1, 2, 3, 4, 5]
CloseDayTrigger = Literal["scheduler", "cli", "api"]
Grouping = Literal["area", "sector", "borrower_kind", "term_class"]

# [["YYYY-MM-DD", amount], …]: principal by date (custom schedule, restructuring plan)
PrincipalPlan = list[tuple[Day, PositiveMoney]]
# Results spell the pairs as plain arrays: some OpenAPI tools cannot read ``prefixItems``
# in a response.
PlanLine = Annotated[
    list[str | int | None],
    Field(min_length=2, max_length=2, description='["YYYY-MM-DD", amount]'),
]
PrincipalPlanOut = list[PlanLine]


@strict
class NoFields(TypedDict):
    """Nothing to send: an empty object or no body at all."""


# --- tokens and the user -------------------------------------------------------------------


@strict
class TokenRequest(TypedDict):
    username: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]*$")]
    password: Annotated[str, Field(min_length=1, max_length=200)]
    name: NotRequired[
        Annotated[
            str, Field(max_length=80, pattern=r"^[^\x00]*$", description="What the token is for")
        ]
    ]


class Token(TypedDict):
    token: str
    expires_at: Timestamp


class Me(TypedDict):
    id: int
    username: str
    full_name: str
    email: str | None
    roles: list[RoleName]
    cooperative_id: int | None


# --- cooperatives --------------------------------------------------------------------------


class _CooperativeFields(TypedDict, total=False):
    kind: CooperativeKind
    address: Annotated[str, Field(description="Street, house number or village")]
    sector: str
    representative: str
    phone: str
    email: str | None
    members_count: Annotated[int, Field(ge=0, le=1_000_000)]
    bank_account: str
    bank_name: str
    related_group_id: Id | None


@strict
class NewCooperative(_CooperativeFields):
    name: str
    registration_no: str
    tax_code: Annotated[str, Field(description="10 or 13 digits")]
    commune_code: Annotated[
        str,
        Field(
            description="A commune-level unit in force on the business date (e.g. 07525 "
            "Phường Chũ); an expired code is refused naming its successor"
        ),
    ]


@strict
class CooperativeChanges(_CooperativeFields, total=False):
    name: str
    registration_no: str
    tax_code: str
    commune_code: str


class Cooperative(TypedDict):
    id: int
    name: str
    kind: CooperativeKind
    registration_no: str
    tax_code: str
    commune_code: Annotated[str | None, Field(description="Current commune (through successions)")]
    commune_name: str
    commune_needs_confirming: Annotated[
        bool, Field(description="The commune was divided or vanished: an officer confirms it")
    ]
    province_code: str | None
    province_name: str
    former_district_code: Annotated[str | None, Field(description="District before 01/07/2025")]
    former_district_name: str
    former_province_code: Annotated[str | None, Field(description="Province before 01/07/2025")]
    former_province_name: str
    address: str
    sector: str
    representative: str
    phone: str
    email: str | None
    members_count: int
    bank_account: str
    bank_name: str
    related_group_id: int | None
    origin_fund: NotRequired[
        Annotated[str, Field(description="The origin fund's code (GET /funds); read-only")]
    ]


class CooperativeQuery(PageQuery, total=False):
    q: Annotated[SearchText, Field(description="Name, registration no, tax code, representative")]
    commune_code: Annotated[CommuneCode, Field(description="Current commune")]
    former_district_code: DistrictCode
    needs_confirming: Annotated[
        bool, Field(description="Only those whose commune needs confirming")
    ]
    sector: SearchText
    kind: CooperativeKind


# --- capital and the fund's position -------------------------------------------------------


@strict
class NewCapitalEntry(TypedDict):
    source: CapitalSource
    amount: PositiveMoney
    date: Day
    source_name: NotRequired[Annotated[str, Field(max_length=120, description="The lender")]]
    reference: NotRequired[Annotated[str, Field(max_length=80)]]
    note: NotRequired[Annotated[str, Field(max_length=500)]]
    origin_fund: NotRequired[OriginFundCode]


class CapitalEntry(TypedDict):
    id: int
    source: CapitalSource
    source_name: str
    amount: Dong
    date: IsoDate
    reference: str
    note: str
    journal_entry_id: int
    origin_fund: Annotated[str, Field(description="The origin fund's code")]


_Period = TypedDict("_Period", {"from": Day, "to": Day}, total=False)


class CapitalEntryQuery(PageQuery, _Period, total=False):
    source: CapitalSource
    origin_fund: OriginFundCode


class AsOfQuery(TypedDict, total=False):
    as_of: QueryDay


class DashboardQuery(AsOfQuery, total=False):
    by: Annotated[AreaGrouping, Field(description="How the area series groups; default commune")]
    origin: Annotated[
        str,
        Field(max_length=20, description="Origin fund code (GET /funds); default: consolidated"),
    ]


class FundSources(TypedDict):
    charter_capital: Dong
    entrusted_capital: Dong
    entrusted_by_source: dict[str, Dong]
    grants: Dong
    other_capital: Dong
    accumulated_result: Dong
    total: Dong


class FundUses(TypedDict):
    cash: Dong
    loans_in_term: Dong
    loans_overdue: Dong
    interest_receivable: Dong
    accrued_interest: Dong
    support_receivable: Dong
    provision: Dong
    total: Dong


class FundPosition(TypedDict):
    as_of: IsoDate | None
    sources: FundSources
    uses: FundUses
    total_capital: Dong


# --- applications --------------------------------------------------------------------------


@strict
class NewApplication(TypedDict):
    cooperative_id: NotRequired[Annotated[Id, Field(description="A cooperative user's own")]]
    project_name: Annotated[str, Field(min_length=1, max_length=200)]
    purpose: NotRequired[Annotated[str, Field(max_length=255)]]
    description: NotRequired[LongText]
    total_project_cost: PositiveMoney
    own_equity: Money
    requested_amount: PositiveMoney
    term_months: Annotated[int, Field(ge=1, le=600)]
    annual_rate: NotRequired[
        Annotated[
            Rate | Annotated[int, Field(ge=0, le=100)],
            Field(description="Staff only; by default the policy's rate"),
        ]
    ]
    principal_method: NotRequired[PrincipalMethod]
    principal_every_months: NotRequired[Frequency]
    interest_every_months: NotRequired[Frequency]
    grace_months: NotRequired[Annotated[int, Field(ge=0, le=599)]]
    custom_schedule: NotRequired[PrincipalPlan | None]
    collateral_offered: NotRequired[Text]


@strict
class Appraisal(TypedDict):
    recommended_amount: PositiveMoney
    note: LongText


@strict
class Approval(TypedDict, total=False):
    note: LongText
    override_reason: Annotated[
        LongText, Field(description="Board only: why a concentration limit is overridden")
    ]


@strict
class Rejection(TypedDict):
    reason: LongText


@strict
class Withdrawal(TypedDict, total=False):
    reason: Text


class AppraisalCheck(TypedDict):
    code: str
    label: str
    passed: bool
    detail: str
    blocking: bool


class _ApplicationFields(TypedDict):
    id: int
    status: ApplicationStatus
    cooperative_id: int
    cooperative_name: str | None
    project_name: str
    purpose: str
    description: str
    total_project_cost: Dong
    own_equity: Dong
    requested_amount: Dong
    term_months: int
    annual_rate: str
    principal_method: PrincipalMethod
    principal_every_months: int
    interest_every_months: int
    grace_months: int
    custom_schedule: PrincipalPlanOut | None
    collateral_offered: str
    created_at: Timestamp | None
    submitted_at: Timestamp | None
    appraised_at: Timestamp | None
    decided_at: Timestamp | None
    decision_note: Annotated[
        str, Field(description="The decision's note: the reason of a rejection")
    ]
    loan_id: int | None


class Application(_ApplicationFields):
    """An application as the fund's staff read it, with the appraisal."""

    created_by_id: int | None
    recommended_amount: Dong | None
    appraised_by_id: int | None
    appraisal_note: str
    checks: Annotated[
        list[AppraisalCheck] | None,
        Field(description="The fund's rule checks as they stood at appraisal; null until then"),
    ]
    decided_by_id: int | None
    override_reason: str


@strict
class OwnApplication(_ApplicationFields):
    """An application as its cooperative's user reads it: the status, its own figures and
    what the fund decided, with the reasons given; none of the fund's appraisal (the rule
    checks hold the fund's cash, its charter capital and other borrowers' debt), internal
    notes or staff."""


ApplicationView = Annotated[
    Application | OwnApplication,
    Field(description="Application for the fund's staff, OwnApplication for a cooperative"),
]


class ApplicationQuery(PageQuery, total=False):
    status: ApplicationStatus
    cooperative_id: Id
    q: Annotated[
        SearchText,
        Field(description="Part of the project's or the borrower's name, without diacritics"),
    ]


# --- loans ---------------------------------------------------------------------------------


@strict
class ContractSigning(TypedDict):
    contract_date: Day
    repayment_order: NotRequired[
        Annotated[
            RepaymentOrder,
            Field(
                description="Allocation order of the contract: standard (penalty → interest "
                "→ principal, the default) or principal_first"
            ),
        ]
    ]


@strict
class LoanChanges(TypedDict, total=False):
    repayment_order: Annotated[
        RepaymentOrder, Field(description="Only before the first disbursement")
    ]


class Loan(TypedDict):
    id: int
    contract_no: str
    application_id: int | None
    cooperative_id: int
    cooperative_name: str | None
    project_name: str
    purpose: str
    status: LoanStatus
    amount: Dong
    term_months: int
    annual_rate: str
    principal_method: PrincipalMethod
    principal_every_months: int
    interest_every_months: int
    grace_months: int
    custom_schedule: PrincipalPlanOut | None
    repayment_order: RepaymentOrder
    prepayment_mode: PrepaymentMode
    origin_fund: Annotated[str, Field(description="The origin fund's code (GET /funds)")]
    overdue_rate_pct: Annotated[str, Field(description="Of the in-term rate, e.g. 150")]
    late_interest_rate: str
    approved_on: IsoDate
    contract_date: IsoDate | None
    first_disbursement_date: IsoDate | None
    maturity_date: IsoDate | None
    closed_on: IsoDate | None
    disbursed: Dong
    principal_outstanding: Dong
    principal_paid: Dong
    interest_paid: Dong
    penalty_paid: Dong
    written_off: Dong
    term_adjustments: int
    extensions: int


class Balances(TypedDict):
    as_of: IsoDate
    disbursed: Dong
    principal_outstanding: Dong
    principal_overdue: Dong
    principal_due: Dong
    interest_due: Dong
    interest_overdue: Dong
    penalty_due: Dong
    total_due: Dong
    days_past_due: int
    oldest_unpaid_due_date: IsoDate | None
    debt_group: DebtGroup
    payoff_amount: Dong


class LoanDetail(Loan):
    balances: Balances


class LoanQuery(PageQuery, total=False):
    status: LoanStatus
    cooperative_id: Annotated[Id, Field(description="Staff only; a cooperative sees its own")]
    commune_code: Annotated[CommuneCode, Field(description="The borrower's current commune")]
    former_district_code: Annotated[
        DistrictCode, Field(description="The borrower's former district")
    ]
    debt_group: Annotated[int, Field(ge=1, le=5, description="As of the last close of day")]
    overdue: Annotated[bool, Field(description="Has an instalment past due and unpaid")]
    origin_fund: OriginFundCode
    q: Annotated[
        SearchText,
        Field(description="Part of the contract number or project name, without diacritics"),
    ]


class Instalment(TypedDict):
    no: int
    due_date: IsoDate
    principal: Dong
    interest: Dong
    total: Dong
    principal_paid: Dong
    interest_paid: Dong
    penalty_paid: Dong
    # Waived by an approved interest relief (miễn, giảm lãi): no longer owed, not paid.
    interest_waived: Dong
    penalty_waived: Dong
    interest_supported: Dong
    paid_on: IsoDate | None
    status: InstalmentStatus


class Schedule(TypedDict):
    loan_id: int
    as_of: IsoDate
    instalments: list[Instalment]


# --- documents -----------------------------------------------------------------------------


StatementQuery = TypedDict("StatementQuery", {"from": QueryDay, "to": QueryDay}, total=False)


class ConfirmationQuery(TypedDict, total=False):
    year: Annotated[
        str,
        Field(
            max_length=10,
            json_schema_extra={"pattern": r"^[0-9]{4}$"},
            description="Default: last year",
        ),
    ]
