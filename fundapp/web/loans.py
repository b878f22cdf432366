"""Loans: the list, the approvals queue, the loan page and its schedule.

Views are thin: role check → load or 404 → the queries of ``loans.queries`` → render. The
actions on a loan (contract, disbursements, repayments, reversals, restructuring, write-off,
collateral, inspections) are POST views of the same blueprint in ``web.loan_actions``; a
refused action re-renders the loan page (:func:`detail_page`) with the failing form (its
values and the field messages) and the status of the error; everything else on the page
is fresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import defaultload, lazyload
from werkzeug.routing import BuildError

from fundapp.areas.services import former_districts
from fundapp.auth.models import User, UserRole
from fundapp.cooperatives.models import Cooperative
from fundapp.core import lists
from fundapp.core.dates import business_date
from fundapp.core.forms import id_arg, page_arg
from fundapp.core.security import AUDIT_READ, STAFF_READ, Role, has_role, roles_required
from fundapp.extensions import db
from fundapp.lending import contracts, lifecycle, search
from fundapp.lending import inspections as lending_inspections
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
)
from fundapp.loans import queries, stored
from fundapp.loans.models import ApprovalStatus, DisbursementStatus, Loan, LoanStatus
from fundapp.policy import services as policy_services
from fundapp.policy.parameters import PARAMS
from fundapp.reports import cache
from fundapp.web.relief import approval_items as relief_approval_items
from fundapp.work.decisions import decisions_for
from fundapp.work.services import arrears

bp = Blueprint("loans", __name__, url_prefix="/loans")

COMPONENT_LABELS = {"penalty": _l("Lãi phạt"), "interest": _l("Lãi"), "principal": _l("Gốc")}


# --- list ------------------------------------------------------------------------------------


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
                _(lifecycle.STATUS_LABELS.get(loan.status, loan.status)),
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
    status = status if status in lifecycle.LOAN_TRANSITIONS else ""
    districts = former_districts(business_date())
    district = district if district in districts else ""
    officer = str(officer_id) if officer_id else ""

    where: list[Any] = []
    if q:
        where.append(Loan.id.in_(search.loans_matching(q)))
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
            query = query.where(queries.overdue_clause(business_date(), whole_set))
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
    # The list shows each loan's borrower, not its officer: the officer (and his roles) are
    # not read with the page's rows.
    rows = {
        loan.id: loan
        for loan in db.session.scalars(
            select(Loan).where(Loan.id.in_(ids)).options(lazyload(Loan.officer))
        )
    }
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
        slices = cache.remembered("loan-list-slices", (today,), lambda: queries.book_slices(today))
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
            .options(lazyload(User.roles), lazyload(User.cooperative))  # only their names
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
        statuses={s.value: lifecycle.STATUS_LABELS[s.value] for s in LoanStatus},
        districts=districts,
        officers=officers,
        pending=_pending_count(),
        # Overdue amount and days past due of the page's loans (issue 16, fundapp/work).
        arrears=_page_arrears([loan.id for loan in page.items]),
    )


def _page_arrears(loan_ids: list[int]) -> dict[int, Any]:
    return arrears(business_date(), loan_ids)


def _pending_count() -> int:
    """The rows of the approvals page: what this user may decide (fundapp/work/decisions.py)."""
    return len(decisions_for(current_user, business_date()))


@bp.route("/approvals")
@roles_required(*STAFF_READ)
def approvals() -> Any:
    """One queue: only the items this user may decide (issue 16); the same items as the
    landing page's count and ``GET /api/v1/approvals?mine=true``."""
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


def _snapshot_rows(snapshot: dict[str, str]) -> list[tuple[Any, Any]]:
    return [(p, snapshot[p.key]) for p in PARAMS if p.key in (snapshot or {})]


def detail_page(loan_id: int, failed: dict[str, FlaskForm] | None = None, status: int = 200) -> Any:
    """The loan page; an action refused (``web.loan_actions``) shows it with its failed form
    (``failed``, by prefix) open, and the error's ``status``."""
    # The page writes nothing: every panel that reads the loan's state shares one.
    with stored.kept_states():
        return _detail_page(loan_id, failed, status)


def _detail_page(loan_id: int, failed: dict[str, FlaskForm] | None, status: int) -> Any:
    # Only names of the loan's officer are shown: their roles and cooperative are not read.
    loan, has = queries.loan_for_page(
        loan_id,
        defaultload(Loan.officer).lazyload(User.roles),
        defaultload(Loan.officer).lazyload(User.cooperative),
    )
    if loan is None:
        abort(404)
    as_of = business_date()
    today = as_of.strftime("%d/%m/%Y")

    records = queries.loan_records(loan, has)
    disbursements, reversals = records.disbursements, records.reversals
    restructurings, write_offs = records.restructurings, records.write_offs
    collateral, inspections = records.collateral, records.inspections
    instalments = queries.instalments_of(loan)
    repayments = queries.repayments_of(loan)

    balances = payoff = None
    if loan.status in queries.REPLAYED_STATUSES and loan.disbursed:
        # The stored state from the rows this page reads anyway (stored.state_of's own).
        state = stored.state_from(
            loan, disbursements, instalments, repayments, restructurings, records.reliefs
        )
        balances = state.balances(as_of)
        payoff = state.payoff_amount(as_of) if loan.status == LoanStatus.ACTIVE else 0

    pending_disbursed = sum(
        d.amount for d in disbursements if d.status == DisbursementStatus.PENDING
    )
    undisbursed = loan.amount - loan.disbursed - pending_disbursed
    pending_reversals = {r.repayment_id: r for r in reversals if r.status == ApprovalStatus.PENDING}
    repayment_rows = queries.repayment_rows(loan, pending_reversals, repayments)
    pending_wo = any(w.status == ApprovalStatus.PENDING for w in write_offs)
    can = _can(
        loan,
        undisbursed,
        any(d.status == DisbursementStatus.PENDING for d in disbursements),
        pending_wo,
    )
    audit_rows = (
        queries.audit_rows(
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
        maturity=contracts.maturity_of(loan),
        overdue_rate=queries.overdue_rate(loan),
        schedule=queries.build_schedule(loan, as_of, instalments),
        disbursements=disbursements,
        undisbursed=undisbursed,
        repayments=repayment_rows,
        reversals=reversals,
        restructurings=restructurings,
        write_offs=write_offs,
        collateral=collateral,
        inspections=inspections,
        transitions=records.transitions,
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
        statuses=lifecycle.STATUS_LABELS,
        findings=lending_inspections.FINDINGS,
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
    return detail_page(loan_id)


@bp.route("/<int:loan_id>/schedule")
@roles_required(*STAFF_READ)
def schedule(loan_id: int) -> Any:
    loan = db.get_or_404(Loan, loan_id)
    as_of = business_date()
    return render_template(
        "loans/schedule.html",
        loan=loan,
        as_of=as_of,
        schedule=queries.build_schedule(loan, as_of),
        maturity=contracts.maturity_of(loan),
        overdue_rate=queries.overdue_rate(loan),
        disbursements=queries.posted_disbursements(loan.id),
        statuses=lifecycle.STATUS_LABELS,
    )
