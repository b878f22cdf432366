"""The scheduler process (``flask jobs run``) and the jobs it runs.

APScheduler is imported here only, and this module only by ``flask jobs``: the web app
never starts a scheduler (docs/rules.md#close-of-day: with several web workers it runs in
exactly one process; a second one is harmless anyway, the close of day takes a database lock).
"""

from __future__ import annotations

import importlib
import logging
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask import Flask

from fundapp.core.dates import business_date
from fundapp.extensions import db
from fundapp.jobs import JOBS, JobSpec, cron_fields
from fundapp.notices.delivery import deliver_pending
from fundapp.servicing.close_day import CloseDayResult, run_pending

if TYPE_CHECKING:
    from apscheduler.schedulers.blocking import BlockingScheduler

log = logging.getLogger("fundapp.jobs")

TRIGGER = "scheduler"
# A tick missed while the process was suspended or busy still runs this late; the run is
# idempotent and catches up in order, so late is always better than skipped.
MISFIRE_GRACE_SECONDS = 23 * 3600


@dataclass(frozen=True)
class JobOutcome:
    """What one run of a job did: ``ok`` is False when it failed (logged, retried later)."""

    ok: bool
    results: tuple[CloseDayResult, ...] = field(default_factory=tuple)
    error: str = ""
    note: str = ""  # what a job other than the close of day did

    def lines(self) -> list[str]:
        out = [_describe(r) for r in self.results]
        if self.note:
            out.append(self.note)
        elif self.ok and not self.results:
            out.append("nothing to do: every business date is closed already")
        if not self.ok:
            out.append(f"FAILED: {self.error}")
        return out


def _describe(result: CloseDayResult) -> str:
    day = result.business_date.isoformat()
    if result.ran:
        return f"{day}: closed {result.counts}"
    if result.reason == "locked":
        return f"{day}: another process holds the close-of-day lock; it carries on"
    return f"{day}: skipped ({result.reason})"


def close_day_job(app: Flask) -> JobOutcome:
    """Close every business date up to today's, in order, one commit per date.

    A failure is rolled back and recorded by ``run_pending`` (CloseDayFailure); it is
    logged here and not raised, so the scheduler stays up and the next tick retries."""
    with app.app_context():
        until = None
        try:
            until = business_date()
            results = run_pending(until, TRIGGER)
        except Exception as exc:
            db.session.rollback()
            log.exception("close of day up to %s failed; the next run retries it", until)
            return JobOutcome(False, error=repr(exc)[:500])
        outcome = JobOutcome(True, tuple(results))
        for line in outcome.lines():
            log.info("close of day: %s", line)
        return outcome


def messages_job(app: Flask) -> JobOutcome:
    """Queue and send the notices' messages and the retries due; a failure is logged, and
    the next tick retries."""
    with app.app_context():
        try:
            sent = deliver_pending()
        except Exception as exc:
            db.session.rollback()
            log.exception("messages: delivery failed; the next run retries it")
            return JobOutcome(False, error=repr(exc)[:500])
        log.info("messages: %s sent", sent)
        return JobOutcome(True, note=f"{sent} messages sent")


def resolve(path: str) -> Callable[[Flask], JobOutcome]:
    """``"package.module:function"`` → the function."""
    module_name, _sep, attr = path.partition(":")
    if not module_name or not attr:
        raise ValueError(f"job function must be 'module:function', not {path!r}")
    return getattr(importlib.import_module(module_name), attr)


def run_once(app: Flask, jobs: Iterable[JobSpec] = JOBS) -> list[tuple[JobSpec, JobOutcome]]:
    """Each job once, in list order, in this process (``flask jobs run --once``, cron)."""
    return [(job, resolve(job.func)(app)) for job in jobs]


def build_scheduler(
    app: Flask, jobs: Iterable[JobSpec] = JOBS, *, at_start: bool = True
) -> BlockingScheduler:
    """A blocking scheduler holding ``jobs``, not started. With ``at_start`` the jobs that
    ask for it run as soon as it starts (catch-up after downtime), then on their trigger."""
    # APScheduler loads here only, in the scheduler process: never in create_app.
    from apscheduler.executors.pool import ThreadPoolExecutor  # (scheduler process only)
    from apscheduler.schedulers.blocking import BlockingScheduler  # (scheduler process only)
    from apscheduler.triggers.cron import CronTrigger  # (scheduler process only)

    tz = ZoneInfo(app.config["FUNDAPP_TIMEZONE"])
    scheduler = BlockingScheduler(
        timezone=tz,
        # One worker: jobs never overlap inside the process (the lock guards across them).
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
    )
    for job in jobs:
        options: dict[str, Any] = {}
        if at_start and job.run_at_start:
            options["next_run_time"] = datetime.now(tz)
        scheduler.add_job(
            resolve(job.func),
            CronTrigger(**cron_fields(job, app.config)),
            args=(app,),
            id=job.id,
            name=job.description,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
            replace_existing=True,
            **options,
        )
    return scheduler


def serve(app: Flask, scheduler: BlockingScheduler | None = None) -> None:
    """Run the scheduler in the foreground until SIGINT or SIGTERM."""
    scheduler = scheduler or build_scheduler(app)

    def _stop(signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, _stop)
    log.info(
        "scheduler starting (%s): %s",
        app.config["FUNDAPP_TIMEZONE"],
        ", ".join(f"{job.id} {job.trigger}" for job in scheduler.get_jobs()),
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            # A run in progress finishes its date (the interpreter waits for the worker).
            scheduler.shutdown(wait=False)
        signal.signal(signal.SIGTERM, previous)
        log.info("scheduler stopped")
