"""The scheduled jobs, as data. Only ``flask jobs run`` (one process of its own) turns this
list into an APScheduler scheduler; nothing here imports APScheduler, so importing the app
never starts or even loads a scheduler.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JobSpec:
    """One job: ``func`` ("package.module:function") is called with the Flask app, daily at
    the "HH:MM" held in the config key ``at_setting`` (in FUNDAPP_TIMEZONE), or, when
    ``every`` is True, every N minutes (N, from 1 to 60, held in ``at_setting``)."""

    id: str
    func: str
    at_setting: str
    description: str
    # Run once as soon as the scheduler starts, so a restart after downtime catches up.
    run_at_start: bool = True
    every: bool = False


# The messages' sends and retries (fundapp/notices/outbox.py), every few minutes.
MESSAGES_JOB = JobSpec(
    id="messages",
    func="fundapp.jobs.runner:messages_job",
    at_setting="MESSAGE_RETRY_EVERY",
    description="Messages: send the queued e-mails, SMS and Zalo messages and the retries due",
    every=True,
)

JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        id="close_day",
        func="fundapp.jobs.runner:close_day_job",
        at_setting="FUNDAPP_CLOSE_DAY_AT",
        description="Close of day: every business date not yet closed, in order",
    ),
    MESSAGES_JOB,
)

_HH_MM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def daily_time(value: str) -> tuple[int, int]:
    """``"00:15"`` → ``(0, 15)``; anything else is a ValueError naming the value."""
    match = _HH_MM.fullmatch(str(value).strip())
    if not match:
        raise ValueError(f"expected a time of day HH:MM (00:00-23:59), not {value!r}")
    return int(match.group(1)), int(match.group(2))


def every_minutes(value: Any) -> int:
    """``"5"`` → 5; anything but a whole number of minutes from 1 to 60 is a ValueError."""
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= 60:
        raise ValueError(f"expected a number of minutes from 1 to 60, not {value!r}")
    return int(text)


def cron_fields(job: JobSpec, config: Mapping[str, Any]) -> dict[str, Any]:
    """The CronTrigger arguments of ``job`` under ``config``."""
    if job.every:
        minutes = every_minutes(config[job.at_setting])
        return {"minute": f"*/{minutes}", "timezone": config["FUNDAPP_TIMEZONE"]}
    hour, minute = daily_time(config[job.at_setting])
    return {"hour": hour, "minute": minute, "timezone": config["FUNDAPP_TIMEZONE"]}


def describe_trigger(job: JobSpec, config: Mapping[str, Any]) -> str:
    fields = cron_fields(job, config)
    if job.every:
        return f"every {fields['minute'][2:]} minutes past the hour {fields['timezone']}"
    return f"daily at {fields['hour']:02d}:{fields['minute']:02d} {fields['timezone']}"
