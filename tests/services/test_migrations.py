"""The migrations build exactly the schema the models describe, with a single head."""

from __future__ import annotations

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import inspect

from fundapp.extensions import db, migrate
from tests.services.conftest import empty_database, models_schema

pytestmark = pytest.mark.usefixtures("migrations_dir")


def test_single_migration_head(app):
    config = migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1


def test_upgrade_builds_the_models_schema(app):
    empty_database()
    upgrade()
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "users",
        "cooperatives",
        "journal_entries",
        "journal_lines",
        "capital_entries",
        "policy_parameters",
        "audit_log",
    } <= tables
    with db.engine.connect() as conn, warnings.catch_warnings():
        if conn.dialect.name == "sqlite":
            # The search's trigram indexes are PostgreSQL's alone (``ddl_if``); SQLite
            # cannot reflect expression indexes, and has none of these to compare.
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified")
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == [], diff
    # upgrade seeds nothing
    from fundapp.auth.models import User
    from fundapp.policy.models import PolicyParameter

    assert db.session.query(User).count() == 0
    assert db.session.query(PolicyParameter).count() == 0
    models_schema()
