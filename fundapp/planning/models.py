from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.core.db import Money, TimestampMixin, UTCDateTime
from fundapp.extensions import db

PLAN_STATUSES = ("draft", "approved")
SECTIONS = ("lending", "sources", "income", "expense")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class AnnualPlan(TimestampMixin, db.Model):
    """The fund's plan for one year: a draft the accountant edits, then approved by the
    director (not the one who prepared it), after which it no longer changes."""

    __tablename__ = "annual_plans"
    __table_args__ = (
        CheckConstraint(_in("status", PLAN_STATUSES), name="status"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> prepared_by_id", name="maker_checker"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    note: Mapped[str] = mapped_column(Text, default="")
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    prepared_by = relationship("User", foreign_keys=[prepared_by_id], lazy="joined")
    approved_by = relationship("User", foreign_keys=[approved_by_id], lazy="joined")
    lines: Mapped[list[PlanLine]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanLine.id"
    )


class PlanLine(db.Model):
    """One planned figure: whole đồng, or basis points for a ratio (``fundapp.planning
    .services.LINES`` says which)."""

    __tablename__ = "plan_lines"
    __table_args__ = (
        UniqueConstraint("plan_id", "section", "code", name="plan_section_code"),
        CheckConstraint(_in("section", SECTIONS), name="section"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("annual_plans.id", ondelete="CASCADE"), index=True
    )
    section: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(Money, default=0)

    plan: Mapped[AnnualPlan] = relationship(back_populates="lines")
