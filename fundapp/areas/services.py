"""Lookups on the dated units: a code on a date, a unit's current commune through its
successions, the former district and province of a commune, and the fund's communes."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from flask import current_app, g, has_app_context
from sqlalchemy import select

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
    """Every loaded unit and succession in memory (a province's are a few hundred rows)."""

    def __init__(self) -> None:
        rows = db.session.execute(
            select(
                AdminUnit.id, AdminUnit.era, AdminUnit.level, AdminUnit.code, AdminUnit.name,
                AdminUnit.parent_id, AdminUnit.valid_from, AdminUnit.valid_to, AdminUnit.legal_act,
            )
        )  # fmt: skip
        self.units: dict[int, Unit] = {r[0]: Unit(*r) for r in rows}
        self.by_code: dict[tuple[str, str], list[Unit]] = defaultdict(list)
        for u in self.units.values():
            self.by_code[(u.level, u.code)].append(u)
        for units in self.by_code.values():
            units.sort(key=lambda u: u.valid_from or date.min)
        self.next: dict[int, list[Step]] = defaultdict(list)
        self.prev: dict[int, list[int]] = defaultdict(list)
        for old, new, effective, kind, default in db.session.execute(
            select(
                UnitSuccession.old_unit_id, UnitSuccession.new_unit_id, UnitSuccession.effective,
                UnitSuccession.kind, UnitSuccession.is_default,
            )
        ):  # fmt: skip
            self.next[old].append(Step(new, effective, kind, default))
            self.prev[new].append(old)

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


def index() -> Index:
    """The units of this request or command (read once)."""
    if not has_app_context():
        return Index()
    if "areas_index" not in g:
        g.areas_index = Index()
    return g.areas_index


def forget() -> None:
    """After a load, the next lookup reads the tables again."""
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
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    order: dict[str, tuple] = {}
    for u in ix.communes_of(province or fund_province(), on):
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
    out: dict[str, str] = {}
    for label, communes in commune_groups(on, province):
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
