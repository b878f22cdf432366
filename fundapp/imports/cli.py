"""``flask loans import FILE [--dry-run] [--user USERNAME] [--origin CODE]`` and ``flask loans
export FILE``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from fundapp.auth.models import User
from fundapp.core.dates import business_date
from fundapp.core.security import has_role
from fundapp.domain.errors import DomainError
from fundapp.domain.money import format_dong
from fundapp.extensions import db
from fundapp.imports import services
from fundapp.imports.export import loan_book
from fundapp.imports.template import csv_bytes, xlsx_bytes

loans_cli = AppGroup("loans", help="Loans moved in from the fund's old spreadsheets.")


def _accountant(username: str | None) -> object:
    """The named accountant; without a name, the only active accountant there is."""
    users = [
        u
        for u in db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))
        if has_role(u, "accountant") and (username is None or u.username == username)
    ]
    if len(users) == 1:
        return users[0]
    if username:
        raise click.ClickException(f"no active accountant named {username!r}")
    raise click.ClickException("name the accountant who imports with --user USERNAME")


@loans_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--user", "username", default=None, help="The accountant who imports.")
@click.option(
    "--origin",
    default=None,
    help="Code of the fund whose book FILE is (flask origins list); default this fund.",
)
def import_command(file: Path, dry_run: bool, username: str | None, origin: str | None) -> None:
    """Import the loans of FILE (.xlsx or .csv, the import template); exit 1 on any error."""
    actor = _accountant(username)
    run = services.dry_run if dry_run else services.import_loans
    try:
        report = run(actor, file.read_bytes(), file.name, business_date(), origin=origin)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    for row in report.rows:
        if row.ok:
            figures = (
                f" outstanding {format_dong(row.principal_outstanding)} ({row.status})"
                if row.principal_outstanding is not None
                else " (checked; not simulated while other rows have errors)"
            )
            click.echo(f"line {row.line}: OK {row.contract_no}{figures}")
        else:
            click.echo(row.message, err=True)
        for warning in row.warnings:
            click.echo(f"line {row.line}: warning: {warning}")
    if report.imported:
        db.session.commit()
        click.echo(report.summary)
        return
    db.session.rollback()
    if report.ok:
        click.echo(report.summary)
        return
    click.echo(report.summary, err=True)
    raise SystemExit(1)


@loans_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_command(file: Path) -> None:
    """Write the active loans to FILE (.xlsx or .csv) in the import format."""
    if file.suffix.lower() not in (".xlsx", ".csv"):
        raise click.ClickException("FILE must end in .xlsx or .csv")
    book = loan_book()
    write = xlsx_bytes if file.suffix.lower() == ".xlsx" else csv_bytes
    file.write_bytes(write(book.rows))
    for note in book.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"{len(book.rows)} loans written to {file}")
