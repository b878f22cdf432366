"""Migration 0011 brings an existing fund's policy up to the law of 2024 (issue 15): the
later legal versions are written only where the 2021 version is stored and nothing is
decided from the later date on; an empty database gets nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from fundapp.extensions import db
from tests.services.conftest import empty_database, models_schema

pytestmark = pytest.mark.usefixtures("migrations_dir")


def _versions() -> set[tuple[str, str, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT key, effective_from, value FROM policy_parameters"))
        return {(k, str(d), v) for k, d, v in rows}


def test_0011_writes_the_2024_law_into_a_fund_that_has_the_2021_law(app):
    empty_database()
    try:
        upgrade(revision="0010")
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            for key, since, value in (
                ("group_thresholds_days", date(2021, 4, 1), "10,91,181,361"),
                ("provision_rates_pct", date(2021, 4, 1), "0,5,20,50,100"),
                # The board already decided a version after Decree 86/2024: it stands.
                ("provision_rates_pct", date(2025, 1, 1), "0,3,30,50,100"),
            ):
                conn.execute(
                    text(
                        "INSERT INTO policy_parameters (key, value, effective_from, "
                        "legal_reference, note, created_at) VALUES (:k, :v, :d, '', '', :t)"
                    ),
                    {"k": key, "v": value, "d": since, "t": now},
                )
        upgrade(revision="0011")
        assert _versions() == {
            ("group_thresholds_days", "2021-04-01", "10,91,181,361"),
            ("group_thresholds_days", "2024-08-12", "10,30,90,180"),
            ("provision_rates_pct", "2021-04-01", "0,5,20,50,100"),
            ("provision_rates_pct", "2025-01-01", "0,3,30,50,100"),
        }
        downgrade(revision="0010")
        assert ("group_thresholds_days", "2024-08-12", "10,30,90,180") not in _versions()
        assert len(_versions()) == 3
    finally:
        models_schema()
