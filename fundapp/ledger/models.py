from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.core.db import Money, TimestampMixin
from fundapp.core.lists import SearchKeyMixin
from fundapp.extensions import db
from fundapp.ledger.accounts import ACCOUNTS

_ACCOUNT_CHECK = "account IN (" + ", ".join(f"'{c}'" for c in ACCOUNTS) + ")"
CAPITAL_SOURCES = ("charter", "entrusted", "grant", "other")
_SOURCE_CHECK = "source IN (" + ", ".join(f"'{s}'" for s in CAPITAL_SOURCES) + ")"


class JournalEntry(TimestampMixin, db.Model):
    """One balanced double-entry posting. Append-only: mistakes are reversed, not edited."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_date: Mapped[date] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    reference: Mapped[str] = mapped_column(String(80), default="")
    description: Mapped[str] = mapped_column(String(255), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    lines: Mapped[list[JournalLine]] = relationship(
        back_populates="entry", lazy="selectin", order_by="JournalLine.id"
    )
    created_by = relationship("User", lazy="joined")

    @property
    def total(self) -> int:
        return sum(line.debit for line in self.lines)


class JournalLine(db.Model):
    __tablename__ = "journal_lines"
    __table_args__ = (
        CheckConstraint(_ACCOUNT_CHECK, name="account_known"),
        CheckConstraint(
            "debit >= 0 AND credit >= 0 AND (debit = 0) <> (credit = 0)", name="one_side"
        ),
        Index("ix_journal_lines_account_entry", "account", "entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT"), index=True
    )
    account: Mapped[str] = mapped_column(String(8))
    debit: Mapped[int] = mapped_column(Money, default=0)
    credit: Mapped[int] = mapped_column(Money, default=0)
    cooperative_id: Mapped[int | None] = mapped_column(
        ForeignKey("cooperatives.id", ondelete="RESTRICT"), index=True
    )
    loan_id: Mapped[int | None] = mapped_column(
        ForeignKey("loans.id", ondelete="RESTRICT"), index=True
    )
    # The lender of entrusted capital (e.g. the central fund), for the report by source.
    source_name: Mapped[str] = mapped_column(String(120), default="")

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")


class CapitalEntry(SearchKeyMixin, TimestampMixin, db.Model):
    """Capital received by the fund: charter, entrusted, grant or other."""

    __tablename__ = "capital_entries"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(_SOURCE_CHECK, name="source_known"),
    )
    search_fields = ("source_name", "reference", "note")

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    source_name: Mapped[str] = mapped_column(String(120), default="")
    amount: Mapped[int] = mapped_column(Money)
    entry_date: Mapped[date] = mapped_column(index=True)
    reference: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    journal_entry_id: Mapped[int] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT"), unique=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The fund whose capital this was (a fund taken over); NULL: this fund (fundapp.funds).
    origin_fund_id: Mapped[int | None] = mapped_column(
        ForeignKey("funds.id", ondelete="RESTRICT"), index=True
    )

    journal_entry: Mapped[JournalEntry] = relationship(lazy="joined")
    created_by = relationship("User", lazy="joined")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "source": self.source,
            "source_name": self.source_name,
            "amount": self.amount,
            "date": self.entry_date.isoformat(),
            "reference": self.reference,
            "note": self.note,
            "journal_entry_id": self.journal_entry_id,
        }


class LoanBalance(db.Model):
    """Running balance (debit − credit) of each account per loan, kept with every posting so
    the close of day reads a loan's position without summing its whole history."""

    __tablename__ = "loan_balances"

    loan_id: Mapped[int] = mapped_column(
        ForeignKey("loans.id", ondelete="RESTRICT"), primary_key=True
    )
    account: Mapped[str] = mapped_column(String(8), primary_key=True)
    balance: Mapped[int] = mapped_column(Money, default=0)


class LedgerDayTotal(db.Model):
    """The journal summed per day, account and kind of entry, lines of a loan apart from
    the others: kept with every posting (``ledger.services.post``), so the fund's position
    and the month-by-month series read a few rows a day, not the whole journal. ``flask fund
    check`` verifies it against the lines."""

    __tablename__ = "ledger_day_totals"

    entry_date: Mapped[date] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Lines naming a loan (``JournalLine.loan_id``) and the others, apart.
    loan_line: Mapped[bool] = mapped_column(primary_key=True)
    # Each database connection adds to its own row of a key (``ledger.services``), so that
    # postings on parallel connections never wait for one another; readers sum the slots.
    slot: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=0)
    debit: Mapped[int] = mapped_column(Money, default=0)
    credit: Mapped[int] = mapped_column(Money, default=0)
