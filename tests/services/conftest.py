"""Shared set-up of the migration tests: Alembic runs from the project root on an emptied
database, and the models' tables are put back afterwards for the tests that follow."""

from __future__ import annotations

from typing import Any

import pytest

from fundapp.extensions import db


@pytest.fixture
def migrations_dir(app: Any, monkeypatch: Any) -> None:
    """Run from the project root, where Alembic finds ``migrations/``."""
    monkeypatch.chdir(app.root_path + "/..")


def empty_database() -> None:
    """No table at all, ``alembic_version`` included: the start of ``upgrade``."""
    db.session.rollback()
    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def models_schema() -> None:
    """The models' tables again, without Alembic's: what every other test expects."""
    db.session.rollback()  # release the session's locks before dropping tables
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    db.drop_all()
    db.create_all()
