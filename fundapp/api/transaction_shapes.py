"""The JSON of the money that moves on a loan (disbursements, repayments, reversals), its
restructuring and the close of day, as ``TypedDict`` shapes (see ``fundapp.api.shapes``).

These are the bodies that post to the book: each request shape is ``@strict`` and money
is a positive whole number of đồng.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from fundapp.api.shapes import (
    ApprovalStatus,
    CloseDayTrigger,
    Component,
    DisbursementStatus,
    Dong,
    IsoDate,
    PaymentMethod,
    PrincipalPlan,
    PrincipalPlanOut,
    RestructuringKind,
    _Period,
)
from fundapp.api.spec import (
    Day,
    NotRequired,
    PageQuery,
    PositiveMoney,
    Text,
    Timestamp,
    TypedDict,
    strict,
)

# --- disbursements, repayments, reversals --------------------------------------------------


@strict
class NewDisbursement(TypedDict):
    amount: PositiveMoney
    date: Day
    reference: NotRequired[Annotated[str, Field(max_length=80)]]


class Disbursement(TypedDict):
    id: int
    loan_id: int
    status: DisbursementStatus
    receipt_no: str
    amount: Dong
    date: IsoDate
    reference: str
    recorded_by_id: int | None
    approved_by_id: int | None
    decided_at: Timestamp | None
    journal_entry_id: int | None


@strict
class NewRepayment(TypedDict):
    amount: PositiveMoney
    date: Day
    reference: NotRequired[Annotated[str, Field(max_length=80)]]
    method: NotRequired[PaymentMethod]


class AllocationLine(TypedDict):
    no: Annotated[int | None, Field(description="The instalment; null for a prepayment")]
    component: Component
    amount: Dong
    prepayment: NotRequired[bool]


class Repayment(TypedDict):
    id: int
    loan_id: int
    receipt_no: str
    amount: Dong
    date: IsoDate
    method: PaymentMethod
    reference: str
    reversed: bool
    allocations: list[AllocationLine]
    prepaid_principal: Dong
    recorded_by_id: int | None


class RepaymentQuery(PageQuery, total=False):
    reversed: Annotated[bool, Field(description="Only the reversed ones, or only the others")]


@strict
class ReversalRequest(TypedDict):
    reason: Text


@strict
class DecisionNote(TypedDict, total=False):
    note: Text


@strict
class DecisionReason(TypedDict, total=False):
    reason: Text


class Reversal(TypedDict):
    id: int
    status: ApprovalStatus
    repayment_id: int
    reason: str
    requested_by_id: int | None
    approved_by_id: int | None
    decided_at: Timestamp | None


# --- restructuring -------------------------------------------------------------------------


@strict
class RestructuringRequest(TypedDict):
    kind: RestructuringKind
    effective_date: Day
    new_maturity: NotRequired[Annotated[Day | None, Field(description="For an extension")]]
    principal_plan: NotRequired[
        Annotated[PrincipalPlan, Field(description="For a term adjustment: new principal dates")]
    ]
    reason: Text


class Restructuring(TypedDict):
    id: int
    loan_id: int
    status: ApprovalStatus
    kind: RestructuringKind
    effective_date: IsoDate
    new_maturity: IsoDate | None
    principal_plan: PrincipalPlanOut
    reason: str
    requested_by_id: int | None
    approved_by_id: int | None
    decided_at: Timestamp | None


# --- close of day --------------------------------------------------------------------------


@strict
class CloseDayRequest(TypedDict, total=False):
    date: Annotated[Day | None, Field(description="Default: the business date")]


class CloseDayResult(TypedDict):
    date: IsoDate
    ran: bool
    reason: Annotated[str, Field(description='"", "locked" or "already_done"')]
    counts: dict[str, int]


class CloseDayResults(TypedDict):
    results: list[CloseDayResult]


class CloseDayRun(TypedDict):
    id: int
    date: IsoDate
    trigger: CloseDayTrigger
    started_at: Timestamp | None
    finished_at: Timestamp | None
    duration_ms: int
    counts: dict[str, int]


class CloseDayRunQuery(PageQuery, _Period, total=False):
    trigger: CloseDayTrigger
