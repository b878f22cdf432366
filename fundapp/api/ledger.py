"""API v1: the journal (append-only, balanced entries) and the fund overview's counts.

The balances of the fund overview are ``GET /fund/position``; this module adds the journal
the overview lists and the counts it shows beside the balances.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, get_type_hints

from flask import jsonify
from pydantic import Field
from sqlalchemy import func, select

from fundapp.api import bp
from fundapp.api.common import api_roles, paginate, timestamp, within_period
from fundapp.api.shapes import IsoDate, SearchText
from fundapp.api.spec import MAX_ID, Page, PageQuery, Timestamp, TypedDict, operation, read_query
from fundapp.cooperatives.models import Cooperative
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ
from fundapp.extensions import db
from fundapp.ledger.accounts import ACCOUNTS
from fundapp.ledger.models import JournalEntry, JournalLine
from fundapp.loans import queries

AccountCode = Literal[tuple(ACCOUNTS)]  # type: ignore[valid-type]


class JournalLineItem(TypedDict):
    account: str
    account_name: str
    debit: int
    credit: int
    cooperative_id: int | None
    loan_id: int | None
    source_name: str


class JournalEntryItem(TypedDict):
    id: int
    date: IsoDate
    kind: str
    reference: str
    description: str
    created_by_id: int | None
    created_at: Timestamp | None
    # Debits = credits: the amount of the entry.
    total: int
    lines: list[JournalLineItem]


JournalQuery = TypedDict(  # "from" is a keyword: the functional form names it
    "JournalQuery",
    {
        **get_type_hints(PageQuery, include_extras=True),
        "from": Annotated[dt.date, Field(description="Entries dated on or after")],
        "to": Annotated[dt.date, Field(description="Entries dated on or before")],
        "account": Annotated[AccountCode, Field(description="Entries with a line on it")],
        "kind": Annotated[SearchText, Field(description="e.g. repayment")],
        "loan_id": Annotated[int, Field(ge=1, le=MAX_ID)],
    },
    total=False,
)


class FundOverview(TypedDict):
    as_of: IsoDate
    cooperatives: int
    # Active loans (projects borrowing) and the cooperatives they belong to.
    projects: int
    borrowers: int


def line_json(line: JournalLine) -> JournalLineItem:
    account = ACCOUNTS.get(line.account)
    return {
        "account": line.account,
        "account_name": str(account.name) if account else line.account,
        "debit": line.debit,
        "credit": line.credit,
        "cooperative_id": line.cooperative_id,
        "loan_id": line.loan_id,
        "source_name": line.source_name,
    }


def entry_json(entry: JournalEntry) -> JournalEntryItem:
    return {
        "id": entry.id,
        "date": entry.entry_date.isoformat(),
        "kind": entry.kind,
        "reference": entry.reference,
        "description": entry.description,
        "created_by_id": entry.created_by_id,
        "created_at": timestamp(entry.created_at),
        "total": entry.total,
        "lines": [line_json(line) for line in entry.lines],
    }


def _with_line(*where: Any) -> Any:
    return JournalEntry.id.in_(select(JournalLine.entry_id).where(*where))


@bp.route("/journal", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(query=JournalQuery, returns=Page[JournalEntryItem])
def list_journal() -> Any:
    """List the journal entries, newest first, each with its lines.

    Filters: a date range (``from`` ≤ ``to``), an account, the entry's kind, a loan.
    """
    args = read_query(JournalQuery)
    query = within_period(select(JournalEntry), JournalEntry.entry_date, args)
    if args.get("kind"):
        query = query.where(JournalEntry.kind == args["kind"])
    if args.get("account"):
        query = query.where(_with_line(JournalLine.account == args["account"]))
    if args.get("loan_id"):
        query = query.where(_with_line(JournalLine.loan_id == args["loan_id"]))
    query = query.order_by(JournalEntry.entry_date.desc(), JournalEntry.id.desc())
    return jsonify(paginate(query, entry_json))


@bp.route("/fund/overview", methods=["GET"])
@api_roles(*STAFF_READ)
@operation(returns=FundOverview)
def fund_overview() -> Any:
    """The counts of the fund overview: cooperatives registered, projects borrowing.

    The balances are in ``GET /fund/position``, the latest entries in ``GET /journal``.
    """
    figures = queries.overview_figures()
    cooperatives = db.session.scalar(select(func.count(Cooperative.id))) or 0
    return jsonify(
        {
            "as_of": business_date().isoformat(),
            "cooperatives": int(cooperatives),
            "projects": figures["projects"],
            "borrowers": figures["borrowers"],
        }
    )
