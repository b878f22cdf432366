from __future__ import annotations

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from fundapp.core.db import TimestampMixin
from fundapp.extensions import db


class Fund(TimestampMixin, db.Model):
    """A fund whose book is carried here: this fund (``is_own``, one row) or a fund whose
    loans it took over (e.g. the former Bắc Ninh province's fund, code ``BN``).

    Rows of other tables store ``origin_fund_id`` NULL for this fund, so every record made
    before any take-over, and every one made without naming an origin, is this fund's."""

    __tablename__ = "funds"
    __table_args__ = (
        # At most one row is this fund.
        Index(
            "uq_funds_own",
            "is_own",
            unique=True,
            postgresql_where=text("is_own"),
            sqlite_where=text("is_own"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    is_own: Mapped[bool] = mapped_column(default=False)
