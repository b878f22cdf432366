"""Posting to the journal, balances as of a date, capital received, the fund's invariants."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import BigInteger, delete, func, insert, literal, select, union_all

from fundapp import audit
from fundapp.core.db import bulk_insert, touch_loans, upsert
from fundapp.domain.errors import DomainError, ValidationFailed
from fundapp.domain.money import MAX_AMOUNT
from fundapp.extensions import db
from fundapp.funds import services as funds
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import (
    CAPITAL_SOURCES,
    CapitalEntry,
    JournalEntry,
    JournalLine,
    LedgerDayTotal,
    LoanBalance,
)


class UnbalancedEntry(DomainError):
    """The debits of an entry do not equal its credits: nothing is posted."""


@dataclass(frozen=True)
class Line:
    account: str
    debit: int = 0
    credit: int = 0
    cooperative_id: int | None = None
    source_name: str = ""
    loan_id: int | None = None


def post(
    entry_date: date,
    kind: str,
    lines: list[Line],
    actor: Any = None,
    reference: str = "",
    description: str = "",
) -> JournalEntry:
    """Post one balanced entry in the caller's transaction, or refuse it whole."""
    if len(lines) < 2:
        raise UnbalancedEntry(_("Bút toán cần ít nhất hai dòng."))
    for line in lines:
        if line.account not in acc.ACCOUNTS:
            raise UnbalancedEntry(
                _("Tài khoản %(a)s không có trong hệ thống tài khoản.", a=line.account)
            )
        if not isinstance(line.debit, int) or not isinstance(line.credit, int):
            raise UnbalancedEntry(_("Số tiền phải là số nguyên đồng."))
        if line.debit < 0 or line.credit < 0 or (line.debit == 0) == (line.credit == 0):
            raise UnbalancedEntry(_("Mỗi dòng bút toán ghi Nợ hoặc Có một số dương."))
    debits = sum(line.debit for line in lines)
    credits = sum(line.credit for line in lines)
    if debits != credits:
        raise UnbalancedEntry(
            _("Bút toán không cân: Nợ %(d)s ≠ Có %(c)s.", d=f"{debits:,}", c=f"{credits:,}")
        )
    entry = JournalEntry(
        entry_date=entry_date,
        kind=kind,
        reference=reference[:80],
        description=description[:255],
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(entry)
    db.session.flush()
    # In bulk: the close of day posts thousands of lines in one entry.
    bulk_insert(
        JournalLine,
        [
            {
                "entry_id": entry.id,
                "account": line.account,
                "debit": line.debit,
                "credit": line.credit,
                "cooperative_id": line.cooperative_id,
                "source_name": line.source_name,
                "loan_id": line.loan_id,
            }
            for line in lines
        ],
    )
    _bump_loan_balances(lines)
    _bump_day_totals(entry_date, kind, lines)
    touch_loans({line.loan_id for line in lines}, schedule=False)
    return entry


def _bump_loan_balances(lines: list[Line]) -> None:
    """Keep ``loan_balances`` equal to the sum of the loan's lines (checked by fund check)."""
    deltas: dict[tuple[int, str], int] = defaultdict(int)
    for line in lines:
        if line.loan_id is not None:
            deltas[(line.loan_id, line.account)] += line.debit - line.credit
    if not deltas:
        return
    rows = [{"loan_id": k[0], "account": k[1], "balance": v} for k, v in deltas.items()]
    upsert(LoanBalance, rows, ["loan_id", "account"], add=("balance",))


def _bump_day_totals(entry_date: date, kind: str, lines: list[Line]) -> None:
    """Add the entry to ``ledger_day_totals`` (checked by fund check), to this connection's
    rows (``_slot``), in key order: a transaction on the same slot waits, never deadlocks."""
    sums: dict[tuple[str, bool], list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        total = sums[(line.account, line.loan_id is not None)]
        total[0] += line.debit
        total[1] += line.credit
    slot = _slot()
    rows = [
        {
            "entry_date": entry_date,
            "kind": kind,
            "account": account,
            "loan_line": loan_line,
            "slot": slot,
            "debit": debit,
            "credit": credit,
        }
        for (account, loan_line), (debit, credit) in sorted(sums.items())
    ]
    upsert(
        LedgerDayTotal,
        rows,
        ["entry_date", "account", "kind", "loan_line", "slot"],
        add=("debit", "credit"),
    )


DAY_TOTAL_SLOTS = 32


def _slot() -> int:
    """This connection's row of each key of ``ledger_day_totals``: the server process's id
    modulo ``DAY_TOTAL_SLOTS`` on PostgreSQL (read once per connection), so that postings of
    one day in parallel transactions add to different rows and do not wait for each other's
    commit; 0 on SQLite (one writer at a time)."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return 0
    info = connection.connection.info
    if "day_total_slot" not in info:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        info["day_total_slot"] = int(pid) % DAY_TOTAL_SLOTS
    return info["day_total_slot"]


def rebuild_day_totals() -> None:
    """``ledger_day_totals`` recomputed from the journal, in one statement (after lines were
    loaded in bulk, not posted)."""
    for statement in day_totals_statements():
        db.session.execute(statement)


def _journal_day_sums() -> Any:
    """The journal lines summed as ``ledger_day_totals`` keeps them."""
    loan_line = JournalLine.loan_id.is_not(None)
    return (
        select(
            JournalEntry.entry_date,
            JournalLine.account,
            JournalEntry.kind,
            loan_line,
            func.sum(JournalLine.debit),
            func.sum(JournalLine.credit),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .group_by(JournalEntry.entry_date, JournalLine.account, JournalEntry.kind, loan_line)
    )


def day_totals_statements() -> list[Any]:
    """The statements of ``rebuild_day_totals`` (also run by the migration that made the
    table)."""
    return [
        delete(LedgerDayTotal),
        insert(LedgerDayTotal).from_select(
            ["entry_date", "account", "kind", "loan_line", "debit", "credit"], _journal_day_sums()
        ),
    ]


def _day_total_differences() -> list[str]:
    """The keys of ``ledger_day_totals`` whose sums differ from the lines' (at most 20)."""
    summed = {
        (r[0], r[1], r[2], bool(r[3])): (int(r[4]), int(r[5]))
        for r in db.session.execute(_journal_day_sums())
    }
    t = LedgerDayTotal
    kept = {
        (r[0], r[1], r[2], bool(r[3])): (int(r[4]), int(r[5]))
        for r in db.session.execute(
            select(
                t.entry_date, t.account, t.kind, t.loan_line, func.sum(t.debit), func.sum(t.credit)
            ).group_by(t.entry_date, t.account, t.kind, t.loan_line)
        )
    }
    wrong = sorted(
        k for k in summed.keys() | kept.keys() if summed.get(k, (0, 0)) != kept.get(k, (0, 0))
    )
    return [
        f"day total {d.isoformat()} {a} {k} ({'loan' if line else 'other'} lines): kept "
        f"{kept.get((d, a, k, line), (0, 0))} != lines {summed.get((d, a, k, line), (0, 0))}"
        for d, a, k, line in wrong[:20]
    ]


LineScope = Callable[[Any], Any]
"""Keeps a query over journal lines to one book (``reports.origin_book.origin_scope``: an
origin fund's lines are chosen by their loan, which the ledger, below the loans, does not
know); ``None`` is the whole journal."""


def _scoped(query: Any, scope: LineScope | None) -> Any:
    return query if scope is None else scope(query)


def balances(as_of: date | None = None, scope: LineScope | None = None) -> dict[str, int]:
    """Each account's balance on its normal side, counting entries dated up to ``as_of``
    (of one book, ``scope``, or of all)."""
    if scope is None:
        # The whole journal: its day totals, a few rows a day whatever the book's size.
        query = select(
            LedgerDayTotal.account,
            func.coalesce(func.sum(LedgerDayTotal.debit), 0),
            func.coalesce(func.sum(LedgerDayTotal.credit), 0),
        ).group_by(LedgerDayTotal.account)
        if as_of is not None:
            query = query.where(LedgerDayTotal.entry_date <= as_of)
    else:
        query = (
            select(
                JournalLine.account,
                func.coalesce(func.sum(JournalLine.debit), 0),
                func.coalesce(func.sum(JournalLine.credit), 0),
            )
            .join(JournalEntry)
            .group_by(JournalLine.account)
        )
        query = scope(query)
        if as_of is not None:
            query = query.where(JournalEntry.entry_date <= as_of)
    result = {code: 0 for code in acc.ACCOUNTS}
    for code, debit, credit in db.session.execute(query):
        debit, credit = int(debit), int(credit)
        result[code] = debit - credit if acc.ACCOUNTS[code].debit_normal else credit - debit
    return result


def entrusted_by_source(
    as_of: date | None = None, scope: LineScope | None = None
) -> dict[str, int]:
    query = (
        select(JournalLine.source_name, func.sum(JournalLine.credit - JournalLine.debit))
        .join(JournalEntry)
        .where(JournalLine.account == acc.ENTRUSTED_CAPITAL)
        .group_by(JournalLine.source_name)
        .order_by(JournalLine.source_name)
    )
    query = _scoped(query, scope)
    if as_of is not None:
        query = query.where(JournalEntry.entry_date <= as_of)
    return {name or "—": int(total) for name, total in db.session.execute(query)}


@dataclass(frozen=True)
class FundPosition:
    as_of: date | None
    charter: int
    entrusted: int
    entrusted_sources: dict[str, int]
    grants: int
    other: int
    accumulated_result: int
    cash: int
    loans_in_term: int
    loans_overdue: int
    interest_receivable: int
    provision: int
    # Lãi dự thu of group-1 loans posted at month ends (not yet billed).
    accrued_interest: int = 0
    # The budget's share of supported interest billed and not yet paid by the agency.
    support_receivable: int = 0

    @property
    def total_capital(self) -> int:
        return self.charter + self.entrusted + self.grants + self.other

    @property
    def total_sources(self) -> int:
        return self.total_capital + self.accumulated_result

    @property
    def outstanding(self) -> int:
        return self.loans_in_term + self.loans_overdue

    @property
    def total_uses(self) -> int:
        return (
            self.cash
            + self.outstanding
            + self.interest_receivable
            + self.accrued_interest
            + self.support_receivable
            - self.provision
        )


def fund_position(as_of: date | None = None, scope: LineScope | None = None) -> FundPosition:
    """Sources and uses of the fund (of one book, ``scope``: see
    ``reports.origin_book.fund_position`` for an origin fund's) as of ``as_of``."""
    bal = balances(as_of, scope)
    # Every income account (interest, overdue interest, provision released) less every
    # expense account (provision, interest of an earlier year that became doubtful).
    income = sum(bal[code] for code, a in acc.ACCOUNTS.items() if a.kind == "income")
    expense = sum(bal[code] for code, a in acc.ACCOUNTS.items() if a.kind == "expense")
    result = income - expense
    return FundPosition(
        as_of=as_of,
        charter=bal[acc.CHARTER_CAPITAL],
        entrusted=bal[acc.ENTRUSTED_CAPITAL],
        entrusted_sources=entrusted_by_source(as_of, scope),
        grants=bal[acc.GRANT_CAPITAL],
        other=bal[acc.OTHER_CAPITAL],
        accumulated_result=result,
        cash=bal[acc.CASH],
        loans_in_term=bal[acc.LOANS_IN_TERM],
        loans_overdue=bal[acc.LOANS_OVERDUE],
        interest_receivable=bal[acc.INTEREST_RECEIVABLE],
        provision=bal[acc.PROVISION],
        accrued_interest=bal[acc.ACCRUED_INTEREST],
        support_receivable=bal[acc.SUPPORT_RECEIVABLE],
    )


def record_capital(
    actor: Any,
    source: str,
    amount: int,
    entry_date: date,
    reference: str = "",
    note: str = "",
    source_name: str = "",
    origin_fund: str | None = None,
) -> CapitalEntry:
    """Capital received: Dr cash / Cr the capital account of its source, one transaction.
    ``origin_fund`` names the fund whose capital it was (a fund taken over); blank: this
    fund's."""
    errors: dict[str, str] = {}
    origin_id: int | None = None
    try:
        origin_id = funds.resolve(origin_fund, "origin_fund")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if source not in CAPITAL_SOURCES:
        errors["source"] = _("Nguồn vốn không hợp lệ.")
    if isinstance(amount, bool) or not isinstance(amount, int):
        errors["amount"] = _("Số tiền phải là số nguyên đồng.")
    elif amount <= 0:
        errors["amount"] = _("Số tiền phải lớn hơn 0.")
    elif amount > MAX_AMOUNT:
        errors["amount"] = _("Số tiền quá lớn.")
    if source == "entrusted" and not source_name.strip():
        errors["source_name"] = _("Vốn ủy thác cần ghi rõ bên ủy thác.")
    if len(reference) > 80:
        errors["reference"] = _("Số chứng từ tối đa 80 ký tự.")
    if len(note) > 500:
        errors["note"] = _("Ghi chú tối đa 500 ký tự.")
    if len(source_name) > 120:
        errors["source_name"] = _("Tên bên ủy thác tối đa 120 ký tự.")
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    name = source_name.strip() if source == "entrusted" else ""
    entry = post(
        entry_date,
        "capital",
        [
            Line(acc.CASH, debit=amount),
            Line(acc.CAPITAL_ACCOUNT_BY_SOURCE[source], credit=amount, source_name=name),
        ],
        actor=actor,
        reference=reference,
        description=_("Nhận vốn: %(s)s", s=str(acc.SOURCE_LABELS[source])),
    )
    capital = CapitalEntry(
        source=source,
        source_name=name,
        amount=amount,
        entry_date=entry_date,
        reference=reference.strip(),
        note=note.strip(),
        journal_entry_id=entry.id,
        created_by_id=getattr(actor, "id", None),
        origin_fund_id=origin_id,
    )
    db.session.add(capital)
    db.session.flush()
    after = {**capital.to_dict(), "origin_fund": funds.code_of(origin_id)}
    audit.record(actor, "capital.create", "capital_entry", capital.id, None, after)
    return capital


@dataclass
class CheckResult:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.ok = False
        self.problems.append(message)


def check_invariants(deep: bool = False, workers: int | None = None) -> CheckResult:
    """The ledger's invariants (docs/rules.md#posting-and-accounts). Each failure names the rule
    that broke. ``deep``: also the registered deep checks (every loan's history replayed, by
    ``workers`` processes), minutes on a large book where the rest takes seconds."""
    result = CheckResult()

    result.checked.append("every journal entry is balanced")
    unbalanced = db.session.execute(
        select(JournalLine.entry_id)
        .group_by(JournalLine.entry_id)
        .having(func.sum(JournalLine.debit) != func.sum(JournalLine.credit))
    ).all()
    for (entry_id,) in unbalanced:
        result.fail(f"journal entry {entry_id} is not balanced (debits != credits)")

    result.checked.append("every journal entry has at least two lines")
    lonely = db.session.execute(
        select(JournalEntry.id)
        .outerjoin(JournalLine)
        .group_by(JournalEntry.id)
        .having(func.count(JournalLine.id) < 2)
    ).all()
    for (entry_id,) in lonely:
        result.fail(f"journal entry {entry_id} has fewer than two lines")

    result.checked.append("ledger balanced: total debits = total credits")
    debit, credit = db.session.execute(
        select(
            func.coalesce(func.sum(JournalLine.debit), 0),
            func.coalesce(func.sum(JournalLine.credit), 0),
        )
    ).one()
    if int(debit) != int(credit):
        result.fail(f"ledger not balanced: debits {int(debit)} != credits {int(credit)}")

    result.checked.append("capital entries = capital accounts")
    bal = balances()
    by_source = dict(
        db.session.execute(
            select(CapitalEntry.source, func.sum(CapitalEntry.amount)).group_by(CapitalEntry.source)
        ).all()
    )
    for source, code in acc.CAPITAL_ACCOUNT_BY_SOURCE.items():
        recorded = int(by_source.get(source) or 0)
        if recorded != bal[code]:
            result.fail(
                f"capital '{source}': entries total {recorded} but account {code} holds {bal[code]}"
            )

    result.checked.append("fund sources = fund uses")
    position = fund_position()
    if position.total_sources != position.total_uses:
        result.fail(f"fund sources {position.total_sources} != fund uses {position.total_uses}")

    result.checked.append("off-balance memo accounts net to zero")
    memo = defaultdict(int)
    for code, account in acc.ACCOUNTS.items():
        if account.kind == "memo_debit":
            memo["debit"] += bal[code]
        elif account.kind == "memo_credit":
            memo["credit"] += bal[code]
    if memo["debit"] != memo["credit"]:
        result.fail("off-balance memo accounts do not net to zero")

    result.checked.append("per-loan running balances = the loan's journal lines")
    # Both sides in one column each, then grouped: a key missing on either side counts as 0,
    # as a FULL OUTER JOIN would have it, and only the differing keys come back.
    both = union_all(
        select(
            LoanBalance.loan_id,
            LoanBalance.account,
            LoanBalance.balance.label("kept"),
            literal(0, BigInteger).label("summed"),
        ),
        select(
            JournalLine.loan_id,
            JournalLine.account,
            literal(0, BigInteger).label("kept"),
            (JournalLine.debit - JournalLine.credit).label("summed"),
        ).where(JournalLine.loan_id.is_not(None)),
    ).subquery()
    kept, summed = func.sum(both.c.kept), func.sum(both.c.summed)
    for loan_id, account, kept_total, lines_total in db.session.execute(
        select(both.c.loan_id, both.c.account, kept, summed)
        .group_by(both.c.loan_id, both.c.account)
        .having(kept != summed)
        .order_by(both.c.loan_id, both.c.account)
    ):
        result.fail(
            f"loan {loan_id} account {account}: running balance {int(kept_total)} != "
            f"lines {int(lines_total)}"
        )

    result.checked.append("the day totals = the journal lines")
    for problem in _day_total_differences():
        result.fail(problem)

    for extra in _EXTRA_CHECKS:
        extra(result)
    if deep:
        for extra in _DEEP_CHECKS:
            extra(result, workers)
    return result


# Later modules (loans, repayments) register their own invariants here: ``fn(result)``,
# and ``fn(result, workers)`` for a deep one.
_EXTRA_CHECKS: list = []
_DEEP_CHECKS: list = []


def register_check(fn: Any, deep: bool = False) -> Any:
    checks = _DEEP_CHECKS if deep else _EXTRA_CHECKS
    if fn not in checks:
        checks.append(fn)
    return fn


# Later modules add figures to the overview (e.g. number of projects) here.
_OVERVIEW_EXTRAS: list = []


def register_overview_extra(fn: Any) -> Any:
    if fn not in _OVERVIEW_EXTRAS:
        _OVERVIEW_EXTRAS.append(fn)
    return fn


def overview_extras() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fn in _OVERVIEW_EXTRAS:
        out.update(fn())
    return out
