"""The director's record of the year's A/B/C self-assessment (docs/rules.md#ranking-and-
dissolution): the compliance answers, the note, and the rank with the figures it was
computed from, one record a year. Recording again replaces it; every record is audited.
The figures and the rank are computed by ``fundapp.reports.ranking``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp import audit
from fundapp.core.db import TimestampMixin, UTCDateTime
from fundapp.core.security import Role, has_role
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import PermissionDenied, ValidationFailed
from fundapp.domain.ranking import COMPLIANCE_CODES, MAX_POINTS, RANKS
from fundapp.extensions import db

MAX_NOTE = 2000


class RankingAssessment(TimestampMixin, db.Model):
    __tablename__ = "ranking_assessments"
    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint("rank IN ('A', 'B', 'C')", name="rank"),
        CheckConstraint(f"points BETWEEN 0 AND {MAX_POINTS}", name="points_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    as_of: Mapped[date] = mapped_column(Date)
    rank: Mapped[str] = mapped_column(String(1))
    points: Mapped[int] = mapped_column(Integer)
    compliance: Mapped[dict[str, Any]] = mapped_column(JSON)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    recorded_by = relationship("User", lazy="joined")


def assessment_for(year: int) -> RankingAssessment | None:
    return db.session.scalar(select(RankingAssessment).where(RankingAssessment.year == year))


def ranks_by_year() -> dict[int, str]:
    rows = db.session.execute(select(RankingAssessment.year, RankingAssessment.rank))
    return {year: rank for year, rank in rows}


def parse_answers(raw: Mapping[str, Any]) -> dict[str, bool]:
    """Each checklist item's answer: JSON true/false, or a form's "on"/"1"/"y"; an item
    not sent is not complied with. An unknown item is refused."""
    errors = {
        str(k)[:40]: _("Mục tự đánh giá không tồn tại.") for k in raw if k not in COMPLIANCE_CODES
    }
    out = {}
    for code in COMPLIANCE_CODES:
        value = raw.get(code, False)
        if isinstance(value, str):
            value = value.strip().lower() in {"on", "1", "y", "yes", "true", "có"}
        elif not isinstance(value, bool):
            errors[code] = _("Trả lời là có hoặc không.")
            value = False
        out[code] = value
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    return out


def parse_note(raw: Any) -> str:
    note = "" if raw is None else str(raw).strip()
    if "\x00" in note:
        message = _("Ghi chú có ký tự không hợp lệ.")
        raise ValidationFailed(message, {"note": message})
    if len(note) > MAX_NOTE:
        message = _("Tối đa %(n)s ký tự.", n=MAX_NOTE)
        raise ValidationFailed(message, {"note": message})
    return note


def snapshot(record: RankingAssessment) -> dict[str, Any]:
    return {
        "year": record.year,
        "as_of": record.as_of.isoformat(),
        "rank": record.rank,
        "points": record.points,
        "compliance": record.compliance,
        "note": record.note,
    }


def save(
    actor: Any,
    year: int,
    as_of: date,
    answers: dict[str, bool],
    note: str,
    rank: str,
    points: int,
    figures: dict[str, Any],
) -> RankingAssessment:
    """Store the year's self-assessment (replacing an earlier record). Flushes."""
    if not has_role(actor, Role.DIRECTOR):
        raise PermissionDenied(_("Chỉ giám đốc ghi nhận kết quả tự đánh giá, xếp loại Quỹ."))
    if rank not in RANKS:  # computed, never typed: a wrong one is a bug
        raise ValueError(rank)
    record = assessment_for(year)
    before = snapshot(record) if record else None
    if record is None:
        record = RankingAssessment(year=year)
        db.session.add(record)
    record.as_of, record.rank, record.points = as_of, rank, points
    record.compliance, record.figures, record.note = dict(answers), figures, note
    record.recorded_by_id, record.recorded_at = actor.id, utcnow()
    db.session.flush()
    after = snapshot(record)
    if before is None:
        audit.record(actor, "ranking.record", "ranking_assessment", record.id, after=after)
    else:
        old, new = audit.diff(before, after)
        audit.record(
            actor, "ranking.record", "ranking_assessment", record.id, before=old, after=new
        )
    return record
