"""``flask jobs``: the scheduler process and the job list.

APScheduler is imported only when the scheduler is built (``runner.build_scheduler``), so
registering this group in ``create_app`` loads no scheduler.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from fundapp.jobs import JOBS, describe_trigger, runner

jobs_cli = AppGroup("jobs", help="Scheduled jobs: run them in one process of their own.")


@jobs_cli.command("run")
@click.option(
    "--once", is_flag=True, help="Run every job once now and exit (cron, tests) instead of serving."
)
def jobs_run(once: bool) -> None:
    """Run the scheduler in the foreground (one process only; the close of day also takes a
    database lock). It first catches up the dates missed while it was down."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for job in JOBS:
        try:
            describe_trigger(job, app.config)
        except ValueError as exc:
            raise click.ClickException(f"{job.at_setting}: {exc}") from None
    if once:
        failed = False
        for job, outcome in runner.run_once(app):
            for line in outcome.lines():
                click.echo(f"{job.id}: {line}")
            failed = failed or not outcome.ok
        if failed:
            raise SystemExit(1)
        return
    runner.serve(app)


@jobs_cli.command("list")
def jobs_list() -> None:
    """Print the scheduled jobs: id, trigger, function, description."""
    for job in JOBS:
        try:
            trigger = describe_trigger(job, current_app.config)
        except ValueError as exc:
            trigger = f"INVALID {job.at_setting}: {exc}"
        start = "; also at start-up" if job.run_at_start else ""
        click.echo(f"{job.id}\t{trigger}{start}\t{job.func}\t{job.description}")
