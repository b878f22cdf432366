"""Between the stored facts of a loan and the replay engine: load, replay, store, post.

``refresh(loan)`` is called by every service that changes a loan's history, inside the
same transaction and with the loan row locked: it replays the history, rewrites the
schedule and each repayment's allocation, updates the cached balances and posts one
journal entry with the difference between what the ledger holds for the loan and what the
history says it should hold. The ledger therefore never drifts from the history, and a
back-dated repayment or a reversal corrects earlier postings by an adjusting entry
(journal entries are append-only).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from fundapp.domain import replay as engine
from fundapp.domain.allocation import AllocationError
from fundapp.domain.errors import N_, DomainError, NotFound
from fundapp.domain.money import is_whole
from fundapp.domain.overdue import OverdueError, Reduction
from fundapp.domain.schedule import CustomPrincipal, LoanTerms, ScheduleError
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalLine
from fundapp.ledger.services import Line, post
from fundapp.loans.models import (
    ApprovalStatus,
    Disbursement,
    DisbursementStatus,
    Instalment,
    Loan,
    LoanStatus,
    Repayment,
    Restructuring,
)

LOAN_ACCOUNTS = (
    acc.CASH,
    acc.LOANS_IN_TERM,
    acc.LOANS_OVERDUE,
    acc.INTEREST_RECEIVABLE,
    acc.ACCRUED_INTEREST,
    acc.INTEREST_INCOME,
    acc.OVERDUE_INTEREST_INCOME,
    acc.DOUBTFUL_INTEREST_EXPENSE,
    acc.SUSPENDED_INTEREST_MEMO,
    acc.MEMO_CONTRA,
)


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


def product_of(loan: Loan) -> engine.Product:
    return engine.Product(
        terms=terms_of(loan),
        repayment_order=loan.repayment_order,
        prepayment_mode=loan.prepayment_mode,
        overdue_multiplier=loan.overdue_multiplier,
        late_rate=loan.late_rate,
    )


@dataclass(frozen=True)
class History:
    disbursements: tuple[engine.DisbursementEvent, ...]
    repayments: tuple[engine.RepaymentEvent, ...]
    restructures: tuple[engine.RestructureEvent, ...]
    reliefs: tuple[engine.ReliefEvent, ...] = ()


def history_of(loan: Loan) -> History:
    # Plain columns, not ORM rows: a replay runs on every money action of the loan.
    disbursements = tuple(
        engine.DisbursementEvent(id_, when, amount)
        for id_, when, amount in db.session.execute(
            select(Disbursement.id, Disbursement.value_date, Disbursement.amount)
            .where(
                Disbursement.loan_id == loan.id,
                Disbursement.status == DisbursementStatus.POSTED,
            )
            .order_by(Disbursement.value_date, Disbursement.id)
        )
    )
    repayments = tuple(
        engine.RepaymentEvent(id_, when, amount, id_)
        for id_, when, amount in db.session.execute(
            select(Repayment.id, Repayment.value_date, Repayment.amount)
            .where(Repayment.loan_id == loan.id, Repayment.reversed.is_(False))
            .order_by(Repayment.value_date, Repayment.id)
        )
    )
    restructures = tuple(
        restructure_event(r)
        for r in db.session.scalars(
            select(Restructuring)
            .where(
                Restructuring.loan_id == loan.id,
                Restructuring.status == ApprovalStatus.APPROVED,
            )
            .order_by(Restructuring.effective_date, Restructuring.id)
        )
    )
    return History(disbursements, repayments, restructures, relief_events(loan.id))


def relief_events(loan_id: int) -> tuple[engine.ReliefEvent, ...]:
    """The loan's approved interest reliefs (miễn, giảm lãi), dated on their approval."""
    from fundapp.loans.relief import InterestRelief

    return tuple(
        engine.ReliefEvent(id_, when, interest, penalty)
        for id_, when, interest, penalty in db.session.execute(
            select(
                InterestRelief.id,
                InterestRelief.effective_date,
                InterestRelief.interest,
                InterestRelief.penalty,
            )
            .where(InterestRelief.loan_id == loan_id, InterestRelief.status == "approved")
            .order_by(InterestRelief.effective_date, InterestRelief.id)
        )
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


def store(loan: Loan, state: engine.LoanState, as_of: date) -> None:
    """Write the replayed schedule and allocations back, and the cached balances."""
    loan.reclassify = True
    existing = {
        i.no: i for i in db.session.scalars(select(Instalment).where(Instalment.loan_id == loan.id))
    }
    wanted = set()
    from fundapp.domain.overdue import balance_days
    from fundapp.servicing.close_day import last_run_date

    closed = last_run_date()
    for row in state.rows:
        plan = row.plan
        wanted.add(plan.no)
        inst = existing.get(plan.no)
        if inst is None:
            inst = Instalment(loan_id=loan.id, no=plan.no)
            db.session.add(inst)
        inst.due_date = plan.due_date
        inst.interest_from = plan.interest_from
        inst.principal_due_date = plan.principal_due
        inst.opening_principal = plan.opening_principal
        inst.principal = plan.principal
        inst.interest = plan.interest
        inst.principal_paid = plan.principal - row.principal_unpaid
        # Settled on the row: paid, or waived by an approved relief (no longer owed).
        inst.interest_paid = plan.interest - row.interest_unpaid
        inst.penalty_paid = row.penalty_paid + row.penalty_waived
        inst.interest_waived = sum(a for _, a in row.interest_waived)
        inst.penalty_waived = row.penalty_waived
        inst.paid_on = _paid_on(row)
        # Overdue state as of the last close of day, which the next run advances by a day.
        if closed is not None and row.due_date < closed:
            inst.principal_balance_days = balance_days(
                plan.principal,
                row.due_date,
                closed,
                [Reduction(d, a) for d, a in row.principal_paid],
            )
            inst.interest_balance_days = balance_days(
                plan.interest,
                row.due_date,
                closed,
                [Reduction(d, a) for d, a in row.interest_paid + row.interest_waived],
            )
            inst.penalty_accrued = row.penalty_accrued(state.product, closed)
        else:
            inst.principal_balance_days = inst.interest_balance_days = 0
            inst.penalty_accrued = 0
    for no, inst in existing.items():
        if no not in wanted:
            db.session.delete(inst)
    db.session.flush()

    for repayment in db.session.scalars(select(Repayment).where(Repayment.loan_id == loan.id)):
        result = state.repayments.get(repayment.id)
        if result is None:
            repayment.allocations, repayment.prepaid_principal = [], 0
        else:
            repayment.allocations = [
                {"no": a.no, "component": a.component, "amount": a.amount}
                for a in result.allocations
            ]
            repayment.prepaid_principal = result.prepaid_principal
    if state.reliefs:
        from fundapp.loans.relief import InterestRelief

        for relief in db.session.scalars(
            select(InterestRelief).where(
                InterestRelief.loan_id == loan.id, InterestRelief.id.in_(list(state.reliefs))
            )
        ):
            relief.allocations = [
                {"no": a.no, "component": a.component, "amount": a.amount}
                for a in state.reliefs[relief.id].allocations
            ]

    loan.disbursed = state.disbursed
    loan.principal_paid = state.principal_paid
    loan.interest_paid = state.interest_paid
    loan.penalty_paid = state.penalty_paid
    loan.principal_outstanding = max(state.principal_outstanding - loan.written_off, 0)
    if state.tranches:
        loan.first_disbursement_date = state.tranches[0].date
        loan.maturity_date = state.maturity


def _paid_on(row: engine.Row) -> date | None:
    if row.principal_unpaid or row.interest_unpaid:
        return None
    dates = [d for d, _ in row.principal_paid + row.interest_paid + row.interest_waived]
    return max(dates) if dates else None


def targets(
    loan: Loan, state: engine.LoanState, book_date: date | None = None, group: int = 1
) -> dict[str, int]:
    """What the ledger should hold for this loan, signed (debit positive).

    ``book_date`` is the last closed business date: instalments due before it have been
    transferred to overdue and their interest billed, with the overdue interest accrued to
    it. Billed interest and accrued penalty of a group-1 loan are receivable and income; for
    groups 2–5 they are held off-balance until paid (Circular 52/2022, Art. 5). Interest
    earned and not yet billed, up to the last month end posted, is accrued interest
    (``servicing.accrual``). Before any close of day, interest is income when paid.
    """
    from fundapp.servicing import accrual

    overdue = billed = penalty = accrued = 0
    if book_date is not None and not loan.written_off:
        for row in state.rows:
            if row.due_date < book_date:
                overdue += row.principal_unpaid
                billed += row.interest_unpaid
            penalty += row.penalty_due(state.product, book_date)
        accrued = accrual.accrued_of_state(state, book_date, accrual.horizon_of(book_date))
    return targets_from(
        disbursed=state.disbursed,
        repaid=sum(r.amount for r in state.repayments.values()),
        outstanding=0 if loan.written_off else state.principal_outstanding,
        interest_paid=state.interest_paid,
        penalty_paid=state.penalty_paid,
        overdue=overdue,
        billed=billed,
        penalty=penalty,
        group=group,
        accrued_interest=accrued,
    )


def targets_from(
    *,
    disbursed: int,
    repaid: int,
    outstanding: int,
    interest_paid: int,
    penalty_paid: int,
    overdue: int,
    billed: int,
    penalty: int,
    group: int,
    accrued_interest: int = 0,
) -> dict[str, int]:
    """The ledger position of a loan from its figures: the one posting rule of SPEC §7.
    ``accrued_interest``: in-term interest earned and not yet billed, to the last month
    end (lãi dự thu); on-balance for group 1, off-balance with the rest for groups 2–5.
    The expense of doubtful interest of an earlier year is history, not a figure: see
    ``servicing.accrual.split_doubtful``."""
    on_balance = group == 1
    accrued = billed + penalty
    suspended = accrued + accrued_interest
    return {
        acc.CASH: repaid - disbursed,
        acc.LOANS_IN_TERM: outstanding - overdue,
        acc.LOANS_OVERDUE: overdue,
        acc.INTEREST_RECEIVABLE: accrued if on_balance else 0,
        acc.ACCRUED_INTEREST: accrued_interest if on_balance else 0,
        acc.INTEREST_INCOME: -(interest_paid + (billed + accrued_interest if on_balance else 0)),
        acc.OVERDUE_INTEREST_INCOME: -(penalty_paid + (penalty if on_balance else 0)),
        acc.DOUBTFUL_INTEREST_EXPENSE: 0,
        acc.SUSPENDED_INTEREST_MEMO: 0 if on_balance else suspended,
        acc.MEMO_CONTRA: 0 if on_balance else -suspended,
    }


def ledger_position(loan_id: int) -> dict[str, int]:
    """Signed balance (debit − credit) of each account for this loan."""
    from fundapp.ledger.models import LoanBalance

    out: dict[str, int] = defaultdict(int)
    for account, amount in db.session.execute(
        select(LoanBalance.account, LoanBalance.balance).where(LoanBalance.loan_id == loan_id)
    ):
        out[account] = int(amount)
    return out


def sync_ledger(
    loan: Loan,
    state: engine.LoanState,
    entry_date: date,
    kind: str,
    actor: Any,
    reference: str,
    description: str,
    book_date: date | None = None,
    group: int = 1,
) -> int | None:
    """Post the difference between the loan's ledger and its history; the entry id."""
    from fundapp.servicing.accrual import split_doubtful

    have = ledger_position(loan.id)
    want = split_doubtful(loan.id, targets(loan, state, book_date, group), have, entry_date)
    lines = difference_lines(loan.id, loan.cooperative_id, want, have)
    if not lines:
        return None
    entry = post(entry_date, kind, lines, actor=actor, reference=reference, description=description)
    return entry.id


def difference_lines(
    loan_id: int, cooperative_id: int, want: dict[str, int], have: dict[str, int]
) -> list[Line]:
    """The lines that move the loan's ledger position ``have`` to ``want``."""
    lines = []
    for account in LOAN_ACCOUNTS:
        delta = want[account] - have.get(account, 0)
        if delta > 0:
            lines.append(Line(account, debit=delta, cooperative_id=cooperative_id, loan_id=loan_id))
        elif delta < 0:
            lines.append(
                Line(account, credit=-delta, cooperative_id=cooperative_id, loan_id=loan_id)
            )
    return lines


def refresh(
    loan: Loan,
    entry_date: date,
    kind: str,
    actor: Any,
    reference: str = "",
    description: str = "",
    history: History | None = None,
) -> tuple[engine.LoanState, int | None]:
    """Replay, store and post; the caller holds the loan lock."""
    from fundapp.servicing.close_day import last_run_date

    state = replay(loan, history)
    store(loan, state, entry_date)
    entry_id = sync_ledger(
        loan,
        state,
        entry_date,
        kind,
        actor,
        reference,
        description,
        book_date=last_run_date(),
        group=loan.debt_group,
    )
    return state, entry_id


def next_number(series: str, width: int) -> str:
    """The next number of a document series (``PT-2026`` → ``PT-2026-000001``), gap-free,
    under a row lock so concurrent requests never share a number."""
    from sqlalchemy.exc import IntegrityError

    from fundapp.loans.models import Counter

    counter = db.session.get(Counter, series, with_for_update=True)
    if counter is None:
        try:
            with db.session.begin_nested():
                db.session.add(Counter(series=series, value=0))
        except IntegrityError:
            pass
        counter = db.session.get(Counter, series, with_for_update=True, populate_existing=True)
    assert counter is not None
    counter.value += 1
    db.session.flush()
    return f"{series}-{counter.value:0{width}d}"


def check_loans(result: Any) -> None:
    """SPEC §7 loan invariants, for ``flask fund check``."""
    result.checked.append("each loan: outstanding = disbursed − principal repaid − written off")
    result.checked.append("each loan: outstanding = sum of unpaid scheduled principal")
    result.checked.append("each loan: outstanding = its ledger balance")
    result.checked.append("each loan: cached balances = replay of its history")
    unpaid = dict(
        db.session.execute(
            select(
                Instalment.loan_id, func.sum(Instalment.principal - Instalment.principal_paid)
            ).group_by(Instalment.loan_id)
        ).all()
    )
    ledger = dict(
        db.session.execute(
            select(JournalLine.loan_id, func.sum(JournalLine.debit - JournalLine.credit))
            .where(
                JournalLine.loan_id.is_not(None),
                JournalLine.account.in_([acc.LOANS_IN_TERM, acc.LOANS_OVERDUE]),
            )
            .group_by(JournalLine.loan_id)
        ).all()
    )
    for loan in db.session.scalars(select(Loan).order_by(Loan.id)):
        name = f"loan {loan.contract_no}"
        expected = loan.disbursed - loan.principal_paid - loan.written_off
        if loan.principal_outstanding != expected:
            result.fail(
                f"{name}: outstanding {loan.principal_outstanding} != disbursed {loan.disbursed}"
                f" − repaid {loan.principal_paid} − written off {loan.written_off}"
            )
        scheduled = int(unpaid.get(loan.id) or 0) - loan.written_off
        if loan.principal_outstanding != scheduled:
            result.fail(
                f"{name}: outstanding {loan.principal_outstanding} != unpaid scheduled "
                f"principal {scheduled}"
            )
        on_ledger = int(ledger.get(loan.id) or 0)
        if loan.principal_outstanding != on_ledger:
            result.fail(
                f"{name}: outstanding {loan.principal_outstanding} != ledger balance {on_ledger}"
            )
        if loan.disbursed:
            state = replay(loan)
            if state.principal_outstanding - loan.written_off != loan.principal_outstanding:
                result.fail(f"{name}: cached outstanding differs from the replayed history")
        if not all(is_whole(v) for v in (loan.disbursed, loan.principal_paid)):
            result.fail(f"{name}: money is not whole đồng")


def overview_figures() -> dict[str, Any]:
    active = db.session.execute(
        select(func.count(Loan.id), func.count(func.distinct(Loan.cooperative_id))).where(
            Loan.status == LoanStatus.ACTIVE
        )
    ).one()
    return {"projects": int(active[0]), "borrowers": int(active[1])}


def loan_policy(loan: Any, key: str) -> Any:
    """A parameter as snapshotted on the contract (the legal default if it predates it)."""
    from fundapp.policy.parameters import BY_KEY

    param = BY_KEY[key]
    raw = (loan.policy_snapshot or {}).get(key)
    try:
        return param.parse(raw) if raw else param.parse(param.default)
    except ValueError:
        return param.parse(param.default)


def classification_version(day: date) -> Any:
    """The classification law in force on ``day`` (SPEC §2: classification is law, not a
    contract term): the debt-group bands and restructuring floors of the policy versions in
    force that day, and the clauses of the act in force (Circular 11/2021 until 11/08/2024,
    Circular 14/2024 from 12/08/2024). Contract terms (rates, multipliers) stay with the
    loan's snapshot."""
    from fundapp.domain.overdue import CIRCULAR_14_FROM, version_of
    from fundapp.policy import services as policy
    from fundapp.policy.parameters import DEFAULTS_EFFECTIVE

    rows = [
        policy.version_in_force(key, day)
        for key in ("group_thresholds_days", "restructure_floor_groups")
    ]
    since = max(
        [r.effective_from for r in rows if r is not None]
        + [CIRCULAR_14_FROM if day >= CIRCULAR_14_FROM else DEFAULTS_EFFECTIVE]
    )
    bands = rows[0]
    return version_of(
        day,
        policy.value("group_thresholds_days", day),
        policy.value("restructure_floor_groups", day),
        reference=bands.legal_reference if bands is not None and bands.legal_reference else "",
        effective_from=since,
    )


def is_short_term(loan: Any) -> bool:
    """A short-term loan for the upgrade waiting period: its term within the contract's
    short-term class (Circular 39/2016 Art. 10)."""
    return int(loan.term_months) <= int(loan_policy(loan, "short_term_max_months"))


def facts_of(loan: Any, days_past_due: int, restructured_days_past_due: int = 0) -> Any:
    """What the classification reads of ``loan`` (a Loan or a row with its
    term_adjustments, extensions and interest_reliefs)."""
    from fundapp.domain.overdue import LoanFacts

    count = loan.term_adjustments + loan.extensions
    kind = None
    if count == 1:
        kind = "extension" if loan.extensions else "term_adjustment"
    return LoanFacts(
        days_past_due=days_past_due,
        restructure_count=count,
        first_restructure_kind=kind,
        restructured_days_past_due=restructured_days_past_due,
        interest_reliefs=int(getattr(loan, "interest_reliefs", 0) or 0),
    )


def own_group(
    loan: Any,
    days_past_due: int,
    as_of: date | None = None,
    restructured_days_past_due: int = 0,
    version: Any = None,
) -> int:
    """The group the law in force on ``as_of`` gives the loan's facts, before the upgrade
    waiting period (:func:`own_standing` adds it) and the borrower's group."""
    from fundapp.core.dates import business_date
    from fundapp.domain.overdue import classify

    day = as_of or business_date()
    return classify(
        facts_of(loan, days_past_due, restructured_days_past_due),
        version or classification_version(day),
    )


def own_standing(
    loan: Any,
    days_past_due: int,
    as_of: date,
    previous: Any,
    restructured_days_past_due: int = 0,
    version: Any = None,
) -> Any:
    """The loan's own group on ``as_of`` with the upgrade rule: ``previous`` is its standing
    as the close of day last left it (None when never classified). The close of day and the
    live views both go through here, so they agree."""
    from fundapp.domain.overdue import standing, upgrade_months

    version = version or classification_version(as_of)
    group = own_group(loan, days_past_due, as_of, restructured_days_past_due, version)
    wait = upgrade_months(version, is_short_term(loan))
    return standing(previous, group, days_past_due, as_of, wait)


def stored_standing(loan_id: int, as_of: date) -> Any:
    """The loan's standing as the last close of day on or before ``as_of`` stored it."""
    from fundapp.domain.overdue import Standing
    from fundapp.loans.days import LoanDay

    row = db.session.get(LoanDay, loan_id)
    if row is None or row.business_date > as_of:
        return None
    return Standing(row.group_by_days, row.days_past_due, row.cured_on)


def latest_restructuring(loan_id: int, until: date | None = None) -> date | None:
    """When the loan's latest approved restructuring took effect (until ``until``)."""
    query = select(func.max(Restructuring.effective_date)).where(
        Restructuring.loan_id == loan_id, Restructuring.status == ApprovalStatus.APPROVED
    )
    if until is not None:
        query = query.where(Restructuring.effective_date <= until)
    return db.session.scalar(query)


def restructured_days_past_due(state: engine.LoanState, as_of: date, since: date | None) -> int:
    """Days past due on the restructured schedule: from the oldest instalment due after the
    latest restructuring took effect (``since``), before ``as_of``, and not settled."""
    from fundapp.domain.overdue import days_past_due

    if since is None:
        return 0
    late = [
        r.due_date
        for r in state.rows
        if since < r.due_date < as_of
        and (r.principal_unpaid or r.interest_unpaid or r.penalty_due(state.product, as_of))
    ]
    return days_past_due(min(late, default=None), as_of)


def live_own_group(
    loan: Any, state: engine.LoanState, as_of: date, restructured: Any = None
) -> int:
    """The loan's own group on ``as_of`` from its replayed ``state``, as the close of day of
    that date sets it. ``restructured``: the loan as its restructurings stood on ``as_of``
    (a statement of a past date), else the loan itself."""
    subject = restructured if restructured is not None else loan
    dpd = state.balances(as_of).days_past_due
    since = None
    if subject.term_adjustments + subject.extensions:
        since = latest_restructuring(loan.id, as_of if restructured is not None else None)
    late = restructured_days_past_due(state, as_of, since)
    previous = stored_standing(loan.id, as_of)
    return own_standing(subject, dpd, as_of, previous, late).group


def live_group(loan: Any, state: engine.LoanState, as_of: date, restructured: Any = None) -> int:
    """The debt group the API, the portal and the statement show: the loan's own (the law
    in force on ``as_of``, the upgrade rule), then its borrower's worst."""
    return borrower_group(loan, live_own_group(loan, state, as_of, restructured), as_of)


def borrower_group(loan: Any, own: int, as_of: date) -> int:
    """SPEC §2, one borrower, one group: an active loan takes the worst own group, as of
    ``as_of``, of its borrower's active loans (``own`` is this loan's)."""
    if loan.status != LoanStatus.ACTIVE:
        return own
    siblings = db.session.scalars(
        select(Loan).where(
            Loan.cooperative_id == loan.cooperative_id,
            Loan.id != loan.id,
            Loan.status == LoanStatus.ACTIVE,
        )
    )
    group = own
    for sibling in siblings:
        group = max(group, live_own_group(sibling, replay(sibling), as_of))
    return group
