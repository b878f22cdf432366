"""Writes the catalogue's units and successions into the database, idempotently.

Works on a plain connection, so the migration that creates the tables loads them too."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from fundapp.areas import catalogue
from fundapp.areas.models import AdminUnit, UnitSuccession
from fundapp.extensions import db

UNITS = AdminUnit.__table__
SUCCESSIONS = UnitSuccession.__table__


@dataclass(frozen=True)
class LoadResult:
    units_added: int
    units_updated: int
    successions_added: int
    orphans: tuple[catalogue.Key, ...]


def _ids(conn: Connection) -> dict[catalogue.Key, int]:
    rows = conn.execute(select(UNITS.c.era, UNITS.c.level, UNITS.c.code, UNITS.c.id))
    return {(era, level, code): uid for era, level, code, uid in rows}


def load_with(conn: Connection, province: str | None) -> LoadResult:
    """Loads today's province ``province`` (None: every province) with its predecessors.
    Rows already there keep their ids; their name, dates and act are brought up to date."""
    cat = catalogue.build(province)
    ids = _ids(conn)
    stored = {
        r.id: (r.name, r.valid_from, r.valid_to, r.legal_act, r.parent_id)
        for r in conn.execute(
            select(UNITS.c.id, UNITS.c.name, UNITS.c.valid_from, UNITS.c.valid_to,
                   UNITS.c.legal_act, UNITS.c.parent_id)
        )
    }  # fmt: skip
    added = updated = 0
    for level in ("province", "district", "commune"):
        new = []
        for u in (u for u in cat.units if u.level == level):
            parent_id = ids[u.parent] if u.parent else None
            values = (u.name, u.valid_from, u.valid_to, u.legal_act, parent_id)
            if u.key in ids:
                if stored.get(ids[u.key]) != values:
                    conn.execute(
                        update(UNITS)
                        .where(UNITS.c.id == ids[u.key])
                        .values(
                            name=u.name,
                            valid_from=u.valid_from,
                            valid_to=u.valid_to,
                            legal_act=u.legal_act,
                            parent_id=parent_id,
                        )
                    )
                    updated += 1
            else:
                new.append(
                    {
                        "era": u.era,
                        "level": u.level,
                        "code": u.code,
                        "name": u.name,
                        "valid_from": u.valid_from,
                        "valid_to": u.valid_to,
                        "legal_act": u.legal_act,
                        "parent_id": parent_id,
                    }
                )
        if new:
            conn.execute(insert(UNITS), new)
            added += len(new)
            ids = _ids(conn)
    known = set(conn.execute(select(SUCCESSIONS.c.old_unit_id, SUCCESSIONS.c.new_unit_id)).tuples())
    successions = [
        {
            "old_unit_id": ids[s.old],
            "new_unit_id": ids[s.new],
            "effective": s.effective,
            "kind": s.kind,
            "is_default": s.is_default,
        }
        for s in cat.successions
        if (ids[s.old], ids[s.new]) not in known
    ]
    if successions:
        conn.execute(insert(SUCCESSIONS), successions)
    return LoadResult(added, updated, len(successions), cat.orphans)


def load(province: str | None) -> LoadResult:
    """As ``load_with``, in the session's transaction (the caller commits)."""
    result = load_with(db.session.connection(), province)
    db.session.flush()
    return result


def loaded(province: str) -> bool:
    return (
        db.session.scalar(
            select(AdminUnit.id).where(
                AdminUnit.era == catalogue.ERA_2025_07,
                AdminUnit.level == "province",
                AdminUnit.code == province,
            )
        )
        is not None
    )
