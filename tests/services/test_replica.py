"""Reports and the dashboard read from a streaming replica (``DATABASE_URL_REPLICA``).

On PostgreSQL a real hot standby of the test server is made with ``pg_basebackup`` and
started on a free port; the fund of ``tests.dashboard.scenario`` (90.000.000 đ outstanding:
A 30.000.000, B 60.000.000 of which 30.000.000 overdue and in group 4) is built on the
primary, and once the standby has replayed it the same requests answer the same figures
from the standby. A replica that cannot be reached (a closed port) leaves the pages to the
primary, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url

from fundapp.audit.models import AuditLog
from fundapp.auth.models import User
from fundapp.core import replica
from fundapp.dashboard import figures
from fundapp.extensions import READ_REPLICA, db
from fundapp.repayments import services as rs
from fundapp.reports import cache
from tests.conftest import PG_URL, api_token, fresh_database, login, make_app, make_user
from tests.dashboard.scenario import TODAY, build

needs_pg = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (make test starts one)")
# Loan B's first instalment (tests.dashboard.scenario): 5.000.000 + 305.753 of interest.
B_FIRST_INSTALMENT = 5_305_753
PAGES = (
    "/dashboard",
    "/reports/fund-balance?as_of=2026-11-20&from=2026-01-01",
)
API = (
    "/api/v1/dashboard",
    "/api/v1/reports/fund-balance?as_of=2026-11-20&from=2026-01-01",
)
CSRF = re.compile(r'name="csrf_token" value="[^"]*"')
STEP_SECONDS = 120  # bound on each server step (base backup, start, stop)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bindir() -> Path:
    """The server binaries scripts/pg-test.sh uses: PG_BINDIR or the highest version."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    found = [d for d in found if (d / "pg_basebackup").exists() and (d / "pg_ctl").exists()]
    if not found:
        pytest.skip("no pg_basebackup/pg_ctl under /usr/lib/postgresql/*/bin")
    return found[-1]


def _as_server_owner() -> list[str]:
    # PostgreSQL refuses to run as root; scripts/pg-test.sh runs its server as `postgres`.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@pytest.fixture(scope="module")
def standby_url() -> Iterator[str]:
    """A hot standby of the test server on a free port, stopped and removed afterwards."""
    primary = make_url(PG_URL)
    bindir, owner = _bindir(), _as_server_owner()
    # As root the `postgres` user must reach the data dir: /tmp, as scripts/pg-test.sh does.
    where = "/tmp" if owner else None  # noqa: S108
    home = Path(tempfile.mkdtemp(prefix="fundapp-standby.", dir=where))
    if owner:
        shutil.chown(home, "postgres")
    data, log = home / "data", home / "server.log"

    def server(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*owner, *args], cwd=home, capture_output=True, text=True, timeout=STEP_SECONDS
        )

    started = False
    try:
        backup = server(
            f"{bindir}/pg_basebackup", "-R", "-D", str(data), "-h", str(primary.host),
            "-p", str(primary.port), "-U", str(primary.username or "postgres"),
            "-X", "stream", "-c", "fast",
        )  # fmt: skip
        assert backup.returncode == 0, backup.stderr
        port = _free_port()
        options = f"-k {home} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
        started = True
        start = server(
            f"{bindir}/pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip
        assert start.returncode == 0, start.stderr + (log.read_text() if log.exists() else "")
        yield primary.set(port=port).render_as_string(hide_password=False)
    finally:
        if started:
            for mode in ("fast", "immediate"):
                stop = server(
                    f"{bindir}/pg_ctl", "-D", str(data), "-m", mode, "-w", "-t", "30", "stop"
                )
                if stop.returncode == 0 or not (data / "postmaster.pid").exists():
                    break
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL ``engine`` runs inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _wait_for_replay(standby: Engine) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    # The insert position: the test server commits asynchronously (synchronous_commit=off),
    # so a commit may not be written out yet, and the standby must wait for it too.
    target = db.session.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one()
    db.session.rollback()
    deadline = time.monotonic() + 30
    with standby.connect() as conn:
        while True:
            replayed = conn.execute(
                text("SELECT pg_last_wal_replay_lsn() >= CAST(:t AS pg_lsn)"), {"t": str(target)}
            ).scalar_one()
            conn.rollback()
            if replayed:
                return
            assert time.monotonic() < deadline, f"the standby has not replayed {target} in 30 s"
            time.sleep(0.05)


@contextmanager
def replicated_app(standby_url: str, **overrides: Any) -> Iterator[Flask]:
    cache.clear()
    app = make_app(DATABASE_URL_REPLICA=standby_url, **overrides)
    try:
        with fresh_database(app):
            yield app
    finally:
        engine = replica.engine_of(app)
        if engine is not None:
            engine.dispose()
        cache.clear()


@pytest.fixture
def replicated(standby_url: str) -> Iterator[Flask]:
    with replicated_app(standby_url) as app:
        yield app


def _director(app: Flask) -> tuple[Any, dict[str, str]]:
    client = app.test_client()
    director = make_user("director")
    headers = api_token(client, director)
    login(client, director)
    return client, headers


def _answers(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        # A form's CSRF token is signed with the second it was made in: not a figure.
        answers[path] = CSRF.sub("", response.get_data(as_text=True))
    for path in API:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        answers[path] = response.get_json()
    return answers


def _replica_version() -> tuple[Any, ...] | None:
    """The report cache's book version, read as a replica-routed view reads it."""
    return replica.reads_from_replica(cache.book_version)()


@pytest.mark.postgres
@needs_pg
def test_the_reports_read_on_the_standby_equal_the_primarys(replicated, standby_url):
    build()
    client, headers = _director(replicated)
    standby = replica.engine_of(replicated)
    _wait_for_replay(standby)
    with standby.connect() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is True

    replicated.config["DATABASE_URL_REPLICA"] = ""
    with statements(standby) as on_standby:
        from_primary = _answers(client, headers)
    assert on_standby == []

    replicated.config["DATABASE_URL_REPLICA"] = standby_url
    with statements(standby) as on_standby, statements(db.engine) as on_primary:
        from_standby = _answers(client, headers)
    assert from_standby == from_primary
    dashboard = from_standby["/api/v1/dashboard"]["outstanding"]
    assert (dashboard["total"], dashboard["overdue"]) == (90_000_000, 30_000_000)
    # The figures came from the standby's journal; the primary only signed the user in.
    assert any("journal_lines" in sql for sql in on_standby)
    assert not any("journal_lines" in sql for sql in on_primary)
    assert any("user" in sql for sql in on_primary)


@pytest.mark.postgres
@needs_pg
def test_the_cache_on_the_standby_follows_its_replay(standby_url):
    with replicated_app(standby_url, REPORT_CACHE_SIZE=8) as app:
        fund = build()
        client, headers = _director(app)
        standby = replica.engine_of(app)
        _wait_for_replay(standby)
        with app.test_request_context():
            snapshot, replayed = _replica_version() or (None, None)
        assert snapshot and replayed  # the standby's replay position is in the version

        # Twice in a row, with no request in between: a request signs in on the primary, and
        # what it writes there renews the version once replayed (see reports/cache.py).
        dashboard = replica.reads_from_replica(figures.dashboard)
        with app.test_request_context(), statements(standby) as on_standby:
            first, again = dashboard(TODAY), dashboard(TODAY)
        assert first == again and first.year.collected == 94_029_040  # A's three quarters
        assert cache.stats() == {"hits": 1, "misses": 1, "kept": 1}
        assert any("journal_lines" in sql for sql in on_standby)

        rs.record_repayment(
            fund.staff.accountant,
            fund.loan_b.id,
            {"amount": B_FIRST_INSTALMENT, "date": TODAY},
            TODAY,
        )
        db.session.commit()
        _wait_for_replay(standby)
        after = client.get("/api/v1/dashboard", headers=headers).get_json()
        assert after["this_year"]["collected"] == 94_029_040 + B_FIRST_INSTALMENT == 99_334_793
        assert cache.stats()["misses"] == 2


@pytest.mark.postgres
@needs_pg
def test_a_commit_between_two_open_transactions_renews_the_standbys_version(replicated):
    """A hot standby's snapshot lists no transaction in progress: with three open on the
    primary, the middle one's commit leaves its text as it was. The replay position moves."""
    standby = replica.engine_of(replicated)
    oldest, middle, newest = (db.engine.connect() for _ in range(3))
    try:
        for conn in (oldest, middle, newest):
            conn.execute(text("SELECT pg_current_xact_id()"))
        newest.commit()
        _wait_for_replay(standby)
        with replicated.test_request_context():
            before = _replica_version()
        middle.commit()
        _wait_for_replay(standby)
        with replicated.test_request_context():
            after = _replica_version()
    finally:
        for conn in (oldest, middle, newest):
            conn.close()
    assert before is not None and after is not None
    assert after[0] == before[0]  # the snapshot alone would have kept a stale result
    assert after != before


def test_an_unreachable_replica_leaves_the_reports_to_the_primary(caplog):
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/fundapp_test"
    with replicated_app(closed) as app:
        build()
        client, headers = _director(app)
        with caplog.at_level(logging.WARNING):
            answers = _answers(client, headers)
        outstanding = answers["/api/v1/dashboard"]["outstanding"]
        assert (outstanding["total"], outstanding["overdue"]) == (90_000_000, 30_000_000)
        # The first view failed over; the others went straight to the primary meanwhile.
        failures = [r for r in caplog.records if "read replica" in r.getMessage()]
        assert len(failures) == 1 and failures[0].levelno == logging.WARNING

        app.config["DATABASE_URL_REPLICA"] = ""
        assert _answers(client, headers) == answers


def test_only_plain_reads_are_routed_to_the_replica(app):
    other = create_engine("sqlite://")
    session = db.session.session_factory()
    session.info[READ_REPLICA] = other
    try:
        assert session.get_bind() is other
        assert session.get_bind(clause=select(User)) is other
        assert session.get_bind(clause=text("SELECT 1")) is other
        assert session.get_bind(clause=select(User).with_for_update()) is db.engine
        assert session.get_bind(clause=text("SELECT 1 FOR UPDATE")) is db.engine
        assert session.get_bind(clause=text("UPDATE users SET active = true")) is db.engine
        assert session.get_bind(clause=update(User).values(active=True)) is db.engine
        del session.info[READ_REPLICA]
        assert session.get_bind(clause=select(User)) is db.engine
    finally:
        session.close()
        other.dispose()


def test_a_routed_session_reads_from_the_replica_and_flushes_to_the_primary(app):
    other = create_engine("sqlite://")
    db.metadata.create_all(other)  # the schema without a row: what is read here is empty
    user = make_user("director")
    session = db.session.session_factory()
    session.info[READ_REPLICA] = other
    try:
        assert session.get(User, user.id) is None
        session.add(AuditLog(action="replica_test", entity="test"))
        session.commit()
    finally:
        session.close()
    written = select(func.count()).select_from(AuditLog).where(AuditLog.action == "replica_test")
    assert db.session.scalar(written) == 1
    with other.connect() as conn:
        assert conn.execute(written).scalar_one() == 0
    other.dispose()


def test_a_replica_setting_that_is_no_url_stops_the_start_without_repeating_it():
    with pytest.raises(ValueError, match="DATABASE_URL_REPLICA") as refused:
        make_app(DATABASE_URL_REPLICA="replica-host:5432 secret-password")
    assert "secret-password" not in str(refused.value)
