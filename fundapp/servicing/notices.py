"""Notices of the close of day (docs/rules.md#notices), once per event and recipient.

In-app for the cooperative (all its users see it) and for the loan's officer; by e-mail
where an address is known, through the configured backend, after the run commits
(``fundapp.notices.delivery``).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from fundapp.auth.models import User
from fundapp.cooperatives.models import Cooperative
from fundapp.core.db import among, upsert
from fundapp.core.formatting import money_filter
from fundapp.domain.dates import utcnow
from fundapp.domain.terms import overdue_rate
from fundapp.extensions import db
from fundapp.loans.days import Notice
from fundapp.loans.models import Instalment, Loan, LoanStatus
from fundapp.policy import services as policy


def _add(
    batch: list[dict[str, Any]],
    kind: str,
    event_key: str,
    loan: Any,
    day: date,
    title: str,
    body: str,
    data: dict[str, Any],
) -> None:
    """The notice to the cooperative and to the officer (kept once per event by the
    database's unique key when the batch is written); ``loan`` is a row of
    :func:`_loan_columns`."""
    common = {
        "kind": kind,
        "event_key": event_key,
        "business_date": day,
        "loan_id": loan.id,
        "title": title,
        "body": body,
        "data": data,
        "read_at": None,
        "emailed_at": None,
        "created_at": utcnow(),
    }
    batch.append(
        {
            **common,
            "recipient_key": f"coop:{loan.cooperative_id}",
            "cooperative_id": loan.cooperative_id,
            "user_id": None,
            "email_to": loan.coop_email or "",
        }
    )
    if loan.officer_id:
        batch.append(
            {
                **common,
                "recipient_key": f"user:{loan.officer_id}",
                "cooperative_id": None,
                "user_id": loan.officer_id,
                "email_to": loan.officer_email or "",
            }
        )


def _write(batch: list[dict[str, Any]]) -> int:
    """Insert the batch; a notice already sent for the same event and recipient is skipped."""
    if not batch:
        return 0
    written = upsert(
        Notice, batch, ["kind", "event_key", "recipient_key"], returning=Notice.__table__.c.id
    )
    return len(written)


def transfer_date(due: date) -> date:
    """The day an unpaid instalment's principal becomes overdue: the day after its due date
    (the close of day of that day), as the loan's statement shows it
    (fundapp/documents/statement.py::_schedule_lines), whatever day the run that notices it
    is (a first run, or one catching up, notices many past transfers at once)."""
    return due + timedelta(days=1)


def _rate(text: Any) -> str:
    return format(Decimal(str(text)).normalize(), "f").replace(".", ",")


def overdue_transfer_body(data: dict[str, Any], day: date) -> str:
    """The overdue-transfer notice of ``day`` from its data: the transfer date of the loan's
    statement, and the amounts still unpaid on ``day`` (the notice's own date)."""
    due = date.fromisoformat(data["due_date"])
    return _(
        "Kỳ %(n)s đến hạn ngày %(d)s chưa trả: nợ gốc của kỳ chuyển sang nợ quá hạn từ ngày "
        "%(t)s, lãi suất quá hạn %(r)s %%/năm. Đến ngày %(a)s còn %(p)s nợ gốc quá hạn; lãi "
        "chưa trả %(i)s chịu lãi chậm trả %(l)s %%/năm.",
        n=data["no"],
        d=due.strftime("%d/%m/%Y"),
        t=transfer_date(due).strftime("%d/%m/%Y"),
        r=_rate(data["overdue_rate"]),
        a=day.strftime("%d/%m/%Y"),
        p=money_filter(int(data["overdue_principal"])),
        i=money_filter(int(data["unpaid_interest"])),
        l=_rate(data["late_rate"]),
    )


def contradictory_overdue_notices() -> list[Notice]:
    """Overdue-transfer notices whose transfer date is not the statement's (the day after
    the due date): written before issue 16 with the date of the run that noticed them."""
    found = []
    for notice in db.session.scalars(
        select(Notice).where(Notice.kind == "overdue_transfer").order_by(Notice.id)
    ):
        data = notice.data or {}
        try:
            due = date.fromisoformat(str(data.get("due_date")))
        except ValueError:
            continue
        if data.get("transfer_date") != transfer_date(due).isoformat():
            found.append(notice)
    return found


def repair_overdue_notices() -> int:
    """Make each contradictory overdue-transfer notice state the facts of its own date: the
    transfer date of the loan's statement; its amounts (those unpaid on the notice's date)
    are kept. Returns how many notices (one per recipient) were corrected."""
    notices = contradictory_overdue_notices()
    late_rates = dict(
        db.session.execute(
            select(Loan.id, Loan.late_rate).where(
                Loan.id.in_({n.loan_id for n in notices if n.loan_id})
            )
        )
        .tuples()
        .all()
    )
    repaired = 0
    for notice in notices:
        data = dict(notice.data or {})
        if "late_rate" not in data and notice.loan_id in late_rates:
            data["late_rate"] = format(late_rates[notice.loan_id].normalize(), "f")
        if not {"no", "overdue_principal", "unpaid_interest", "overdue_rate", "late_rate"} <= set(
            data
        ):
            continue  # not a notice this code wrote: left as it is
        data["transfer_date"] = transfer_date(date.fromisoformat(str(data["due_date"]))).isoformat()
        notice.data = data
        notice.body = overdue_transfer_body(data, notice.business_date)
        repaired += 1
    db.session.flush()
    return repaired


def _loan_columns() -> tuple[Any, ...]:
    """What a notice needs of its loan, read as plain columns rather than loaded objects
    (a close of day writes thousands)."""
    return (
        Loan.id,
        Loan.contract_no,
        Loan.cooperative_id,
        Loan.officer_id,
        Loan.annual_rate,
        Loan.overdue_multiplier,
        Loan.late_rate,
        Cooperative.email.label("coop_email"),
        User.email.label("officer_email"),
    )


def _with_recipients(query: Any) -> Any:
    return query.join(Cooperative, Cooperative.id == Loan.cooperative_id).outerjoin(
        User, User.id == Loan.officer_id
    )


def for_day(
    day: date, group_changes: list[tuple[int, int, int]], previous: date | None = None
) -> int:
    """The notices of the run of ``day``; ``previous`` is the date closed before it (None on
    the first run ever, when every instalment already past due is transferred at once)."""
    batch: list[dict[str, Any]] = []
    ahead = timedelta(days=policy.value("due_soon_days", day))
    soon = day + ahead
    # Events of this run only: instalments that fell due since the previous run, and those
    # entering the due-soon window since then.
    overdue_from = previous if previous is not None else date.min
    soon_from = (previous + ahead + timedelta(days=1)) if previous is not None else day
    unpaid = or_(
        Instalment.principal_paid < Instalment.principal,
        Instalment.interest_paid < Instalment.interest,
    )
    rows = db.session.execute(
        _with_recipients(
            select(
                Instalment.no,
                Instalment.due_date,
                Instalment.principal,
                Instalment.principal_paid,
                Instalment.interest,
                Instalment.interest_paid,
                *_loan_columns(),
            ).join(Loan, Loan.id == Instalment.loan_id)
        )
        .where(
            Loan.status == LoanStatus.ACTIVE,
            unpaid,
            or_(
                Instalment.due_date.between(soon_from, soon),
                Instalment.due_date.between(overdue_from, day - timedelta(days=1)),
            ),
        )
        .order_by(Instalment.loan_id, Instalment.no)
    ).all()
    for row in rows:
        inst = loan = row  # one row: the instalment's columns and its loan's
        principal = inst.principal - inst.principal_paid
        interest = inst.interest - inst.interest_paid
        if inst.due_date >= day:
            _add(
                batch,
                "due_soon",
                f"loan:{loan.id}:due:{inst.due_date.isoformat()}",
                loan,
                day,
                _(
                    "Sắp đến hạn trả nợ: %(c)s, ngày %(d)s",
                    c=loan.contract_no,
                    d=inst.due_date.strftime("%d/%m/%Y"),
                ),
                _(
                    "Kỳ %(n)s đến hạn ngày %(d)s: gốc %(p)s, lãi %(i)s, tổng %(t)s.",
                    n=inst.no,
                    d=inst.due_date.strftime("%d/%m/%Y"),
                    p=money_filter(principal),
                    i=money_filter(interest),
                    t=money_filter(principal + interest),
                ),
                {
                    "no": inst.no,
                    "due_date": inst.due_date.isoformat(),
                    "principal": principal,
                    "interest": interest,
                },
            )
        elif principal:
            rate = overdue_rate(loan.annual_rate, loan.overdue_multiplier)
            data = {
                "no": inst.no,
                "due_date": inst.due_date.isoformat(),
                "transfer_date": transfer_date(inst.due_date).isoformat(),
                "overdue_principal": principal,
                "unpaid_interest": interest,
                "overdue_rate": format(rate.normalize(), "f"),
                "late_rate": format(loan.late_rate.normalize(), "f"),
            }
            _add(
                batch,
                "overdue_transfer",
                f"loan:{loan.id}:overdue:{inst.due_date.isoformat()}",
                loan,
                day,
                _("Thông báo chuyển nợ quá hạn: %(c)s", c=loan.contract_no),
                overdue_transfer_body(data, day),
                data,
            )
    loans: dict[int, Any] = {}
    ids = [loan_id for loan_id, _before, _after in group_changes]
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        query = _with_recipients(select(*_loan_columns())).where(among(Loan.id, part))
        loans.update((row.id, row) for row in db.session.execute(query))
    for loan_id, before, after in group_changes:
        loan = loans[loan_id]
        _add(
            batch,
            "group_change",
            f"loan:{loan.id}:group:{day.isoformat()}",
            loan,
            day,
            _("Thay đổi nhóm nợ: %(c)s", c=loan.contract_no),
            _(
                "Khoản vay %(c)s chuyển từ nhóm %(a)s sang nhóm %(b)s từ ngày %(d)s.",
                c=loan.contract_no,
                a=before,
                b=after,
                d=day.strftime("%d/%m/%Y"),
            ),
            {"from": before, "to": after},
        )
    return _write(batch)
