"""``flask units load``: the administrative units from the pinned datasets."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from fundapp.areas import catalogue, loader, services
from fundapp.extensions import db

units_cli = AppGroup("units", help="Administrative units (reference data).")


@units_cli.command("load")
@click.option("--province", default=None, help="Today's province code (default FUNDAPP_PROVINCE).")
@click.option("--all", "everything", is_flag=True, help="Every province of the country.")
def load_command(province: str | None, everything: bool) -> None:
    """Load (or bring up to date) the units of a province and of those it was formed from."""
    code = None if everything else (province or services.fund_province())
    if code is not None and code not in catalogue.province_codes():
        raise click.ClickException(f"Unknown province code {code!r}.")
    result = loader.load(code)
    db.session.commit()
    services.forget()
    click.echo(
        f"units: {result.units_added} added, {result.units_updated} updated; "
        f"successions: {result.successions_added} added; "
        f"communes of 2021 with no successor in the data: {len(result.orphans)}"
        + (f" ({', '.join(k[2] for k in result.orphans[:20])})" if result.orphans else "")
    )
