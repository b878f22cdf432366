"""The trial balance (bảng cân đối tài khoản) and the per-account ledger (sổ chi tiết tài
khoản) of any period, read from the journal.

Balances are shown on the side they fall (dư Nợ or dư Có) by their sign, as the fund's
paper forms do: an account's net debit balance is debit − credit. Every entry is balanced,
so over all accounts the opening debits equal the opening credits, the debit turnover the
credit turnover, and the closing debits the closing credits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from fundapp.extensions import db
from fundapp.funds.services import ALL, OriginFilter
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry, JournalLine
from fundapp.loans.models import Loan
from fundapp.reports.origin_book import line_origin


def sides(net_debit: int) -> tuple[int, int]:
    """A net debit balance as (dư Nợ, dư Có): the positive part on its own side."""
    return (net_debit, 0) if net_debit >= 0 else (0, -net_debit)


@dataclass(frozen=True)
class TrialRow:
    code: str
    name: str
    opening_debit: int
    opening_credit: int
    debit: int
    credit: int
    closing_debit: int
    closing_credit: int


@dataclass(frozen=True)
class TrialBalance:
    start: date
    end: date
    rows: list[TrialRow]
    total: TrialRow

    @property
    def balanced(self) -> bool:
        t = self.total
        return (
            t.opening_debit == t.opening_credit
            and t.debit == t.credit
            and t.closing_debit == t.closing_credit
        )


def trial_balance(start: date, end: date, origin: OriginFilter = ALL) -> TrialBalance:
    """Per account with any line up to ``end``: the opening balance (entries before
    ``start``), the debit and credit turnover of [start, end], and the closing balance.
    One grouped query over the journal."""
    before = JournalEntry.entry_date < start
    within = JournalEntry.entry_date.between(start, end)
    query = (
        select(
            JournalLine.account,
            func.coalesce(func.sum(case((before, JournalLine.debit - JournalLine.credit))), 0),
            func.coalesce(func.sum(case((within, JournalLine.debit))), 0),
            func.coalesce(func.sum(case((within, JournalLine.credit))), 0),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.entry_date <= end)
        .group_by(JournalLine.account)
    )
    query = line_origin(query, origin)
    figures = {code: (int(o), int(d), int(c)) for code, o, d, c in db.session.execute(query)}
    rows = []
    for code in sorted(figures):
        opening, debit, credit = figures[code]
        if not (opening or debit or credit):
            continue
        account = acc.ACCOUNTS.get(code)
        rows.append(
            TrialRow(
                code,
                str(account.name) if account else code,
                *sides(opening),
                debit,
                credit,
                *sides(opening + debit - credit),
            )
        )
    total = TrialRow(
        "",
        "",
        *(sum(getattr(r, f) for r in rows) for f in _AMOUNTS),
    )
    return TrialBalance(start, end, rows, total)


_AMOUNTS = (
    "opening_debit",
    "opening_credit",
    "debit",
    "credit",
    "closing_debit",
    "closing_credit",
)


@dataclass(frozen=True)
class LedgerLine:
    entry_date: date
    entry_id: int
    kind: str
    reference: str
    description: str
    contract_no: str
    debit: int
    credit: int
    balance_debit: int  # the running balance after this line, on its side
    balance_credit: int


@dataclass(frozen=True)
class AccountLedger:
    code: str
    name: str
    start: date
    end: date
    opening: int  # net debit
    lines: list[LedgerLine]
    debit: int
    credit: int

    @property
    def closing(self) -> int:
        return self.opening + self.debit - self.credit


def account_ledger(code: str, start: date, end: date, origin: OriginFilter = ALL) -> AccountLedger:
    """The lines of one account in [start, end], in date and entry order, each with the
    running balance; an entry's lines on the account are added up into one line."""
    opening_query = line_origin(
        select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
        .select_from(JournalLine)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.account == code, JournalEntry.entry_date < start),
        origin,
    )
    opening = int(db.session.scalar(opening_query) or 0)
    # One row per entry; the contract when all its lines on the account are of one loan.
    lines_query = line_origin(
        select(
            JournalEntry.entry_date,
            JournalEntry.id,
            JournalEntry.kind,
            JournalEntry.reference,
            JournalEntry.description,
            func.min(JournalLine.loan_id),
            func.max(JournalLine.loan_id),
            func.sum(JournalLine.debit),
            func.sum(JournalLine.credit),
        )
        .select_from(JournalLine)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.account == code, JournalEntry.entry_date.between(start, end))
        .group_by(
            JournalEntry.entry_date,
            JournalEntry.id,
            JournalEntry.kind,
            JournalEntry.reference,
            JournalEntry.description,
        )
        .order_by(JournalEntry.entry_date, JournalEntry.id),
        origin,
    )
    raw = db.session.execute(lines_query).all()
    loan_ids = {r[5] for r in raw if r[5] is not None and r[5] == r[6]}
    contracts: dict[int, Any] = (
        dict(
            db.session.execute(select(Loan.id, Loan.contract_no).where(Loan.id.in_(loan_ids))).all()
        )
        if loan_ids
        else {}
    )
    balance = opening
    lines = []
    total_debit = total_credit = 0
    for day, entry_id, kind, reference, description, low, high, debit, credit in raw:
        debit, credit = int(debit or 0), int(credit or 0)
        balance += debit - credit
        total_debit += debit
        total_credit += credit
        contract = contracts.get(low, "") if low is not None and low == high else ""
        lines.append(
            LedgerLine(
                day,
                entry_id,
                kind,
                reference,
                description,
                contract,
                debit,
                credit,
                *sides(balance),
            )
        )
    account = acc.ACCOUNTS.get(code)
    return AccountLedger(
        code,
        str(account.name) if account else code,
        start,
        end,
        opening,
        lines,
        total_debit,
        total_credit,
    )
