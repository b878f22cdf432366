"""Dated administrative units and the successions between them (reference data).

A unit is one name under one code for one span of dates. GSO codes are reused across
arrangements (07210 was Phường Hoàng Văn Thụ until 30/06/2025 and is Phường Bắc Giang
since 01/07/2025), so a unit is keyed by its era, level and code, never by code alone."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.extensions import db


class UnitLevel(enum.StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class SuccessionKind(enum.StrEnum):
    UNCHANGED = "unchanged"  # same code and name, moved under another parent
    RENAMED = "renamed"
    MERGED = "merged"
    DIVIDED = "divided"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v.value}'" for v in values) + ")"


class AdminUnit(db.Model):
    __tablename__ = "admin_units"
    __table_args__ = (
        UniqueConstraint("era", "level", "code", name="uq_admin_units_era_level_code"),
        CheckConstraint(_in("level", UnitLevel), name="level_known"),
        CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="dates_ordered"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The list the row was first read from: "2021", "2025-01" or "2025-07".
    era: Mapped[str] = mapped_column(String(7))
    level: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(5), index=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_units.id", ondelete="CASCADE"), index=True
    )
    # None: in force before the oldest list we hold (its start is not in the data).
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    legal_act: Mapped[str] = mapped_column(String(200), default="")

    parent: Mapped[AdminUnit | None] = relationship(
        remote_side="AdminUnit.id", lazy="joined", join_depth=2
    )

    def valid_on(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on <= self.valid_to
        )

    def label(self) -> str:
        return f"{self.code} {self.name}"


class UnitSuccession(db.Model):
    __tablename__ = "unit_successions"
    __table_args__ = (
        UniqueConstraint("old_unit_id", "new_unit_id", name="uq_unit_successions_old_new"),
        CheckConstraint(_in("kind", SuccessionKind), name="kind_known"),
        CheckConstraint("old_unit_id <> new_unit_id", name="not_itself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    old_unit_id: Mapped[int] = mapped_column(
        ForeignKey("admin_units.id", ondelete="CASCADE"), index=True
    )
    new_unit_id: Mapped[int] = mapped_column(
        ForeignKey("admin_units.id", ondelete="CASCADE"), index=True
    )
    effective: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    # A divided unit's successor the data names as the default one (still to be confirmed).
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    old_unit: Mapped[AdminUnit] = relationship(foreign_keys=[old_unit_id])
    new_unit: Mapped[AdminUnit] = relationship(foreign_keys=[new_unit_id], lazy="joined")
