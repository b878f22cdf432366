"""Lookups on the dated units: a code on a date, a unit's current commune through its
successions, the former district and province of a commune, and the fund's communes."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, g, has_app_context
from sqlalchemy import select, text

from fundapp.areas.catalogue import name_key
from fundapp.areas.models import AdminUnit, UnitSuccession
from fundapp.extensions import db

DEFAULT_PROVINCE = "24"


def fund_province() -> str:
    return str(current_app.config.get("FUNDAPP_PROVINCE") or DEFAULT_PROVINCE)


@dataclass(frozen=True)
class Unit:
    """A unit as plain data (what views, reports and the API read)."""

    id: int
    era: str
    level: str
    code: str
    name: str
    parent_id: int | None
    valid_from: date | None
    valid_to: date | None
    legal_act: str

    def valid_on(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on <= self.valid_to
        )

    def label(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(frozen=True)
class Step:
    new_id: int
    effective: date
    kind: str
    is_default: bool


class Index:
    """Every loaded unit and succession in memory (a province's are a few hundred rows).
    Built once and then only read: it is shared by every request of the process."""

    def __init__(self, rows: tuple[list[Any], list[Any]] | None = None) -> None:
        units, successions = rows if rows is not None else _rows()
        self.units: dict[int, Unit] = {r[0]: Unit(*r) for r in units}
        by_code: dict[tuple[str, str], list[Unit]] = defaultdict(list)
        for u in self.units.values():
            by_code[(u.level, u.code)].append(u)
        for same in by_code.values():
            same.sort(key=lambda u: u.valid_from or date.min)
        nexts: dict[int, list[Step]] = defaultdict(list)
        prevs: dict[int, list[int]] = defaultdict(list)
        for old, new, effective, kind, default in successions:
            nexts[old].append(Step(new, effective, kind, default))
            prevs[new].append(old)
        # Plain dicts: a lookup of a missing key must not add one to a shared index.
        self.by_code: dict[tuple[str, str], list[Unit]] = dict(by_code)
        self.next: dict[int, list[Step]] = dict(nexts)
        self.prev: dict[int, list[int]] = dict(prevs)
        self._remembered: dict[tuple, Any] = {}

    def remembered(self, key: tuple, compute: Callable[..., Any]) -> Any:
        """``compute(self, *key[1:])``, computed once per index: what is derived from the
        units alone (the communes' groups and the former districts of a date), which every
        page with a district filter shows. Callers copy what they hand out."""
        try:
            return self._remembered[key]
        except KeyError:
            pass
        value = compute(self, *key[1:])
        if len(self._remembered) >= 64:  # a new business date a day: never many
            self._remembered.clear()
        self._remembered[key] = value
        return value

    def resolve(self, code: str, on: date, level: str = "commune") -> Unit | None:
        for u in self.by_code.get((level, code), []):
            if u.valid_on(on):
                return u
        return None

    def latest(self, code: str, level: str) -> Unit | None:
        units = self.by_code.get((level, code), [])
        return units[-1] if units else None

    def current(self, unit: Unit, on: date) -> tuple[Unit | None, bool]:
        """The unit that ``unit`` has become on ``on``, and whether that needs confirming
        (it went through a division, where the data names only a default successor)."""
        doubtful = False
        seen = set()
        while not unit.valid_on(on) and unit.id not in seen:
            seen.add(unit.id)
            steps = [s for s in self.next.get(unit.id, []) if s.effective <= on]
            if not steps:
                return None, True
            if len(steps) > 1 or steps[0].kind == "divided":
                doubtful = True
                chosen = next((s for s in steps if s.is_default), steps[0])
            else:
                chosen = steps[0]
            unit = self.units[chosen.new_id]
        return (unit if unit.valid_on(on) else None), doubtful

    def successors(self, unit: Unit, on: date) -> list[Unit]:
        """Every unit in force on ``on`` that ``unit`` went into (all branches of a division)."""
        out: list[Unit] = []
        todo = [unit]
        seen = set()
        while todo:
            u = todo.pop()
            if u.id in seen:
                continue
            seen.add(u.id)
            if u.valid_on(on) and u.id != unit.id:
                out.append(u)
                continue
            todo.extend(self.units[s.new_id] for s in self.next.get(u.id, []) if s.effective <= on)
        return sorted(out, key=lambda u: u.code)

    def parent(self, unit: Unit | None) -> Unit | None:
        return self.units.get(unit.parent_id) if unit and unit.parent_id else None

    def former_district(self, commune: Unit) -> Unit | None:
        """The district a commune lay in before districts were abolished (01/07/2025): its
        own parent, or for a commune of today the district most of its predecessors lay in."""
        parent = self.parent(commune)
        if parent is not None and parent.level == "district":
            return parent
        counts: Counter = Counter()
        for old in self.prev.get(commune.id, []):
            district = self.parent(self.units[old])
            if district is not None and district.level == "district":
                counts[district.id] += 1
        if not counts:
            return None
        best = max(counts.items(), key=lambda item: (item[1], -int(self.units[item[0]].code)))
        return self.units[best[0]]

    def district(self, code: str | None) -> Unit | None:
        return self.latest(code, "district") if code else None

    def communes_of(self, province: str, on: date) -> list[Unit]:
        prov = self.resolve(province, on, "province")
        if prov is None:
            return []
        return sorted(
            (u for u in self.units.values() if u.parent_id == prov.id and u.level == "commune"),
            key=lambda u: u.name,
        )


def _rows() -> tuple[list[Any], list[Any]]:
    units = db.session.execute(
        select(
            AdminUnit.id, AdminUnit.era, AdminUnit.level, AdminUnit.code, AdminUnit.name,
            AdminUnit.parent_id, AdminUnit.valid_from, AdminUnit.valid_to, AdminUnit.legal_act,
        ).order_by(AdminUnit.id)
    ).tuples().all()  # fmt: skip
    successions = db.session.execute(
        select(
            UnitSuccession.old_unit_id, UnitSuccession.new_unit_id, UnitSuccession.effective,
            UnitSuccession.kind, UnitSuccession.is_default,
        ).order_by(UnitSuccession.id)
    ).tuples().all()  # fmt: skip
    return units, successions


# Sums of the rows' xmin (the id of the transaction that wrote each row version): an insert,
# an update or a delete, committed or made earlier in the reading transaction, changes a
# table's (count, sum) — every row version an update writes has a newer xmin than the one it
# replaces — and a VACUUM (freezing included) leaves it as it is.
_PG_STAMP = text(
    "SELECT (SELECT count(*) FROM admin_units), (SELECT sum(xmin::text::bigint) FROM admin_units),"
    " (SELECT count(*) FROM unit_successions),"
    " (SELECT sum(xmin::text::bigint) FROM unit_successions)"
)
# Per database (the engine's URL): the stamp the index was built at, and the index.
_built: dict[str, tuple[Any, Index]] = {}
_built_lock = threading.Lock()


def _shared_index() -> Index:
    """The process's index of this database, checked against the tables first.

    The index used to be read into ``flask.g``, i.e. rebuilt on every request. It is kept
    for the process now, under the database's URL, and validated on each request (once, the
    result memoised on ``g``) with a stamp read from the tables in the request's own
    transaction, so that another process's load, another database behind the same URL (the
    test suite's in-memory SQLite databases all share ``sqlite://``; a schema dropped and
    loaded again) or rows added and not yet committed by this transaction are all seen:

    - on PostgreSQL, the stamp is the count and the sum of the rows' ``xmin`` of both tables
      (one statement over a few hundred rows): the index is rebuilt only when it differs;
    - elsewhere (SQLite, a single process in development and tests), the stamp is the rows
      themselves, read as before; only the building of the index from them is saved.

    The stamp is read before the rows: a load committed in between leaves an index newer
    than its stamp, rebuilt on the next request, never one older than its stamp.
    :func:`forget` drops the process's indexes as well (after a load)."""
    bind = db.session.get_bind()
    key = bind.url.render_as_string(hide_password=True)
    rows = None
    if bind.dialect.name == "postgresql":
        stamp: Any = tuple(db.session.execute(_PG_STAMP).one())
    else:
        rows = _rows()
        stamp = rows
    kept = _built.get(key)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    built = Index(rows)
    with _built_lock:
        _built[key] = (stamp, built)
    return built


def index() -> Index:
    """The units of this database, as of this request's or command's first lookup."""
    if not has_app_context():
        return Index()
    if "areas_index" not in g:
        g.areas_index = _shared_index()
    return g.areas_index


def forget() -> None:
    """After a load, the next lookup reads the tables again."""
    with _built_lock:
        _built.clear()
    if has_app_context():
        g.pop("areas_index", None)


@dataclass(frozen=True)
class Area:
    """Where a cooperative is, as shown and reported on a date."""

    commune_code: str | None
    commune_name: str
    needs_confirming: bool
    province_code: str | None
    province_name: str
    former_district_code: str | None
    former_district_name: str
    former_province_code: str | None
    former_province_name: str
    entered: Unit | None


NO_AREA = Area(None, "", False, None, "", None, "", None, "", None)


def area_of(commune_unit_id: int | None, former_district_code: str | None, on: date) -> Area:
    ix = index()
    entered = ix.units.get(commune_unit_id) if commune_unit_id else None
    # No commune recorded (an import that knew only the district) needs confirming too.
    now, doubtful = ix.current(entered, on) if entered else (None, True)
    province = ix.parent(now)
    while province is not None and province.level != "province":
        province = ix.parent(province)
    district = ix.district(former_district_code)
    if district is None and entered is not None:
        district = ix.former_district(entered)
    former_province = ix.parent(district)
    return Area(
        now.code if now else None,
        now.name if now else "",
        doubtful,
        province.code if province else None,
        province.name if province else "",
        district.code if district else former_district_code,
        district.name if district else (former_district_code or ""),
        former_province.code if former_province else None,
        former_province.name if former_province else "",
        entered,
    )


def resolve(code: str, on: date, level: str = "commune") -> Unit | None:
    return index().resolve(code, on, level)


def find_commune(district_code: str, name: str, on: date | None = None) -> Unit | None:
    """A commune of a district (of any era) by its name, written with or without its
    kind ("Xã", "Phường", "Thị trấn"); the one in force on ``on`` first."""
    wanted = name_key(name)
    ix = index()
    found = []
    for u in ix.units.values():
        if u.level != "commune":
            continue
        parent = ix.parent(u)
        if parent is None or parent.level != "district" or parent.code != district_code:
            continue
        key = name_key(u.name)
        if key == wanted or (
            key.endswith(wanted) and key[: -len(wanted)] in ("xa", "phuong", "thitran")
        ):
            found.append(u)
    if on is not None:
        found.sort(key=lambda u: not u.valid_on(on))
    return found[0] if found else None


def commune_groups(
    on: date, province: str | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Today's communes of the fund's province, grouped by the former district most of each
    commune's predecessors lay in (the way staff still think of the map)."""
    ix = index()
    groups = ix.remembered(("commune_groups", on, province or fund_province()), _commune_groups)
    return [(label, list(communes)) for label, communes in groups]


def _commune_groups(ix: Index, on: date, province: str) -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    order: dict[str, tuple] = {}
    for u in ix.communes_of(province, on):
        district = ix.former_district(u)
        former_province = ix.parent(district)
        label = f"{district.name} ({former_province.name})" if district and former_province else "—"
        order[label] = (
            former_province.code if former_province else "99",
            district.code if district else "999",
        )
        groups[label].append((u.code, u.name))
    return [(label, groups[label]) for label in sorted(groups, key=lambda k: order[k])]


def former_districts(on: date, province: str | None = None) -> dict[str, str]:
    """The former districts of the fund's province (code → "name (former province)"), for
    filters: the districts today's communes lay in, then any other loaded district."""
    ix = index()
    return dict(ix.remembered(("former_districts", on, province or fund_province()), _former))


def _former(ix: Index, on: date, province: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for label, communes in ix.remembered(("commune_groups", on, province), _commune_groups):
        for code, _name in communes:
            unit = ix.resolve(code, on)
            district = ix.former_district(unit) if unit else None
            if district is not None:
                out.setdefault(district.code, label)
    for unit in ix.units.values():
        if unit.level == "district" and unit.code not in out:
            parent = ix.parent(unit)
            out[unit.code] = f"{unit.name} ({parent.name})" if parent else unit.name
    return dict(sorted(out.items()))
