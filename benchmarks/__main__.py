"""``python -m benchmarks``: close of day on generated portfolios, then the fund balance report
and a long loan statement as PDF, then the web app and the API under HTTP load on the
largest book (see docs/benchmarks.md); with ``--compare REV`` each size is first run with
the code of REV, and the report sets the two side by side.

Needs ``FUNDAPP_TEST_DATABASE_URL`` pointing at a PostgreSQL database it may wipe;
``make bench`` runs it under ``scripts/pg-test.sh``, which starts a throwaway server.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.compare import Rev
    from benchmarks.documents import DocumentResult
    from benchmarks.http import HttpResult
    from benchmarks.runner import SizeResult

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DOC = ROOT / "docs" / "benchmarks.md"
DOCUMENT_RUNS = 5  # timed renders of each PDF after its warm-up


def _sizes(raw: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("sizes are whole numbers, e.g. 10000,100000") from None
    if not sizes or any(s < 10 for s in sizes):
        raise argparse.ArgumentTypeError("each size must be at least 10 loans")
    return sizes


def _positive(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError("a whole number, e.g. 30") from None
    if value < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return value


def _count(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError("a whole number, e.g. 4") from None
    if value < 0:
        raise argparse.ArgumentTypeError("0 or more")
    return value


def _client_counts(raw: str) -> tuple[int, ...]:
    return tuple(_positive(part.strip()) for part in raw.split(",") if part.strip())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time the close of day on generated loan portfolios in PostgreSQL.",
    )
    parser.add_argument(
        "--sizes", type=_sizes, default=[10_000, 100_000],
        help="portfolio sizes in loans, comma-separated (default 10000,100000)",
    )  # fmt: skip
    parser.add_argument(
        "--date", type=date.fromisoformat, default=date(2026, 11, 20),
        help="business date of the first run (default 2026-11-20)",
    )  # fmt: skip
    parser.add_argument(
        "--steady-days", type=int, default=3,
        help="daily runs after the first one; their median is the steady state (default 3)",
    )  # fmt: skip
    parser.add_argument(
        "--run-timeout", type=int, default=600,
        help="seconds after which one close-of-day run is stopped and rolled back (default 600)",
    )  # fmt: skip
    parser.add_argument(
        "--first-run-timeout", type=int, default=3600,
        help="the same limit for the first run only, which classifies the whole book "
        "(default 3600)",
    )  # fmt: skip
    parser.add_argument(
        "--no-payments", action="store_true",
        help="do not record the day's repayments between runs (on-time instalments then "
        "fall overdue)",
    )  # fmt: skip
    parser.add_argument("--templates", type=int, default=None, help="number of loan templates")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1,
        help="processes replaying the templates (default: all cores)",
    )  # fmt: skip
    parser.add_argument(
        "--full-check", action="store_true",
        help="also run the app's check_invariants on each generated book (replays every loan)",
    )  # fmt: skip
    parser.add_argument(
        "--output", "--doc", dest="doc", type=Path, default=DEFAULT_DOC, metavar="PATH",
        help=f"results file (default {DEFAULT_DOC.relative_to(ROOT)}); it is rewritten, its "
        "history kept",
    )  # fmt: skip
    parser.add_argument("--no-doc", action="store_true", help="do not write the results file")
    parser.add_argument(
        "--compare", metavar="REV", default=None,
        help="also run every size with the code of the commit REV (e.g. 1d3b21f), before "
        "this code's run of it, on a book generated the same way by REV's own code; the "
        "report puts REV's figures beside this code's",
    )  # fmt: skip
    # Set by --compare for its child runs: their results go there as JSON.
    parser.add_argument("--part-json", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--documents", action=argparse.BooleanOptionalAction, default=True,
        help="time the fund balance report PDF at 10 000 loans and the statement PDF of a "
        "60-instalment loan, on the 10 000-loan book when it is among the sizes, else on "
        "one generated for them (default: on)",
    )  # fmt: skip
    parser.add_argument(
        "--http", action=argparse.BooleanOptionalAction, default=True,
        help="after the close of day of the largest size, serve that book with gunicorn "
        "(2 workers) on 127.0.0.1 and time pages under load (Locust from .venv-bench) and "
        "concurrent API repayments, then run `flask fund check` (default: on)",
    )  # fmt: skip
    parser.add_argument(
        "--http-duration", type=_positive, default=30, metavar="SECONDS",
        help="measured seconds of each page scenario, after a 5 s warm-up (default 30)",
    )  # fmt: skip
    parser.add_argument(
        "--http-clients", type=_positive, default=8, metavar="N",
        help="concurrent API clients posting repayments (default 8)",
    )  # fmt: skip
    parser.add_argument(
        "--http-page-clients", type=_client_counts, default=(2, 8), metavar="N[,N…]",
        help="concurrent clients of each page scenario, one run per count (default 2,8: one "
        "client per gunicorn worker, i.e. a page's own latency, then the queue behind 8)",
    )  # fmt: skip
    parser.add_argument(
        "--mixed-readers", type=_count, default=4, metavar="N",
        help="signed-in users reading the dashboard and the loan list in the mixed run "
        "(default 4; 0 skips the mixed run)",
    )  # fmt: skip
    parser.add_argument(
        "--mixed-writers", type=_count, default=4, metavar="N",
        help="API clients posting repayments on distinct loans meanwhile (default 4)",
    )  # fmt: skip
    parser.add_argument(
        "--profile", type=Path, default=None, metavar="DIR",
        help="profile each close-of-day run (cProfile) into DIR; implies --no-doc, since "
        "the profiler slows the runs down",
    )  # fmt: skip
    return parser.parse_args(argv)


@dataclass
class _Sitting:
    """What this code measured, size after size."""

    results: list[SizeResult] = field(default_factory=list)
    documents: list[DocumentResult] = field(default_factory=list)
    http: HttpResult | None = None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = os.environ.get("FUNDAPP_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print(
            "benchmarks: FUNDAPP_TEST_DATABASE_URL must name a PostgreSQL database the "
            "benchmark may wipe; run `make bench` (scripts/pg-test.sh starts one).",
            file=sys.stderr,
        )
        return 2

    # Here, not at the top: --help and a missing database answer without loading the app.
    from sqlalchemy import text

    import fundapp
    from benchmarks import compare, report
    from benchmarks.portfolio import log
    from config import TestingConfig
    from fundapp.app import create_app
    from fundapp.extensions import db

    last_day = args.date + timedelta(days=args.steady_days)

    class BenchConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        FUNDAPP_BUSINESS_DATE = last_day.isoformat()
        SERVER_NAME = None
        MAIL_BACKEND = "log"

    rev: Rev | None = None
    if args.compare:
        try:
            rev = compare.prepare(args.compare, log)
        except (ValueError, OSError, subprocess.SubprocessError) as exc:
            print(f"benchmarks: --compare {args.compare}: {exc}", file=sys.stderr)
            return 2
    app = create_app(BenchConfig)
    started = datetime.now()
    wall = time.perf_counter()
    sitting = _Sitting()
    try:
        with app.app_context():
            version = db.session.scalar(text("SELECT version()")) or "PostgreSQL"
            db.session.rollback()
            mach = report.machine(version.split(",")[0])
            if rev is not None:
                mach.compared = rev.label
            for line in mach.lines():
                log(line)
            for size in args.sizes:
                if rev is not None:
                    # REV's run drops and rebuilds the schema: no connection of ours may
                    # hold a lock on it, nor keep statements prepared against it.
                    db.session.remove()
                    db.engine.dispose()
                    compare.run_size(rev, args, size, log)
                _one_size(args, size, last_day, url, sitting)
            if args.documents and not sitting.documents:
                sitting.documents = _documents_on_own_book(args, last_day)
            db.session.remove()
    finally:
        if rev is not None:
            compare.cleanup(rev)
    results, documents, http_result = sitting.results, sitting.documents, sitting.http

    log(f"all done in {time.perf_counter() - wall:.0f} s")
    if args.part_json is not None:
        # A run of --compare: its figures go back to the parent, which prints them.
        where = str(Path(fundapp.__file__).resolve().parent)
        compare.write_part(
            args.part_json, compare.Part(results, documents, http_result, fundapp=where)
        )
    else:
        _print_summary(results, documents, http_result, rev)
    if not args.no_doc and args.profile is None:
        args_line = "python -m benchmarks " + shlex.join(argv if argv is not None else sys.argv[1:])
        report.write_markdown(
            args.doc,
            results,
            mach,
            started,
            args_line.strip(),
            report.NOTES,
            documents,
            http=http_result,
            rev=rev,
        )
        log(f"results written to {args.doc}")
    if any(r.problems for r in results):
        return 1  # the generated book is wrong: the figures mean nothing
    if any(run.traceback for r in results for run in r.runs):
        return 3  # a close-of-day run raised an error (its traceback is in the report)
    if http_result is not None and http_result.broken:
        return 4  # a repayment was lost or inexact, or the books broke under load
    if rev is not None and rev.errors:
        return 5  # the older commit's run failed: the comparison is incomplete
    return 0


def _print_summary(
    results: list[SizeResult],
    documents: list[DocumentResult],
    http_result: HttpResult | None,
    rev: Rev | None,
) -> None:
    from benchmarks import figures, report  # loads the app: see main

    for line in report.table(results) + report.verdict(results):
        print(line)
    if documents:
        print()
        for line in report.documents_table(documents) + report.documents_verdict(documents):
            print(line)
    if http_result is not None:
        print()
        for line in report.http_summary(http_result):
            print(line)
    print()
    old = None if rev is None else figures.headline(rev.results, rev.documents, rev.http)
    headline = figures.headline(results, documents, http_result)
    for line in figures.side_by_side(headline, old, rev.label if rev else ""):
        print(line)


def _one_size(
    args: argparse.Namespace, size: int, last_day: date, url: str, sitting: _Sitting
) -> None:
    """Generate ``size`` loans, time the close of day, then (at their sizes) the documents
    and the HTTP load."""
    # These load the app: see main.
    from benchmarks.documents import FUND_REPORT_AT, run_documents
    from benchmarks.portfolio import build_portfolio, log
    from benchmarks.runner import check_portfolio, time_runs, vacuum_analyze

    log(f"generating {size:,} loans")
    # Borrowers pay up to the day before the first run; the runner records the following
    # days' repayments between runs (unless --no-payments).
    portfolio = build_portfolio(
        size,
        args.date,
        args.date - timedelta(days=1),
        seed=args.seed,
        template_count=args.templates,
        workers=args.workers,
    )
    log(
        f"generated {size:,} loans in {portfolio.timings['total_s']:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in portfolio.counts.items())
    )
    result = check_portfolio(portfolio, full=args.full_check)
    if result.problems:
        log("generated book checks FAILED: " + "; ".join(result.problems))
    else:
        log(f"generated book checks passed ({len(result.checks)})")
    result.vacuum_s = vacuum_analyze()
    log(f"VACUUM ANALYZE in {result.vacuum_s:.1f} s")
    time_runs(
        result,
        portfolio,
        args.date,
        args.steady_days,
        args.run_timeout,
        payments=not args.no_payments,
        first_timeout_s=args.first_run_timeout,
        profile=args.profile,
    )
    for warning in result.warnings:
        log(f"warning: {warning}")
    sitting.results.append(result)
    if args.documents and size == FUND_REPORT_AT and not sitting.documents:
        # Now, while this book is in the database: the next size replaces it.
        sitting.documents = run_documents(size, DOCUMENT_RUNS, log, last_day)
    if args.http and size == max(args.sizes) and sitting.http is None:
        from benchmarks.http import run_http

        # After the documents: their timings must not see the load's repayments.
        sitting.http = run_http(
            size,
            last_day,
            url,
            args.http_clients,
            args.http_duration,
            log,
            args.http_page_clients,
            (args.mixed_readers, args.mixed_writers),
        )


def _documents_on_own_book(args: argparse.Namespace, last_day: date) -> list[DocumentResult]:
    """The documents on a 10 000-loan book generated for them (10 000 is not among the
    sizes), closed once on the business date; its close of day is not reported."""
    from benchmarks.documents import FUND_REPORT_AT, run_documents
    from benchmarks.portfolio import build_portfolio, log
    from benchmarks.runner import timed_close_day, vacuum_analyze

    log(f"documents: generating {FUND_REPORT_AT:,} loans for the fund balance report")
    build_portfolio(
        FUND_REPORT_AT,
        last_day,
        last_day - timedelta(days=1),
        seed=args.seed,
        template_count=args.templates,
        workers=args.workers,
    )
    vacuum_analyze()
    run = timed_close_day(last_day, "first", args.first_run_timeout or args.run_timeout)
    log(
        f"documents: close of day {last_day} on that book in {run.seconds or 0:.1f} s"
        + ("" if run.ran else f" — NOT RUN ({run.error}); the report shows the book as is")
    )
    return run_documents(FUND_REPORT_AT, DOCUMENT_RUNS, log, last_day)


if __name__ == "__main__":
    sys.exit(main())
