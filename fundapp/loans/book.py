"""The whole book's totals, kept current in the transaction of every change.

The dashboard, the fund balance report and the loan list show sums over every loan: how
many, their amounts, their principal in term and overdue, interest receivable and
provisions, by debt group, area, status, officer and origin fund. Summing a hundred
thousand loans on each read takes seconds, and in a fund at work the book changes all
day, so the sums are kept instead:

- ``book_loans``: each loan's row as the totals count it (its dimensions, its balances,
  the oldest due date of an instalment still owed);
- ``book_totals``: those rows summed per combination of the dimensions (a few thousand
  rows, whatever the size of the book).

Every posting notes its loans (``core.db.touch_loans``), and so does every change of a
loan, its borrower or its instalments through the session; before the transaction
commits, the rows of those loans are recomputed from the loans, their balances and their
instalments, and the difference between the new rows and the old is added to the totals,
in key order. A reader sums a few thousand rows. ``flask fund check`` verifies both tables
against the loans (``check``), and ``rebuild`` recomputes them whole (after a bulk load).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    case,
    delete,
    func,
    insert,
    inspect,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from fundapp.cooperatives.models import Cooperative
from fundapp.core.db import (
    TOUCHED_BALANCES,
    TOUCHED_LOANS,
    Money,
    among,
    in_chunks,
    listen_to_sessions,
    upsert,
)
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import LoanBalance
from fundapp.loans.models import UNSETTLED, Instalment, Loan

# A NULL dimension is kept as this value in the totals' key (a key column cannot be NULL).
NONE_ID = 0
NONE_CODE = "-"


class BookLoan(db.Model):
    """One loan as the totals count it (see the module's docstring)."""

    __tablename__ = "book_loans"
    __table_args__ = (
        # The loan list's "late" filter: the loans with something owed before a date.
        Index("ix_book_loans_oldest_due", "oldest_due"),
    )

    loan_id: Mapped[int] = mapped_column(
        ForeignKey("loans.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    cooperative_id: Mapped[int]
    origin_fund_id: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    officer_id: Mapped[int]
    debt_group: Mapped[int]
    commune_unit_id: Mapped[int]
    former_district_code: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(Money)
    # ``Loan.principal_outstanding`` (the loan list's column).
    outstanding: Mapped[int] = mapped_column(Money)
    # The running balances (``LoanBalance``): the provision as a positive amount.
    principal_in_term: Mapped[int] = mapped_column(Money)
    principal_overdue: Mapped[int] = mapped_column(Money)
    interest_receivable: Mapped[int] = mapped_column(Money)
    specific_provision: Mapped[int] = mapped_column(Money)
    # The oldest due date of an instalment with something still owed (``UNSETTLED``).
    oldest_due: Mapped[date | None]


KEYS = (
    "origin_fund_id",
    "status",
    "officer_id",
    "debt_group",
    "commune_unit_id",
    "former_district_code",
)
SUMS = (
    "loans",
    "amount",
    "outstanding",
    "held_loans",
    "principal_in_term",
    "principal_overdue",
    "interest_receivable",
    "specific_provision",
)


class BookTotal(db.Model):
    """``book_loans`` summed per combination of ``KEYS``: every loan's count, amount and
    ``outstanding``; ``held_loans`` counts the loans with principal outstanding (in term or
    overdue), and the balances are those of these loans, as the dashboard and the reports
    count the book."""

    __tablename__ = "book_totals"

    origin_fund_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    officer_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    debt_group: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    commune_unit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    former_district_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    loans: Mapped[int] = mapped_column(default=0)
    amount: Mapped[int] = mapped_column(Money, default=0)
    outstanding: Mapped[int] = mapped_column(Money, default=0)
    held_loans: Mapped[int] = mapped_column(default=0)
    principal_in_term: Mapped[int] = mapped_column(Money, default=0)
    principal_overdue: Mapped[int] = mapped_column(Money, default=0)
    interest_receivable: Mapped[int] = mapped_column(Money, default=0)
    specific_provision: Mapped[int] = mapped_column(Money, default=0)


class BookBorrower(db.Model):
    """Per borrower and origin fund, how many of its loans have principal outstanding: the
    dashboard's count of borrowers is the rows above zero."""

    __tablename__ = "book_borrowers"

    cooperative_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    origin_fund_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    held_loans: Mapped[int] = mapped_column(default=0)


_BALANCES = {
    "principal_in_term": acc.LOANS_IN_TERM,
    "principal_overdue": acc.LOANS_OVERDUE,
    "interest_receivable": acc.INTEREST_RECEIVABLE,
    "specific_provision": acc.PROVISION,
}
ROW_COLUMNS = tuple(c.name for c in BookLoan.__table__.columns)


# --- computing the rows ----------------------------------------------------------------------


def _source(loan_ids: list[int] | None, owed_too: bool = True) -> Any:
    """The rows of ``book_loans`` as the loans, borrowers, balances and instalments give
    them now (of ``loan_ids``, or of every loan). ``owed_too``: read the instalments for
    the oldest amount owed; otherwise it is NULL (the caller keeps the one it had)."""

    def pivot(name: str, code: str) -> Any:
        amount = func.sum(case((LoanBalance.account == code, LoanBalance.balance), else_=0))
        return (-amount if code == acc.PROVISION else amount).label(name)

    balances = select(LoanBalance.loan_id, *(pivot(n, c) for n, c in _BALANCES.items())).where(
        LoanBalance.account.in_(_BALANCES.values())
    )
    owed = select(Instalment.loan_id, func.min(Instalment.due_date).label("oldest_due")).where(
        text(f"({UNSETTLED})")
    )
    query = select(
        Loan.id.label("loan_id"),
        Loan.cooperative_id,
        func.coalesce(Loan.origin_fund_id, NONE_ID).label("origin_fund_id"),
        Loan.status,
        func.coalesce(Loan.officer_id, NONE_ID).label("officer_id"),
        Loan.debt_group,
        func.coalesce(Cooperative.commune_unit_id, NONE_ID).label("commune_unit_id"),
        func.coalesce(Cooperative.former_district_code, NONE_CODE).label("former_district_code"),
        Loan.amount,
        Loan.principal_outstanding.label("outstanding"),
    )
    if loan_ids is not None:
        balances = balances.where(among(LoanBalance.loan_id, loan_ids))
        owed = owed.where(among(Instalment.loan_id, loan_ids))
        query = query.where(among(Loan.id, loan_ids))
    balances = balances.group_by(LoanBalance.loan_id).subquery("balances")
    query = (
        query.add_columns(*(func.coalesce(balances.c[name], 0).label(name) for name in _BALANCES))
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
        .outerjoin(balances, balances.c.loan_id == Loan.id)
    )
    if not owed_too:
        return query.add_columns(null().label("oldest_due"))
    owed = owed.group_by(Instalment.loan_id).subquery("owed")
    return query.add_columns(owed.c.oldest_due).outerjoin(owed, owed.c.loan_id == Loan.id)


def _contribution(row: Any) -> tuple[tuple, tuple[int, ...]]:
    """A ``book_loans`` row's key in the totals and what it adds to them."""
    held = row["principal_in_term"] + row["principal_overdue"] > 0
    key = tuple(row[k] for k in KEYS)
    return key, (
        1,
        row["amount"],
        row["outstanding"],
        int(held),
        row["principal_in_term"] if held else 0,
        row["principal_overdue"] if held else 0,
        row["interest_receivable"] if held else 0,
        row["specific_provision"] if held else 0,
    )


def _add_to_totals(deltas: dict[tuple, list[int]]) -> None:
    rows = [
        {**dict(zip(KEYS, key, strict=True)), **dict(zip(SUMS, sums, strict=True))}
        for key, sums in sorted(deltas.items())
        if any(sums)
    ]
    # In key order: two transactions adding to the same rows wait, never deadlock.
    for chunk in (rows[n : n + 400] for n in range(0, len(rows), 400)):
        upsert(BookTotal, chunk, list(KEYS), add=SUMS)


def refresh(loan_ids: set[int], schedules: set[int] | None = None) -> None:
    """Recompute the ``book_loans`` rows of ``loan_ids`` and add the difference to
    ``book_totals``, in the caller's transaction. ``schedules``: those whose instalments
    may have changed (all of them when None); the others keep their oldest amount owed,
    without reading their instalments (the close of day posts to thousands of loans and
    writes none of their schedules)."""
    if not loan_ids:
        return
    if len(loan_ids) >= REBUILD_FROM:
        rebuild()
        return
    deltas: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(SUMS))
    held: dict[tuple[int, int], int] = defaultdict(int)  # (borrower, origin): loans held
    postgres = db.session.get_bind().dialect.name == "postgresql"
    for chunk in in_chunks(sorted(loan_ids)):
        old_query = select(BookLoan.__table__).where(among(BookLoan.loan_id, chunk))
        if postgres:
            # Two transactions refreshing one loan: the second waits for the first to
            # commit, then reads its row (and its loan's new state) as the old one.
            old_query = old_query.order_by(BookLoan.loan_id).with_for_update()
        old = {r["loan_id"]: r for r in db.session.execute(old_query).mappings()}
        owed = [i for i in chunk if schedules is None or i in schedules or i not in old]
        kept = sorted(set(chunk) - set(owed))
        new = {r["loan_id"]: dict(r) for r in db.session.execute(_source(owed)).mappings()}
        for r in db.session.execute(_source(kept, owed_too=False)).mappings() if kept else ():
            new[r["loan_id"]] = {**r, "oldest_due": old[r["loan_id"]]["oldest_due"]}
        for loan_id in old.keys() | new.keys():
            if old.get(loan_id) is not None and new.get(loan_id) == dict(old[loan_id]):
                continue
            for row, sign in ((old.get(loan_id), -1), (new.get(loan_id), 1)):
                if row is None:
                    continue
                key, sums = _contribution(row)
                total = deltas[key]
                for n, value in enumerate(sums):
                    total[n] += sign * value
                held[(row["cooperative_id"], row["origin_fund_id"])] += sign * sums[3]
        gone = sorted(old.keys() - new.keys())
        if gone:
            db.session.execute(delete(BookLoan).where(among(BookLoan.loan_id, gone)))
        changed = [
            row for i, row in sorted(new.items()) if old.get(i) is None or row != dict(old[i])
        ]
        if changed:
            upsert(BookLoan, changed, ["loan_id"], replace=ROW_COLUMNS[1:])
    _add_to_totals(deltas)
    borrowers = [
        {"cooperative_id": coop, "origin_fund_id": origin, "held_loans": n}
        for (coop, origin), n in sorted(held.items())
        if n
    ]
    if borrowers:
        upsert(BookBorrower, borrowers, ["cooperative_id", "origin_fund_id"], add=("held_loans",))


REBUILD_FROM = 20_000  # loans changed in one transaction from which both tables are rebuilt


def rebuild() -> None:
    """Both tables recomputed from every loan (after loans were loaded in bulk, or when a
    transaction changed most of the book). On PostgreSQL the tables are locked first: a
    refresh running meanwhile waits, then reads the rebuilt rows."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("LOCK TABLE book_loans, book_totals, book_borrowers IN EXCLUSIVE MODE")
        )
    for statement in rebuild_statements():
        db.session.execute(statement)


def rebuild_statements() -> list[Any]:
    """The statements of ``rebuild`` (also run by the migration that made the tables)."""
    source = _source(None).subquery("source")
    return [
        delete(BookTotal),
        delete(BookBorrower),
        delete(BookLoan),
        insert(BookLoan).from_select(ROW_COLUMNS, select(*(source.c[c] for c in ROW_COLUMNS))),
        insert(BookTotal).from_select((*KEYS, *SUMS), _grouped()),
        insert(BookBorrower).from_select(
            ("cooperative_id", "origin_fund_id", "held_loans"), _held_per_borrower()
        ),
    ]


def _held_per_borrower() -> Any:
    """``book_loans``' loans with principal outstanding per borrower and origin fund."""
    return (
        select(BookLoan.cooperative_id, BookLoan.origin_fund_id, func.count())
        .where(BookLoan.principal_in_term + BookLoan.principal_overdue > 0)
        .group_by(BookLoan.cooperative_id, BookLoan.origin_fund_id)
    )


def _grouped() -> Any:
    """``book_loans`` summed per key: what ``book_totals`` holds."""
    held = BookLoan.principal_in_term + BookLoan.principal_overdue > 0

    def when_held(column: Any) -> Any:
        return func.sum(case((held, column), else_=0))

    keys = [BookLoan.__table__.c[k] for k in KEYS]
    return select(
        *keys,
        func.count(),
        func.sum(BookLoan.amount),
        func.sum(BookLoan.outstanding),
        func.sum(case((held, 1), else_=0)),
        when_held(BookLoan.principal_in_term),
        when_held(BookLoan.principal_overdue),
        when_held(BookLoan.interest_receivable),
        when_held(BookLoan.specific_provision),
    ).group_by(*keys)


def check() -> list[str]:
    """Where ``book_loans`` differs from the loans and ``book_totals`` from ``book_loans``:
    one line per loan or key (at most 20 of each), empty when both are exact."""
    problems: list[str] = []
    source = _source(None).subquery("source")
    kept = BookLoan.__table__
    loan_id = func.coalesce(source.c.loan_id, kept.c.loan_id)
    mismatched = (
        select(loan_id)
        .select_from(source.outerjoin(kept, kept.c.loan_id == source.c.loan_id, full=True))
        .where(
            or_(
                source.c.loan_id.is_(None),
                kept.c.loan_id.is_(None),
                *(source.c[c].is_distinct_from(kept.c[c]) for c in ROW_COLUMNS[1:]),
            )
        )
        .order_by(loan_id)
        .limit(20)
    )
    problems += [
        f"book_loans: loan {i} differs from the loan" for (i,) in db.session.execute(mismatched)
    ]
    expected = {
        tuple(r[: len(KEYS)]): tuple(int(v) for v in r[len(KEYS) :])
        for r in db.session.execute(_grouped())
    }
    stored = {
        tuple(r[: len(KEYS)]): tuple(int(v) for v in r[len(KEYS) :])
        for r in db.session.execute(select(*(BookTotal.__table__.c[c] for c in (*KEYS, *SUMS))))
    }
    zero = (0,) * len(SUMS)
    wrong = sorted(
        k for k in expected.keys() | stored.keys() if expected.get(k, zero) != stored.get(k, zero)
    )
    problems += [
        f"book_totals: {dict(zip(KEYS, k, strict=True))} differs from book_loans"
        for k in wrong[:20]
    ]
    expected_held = {(c, o): int(n) for c, o, n in db.session.execute(_held_per_borrower())}
    stored_held = {
        (c, o): int(n)
        for c, o, n in db.session.execute(
            select(
                BookBorrower.cooperative_id, BookBorrower.origin_fund_id, BookBorrower.held_loans
            )
        )
    }
    wrong_held = sorted(
        k
        for k in expected_held.keys() | stored_held.keys()
        if expected_held.get(k, 0) != stored_held.get(k, 0)
    )
    problems += [
        f"book_borrowers: cooperative {c} (origin {o}) holds {stored_held.get((c, o), 0)} "
        f"loans, not {expected_held.get((c, o), 0)}"
        for c, o in wrong_held[:20]
    ]
    return problems


def sweep() -> None:
    """Delete the totals left at zero by loans that moved to another key (the "approved"
    row once its loans are paid out): readers skip them; the close of day sweeps them so
    the table keeps the size of the combinations in use."""
    db.session.execute(delete(BookTotal).where(*(BookTotal.__table__.c[n] == 0 for n in SUMS)))


def check_totals(result: Any) -> None:
    """``flask fund check``: the kept totals equal the loans."""
    result.checked.append("the whole-book totals = the loans, their balances and instalments")
    # Within a transaction that changed loans (a check before the commit), their rows are
    # what the commit would write.
    _before_commit(db.session())
    for problem in check():
        result.fail(problem)


# --- reading ---------------------------------------------------------------------------------


def totals(by: tuple[str, ...], origin: Any = None) -> list[dict[str, Any]]:
    """``book_totals`` summed per combination of ``by`` (of ``KEYS``), NULL dimensions
    restored: one dict per combination with something in it, ``by``'s values and
    ``SUMS``. Of one origin fund's book when ``origin`` (a ``funds.services.OriginFilter``)
    names one."""
    table = BookTotal.__table__
    keys = [table.c[name] for name in by]
    query = select(*keys, *(func.sum(table.c[name]).label(name) for name in SUMS))
    if origin is not None:
        query = origin.apply(query, func.nullif(table.c.origin_fund_id, NONE_ID))
    if keys:
        query = query.group_by(*keys)
    rows = []
    for r in db.session.execute(query).mappings():
        sums = {name: int(r[name] or 0) for name in SUMS}
        if any(sums.values()):
            rows.append({**{name: _restored(name, r[name]) for name in by}, **sums})
    return rows


def late_totals(as_of: date) -> list[tuple[str, str | None, int | None, int, int, int]]:
    """(status, former district, officer, loans, amount, outstanding) of the loans with an
    instalment due before ``as_of`` still owed (the loan list's "overdue" filter)."""
    district = BookLoan.former_district_code
    query = (
        select(
            BookLoan.status,
            district,
            BookLoan.officer_id,
            func.count(),
            func.sum(BookLoan.amount),
            func.sum(BookLoan.outstanding),
        )
        .where(BookLoan.oldest_due < as_of)
        .group_by(BookLoan.status, district, BookLoan.officer_id)
    )
    return [
        (
            status,
            None if code == NONE_CODE else code,
            None if officer == NONE_ID else officer,
            int(n),
            int(amount),
            int(outstanding),
        )
        for status, code, officer, n, amount, outstanding in db.session.execute(query)
    ]


def borrowers(origin: Any = None) -> int:
    """How many borrowers have principal outstanding on at least one loan (of one origin
    fund's loans when ``origin`` names one)."""
    query = select(func.count(BookBorrower.cooperative_id.distinct())).where(
        BookBorrower.held_loans > 0
    )
    if origin is not None:
        query = origin.apply(query, func.nullif(BookBorrower.origin_fund_id, NONE_ID))
    return int(db.session.scalar(query) or 0)


def borrowers_by(by: tuple[str, ...], origin: Any = None) -> dict[tuple, int]:
    """The borrowers with principal outstanding per combination of ``by`` (of ``KEYS``)."""
    columns = [BookLoan.__table__.c[name] for name in by]
    query = (
        select(*columns, func.count(BookLoan.cooperative_id.distinct()))
        .where(BookLoan.principal_in_term + BookLoan.principal_overdue > 0)
        .group_by(*columns)
    )
    if origin is not None:
        query = origin.apply(query, func.nullif(BookLoan.origin_fund_id, NONE_ID))
    return {
        tuple(_restored(name, value) for name, value in zip(by, row[:-1], strict=True)): int(
            row[-1]
        )
        for row in db.session.execute(query)
    }


def _restored(name: str, value: Any) -> Any:
    """A key column's value with NULL restored."""
    if name == "former_district_code":
        return None if value == NONE_CODE else value
    if name in {"origin_fund_id", "officer_id", "commune_unit_id"}:
        return None if value == NONE_ID else value
    return value


# --- keeping them current --------------------------------------------------------------------

_WATCHED_LOAN = {
    "cooperative_id",
    "origin_fund_id",
    "status",
    "officer_id",
    "debt_group",
    "amount",
    "principal_outstanding",
}
_WATCHED_COOPERATIVE = {"commune_unit_id", "former_district_code"}
_COOPERATIVES = "touched_cooperatives"


def pending() -> bool:
    """Whether this transaction changed loans whose rows are not refreshed yet (until it
    commits, the totals are those of the book before it)."""
    info = db.session.info
    return bool(info.get(TOUCHED_LOANS) or info.get(TOUCHED_BALANCES) or info.get(_COOPERATIVES))


def _noted(session: Session, flush_context: Any) -> None:
    """After a flush: the loans the session changed (new, or a counted column, or an
    instalment: then their schedule), and the borrowers whose area changed, are noted for
    the commit."""
    schedules = session.info.setdefault(TOUCHED_LOANS, set())
    loans = session.info.setdefault(TOUCHED_BALANCES, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Loan):
            if obj in session.new or obj in session.deleted or _changed(obj, _WATCHED_LOAN):
                loans.add(obj.id)
        elif isinstance(obj, Instalment):
            schedules.add(obj.loan_id)
        elif (
            isinstance(obj, Cooperative)
            and obj not in session.new
            and _changed(obj, _WATCHED_COOPERATIVE)
        ):
            session.info.setdefault(_COOPERATIVES, set()).add(obj.id)


def _changed(obj: Any, names: set[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _before_commit(session: Session) -> None:
    """Refresh the noted loans' rows before the transaction commits (and again if that
    refresh itself flushed changes)."""
    for _ in range(5):
        session.flush()
        cooperatives = session.info.pop(_COOPERATIVES, set())
        schedules = session.info.pop(TOUCHED_LOANS, set())
        loans = session.info.pop(TOUCHED_BALANCES, set()) | schedules
        if cooperatives:
            loans |= set(
                session.scalars(select(Loan.id).where(Loan.cooperative_id.in_(cooperatives)))
            )
        if not loans:
            return
        if session is not db.session():  # pragma: no cover - the app uses one scoped session
            return
        refresh(loans, schedules)


def _forget(session: Session, transaction: Any) -> None:
    """A transaction rolled back leaves nothing to refresh."""
    if transaction.parent is None:
        for key in (TOUCHED_LOANS, TOUCHED_BALANCES, _COOPERATIVES):
            session.info.pop(key, None)


def install() -> None:
    """Listen to every session: see the module's docstring."""
    listen_to_sessions(
        after_flush=_noted, before_commit=_before_commit, after_soft_rollback=_forget
    )
