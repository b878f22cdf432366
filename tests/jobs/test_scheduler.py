"""``flask jobs``: the job list, the scheduler it builds, ``--once``, and a real scheduler
process — and no scheduler anywhere else (create_app, wsgi, import)."""

from __future__ import annotations

import gc
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from fundapp.extensions import db
from fundapp.jobs import JOBS, cron_fields, daily_time
from fundapp.jobs.runner import MISFIRE_GRACE_SECONDS, build_scheduler, close_day_job
from fundapp.servicing import close_day, provisions
from tests.conftest import BUSINESS_DATE, PG_URL, fresh_database, make_app
from tests.jobs.helpers import FIRST, FLASK, ROOT, book_in_arrears, days, runs, scheduler_env


def runs_by_trigger() -> list[tuple[object, str]]:
    return [(d, t) for _i, d, t in runs()]


@pytest.fixture
def shared_app(tmp_path: Path) -> Iterator[Flask]:
    """An app whose database another process can open: the test PostgreSQL, or a file."""
    if PG_URL:
        app = make_app()
    else:
        app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'jobs.db'}")
    with fresh_database(app) as app:
        yield app


# --- the job list and the scheduler built from it -----------------------------------------


def test_the_job_list_is_data_and_names_the_close_of_day():
    assert [job.id for job in JOBS] == ["close_day", "messages"]
    job = JOBS[0]
    assert job.func == "fundapp.jobs.runner:close_day_job"
    assert job.at_setting == "FUNDAPP_CLOSE_DAY_AT" and job.run_at_start
    assert daily_time("00:15") == (0, 15)
    assert daily_time("7:05") == (7, 5)
    for bad in ("24:00", "00:60", "0015", "", "noon"):
        with pytest.raises(ValueError):
            daily_time(bad)


def test_the_scheduler_runs_the_close_of_day_at_0015_hanoi_time_once_at_a_time(app):
    assert app.config["FUNDAPP_CLOSE_DAY_AT"] == "00:15"
    assert cron_fields(JOBS[0], app.config) == {
        "hour": 0,
        "minute": 15,
        "timezone": "Asia/Ho_Chi_Minh",
    }
    scheduler = build_scheduler(app)
    assert not scheduler.running
    assert str(scheduler.timezone) == "Asia/Ho_Chi_Minh"
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"close_day", "messages"}
    job = jobs["close_day"]
    assert job.func is close_day_job and job.args == (app,)
    assert (job.coalesce, job.max_instances) == (True, 1)
    assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS >= 6 * 3600
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("0", "15")
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    # The catch-up at start-up: due now, before the first 00:15.
    assert job.next_run_time <= datetime.now(tz)
    after = datetime(2026, 11, 20, 9, 0, tzinfo=tz)
    assert job.trigger.get_next_fire_time(None, after) == datetime(2026, 11, 21, 0, 15, tzinfo=tz)
    app.config["FUNDAPP_CLOSE_DAY_AT"] = "23:40"
    job = build_scheduler(app, at_start=False).get_job("close_day")
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("23", "40")
    # The messages' sends and retries: every MESSAGE_RETRY_EVERY minutes.
    messages = build_scheduler(app, at_start=False).get_job("messages")
    fields = {f.name: str(f) for f in messages.trigger.fields}
    assert fields["minute"] == f"*/{int(app.config['MESSAGE_RETRY_EVERY'])}"


def test_flask_jobs_list_prints_the_job_list(app, runner):
    result = runner.invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    assert "close_day\tdaily at 00:15 Asia/Ho_Chi_Minh; also at start-up" in result.output
    assert "fundapp.jobs.runner:close_day_job" in result.output


def test_a_bad_close_day_time_stops_the_scheduler_from_starting(app, runner):
    app.config["FUNDAPP_CLOSE_DAY_AT"] = "25:00"
    result = runner.invoke(args=["jobs", "run", "--once"])
    assert result.exit_code != 0
    assert "FUNDAPP_CLOSE_DAY_AT" in result.output and "25:00" in result.output
    assert runs() == []


# --- flask jobs run --once ----------------------------------------------------------------


def test_flask_jobs_run_once_closes_the_pending_dates(app, runner):
    book_in_arrears(loans=1)
    close_day.run_pending(FIRST, "test")
    db.session.remove()

    result = runner.invoke(args=["jobs", "run", "--once"])
    assert result.exit_code == 0, result.output
    expected = days(FIRST + timedelta(days=1), BUSINESS_DATE)
    for day in expected:
        assert f"close_day: {day.isoformat()}: closed" in result.output
    assert runs_by_trigger() == [(FIRST, "test")] + [(d, "scheduler") for d in expected]

    again = runner.invoke(args=["jobs", "run", "--once"])
    assert again.exit_code == 0, again.output
    assert "nothing to do" in again.output
    assert len(runs()) == 1 + len(expected)


def test_flask_jobs_run_once_exits_1_when_the_close_of_day_fails(app, runner, monkeypatch):
    book_in_arrears(loans=1)
    close_day.run_pending(FIRST, "test")
    db.session.remove()

    def broken(*_args: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(provisions, "post_provisions", broken)
    result = runner.invoke(args=["jobs", "run", "--once"])
    assert result.exit_code == 1
    assert "FAILED" in result.output and "disk full" in result.output
    assert [d for _i, d, _t in runs()] == [FIRST]


# --- no scheduler outside `flask jobs run` --------------------------------------------------


def _scheduler_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if "apscheduler" in t.name.lower()]


def _running_schedulers() -> list[object]:
    if "apscheduler" not in sys.modules:
        return []
    from apscheduler.schedulers.base import BaseScheduler

    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, BaseScheduler) and o.running]


def test_create_app_starts_no_scheduler(tmp_path):
    threads_before = {t.ident for t in threading.enumerate()}
    app = make_app()
    assert "jobs" in app.cli.commands  # the command is there, the scheduler is not
    assert {t.ident for t in threading.enumerate()} - threads_before == set()
    assert _scheduler_threads() == []
    assert _running_schedulers() == []

    # In a clean interpreter importing wsgi (create_app) does not even load APScheduler.
    probe = (
        "import sys, threading, json\n"
        "import wsgi\n"
        "print(json.dumps({'loaded': sorted(m for m in sys.modules if m.startswith('apscheduler')),"
        " 'threads': [t.name for t in threading.enumerate()]}))\n"
    )
    env = scheduler_env(f"sqlite:///{tmp_path / 'probe.db'}", BUSINESS_DATE)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"loaded": [], "threads": ["MainThread"]}


# --- a real scheduler process ---------------------------------------------------------------


def test_the_scheduler_process_catches_up_at_start_and_stops_on_sigterm(shared_app):
    book_in_arrears(loans=1)
    close_day.run_pending(FIRST, "test")
    url = shared_app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    expected = days(FIRST + timedelta(days=1), BUSINESS_DATE)

    process = subprocess.Popen(
        [str(FLASK), "jobs", "run"],
        cwd=ROOT,
        env=scheduler_env(url, BUSINESS_DATE),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            if len(runs()) == 1 + len(expected):
                break
            db.session.remove()
            time.sleep(0.3)
        assert process.poll() is None, "the scheduler must keep running after the catch-up"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "scheduler starting" in output and "scheduler stopped" in output
    assert runs_by_trigger() == [(FIRST, "test")] + [(d, "scheduler") for d in expected], output
