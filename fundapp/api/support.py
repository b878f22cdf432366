"""API v1: interest support (docs/rules.md#interest-support).

A director creates a scheme (``POST /support-schemes``) and enrols loans on it
(``POST /loans/{id}/support``; ``POST /loans/{id}/support/stop`` ends it). The schedule of an
enrolled loan carries the budget's share of each instalment (``interest_supported``). The
accountant files the claim of what was billed to the budget (``POST
/support-schemes/{id}/claims``) and records its payment (``POST
/support-claims/{id}/payment``); the claim itself is the report ``GET
/reports/support-claim?scheme=&to=&claim=``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import jsonify
from pydantic import Field

from fundapp.api import bp
from fundapp.api.common import api_roles, current_api_user, get_or_404
from fundapp.api.shapes import Dong, IsoDate, QueryDay
from fundapp.api.spec import NotRequired, TypedDict, operation, read_body, strict
from fundapp.core import validation
from fundapp.core.dates import business_date
from fundapp.core.security import Role
from fundapp.extensions import db
from fundapp.support import services
from fundapp.support.models import SupportClaim, SupportScheme

READERS = (Role.DIRECTOR, Role.ACCOUNTANT, Role.CONTROLLER, Role.OFFICER)
Text = Annotated[str, Field(max_length=500, pattern=r"^[^\x00]*$")]
Day = Annotated[str, Field(max_length=20, description="YYYY-MM-DD")]


@strict
class NewScheme(TypedDict):
    code: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^\x00]*$")]
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
    legal_basis: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\x00]*$")]
    paying_agency: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
    share: Annotated[str, Field(max_length=12, description="% of in-term interest, e.g. 50")]
    first_due: Day
    last_due: NotRequired[Day | None]
    cap_per_loan: NotRequired[Annotated[int, Field(gt=0)] | None]
    borrower_kinds: NotRequired[
        list[Literal["cooperative", "union", "coop_member", "group_member"]]
    ]
    purposes: NotRequired[list[Annotated[str, Field(max_length=60, pattern=r"^[^\x00]*$")]]]


class Scheme(TypedDict):
    id: int
    code: str
    name: str
    legal_basis: str
    paying_agency: str
    share: Annotated[str, Field(description="% of in-term interest")]
    first_due: IsoDate
    last_due: IsoDate | None
    cap_per_loan: Dong | None
    borrower_kinds: list[str]
    purposes: list[str]


class Schemes(TypedDict):
    items: list[Scheme]


@strict
class Enrolment(TypedDict):
    scheme_id: Annotated[int, Field(ge=1)]
    first_due: NotRequired[Day]


@strict
class Stop(TypedDict):
    last_due: Day
    reason: Text


class LoanSupport(TypedDict):
    loan_id: int
    scheme_id: int
    share: str
    first_due: IsoDate
    last_due: IsoDate | None
    cap: Dong | None


@strict
class NewClaim(TypedDict):
    period_to: Day
    note: NotRequired[Text]


@strict
class Payment(TypedDict):
    paid_on: Day
    reference: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[^\x00]*$")]


class Claim(TypedDict):
    id: int
    scheme_id: int
    reference: str
    period_from: IsoDate
    period_to: IsoDate
    amount: Dong
    status: Literal["submitted", "paid"]
    paid_on: IsoDate | None
    paid_reference: str
    lines: int


class Claims(TypedDict):
    items: list[Claim]


class SupportClaimQuery(TypedDict, total=False):
    scheme: Annotated[str, Field(max_length=40, description="The scheme's code")]
    to: QueryDay
    claim: Annotated[str, Field(max_length=40, description="A submitted claim's reference")]


class ClaimLineShape(TypedDict):
    loan_id: int
    contract_no: str
    cooperative: str
    no: int
    due_date: IsoDate
    interest: Dong
    supported: Dong
    borrower_share: Dong
    claimed: Dong
    amount: Dong


class ReceivableShape(TypedDict):
    as_of: IsoDate
    balance: Dong
    claimed_unpaid: Dong
    not_claimed: Dong


class SupportClaimFilters(TypedDict, total=False):
    scheme: str
    to: IsoDate
    claim: str


class SupportClaimReport(TypedDict):
    report: Literal["support-claim"]
    title: str
    scheme: str
    scheme_name: str
    legal_basis: str
    paying_agency: str
    share: str
    first_due: IsoDate
    last_due: IsoDate | None
    period_from: IsoDate
    period_to: IsoDate
    claim: str | None
    status: Literal["draft", "submitted", "paid"]
    lines: list[ClaimLineShape]
    total: Dong
    total_in_words: str
    receivable: ReceivableShape
    filters: SupportClaimFilters


def scheme_json(s: SupportScheme) -> dict[str, Any]:
    return {
        "id": s.id,
        "code": s.code,
        "name": s.name,
        "legal_basis": s.legal_basis,
        "paying_agency": s.paying_agency,
        "share": format(s.share.normalize(), "f"),
        "first_due": s.first_due.isoformat(),
        "last_due": s.last_due.isoformat() if s.last_due else None,
        "cap_per_loan": s.cap_per_loan,
        "borrower_kinds": list(s.borrower_kinds or []),
        "purposes": list(s.purposes or []),
    }


def claim_json(c: SupportClaim) -> dict[str, Any]:
    return {
        "id": c.id,
        "scheme_id": c.scheme_id,
        "reference": c.reference,
        "period_from": c.period_from.isoformat(),
        "period_to": c.period_to.isoformat(),
        "amount": c.amount,
        "status": c.status,
        "paid_on": c.paid_on.isoformat() if c.paid_on else None,
        "paid_reference": c.paid_reference,
        "lines": len(c.lines),
    }


@bp.route("/support-schemes", methods=["GET"])
@api_roles(*READERS)
@operation(returns=Schemes)
def list_support_schemes() -> Any:
    """The interest support schemes."""
    return jsonify({"items": [scheme_json(s) for s in services.schemes()]})


@bp.route("/support-schemes", methods=["POST"])
@api_roles(Role.DIRECTOR)
@operation(body=NewScheme, returns=Scheme, status=201)
def create_support_scheme() -> Any:
    """Create a scheme: the budget pays `share` % of the in-term interest of each instalment
    falling due from `first_due` to `last_due`, at most `cap_per_loan` đồng on a loan, for
    the borrower kinds and purposes (words of the loan's purpose) listed (empty: any)."""
    data = dict(read_body(NewScheme))
    scheme = services.create_scheme(current_api_user(), data)
    db.session.commit()
    return jsonify(scheme_json(scheme)), 201


def _loan_support(loan: Any) -> dict[str, Any]:
    terms = loan.support_terms or {}
    return {
        "loan_id": loan.id,
        "scheme_id": terms["scheme_id"],
        "share": terms["share"],
        "first_due": terms["first_due"],
        "last_due": terms.get("last_due"),
        "cap": terms.get("cap"),
    }


@bp.route("/loans/<int:loan_id>/support", methods=["POST"])
@api_roles(Role.DIRECTOR)
@operation(body=Enrolment, returns=LoanSupport, status=201)
def enrol_loan_support(loan_id: int) -> Any:
    """Enrol the loan on a scheme from `first_due` (default: the scheme's first date; for a
    loan already disbursed not before the business date). The loan is recomputed: each
    covered instalment's interest is split and the budget's share posted when it falls
    due."""
    data = read_body(Enrolment)
    first = validation.one_date(data["first_due"], "first_due") if data.get("first_due") else None
    loan = services.enrol(current_api_user(), loan_id, data["scheme_id"], business_date(), first)
    db.session.commit()
    return jsonify(_loan_support(loan)), 201


@bp.route("/loans/<int:loan_id>/support/stop", methods=["POST"])
@api_roles(Role.DIRECTOR)
@operation(body=Stop, returns=LoanSupport)
def stop_loan_support(loan_id: int) -> Any:
    """End the loan's support after `last_due` (not before the business date)."""
    data = read_body(Stop)
    last_due = validation.one_date(data["last_due"], "last_due")
    loan = services.stop(current_api_user(), loan_id, last_due, business_date(), data["reason"])
    db.session.commit()
    return jsonify(_loan_support(loan))


@bp.route("/support-claims", methods=["GET"])
@api_roles(*READERS)
@operation(returns=Claims)
def list_support_claims() -> Any:
    """The claims filed to the paying agencies, the latest first."""
    return jsonify({"items": [claim_json(c) for c in services.claims()]})


@bp.route("/support-schemes/<int:scheme_id>/claims", methods=["POST"])
@api_roles(Role.ACCOUNTANT, Role.DIRECTOR)
@operation(body=NewClaim, returns=Claim, status=201)
def submit_support_claim(scheme_id: int) -> Any:
    """File the claim of the budget's share billed up to `period_to` (before the business
    date) and not claimed before; its lines are `GET /reports/support-claim?claim=`."""
    data = read_body(NewClaim)
    get_or_404(SupportScheme, scheme_id)
    period_to = validation.one_date(data["period_to"], "period_to")
    claim = services.submit_claim(
        current_api_user(), scheme_id, period_to, business_date(), data.get("note", "")
    )
    db.session.commit()
    return jsonify(claim_json(claim)), 201


@bp.route("/support-claims/<int:claim_id>/payment", methods=["POST"])
@api_roles(Role.ACCOUNTANT)
@operation(body=Payment, returns=Claim)
def record_support_payment(claim_id: int) -> Any:
    """The agency paid the claim: cash in, the budget's receivable out (once)."""
    data = read_body(Payment)
    get_or_404(SupportClaim, claim_id)
    paid_on = validation.one_date(data["paid_on"], "paid_on")
    claim = services.record_payment(
        current_api_user(), claim_id, paid_on, data["reference"], business_date()
    )
    db.session.commit()
    return jsonify(claim_json(claim))
