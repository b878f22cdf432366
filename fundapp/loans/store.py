"""Between the stored facts of a loan and the replay engine: lock, load, replay, store.

``refresh(loan)`` is called by every service that changes a loan's history, inside the
same transaction and with the loan row locked: it replays the history, rewrites the
schedule and each repayment's allocation, updates the cached balances and posts one
journal entry with the difference between what the ledger holds for the loan and what the
history says it should hold. The ledger therefore never drifts from the history, and a
back-dated repayment or a reversal corrects earlier postings by an adjusting entry
(journal entries are append-only).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select

from fundapp.domain import replay as engine
from fundapp.domain.allocation import Allocation, AllocationError
from fundapp.domain.errors import N_, DomainError, NotFound
from fundapp.domain.overdue import OverdueError, Reduction, balance_days
from fundapp.domain.schedule import ScheduleError
from fundapp.domain.support import Support
from fundapp.domain.terms import CustomPrincipal, LoanTerms, Product
from fundapp.extensions import db
from fundapp.loans.days import last_run_date
from fundapp.loans.models import (
    ApprovalStatus,
    Disbursement,
    DisbursementStatus,
    Instalment,
    Loan,
    Repayment,
    Restructuring,
)
from fundapp.loans.posting import sync_ledger
from fundapp.loans.relief import InterestRelief


def lock_loan(loan_id: int) -> Loan:
    """The loan, re-read and locked for the rest of the transaction (FOR UPDATE on
    PostgreSQL; on SQLite every transaction holds the write lock from its first statement,
    see ``core.db.serialise_sqlite``). Rows of the loan read before this call (a tranche,
    a proposal) are re-read after it before their status is checked."""
    loan = db.session.execute(
        select(Loan)
        .where(Loan.id == loan_id)
        .with_for_update(of=Loan)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if loan is None:
        raise NotFound(_("Không tìm thấy khoản vay."))
    return loan


def terms_of(loan: Loan, amount: int | None = None) -> LoanTerms:
    custom = tuple(
        CustomPrincipal(date.fromisoformat(d), int(a)) for d, a in (loan.custom_schedule or [])
    )
    return LoanTerms(
        amount=amount if amount is not None else loan.amount,
        annual_rate=loan.annual_rate,
        term_months=loan.term_months,
        principal_method=loan.principal_method,
        principal_every_months=loan.principal_every_months,
        interest_every_months=loan.interest_every_months,
        grace_months=loan.grace_months,
        custom_principal=custom,
    )


def support_of(loan: Loan) -> Support | None:
    """The interest support terms snapshotted on the loan (``fundapp.support``), if any."""
    raw = loan.support_terms
    if not raw:
        return None
    return Support(
        share=Decimal(str(raw["share"])),
        first_due=date.fromisoformat(raw["first_due"]),
        last_due=date.fromisoformat(raw["last_due"]) if raw.get("last_due") else None,
        cap=int(raw["cap"]) if raw.get("cap") is not None else None,
    )


def product_of(loan: Loan) -> Product:
    return Product(
        terms=terms_of(loan),
        repayment_order=loan.repayment_order,
        prepayment_mode=loan.prepayment_mode,
        overdue_multiplier=loan.overdue_multiplier,
        late_rate=loan.late_rate,
        support=support_of(loan),
    )


@dataclass(frozen=True)
class History:
    disbursements: tuple[engine.DisbursementEvent, ...]
    repayments: tuple[engine.RepaymentEvent, ...]
    restructures: tuple[engine.RestructureEvent, ...]
    reliefs: tuple[engine.ReliefEvent, ...] = ()


def history_of(loan: Loan) -> History:
    return histories_of([loan.id])[loan.id]


def histories_of(loan_ids: Sequence[int]) -> dict[int, History]:
    """The history of each of ``loan_ids``, read in one statement per kind of event (a
    loan without events has an empty history)."""
    # Plain columns, not ORM rows: a replay runs on every money action of the loan.
    ids = list(loan_ids)
    events: dict[int, tuple[list, list, list, list]] = {i: ([], [], [], []) for i in ids}
    for loan_id, id_, when, amount in db.session.execute(
        select(Disbursement.loan_id, Disbursement.id, Disbursement.value_date, Disbursement.amount)
        .where(
            Disbursement.loan_id.in_(ids),
            Disbursement.status == DisbursementStatus.POSTED,
        )
        .order_by(Disbursement.loan_id, Disbursement.value_date, Disbursement.id)
    ):
        events[loan_id][0].append(engine.DisbursementEvent(id_, when, amount))
    for loan_id, id_, when, amount in db.session.execute(
        select(Repayment.loan_id, Repayment.id, Repayment.value_date, Repayment.amount)
        .where(Repayment.loan_id.in_(ids), Repayment.reversed.is_(False))
        .order_by(Repayment.loan_id, Repayment.value_date, Repayment.id)
    ):
        events[loan_id][1].append(engine.RepaymentEvent(id_, when, amount, id_))
    for r in db.session.scalars(
        select(Restructuring)
        .where(
            Restructuring.loan_id.in_(ids),
            Restructuring.status == ApprovalStatus.APPROVED,
        )
        .order_by(Restructuring.loan_id, Restructuring.effective_date, Restructuring.id)
    ):
        events[r.loan_id][2].append(restructure_event(r))
    for id_, loan_id, when, interest, penalty, _allocations in db.session.execute(
        approved_reliefs(ids)
    ):
        events[loan_id][3].append(engine.ReliefEvent(id_, when, interest, penalty))
    return {
        i: History(tuple(d), tuple(r), tuple(s), tuple(f)) for i, (d, r, s, f) in events.items()
    }


def approved_reliefs(loan_ids: Sequence[int]) -> Select:
    """The approved interest reliefs of ``loan_ids`` as plain columns (id, loan id,
    effective date, interest, penalty, allocations), by loan, then effective date: what a
    replay (:func:`histories_of`) and the stored state (``stored.states_of``) read of them."""
    return (
        select(
            InterestRelief.id,
            InterestRelief.loan_id,
            InterestRelief.effective_date,
            InterestRelief.interest,
            InterestRelief.penalty,
            InterestRelief.allocations,
        )
        .where(InterestRelief.loan_id.in_(list(loan_ids)), InterestRelief.status == "approved")
        .order_by(InterestRelief.loan_id, InterestRelief.effective_date, InterestRelief.id)
    )


def restructure_event(r: Restructuring) -> engine.RestructureEvent:
    plan = r.principal_plan or []
    dates = tuple(date.fromisoformat(d) for d, _a in plan)
    amounts = (
        tuple(int(a) for _d, a in plan) if plan and all(a is not None for _d, a in plan) else None
    )
    return engine.RestructureEvent(r.id, r.effective_date, r.kind, dates, amounts, r.new_maturity)


def replay(loan: Loan, history: History | None = None) -> engine.LoanState:
    """Replay the loan; an impossible history is a DomainError naming the rule."""
    history = history or history_of(loan)
    try:
        return engine.replay(
            product_of(loan),
            history.disbursements,
            history.repayments,
            history.restructures,
            history.reliefs,
        )
    except (ScheduleError, AllocationError, OverdueError, engine.ReplayError) as exc:
        raise DomainError(rule_message(exc.rule, exc.detail)) from exc


RULE_MESSAGES = {
    "overpayment": N_("Số tiền trả vượt quá toàn bộ số phải trả của khoản vay tại ngày đó."),
    "before_disbursement": N_("Ngày trả nợ không được trước ngày giải ngân đầu tiên."),
    "loan_settled": N_("Khoản vay đã trả hết; không nhận thêm tiền hoặc giải ngân."),
    "extension_before_maturity": N_("Gia hạn phải được quyết định trước ngày đáo hạn hiện tại."),
    "extension_later": N_("Ngày đáo hạn mới phải sau ngày đáo hạn hiện tại."),
    "principal_dates_range": N_(
        "Các ngày trả gốc mới phải sau ngày hiệu lực và không sau ngày đáo hạn."
    ),
    "principal_dates_order": N_("Các ngày trả gốc phải tăng dần."),
    "principal_dates_required": N_("Cần ít nhất một ngày trả gốc."),
    "amounts_sum": N_("Tổng số gốc theo các kỳ mới phải bằng dư nợ gốc còn lại."),
    "disbursement_before_maturity": N_("Ngày giải ngân phải trước ngày đáo hạn."),
    "disbursed_over_amount": N_("Tổng giải ngân vượt số tiền hợp đồng."),
    "tranche_order": N_("Đợt giải ngân mới không được trước đợt đã giải ngân."),
    "annuity_grace_periods": N_("Với niên kim, thời gian ân hạn phải là bội số của kỳ trả gốc."),
    "grace_range": N_("Thời gian ân hạn phải nhỏ hơn thời hạn vay."),
    "term_range": N_("Thời hạn vay phải từ 1 đến 600 tháng."),
    "frequency": N_("Kỳ trả gốc và kỳ trả lãi là 1, 3, 6 hoặc 12 tháng."),
    "rate_range": N_("Lãi suất phải từ 0 đến 100 %/năm."),
    "custom_required": N_("Phương thức tự nhập cần lịch trả gốc theo từng ngày."),
    "custom_dates_range": N_(
        "Các ngày trong lịch tự nhập phải sau ngày giải ngân và không sau ngày đáo hạn."
    ),
    "custom_dates_order": N_("Các ngày trong lịch tự nhập phải tăng dần."),
    "custom_amount_positive": N_("Mỗi kỳ trong lịch tự nhập phải có số gốc lớn hơn 0."),
    "no_principal_dates": N_("Không còn kỳ trả gốc nào sau ngày này."),
    "annuity_same_dates": N_("Phương thức niên kim cần kỳ trả lãi bằng kỳ trả gốc."),
    "custom_sum": N_("Tổng số gốc theo lịch tự nhập phải bằng số tiền vay."),
    "relief_over_interest": N_(
        "Số lãi miễn, giảm vượt số lãi trong hạn đã đến hạn còn phải trả tại ngày quyết định."
    ),
    "relief_over_penalty": N_(
        "Số lãi quá hạn miễn, giảm vượt số lãi quá hạn còn phải trả tại ngày quyết định."
    ),
    "relief_before_disbursement": N_("Chưa giải ngân thì chưa có lãi để miễn, giảm."),
    "relief_amount": N_("Số tiền miễn, giảm phải lớn hơn 0."),
}


def rule_message(rule: str, detail: str) -> str:
    message = RULE_MESSAGES.get(rule)
    if message:
        return _(message)
    return _("Không thực hiện được (quy tắc %(rule)s): %(detail)s", rule=rule, detail=detail)


def instalment_columns(state: engine.LoanState, book_date: date | None) -> dict[int, dict]:
    """What ``store`` writes on each instalment row of the replayed ``state``, by number:
    the schedule, what is paid and waived, and the overdue state as of ``book_date`` (the
    last close of day, None before the first). ``loans.verify`` compares the stored rows
    with this."""
    out: dict[int, dict] = {}
    for row in state.rows:
        plan = row.plan
        values = {
            "due_date": plan.due_date,
            "interest_from": plan.interest_from,
            "principal_due_date": plan.principal_due,
            "opening_principal": plan.opening_principal,
            "principal": plan.principal,
            "interest": plan.interest,
            "principal_paid": plan.principal - row.principal_unpaid,
            # Settled on the row: paid, or waived by an approved relief (no longer owed).
            "interest_paid": plan.interest - row.interest_unpaid,
            "penalty_paid": row.penalty_paid + row.penalty_waived,
            "interest_waived": sum(a for _, a in row.interest_waived),
            "interest_supported": row.interest_supported,
            "penalty_waived": row.penalty_waived,
            "paid_on": _paid_on(row),
        }
        # Overdue state as of the last close of day, which the next run advances by a day.
        if book_date is not None and row.due_date < book_date:
            values["principal_balance_days"] = balance_days(
                plan.principal,
                row.due_date,
                book_date,
                [Reduction(d, a) for d, a in row.principal_paid],
            )
            values["interest_balance_days"] = balance_days(
                plan.interest,
                row.due_date,
                book_date,
                [Reduction(d, a) for d, a in row.interest_reductions()],
            )
            values["penalty_accrued"] = row.penalty_accrued(state.product, book_date)
        else:
            values["principal_balance_days"] = values["interest_balance_days"] = 0
            values["penalty_accrued"] = 0
        out[plan.no] = values
    return out


def allocation_json(allocations: Iterable[Allocation]) -> list[dict]:
    """An allocation as stored on a repayment or a relief."""
    return [{"no": a.no, "component": a.component, "amount": a.amount} for a in allocations]


def repayment_columns(state: engine.LoanState, repayment_id: int) -> tuple[list[dict], int]:
    """The allocation and prepaid principal ``store`` writes on a repayment of the loan; a
    reversed one (not in the replay) allocates nothing."""
    result = state.repayments.get(repayment_id)
    if result is None:
        return [], 0
    return allocation_json(result.allocations), result.prepaid_principal


def loan_columns(state: engine.LoanState, written_off: int) -> dict:
    """The loan's cached balances ``store`` writes from the replayed ``state``."""
    values = {
        "disbursed": state.disbursed,
        "principal_paid": state.principal_paid,
        "interest_paid": state.interest_paid,
        "penalty_paid": state.penalty_paid,
        "principal_outstanding": max(state.principal_outstanding - written_off, 0),
    }
    if state.tranches:
        values["first_disbursement_date"] = state.tranches[0].date
        values["maturity_date"] = state.maturity
    return values


def store(loan: Loan, state: engine.LoanState, book_date: date | None) -> None:
    """Write the replayed schedule and allocations back, and the cached balances.
    ``book_date``: the last closed business date (``loans.days.last_run_date``; None before
    the first close of day), as of which each instalment's overdue state is stored."""
    loan.reclassify = True
    existing = {
        i.no: i for i in db.session.scalars(select(Instalment).where(Instalment.loan_id == loan.id))
    }
    wanted = instalment_columns(state, book_date)
    for no, values in wanted.items():
        inst = existing.get(no)
        if inst is None:
            inst = Instalment(loan_id=loan.id, no=no)
            db.session.add(inst)
        for column, value in values.items():
            setattr(inst, column, value)
    for no, inst in existing.items():
        if no not in wanted:
            db.session.delete(inst)
    db.session.flush()

    for repayment in db.session.scalars(select(Repayment).where(Repayment.loan_id == loan.id)):
        repayment.allocations, repayment.prepaid_principal = repayment_columns(state, repayment.id)
    if state.reliefs:
        for relief in db.session.scalars(
            select(InterestRelief).where(
                InterestRelief.loan_id == loan.id, InterestRelief.id.in_(list(state.reliefs))
            )
        ):
            relief.allocations = allocation_json(state.reliefs[relief.id].allocations)

    for column, value in loan_columns(state, loan.written_off).items():
        setattr(loan, column, value)


def _paid_on(row: engine.Row) -> date | None:
    if row.principal_unpaid or row.interest_unpaid:
        return None
    dates = [d for d, _ in row.principal_paid + row.interest_reductions()]
    return max(dates) if dates else None


def refresh(
    loan: Loan,
    entry_date: date,
    kind: str,
    actor: Any,
    reference: str = "",
    description: str = "",
    history: History | None = None,
) -> tuple[engine.LoanState, int | None]:
    """Replay, store and post; the caller holds the loan lock. The overdue state and the
    ledger targets are as of the last close of day, whatever ``entry_date`` is."""
    book_date = last_run_date()
    state = replay(loan, history)
    store(loan, state, book_date)
    entry_id = sync_ledger(
        loan,
        state,
        entry_date,
        kind,
        actor,
        reference,
        description,
        book_date=book_date,
        group=loan.debt_group,
    )
    return state, entry_id
