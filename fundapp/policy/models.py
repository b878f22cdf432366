from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.core.db import TimestampMixin
from fundapp.extensions import db


class PolicyParameter(TimestampMixin, db.Model):
    """One version of one lending parameter, in force from ``effective_from``.

    Rows are never updated: a change is a new row with a later date, so the history and
    every contract's snapshot stay explainable.
    """

    __tablename__ = "policy_parameters"
    __table_args__ = (UniqueConstraint("key", "effective_from", name="key_effective"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), index=True)
    value: Mapped[str] = mapped_column(String(255))
    effective_from: Mapped[date]
    legal_reference: Mapped[str] = mapped_column(String(255), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by = relationship("User", lazy="joined")
