"""Migration 0016 fills the search and sort keys (fundapp.core.lists) of rows already
stored, so an existing fund's lists search without diacritics from the first request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from fundapp.core.lists import vn_key
from fundapp.extensions import db
from tests.services.conftest import empty_database, models_schema

pytestmark = pytest.mark.usefixtures("migrations_dir")


def test_0016_fills_the_keys_of_stored_rows(app):
    empty_database()
    try:
        upgrade(revision="0015")
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (username, full_name, password_hash, active, created_at) "
                    "VALUES ('dao', 'Đào Thị Hoa', 'x', true, :t)"
                ),
                {"t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO related_groups (name, note, created_at) "
                    "VALUES ('Nhóm Gà đồi', '', :t)"
                ),
                {"t": now},
            )
        upgrade(revision="0016")
        with db.engine.connect() as conn:
            user = conn.execute(text("SELECT search_key, name_key FROM users")).one()
            group = conn.execute(text("SELECT search_key FROM related_groups")).one()
        assert user == ("dao | dao thi hoa", vn_key("Đào Thị Hoa"))
        assert group == ("nhom ga doi",)
        downgrade(revision="0015")
        columns = {c["name"] for c in inspect(db.engine).get_columns("users")}
        assert "search_key" not in columns and "name_key" not in columns
    finally:
        models_schema()
