"""One origin fund's book: the journal lines that belong to a fund taken over, and its
sources and uses.

A line belongs to the origin fund of its loan, so choosing the lines joins the loans: this
lives above the ledger (which stays below the loans) with the readers that show one
origin's figures (fund balance, trial balance, dashboard).
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import case

from fundapp.cooperatives.models import Cooperative
from fundapp.funds.services import ALL, OriginFilter
from fundapp.ledger import services as ledger
from fundapp.ledger.models import CapitalEntry, JournalLine
from fundapp.ledger.services import FundPosition, LineScope
from fundapp.loans.models import Loan


def line_origin(query: Any, origin: OriginFilter) -> Any:
    """``query`` (over journal lines) kept to the lines of ``origin``'s book.

    A line belongs to the origin fund of its loan; without a loan, of its cooperative;
    without either, of the capital entry it posts; anything else (the general provision,
    the close of day's provision expense, the memo contra) to this fund. Every line has
    exactly one origin, so the per-origin balances add up to the consolidated ones."""
    if origin.origin is None:
        return query
    owner = case(
        (JournalLine.loan_id.is_not(None), Loan.origin_fund_id),
        (JournalLine.cooperative_id.is_not(None), Cooperative.origin_fund_id),
        else_=CapitalEntry.origin_fund_id,
    )
    return (
        query.outerjoin(Loan, Loan.id == JournalLine.loan_id)
        .outerjoin(Cooperative, Cooperative.id == JournalLine.cooperative_id)
        .outerjoin(CapitalEntry, CapitalEntry.journal_entry_id == JournalLine.entry_id)
        .where(origin.clause(owner))
    )


def origin_scope(origin: OriginFilter) -> LineScope | None:
    """The ledger's scope of ``origin``'s book; ``None`` (the whole journal) for all."""
    if origin.origin is None:
        return None
    return partial(line_origin, origin=origin)


def fund_position(as_of: date | None = None, origin: OriginFilter = ALL) -> FundPosition:
    """``ledger.services.fund_position`` of one origin fund's book (or of all)."""
    return ledger.fund_position(as_of, origin_scope(origin))
