"""``flask origins list`` and ``flask origins add CODE NAME``: the funds whose books are
carried here (this fund and the funds whose loans it took over)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.funds import services

origins_cli = AppGroup("origins", help="Origin funds: this fund and the funds it took over.")


@origins_cli.command("list")
def list_command() -> None:
    for origin in services.origins():
        mark = " (this fund)" if origin.is_own else ""
        click.echo(f"{origin.code}\t{origin.name}{mark}")


@origins_cli.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--note", default="", help="e.g. the decision of the take-over")
def add_command(code: str, name: str, note: str) -> None:
    """Register the fund CODE (e.g. BN) whose book is taken over."""
    try:
        services.ensure_own()
        fund = services.create(None, code, name, note)
    except DomainError as exc:
        db.session.rollback()
        detail = "; ".join(exc.fields.values()) or exc.message
        raise click.ClickException(detail) from None
    db.session.commit()
    click.echo(f"origin fund {fund.code} added: {fund.name}")
