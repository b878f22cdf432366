"""administrative units as dated reference data, their successions, a cooperative's dated address

The ten-district CHECK goes; a cooperative's stored district moves to
``former_district_code`` and its commune text is matched, where the units tell, to the
commune unit of that district (else kept in the address text). Upgrade loads the units
of the configured province (FUNDAPP_PROVINCE, default 24) and its predecessors:
reference data, not demo data.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 08:30:00

"""

import os
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TEN_DISTRICTS = ("213", "215", "216", "217", "218", "219", "220", "221", "222", "223")


def _province() -> str:
    try:
        from flask import current_app

        return str(current_app.config.get("FUNDAPP_PROVINCE") or "24")
    except RuntimeError:  # outside an app (plain alembic)
        return os.environ.get("FUNDAPP_PROVINCE", "24")


def upgrade():
    op.create_table(
        "admin_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("era", sa.String(length=7), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("legal_act", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "level IN ('province', 'district', 'commune')", name=op.f("ck_admin_units_level_known")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            name=op.f("ck_admin_units_dates_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["admin_units.id"],
            name=op.f("fk_admin_units_parent_id_admin_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_units")),
        sa.UniqueConstraint("era", "level", "code", name="uq_admin_units_era_level_code"),
    )
    with op.batch_alter_table("admin_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_units_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_units_parent_id"), ["parent_id"], unique=False)
    op.create_table(
        "unit_successions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("old_unit_id", sa.Integer(), nullable=False),
        sa.Column("new_unit_id", sa.Integer(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('unchanged', 'renamed', 'merged', 'divided')",
            name=op.f("ck_unit_successions_kind_known"),
        ),
        sa.CheckConstraint(
            "old_unit_id <> new_unit_id", name=op.f("ck_unit_successions_not_itself")
        ),
        sa.ForeignKeyConstraint(
            ["old_unit_id"],
            ["admin_units.id"],
            name=op.f("fk_unit_successions_old_unit_id_admin_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["new_unit_id"],
            ["admin_units.id"],
            name=op.f("fk_unit_successions_new_unit_id_admin_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_successions")),
        sa.UniqueConstraint("old_unit_id", "new_unit_id", name="uq_unit_successions_old_new"),
    )
    with op.batch_alter_table("unit_successions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unit_successions_new_unit_id"), ["new_unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_unit_successions_old_unit_id"), ["old_unit_id"], unique=False
        )
    op.create_table(
        "cooperative_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cooperative_id", sa.Integer(), nullable=False),
        sa.Column("commune_unit_id", sa.Integer(), nullable=True),
        sa.Column("street", sa.String(length=255), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from",
            name=op.f("ck_cooperative_addresses_dates_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["commune_unit_id"],
            ["admin_units.id"],
            name=op.f("fk_cooperative_addresses_commune_unit_id_admin_units"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["cooperative_id"],
            ["cooperatives.id"],
            name=op.f("fk_cooperative_addresses_cooperative_id_cooperatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cooperative_addresses")),
    )
    with op.batch_alter_table("cooperative_addresses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cooperative_addresses_commune_unit_id"),
            ["commune_unit_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_cooperative_addresses_cooperative_id"), ["cooperative_id"], unique=False
        )

    # The reference units, then the cooperatives' addresses matched against them.
    from fundapp.areas import loader

    conn = op.get_bind()
    loader.load_with(conn, _province())

    with op.batch_alter_table("cooperatives", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commune_unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("former_district_code", sa.String(length=3), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_cooperatives_commune_unit_id"), ["commune_unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cooperatives_former_district_code"),
            ["former_district_code"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cooperatives_commune_unit_id_admin_units"),
            "admin_units",
            ["commune_unit_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    _convert_cooperatives(conn)
    with op.batch_alter_table("cooperatives", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_cooperatives_district_known"), type_="check")
        batch_op.drop_index(batch_op.f("ix_cooperatives_district_code"))
        batch_op.drop_column("district_code")
        batch_op.drop_column("commune")
    _first_addresses(conn)


def _convert_cooperatives(conn):
    """district_code → former_district_code; the commune text matched by name among the
    communes of that district (2021 list first, then 2025-01); an unmatched text is kept
    at the end of the address."""
    from fundapp.areas.catalogue import name_key

    units = sa.table(
        "admin_units",
        sa.column("id"),
        sa.column("era"),
        sa.column("level"),
        sa.column("code"),
        sa.column("name"),
        sa.column("parent_id"),
    )
    parents = {r.id: r for r in conn.execute(sa.select(units))}
    by_district: dict[tuple[str, str], int] = {}
    for unit in sorted(parents.values(), key=lambda u: u.era, reverse=True):
        parent = parents.get(unit.parent_id)
        if unit.level == "commune" and parent is not None and parent.level == "district":
            key = name_key(unit.name)
            for bare in (
                key,
                key.removeprefix("xa").removeprefix("phuong").removeprefix("thitran"),
            ):
                by_district[(parent.code, bare)] = unit.id
    coops = sa.table(
        "cooperatives",
        sa.column("id"),
        sa.column("district_code"),
        sa.column("commune"),
        sa.column("address"),
        sa.column("created_at"),
        sa.column("commune_unit_id"),
        sa.column("former_district_code"),
    )
    rows = conn.execute(
        sa.select(
            coops.c.id, coops.c.district_code, coops.c.commune, coops.c.address, coops.c.created_at
        )
    ).all()
    for cid, district, commune, address, _created in rows:
        unit_id = by_district.get((district, name_key(commune or ""))) if commune else None
        street = address or ""
        if commune and unit_id is None:
            street = ", ".join(p for p in (street, commune) if p)[:255]
        conn.execute(
            sa.update(coops)
            .where(coops.c.id == cid)
            .values(former_district_code=district, commune_unit_id=unit_id, address=street)
        )


def _first_addresses(conn):
    """Each cooperative's first address row, from the day it was registered (after the
    table's rebuild: rows of a child table are written once the parent is final)."""
    coops = sa.table(
        "cooperatives",
        sa.column("id"),
        sa.column("address"),
        sa.column("created_at"),
        sa.column("commune_unit_id"),
    )
    addresses = sa.table(
        "cooperative_addresses",
        sa.column("cooperative_id"),
        sa.column("commune_unit_id"),
        sa.column("street"),
        sa.column("valid_from"),
    )
    rows = conn.execute(
        sa.select(coops.c.id, coops.c.commune_unit_id, coops.c.address, coops.c.created_at)
    ).all()
    for cid, unit_id, street, created in rows:
        start = (
            created.date() if hasattr(created, "date") else date.fromisoformat(str(created)[:10])
        )
        conn.execute(
            sa.insert(addresses).values(
                cooperative_id=cid, commune_unit_id=unit_id, street=street or "", valid_from=start
            )
        )


def downgrade():
    conn = op.get_bind()
    with op.batch_alter_table("cooperatives", schema=None) as batch_op:
        batch_op.add_column(sa.Column("district_code", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("commune", sa.String(length=100), nullable=True))
    coops = sa.table(
        "cooperatives",
        sa.column("id"),
        sa.column("district_code"),
        sa.column("commune"),
        sa.column("commune_unit_id"),
        sa.column("former_district_code"),
    )
    units = sa.table("admin_units", sa.column("id"), sa.column("name"))
    names = dict(conn.execute(sa.select(units.c.id, units.c.name)).tuples().all())
    for cid, unit_id, district in conn.execute(
        sa.select(coops.c.id, coops.c.commune_unit_id, coops.c.former_district_code)
    ).all():
        if district not in TEN_DISTRICTS:
            raise RuntimeError(
                f"cooperative {cid}: former district {district!r} is not one of Bắc Giang's ten "
                "2021 districts; the old schema cannot hold it"
            )
        conn.execute(
            sa.update(coops)
            .where(coops.c.id == cid)
            .values(district_code=district, commune=(names.get(unit_id) or "")[:100])
        )
    checked = "district_code IN (" + ", ".join(f"'{c}'" for c in TEN_DISTRICTS) + ")"
    with op.batch_alter_table("cooperatives", schema=None) as batch_op:
        batch_op.alter_column("district_code", existing_type=sa.String(length=3), nullable=False)
        batch_op.alter_column("commune", existing_type=sa.String(length=100), nullable=False)
        batch_op.create_check_constraint(batch_op.f("ck_cooperatives_district_known"), checked)
        batch_op.create_index(
            batch_op.f("ix_cooperatives_district_code"), ["district_code"], unique=False
        )
        batch_op.drop_constraint(
            batch_op.f("fk_cooperatives_commune_unit_id_admin_units"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_cooperatives_former_district_code"))
        batch_op.drop_index(batch_op.f("ix_cooperatives_commune_unit_id"))
        batch_op.drop_column("former_district_code")
        batch_op.drop_column("commune_unit_id")
    op.drop_table("cooperative_addresses")
    op.drop_table("unit_successions")
    op.drop_table("admin_units")
