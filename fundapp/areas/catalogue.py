"""The units and successions read from the pinned datasets (no database here).

Three lists, each an era:

- ``2021``: `vietnam-provinces==0.4.3` (data of 03/02/2021), extracted by
  ``scripts/build-admin-units.py`` into ``data/units-2021.json.gz``; in force until
  31/12/2024.
- ``2025-01``: table ``admin_units_legacy`` of `vietnamadminunits==1.0.4`, the 63-province
  map in force from 01/01/2025 to 30/06/2025.
- ``2025-07``: table ``admin_units`` of the same package, the 34-province map without
  districts, from 01/07/2025 (Resolution 202/2025/QH15 and the communes' resolutions).

A unit with the same code, name and parent in 2021 and 2025-01 is one unit spanning both.
Successions 2021 → 2025-01 come from the codes (same code, other name: renamed; other
parent: unchanged) and, for a commune whose code vanished, from the 2025-01 unit whose
former names (the dataset's keywords) include it (merged). Successions 2025-01 → 2025-07
come from the package's ``converter_2025.json`` (merged or divided, with the default
successor of a divided commune)."""

from __future__ import annotations

import gzip
import json
import sqlite3
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

ERA_2021 = "2021"
ERA_2025_01 = "2025-01"
ERA_2025_07 = "2025-07"

START_2025_01 = date(2025, 1, 1)
START_2025_07 = date(2025, 7, 1)
END_2021 = date(2024, 12, 31)
END_2025_01 = date(2025, 6, 30)

EXTRACT = Path(__file__).resolve().parent / "data" / "units-2021.json.gz"

ACT_2021 = "Danh mục ĐVHC 03/02/2021 (vietnam-provinces 0.4.3)"
ACT_2025_01 = "Danh mục ĐVHC 01/01/2025 (vietnamadminunits 1.0.4)"
ACTS_2025_01 = {
    "24": "Nghị quyết 1191/NQ-UBTVQH15 ngày 28/09/2024",
    "27": "Nghị quyết 1255/NQ-UBTVQH15 ngày 24/10/2024",
}
ACT_PROVINCES_2025 = "Nghị quyết 202/2025/QH15 ngày 12/06/2025"
ACT_COMMUNES_2025 = "Nghị quyết của UBTVQH về sắp xếp ĐVHC cấp xã năm 2025"
ACTS_COMMUNES_2025 = {"24": "Nghị quyết 1658/NQ-UBTVQH15 ngày 16/06/2025"}

Key = tuple[str, str, str]  # era, level, code


@dataclass(frozen=True)
class UnitRow:
    era: str
    level: str
    code: str
    name: str
    parent: Key | None
    valid_from: date | None
    valid_to: date | None
    legal_act: str

    @property
    def key(self) -> Key:
        return (self.era, self.level, self.code)


@dataclass(frozen=True)
class SuccessionRow:
    old: Key
    new: Key
    effective: date
    kind: str
    is_default: bool = False


@dataclass(frozen=True)
class Catalogue:
    units: tuple[UnitRow, ...]
    successions: tuple[SuccessionRow, ...]
    orphans: tuple[Key, ...]  # 2021 communes whose code vanished with no successor in the data


def _package_file(name: str) -> Path:
    return Path(str(resources.files("vietnamadminunits") / "data" / name))


def name_key(name: str) -> str:
    """The packages' name keys: lower case, no accents, no spaces ("Xã Đồng Sơn" → xadongson)."""
    text = unicodedata.normalize("NFD", name.lower()).replace("đ", "d")
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _extract_2021() -> dict:
    return json.loads(gzip.decompress(EXTRACT.read_bytes()))


@lru_cache(maxsize=1)
def _converter() -> dict:
    return json.loads(_package_file("converter_2025.json").read_text(encoding="utf-8"))


def _query(sql: str, args: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(f"file:{_package_file('dataset.db')}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def province_codes() -> list[str]:
    """The codes of the 34 provinces in force since 01/07/2025."""
    return sorted({r[0] for r in _query("SELECT DISTINCT provinceCode FROM admin_units")})


@lru_cache(maxsize=8)
def build(province: str | None) -> Catalogue:
    """The units of today's province ``province`` (a 2025-07 code) and of every province
    it was formed from, back to 2021; ``None``: the whole country."""
    new_rows = _query(
        "SELECT provinceCode, province, provinceKey, wardCode, ward, wardKey FROM admin_units"
    )
    if province:
        new_rows = [r for r in new_rows if r[0] == province]
    new_province_keys = {r[2]: (r[0], r[1]) for r in new_rows}
    old_province_keys = {
        k for nk in new_province_keys for k in _converter()["DICT_PROVINCE"].get(nk, [])
    }
    legacy_rows = _query(
        "SELECT provinceCode, province, provinceKey, districtCode, district, districtKey, "
        "wardCode, ward, wardKey, wardKeywords FROM admin_units_legacy"
    )
    legacy_rows = [r for r in legacy_rows if r[2] in old_province_keys]
    legacy_province_codes = {r[0] for r in legacy_rows}

    units: dict[Key, UnitRow] = {}
    successions: list[SuccessionRow] = []

    def add(row: UnitRow) -> None:
        units[row.key] = row

    # --- 2025-01: the legacy table (read first: the 2021 rows may span into it)
    legacy: dict[Key, UnitRow] = {}
    for pc, pn, _pk, dc, dn, _dk, wc, wn, _wk, _kw in legacy_rows:
        act = ACTS_2025_01.get(pc, ACT_2025_01)
        span = (START_2025_01, END_2025_01, act)
        rows = [
            UnitRow(ERA_2025_01, "province", pc, pn, None, *span),
            UnitRow(ERA_2025_01, "district", dc, dn, (ERA_2025_01, "province", pc), *span),
        ]
        if wc:  # an island district without communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa)
            rows.append(
                UnitRow(ERA_2025_01, "commune", wc, wn, (ERA_2025_01, "district", dc), *span)
            )
        for row in rows:
            legacy.setdefault(row.key, row)

    # --- 2021: the extract; a unit the same in 2025-01 spans both eras
    spans: dict[Key, Key] = {}  # 2025-01 key -> the 2021 key that spans it
    old_units: dict[Key, UnitRow] = {}
    for pc, pn, districts in _extract_2021()["provinces"]:
        if pc not in legacy_province_codes:
            continue
        old_units[(ERA_2021, "province", pc)] = UnitRow(
            ERA_2021, "province", pc, pn, None, None, END_2021, ACT_2021
        )
        for dc, dn, wards in districts:
            old_units[(ERA_2021, "district", dc)] = UnitRow(
                ERA_2021, "district", dc, dn, (ERA_2021, "province", pc), None, END_2021, ACT_2021
            )
            for wc, wn in wards:
                old_units[(ERA_2021, "commune", wc)] = UnitRow(
                    ERA_2021,
                    "commune",
                    wc,
                    wn,
                    (ERA_2021, "district", dc),
                    None,
                    END_2021,
                    ACT_2021,
                )

    def parent_code(row: UnitRow) -> str | None:
        return row.parent[2] if row.parent else None

    # Provinces first, then districts, then communes: a span needs its parent's span.
    for level in ("province", "district", "commune"):
        for key, old in old_units.items():
            if key[1] != level:
                continue
            later = legacy.get((ERA_2025_01, level, old.code))
            parent = old.parent
            same_parent = later is not None and (
                old.parent is None
                or (later.parent is not None and spans.get(later.parent) == old.parent)
            )
            if later is not None and later.name == old.name and same_parent:
                spans[later.key] = key
                add(
                    UnitRow(
                        old.era, level, old.code, old.name, parent, None, END_2025_01, old.legal_act
                    )
                )
            else:
                add(old)

    def current_key(key: Key) -> Key:
        return spans.get(key, key)

    for key, row in legacy.items():
        if key in spans:
            continue
        parent = current_key(row.parent) if row.parent else None
        add(
            UnitRow(
                row.era,
                row.level,
                row.code,
                row.name,
                parent,
                row.valid_from,
                row.valid_to,
                row.legal_act,
            )
        )

    # Successions 2021 -> 2025-01
    orphans: list[Key] = []
    legacy_by_keyword: dict[tuple[str, str], list[str]] = defaultdict(
        list
    )  # (province, keyword) -> ward codes
    for pc, _pn, _pk, _dc, _dn, _dk, wc, _wn, _wk, keywords in legacy_rows:
        for word in json.loads(keywords or "[]"):
            legacy_by_keyword[(pc, word)].append(wc)
    legacy_districts_of: dict[str, Counter] = defaultdict(
        Counter
    )  # 2021 district -> 2025-01 districts
    for key, old in old_units.items():
        if key[1] != "commune":
            continue
        later = legacy.get((ERA_2025_01, "commune", old.code))
        if later is not None:
            legacy_districts_of[parent_code(old) or ""][parent_code(later) or ""] += 1
    for key, old in old_units.items():
        if current_key((ERA_2025_01, key[1], key[2])) == key:
            continue  # spans
        later = legacy.get((ERA_2025_01, key[1], old.code))
        if later is not None:
            kind = "renamed" if later.name != old.name else "unchanged"
            successions.append(SuccessionRow(key, later.key, START_2025_01, kind))
            continue
        if key[1] == "district":
            targets = legacy_districts_of.get(old.code, Counter()).most_common()
            if len(targets) == 1:
                new = current_key((ERA_2025_01, "district", targets[0][0]))
                successions.append(SuccessionRow(key, new, START_2025_01, "merged"))
            elif targets:
                for i, (code, _n) in enumerate(targets):
                    new = current_key((ERA_2025_01, "district", code))
                    successions.append(SuccessionRow(key, new, START_2025_01, "divided", i == 0))
            else:
                orphans.append(key)
        elif key[1] == "commune":
            province = old.parent and old_units[old.parent].parent
            matches = sorted(
                set(
                    legacy_by_keyword.get((province[2] if province else "", name_key(old.name)), [])
                )
            )
            if len(matches) == 1:
                new = current_key((ERA_2025_01, "commune", matches[0]))
                successions.append(SuccessionRow(key, new, START_2025_01, "merged"))
            else:
                orphans.append(key)
    # A 2025-01 district with no 2021 namesake was divided from the districts its communes
    # came from (Thị xã Chũ 224 from Huyện Lục Ngạn 219).
    for key, row in legacy.items():
        if key[1] != "district" or (ERA_2021, "district", row.code) in old_units:
            continue
        sources = Counter(
            parent_code(old_units[(ERA_2021, "commune", c.code)]) for c in legacy.values()
            if c.level == "commune" and c.parent == key
            and (ERA_2021, "commune", c.code) in old_units
        )  # fmt: skip
        for code, _n in sources.most_common():
            old_key = current_key((ERA_2021, "district", code or ""))
            if old_key in units:
                successions.append(SuccessionRow(old_key, key, START_2025_01, "divided"))

    # --- 2025-07: the new table and the converter
    for pc, pn, _pk, wc, wn, _wk in new_rows:
        act = ACTS_COMMUNES_2025.get(pc, ACT_COMMUNES_2025)
        add(UnitRow(ERA_2025_07, "province", pc, pn, None, START_2025_07, None, ACT_PROVINCES_2025))
        add(
            UnitRow(
                ERA_2025_07,
                "commune",
                wc,
                wn,
                (ERA_2025_07, "province", pc),
                START_2025_07,
                None,
                act,
            )
        )
    legacy_by_name: dict[str, Key] = {}
    legacy_province_by_key: dict[str, str] = {}
    for pc, _pn, pk, _dc, _dn, dk, wc, _wn, wk, _kw in legacy_rows:
        legacy_province_by_key[pk] = pc
        if wc:
            legacy_by_name[f"{pk}_{dk}_{wk}"] = current_key((ERA_2025_01, "commune", wc))
    new_by_name = {(pk, wk): (ERA_2025_07, "commune", wc) for _pc, _pn, pk, wc, _wn, wk in new_rows}
    for new_pk, (new_pc, _name) in new_province_keys.items():
        for old_pk in _converter()["DICT_PROVINCE"].get(new_pk, []):
            old_key = current_key((ERA_2025_01, "province", legacy_province_by_key.get(old_pk, "")))
            if old_key in units:
                kind = "merged" if len(_converter()["DICT_PROVINCE"][new_pk]) > 1 else "renamed"
                if (
                    kind == "renamed"
                    and units[old_key].name == units[(ERA_2025_07, "province", new_pc)].name
                ):
                    kind = "unchanged"
                successions.append(
                    SuccessionRow(old_key, (ERA_2025_07, "province", new_pc), START_2025_07, kind)
                )
        for new_wk, olds in _converter()["DICT_PROVINCE_WARD_NO_DIVIDED"].get(new_pk, {}).items():
            new = new_by_name.get((new_pk, new_wk))
            if new is None:
                continue
            for old_name in olds:
                old_key = legacy_by_name.get(old_name)
                if old_key is None:
                    continue
                if len(olds) > 1:
                    kind = "merged"
                else:
                    kind = "unchanged" if units[old_key].name == units[new].name else "renamed"
                successions.append(SuccessionRow(old_key, new, START_2025_07, kind))
        for old_name, news in _converter()["DICT_PROVINCE_WARD_DIVIDED"].get(new_pk, {}).items():
            old_key = legacy_by_name.get(old_name)
            if old_key is None:
                continue
            for target in news:
                new = new_by_name.get((new_pk, target["newWardKey"]))
                if new is not None:
                    successions.append(
                        SuccessionRow(
                            old_key, new, START_2025_07, "divided", bool(target["isDefaultNewWard"])
                        )
                    )
    seen: set[tuple[Key, Key]] = set()
    unique = []
    for s in successions:
        if (s.old, s.new) not in seen and s.old != s.new:
            seen.add((s.old, s.new))
            unique.append(s)
    return Catalogue(tuple(units.values()), tuple(unique), tuple(orphans))
