from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.areas import services as areas
from fundapp.areas.models import AdminUnit
from fundapp.core.dates import business_date
from fundapp.core.db import TimestampMixin, trigram_index
from fundapp.core.lists import SearchKeyMixin, SortKey
from fundapp.domain.cooperatives import CooperativeKind
from fundapp.extensions import db

KIND_LABELS = {
    CooperativeKind.COOPERATIVE: _l("Hợp tác xã"),
    CooperativeKind.UNION: _l("Liên hiệp hợp tác xã"),
    CooperativeKind.COOP_MEMBER: _l("Thành viên hợp tác xã"),
    CooperativeKind.GROUP_MEMBER: _l("Thành viên tổ hợp tác"),
}

_KIND_CHECK = "kind IN (" + ", ".join(f"'{k.value}'" for k in CooperativeKind) + ")"


class RelatedGroup(SearchKeyMixin, TimestampMixin, db.Model):
    """Borrowers that count together for the 25 % related-group limit."""

    __tablename__ = "related_groups"
    search_fields = ("name",)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")


class Cooperative(SearchKeyMixin, TimestampMixin, db.Model):
    __tablename__ = "cooperatives"
    __table_args__ = (
        CheckConstraint(_KIND_CHECK, name="kind_known"),
        CheckConstraint("members_count >= 0", name="members_not_negative"),
        # The loan list's search box: words of the borrower's name.
        trigram_index("ix_cooperatives_name_trgm", "lower", "name"),
        # The search without diacritics (fundapp.core.lists.fold).
        trigram_index("ix_cooperatives_search_key_trgm", "lower", "search_key"),
    )
    search_fields = ("name", "registration_no", "tax_code", "representative")
    name_field = "name"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # The name's place in the Vietnamese alphabetical order (fundapp.core.lists.vn_key).
    name_key: Mapped[str] = mapped_column(SortKey, default="", index=True)
    kind: Mapped[str] = mapped_column(String(20), default=CooperativeKind.COOPERATIVE.value)
    registration_no: Mapped[str] = mapped_column(String(30), unique=True)
    tax_code: Mapped[str] = mapped_column(String(14), unique=True)
    # The commune-level unit of the current address, as entered (valid on the date it was
    # entered; shown through its successions), and the street or village.
    commune_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_units.id", ondelete="RESTRICT"), index=True
    )
    address: Mapped[str] = mapped_column(String(255), default="")
    # The district (before 01/07/2025) the cooperative lay in: entered with the units of
    # its time, or derived from the commune.
    former_district_code: Mapped[str | None] = mapped_column(String(3), index=True)
    sector: Mapped[str] = mapped_column(String(100), default="", index=True)
    representative: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    members_count: Mapped[int] = mapped_column(default=0)
    bank_account: Mapped[str] = mapped_column(String(30), default="")
    bank_name: Mapped[str] = mapped_column(String(120), default="")
    # Where the fund's notices reach the cooperative: "email", "sms", "zalo" (the last two
    # to ``phone``), chosen by the cooperative (fundapp/notices/channels.py).
    message_channels: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["email"], server_default=text("'[\"email\"]'")
    )
    related_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("related_groups.id", ondelete="SET NULL"), index=True
    )

    # The fund whose book the borrower came from; NULL: this fund (fundapp.funds).
    origin_fund_id: Mapped[int | None] = mapped_column(
        ForeignKey("funds.id", ondelete="RESTRICT"), index=True
    )

    related_group: Mapped[RelatedGroup | None] = relationship(lazy="joined")

    addresses: Mapped[list[CooperativeAddress]] = relationship(
        back_populates="cooperative",
        order_by="CooperativeAddress.valid_from.desc(), CooperativeAddress.id.desc()",
        cascade="all, delete-orphan",
        lazy="select",
    )

    def area_on(self, on: date) -> areas.Area:
        return areas.area_of(self.commune_unit_id, self.former_district_code, on)

    @property
    def area(self) -> areas.Area:
        """Where the cooperative is on the business date (current commune, former district
        and province)."""
        return self.area_on(business_date())

    @property
    def commune_code(self) -> str | None:
        return self.area.commune_code

    @property
    def commune(self) -> str:
        return self.area.commune_name

    @property
    def full_address(self) -> str:
        """Street or village, today's commune and province ("Thôn Kim 2, Phường Chũ, Tỉnh
        Bắc Ninh"): what a document prints."""
        area = self.area
        return ", ".join(p for p in (self.address, area.commune_name, area.province_name) if p)

    @property
    def district_name(self) -> str:
        """The former district's name (districts were abolished on 01/07/2025)."""
        return self.area.former_district_name

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(CooperativeKind(self.kind), self.kind))

    def to_dict(self) -> dict:
        area = self.area
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "registration_no": self.registration_no,
            "tax_code": self.tax_code,
            "commune_code": area.commune_code,
            "commune_name": area.commune_name,
            "commune_needs_confirming": area.needs_confirming,
            "province_code": area.province_code,
            "province_name": area.province_name,
            "former_district_code": area.former_district_code,
            "former_district_name": area.former_district_name,
            "former_province_code": area.former_province_code,
            "former_province_name": area.former_province_name,
            "address": self.address,
            "sector": self.sector,
            "representative": self.representative,
            "phone": self.phone,
            "email": self.email,
            "members_count": self.members_count,
            "bank_account": self.bank_account,
            "bank_name": self.bank_name,
            "related_group_id": self.related_group_id,
        }


class CooperativeAddress(db.Model):
    """One address of a cooperative for a span of dates: the commune-level unit valid on
    the date it was entered, and the street or village. A change closes the old row."""

    __tablename__ = "cooperative_addresses"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(
        ForeignKey("cooperatives.id", ondelete="CASCADE"), index=True
    )
    commune_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_units.id", ondelete="RESTRICT"), index=True
    )
    street: Mapped[str] = mapped_column(String(255), default="")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    cooperative: Mapped[Cooperative] = relationship(back_populates="addresses")
    commune_unit: Mapped[AdminUnit | None] = relationship(lazy="joined")
