"""Command-line interface: ``flask users``, ``fund``, ``policy``, ``demo``, ``close-day``,
``backup`` and ``restore``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from fundapp.admin.backup import BackupError, backup, read_manifest, restore
from fundapp.areas.cli import units_cli
from fundapp.auth.services import create_user
from fundapp.core.dates import business_date
from fundapp.demo.seed import DEMO_PASSWORD, DEMO_USERS, DemoError, database_is_empty, seed
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.funds.cli import origins_cli
from fundapp.funds.services import ensure_own
from fundapp.jobs.cli import jobs_cli
from fundapp.ledger.services import check_invariants
from fundapp.policy.services import install_defaults
from fundapp.servicing.close_day import run_pending
from fundapp.servicing.notices import contradictory_overdue_notices, repair_overdue_notices


def _fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


users_cli = AppGroup("users", help="User accounts.")


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="officer, accountant, director, board, controller, cooperative, admin",
)
@click.option("--cooperative-id", type=int, default=None)
@click.option("--full-name", default="")
@click.option("--email", default=None)
def users_create(
    username: str,
    password: str,
    roles: tuple[str, ...],
    cooperative_id: int | None,
    full_name: str,
    email: str | None,
) -> None:
    """Create a user with one or more roles."""
    try:
        user = create_user(None, username, password, list(roles), full_name, email, cooperative_id)
    except DomainError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        _fail(f"{exc.message} {details}".strip())
        return
    db.session.commit()
    click.echo(f"created user {user.username} ({', '.join(user.role_names)})")


fund_cli = AppGroup("fund", help="The fund's books.")


@fund_cli.command("check")
@click.option(
    "--deep",
    is_flag=True,
    help="Also replay every loan's history and compare it with the stored schedule, "
    "allocations and balances.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes replaying the loans with --deep (default: one per CPU; 1: in this one).",
)
def fund_check(deep: bool, workers: int | None) -> None:
    """Verify the ledger's invariants; exit 1 naming each broken one."""
    if workers is not None and not deep:
        raise click.UsageError("--workers goes with --deep")
    result = check_invariants(deep=deep, workers=workers)
    for rule in result.checked:
        click.echo(f"checked: {rule}")
    if not result.ok:
        for problem in result.problems:
            click.echo(f"BROKEN: {problem}", err=True)
        raise SystemExit(1)
    click.echo("OK: all invariants hold")


@fund_cli.command("repair-notices")
@click.option("--dry-run", is_flag=True, help="Only list the notices to correct.")
def fund_repair_notices(dry_run: bool) -> None:
    """Correct overdue-transfer notices that state the run's date as the transfer date
    (issue 16): they state the statement's transfer date, the day after the due date."""
    found = contradictory_overdue_notices()
    for notice in found:
        data = notice.data or {}
        click.echo(
            f"notice {notice.id} ({notice.recipient_key}, loan {notice.loan_id}): due "
            f"{data.get('due_date')}, stated transfer {data.get('transfer_date')}"
        )
    if dry_run:
        click.echo(f"notices to correct: {len(found)}")
        return
    repaired = repair_overdue_notices()
    db.session.commit()
    click.echo(f"notices corrected: {repaired}")


policy_cli = AppGroup("policy", help="Lending policy parameters.")


@policy_cli.command("init")
def policy_init() -> None:
    """Store the legal defaults of every parameter not stored yet."""
    added = install_defaults()
    ensure_own()  # this fund's row among the origin funds
    db.session.commit()
    click.echo(f"policy parameters added: {added}")


demo_cli = AppGroup("demo", help="The demo fund.")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has users.")
def demo_seed(if_empty: bool) -> None:
    """Build the Bắc Giang demo fund (refuses a database that already has data)."""
    if not database_is_empty():
        if if_empty:
            click.echo("database already has data: demo seed skipped")
            return
        _fail("the database already has data; demo seed only runs on an empty database")
    try:
        summary = seed()
    except DemoError as exc:
        _fail(str(exc))
        return
    db.session.commit()
    for line in summary:
        click.echo(line)


@demo_cli.command("logins")
def demo_logins() -> None:
    """Print the demo logins (one per role)."""
    click.echo("")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD})")
    for username, role, label, _coop in DEMO_USERS:
        click.echo(f"  {role:<12} {username:<16} {label}")
    click.echo("Open http://127.0.0.1:5000")
    click.echo("")


@click.command("close-day")
@click.option("--date", "day", default=None, help="YYYY-MM-DD (default: the business date)")
def close_day_command(day: str | None) -> None:
    """Close every business date not yet closed, up to DATE, in order."""
    try:
        until = date.fromisoformat(day) if day else business_date()
    except ValueError:
        raise click.ClickException("--date must be YYYY-MM-DD") from None
    try:
        results = run_pending(until, "cli")
    except DomainError as exc:
        _fail(exc.message)
        return
    if not results:
        click.echo(f"nothing to do: closed up to {until.isoformat()} already")
    for result in results:
        status = "closed" if result.ran else f"skipped ({result.reason})"
        click.echo(f"{result.business_date.isoformat()}: {status} {result.counts}")


@click.command("backup")
@click.argument("target", required=False, type=click.Path(path_type=Path))
def backup_command(target: Path | None) -> None:
    """Back up the database and the uploaded documents into one .tar.gz archive.

    TARGET is the archive's path or a folder (default: instance/backups)."""
    where = target or Path(current_app.instance_path) / "backups"
    if target is None:
        where.mkdir(parents=True, exist_ok=True)
    try:
        result = backup(where)
    except BackupError as exc:
        _fail(exc.message)
        return
    click.echo(
        f"backup written: {result.path} ({result.kind}, revision {result.revision}, "
        f"{result.uploads} uploaded files)"
    )


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database and the uploaded documents by those of a backup archive."""
    try:
        manifest = read_manifest(source)
    except BackupError as exc:
        _fail(exc.message)
        return
    click.echo(
        f"backup of {manifest['created_at']} ({manifest['kind']}, "
        f"revision {manifest['revision']}, {manifest['uploads']} uploaded files)"
    )
    if not yes:
        click.confirm("Everything recorded since then will be lost. Restore?", abort=True)
    try:
        restore(source)
    except BackupError as exc:
        _fail(exc.message)
        return
    click.echo(
        "restored; run `flask db upgrade` if the code is newer than the backup, "
        "then `flask fund check`"
    )


def register(app: Flask) -> None:
    for group in (users_cli, fund_cli, policy_cli, demo_cli):
        app.cli.add_command(group)
    app.cli.add_command(close_day_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(origins_cli)
    app.cli.add_command(units_cli)
