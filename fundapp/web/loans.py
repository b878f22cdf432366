"""Loans: list, detail, contract, disbursements, repayments, reversals, restructuring.

Views are thin: role check → load or 404 → form → one service call → commit → flash →
redirect. A refused action re-renders the loan page with the failing form (its values and
the field messages) and the status of the error; everything else on the page is fresh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import and_, func, or_, select, text
from werkzeug.routing import BuildError

from fundapp.areas.services import former_districts
from fundapp.audit.models import AuditLog
from fundapp.auth.models import User, UserRole
from fundapp.cooperatives.models import Cooperative
from fundapp.core import lists, validation
from fundapp.core.dates import business_date
from fundapp.core.formatting import date_filter, money_filter
from fundapp.core.forms import apply_errors, id_arg, page_arg
from fundapp.core.security import AUDIT_READ, STAFF_READ, Role, has_role, roles_required
from fundapp.domain.errors import DomainError, ValidationFailed
from fundapp.extensions import db
from fundapp.lending import services
from fundapp.lending.forms import (
    KIND_LABELS,
    METHOD_LABELS,
    CollateralForm,
    ConfirmForm,
    ContractForm,
    DisbursementForm,
    InspectionForm,
    NoteForm,
    ReasonForm,
    RepaymentForm,
    RestructuringForm,
    values,
)
from fundapp.loans import store as book
from fundapp.loans.models import (
    UNSETTLED,
    ApprovalStatus,
    Collateral,
    Disbursement,
    DisbursementStatus,
    Inspection,
    Instalment,
    Loan,
    LoanStatus,
    LoanTransition,
    Repayment,
    Restructuring,
    Reversal,
    WriteOff,
)
from fundapp.policy import services as policy_services
from fundapp.policy.parameters import PARAMS
from fundapp.repayments import services as repayments
from fundapp.reports import cache

bp = Blueprint("loans", __name__, url_prefix="/loans")

# Loans whose balances come from the replay (a written-off loan is carried off-balance).
REPLAYED_STATUSES = (LoanStatus.ACTIVE, LoanStatus.CLOSED)
COMPONENT_LABELS = {"penalty": _l("Lãi phạt"), "interest": _l("Lãi"), "principal": _l("Gốc")}


# --- list ------------------------------------------------------------------------------------


def _overdue_clause(as_of: date, whole_set: bool) -> Any:
    """Loans with something still owed on an instalment due before ``as_of``: principal,
    interest or late interest (cached columns). The condition is the unsettled-instalments
    index's own, so the loans come from that index alone, without reading the instalments.

    ``whole_set``: for totals over every such loan, the set is built once and joined by hash;
    a page of 25 instead walks the loans and probes each one's instalments, and stops early.
    """
    late = select(Instalment.loan_id).where(Instalment.due_date < as_of, text(f"({UNSETTLED})"))
    if whole_set:
        late = late.group_by(Instalment.loan_id)
    return Loan.id.in_(late)


@dataclass(frozen=True)
class BookSlice:
    """The loans of one status, district, officer and lateness: how many, their amounts and
    their outstanding principal."""

    status: str
    district: str
    officer: int | None
    late: bool
    count: int
    amount: int
    outstanding: int


def _book_slices(as_of: date) -> tuple[BookSlice, ...]:
    """The whole book cut by every filter of the list but the search, in one statement."""
    loans = (
        select(
            Loan.status.label("status"),
            Cooperative.former_district_code.label("district"),
            Loan.officer_id.label("officer"),
            _overdue_clause(as_of, whole_set=True).label("late"),
            Loan.amount.label("amount"),
            Loan.principal_outstanding.label("outstanding"),
        )
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
        .subquery()
    )
    keys = (loans.c.status, loans.c.district, loans.c.officer, loans.c.late)
    rows = db.session.execute(
        select(
            *keys,
            func.count(),
            func.coalesce(func.sum(loans.c.amount), 0),
            func.coalesce(func.sum(loans.c.outstanding), 0),
        ).group_by(*keys)
    )
    return tuple(
        BookSlice(status, district, officer, bool(late), int(n), int(amount), int(outstanding))
        for status, district, officer, late, n, amount, outstanding in rows
    )


LOAN_SORTS: dict[str, tuple[Any, ...]] = {
    "newest": (),  # the loan's id alone: newest first
    "contract": (Loan.contract_no,),
    "borrower": (Cooperative.name_key,),
    "project": (Loan.project_name,),
    "amount": (Loan.amount,),
    "outstanding": (Loan.principal_outstanding,),
    "maturity": (Loan.maturity_date,),
    "status": (Loan.status,),
}


def loan_columns() -> list[lists.Column]:
    return [
        lists.Column(_("Số hợp đồng"), width=16),
        lists.Column(_("Hợp tác xã"), width=36),
        lists.Column(_("Dự án"), width=36),
        lists.Column(_("Số tiền vay"), "money"),
        lists.Column(_("Dư nợ gốc"), "money"),
        lists.Column(_("Ngày đáo hạn"), "date", width=14),
        lists.Column(_("Trạng thái"), width=16),
        lists.Column(_("Nhóm nợ"), "int", width=10),
        lists.Column(_("Số tiền quá hạn"), "money"),
        lists.Column(_("Số ngày quá hạn"), "int", width=12),
    ]


def loan_rows(ids: list[int]) -> Any:
    """The export's rows of the loans ``ids``, in that order, read a thousand at a time."""
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        loans = {
            loan.id: loan for loan in db.session.scalars(select(Loan).where(Loan.id.in_(chunk)))
        }
        late = _page_arrears(chunk)  # the screen's two columns, from the same function
        for loan_id in chunk:
            loan = loans[loan_id]
            arrear = late.get(loan_id)
            yield (
                loan.contract_no,
                loan.cooperative.name,
                loan.project_name,
                loan.amount,
                loan.principal_outstanding,
                loan.maturity_date,
                _(services.STATUS_LABELS.get(loan.status, loan.status)),
                loan.debt_group if loan.status == LoanStatus.ACTIVE else None,
                arrear.amount if arrear else None,
                arrear.days_past_due if arrear else None,
            )


@bp.route("/")
@roles_required(*STAFF_READ)
def index() -> Any:
    q = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "")
    district = request.args.get("district", "")
    officer_id = id_arg("officer", _("Cán bộ tín dụng"))
    overdue = request.args.get("overdue", "") == "1"
    status = status if status in services.LOAN_TRANSITIONS else ""
    districts = former_districts(business_date())
    district = district if district in districts else ""
    officer = str(officer_id) if officer_id else ""

    where: list[Any] = []
    if q:
        where.append(Loan.id.in_(services.loans_matching(q)))
    if status:
        where.append(Loan.status == status)
    if district:
        where.append(Cooperative.former_district_code == district)
    if officer:
        where.append(Loan.officer_id == int(officer))
    if overdue:
        where.append(Loan.status == LoanStatus.ACTIVE)

    sort = lists.sort_arg(LOAN_SORTS, "newest", descending=True)
    order = lists.order_by(sort, LOAN_SORTS, Loan.id)

    def filtered(*columns: Any, whole_set: bool = False) -> Any:
        query = select(*columns)
        if district or sort.key == "borrower":  # only these read the borrower's columns
            query = query.join(Cooperative, Cooperative.id == Loan.cooperative_id)
        if overdue:
            query = query.where(_overdue_clause(business_date(), whole_set))
        return query.where(*where)

    # The page's ids first (a walk down the loans' primary key, no joins, however deep the
    # page), then those rows with their borrowers and officers.
    if lists.wants_xlsx():
        ids = list(db.session.scalars(filtered(Loan.id).order_by(*order).limit(lists.EXPORT_LIMIT)))
        return lists.xlsx_response("khoan-vay", _("Khoản vay"), loan_columns(), loan_rows(ids))
    page = db.paginate(
        filtered(Loan.id).order_by(*order),
        page=page_arg(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
        count=False,  # counted below with the totals, in the same statement
    )
    ids = list(page.items)
    rows = {loan.id: loan for loan in db.session.scalars(select(Loan).where(Loan.id.in_(ids)))}
    page.items = [rows[i] for i in ids if i in rows]

    def totals() -> tuple[int, int, int]:
        row = db.session.execute(
            filtered(
                func.count(Loan.id),
                func.coalesce(func.sum(Loan.amount), 0),
                func.coalesce(func.sum(Loan.principal_outstanding), 0),
                whole_set=True,
            )
        ).one()
        return int(row[0]), int(row[1]), int(row[2])

    # The totals row reads the whole filtered book: kept while the book is unchanged. A
    # search has its own; every other filter adds up slices of the book read once.
    if q:
        key = (q, status, district, officer, overdue)
        count, amount, outstanding = cache.remembered("loan-list-totals", key, totals)
    else:
        today = business_date()
        slices = cache.remembered("loan-list-slices", (today,), lambda: _book_slices(today))
        chosen = [
            s
            for s in slices
            if (not status or s.status == status)
            and (not district or s.district == district)
            and (not officer or s.officer == int(officer))
            and (not overdue or (s.late and s.status == LoanStatus.ACTIVE))
        ]
        count = sum(s.count for s in chosen)
        amount = sum(s.amount for s in chosen)
        outstanding = sum(s.outstanding for s in chosen)
    page.total = count
    # Credit officers (the role), not a scan of every loan for the officers it names.
    officers = list(
        db.session.scalars(
            select(User)
            .where(User.roles.any(UserRole.role == Role.OFFICER))
            .order_by(User.name_key, User.username)
        )
    )
    filters = {
        "q": q,
        "status": status,
        "district": district,
        "officer": officer,
        "overdue": "1" if overdue else "",
    }
    return render_template(
        "loans/index.html",
        page=page,
        listing=lists.Listing("loans.index", sort, filters),
        totals={"count": count, "amount": amount, "outstanding": outstanding},
        filters=filters,
        statuses={s.value: services.STATUS_LABELS[s.value] for s in LoanStatus},
        districts=districts,
        officers=officers,
        pending=_pending_count(),
        # Overdue amount and days past due of the page's loans (issue 16, fundapp/work).
        arrears=_page_arrears([loan.id for loan in page.items]),
    )


def _page_arrears(loan_ids: list[int]) -> dict[int, Any]:
    from fundapp.work.services import arrears

    return arrears(business_date(), loan_ids)


def _pending_count() -> int:
    """The rows of the approvals page: what this user may decide (fundapp/work/decisions.py)."""
    from fundapp.work.decisions import decisions_for

    return len(decisions_for(current_user, business_date()))


@bp.route("/approvals")
@roles_required(*STAFF_READ)
def approvals() -> Any:
    """One queue: only the items this user may decide (issue 16); the same items as the
    landing page's count and ``GET /api/v1/approvals?mine=true``."""
    from fundapp.web.relief import approval_items as relief_approval_items
    from fundapp.work.decisions import decisions_for

    today = business_date()
    mine: dict[str, list[Any]] = {}
    for d in decisions_for(current_user, today):
        mine.setdefault(d.kind, []).append(d.obj)
    relief_items = relief_approval_items(today)
    relief_items["interest_reliefs"] = mine.get("interest_relief", [])
    relief_items["removals"] = mine.get("removal", [])
    return render_template(
        "loans/approvals.html",
        applications=mine.get("application", []),
        director_limit=policy_services.value("director_approval_limit", today),
        disbursements=mine.get("disbursement", []),
        reversals=mine.get("reversal", []),
        restructurings=mine.get("restructuring", []),
        write_offs=mine.get("write_off", []),
        kinds=KIND_LABELS,
        # Policy changes wait for a second board member too (fundapp/policy).
        policy_changes=mine.get("policy_change", []),
        policy_params={p.key: p for p in PARAMS},
        policy_may_decide=policy_services.may_decide,
        # Interest reliefs and removals from off-balance tracking (fundapp/servicing).
        **relief_items,
    )


# --- detail ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRow:
    no: int
    due_date: date
    principal: int
    interest: int
    total: int
    principal_paid: int
    interest_paid: int
    remaining: int
    paid_on: date | None
    status: str


@dataclass(frozen=True)
class Schedule:
    rows: list[ScheduleRow]
    totals: dict[str, int]


def build_schedule(loan: Loan, as_of: date) -> Schedule:
    rows = [
        ScheduleRow(
            no=i.no,
            due_date=i.due_date,
            principal=i.principal,
            interest=i.interest,
            total=i.total,
            principal_paid=i.principal_paid,
            interest_paid=i.interest_paid,
            remaining=i.total - i.principal_paid - i.interest_paid,
            paid_on=i.paid_on,
            status=i.status_on(as_of),
        )
        for i in db.session.scalars(
            select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.no)
        )
    ]
    keys = ("principal", "interest", "total", "principal_paid", "interest_paid", "remaining")
    totals = {k: sum(getattr(r, k) for r in rows) for k in keys}
    return Schedule(rows, totals)


@dataclass(frozen=True)
class RepaymentRow:
    repayment: Repayment
    by_instalment: list[tuple[int, list[tuple[str, int]]]]
    pending_reversal: Reversal | None


def _repayment_rows(loan: Loan, pending: dict[int, Reversal]) -> list[RepaymentRow]:
    out = []
    for r in db.session.scalars(
        select(Repayment)
        .where(Repayment.loan_id == loan.id)
        .order_by(Repayment.value_date, Repayment.id)
    ):
        instalments: dict[int, list[tuple[str, int]]] = {}
        for a in r.allocations or []:
            component = str(a["component"])
            instalments.setdefault(int(a["no"]), []).append((component, int(a["amount"])))
        out.append(RepaymentRow(r, list(instalments.items()), pending.get(r.id)))
    return out


@dataclass
class Can:
    """What the signed-in user may do on this loan now (the services check it again)."""

    sign: bool = False
    cancel: bool = False
    disburse: bool = False
    repay: bool = False
    reverse: bool = False
    decide_disbursement: bool = False
    decide_reversal: bool = False
    restructure: bool = False
    decide_restructuring: bool = False
    propose_write_off: bool = False
    decide_write_off: bool = False
    collateral: bool = False
    inspect: bool = False
    audit: bool = False

    @property
    def any_panel(self) -> bool:
        return any(
            (
                self.sign,
                self.cancel,
                self.disburse,
                self.repay,
                self.restructure,
                self.propose_write_off,
                self.collateral,
                self.inspect,
            )
        )


def _can(loan: Loan, undisbursed: int, has_pending_disbursement: bool, pending_wo: bool) -> Can:
    user = current_user
    status = loan.status
    return Can(
        sign=status == LoanStatus.APPROVED and has_role(user, Role.OFFICER, Role.DIRECTOR),
        cancel=status in (LoanStatus.APPROVED, LoanStatus.CONTRACTED)
        and not loan.disbursed
        and not has_pending_disbursement
        and has_role(user, Role.DIRECTOR, Role.BOARD),
        disburse=status in (LoanStatus.CONTRACTED, LoanStatus.ACTIVE)
        and undisbursed > 0
        and has_role(user, Role.ACCOUNTANT),
        repay=status == LoanStatus.ACTIVE and has_role(user, Role.ACCOUNTANT),
        reverse=status in (LoanStatus.ACTIVE, LoanStatus.CLOSED)
        and has_role(user, Role.ACCOUNTANT),
        decide_disbursement=has_role(user, Role.DIRECTOR),
        decide_reversal=has_role(user, Role.DIRECTOR),
        restructure=status == LoanStatus.ACTIVE and has_role(user, Role.OFFICER),
        decide_restructuring=has_role(user, Role.DIRECTOR, Role.BOARD),
        propose_write_off=status == LoanStatus.ACTIVE
        and not pending_wo
        and has_role(user, Role.DIRECTOR),
        decide_write_off=has_role(user, Role.BOARD),
        collateral=status in (LoanStatus.APPROVED, LoanStatus.CONTRACTED, LoanStatus.ACTIVE)
        and has_role(user, Role.OFFICER),
        inspect=status in (LoanStatus.ACTIVE, LoanStatus.CLOSED) and has_role(user, Role.OFFICER),
        audit=has_role(user, *AUDIT_READ),
    )


@dataclass
class Forms:
    """Every form of the loan page; a failed one (same prefix) replaces its blank twin."""

    failed: dict[str, FlaskForm]
    made: dict[str, FlaskForm] = field(default_factory=dict)

    def get(self, cls: type[FlaskForm], prefix: str, **initial: Any) -> Any:
        if prefix in self.made:
            return self.made[prefix]
        form = self.failed.get(prefix)
        if form is None:
            form = cls(prefix=prefix, formdata=None)
            for name, value in initial.items():
                getattr(form, name).data = value
        if hasattr(form, "fill_choices"):
            form.fill_choices()
        self.made[prefix] = form
        return form

    def is_open(self, prefix: str) -> bool:
        return prefix in self.failed


def _endpoint_url(endpoint: str, application_id: int, document_id: int | None = None) -> str | None:
    """A link to another blueprint's page when it exists, whatever it names its arguments."""
    try:
        rule = next(iter(current_app.url_map.iter_rules(endpoint)))
    except (KeyError, StopIteration):
        return None
    arguments: dict[str, int] = {}
    for name in rule.arguments:
        if document_id is not None and ("doc" in name or "file" in name):
            arguments[name] = document_id
        else:
            arguments[name] = application_id
    try:
        return url_for(endpoint, **arguments)
    except BuildError:
        return None


def _audit_rows(loan: Loan, ids: dict[str, list[int]]) -> list[AuditLog]:
    clauses = [and_(AuditLog.entity == "loan", AuditLog.entity_id == str(loan.id))]
    for entity, entity_ids in ids.items():
        if entity_ids:
            clauses.append(
                and_(
                    AuditLog.entity == entity, AuditLog.entity_id.in_([str(i) for i in entity_ids])
                )
            )
    return list(
        db.session.scalars(select(AuditLog).where(or_(*clauses)).order_by(AuditLog.id.desc()))
    )


def overdue_rate(loan: Loan) -> Decimal:
    """The rate on overdue principal: the in-term rate times the contract's multiplier."""
    return loan.annual_rate * loan.overdue_multiplier / 100


def _snapshot_rows(snapshot: dict[str, str]) -> list[tuple[Any, Any]]:
    return [(p, snapshot[p.key]) for p in PARAMS if p.key in (snapshot or {})]


def _detail_page(
    loan_id: int, failed: dict[str, FlaskForm] | None = None, status: int = 200
) -> Any:
    loan = db.get_or_404(Loan, loan_id)
    as_of = business_date()
    today = as_of.strftime("%d/%m/%Y")

    balances = payoff = None
    replay_error = ""
    if loan.status in REPLAYED_STATUSES and loan.disbursed:
        try:
            state = book.replay(loan)
        except DomainError as exc:
            replay_error = exc.message
        else:
            balances = state.balances(as_of)
            payoff = state.payoff_amount(as_of) if loan.status == LoanStatus.ACTIVE else 0

    disbursements = list(
        db.session.scalars(
            select(Disbursement)
            .where(Disbursement.loan_id == loan.id)
            .order_by(Disbursement.value_date, Disbursement.id)
        )
    )
    pending_disbursed = sum(
        d.amount for d in disbursements if d.status == DisbursementStatus.PENDING
    )
    undisbursed = loan.amount - loan.disbursed - pending_disbursed
    reversals = list(
        db.session.scalars(
            select(Reversal)
            .join(Repayment, Repayment.id == Reversal.repayment_id)
            .where(Repayment.loan_id == loan.id)
            .order_by(Reversal.id)
        )
    )
    pending_reversals = {r.repayment_id: r for r in reversals if r.status == ApprovalStatus.PENDING}
    repayment_rows = _repayment_rows(loan, pending_reversals)
    restructurings = list(
        db.session.scalars(
            select(Restructuring).where(Restructuring.loan_id == loan.id).order_by(Restructuring.id)
        )
    )
    write_offs = list(
        db.session.scalars(
            select(WriteOff).where(WriteOff.loan_id == loan.id).order_by(WriteOff.id)
        )
    )
    collateral = list(
        db.session.scalars(
            select(Collateral).where(Collateral.loan_id == loan.id).order_by(Collateral.id)
        )
    )
    inspections = list(
        db.session.scalars(
            select(Inspection)
            .where(Inspection.loan_id == loan.id)
            .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
        )
    )
    transitions = list(
        db.session.scalars(
            select(LoanTransition)
            .where(LoanTransition.entity == "loan", LoanTransition.entity_id == loan.id)
            .order_by(LoanTransition.at, LoanTransition.id)
        )
    )
    pending_wo = any(w.status == ApprovalStatus.PENDING for w in write_offs)
    can = _can(
        loan,
        undisbursed,
        any(d.status == DisbursementStatus.PENDING for d in disbursements),
        pending_wo,
    )
    audit_rows = (
        _audit_rows(
            loan,
            {
                "disbursement": [d.id for d in disbursements],
                "repayment": [r.repayment.id for r in repayment_rows],
                "reversal": [r.id for r in reversals],
                "restructuring": [r.id for r in restructurings],
                "write_off": [w.id for w in write_offs],
                "collateral": [c.id for c in collateral],
                "inspection": [i.id for i in inspections],
            },
        )
        if can.audit
        else []
    )

    application = loan.application
    documents = []
    if application is not None:
        documents = [
            (doc, _endpoint_url("applications.document", application.id, doc.id))
            for doc in application.documents
        ]
    pending = {
        "disbursements": [d for d in disbursements if d.status == DisbursementStatus.PENDING],
        "reversals": list(pending_reversals.values()),
        "restructurings": [r for r in restructurings if r.status == ApprovalStatus.PENDING],
        "write_offs": [w for w in write_offs if w.status == ApprovalStatus.PENDING],
    }
    forms = Forms(failed or {})
    return render_template(
        "loans/detail.html",
        loan=loan,
        as_of=as_of,
        today=today,
        balances=balances,
        payoff=payoff,
        replay_error=replay_error,
        maturity=services.maturity_of(loan),
        overdue_rate=overdue_rate(loan),
        schedule=build_schedule(loan, as_of),
        disbursements=disbursements,
        undisbursed=undisbursed,
        repayments=repayment_rows,
        reversals=reversals,
        restructurings=restructurings,
        write_offs=write_offs,
        collateral=collateral,
        inspections=inspections,
        transitions=transitions,
        audit_rows=audit_rows,
        application=application,
        application_url=(
            _endpoint_url("applications.detail", application.id) if application else None
        ),
        documents=documents,
        pending=pending,
        can=can,
        forms=forms,
        snapshot=_snapshot_rows(loan.policy_snapshot),
        statuses=services.STATUS_LABELS,
        findings=services.FINDINGS,
        kinds=KIND_LABELS,
        methods=METHOD_LABELS,
        components=COMPONENT_LABELS,
        ConfirmForm=ConfirmForm,
        NoteForm=NoteForm,
        ReasonForm=ReasonForm,
        ContractForm=ContractForm,
        DisbursementForm=DisbursementForm,
        RepaymentForm=RepaymentForm,
        RestructuringForm=RestructuringForm,
        CollateralForm=CollateralForm,
        InspectionForm=InspectionForm,
    ), status


@bp.route("/<int:loan_id>")
@roles_required(*STAFF_READ)
def detail(loan_id: int) -> Any:
    return _detail_page(loan_id)


@bp.route("/<int:loan_id>/schedule")
@roles_required(*STAFF_READ)
def schedule(loan_id: int) -> Any:
    loan = db.get_or_404(Loan, loan_id)
    as_of = business_date()
    return render_template(
        "loans/schedule.html",
        loan=loan,
        as_of=as_of,
        schedule=build_schedule(loan, as_of),
        maturity=services.maturity_of(loan),
        overdue_rate=overdue_rate(loan),
        disbursements=list(
            db.session.scalars(
                select(Disbursement)
                .where(
                    Disbursement.loan_id == loan.id,
                    Disbursement.status == DisbursementStatus.POSTED,
                )
                .order_by(Disbursement.value_date, Disbursement.id)
            )
        ),
        statuses=services.STATUS_LABELS,
    )


# --- actions ----------------------------------------------------------------------------------


def _act(
    loan_id: int,
    form: FlaskForm,
    prefix: str,
    call: Callable[[], str],
) -> Any:
    """Validate, run the one service call, commit, flash its message, back to the loan at
    the message (``#flashes``: issue 16, the page no longer jumps to a table below the
    message). A refused action rolls back and shows the loan page with this form's errors."""
    if form.validate_on_submit():
        try:
            message = call()
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            return _detail_page(loan_id, {prefix: form}, exc.status_code)
        db.session.commit()
        flash(message, "success")
        return redirect(url_for(".detail", loan_id=loan_id, _anchor="flashes"))
    flash(_("Biểu mẫu không hợp lệ, xin tải lại trang và thử lại."), "error")
    return _detail_page(loan_id, {prefix: form}, 400)


def _warn_closed_day(day: date | None) -> None:
    """A money entry dated on a day already closed: accepted, with a visible warning of
    what it does (issue 16)."""
    from fundapp.servicing.close_day import closed_day_warning

    warning = closed_day_warning(day, business_date(), "loan")
    if warning:
        flash(warning, "warning")


def _loan(loan_id: int) -> Loan:
    return db.get_or_404(Loan, loan_id)


def _child(model: Any, child_id: int, loan_id: int) -> Any:
    item = db.get_or_404(model, child_id)
    owner = item.repayment.loan_id if isinstance(item, Reversal) else item.loan_id
    if owner != loan_id:
        abort(404)
    return item


@bp.route("/<int:loan_id>/contract", methods=["POST"])
@roles_required(Role.OFFICER, Role.DIRECTOR)
def sign_contract(loan_id: int) -> Any:
    loan = _loan(loan_id)
    form = ContractForm(prefix="contract")

    def call() -> str:
        errors: dict[str, str] = {}
        when = validation.iso_date(
            {"contract_date": form.contract_date.data}, "contract_date", errors
        )
        if errors or when is None:
            raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
        services.sign_contract(
            current_user, loan, when, business_date(), form.repayment_order.data or None
        )
        return _("Đã ký hợp đồng %(c)s ngày %(d)s.", c=loan.contract_no, d=date_filter(when))

    return _act(loan_id, form, "contract", call)


@bp.route("/<int:loan_id>/cancel", methods=["POST"])
@roles_required(Role.DIRECTOR, Role.BOARD)
def cancel(loan_id: int) -> Any:
    loan = _loan(loan_id)
    form = ReasonForm(prefix="cancel")

    def call() -> str:
        services.cancel(current_user, loan, form.reason.data or "")
        return _("Đã hủy khoản vay %(c)s.", c=loan.contract_no)

    return _act(loan_id, form, "cancel", call)


@bp.route("/<int:loan_id>/disbursements", methods=["POST"])
@roles_required(Role.ACCOUNTANT)
def record_disbursement(loan_id: int) -> Any:
    _loan(loan_id)
    form = DisbursementForm(prefix="disburse")

    def call() -> str:
        d = services.record_disbursement(
            current_user, loan_id, values(form, DisbursementForm.FIELDS), business_date()
        )
        _warn_closed_day(d.value_date)
        return _(
            "Đã lập đợt giải ngân %(r)s: %(a)s. Chờ Giám đốc phê duyệt.",
            r=d.receipt_no,
            a=money_filter(d.amount),
        )

    return _act(loan_id, form, "disburse", call)


@bp.route("/<int:loan_id>/disbursements/<int:item_id>/approve", methods=["POST"])
@roles_required(Role.DIRECTOR)
def approve_disbursement(loan_id: int, item_id: int) -> Any:
    item = _child(Disbursement, item_id, loan_id)
    prefix = f"disb{item_id}-approve"
    form = ConfirmForm(prefix=prefix)

    def call() -> str:
        services.approve_disbursement(current_user, item.id, business_date())
        _warn_closed_day(item.value_date)
        return _(
            "Đã phê duyệt và hạch toán đợt giải ngân %(r)s: %(a)s.",
            r=item.receipt_no,
            a=money_filter(item.amount),
        )

    return _act(loan_id, form, prefix, call)


@bp.route("/<int:loan_id>/disbursements/<int:item_id>/reject", methods=["POST"])
@roles_required(Role.DIRECTOR)
def reject_disbursement(loan_id: int, item_id: int) -> Any:
    item = _child(Disbursement, item_id, loan_id)
    prefix = f"disb{item_id}-reject"
    form = NoteForm(prefix=prefix)

    def call() -> str:
        services.reject_disbursement(current_user, item.id, form.note.data or "")
        return _("Đã từ chối đợt giải ngân %(r)s.", r=item.receipt_no)

    return _act(loan_id, form, prefix, call)


@bp.route("/<int:loan_id>/repayments", methods=["POST"])
@roles_required(Role.ACCOUNTANT)
def record_repayment(loan_id: int) -> Any:
    _loan(loan_id)
    form = RepaymentForm(prefix="repay")
    form.fill_choices()

    def call() -> str:
        r = repayments.record_repayment(
            current_user, loan_id, values(form, RepaymentForm.FIELDS), business_date()
        )
        _warn_closed_day(r.value_date)
        message = _(
            "Đã thu %(a)s của hợp đồng %(c)s, phiếu thu %(r)s.",
            a=money_filter(r.amount),
            c=r.loan.contract_no,
            r=r.receipt_no,
        )
        if r.loan.status == LoanStatus.CLOSED:
            message += " " + _("Khoản vay đã trả hết nợ và được tất toán.")
        return message

    return _act(loan_id, form, "repay", call)


@bp.route("/<int:loan_id>/repayments/<int:item_id>/reverse", methods=["POST"])
@roles_required(Role.ACCOUNTANT)
def request_reversal(loan_id: int, item_id: int) -> Any:
    item = _child(Repayment, item_id, loan_id)
    prefix = f"rep{item_id}-reverse"
    form = ReasonForm(prefix=prefix)

    def call() -> str:
        repayments.request_reversal(current_user, item.id, form.reason.data or "")
        return _("Đã gửi đề nghị hủy phiếu thu %(r)s. Chờ Giám đốc phê duyệt.", r=item.receipt_no)

    return _act(loan_id, form, prefix, call)


def _decide_reversal(loan_id: int, item_id: int, approve_it: bool) -> Any:
    item = _child(Reversal, item_id, loan_id)
    prefix = f"rev{item_id}-{'approve' if approve_it else 'reject'}"
    form = NoteForm(prefix=prefix)

    def call() -> str:
        repayments.decide_reversal(
            current_user, item.id, approve_it, business_date(), form.note.data or ""
        )
        if approve_it:
            return _(
                "Đã hủy phiếu thu %(r)s; khoản vay đã được tính lại.", r=item.repayment.receipt_no
            )
        return _("Đã từ chối đề nghị hủy phiếu thu %(r)s.", r=item.repayment.receipt_no)

    return _act(loan_id, form, prefix, call)


@bp.route("/<int:loan_id>/reversals/<int:item_id>/approve", methods=["POST"])
@roles_required(Role.DIRECTOR)
def approve_reversal(loan_id: int, item_id: int) -> Any:
    return _decide_reversal(loan_id, item_id, True)


@bp.route("/<int:loan_id>/reversals/<int:item_id>/reject", methods=["POST"])
@roles_required(Role.DIRECTOR)
def reject_reversal(loan_id: int, item_id: int) -> Any:
    return _decide_reversal(loan_id, item_id, False)


@bp.route("/<int:loan_id>/restructurings", methods=["POST"])
@roles_required(Role.OFFICER)
def request_restructuring(loan_id: int) -> Any:
    _loan(loan_id)
    form = RestructuringForm(prefix="restructure")
    form.fill_choices()

    def call() -> str:
        r = services.request_restructuring(
            current_user, loan_id, values(form, RestructuringForm.FIELDS), business_date()
        )
        return _(
            "Đã gửi đề nghị %(k)s. Chờ Giám đốc hoặc Hội đồng quản lý phê duyệt.",
            k=str(KIND_LABELS[r.kind]).lower(),
        )

    return _act(loan_id, form, "restructure", call)


def _decide_restructuring(loan_id: int, item_id: int, approve_it: bool) -> Any:
    item = _child(Restructuring, item_id, loan_id)
    prefix = f"rst{item_id}-{'approve' if approve_it else 'reject'}"
    form = NoteForm(prefix=prefix)

    def call() -> str:
        services.decide_restructuring(
            current_user, item.id, approve_it, form.note.data or "", business_date()
        )
        if approve_it:
            return _("Đã phê duyệt cơ cấu lại; lịch trả nợ đã được lập lại.")
        return _("Đã từ chối đề nghị cơ cấu lại.")

    return _act(loan_id, form, prefix, call)


@bp.route("/<int:loan_id>/restructurings/<int:item_id>/approve", methods=["POST"])
@roles_required(Role.DIRECTOR, Role.BOARD)
def approve_restructuring(loan_id: int, item_id: int) -> Any:
    return _decide_restructuring(loan_id, item_id, True)


@bp.route("/<int:loan_id>/restructurings/<int:item_id>/reject", methods=["POST"])
@roles_required(Role.DIRECTOR, Role.BOARD)
def reject_restructuring(loan_id: int, item_id: int) -> Any:
    return _decide_restructuring(loan_id, item_id, False)


@bp.route("/<int:loan_id>/write-off", methods=["POST"])
@roles_required(Role.DIRECTOR)
def propose_write_off(loan_id: int) -> Any:
    _loan(loan_id)
    form = ReasonForm(prefix="writeoff")

    def call() -> str:
        w = services.propose_write_off(
            current_user, loan_id, form.reason.data or "", business_date()
        )
        return _(
            "Đã đề nghị xử lý rủi ro %(a)s. Chờ Hội đồng quản lý phê duyệt.",
            a=money_filter(w.amount),
        )

    return _act(loan_id, form, "writeoff", call)


def _decide_write_off(loan_id: int, item_id: int, approve_it: bool) -> Any:
    item = _child(WriteOff, item_id, loan_id)
    prefix = f"wo{item_id}-{'approve' if approve_it else 'reject'}"
    form = NoteForm(prefix=prefix)

    def call() -> str:
        services.decide_write_off(
            current_user, item.id, approve_it, form.note.data or "", business_date()
        )
        if approve_it:
            return _("Đã xử lý rủi ro khoản vay: %(a)s.", a=money_filter(item.amount))
        return _("Đã từ chối đề nghị xử lý rủi ro.")

    return _act(loan_id, form, prefix, call)


@bp.route("/<int:loan_id>/write-offs/<int:item_id>/approve", methods=["POST"])
@roles_required(Role.BOARD)
def approve_write_off(loan_id: int, item_id: int) -> Any:
    return _decide_write_off(loan_id, item_id, True)


@bp.route("/<int:loan_id>/write-offs/<int:item_id>/reject", methods=["POST"])
@roles_required(Role.BOARD)
def reject_write_off(loan_id: int, item_id: int) -> Any:
    return _decide_write_off(loan_id, item_id, False)


@bp.route("/<int:loan_id>/collateral", methods=["POST"])
@roles_required(Role.OFFICER)
def add_collateral(loan_id: int) -> Any:
    loan = _loan(loan_id)
    form = CollateralForm(prefix="collateral")

    def call() -> str:
        services.add_collateral(current_user, loan, values(form, CollateralForm.FIELDS))
        return _("Đã thêm tài sản bảo đảm.")

    return _act(loan_id, form, "collateral", call)


@bp.route("/<int:loan_id>/inspections", methods=["POST"])
@roles_required(Role.OFFICER)
def add_inspection(loan_id: int) -> Any:
    loan = _loan(loan_id)
    form = InspectionForm(prefix="inspection")
    form.fill_choices()

    def call() -> str:
        services.add_inspection(
            current_user, loan, values(form, InspectionForm.FIELDS), business_date()
        )
        return _("Đã ghi nhận kết quả kiểm tra sử dụng vốn vay.")

    return _act(loan_id, form, "inspection", call)
