"""The loan statement (sao kê khoản vay): a loan's own history over a period, as plain data.

Figures come from the loan's history (posted disbursements, repayments not reversed,
approved restructurings), replayed by the engine up to the date asked for, so a statement
of last March shows last March whatever was recorded since.

"As of D" means what the loan page and the API mean: after the payments dated D, with the
instalments due before D overdue and the overdue interest of the days before D (what a
payment made on D would owe). A period [from, to] opens with the position as of the day
before ``from`` and closes with the position as of ``to``, so consecutive statements
chain. Between the two, on each day in order: the overdue transfer of the instalments due
the day before (the close of day), the overdue interest charged up to that day (shown
where a payment falls and at the end), the instalments falling due, disbursements,
restructurings, repayments with their allocation, write-offs, and reversals for
information (a reversed repayment never counted, so it moves no balance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from fundapp.cooperatives.models import Cooperative
from fundapp.core.validation import iso_date
from fundapp.documents.payment_qr import due_qr
from fundapp.documents.positions import (
    Position,
    approved_write_offs,
    entry_dates_of,
    local_date,
    position_of,
    state_until,
)
from fundapp.domain import replay as engine
from fundapp.domain.errors import ValidationFailed
from fundapp.domain.terms import overdue_rate
from fundapp.extensions import db
from fundapp.lending.contracts import maturity_of
from fundapp.loans import store
from fundapp.loans.models import (
    ApprovalStatus,
    Disbursement,
    Loan,
    LoanStatus,
    Repayment,
    Reversal,
)
from fundapp.payments.vietqr import PaymentQR

ONE_DAY = timedelta(days=1)


@dataclass
class Line:
    """One event of the statement, with the balances after it."""

    day: date
    # transfer, penalty, due, disbursement, restructuring, repayment, reversed_repayment,
    # reversal, write_off
    kind: str
    no: int | None = None
    reference: str = ""
    since: date | None = None  # due date (transfer), first day charged (penalty)
    until: date | None = None  # last day charged (penalty), new maturity (restructuring)
    note: str = ""
    amount: int = 0  # the repayment, the reversed repayment, the transfer or the write-off
    disbursed: int = 0
    due_principal: int = 0
    due_interest: int = 0
    penalty_charged: int = 0
    paid_penalty: int = 0
    paid_interest: int = 0
    paid_principal: int = 0
    principal_outstanding: int = 0
    principal_overdue: int = 0
    interest_unpaid: int = 0
    penalty_unpaid: int = 0
    # What a repayment takes off the overdue principal and off the unpaid interest (the
    # rest of its principal was not yet due; interest paid ahead was not yet owed).
    overdue_reduction: int = 0
    interest_reduction: int = 0
    # What an approved interest relief waived of the overdue interest (its interest part is
    # ``interest_reduction``); waived, not paid: outside the "paid" columns.
    waived_penalty: int = 0
    # Of a due instalment's interest, the budget's share under interest support: not owed by
    # the borrower, so outside ``due_interest``.
    supported: int = 0


Add = Callable[..., None]


@dataclass(frozen=True)
class Party:
    """The borrower as printed on documents."""

    name: str
    kind: str
    address: str
    tax_code: str
    registration_no: str
    representative: str
    phone: str
    bank_account: str


@dataclass(frozen=True)
class LoanFacts:
    id: int
    contract_no: str
    contract_date: date | None
    project_name: str
    purpose: str
    amount: int
    annual_rate: object
    overdue_rate: object
    late_rate: object
    term_months: int
    principal_method: str
    first_disbursement_date: date | None
    maturity_date: date | None
    status: str
    # The allocation order the contract chose (standard or principal_first).
    repayment_order: str = "standard"


@dataclass
class Statement:
    loan: LoanFacts
    borrower: Party
    date_from: date
    date_to: date
    opening: Position
    closing: Position
    lines: list[Line] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    figures: Figures = field(default_factory=lambda: Figures(MIN_DIGITS))
    # The VietQR code for what is due at the end of the period (or the next instalment).
    qr: PaymentQR | None = None


TOTAL_KEYS = (
    "disbursed",
    "due_principal",
    "due_interest",
    "penalty_charged",
    "paid_penalty",
    "paid_interest",
    "paid_principal",
)


def party_of(loan: Loan) -> Party:
    return cooperative_party(loan.cooperative)


def cooperative_party(coop: Cooperative) -> Party:
    address = coop.full_address
    return Party(
        name=coop.name,
        kind=coop.kind_label,
        address=address,
        tax_code=coop.tax_code,
        registration_no=coop.registration_no,
        representative=coop.representative,
        phone=coop.phone,
        bank_account=" – ".join(p for p in (coop.bank_account, coop.bank_name) if p),
    )


def loan_facts(loan: Loan) -> LoanFacts:

    return LoanFacts(
        id=loan.id,
        contract_no=loan.contract_no,
        contract_date=loan.contract_date,
        project_name=loan.project_name,
        purpose=loan.purpose,
        amount=loan.amount,
        annual_rate=loan.annual_rate,
        overdue_rate=overdue_rate(loan.annual_rate, loan.overdue_multiplier),
        late_rate=loan.late_rate,
        term_months=loan.term_months,
        principal_method=loan.principal_method,
        first_disbursement_date=loan.first_disbursement_date,
        maturity_date=maturity_of(loan),
        status=loan.status,
        repayment_order=loan.repayment_order,
    )


# --- the period ------------------------------------------------------------------------------


def default_start(loan: Loan) -> date:
    return loan.first_disbursement_date or loan.contract_date or loan.approved_on


def parse_period(args: dict, loan: Loan, today: date) -> tuple[date, date]:
    """``from`` and ``to`` from a query string (ISO or dd/mm/yyyy); defaults: the first
    disbursement (or the contract) and the business date. A period that ends after the
    business date or starts after it ends is refused with a message naming the field."""
    errors: dict[str, str] = {}
    start = iso_date(args, "from", errors, required=False)
    end = iso_date(args, "to", errors, required=False)
    if errors:
        raise ValidationFailed(_("Khoảng thời gian sao kê không hợp lệ."), errors)
    end = end or today
    start = start or min(default_start(loan), end)
    if end > today:
        raise ValidationFailed(
            _("Ngày kết thúc không được sau ngày làm việc hiện tại (%(d)s).", d=_vn(today)),
            {"to": _("Sau ngày làm việc hiện tại.")},
        )
    if start > end:
        raise ValidationFailed(
            _(
                "Ngày bắt đầu (%(a)s) phải trước hoặc bằng ngày kết thúc (%(b)s).",
                a=_vn(start),
                b=_vn(end),
            ),
            {"from": _("Sau ngày kết thúc.")},
        )
    return start, end


def _vn(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# --- the statement -----------------------------------------------------------------------------


class _Running:
    def __init__(self, opening: Position) -> None:
        self.outstanding = opening.principal_outstanding
        self.overdue = opening.principal_overdue
        self.interest = opening.interest_unpaid
        self.penalty = opening.penalty_due

    def stamp(self, line: Line) -> Line:
        line.principal_outstanding = self.outstanding
        line.principal_overdue = self.overdue
        line.interest_unpaid = self.interest
        line.penalty_unpaid = self.penalty
        return line


def _accrued_by_row(state: engine.LoanState, day: date) -> dict[date, int]:
    """Overdue interest accrued on each instalment (by due date) over [due date, day)."""
    return {
        r.due_date: r.penalty_accrued(state.product, day) for r in state.rows if r.due_date < day
    }


def _paid_before(pairs: list[tuple[date, int]], day: date) -> int:
    return sum(a for d, a in pairs if d < day)


def _paid_until(pairs: list[tuple[date, int]], day: date) -> int:
    return sum(a for d, a in pairs if d <= day)


def build_statement(loan: Loan, date_from: date, date_to: date) -> Statement:
    history = store.history_of(loan)
    write_offs = approved_write_offs(loan)
    before = date_from - ONE_DAY
    opening = position_of(
        loan,
        state_until(loan, history, before),
        before,
        sum(a for d, a in write_offs if d <= before),
    )
    state = state_until(loan, history, date_to)
    closing = position_of(loan, state, date_to, sum(a for d, a in write_offs if d <= date_to))
    statement = Statement(loan_facts(loan), party_of(loan), date_from, date_to, opening, closing)
    running = _Running(opening)
    by_day: dict[date, list[tuple[int, int, Line]]] = {}

    def add(line: Line, order: int, seq: int = 0) -> None:
        by_day.setdefault(line.day, []).append((order, seq, line))

    repayment_rows = {
        r.id: r
        for r in db.session.scalars(
            select(Repayment)
            .where(Repayment.loan_id == loan.id)
            .order_by(Repayment.value_date, Repayment.id)
        )
    }
    if state is not None:
        _schedule_lines(state, date_from, date_to, add)
        _penalty_lines(state, date_from, date_to, add)
        _disbursement_lines(loan, history, date_from, date_to, add)
        _repayment_lines(state, repayment_rows, date_from, date_to, add)
        for relief in state.reliefs.values():
            if date_from <= relief.date <= date_to:
                # Before the day's repayments, as the replay applies it.
                line = Line(
                    relief.date,
                    "relief",
                    amount=relief.interest + relief.penalty,
                    interest_reduction=relief.interest,
                    waived_penalty=relief.penalty,
                )
                add(line, 5, -relief.id)
        for event in history.restructures:
            if date_from <= event.date <= date_to:
                add(
                    Line(event.date, "restructuring", note=event.kind, until=event.new_maturity),
                    4,
                    event.id,
                )
    for when, amount in write_offs:
        if date_from <= when <= date_to:
            add(Line(when, "write_off", amount=amount), 6)
    _reversal_lines(loan, repayment_rows, date_from, date_to, add)

    for day in sorted(by_day):
        for _order, _seq, line in sorted(by_day[day], key=lambda item: (item[0], item[1])):
            _apply(running, line)
            statement.lines.append(running.stamp(line))
    statement.totals = {k: sum(getattr(line, k) for line in statement.lines) for k in TOTAL_KEYS}
    statement.figures = Figures.fitting(statement)
    if state is not None and loan.status == LoanStatus.ACTIVE:
        rows = [(r.no, r.due_date, r.principal_unpaid + r.interest_unpaid) for r in state.rows]
        statement.qr = due_qr(loan.contract_no, rows, closing.total_due, date_to)
    return statement


def _apply(running: _Running, line: Line) -> None:
    if line.kind == "transfer":
        running.overdue += line.amount
    elif line.kind == "penalty":
        running.penalty += line.penalty_charged
    elif line.kind == "due":
        running.interest += line.due_interest
    elif line.kind == "disbursement":
        running.outstanding += line.disbursed
    elif line.kind == "repayment":
        running.outstanding -= line.paid_principal
        running.overdue -= line.overdue_reduction
        running.interest -= line.interest_reduction
        running.penalty -= line.paid_penalty
    elif line.kind == "write_off":
        running.outstanding -= line.amount
    elif line.kind == "relief":
        running.interest -= line.interest_reduction
        running.penalty -= line.waived_penalty


def _schedule_lines(state: engine.LoanState, date_from: date, date_to: date, add: Add) -> None:
    for row in state.rows:
        due = row.due_date
        if date_from <= due <= date_to:
            principal = row.plan.principal - _paid_before(row.principal_paid, due)
            interest = (
                row.plan.interest - row.interest_supported - _paid_before(row.interest_paid, due)
            )
            if principal or interest:
                add(
                    Line(
                        due,
                        "due",
                        no=row.no,
                        due_principal=principal,
                        due_interest=interest,
                        supported=row.interest_supported,
                    ),
                    2,
                    row.no,
                )
        transfer_day = due + ONE_DAY
        if date_from <= transfer_day <= date_to:
            unpaid = row.plan.principal - _paid_until(row.principal_paid, due)
            if unpaid:
                add(Line(transfer_day, "transfer", no=row.no, since=due, amount=unpaid), 0, row.no)


def _penalty_lines(state: engine.LoanState, date_from: date, date_to: date, add: Add) -> None:
    """Overdue interest charged: up to each day a payment falls on, and up to ``date_to``."""
    points = sorted(
        {r.date for r in state.repayments.values() if date_from <= r.date <= date_to}
        | {r.date for r in state.reliefs.values() if date_from <= r.date <= date_to}
        | {date_to}
    )
    previous_day = date_from - ONE_DAY
    previous = _accrued_by_row(state, previous_day)
    for day in points:
        accrued = _accrued_by_row(state, day)
        grown = {due: amount - previous.get(due, 0) for due, amount in accrued.items()}
        charged = sum(grown.values())
        if charged:
            since = max(previous_day, min(due for due, more in grown.items() if more))
            add(
                Line(day, "penalty", since=since, until=day - ONE_DAY, penalty_charged=charged),
                1,
            )
        previous, previous_day = accrued, day


def _disbursement_lines(
    loan: Loan, history: store.History, date_from: date, date_to: date, add: Add
) -> None:
    numbers = dict(
        db.session.execute(
            select(Disbursement.id, Disbursement.receipt_no).where(Disbursement.loan_id == loan.id)
        ).all()
    )
    for event in history.disbursements:
        if date_from <= event.date <= date_to:
            add(
                Line(
                    event.date,
                    "disbursement",
                    reference=numbers.get(event.id, ""),
                    disbursed=event.amount,
                ),
                3,
                event.id,
            )


def _repayment_lines(
    state: engine.LoanState,
    rows: dict[int, Repayment],
    date_from: date,
    date_to: date,
    add: Add,
) -> None:
    due_dates = {r.no: r.due_date for r in state.rows}
    for result in state.repayments.values():
        if not date_from <= result.date <= date_to:
            continue
        parts = result.by_component()
        overdue_paid = interest_reduced = 0
        for a in result.allocations:
            due = due_dates.get(a.no, date.max)
            if a.component == "principal" and due < result.date:
                overdue_paid += a.amount
            elif a.component == "interest" and due <= result.date:
                interest_reduced += a.amount
        source = rows.get(result.id)
        line = Line(
            result.date,
            "repayment",
            reference=source.receipt_no if source else "",
            note=source.method if source else "",
            amount=result.amount,
            paid_penalty=parts["penalty"],
            paid_interest=parts["interest"],
            paid_principal=parts["principal"],
            overdue_reduction=overdue_paid,
            interest_reduction=interest_reduced,
        )
        add(line, 5, source.id if source else result.id)


def _reversal_lines(
    loan: Loan, rows: dict[int, Repayment], date_from: date, date_to: date, add: Add
) -> None:
    reversed_rows = [r for r in rows.values() if r.reversed]
    if not reversed_rows:
        return
    reversals = list(
        db.session.scalars(
            select(Reversal).where(
                Reversal.repayment_id.in_([r.id for r in reversed_rows]),
                Reversal.status == ApprovalStatus.APPROVED,
            )
        )
    )
    entry_dates = entry_dates_of([r.journal_entry_id for r in reversals])
    for r in reversed_rows:
        if date_from <= r.value_date <= date_to:
            add(
                Line(r.value_date, "reversed_repayment", reference=r.receipt_no, amount=r.amount),
                5,
                r.id,
            )
    for rev in reversals:
        when = entry_dates.get(rev.journal_entry_id or 0) or local_date(rev.decided_at)
        if when and date_from <= when <= date_to:
            add(
                Line(
                    when,
                    "reversal",
                    reference=rev.repayment.receipt_no,
                    since=rev.repayment.value_date,
                    amount=rev.repayment.amount,
                    note=rev.reason,
                ),
                7,
                rev.id,
            )


# --- printing ----------------------------------------------------------------------------------

FIGURE_SPACE = "\u2007"  # as wide as a digit
PUNCTUATION_SPACE = "\u2008"  # as wide as "." and ","
MIN_DIGITS = 9  # columns for hundreds of millions at least, so the headings keep their shape
BALANCE_KEYS = ("principal_outstanding", "principal_overdue", "interest_unpaid", "penalty_unpaid")


@dataclass(frozen=True)
class Figures:
    """A line's eleven amounts (TOTAL_KEYS, blank when zero, then BALANCE_KEYS) as one run
    of text, for the PDF.

    WeasyPrint lays out every table cell as boxes of its own, about 1 ms each: with a cell
    per amount, the statement of a 60-month loan (240 lines) took 1.7 s. So each line
    prints its amounts in one cell spanning the amount columns, each amount right-aligned
    in a field as wide as its column (``column_widths``: ``digits`` digits, their group
    separators and a gap, wider before the balances): missing digits are filled with
    figure spaces (as wide as a digit) and missing separators with punctuation spaces (as
    wide as "."), so the fields line up with the columns for any font whose digits share
    one width, as in the shipped DejaVu Sans. ``ch`` is that width in CSS.
    """

    digits: int

    GAPS = (2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1)  # in digits, before each of the eleven amounts

    @classmethod
    def fitting(cls, statement: Statement) -> Figures:
        """Wide enough for every amount of the statement, its totals and balances."""
        amounts = [statement.totals.get(k, 0) for k in TOTAL_KEYS]
        for p in (statement.opening, statement.closing):
            amounts += [p.principal_outstanding, p.principal_overdue]
            amounts += [p.interest_unpaid, p.penalty_due]
        for line in statement.lines:
            amounts += [getattr(line, k) for k in TOTAL_KEYS + BALANCE_KEYS]
        widest = max((len(str(abs(a))) + (a < 0) for a in amounts), default=0)
        return cls(max(widest, MIN_DIGITS))

    @property
    def column_widths(self) -> list[str]:
        """The CSS widths of the eleven amount columns."""
        digits = self.digits + (self.digits - 1) // 3 / 2
        return [f"{digits + gap:g}ch" for gap in self.GAPS]

    def row(self, line: Line) -> str:
        """The line's amounts, padded to their columns; the cell aligns them right."""
        separator = "." if _locale().startswith("vi") else ","
        template = f"{10**self.digits - 1:,}".replace(",", separator)
        values = [getattr(line, k) for k in TOTAL_KEYS + BALANCE_KEYS]
        text = "".join(
            FIGURE_SPACE * gap + self._field(value, template, separator, n >= len(TOTAL_KEYS))
            for n, (gap, value) in enumerate(zip(self.GAPS, values, strict=True))
        )
        # What leads is blank and the text is aligned right: dropping it moves nothing, and
        # keeps the text narrower than the cell whatever its padding.
        return text.lstrip(FIGURE_SPACE + PUNCTUATION_SPACE)

    @staticmethod
    def _field(value: int, template: str, separator: str, zero: bool) -> str:
        text = f"{value:,}".replace(",", separator) if value or zero else ""
        pad = template[: max(len(template) - len(text), 0)]
        return pad.replace("9", FIGURE_SPACE).replace(separator, PUNCTUATION_SPACE) + text


def _locale() -> str:
    try:
        return str(get_locale() or "vi")
    except RuntimeError:
        return "vi"
