from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.cooperatives.districts import DISTRICTS
from fundapp.core.db import TimestampMixin, trigram_index
from fundapp.extensions import db


class CooperativeKind(enum.StrEnum):
    """Eligible borrower types of Decree 45/2021 Art. 20."""

    COOPERATIVE = "cooperative"
    UNION = "union"
    COOP_MEMBER = "coop_member"
    GROUP_MEMBER = "group_member"


KIND_LABELS = {
    CooperativeKind.COOPERATIVE: _l("Hợp tác xã"),
    CooperativeKind.UNION: _l("Liên hiệp hợp tác xã"),
    CooperativeKind.COOP_MEMBER: _l("Thành viên hợp tác xã"),
    CooperativeKind.GROUP_MEMBER: _l("Thành viên tổ hợp tác"),
}

_KIND_CHECK = "kind IN (" + ", ".join(f"'{k.value}'" for k in CooperativeKind) + ")"
_DISTRICT_CHECK = "district_code IN (" + ", ".join(f"'{c}'" for c in DISTRICTS) + ")"


class RelatedGroup(TimestampMixin, db.Model):
    """Borrowers that count together for the 25 % related-group limit."""

    __tablename__ = "related_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")


class Cooperative(TimestampMixin, db.Model):
    __tablename__ = "cooperatives"
    __table_args__ = (
        CheckConstraint(_KIND_CHECK, name="kind_known"),
        CheckConstraint(_DISTRICT_CHECK, name="district_known"),
        CheckConstraint("members_count >= 0", name="members_not_negative"),
        # The loan list's search box: words of the borrower's name.
        trigram_index("ix_cooperatives_name_trgm", "lower", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=CooperativeKind.COOPERATIVE.value)
    registration_no: Mapped[str] = mapped_column(String(30), unique=True)
    tax_code: Mapped[str] = mapped_column(String(14), unique=True)
    district_code: Mapped[str] = mapped_column(String(3), index=True)
    commune: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    sector: Mapped[str] = mapped_column(String(100), default="", index=True)
    representative: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    members_count: Mapped[int] = mapped_column(default=0)
    bank_account: Mapped[str] = mapped_column(String(30), default="")
    bank_name: Mapped[str] = mapped_column(String(120), default="")
    related_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("related_groups.id", ondelete="SET NULL"), index=True
    )

    related_group: Mapped[RelatedGroup | None] = relationship(lazy="joined")

    @property
    def district_name(self) -> str:
        return DISTRICTS.get(self.district_code, self.district_code)

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(CooperativeKind(self.kind), self.kind))

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "registration_no": self.registration_no,
            "tax_code": self.tax_code,
            "district_code": self.district_code,
            "district_name": self.district_name,
            "commune": self.commune,
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
