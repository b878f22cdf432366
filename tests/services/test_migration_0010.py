"""Migration 0010 converts the cooperatives stored with the ten 2021 districts."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from fundapp.extensions import db
from tests.conftest import load_units
from tests.services.conftest import models_schema

pytestmark = pytest.mark.usefixtures("migrations_dir")


def _rebuild() -> None:
    models_schema()
    load_units()


def test_upgrade_moves_the_district_and_matches_the_commune(app: Any) -> None:
    _rebuild()
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision="0009")
    insert = text(
        "INSERT INTO cooperatives (name, kind, registration_no, tax_code, district_code, "
        "commune, address, sector, representative, phone, members_count, bank_account, "
        "bank_name, created_at) VALUES (:name, 'cooperative', :reg, :tax, :district, "
        ":commune, :address, '', '', '', 0, '', '', :created)"
    )
    with db.engine.begin() as conn:
        for n, (district, commune, address) in enumerate(
            [
                ("219", "Thị trấn Chũ", "Thôn Trại"),  # matched: 07525 of 2021
                ("221", "Tư Mại", ""),  # without its kind, in the district gone in 2025
                ("213", "Xóm Bến", "Số 5"),  # no such commune: kept in the address
            ]
        ):
            conn.execute(
                insert,
                {
                    "name": f"HTX {n}",
                    "reg": f"R{n}",
                    "tax": f"240000000{n}",
                    "district": district,
                    "commune": commune,
                    "address": address,
                    "created": "2022-05-04 03:00:00+00:00",
                },
            )
        # A borrower's user (RESTRICT) and notice (CASCADE) survive the table's rebuild.
        conn.execute(
            text(
                "INSERT INTO users (username, password_hash, full_name, active, cooperative_id, "
                "created_at) VALUES ('htx0', 'x', 'HTX 0', TRUE, 1, '2022-05-04 03:00:00+00:00')"
            )
        )
    upgrade(revision="0010")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT cooperative_id FROM users")).scalar() == 1
        rows = conn.execute(
            text(
                "SELECT c.former_district_code, u.code, u.era, c.address, a.valid_from "
                "FROM cooperatives c LEFT JOIN admin_units u ON u.id = c.commune_unit_id "
                "JOIN cooperative_addresses a ON a.cooperative_id = c.id ORDER BY c.id"
            )
        ).all()
        units = conn.execute(text("SELECT count(*) FROM admin_units")).scalar()
    assert [tuple(r[:4]) for r in rows] == [
        ("219", "07525", "2021", "Thôn Trại"),
        ("221", "07741", "2021", ""),
        ("213", None, None, "Số 5, Xóm Bến"),
    ]
    assert all(str(r[4])[:10] == date(2022, 5, 4).isoformat() for r in rows)
    assert units > 500  # the province's reference units came with the upgrade
    downgrade(revision="0009")
    with db.engine.connect() as conn:
        back = conn.execute(
            text("SELECT district_code, commune FROM cooperatives ORDER BY id")
        ).all()
    assert [tuple(r) for r in back] == [("219", "Thị trấn Chũ"), ("221", "Xã Tư Mại"), ("213", "")]
    _rebuild()
