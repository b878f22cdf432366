"""The fund's business date: read from the application's configuration, so only the edges
(views, CLI, jobs) call it; the domain takes dates as arguments."""

from __future__ import annotations

from datetime import date

from flask import current_app

from fundapp.domain.dates import DEFAULT_TZ, today_in


def business_date() -> date:
    """The fund's working date: FUNDAPP_BUSINESS_DATE when set (demo, tests), else today in
    the fund's time zone. Only the edges (views, CLI, jobs) call this."""
    fixed = current_app.config.get("FUNDAPP_BUSINESS_DATE")
    if fixed:
        return date.fromisoformat(str(fixed))
    return today_in(current_app.config.get("FUNDAPP_TIMEZONE", DEFAULT_TZ))
