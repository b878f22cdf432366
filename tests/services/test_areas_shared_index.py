"""The units' index is kept for the process (fundapp/areas/services.py::_shared_index) and
checked against the tables on each request: a change made elsewhere is seen without
``forget()``, an unchanged book reuses the index."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import g
from sqlalchemy import select, update

from fundapp.areas import services as areas
from fundapp.areas.models import AdminUnit, UnitSuccession
from fundapp.extensions import db

TODAY = date(2026, 11, 20)


def _next_request() -> areas.Index:
    """What a new request sees: its own ``g``, the process's index."""
    db.session.rollback()
    g.pop("areas_index", None)
    return areas.index()


def test_an_unchanged_book_reuses_the_index_of_an_earlier_request(app: Any) -> None:
    first = _next_request()
    assert _next_request() is first
    assert areas.index() is first  # within a request: read once


def test_a_rename_committed_elsewhere_is_seen_by_the_next_request(app: Any) -> None:
    before = _next_request()
    unit_id, name = db.session.execute(
        select(AdminUnit.id, AdminUnit.name).where(
            AdminUnit.code == "07210", AdminUnit.era == "2025-07"
        )
    ).one()
    db.session.rollback()
    # Another process's load: its own connection, committed, and no forget() here.
    with db.engine.begin() as conn:
        conn.execute(update(AdminUnit).where(AdminUnit.id == unit_id).values(name="Phường Thử"))
    try:
        after = _next_request()
        assert after is not before
        assert after.units[unit_id].name == "Phường Thử"
        assert areas.resolve("07210", TODAY).name == "Phường Thử"
        assert "Phường Thử" in {n for _l, c in areas.commune_groups(TODAY) for _c, n in c}
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(update(AdminUnit).where(AdminUnit.id == unit_id).values(name=name))
        areas.forget()
    assert _next_request().units[unit_id].name == name


def test_a_succession_added_in_this_transaction_is_seen_before_the_commit(app: Any) -> None:
    ix = _next_request()
    old = ix.resolve("07201", date(2025, 6, 30))
    new = ix.resolve("07525", TODAY)
    assert old is not None and new is not None
    steps = len(ix.next.get(old.id, []))
    db.session.add(
        UnitSuccession(
            old_unit_id=old.id,
            new_unit_id=new.id,
            effective=date(2025, 7, 1),
            kind="merged",
            is_default=False,
        )
    )
    db.session.flush()
    g.pop("areas_index", None)
    assert len(areas.index().next.get(old.id, [])) == steps + 1
    # Rolled back: the next request is back to the tables as they are.
    assert len(_next_request().next.get(old.id, [])) == steps


def test_lookups_on_a_shared_index_add_nothing_to_it(app: Any) -> None:
    ix = _next_request()
    sizes = (len(ix.by_code), len(ix.next), len(ix.prev))
    assert ix.resolve("99999", TODAY) is None
    assert ix.latest("99999", "district") is None
    for unit in list(ix.units.values())[:50]:
        ix.current(unit, TODAY)
        ix.successors(unit, TODAY)
        ix.former_district(unit)
    assert (len(ix.by_code), len(ix.next), len(ix.prev)) == sizes
    # What the filters are handed is theirs to change: the index keeps its own.
    areas.former_districts(TODAY).clear()
    areas.commune_groups(TODAY)[0][1].clear()
    assert areas.former_districts(TODAY)
    assert areas.commune_groups(TODAY)[0][1]
