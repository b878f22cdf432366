"""The search of loans by contract number, project or borrower, as one union of queries
PostgreSQL answers from its trigram indexes: the loan list and the notices filter use it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, union

from fundapp.cooperatives.models import Cooperative
from fundapp.core import lists
from fundapp.loans.models import Loan


def loans_matching(q: str, borrower: bool = True) -> Any:
    """Ids of the loans whose contract number or project (and, with ``borrower``, the
    borrower's name, number or representative) holds ``q``, in any case and without
    diacritics (fundapp.core.lists.fold), ``%`` and ``_`` being plain characters: a
    union of searches that PostgreSQL each answers from a trigram index."""
    searches = [
        # Loans written by a bulk insert have no search key: their contract number still counts.
        select(Loan.id).where(func.upper(Loan.contract_no).contains(q.upper(), autoescape=True)),
        select(Loan.id).where(lists.contains(func.lower(Loan.search_key), q)),
    ]
    if borrower:
        searches.append(
            select(Loan.id)
            .join(Cooperative, Cooperative.id == Loan.cooperative_id)
            .where(lists.contains(func.lower(Cooperative.search_key), q))
        )
    return union(*searches)
