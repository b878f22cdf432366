"""Loan templates: terms, a disbursement, a payment behaviour, replayed by the real engine.

A generated portfolio of N loans reuses a few hundred to a few thousand templates: every
loan of a template has the same terms, disbursement date and payment history, so its
schedule, repayments and allocations are exactly what ``fundapp.domain.replay.replay``
computes for that history (the app's own truth), without replaying N loans.

Behaviours (shares of the portfolio are chosen by the generator):

* ``on_time``: every instalment paid in full on its due date, up to ``paid_through``;
* ``stopped``: paid on time, then nothing from ``since`` on (1–12 months before the
  business date);
* ``partial``: paid on time until ``since``, then on each due date only ``percent`` % of
  that instalment (the engine allocates it oldest first: overdue interest, interest,
  principal);
* any of them with an approved extension (gia hạn nợ) dated ``extension_on`` that moves
  maturity by ``extension_months``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from fundapp.domain.dates import add_months

BEHAVIOURS = ("on_time", "stopped", "partial")


@dataclass(frozen=True)
class TemplateSpec:
    key: int
    amount: int
    annual_rate: Decimal
    term_months: int
    principal_method: str
    principal_every_months: int
    interest_every_months: int
    grace_months: int
    disbursed_on: date
    behaviour: str
    paid_through: date  # last value date of any generated repayment
    since: date | None = None  # stopped / partial from this date
    percent: int = 100  # partial: share of each instalment paid
    extension_on: date | None = None
    extension_months: int = 0


@dataclass(frozen=True)
class RowOut:
    no: int
    due_date: date
    interest_from: date | None
    principal_due: bool
    opening_principal: int
    principal: int
    interest: int
    principal_paid: int
    interest_paid: int
    penalty_paid: int
    paid_on: date | None


@dataclass(frozen=True)
class RepaymentOut:
    value_date: date
    amount: int
    allocations: tuple[tuple[int, str, int], ...]  # (no, component, amount)
    prepaid_principal: int


@dataclass(frozen=True)
class Template:
    spec: TemplateSpec
    rows: tuple[RowOut, ...]
    repayments: tuple[RepaymentOut, ...]
    disbursed: int
    principal_paid: int
    interest_paid: int
    penalty_paid: int
    principal_outstanding: int
    maturity: date
    new_maturity: date | None  # the extension's, when there is one


# --- drawing specs --------------------------------------------------------------------


# (weight, method, principal every, interest every, grace choices)
_PRODUCTS = (
    (40, "equal_principal", 1, 1, (0, 0, 0, 3)),
    (22, "equal_principal", 3, 1, (0, 0, 3, 6)),
    (10, "equal_principal", 3, 3, (0, 0, 3)),
    (6, "equal_principal", 6, 1, (0, 6)),
    (9, "annuity", 1, 1, (0, 0, 3)),
    (3, "annuity", 3, 3, (0, 3)),
    (6, "bullet", 12, 1, (0,)),
    (4, "bullet", 12, 3, (0,)),
)
_TERMS = ((24, 30), (36, 30), (48, 18), (60, 14), (30, 3), (42, 3), (54, 2))


def draw_spec(
    rng: random.Random,
    key: int,
    business_date: date,
    paid_through: date,
    behaviour: str,
    extension: bool = False,
) -> TemplateSpec:
    """A random, realistic template for ``behaviour``; disbursed 1–5 years before the
    business date and maturing after it."""
    weights = [p[0] for p in _PRODUCTS]
    _w, method, p_every, i_every, graces = rng.choices(_PRODUCTS, weights=weights)[0]
    term = rng.choices([t for t, _ in _TERMS], weights=[w for _, w in _TERMS])[0]
    if method == "bullet":
        p_every = 12
    grace = rng.choice(graces)
    if grace >= term:
        grace = 0
    amount = rng.randrange(100, 801, 10) * 1_000_000
    rate = Decimal(rng.randrange(60, 73)) / 10
    # At least 12 months ago and early enough that maturity is > 2 months ahead
    # (an extension needs its effective date before maturity, so its loans are younger).
    latest = add_months(business_date, -12)
    earliest = add_months(business_date, -min(60, term - 3))
    disbursed_on = earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))
    since = None
    percent = 100
    if behaviour == "stopped":
        since = business_date - timedelta(days=rng.randrange(20, 366))
    elif behaviour == "partial":
        since = business_date - timedelta(days=rng.randrange(30, 241))
        percent = rng.randrange(40, 91, 5)
    extension_on = None
    extension_months = 0
    if extension:
        maturity = add_months(disbursed_on, term)
        lo = max(disbursed_on + timedelta(days=60), business_date - timedelta(days=300))
        hi = min(maturity - timedelta(days=1), business_date - timedelta(days=30))
        if lo < hi:
            extension_on = lo + timedelta(days=rng.randrange((hi - lo).days))
            extension_months = rng.choice((6, 12, 12, 18, 24))
    return TemplateSpec(
        key=key,
        amount=amount,
        annual_rate=rate,
        term_months=term,
        principal_method=method,
        principal_every_months=p_every,
        interest_every_months=i_every,
        grace_months=grace,
        disbursed_on=disbursed_on,
        behaviour=behaviour,
        paid_through=paid_through,
        since=since,
        percent=percent,
        extension_on=extension_on,
        extension_months=extension_months,
    )


# --- replaying a spec with the engine -------------------------------------------------


def build(spec: TemplateSpec) -> Template:
    """Replay the template's history with the app's engine (pure, no database)."""
    from fundapp.domain import replay as engine
    from fundapp.domain.terms import LoanTerms, Product

    terms = LoanTerms(
        amount=spec.amount,
        annual_rate=spec.annual_rate,
        term_months=spec.term_months,
        principal_method=spec.principal_method,
        principal_every_months=spec.principal_every_months,
        interest_every_months=spec.interest_every_months,
        grace_months=spec.grace_months,
    )
    product = Product(terms=terms)
    disbursements = (engine.DisbursementEvent(1, spec.disbursed_on, spec.amount),)
    restructures: tuple[engine.RestructureEvent, ...] = ()
    new_maturity = None
    if spec.extension_on is not None:
        maturity = add_months(spec.disbursed_on, spec.term_months)
        new_maturity = add_months(maturity, spec.extension_months)
        restructures = (
            engine.RestructureEvent(1, spec.extension_on, "extension", (), None, new_maturity),
        )
    # The calendar the borrower pays against (after the extension, if any).
    plan_state = engine.replay(product, disbursements, (), restructures)
    rows = [r.plan for r in plan_state.rows]

    events: list[engine.RepaymentEvent] = []
    for row in rows:
        if row.due_date > spec.paid_through:
            break
        due = row.principal + row.interest
        if due <= 0:
            continue
        if spec.since is not None and row.due_date >= spec.since:
            if spec.behaviour == "stopped":
                break
            # partial: a share of this instalment, in thousands of đồng
            due = due * spec.percent // 100 // 1000 * 1000
            if due <= 0:
                continue
        seq = len(events) + 1
        events.append(engine.RepaymentEvent(seq, row.due_date, due, seq))
    state = engine.replay(product, disbursements, tuple(events), restructures)

    rows_out = tuple(
        RowOut(
            no=r.plan.no,
            due_date=r.plan.due_date,
            interest_from=r.plan.interest_from,
            principal_due=r.plan.principal_due,
            opening_principal=r.plan.opening_principal,
            principal=r.plan.principal,
            interest=r.plan.interest,
            principal_paid=r.plan.principal - r.principal_unpaid,
            interest_paid=r.plan.interest - r.interest_unpaid,
            penalty_paid=r.penalty_paid,
            paid_on=_paid_on(r),
        )
        for r in state.rows
    )
    repayments = tuple(
        RepaymentOut(
            value_date=result.date,
            amount=result.amount,
            allocations=tuple((a.no, a.component, a.amount) for a in result.allocations),
            prepaid_principal=result.prepaid_principal,
        )
        for _id, result in sorted(state.repayments.items())
    )
    outstanding = state.principal_outstanding
    if outstanding <= 0:
        raise ValueError(f"template {spec.key} is repaid already; it cannot be an active loan")
    return Template(
        spec=spec,
        rows=rows_out,
        repayments=repayments,
        disbursed=state.disbursed,
        principal_paid=state.principal_paid,
        interest_paid=state.interest_paid,
        penalty_paid=state.penalty_paid,
        principal_outstanding=outstanding,
        maturity=state.maturity or add_months(spec.disbursed_on, spec.term_months),
        new_maturity=new_maturity,
    )


def _paid_on(row) -> date | None:  # type: ignore[no-untyped-def]
    """As ``fundapp.loans.store._paid_on``: the last payment date of a fully paid row."""
    if row.principal_unpaid or row.interest_unpaid:
        return None
    dates = [d for d, _ in row.principal_paid + row.interest_paid]
    return max(dates) if dates else None


def build_all(specs: list[TemplateSpec], workers: int) -> list[Template]:
    """Every template, replayed in ``workers`` processes (the engine is pure Python)."""
    if workers <= 1 or len(specs) < 50:
        return [build(s) for s in specs]
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        return list(pool.map(build, specs, chunksize=max(1, len(specs) // (workers * 8))))
