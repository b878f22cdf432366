"""Administrative units as dated reference data: codes on dates, successions, former units."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from fundapp.areas import catalogue, loader
from fundapp.areas import services as areas
from fundapp.areas.models import AdminUnit, UnitSuccession
from fundapp.extensions import db

TODAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("code", "level", "on", "name"),
    [
        # 07201: a ward of Thành phố Bắc Giang until 30/06/2025, then gone (merged).
        ("07201", "commune", date(2024, 6, 1), "Phường Thọ Xương"),
        ("07201", "commune", date(2025, 6, 30), "Phường Thọ Xương"),
        ("07201", "commune", date(2025, 7, 1), None),
        # 07210: Phường Hoàng Văn Thụ until 30/06/2025, the code of Phường Bắc Giang since.
        ("07210", "commune", date(2025, 6, 30), "Phường Hoàng Văn Thụ"),
        ("07210", "commune", date(2025, 7, 1), "Phường Bắc Giang"),
        # 07525: Thị trấn Chũ (2021), Phường Chũ of Thị xã Chũ (2025-01), Phường Chũ (2025-07).
        ("07525", "commune", date(2024, 12, 31), "Thị trấn Chũ"),
        ("07525", "commune", date(2025, 1, 1), "Phường Chũ"),
        ("07525", "commune", TODAY, "Phường Chũ"),
        # Huyện Yên Dũng (221) ended on 31/12/2024, merged into Thành phố Bắc Giang.
        ("221", "district", date(2024, 12, 31), "Huyện Yên Dũng"),
        ("221", "district", date(2025, 1, 1), None),
        # Thị xã Chũ (224) existed only from 01/01/2025 to 30/06/2025.
        ("224", "district", date(2024, 12, 31), None),
        ("224", "district", date(2025, 3, 1), "Thị xã Chũ"),
        ("224", "district", date(2025, 7, 1), None),
        # Province 24: Bắc Giang until 30/06/2025, the merged Bắc Ninh since.
        ("24", "province", date(2025, 6, 30), "Tỉnh Bắc Giang"),
        ("24", "province", date(2025, 7, 1), "Tỉnh Bắc Ninh"),
        ("27", "province", date(2025, 7, 1), None),
    ],
)
def test_a_code_resolves_on_its_date(app: Any, code: str, level: str, on: date, name: str) -> None:
    unit = areas.resolve(code, on, level)
    assert (unit.name if unit else None) == name


@pytest.mark.parametrize(
    ("code", "entered_on", "current"),
    [
        ("07201", date(2021, 3, 1), "07210 Phường Bắc Giang"),  # merged on 01/07/2025
        ("07561", date(2021, 3, 1), "07525 Phường Chũ"),  # Xã Hồng Giang → Phường Hồng Giang → Chũ
        ("07525", date(2021, 3, 1), "07525 Phường Chũ"),  # renamed, then merged
        ("07432", TODAY, "07432 Xã Tân Dĩnh"),  # already today's
    ],
)
def test_the_current_commune_follows_the_successions(
    app: Any, code: str, entered_on: date, current: str
) -> None:
    ix = areas.index()
    unit = ix.resolve(code, entered_on)
    now, doubtful = ix.current(unit, TODAY)
    assert (now.label(), doubtful) == (current, False)


@pytest.fixture
def made_up_units(app: Any) -> Any:
    """Rows added to the reference tables, removed afterwards: PostgreSQL keeps those
    tables across tests (they are not truncated)."""
    yield
    db.session.rollback()
    db.session.execute(
        AdminUnit.__table__.delete().where(AdminUnit.code.in_(["99001", "99002", "99003"]))
    )
    db.session.commit()
    areas.forget()


def test_a_divided_commune_takes_the_default_successor_flagged_to_confirm(
    app: Any, made_up_units: Any
) -> None:
    # None of Bắc Ninh's communes was divided in 2025; a made-up one of the 2025-01 list,
    # divided into two communes of today, the second the data's default.
    district = areas.resolve("224", date(2025, 3, 1), "district")
    province = areas.resolve("24", TODAY, "province")
    old = AdminUnit(
        era="2025-01",
        level="commune",
        code="99001",
        name="Xã Thử Chia",
        parent_id=district.id,
        valid_from=date(2025, 1, 1),
        valid_to=date(2025, 6, 30),
        legal_act="thử",
    )
    north = AdminUnit(
        era="2025-07",
        level="commune",
        code="99002",
        name="Xã Bắc Thử",
        parent_id=province.id,
        valid_from=date(2025, 7, 1),
        legal_act="thử",
    )
    south = AdminUnit(
        era="2025-07",
        level="commune",
        code="99003",
        name="Xã Nam Thử",
        parent_id=province.id,
        valid_from=date(2025, 7, 1),
        legal_act="thử",
    )
    db.session.add_all([old, north, south])
    db.session.flush()
    for new, default in ((north, False), (south, True)):
        db.session.add(
            UnitSuccession(
                old_unit_id=old.id,
                new_unit_id=new.id,
                effective=date(2025, 7, 1),
                kind="divided",
                is_default=default,
            )
        )
    db.session.commit()
    areas.forget()
    ix = areas.index()
    unit = ix.units[old.id]
    now, doubtful = ix.current(unit, TODAY)
    assert (now.code, doubtful) == ("99003", True)
    assert [u.code for u in ix.successors(unit, TODAY)] == ["99002", "99003"]
    area = areas.area_of(old.id, None, TODAY)
    assert (area.commune_code, area.needs_confirming, area.former_district_code) == (
        "99003",
        True,
        "224",
    )
    from fundapp.cooperatives.services import expired_message

    assert expired_message("99001", TODAY) == (
        "Mã 99001 (Xã Thử Chia) đã hết hiệu lực từ 01/07/2025; "
        "đơn vị kế thừa: 99002 Xã Bắc Thử, 99003 Xã Nam Thử"
    )


@pytest.mark.parametrize(
    ("code", "district", "province"),
    [
        # Phường Chũ's predecessors all lay in Thị xã Chũ (224), of former Bắc Giang.
        ("07525", "224 Thị xã Chũ", "24 Tỉnh Bắc Giang"),
        ("07210", "213 Thành phố Bắc Giang", "24 Tỉnh Bắc Giang"),
        # Phường Kinh Bắc: wards of Thành phố Bắc Ninh (256), former Bắc Ninh (27).
        ("09187", "256 Thành phố Bắc Ninh", "27 Tỉnh Bắc Ninh"),
    ],
)
def test_former_district_and_province_of_a_commune_of_today(
    app: Any, code: str, district: str, province: str
) -> None:
    ix = areas.index()
    former = ix.former_district(ix.resolve(code, TODAY))
    assert (former.label(), ix.parent(former).label()) == (district, province)


def test_the_successions_the_data_gives(app: Any) -> None:
    def kinds(old: str, level: str) -> set[tuple[str, str]]:
        rows = db.session.execute(
            select(AdminUnit.code, UnitSuccession.kind)
            .join(UnitSuccession, UnitSuccession.new_unit_id == AdminUnit.id)
            .where(
                UnitSuccession.old_unit_id.in_(
                    select(AdminUnit.id).where(AdminUnit.code == old, AdminUnit.level == level)
                )
            )
        )
        return set(rows.tuples())

    assert kinds("221", "district") == {("213", "merged")}  # Yên Dũng into TP Bắc Giang
    assert kinds("219", "district") == {("224", "divided")}  # Thị xã Chũ out of Lục Ngạn
    assert kinds("222", "district") == {("222", "renamed")}  # Huyện → Thị xã Việt Yên
    assert kinds("27", "province") == {("24", "merged")}
    assert ("24", "merged") in kinds("24", "province")
    # Xã Phúc Sơn (07318, Tân Yên) vanished on 01/01/2025 with no successor in the data.
    assert kinds("07318", "commune") == set()
    assert catalogue.build("24").orphans == (("2021", "commune", "07318"),)


def test_loading_again_changes_nothing(app: Any) -> None:
    counts = (
        db.session.scalar(select(func.count(AdminUnit.id))),
        db.session.scalar(select(func.count(UnitSuccession.id))),
    )
    result = loader.load("24")
    assert (result.units_added, result.units_updated, result.successions_added) == (0, 0, 0)
    assert counts == (
        db.session.scalar(select(func.count(AdminUnit.id))),
        db.session.scalar(select(func.count(UnitSuccession.id))),
    )
    # 99 communes of today's Bắc Ninh, as Resolution 1658/NQ-UBTVQH15 lists.
    assert len(areas.index().communes_of("24", TODAY)) == 99


def test_flask_units_load(app: Any, runner: Any) -> None:
    result = runner.invoke(args=["units", "load"])
    assert result.exit_code == 0, result.output
    assert "units: 0 added, 0 updated; successions: 0 added" in result.output
    assert "07318" in result.output
    bad = runner.invoke(args=["units", "load", "--province", "99"])
    assert bad.exit_code != 0 and "Unknown province code" in bad.output


def test_the_commune_choices_are_grouped_by_former_district(app: Any) -> None:
    groups = dict(areas.commune_groups(TODAY))
    assert ("07525", "Phường Chũ") in groups["Thị xã Chũ (Tỉnh Bắc Giang)"]
    assert ("09187", "Phường Kinh Bắc") in groups["Thành phố Bắc Ninh (Tỉnh Bắc Ninh)"]
    assert sum(len(v) for v in groups.values()) == 99
