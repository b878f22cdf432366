"""The web app under load, on the benchmark's largest book, through gunicorn on 127.0.0.1.

After the close-of-day runs of the largest size, while that book is in the database:
gunicorn with 2 workers serves the app in its production configuration (cookies without
the Secure flag, since the load comes over plain http on the loopback), then

1. pages: signed-in staff (Locust, from .venv-bench) read the loan list with filters,
   loan pages, the dashboard and the fund balance report page, each scenario for a fixed
   time at a fixed concurrency after a warm-up;
2. repayments: concurrent API clients post repayments, first on distinct loans, then all
   on one loan; every one must land and every balance move by exactly what the answers
   allocated;
3. mixed: signed-in staff read the dashboard and the loan list (Locust) while API clients
   post repayments on distinct loans, for a fixed time; the same checks of the writes;
4. ``flask fund check`` (and ``--deep`` when the app has it), timed;
5. the schedule of a 60-instalment loan, built by the pure function, in this process.

gunicorn is stopped however the phase ends. Every loop is bounded in count or time.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / ".venv-bench"
LOCUST = BENCH_VENV / "bin" / "locust"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PASSWORD = "Benchmark2026"  # noqa: S105 (users of the throwaway benchmark database)

WORKERS = 2
WORKER_TIMEOUT_S = 300  # gunicorn's default 30 s would kill a slow page instead of timing it
START_TIMEOUT_S = 90
WARMUP_S = 5
MIN_REQUESTS = 20  # a slow page runs past --http-duration until it has this many
MAX_PAGE_S = 300  # ... but no longer than this, warm-up included
REQUEST_TIMEOUT_S = 300

# Pages whose whole-book figures each worker keeps while the book is unchanged
# (fundapp/reports/cache.py): each worker computes them once before the load, timed apart.
CACHED_PAGES = ("dashboard", "fund_report")
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# Targets of the issue, at the largest book on 2 workers. The loan page: p95 at 8 clients,
# and a worker's time per request (2 workers × the measured time / the requests).
DETAIL_TARGET_CLIENTS = 8
DETAIL_P95_TARGET_MS = 100.0
DETAIL_WORKER_TARGET_MS = 15.0
# The dashboard and the loan list are judged while repayments are posted (the mixed run).
MIXED_P95_TARGETS_MS: dict[str, float] = {"dashboard": 300.0, "list": 150.0}
REPAYMENTS_TARGET_PER_S = 100.0
CHECK_TARGET_S = 60.0
DISTINCT_LOANS_PER_CLIENT = 40
SAME_LOAN_PER_CLIENT = 10
SAME_LOAN_AMOUNT = 1_000_000
TOP_UP_AMOUNT = 5_000_000  # on a loan with nothing due: a prepayment of principal
CHECK_TIMEOUT_S = 3600
SCHEDULE_RUNS = 50
SCHEDULE_INSTALMENTS = 60
LIST_URLS = 400
DETAIL_URLS = 500
MIXED_READERS = 4
MIXED_WRITERS = 4
MIXED_AMOUNT = 2_000_000
MIXED_PER_SECOND_CAP = 150  # loans drawn for the writers: this rate over the whole run
MIXED_REPLAY_SAMPLE = 500  # of the loans the mixed run repaid, replayed afterwards


def page_targets(key: str, clients: int, mixed: bool = False) -> tuple[float | None, float | None]:
    """The p95 target (ms) and the worker-time target (ms a request) of a page scenario."""
    if mixed:
        return MIXED_P95_TARGETS_MS.get(key), None
    if key == "detail" and clients == DETAIL_TARGET_CLIENTS:
        return DETAIL_P95_TARGET_MS, DETAIL_WORKER_TARGET_MS
    return None, None


def worker_ms(per_second: float | None) -> float | None:
    """A worker's time per request: ``WORKERS`` workers busy for the whole window, shared
    by the requests answered in it (1000 × workers / requests per second)."""
    return 1000 * WORKERS / per_second if per_second else None


@dataclass
class PageResult:
    key: str
    label: str
    what: str
    target_ms: float | None
    clients: int = 1
    target_worker_ms: float | None = None
    requests: int = 0
    failures: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    per_second: float | None = None
    errors: list[str] = field(default_factory=list)
    error: str = ""  # why it was not measured
    first_ms: list[float] = field(default_factory=list)  # cached pages: each worker's first
    # Requests of the measured window still unanswered when Locust stopped: the time each
    # had taken so far (it took at least that long).
    in_flight_ms: list[float] = field(default_factory=list)

    @property
    def worker_ms(self) -> float | None:
        return worker_ms(self.per_second)

    @property
    def met(self) -> bool | None:
        if self.target_ms is None and self.target_worker_ms is None:
            return None
        if self.p95_ms is None:
            return False if self.error else None
        ok = not self.failures
        if self.target_ms is not None:
            ok = ok and self.p95_ms <= self.target_ms
            ok = ok and all(ms <= self.target_ms for ms in self.in_flight_ms)
        if self.target_worker_ms is not None:
            ok = ok and self.worker_ms is not None and self.worker_ms <= self.target_worker_ms
        return ok


@dataclass
class Posted:
    loan_id: int
    amount: int
    status: int
    answer: Any
    seconds: float
    finished: float


@dataclass
class RepaymentRun:
    label: str
    clients: int
    loans: int
    posted: list[Posted] = field(default_factory=list)
    seconds: float = 0.0
    in_database: int = 0
    problems: list[str] = field(default_factory=list)  # lost or inexact: a correctness failure
    error: str = ""
    lock_samples: int = 0  # looks at the server's sessions while the repayments ran
    lock_waits: dict[str, int] = field(default_factory=dict)  # samples waiting, by table

    @property
    def sent(self) -> int:
        return len(self.posted)

    @property
    def created(self) -> int:
        return sum(1 for p in self.posted if p.status == 201)

    @property
    def per_second(self) -> float | None:
        return self.created / self.seconds if self.seconds and self.created else None

    def latency_ms(self, q: float) -> float | None:
        times = sorted(p.seconds * 1000 for p in self.posted)
        if not times:
            return None
        return times[min(len(times) - 1, math.ceil(q * len(times)) - 1)]

    @property
    def failures(self) -> list[str]:
        out: dict[str, int] = {}
        for p in self.posted:
            if p.status != 201:
                message = p.answer.get("error", {}) if isinstance(p.answer, dict) else {}
                text = message.get("message", "") if isinstance(message, dict) else message
                key = f"HTTP {p.status} {str(text)[:120]}".strip()
                out[key] = out.get(key, 0) + 1
        return [f"{k} (×{n})" for k, n in out.items()]


@dataclass
class FundCheck:
    ran: bool = False
    ok: bool = False
    seconds: float = 0.0
    detail: str = ""
    command: str = "flask fund check"


@dataclass
class MixedRun:
    """Readers (Locust) on the dashboard and the loan list while writers post repayments."""

    readers: int
    writers: int
    duration_s: int
    pages: list[PageResult] = field(default_factory=list)
    repayments: RepaymentRun | None = None
    replayed: int = 0
    replay_problems: list[str] = field(default_factory=list)
    writes_ended_early_s: float = 0.0  # the writers ran out of loans this long before the end
    error: str = ""


@dataclass
class ScheduleTiming:
    label: str
    rows: int
    runs: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs) * 1000


@dataclass
class HttpResult:
    loans: int
    business_day: date
    clients: int  # the repayments' concurrent clients
    duration_s: int
    page_clients: tuple[int, ...] = (2,)  # each page scenario runs at each of these
    warmup_s: int = WARMUP_S
    server: str = ""
    tool: str = ""
    started_s: float = 0.0  # gunicorn from start to its first healthy answer
    pages: list[PageResult] = field(default_factory=list)
    repayments: list[RepaymentRun] = field(default_factory=list)
    replay_problems: list[str] = field(default_factory=list)
    replayed: int = 0
    server_errors: list[str] = field(default_factory=list)  # from gunicorn's log
    check: FundCheck = field(default_factory=FundCheck)
    deep_check: FundCheck | None = None  # None: the app has no `flask fund check --deep`
    mixed: MixedRun | None = None
    schedules: list[ScheduleTiming] = field(default_factory=list)
    error: str = ""

    @property
    def broken(self) -> bool:
        """A lost or inexact repayment, or broken books: the figures do not count."""
        mixed = self.mixed
        return (
            any(r.problems for r in self.repayments)
            or bool(self.replay_problems)
            or (self.check.ran and not self.check.ok)
            or (self.deep_check is not None and self.deep_check.ran and not self.deep_check.ok)
            or (mixed is not None and bool(mixed.replay_problems))
            or (
                mixed is not None
                and mixed.repayments is not None
                and bool(mixed.repayments.problems)
            )
        )


# --- the whole phase -------------------------------------------------------------------------


def run_http(
    loans: int,
    business_day: date,
    database_url: str,
    clients: int,
    duration_s: int,
    log: Callable[[str], None],
    page_clients: tuple[int, ...] = (2,),
    mixed: tuple[int, int] = (MIXED_READERS, MIXED_WRITERS),
) -> HttpResult:
    """Everything above on the book in ``database_url``, whose business date is
    ``business_day``; ``mixed`` is (readers, writers) of the mixed run, which (0, 0) skips.
    Errors are recorded in the result, never raised."""
    from fundapp.extensions import db

    result = HttpResult(loans, business_day, clients, duration_s, tuple(page_clients))
    env = _server_env(database_url, business_day)
    rng = random.Random(loans * 7 + clients)
    readers, writers = mixed
    try:
        staff, cashiers = _bench_users(max(clients, writers))
        plan = _page_plan(staff, rng)
    except Exception as exc:
        db.session.rollback()
        result.error = f"preparing the users and URLs failed: {type(exc).__name__}: {exc}"
        log(f"http: {result.error}\n{traceback.format_exc()}")
        return result
    with tempfile.TemporaryDirectory(prefix="fundapp-bench-http-") as tmp:
        workdir = Path(tmp)
        try:
            with gunicorn(env, workdir / "gunicorn.log", log) as server:
                result.server, result.started_s = server.command, server.started_s
                # Alone, before the load: an account's or an address's first sign-in
                # creates its login-throttle row, and two at the same instant collide.
                for username in staff:
                    _token(server.port, username)
                _run_pages(result, plan, server.port, workdir, log)
                _run_repayments(result, cashiers[:clients], server.port, rng, log)
                if readers and writers:
                    result.mixed = MixedRun(readers, writers, duration_s)
                    _run_mixed(result, plan, cashiers[:writers], server.port, workdir, rng, log)
        except Exception as exc:
            db.session.rollback()
            result.error = f"{type(exc).__name__}: {exc}"
            log(f"http: {result.error}\n{traceback.format_exc()}")
        result.server_errors = server_errors(workdir / "gunicorn.log")
        for line in result.server_errors:
            log(f"http: server error: {line}")
    if result.repayments:
        result.check = fund_check(env, log)
        if has_deep_check(env):
            result.deep_check = fund_check(env, log, deep=True)
        else:
            log("http: `flask fund check --deep` does not exist in this code; not timed")
    result.schedules = time_schedules(SCHEDULE_RUNS)
    for s in result.schedules:
        log(f"http: schedule {s.label}: median {s.median_ms:.2f} ms of {len(s.runs)}")
    return result


def _server_env(database_url: str, business_day: date) -> dict[str, str]:
    """The production configuration on the bench database; only the cookies' Secure flag
    is off, since the clients speak plain http to 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDAPP_TEST_")}
    env.update(
        {
            "FUNDAPP_CONFIG": "production",
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "FUNDAPP_BUSINESS_DATE": business_day.isoformat(),
            "SESSION_COOKIE_SECURE": "false",
            "MAIL_BACKEND": "log",
            "FLASK_APP": "wsgi.py",
        }
    )
    return env


# --- users and URLs ---------------------------------------------------------------------------


def _user(username: str, role: str, name: str) -> None:
    from sqlalchemy import func, select

    from fundapp.auth.models import User
    from fundapp.auth.services import create_user
    from fundapp.extensions import db

    if db.session.scalar(select(User.id).where(func.lower(User.username) == username)) is None:
        create_user(None, username, PASSWORD, [role], full_name=name)


def _bench_users(clients: int) -> tuple[list[str], list[str]]:
    """Staff who read pages, and one accountant per API client; commits."""
    from fundapp.extensions import db

    staff = {
        "bench.giamdoc": ("director", "Giám đốc (tải thử)"),
        "bench.chutich": ("board", "Chủ tịch (tải thử)"),
        "bench.canbo": ("officer", "Cán bộ tín dụng (tải thử)"),
        "bench.kiemsoat": ("controller", "Kiểm soát viên (tải thử)"),
        "bench.ketoan": ("accountant", "Kế toán (tải thử)"),
    }
    cashiers = {f"bench.thuno{n}": ("accountant", f"Kế toán thu nợ {n}") for n in range(clients)}
    for username, (role, name) in {**staff, **cashiers}.items():
        _user(username, role, name)
    db.session.commit()
    return list(staff), list(cashiers)


def _page_plan(staff: list[str], rng: random.Random) -> dict[str, Any]:
    """The URLs of each scenario, drawn over the whole book: list filters (status,
    district, overdue, a contract number) and pages within each filter's page count."""
    from flask import current_app
    from sqlalchemy import text

    from fundapp.extensions import db

    page_size = int(current_app.config["PAGE_SIZE"])
    ids = list(db.session.scalars(text("SELECT id FROM loans WHERE status = 'active' ORDER BY id")))
    contracts = sorted(
        db.session.scalars(
            text("SELECT contract_no FROM loans WHERE id = ANY(:ids)"),
            {"ids": rng.sample(ids, min(50, len(ids)))},
        )
    )
    by_district = dict(
        db.session.execute(
            text(
                "SELECT c.former_district_code, COUNT(*) FROM loans l "
                "JOIN cooperatives c ON c.id = l.cooperative_id GROUP BY 1"
            )
        ).all()
    )
    db.session.rollback()
    total = sum(by_district.values())

    def page_within(count: int) -> int:
        pages = max(1, math.ceil(count / page_size))
        return 1 if rng.random() < 0.5 else rng.randint(1, pages)

    lists = []
    for _ in range(LIST_URLS):
        district = rng.choice(sorted(by_district))
        kind = rng.choices(
            ["all", "status", "district", "status+district", "overdue", "overdue+district", "q"],
            weights=[2, 2, 3, 3, 2, 2, 1],
        )[0]
        params: dict[str, Any] = {}
        if "status" in kind:
            params["status"] = "active"
        if "district" in kind:
            params["district"] = district
        if kind.startswith("overdue"):
            params["overdue"] = "1"
            params["page"] = rng.randint(1, 3)
        elif kind == "q":
            params["q"] = rng.choice(contracts)
        else:
            params["page"] = page_within(by_district[district] if "district" in kind else total)
        lists.append(f"/loans/?{urllib.parse.urlencode(params)}")
    details = [f"/loans/{i}" for i in rng.sample(ids, min(DETAIL_URLS, len(ids)))]
    return {
        "warmup_s": WARMUP_S,
        "min_requests": MIN_REQUESTS,
        "accounts": [[u, PASSWORD] for u in staff],
        "scenarios": {
            "list": {"label": "loan list", "urls": lists},
            "detail": {"label": "loan page", "urls": details},
            "dashboard": {"label": "dashboard", "urls": ["/dashboard"]},
            "fund_report": {"label": "fund balance report", "urls": ["/reports/fund-balance"]},
        },
    }


PAGE_WHAT = {
    "list": "/loans/?status=&district=&overdue=&q=&page= (filters and pages drawn over the book)",
    "detail": f"/loans/<id> ({DETAIL_URLS} random active loans)",
    "dashboard": "/dashboard (the business date)",
    "fund_report": "/reports/fund-balance (HTML, the business date)",
}


# --- gunicorn ----------------------------------------------------------------------------------


@dataclass
class Server:
    port: int
    command: str
    started_s: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gunicorn_binary() -> Path:
    beside = Path(sys.executable).with_name("gunicorn")
    return beside if beside.exists() else ROOT / ".venv" / "bin" / "gunicorn"


@contextmanager
def gunicorn(env: dict[str, str], log_path: Path, log: Callable[[str], None]) -> Iterator[Server]:
    """gunicorn serving wsgi:app on a free port of 127.0.0.1 until the block ends; its own
    process group, stopped (TERM, then KILL) whatever happens in the block, a SIGTERM to
    this process included."""
    port = _free_port()
    args = [
        str(_gunicorn_binary()), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
        "--timeout", str(WORKER_TIMEOUT_S), "wsgi:app",
    ]  # fmt: skip
    command = " ".join(["gunicorn", *args[1:]]).replace(f":{port} ", ":<free port> ")
    started = time.perf_counter()
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        _wait_healthy(proc, port, log_path)
        server = Server(port, command, time.perf_counter() - started)
        log(f"http: {command} (pid {proc.pid}) answered /healthz after {server.started_s:.1f} s")
        yield server
    finally:
        _stop(proc)
        signal.signal(signal.SIGTERM, previous)
        log(f"http: gunicorn stopped (exit {proc.returncode})")


def _terminated(_signum: int, _frame: Any) -> None:
    raise SystemExit(143)


def _wait_healthy(proc: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}): {_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer /healthz in {START_TIMEOUT_S} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    except ProcessLookupError:
        proc.wait(timeout=30)


_LOG_RECORD = re.compile(r"^(\d{4}-\d\d-\d\d |\[\d{4}-\d\d-\d\d )")
_EXCEPTION_LINE = re.compile(r"^([a-z_]\w*\.)*[A-Z][a-z]\w*(: |$)")


def server_errors(path: Path) -> list[str]:
    """What went wrong on the server, from its log: each failed request (the app logs a
    line naming it, then the traceback) with the exception it ended in, and gunicorn's own
    errors (a worker timed out or died); counted."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    records: list[list[str]] = []
    for line in lines:
        if _LOG_RECORD.match(line) or not records:
            records.append([line])
        else:
            records[-1].append(line)
    seen: dict[str, int] = {}
    for record in records:
        head = record[0]
        if any(x.startswith("Traceback (most recent call last)") for x in record):
            last = [x for x in record[1:] if _EXCEPTION_LINE.match(x)]
            where = re.sub(r"^.* (ERROR|CRITICAL) [\w.]+: ", "", head)
            key = f"{where.strip()[:80]} → {(last[-1] if last else '?')[:240]}"
        elif "[ERROR]" in head or "[CRITICAL]" in head:
            key = re.sub(r"^.*\[(ERROR|CRITICAL)\] |\s*\(pid:\d+\)", "", head)[:240]
        else:
            continue
        seen[key] = seen.get(key, 0) + 1
    return [f"{key} (×{n})" for key, n in seen.items()]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- 1. pages (Locust) -------------------------------------------------------------------------


def locust_version() -> str:
    try:
        out = subprocess.run(
            [str(LOCUST), "--version"], capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    words = out.stdout.split()
    return f"Locust {words[1]}" if len(words) > 1 else "Locust"


def _run_pages(
    result: HttpResult, plan: dict[str, Any], port: int, workdir: Path, log: Callable[[str], None]
) -> None:
    version = locust_version() if LOCUST.exists() else ""
    result.tool = version
    plan_path = workdir / "plan.json"
    plan_path.write_text(json.dumps({**plan, "duration_s": result.duration_s}), encoding="utf-8")
    scenarios = [
        (key, scenario, clients)
        for key, scenario in plan["scenarios"].items()
        for clients in result.page_clients
    ]
    for key, scenario, clients in scenarios:
        page = PageResult(
            key,
            scenario["label"],
            PAGE_WHAT[key],
            page_targets(key, clients)[0],
            clients=clients,
            target_worker_ms=page_targets(key, clients)[1],
        )
        result.pages.append(page)
        if not version:
            page.error = (
                f"Locust not found at {LOCUST.relative_to(ROOT)} (`make bench` installs "
                "requirements-bench.txt there)"
            )
            continue
        log(
            f"http: {page.label}: {clients} clients, {WARMUP_S} s warm-up, then "
            f"{result.duration_s} s (longer until {MIN_REQUESTS} requests, at most {MAX_PAGE_S} s)"
        )
        if key in CACHED_PAGES and not any(p.first_ms for p in result.pages if p.key == key):
            page.first_ms = _first_computations(port, scenario["urls"][0], plan["accounts"][0])
            log(f"http: {page.label}: first computation in each worker: {_first(page)}")
        _locust(page, result, plan_path, key, port, workdir)
        log("http: " + describe_page(page))


def _first(page: PageResult) -> str:
    return ", ".join(f"{ms / 1000:.1f} s" for ms in page.first_ms) or "—"


def _first_computations(port: int, url: str, user: list[str]) -> list[float]:
    """Each gunicorn worker's first answer of ``url`` (it computes and keeps the figures):
    one signed-in client per worker, all at once, so that every worker takes one."""
    timings: list[float] = []
    errors: list[str] = []

    def one() -> None:
        try:
            opener = _signed_in(port, user[0], user[1])
            started = time.perf_counter()
            with opener.open(f"http://127.0.0.1:{port}{url}", timeout=REQUEST_TIMEOUT_S) as answer:
                answer.read()
            timings.append((time.perf_counter() - started) * 1000)
        except Exception as exc:  # reported, the load still runs
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=one) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT_S + 30)
    if errors:
        raise RuntimeError(f"first computation of {url} failed: {'; '.join(errors)}")
    return sorted(timings)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # the 302 comes back as an HTTPError, and its target is not fetched


def _signed_in(port: int, username: str, password: str) -> urllib.request.OpenerDirector:
    """A cookie session of ``username``; the page the sign-in redirects to (the dashboard,
    for some roles) is not fetched, so nothing is computed before the timed request."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(), _NoRedirect())
    base = f"http://127.0.0.1:{port}"
    with opener.open(f"{base}/login", timeout=60) as page:
        match = CSRF_INPUT.search(page.read().decode())
    if match is None:
        raise RuntimeError("no CSRF token on /login")
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrf_token": match.group(1)}
    ).encode()
    try:
        opener.open(f"{base}/login", data=form, timeout=60).close()
    except urllib.error.HTTPError as answer:
        if answer.code == 302 and "/login" not in answer.headers.get("Location", "/login"):
            return opener
    raise RuntimeError(f"sign-in as {username} refused")


def _locust_call(
    clients: int, run_time: int, port: int, plan: Path, key: str, figures: Path
) -> tuple[list[str], dict[str, str]]:
    args = [
        str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "-u", str(clients), "-r", str(clients), "--run-time", f"{run_time}s",
        "--host", f"http://127.0.0.1:{port}", "--loglevel", "WARNING",
    ]  # fmt: skip
    env = {**os.environ, "BENCH_PLAN": str(plan), "BENCH_SCENARIO": key,
           "BENCH_RESULT": str(figures)}  # fmt: skip
    return args, env


def _locust(
    page: PageResult, result: HttpResult, plan: Path, key: str, port: int, workdir: Path
) -> None:
    figures = workdir / f"{key}.json"
    run_time = max(MAX_PAGE_S, WARMUP_S + result.duration_s)
    args, env = _locust_call(page.clients, run_time, port, plan, key, figures)
    try:
        done = subprocess.run(
            args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=run_time + 120
        )
    except subprocess.TimeoutExpired:
        page.error = f"Locust did not finish within {run_time + 120} s"
        return
    if not figures.exists():
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        page.error = f"Locust exited {done.returncode} without figures: {tail}"
        return
    by_label = json.loads(figures.read_text(encoding="utf-8"))
    read_locust_result(page, by_label.get(page.label, {"requests": 0, "failures": 0}))


def read_locust_result(page: PageResult, figures: dict[str, Any]) -> None:
    """The measured requests' figures of one group as the locustfile wrote them (warm-up
    and sign-in apart), and every failure."""
    page.in_flight_ms = [float(ms) for ms in figures.get("in_flight_ms", [])]
    page.requests = int(figures["requests"])
    page.failures = int(figures["failures"])
    page.errors = list(figures.get("errors", []))
    if not page.requests:
        page.error = "no request was measured after the warm-up"
        return
    page.p50_ms = figures.get("p50_ms")
    page.p95_ms = figures.get("p95_ms")
    page.max_ms = figures.get("max_ms")
    page.per_second = figures.get("per_second")


def describe_page(p: PageResult) -> str:
    if p.error:
        return f"{p.label}, {p.clients} clients: not measured — {p.error}"
    errors = f"; errors: {'; '.join(p.errors[:5])}" if p.errors else ""
    late = ""
    if p.in_flight_ms:
        late = f"; {len(p.in_flight_ms)} unanswered at the end (≥ {max(p.in_flight_ms):.0f} ms)"
    return (
        f"{p.label}, {p.clients} clients: {p.requests} requests, p50 {_ms(p.p50_ms)} ms, "
        f"p95 {_ms(p.p95_ms)} ms, max {_ms(p.max_ms)} ms, {p.per_second or 0:.1f} req/s "
        f"(≈ {_ms(p.worker_ms)} ms of a worker each), {p.failures} failed{late}{errors}"
    )


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


# --- 2. repayments (API) -----------------------------------------------------------------------


class Api:
    """One client: a keep-alive connection (reopened when the server closes it)."""

    def __init__(self, port: int, token: str = "") -> None:
        self.port = port
        self.token = token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        sent = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        try:
            self.conn.request(method, path, body=data, headers=sent)
            answer = self.conn.getresponse()
            raw = answer.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            raise
        if answer.will_close:
            self.conn.close()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = {"error": {"message": raw[:200].decode(errors="replace")}}
        return answer.status, payload

    def close(self) -> None:
        self.conn.close()


def _token(port: int, username: str) -> str:
    api = Api(port)
    try:
        status, answer = api.call(
            "POST", "/api/v1/tokens", {"username": username, "password": PASSWORD}
        )
    finally:
        api.close()
    if status != 201:
        raise RuntimeError(f"POST /api/v1/tokens as {username}: HTTP {status} {answer}")
    return str(answer["token"])


def _post_all(
    port: int,
    tokens: list[str],
    jobs: list[list[tuple[int, int]]],
    day: date,
    stop: threading.Event | None = None,
) -> tuple[list[Posted], float]:
    """Each client (a thread) posts its jobs one after another; all start together, and
    each stops early once ``stop`` is set. The wall time runs from the start to the last
    answer."""
    barrier = threading.Barrier(len(jobs) + 1)
    out: list[list[Posted]] = [[] for _ in jobs]

    def client(n: int) -> None:
        api = Api(port, tokens[n])
        try:
            barrier.wait()
            for loan_id, amount in jobs[n]:
                if stop is not None and stop.is_set():
                    break
                body = {"amount": amount, "date": day.isoformat(), "method": "bank",
                        "reference": f"BENCH-{n}-{len(out[n]) + 1}"}  # fmt: skip
                t = time.perf_counter()
                try:
                    status, answer = api.call(
                        "POST",
                        f"/api/v1/loans/{loan_id}/repayments",
                        body,
                        {"Idempotency-Key": uuid.uuid4().hex},
                    )
                except (http.client.HTTPException, OSError) as exc:
                    status, answer = 0, {"error": {"message": f"{type(exc).__name__}: {exc}"}}
                now = time.perf_counter()
                out[n].append(Posted(loan_id, amount, status, answer, now - t, now))
        finally:
            api.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(len(jobs))]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join(REQUEST_TIMEOUT_S * (max((len(j) for j in jobs), default=0) + 1))
    posted = [p for client_posts in out for p in client_posts]
    finished = max((p.finished for p in posted), default=started)
    return posted, finished - started


# The table of a waiting statement: the ORM names its columns "table.column" first (the
# server keeps only the first 1 kB of a statement, which may end before its FROM).
_STATEMENT_TABLE = re.compile(
    r"^\s*SELECT\s+\"?(\w+)\"?\.|\b(?:FROM|UPDATE|INTO)\s+\"?(\w+)", re.IGNORECASE
)


class LockWatch:
    """Looks at the database's other sessions every ``every_s`` while a run goes on: in
    how many looks one of them waited for a lock, per table (read from its statement)."""

    def __init__(self, every_s: float = 0.05) -> None:
        from fundapp.extensions import db

        self.engine = db.engine
        self.every_s = every_s
        self.samples = 0
        self.waits: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _watch(self) -> None:
        from sqlalchemy import text

        waiting = text(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            while not self._stop.wait(self.every_s):
                tables = set()
                for (query,) in conn.execute(waiting):
                    match = _STATEMENT_TABLE.search(query or "")
                    tables.add((match.group(1) or match.group(2)) if match else "?")
                self.samples += 1
                for table in tables:
                    self.waits[table] = self.waits.get(table, 0) + 1


def _figures(loan_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Per loan: principal outstanding, everything repaid, number of repayments (fresh)."""
    from sqlalchemy import text

    from fundapp.extensions import db

    db.session.rollback()
    rows = db.session.execute(
        text(
            "SELECT l.id, l.principal_outstanding, "
            "l.principal_paid + l.interest_paid + l.penalty_paid, "
            "(SELECT COUNT(*) FROM repayments r WHERE r.loan_id = l.id) "
            "FROM loans l WHERE l.id = ANY(:ids)"
        ),
        {"ids": loan_ids},
    ).all()
    db.session.rollback()
    return {int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in rows}


def verify(run: RepaymentRun, before: dict[int, tuple[int, int, int]]) -> None:
    """Every repayment answered 201 is in the database, once, and each loan moved by
    exactly what the answers allocated: principal outstanding by the principal lines,
    the repaid total by the amounts."""
    after = _figures(list(before))
    principal: dict[int, int] = dict.fromkeys(before, 0)
    paid: dict[int, int] = dict.fromkeys(before, 0)
    created: dict[int, int] = dict.fromkeys(before, 0)
    receipts = set()
    for p in run.posted:
        if p.status != 201:
            continue
        created[p.loan_id] += 1
        paid[p.loan_id] += p.amount
        receipts.add(p.answer["receipt_no"])
        lines = p.answer["allocations"]
        principal[p.loan_id] += sum(a["amount"] for a in lines if a["component"] == "principal")
        if sum(a["amount"] for a in lines) != p.amount:
            run.problems.append(f"repayment {p.answer['id']}: allocations do not add up")
    run.in_database = sum(after[i][2] - before[i][2] for i in before)
    if run.created != run.sent:
        run.problems.append(f"{run.sent - run.created} of {run.sent} repayments did not land")
    if run.in_database != run.created:
        run.problems.append(
            f"{run.created} answered 201 but {run.in_database} new repayments in the database"
        )
    if len(receipts) != run.created:
        run.problems.append("two answers carry the same receipt number")
    for loan_id, (outstanding, repaid, count) in before.items():
        got = after[loan_id]
        if got[0] != outstanding - principal[loan_id]:
            run.problems.append(
                f"loan {loan_id}: outstanding {got[0]} ≠ {outstanding} − {principal[loan_id]} "
                "allocated to principal"
            )
        if got[1] != repaid + paid[loan_id]:
            run.problems.append(f"loan {loan_id}: repaid {got[1]} ≠ {repaid} + {paid[loan_id]}")
        if got[2] != count + created[loan_id]:
            run.problems.append(
                f"loan {loan_id}: {got[2] - count} new repayments, {created[loan_id]} answered 201"
            )


def _distinct_jobs(
    port: int, token: str, clients: int, rng: random.Random
) -> list[list[tuple[int, int]]]:
    """``DISTINCT_LOANS_PER_CLIENT`` loans per client, none shared: loans with something
    due on the business date pay all of it (``total_due`` from GET /api/v1/loans/{id});
    when there are too few of those, other active loans prepay a fixed sum."""
    from sqlalchemy import text

    from fundapp.core.dates import business_date
    from fundapp.extensions import db

    wanted = clients * DISTINCT_LOANS_PER_CLIENT
    due = list(
        db.session.scalars(
            text(
                "SELECT l.id FROM loans l WHERE l.status = 'active' AND EXISTS (SELECT 1 "
                "FROM instalments i WHERE i.loan_id = l.id AND i.due_date <= :day AND "
                "(i.principal_paid < i.principal OR i.interest_paid < i.interest)) ORDER BY l.id"
            ),
            {"day": business_date()},
        )
    )
    others = list(
        db.session.scalars(
            text("SELECT id FROM loans WHERE status = 'active' AND id <> ALL(:due) ORDER BY id"),
            {"due": due},
        )
    )
    db.session.rollback()
    picked = rng.sample(due, min(wanted, len(due)))
    top_up = rng.sample(others, min(wanted - len(picked), len(others)))
    api = Api(port, token)
    jobs: list[tuple[int, int]] = []
    try:
        for loan_id in picked:
            status, answer = api.call("GET", f"/api/v1/loans/{loan_id}")
            if status != 200:
                raise RuntimeError(f"GET /api/v1/loans/{loan_id}: HTTP {status} {answer}")
            owed = int(answer["balances"]["total_due"])
            jobs.append((loan_id, owed if owed > 0 else TOP_UP_AMOUNT))
    finally:
        api.close()
    jobs += [(loan_id, TOP_UP_AMOUNT) for loan_id in top_up]
    rng.shuffle(jobs)
    return [jobs[n::clients] for n in range(clients)]


def _same_loan(clients: int) -> int:
    """The active loan with the most principal outstanding and nothing past due: its small
    repayments pay what falls due today, if anything, then prepay principal; none closes
    it."""
    from sqlalchemy import text

    from fundapp.core.dates import business_date
    from fundapp.extensions import db

    loan_id = db.session.scalar(
        text(
            "SELECT l.id FROM loans l WHERE l.status = 'active' AND l.principal_outstanding > "
            ":floor AND NOT EXISTS (SELECT 1 FROM instalments i WHERE i.loan_id = l.id AND "
            "i.due_date < :day AND (i.principal_paid < i.principal OR "
            "i.interest_paid < i.interest)) ORDER BY l.principal_outstanding DESC, l.id LIMIT 1"
        ),
        {"floor": 2 * clients * SAME_LOAN_PER_CLIENT * SAME_LOAN_AMOUNT, "day": business_date()},
    )
    db.session.rollback()
    if loan_id is None:
        raise RuntimeError("no active loan without arrears is large enough for the one-loan run")
    return int(loan_id)


def _run_repayments(
    result: HttpResult,
    cashiers: list[str],
    port: int,
    rng: random.Random,
    log: Callable[[str], None],
) -> None:
    from benchmarks.runner import compare_with_replay

    tokens = [_token(port, u) for u in cashiers]
    day = result.business_day
    jobs = _distinct_jobs(port, tokens[0], len(tokens), rng)
    loans = [loan_id for client_jobs in jobs for loan_id, _ in client_jobs]
    distinct = RepaymentRun(f"{len(tokens)} clients, distinct loans", len(tokens), len(loans))
    log(f"http: repayments: {len(tokens)} API clients on {len(loans)} distinct loans")
    before = _figures(loans)
    with LockWatch() as watch:
        distinct.posted, distinct.seconds = _post_all(port, tokens, jobs, day)
    distinct.lock_samples, distinct.lock_waits = watch.samples, watch.waits
    verify(distinct, before)
    result.repayments.append(distinct)
    log("http: " + describe_repayments(distinct))
    log(f"http: {distinct.label}: {describe_locks(distinct)}")

    loan_id = _same_loan(len(tokens))
    same = RepaymentRun(f"{len(tokens)} clients, one loan", len(tokens), 1)
    log(f"http: repayments: {len(tokens)} API clients × {SAME_LOAN_PER_CLIENT} on loan {loan_id}")
    before = _figures([loan_id])
    one = [[(loan_id, SAME_LOAN_AMOUNT)] * SAME_LOAN_PER_CLIENT for _ in tokens]
    with LockWatch() as watch:
        same.posted, same.seconds = _post_all(port, tokens, one, day)
    same.lock_samples, same.lock_waits = watch.samples, watch.waits
    verify(same, before)
    result.repayments.append(same)
    log("http: " + describe_repayments(same))
    log(f"http: {same.label}: {describe_locks(same)}")

    touched = sorted({*loans, loan_id})
    result.replayed = len(touched)
    result.replay_problems = compare_with_replay(touched, day)
    log(
        f"http: the {len(touched)} loans repaid, against the app's replay and ledger targets: "
        + ("; ".join(result.replay_problems) or "all equal")
    )


MIXED_LABELS = {"dashboard": "dashboard, during writes", "list": "loan list, during writes"}


def _mixed_jobs(writers: int, count: int, rng: random.Random) -> list[list[tuple[int, int]]]:
    """``count`` active loans drawn at random, each repaid once by one writer: a fixed sum,
    which pays what is owed first and then prepays principal; none closes its loan."""
    from sqlalchemy import text

    from fundapp.extensions import db

    ids = list(
        db.session.scalars(
            text(
                "SELECT id FROM loans WHERE status = 'active' AND principal_outstanding > :floor "
                "ORDER BY id"
            ),
            {"floor": 4 * MIXED_AMOUNT},
        )
    )
    db.session.rollback()
    picked = rng.sample(ids, min(count, len(ids)))
    return [[(loan_id, MIXED_AMOUNT) for loan_id in picked[n::writers]] for n in range(writers)]


def _run_mixed(
    result: HttpResult,
    plan: dict[str, Any],
    cashiers: list[str],
    port: int,
    workdir: Path,
    rng: random.Random,
    log: Callable[[str], None],
) -> None:
    """Locust readers on the dashboard and the loan list for the warm-up plus the measured
    window, while the writers post repayments on distinct loans from the readers' start
    to their end; then the writes are checked like the other repayment runs."""
    from benchmarks.runner import compare_with_replay

    mixed = result.mixed
    if mixed is None:
        return
    groups = []
    for key in ("dashboard", "list"):
        label = MIXED_LABELS[key]
        groups.append({"label": label, "urls": plan["scenarios"][key]["urls"], "weight": 1})
        mixed.pages.append(
            PageResult(
                key,
                label,
                PAGE_WHAT[key],
                page_targets(key, mixed.readers, mixed=True)[0],
                clients=mixed.readers,
            )
        )
    if not LOCUST.exists():
        mixed.error = f"Locust not found at {LOCUST.relative_to(ROOT)}"
        return
    tokens = [_token(port, u) for u in cashiers]
    jobs = _mixed_jobs(len(tokens), MIXED_PER_SECOND_CAP * (WARMUP_S + mixed.duration_s + 30), rng)
    pool = [loan_id for client_jobs in jobs for loan_id, _ in client_jobs]
    plan_path = workdir / "mixed-plan.json"
    mixed_plan = {**plan, "duration_s": mixed.duration_s,
                  "scenarios": {"mixed": {"fixed": True, "groups": groups}}}  # fmt: skip
    plan_path.write_text(json.dumps(mixed_plan), encoding="utf-8")
    figures = workdir / "mixed.json"
    # The locustfile ends a fixed run after its window; --run-time is only the backstop.
    run_time = WARMUP_S + mixed.duration_s + 60
    args, env = _locust_call(mixed.readers, run_time, port, plan_path, "mixed", figures)
    run = RepaymentRun(f"{len(tokens)} clients, distinct loans, during reads", len(tokens), 0)
    mixed.repayments = run
    log(
        f"http: mixed: {mixed.readers} readers (dashboard, loan list) for {WARMUP_S} s + "
        f"{mixed.duration_s} s while {len(tokens)} API clients repay distinct loans "
        f"(up to {len(pool)})"
    )
    before = _figures(pool)
    stop = threading.Event()
    locust_log = workdir / "mixed-locust.log"
    with locust_log.open("wb") as out:
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    threading.Thread(target=lambda: (proc.wait(), stop.set()), daemon=True).start()
    try:
        with LockWatch() as watch:
            run.posted, run.seconds = _post_all(port, tokens, jobs, result.business_day, stop)
        writes_done = time.perf_counter()
        ran_out = not stop.is_set()  # the writers' loans, not the readers' window, ended first
        proc.wait(timeout=run_time + 120)
        if ran_out:
            mixed.writes_ended_early_s = time.perf_counter() - writes_done
    except subprocess.TimeoutExpired:
        mixed.error = f"Locust did not finish within {run_time + 120} s"
    finally:
        _stop(proc)
    run.lock_samples, run.lock_waits = watch.samples, watch.waits
    touched = sorted({p.loan_id for p in run.posted})
    run.loans = len(touched)
    verify(run, before)
    log("http: mixed: " + describe_repayments(run))
    if figures.exists():
        by_label = json.loads(figures.read_text(encoding="utf-8"))
        for page in mixed.pages:
            read_locust_result(page, by_label.get(page.label, {"requests": 0, "failures": 0}))
            log("http: mixed: " + describe_page(page))
    elif not mixed.error:
        mixed.error = f"Locust exited {proc.returncode} without figures: {_tail(locust_log, 8)}"
    if mixed.error:
        log(f"http: mixed: {mixed.error}")
    sample = sorted(rng.sample(touched, min(MIXED_REPLAY_SAMPLE, len(touched))))
    mixed.replayed = len(sample)
    mixed.replay_problems = compare_with_replay(sample, result.business_day)
    log(
        f"http: mixed: {len(sample)} of the {len(touched)} loans repaid, against the app's "
        "replay and ledger targets: " + ("; ".join(mixed.replay_problems) or "all equal")
    )


def describe_repayments(r: RepaymentRun) -> str:
    if r.error:
        return f"{r.label}: not measured — {r.error}"
    rate = f"{r.per_second:.1f}/s" if r.per_second else "—"
    verdict = "; ".join(r.problems[:5]) or "all landed, balances exact"
    return (
        f"{r.label}: {r.created} of {r.sent} answered 201 in {r.seconds:.2f} s ({rate}), "
        f"{r.in_database} new in the database, latency p50 {_ms(r.latency_ms(0.5))} ms "
        f"p95 {_ms(r.latency_ms(0.95))} ms; {verdict}"
    )


def describe_locks(r: RepaymentRun) -> str:
    if not r.lock_samples:
        return "lock waits not sampled"
    looks = f"of {r.lock_samples} looks at the database (every 50 ms), "
    waits = sorted(r.lock_waits.items(), key=lambda kv: -kv[1])
    if not waits:
        return looks + "none found a request waiting for a lock"
    shares = [(f"{100 * n / r.lock_samples:.0f} %", table) for table, n in waits]
    first, rest = shares[0], shares[1:]
    return (
        looks
        + f"{first[0]} found a request waiting for a lock on `{first[1]}`"
        + "".join(f", {share} on `{table}`" for share, table in rest)
    )


# --- afterwards: the books, and the schedule maths ----------------------------------------------


def has_deep_check(env: dict[str, str]) -> bool:
    """Whether this code's ``flask fund check`` has the ``--deep`` option."""
    flask = Path(sys.executable).with_name("flask")
    try:
        done = subprocess.run(
            [str(flask), "fund", "check", "--help"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and "--deep" in done.stdout


def fund_check(env: dict[str, str], log: Callable[[str], None], deep: bool = False) -> FundCheck:
    """``flask fund check`` (``--deep``) on the bench database, in its own process, timed."""
    check = FundCheck(command="flask fund check --deep" if deep else "flask fund check")
    flask = Path(sys.executable).with_name("flask")
    log(f"http: {check.command} (limit {CHECK_TIMEOUT_S} s)")
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [str(flask), "fund", "check", *(["--deep"] if deep else [])],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        check.seconds = time.perf_counter() - started
        check.detail = f"not finished within {CHECK_TIMEOUT_S} s (stopped)"
        log(f"http: {check.command} {check.detail}")
        return check
    check.seconds = time.perf_counter() - started
    check.ran = True
    check.ok = done.returncode == 0 and "OK: all invariants hold" in done.stdout
    broken = [line for line in done.stderr.splitlines() if line.startswith("BROKEN")]
    checked = sum(1 for line in done.stdout.splitlines() if line.startswith("checked:"))
    if check.ok:
        check.detail = f"OK: all invariants hold ({checked} rules)"
    else:
        tail = broken[:10] or done.stderr.strip().splitlines()[-5:]
        check.detail = f"exit {done.returncode}: " + "; ".join(tail)
    log(f"http: {check.command} in {check.seconds:.1f} s: {check.detail}")
    return check


def time_schedules(runs: int) -> list[ScheduleTiming]:
    """``build_schedule`` for 60 monthly instalments (equal principal, then annuity): one
    warm-up call, then the median of ``runs``."""
    from fundapp.domain.schedule import Disbursement, build_schedule
    from fundapp.domain.terms import LoanTerms

    out = []
    tranche = (Disbursement(date(2026, 1, 15), 480_000_000),)
    for method in ("equal_principal", "annuity"):
        terms = LoanTerms(
            amount=480_000_000,
            annual_rate=Decimal("6.6"),
            term_months=SCHEDULE_INSTALMENTS,
            principal_method=method,
        )
        rows = build_schedule(terms, tranche)
        timing = ScheduleTiming(f"{len(rows)} instalments, {method}", len(rows))
        for _ in range(runs):
            t = time.perf_counter()
            build_schedule(terms, tranche)
            timing.runs.append(time.perf_counter() - t)
        out.append(timing)
    return out
