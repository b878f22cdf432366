"""Timing the close of day on a generated portfolio, and checking the portfolio first."""

from __future__ import annotations

import cProfile
import io
import pstats
import random
import signal
import statistics
import time
import traceback
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.portfolio import Portfolio, log

_ROOT = str(Path(__file__).resolve().parent.parent)


class RunTimeout(Exception):
    """A close-of-day run went past the benchmark's time limit (it is rolled back)."""


@dataclass
class Run:
    business_date: date
    kind: str  # first | steady
    seconds: float | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    ran: bool = False
    error: str = ""  # "timeout" or the exception's last line
    traceback: str = ""
    payments_before: int = 0  # repayments recorded (untimed) for the day before this run
    payments_s: float = 0.0


@dataclass
class SizeResult:
    loans: int
    generation: dict[str, float]
    counts: dict[str, int]
    behaviours: dict[str, int]
    vacuum_s: float = 0.0
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the generated book is wrong
    warnings: list[str] = field(default_factory=list)  # inconsistencies seen after runs
    runs: list[Run] = field(default_factory=list)

    @property
    def first(self) -> Run | None:
        return next((r for r in self.runs if r.kind == "first"), None)

    @property
    def steady(self) -> list[Run]:
        return [r for r in self.runs if r.kind == "steady"]

    @property
    def steady_median(self) -> float | None:
        times = [r.seconds for r in self.steady if r.ran and r.seconds is not None]
        if not times or len(times) < len(self.steady):
            return None
        return statistics.median(times)


def vacuum_analyze() -> float:
    from fundapp.extensions import db

    db.session.remove()
    started = time.perf_counter()
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


# --- checks ------------------------------------------------------------------------------


def check_portfolio(portfolio: Portfolio, sample: int = 150, full: bool = False) -> SizeResult:
    """The `flask fund check` invariants on the generated book, in SQL, plus a replay of a
    sample of loans compared with what was stored; ``full`` runs the app's own
    ``check_invariants`` too (it replays every loan: minutes at 100 000)."""
    from fundapp.extensions import db

    result = SizeResult(
        portfolio.loans, dict(portfolio.timings), dict(portfolio.counts), portfolio.behaviours
    )

    def scalar(sql: str) -> int:
        return int(db.session.scalar(text(sql)) or 0)

    checks = {
        "ledger balanced (debits = credits)": (
            "SELECT COUNT(*) FROM (SELECT SUM(debit) - SUM(credit) AS d FROM journal_lines) x "
            "WHERE d <> 0"
        ),
        "every entry balanced": (
            "SELECT COUNT(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id "
            "HAVING SUM(debit) <> SUM(credit)) x"
        ),
        "outstanding = disbursed - principal repaid": (
            "SELECT COUNT(*) FROM loans WHERE principal_outstanding <> disbursed - principal_paid"
        ),
        "sum of scheduled principal = disbursed; outstanding = unpaid scheduled principal": (
            "SELECT COUNT(*) FROM loans l JOIN (SELECT loan_id, SUM(principal) AS p, "
            "SUM(principal - principal_paid) AS u FROM instalments GROUP BY loan_id) i "
            "ON i.loan_id = l.id WHERE i.p <> l.disbursed OR i.u <> l.principal_outstanding"
        ),
        "outstanding = ledger balance of the loan (2111 + 2112)": (
            "SELECT COUNT(*) FROM loans l LEFT JOIN (SELECT loan_id, SUM(debit - credit) AS b "
            "FROM journal_lines WHERE account IN ('2111', '2112') GROUP BY loan_id) j "
            "ON j.loan_id = l.id WHERE COALESCE(j.b, 0) <> l.principal_outstanding"
        ),
        "repayments = principal + interest + overdue interest repaid": (
            "SELECT COUNT(*) FROM loans l LEFT JOIN (SELECT loan_id, SUM(amount) AS a "
            "FROM repayments GROUP BY loan_id) r ON r.loan_id = l.id "
            "WHERE COALESCE(r.a, 0) <> l.principal_paid + l.interest_paid + l.penalty_paid"
        ),
        "cash = capital - disbursed + repaid, and positive": (
            "SELECT COUNT(*) FROM (SELECT SUM(debit - credit) AS c FROM journal_lines "
            "WHERE account = '1121') x WHERE c <> (SELECT SUM(amount) FROM capital_entries) "
            "- (SELECT SUM(disbursed) FROM loans) + (SELECT COALESCE(SUM(amount), 0) "
            "FROM repayments) OR c <= 0"
        ),
    }
    if "loan_balances" in db.metadata.tables:
        checks["per-loan running balances = the loan's journal lines"] = (
            "SELECT COUNT(*) FROM (SELECT loan_id, account, SUM(debit - credit) AS s "
            "FROM journal_lines WHERE loan_id IS NOT NULL GROUP BY loan_id, account) j "
            "FULL JOIN loan_balances b USING (loan_id, account) "
            "WHERE COALESCE(j.s, 0) <> COALESCE(b.balance, 0)"
        )
    for name, sql in checks.items():
        bad = scalar(sql)
        result.checks.append(name)
        if bad:
            result.problems.append(f"{name}: {bad} failing")

    result.checks.append(f"replay of {sample} random loans = stored schedule and allocations")
    result.problems.extend(_replay_sample(portfolio, sample))
    if full:
        from fundapp.ledger.services import check_invariants

        started = time.perf_counter()
        check = check_invariants()
        result.checks.append(f"flask fund check ({time.perf_counter() - started:.0f} s)")
        result.problems.extend(check.problems[:20])
    db.session.rollback()
    return result


def _replay_sample(portfolio: Portfolio, sample: int) -> list[str]:
    rng = random.Random(7)
    ids = rng.sample(range(1, portfolio.loans + 1), min(sample, portfolio.loans))
    return compare_with_replay(ids, None)


def compare_with_replay(loan_ids: list[int], book_date: date | None) -> list[str]:
    """Each loan's stored schedule, allocations and cached balances against the app's replay
    of its history, and its ledger position against ``domain.posting.targets`` as of ``book_date``
    (the last closed date; None before any close of day)."""
    from sqlalchemy import select

    from fundapp.domain import posting as rule
    from fundapp.extensions import db
    from fundapp.loans import posting, store
    from fundapp.loans.models import Instalment, Loan, Repayment

    problems = []
    for loan_id in loan_ids:
        loan = db.session.get(Loan, loan_id)
        state = store.replay(loan)
        stored = db.session.scalars(select(Instalment).where(Instalment.loan_id == loan_id))
        want = {
            r.no: (
                r.due_date, r.plan.principal, r.plan.interest,
                r.plan.principal - r.principal_unpaid, r.plan.interest - r.interest_unpaid,
                r.penalty_paid,
            )
            for r in state.rows
        }  # fmt: skip
        have = {
            i.no: (i.due_date, i.principal, i.interest, i.principal_paid, i.interest_paid,
                   i.penalty_paid)
            for i in stored
        }  # fmt: skip
        if want != have:
            problems.append(f"loan {loan_id}: stored schedule differs from its replay")
        if (
            state.principal_outstanding != loan.principal_outstanding
            or state.principal_paid != loan.principal_paid
            or state.interest_paid != loan.interest_paid
            or state.penalty_paid != loan.penalty_paid
            or (state.maturity and state.maturity != loan.maturity_date)
        ):
            problems.append(f"loan {loan_id}: cached balances differ from its replay")
        for rep in db.session.scalars(select(Repayment).where(Repayment.loan_id == loan_id)):
            got = state.repayments[rep.id]
            alloc = [
                {"no": a.no, "component": a.component, "amount": a.amount} for a in got.allocations
            ]
            if alloc != rep.allocations:
                problems.append(f"loan {loan_id}: repayment {rep.id} allocation differs")
                break
        want_ledger = rule.targets(state, book_date, loan.debt_group, bool(loan.written_off))
        have_ledger = posting.ledger_position(loan_id)
        off = {
            a: (have_ledger.get(a, 0), v)
            for a, v in want_ledger.items()
            if have_ledger.get(a, 0) != v
        }
        if off:
            problems.append(f"loan {loan_id}: ledger (have, want) {off}")
    db.session.rollback()
    return problems[:20]


# --- the day's payments between runs (untimed) --------------------------------------------


def record_days_payments(portfolio: Portfolio, day: date) -> tuple[int, float, list[str]]:
    """What the borrowers pay on ``day`` (after the close of ``day``, before the next one):
    on-time payers their instalment due that day in full, partial payers their share of it,
    stopped payers nothing.

    Partial payers go through the app's ``record_repayment``. On-time payers owe nothing
    else, so their repayment is written in bulk with exactly what that service would store
    and post (the repayment and its allocation, the instalment paid, the loan's cached
    balances, one entry Dr 1121 / Cr 2111 principal, Cr 7021 interest, the running
    balances, and the reversal of the interest accrued for the period the payment bills:
    see :func:`_accrual_reversal`); a sample of them is then compared with the app's replay
    and ledger targets. The problems found are returned.
    """
    from fundapp.auth.models import User
    from fundapp.extensions import db
    from fundapp.repayments.services import record_repayment

    started = time.perf_counter()
    on_time: dict[int, tuple[int, int, int]] = {}  # template -> (no, principal, interest)
    partial: dict[int, int] = {}  # template -> amount
    for index, tpl in enumerate(portfolio.templates):
        if tpl.spec.behaviour == "stopped":
            continue
        for row in tpl.rows:
            if row.due_date == day:
                if tpl.spec.behaviour == "on_time":
                    if row.principal + row.interest > 0:
                        on_time[index] = (row.no, row.principal, row.interest)
                else:
                    amount = (row.principal + row.interest) * tpl.spec.percent // 100
                    if amount // 1000:
                        partial[index] = amount // 1000 * 1000
                break
    bulk_rows = []
    service_rows = []
    for position, index in enumerate(portfolio.loan_template):
        if index in on_time:
            bulk_rows.append((position + 1, *on_time[index]))
        elif index in partial:
            service_rows.append((position + 1, partial[index]))

    if bulk_rows:
        _bulk_on_time_payments(portfolio, day, bulk_rows)
        db.session.commit()
    actor = db.session.get(User, portfolio.accountant_id)
    for n, (loan_id, amount) in enumerate(service_rows, 1):
        record_repayment(actor, loan_id, {"amount": amount, "date": day}, day)
        if n % 200 == 0:
            db.session.commit()
    db.session.commit()
    elapsed = time.perf_counter() - started
    rng = random.Random(day.toordinal())
    sample = [r[0] for r in rng.sample(bulk_rows, min(40, len(bulk_rows)))]
    sample += [r[0] for r in service_rows[:5]]
    problems = compare_with_replay(sample, day)
    return len(bulk_rows) + len(service_rows), elapsed, problems


def _bulk_on_time_payments(
    portfolio: Portfolio, day: date, rows: list[tuple[int, int, int, int]]
) -> None:
    from benchmarks import bulk
    from fundapp.domain.dates import utcnow
    from fundapp.extensions import db
    from fundapp.loans.models import Counter

    tables = db.metadata.tables
    dialect = db.engine.dialect
    connection = db.session.connection()
    loan_ids = [r[0] for r in rows]
    info = dict(
        (loan_id, (contract, coop))
        for loan_id, contract, coop in db.session.execute(
            text("SELECT id, contract_no, cooperative_id FROM loans WHERE id = ANY(:ids)"),
            {"ids": loan_ids},
        )
    )
    entry_ids = list(
        db.session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence('journal_entries', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": len(rows)},
        )
    )
    series = f"PT-{day.year}"
    counter = db.session.get(Counter, series, with_for_update=True)
    if counter is None:
        counter = Counter(series=series, value=0)
        db.session.add(counter)
    first_no = counter.value + 1
    counter.value += len(rows)
    db.session.flush()

    now = utcnow()
    entry_t = bulk.CopyTable(
        tables["journal_entries"],
        ["id", "entry_date", "kind", "reference", "description", "created_by_id", "created_at"],
        dialect,
    )
    line_t = bulk.CopyTable(
        tables["journal_lines"],
        ["entry_id", "cooperative_id", "loan_id", "account", "debit", "credit", "source_name"],
        dialect,
    )
    rep_t = bulk.CopyTable(
        tables["repayments"],
        [
            "loan_id", "amount", "value_date", "method", "reference", "receipt_no",
            "recorded_by_id", "reversed", "allocations", "prepaid_principal", "journal_entry_id",
            "created_at",
        ],
        dialect,
    )  # fmt: skip
    held = _accruals_held(loan_ids, tables) if any(r[3] for r in rows) else {}
    entries, lines, repayments = [], [], []
    moves: list[tuple[int, str, int]] = []  # (loan, account, debit − credit)
    for k, (loan_id, no, principal, interest) in enumerate(rows):
        entry_id = entry_ids[k]
        receipt = f"{series}-{first_no + k:06d}"
        contract, coop = info[loan_id]
        amount = principal + interest
        entries.append(
            entry_t.line(
                (entry_id, day, "repayment", receipt, f"Thu nợ {contract}",
                 portfolio.accountant_id, now)
            )
        )  # fmt: skip
        legs = [("1121", amount), ("2111", -principal), ("7021", -interest)]
        if interest:
            legs = _accrual_reversal(legs, held.get(loan_id, {}))
        for account, signed in legs:
            if signed:
                debit, credit = max(signed, 0), max(-signed, 0)
                lines.append(line_t.line((entry_id, coop, loan_id, account, debit, credit, "")))
                moves.append((loan_id, account, signed))
        allocations = [
            {"no": no, "component": component, "amount": value}
            for component, value in (("interest", interest), ("principal", principal))
            if value
        ]
        repayments.append(
            rep_t.line(
                (loan_id, amount, day, "bank", "", receipt, portfolio.accountant_id, False,
                 allocations, 0, entry_id, now)
            )
        )  # fmt: skip
    bulk.copy_lines(connection, entry_t, entries)
    bulk.copy_lines(connection, line_t, lines)
    bulk.copy_lines(connection, rep_t, repayments)
    params = {
        "ids": loan_ids,
        "nos": [r[1] for r in rows],
        "ps": [r[2] for r in rows],
        "is": [r[3] for r in rows],
        "day": day,
    }
    db.session.execute(
        text(
            "UPDATE instalments i SET principal_paid = i.principal, interest_paid = i.interest, "
            "paid_on = :day FROM (SELECT unnest(CAST(:ids AS bigint[])) AS loan_id, "
            "unnest(CAST(:nos AS int[])) AS no) t WHERE i.loan_id = t.loan_id AND i.no = t.no"
        ),
        params,
    )
    db.session.execute(
        text(
            "UPDATE loans l SET principal_paid = l.principal_paid + t.p, "
            "interest_paid = l.interest_paid + t.i, "
            "principal_outstanding = l.principal_outstanding - t.p, reclassify = true "
            "FROM (SELECT unnest(CAST(:ids AS bigint[])) AS id, "
            "unnest(CAST(:ps AS bigint[])) AS p, unnest(CAST(:is AS bigint[])) AS i) t "
            "WHERE l.id = t.id"
        ),
        params,
    )
    if "loan_balances" in tables:
        db.session.execute(
            text(
                "INSERT INTO loan_balances (loan_id, account, balance) "
                "SELECT unnest(CAST(:ids AS bigint[])), unnest(CAST(:accounts AS varchar[])), "
                "unnest(CAST(:amounts AS bigint[])) "
                "ON CONFLICT (loan_id, account) DO UPDATE "
                "SET balance = loan_balances.balance + excluded.balance"
            ),
            {
                "ids": [m[0] for m in moves],
                "accounts": [m[1] for m in moves],
                "amounts": [m[2] for m in moves],
            },
        )
    # The totals a posting keeps, when the schema has them: these lines were not posted.
    if "ledger_day_totals" in tables:
        from fundapp.ledger.services import rebuild_day_totals  # only in a schema that has it

        rebuild_day_totals()
    if "book_loans" in tables:
        from fundapp.core.db import touch_loans  # only in a schema that has the totals

        touch_loans(loan_ids)  # their rows are refreshed when the day's payments commit


def _accruals_held(loan_ids: list[int], tables: Any) -> dict[int, dict[str, int]]:
    """Per loan, what it holds on the accounts of accrued interest: on balance (3942) and,
    outside group 1, off balance (9412 against 9999). Empty when the code has no accrual."""
    # The harness loads the app only when it runs (see benchmarks.__main__).
    from fundapp.domain import accounts as acc
    from fundapp.extensions import db

    if not hasattr(acc, "ACCRUED_INTEREST"):
        return {}  # an older commit's code (--compare), before accrued interest
    codes = [
        getattr(acc, name)
        for name in ("ACCRUED_INTEREST", "SUSPENDED_INTEREST_MEMO", "MEMO_CONTRA")
        if hasattr(acc, name)
    ]
    if "loan_balances" in tables:
        sql = (
            "SELECT loan_id, account, balance FROM loan_balances "
            "WHERE loan_id = ANY(:ids) AND account = ANY(:codes) AND balance <> 0"
        )
    else:
        sql = (
            "SELECT loan_id, account, SUM(debit - credit) FROM journal_lines "
            "WHERE loan_id = ANY(:ids) AND account = ANY(:codes) GROUP BY 1, 2"
        )
    held: dict[int, dict[str, int]] = {}
    for loan_id, account, balance in db.session.execute(
        text(sql), {"ids": loan_ids, "codes": codes}
    ):
        if balance:
            held.setdefault(int(loan_id), {})[account] = int(balance)
    return held


def _accrual_reversal(legs: list[tuple[str, int]], held: dict[str, int]) -> list[tuple[str, int]]:
    """The payment of an on-time payer's instalment bills its period's interest, so the
    accrual of that period is reversed in the same entry (servicing/accrual.py): what the
    loan holds on 3942 moves from it to the interest income, and the off-balance pair
    (9412 / 9999) of a loan outside group 1 goes to zero. An on-time payer owes nothing
    else, so after its payment nothing remains accrued (``domain.posting.targets_from``).
    ``legs``: (account, debit − credit)."""
    from fundapp.domain import accounts as acc  # loaded when it runs, as above

    out = list(legs)
    accrued = held.get(acc.ACCRUED_INTEREST, 0)
    if accrued:
        out = [(a, v + accrued) if a == acc.INTEREST_INCOME else (a, v) for a, v in out] + [
            (acc.ACCRUED_INTEREST, -accrued)
        ]
    # Older code (--compare) may have the accrual without the off-balance pair.
    memo_code = getattr(acc, "SUSPENDED_INTEREST_MEMO", None)
    contra_code = getattr(acc, "MEMO_CONTRA", None)
    memo = held.get(memo_code, 0) if memo_code else 0
    if memo and contra_code and held.get(contra_code, 0) == -memo:  # a balanced pair only
        out += [(memo_code, -memo), (contra_code, memo)]
    return out


# --- timing --------------------------------------------------------------------------------


def short_traceback(exc: BaseException) -> str:
    """The app's frames (no library frames) and the error's first line, for the report."""
    frames = [
        f'  File "{f.filename}", line {f.lineno}, in {f.name}\n    {(f.line or "").strip()}'
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename.startswith(_ROOT) and "/.venv/" not in f.filename
    ]
    message = str(exc).splitlines()[0][:400] if str(exc) else ""
    return "\n".join(
        ["Traceback (most recent call last; only this project's frames):", *frames,
         f"{type(exc).__module__}.{type(exc).__name__}: {message}"]
    )  # fmt: skip


def _alarm(_signum: int, _frame: Any) -> None:
    raise RunTimeout


def timed_close_day(day: date, kind: str, timeout_s: int, profile: Path | None = None) -> Run:
    """``run_close_day(day, "bench")`` and the commit, timed; rolled back past ``timeout_s``.
    With ``profile`` (a directory) the run is profiled and its pstats written there."""
    from fundapp.extensions import db
    from fundapp.servicing.close_day import run_close_day

    run = Run(day, kind)
    profiler = cProfile.Profile() if profile is not None else None
    db.session.remove()
    # A statement the alarm cannot interrupt is stopped by the server (this transaction only).
    db.session.execute(text(f"SET LOCAL statement_timeout = {int(timeout_s * 1000)}"))
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout_s)
    started = time.perf_counter()
    try:
        if profiler is not None:
            profiler.enable()
        result = run_close_day(day, "bench")
        db.session.commit()
        run.seconds = time.perf_counter() - started
        signal.alarm(0)
        run.ran = bool(result.ran)
        run.counts = dict(result.counts or {})
        if not result.ran:
            run.error = f"not run: {result.reason}"
    except RunTimeout:
        run.seconds = time.perf_counter() - started
        run.error = f"timeout: stopped and rolled back after {timeout_s} s"
    except Exception as exc:
        signal.alarm(0)
        run.seconds = time.perf_counter() - started
        if "statement timeout" in str(exc):
            run.error = f"timeout: a statement passed {timeout_s} s; rolled back"
        else:
            run.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
            run.traceback = short_traceback(exc)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        if profiler is not None and profile is not None:
            profiler.disable()
            _dump_profile(profiler, profile / f"close_day-{kind}-{day}.pstats")
    if run.error.startswith("timeout"):
        # The alarm may have struck mid-command: drop the connection (the server rolls
        # the transaction back) rather than reuse it.
        db.session().invalidate()
    elif not run.ran:
        db.session.rollback()
    db.session.remove()
    return run


def _dump_profile(profiler: cProfile.Profile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(str(path))
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"fundapp|sqlalchemy/orm/session|psycopg", 30)
    log(f"profile written to {path}; top of it by cumulative time:\n{out.getvalue()}")


def time_runs(
    result: SizeResult,
    portfolio: Portfolio,
    business_date: date,
    steady_days: int,
    timeout_s: int,
    payments: bool,
    profile: Path | None = None,
    first_timeout_s: int | None = None,
) -> None:
    """The first run on the fresh book, then ``steady_days`` daily runs after it; between
    runs (untimed) the day's repayments are recorded when ``payments``."""
    if profile is not None:
        profile = profile / f"{portfolio.loans}"
    run = timed_close_day(business_date, "first", first_timeout_s or timeout_s, profile)
    result.runs.append(run)
    log(_describe(portfolio.loans, run))
    if not run.ran:
        return
    for n in range(1, steady_days + 1):
        day = business_date + timedelta(days=n)
        paid_on = day - timedelta(days=1)
        paid, paid_s = (0, 0.0)
        if payments:
            try:
                paid, paid_s, problems = record_days_payments(portfolio, paid_on)
            except Exception as exc:
                from fundapp.extensions import db

                db.session.rollback()
                message = f"recording the repayments of {paid_on} failed: {exc!r}"[:500]
                log(message)
                result.warnings.append(message + "; later runs without repayments")
                payments = False
            else:
                log(f"{paid:,} repayments of {paid_on} recorded in {paid_s:.1f} s")
                result.warnings.extend(f"after the repayments of {paid_on}: {p}" for p in problems)
        run = timed_close_day(day, "steady", timeout_s, profile)
        run.payments_before, run.payments_s = paid, paid_s
        result.runs.append(run)
        log(_describe(portfolio.loans, run))
        if not run.ran:
            return


def _describe(loans: int, run: Run) -> str:
    what = "first run" if run.kind == "first" else "steady-state run"
    if run.ran:
        examined = run.counts.get("loans_examined", "?")
        return (
            f"{loans:,} loans, {what} {run.business_date}: {run.seconds:.2f} s, "
            f"loans examined {examined}, counts {run.counts}"
        )
    return f"{loans:,} loans, {what} {run.business_date}: NOT MEASURED ({run.error})"
