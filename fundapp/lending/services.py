"""From application to closure: the rules of the fund, enforced here (not only in the UI).

Every function takes the acting user and the business date explicitly, flushes and never
commits; a refused action raises a DomainError naming the rule and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, union

from fundapp.cooperatives.models import Cooperative
from fundapp.core import audit, lists, validation
from fundapp.core.formatting import decimal_text, money_filter
from fundapp.core.security import Role, has_role
from fundapp.domain.dates import add_months, utcnow
from fundapp.domain.errors import (
    N_,
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from fundapp.domain.money import MoneyError, parse_rate
from fundapp.domain.schedule import FREQUENCIES, CustomPrincipal, LoanTerms, ScheduleError
from fundapp.domain.schedule import validate_terms as schedule_validate
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.services import Line, balances, post
from fundapp.loans import store as book
from fundapp.loans.models import (
    METHODS,
    ORDERS,
    Application,
    ApplicationStatus,
    ApprovalStatus,
    Collateral,
    Disbursement,
    DisbursementStatus,
    Inspection,
    Loan,
    LoanStatus,
    LoanTransition,
    Restructuring,
    WriteOff,
)
from fundapp.policy import services as policy

# --- one table of allowed transitions -----------------------------------------------------

APPLICATION_TRANSITIONS: dict[str, set[str]] = {
    ApplicationStatus.DRAFT: {ApplicationStatus.SUBMITTED, ApplicationStatus.WITHDRAWN},
    ApplicationStatus.SUBMITTED: {
        ApplicationStatus.APPRAISED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.WITHDRAWN,
    },
    ApplicationStatus.APPRAISED: {
        ApplicationStatus.APPROVED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.WITHDRAWN,
    },
    ApplicationStatus.APPROVED: set(),
    ApplicationStatus.REJECTED: set(),
    ApplicationStatus.WITHDRAWN: set(),
}

LOAN_TRANSITIONS: dict[str, set[str]] = {
    LoanStatus.APPROVED: {LoanStatus.CONTRACTED, LoanStatus.CANCELLED},
    LoanStatus.CONTRACTED: {LoanStatus.ACTIVE, LoanStatus.CANCELLED},
    # A reversal of the last repayment re-opens a closed loan.
    LoanStatus.ACTIVE: {LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF},
    LoanStatus.CLOSED: {LoanStatus.ACTIVE},
    # Risk handled (xử lý rủi ro); removed from off-balance tracking (xuất toán) 5 years on.
    LoanStatus.WRITTEN_OFF: {LoanStatus.REMOVED},
    LoanStatus.REMOVED: set(),
    LoanStatus.CANCELLED: set(),
}

STATUS_LABELS = {
    "draft": N_("Nháp"),
    "submitted": N_("Đã nộp"),
    "appraised": N_("Đã thẩm định"),
    "approved": N_("Đã phê duyệt"),
    "rejected": N_("Từ chối"),
    "withdrawn": N_("Đã rút"),
    "contracted": N_("Đã ký hợp đồng"),
    "active": N_("Đang vay"),
    "closed": N_("Đã tất toán"),
    "written_off": N_("Đã xử lý rủi ro"),
    "removed": N_("Đã xuất toán ngoại bảng"),
    "cancelled": N_("Đã hủy"),
}


def transition(obj: Application | Loan, to: str, actor: Any, reason: str = "") -> None:
    table = APPLICATION_TRANSITIONS if isinstance(obj, Application) else LOAN_TRANSITIONS
    entity = "application" if isinstance(obj, Application) else "loan"
    current = obj.status
    if to not in table.get(current, set()):
        raise DomainError(
            _(
                "Không thể chuyển trạng thái từ «%(a)s» sang «%(b)s».",
                a=_(STATUS_LABELS.get(current, current)),
                b=_(STATUS_LABELS.get(to, to)),
            )
        )
    obj.status = to
    db.session.add(
        LoanTransition(
            entity=entity,
            entity_id=obj.id,
            from_status=current,
            to_status=to,
            at=utcnow(),
            user_id=getattr(actor, "id", None),
            reason=reason[:2000],
        )
    )
    audit.record(
        actor, f"{entity}.{to}", entity, obj.id, {"status": current}, {"status": to}, note=reason
    )


def require(actor: Any, *roles: str) -> None:
    if not has_role(actor, *roles):
        raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))


# --- applications -----------------------------------------------------------------------

APPLICATION_FIELDS = (
    "cooperative_id", "project_name", "description", "purpose", "total_project_cost",
    "own_equity", "requested_amount", "term_months", "annual_rate", "principal_method",
    "principal_every_months", "interest_every_months", "grace_months", "custom_schedule",
    "collateral_offered",
)  # fmt: skip


def _int_field(data: dict, key: str, errors: dict, low: int, high: int, default: int) -> int:
    raw = data.get(key)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or not (isinstance(raw, int) or validation.digits(str(raw).strip())):
        errors[key] = _("Phải là số nguyên.")
        return default
    value = int(raw)
    if not low <= value <= high:
        errors[key] = _("Phải trong khoảng %(a)s – %(b)s.", a=low, b=high)
    return value


def parse_custom(raw: Any, errors: dict, key: str = "custom_schedule") -> list | None:
    """``[["2027-06-30", 50000000], …]`` or lines ``30/06/2027; 50.000.000``."""
    if raw in (None, "", []):
        return None
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, str):
        for line in raw.strip().splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.replace("\t", ";").split(";")]
            if len(parts) != 2:
                errors[key] = _("Mỗi dòng: ngày; số tiền (ví dụ 30/06/2027; 50.000.000).")
                return None
            pairs.append((parts[0], parts[1]))
    elif isinstance(raw, list):
        for item in raw:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                errors[key] = _("Mỗi kỳ là [ngày, số tiền].")
                return None
            pairs.append((item[0], item[1]))
    else:
        errors[key] = _("Lịch trả gốc không hợp lệ.")
        return None
    out = []
    for when, amount in pairs:
        sub: dict[str, str] = {}
        day = validation.iso_date({"d": when}, "d", sub)
        value = validation.amount({"a": amount}, "a", sub)
        if sub:
            errors[key] = _("Dòng «%(w)s»: %(m)s", w=str(when)[:20], m=next(iter(sub.values())))
            return None
        out.append([day.isoformat(), value])  # type: ignore[union-attr]
    return out


@dataclass(frozen=True)
class CleanTerms:
    term_months: int
    annual_rate: Decimal
    principal_method: str
    principal_every_months: int
    interest_every_months: int
    grace_months: int
    custom_schedule: list | None


def clean_terms(data: dict, errors: dict, default_rate: Decimal) -> CleanTerms:
    term = _int_field(data, "term_months", errors, 1, 600, 0)
    if data.get("term_months") in (None, ""):
        errors["term_months"] = _("Nhập thời hạn vay (tháng).")
    raw_rate = data.get("annual_rate")
    rate = default_rate
    if raw_rate not in (None, ""):
        try:
            rate = parse_rate(raw_rate)
        except MoneyError:
            errors["annual_rate"] = _("Lãi suất là số từ 0 đến 100 (phần trăm một năm), ví dụ 6.0.")
    method = str(data.get("principal_method") or "equal_principal")
    if method not in METHODS:
        errors["principal_method"] = _("Phương thức trả gốc không hợp lệ.")
    p_every = _int_field(data, "principal_every_months", errors, 1, 12, 1)
    i_every = _int_field(data, "interest_every_months", errors, 1, 12, 1)
    for key, value in (("principal_every_months", p_every), ("interest_every_months", i_every)):
        if key not in errors and value not in FREQUENCIES:
            errors[key] = _("Kỳ hạn trả là 1, 3, 6 hoặc 12 tháng.")
    grace = _int_field(data, "grace_months", errors, 0, 599, 0)
    custom = parse_custom(data.get("custom_schedule"), errors)
    if method == "custom" and not custom and "custom_schedule" not in errors:
        errors["custom_schedule"] = _("Phương thức tự nhập cần lịch trả gốc theo từng ngày.")
    return CleanTerms(term, rate, method, p_every, i_every, grace, custom)


def check_terms(terms: CleanTerms, amount: int, errors: dict) -> None:
    """The schedule engine's own rules on these terms (annuity dates, grace…)."""
    if errors or amount <= 0:
        return
    custom = tuple(
        CustomPrincipal(date.fromisoformat(d), a) for d, a in terms.custom_schedule or []
    )
    try:
        schedule_validate(
            LoanTerms(
                amount,
                terms.annual_rate,
                terms.term_months,
                terms.principal_method,
                terms.principal_every_months,
                terms.interest_every_months,
                terms.grace_months,
                custom,
            )
        )
    except ScheduleError as exc:
        field = {
            "grace_range": "grace_months",
            "annuity_same_dates": "interest_every_months",
            "annuity_grace_periods": "grace_months",
            "term_range": "term_months",
            "custom_sum": "custom_schedule",
            "custom_required": "custom_schedule",
            "custom_dates_order": "custom_schedule",
            "custom_amount_positive": "custom_schedule",
            "custom_only": "custom_schedule",
        }.get(exc.rule, "principal_method")
        errors[field] = book.rule_message(exc.rule, exc.detail)


def clean_application(
    data: dict, as_of: date, known: dict[str, str] | None = None
) -> dict[str, Any]:
    """Every field checked, all messages at once (with ``known`` ones found earlier)."""
    errors: dict[str, str] = dict(known or {})
    out: dict[str, Any] = {}
    coop_id = data.get("cooperative_id")
    coop = None
    if coop_id in (None, ""):
        errors["cooperative_id"] = _("Chọn hợp tác xã vay vốn.")
    elif (wanted := validation.row_id(coop_id)) is None:
        errors["cooperative_id"] = _("Hợp tác xã không tồn tại.")
    else:
        coop = db.session.get(Cooperative, wanted)
        if coop is None:
            errors["cooperative_id"] = _("Hợp tác xã không tồn tại.")
    out["cooperative_id"] = coop.id if coop else None
    out["project_name"] = validation.text(data, "project_name", 200, True, errors)
    out["description"] = validation.text(data, "description", 5000, False, errors)
    out["purpose"] = validation.text(data, "purpose", 255, False, errors)
    out["collateral_offered"] = validation.text(data, "collateral_offered", 2000, False, errors)
    out["total_project_cost"] = validation.amount(data, "total_project_cost", errors)
    equity = data.get("own_equity")
    if equity in (0, "0"):
        out["own_equity"] = 0
    else:
        out["own_equity"] = validation.amount(data, "own_equity", errors)
    out["requested_amount"] = validation.amount(data, "requested_amount", errors)
    if (
        "total_project_cost" not in errors
        and "own_equity" not in errors
        and out["own_equity"] > out["total_project_cost"]
    ):
        errors["own_equity"] = _("Vốn đối ứng không được lớn hơn tổng mức đầu tư.")
    if (
        "total_project_cost" not in errors
        and "requested_amount" not in errors
        and out["requested_amount"] > out["total_project_cost"]
    ):
        errors["requested_amount"] = _("Số tiền đề nghị vay không được lớn hơn tổng mức đầu tư.")
    terms = clean_terms(data, errors, policy.value("default_annual_rate", as_of))
    check_terms(terms, out.get("requested_amount") or 0, errors)
    out.update(terms.__dict__)
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    return out


def _app_snapshot(app: Application) -> dict[str, Any]:
    return {k: getattr(app, k) for k in APPLICATION_FIELDS}


def _for_actor(actor: Any, data: dict) -> tuple[dict, dict[str, str]]:
    """A cooperative applies for itself at the rate the fund's policy sets: another
    cooperative's id or a rate of its own choosing is refused. Staff data is unchanged."""
    if not has_role(actor, Role.COOPERATIVE):
        return data, {}
    if not getattr(actor, "cooperative_id", None):
        raise PermissionDenied(_("Tài khoản chưa được gắn với hợp tác xã nào."))
    errors: dict[str, str] = {}
    given = data.get("cooperative_id")
    if given not in (None, "") and str(given) != str(actor.cooperative_id):
        errors["cooperative_id"] = _("Hợp tác xã chỉ lập hồ sơ vay cho chính mình.")
    if data.get("annual_rate") not in (None, ""):
        errors["annual_rate"] = _("Lãi suất do Quỹ quy định theo chính sách cho vay.")
    return {**data, "cooperative_id": actor.cooperative_id, "annual_rate": None}, errors


def _lock(app: Application) -> None:
    """``app`` re-read and locked to the end of the transaction, before its status is
    checked: of two decisions at once the second waits and then sees the first (FOR UPDATE
    on PostgreSQL; on SQLite each transaction runs alone, see ``core.db``)."""
    db.session.execute(
        select(Application)
        .where(Application.id == app.id)
        .with_for_update(of=Application)
        .execution_options(populate_existing=True)
    ).scalar_one()


def _check_own(actor: Any, app: Application) -> None:
    """A cooperative acts on its own applications only; another's is not found."""
    if has_role(actor, Role.COOPERATIVE) and app.cooperative_id != actor.cooperative_id:
        raise NotFound(_("Không tìm thấy hồ sơ vay."))


def create_application(actor: Any, data: dict, as_of: date) -> Application:
    require(actor, Role.OFFICER, Role.COOPERATIVE)
    data, known = _for_actor(actor, data)
    values = clean_application(data, as_of, known)
    app = Application(
        **values,
        created_by_id=actor.id,
        officer_id=actor.id if has_role(actor, Role.OFFICER) else None,
    )
    db.session.add(app)
    db.session.flush()
    audit.record(actor, "application.create", "application", app.id, None, _app_snapshot(app))
    return app


def update_application(actor: Any, app: Application, data: dict, as_of: date) -> Application:
    require(actor, Role.OFFICER, Role.COOPERATIVE)
    _lock(app)
    _check_own(actor, app)
    if app.status != ApplicationStatus.DRAFT:
        raise DomainError(_("Chỉ sửa được hồ sơ ở trạng thái nháp."))
    data, known = _for_actor(actor, data)
    values = clean_application(data, as_of, known)
    before = _app_snapshot(app)
    for key, value in values.items():
        setattr(app, key, value)
    db.session.flush()
    old, new = audit.diff(before, _app_snapshot(app))
    if new:
        audit.record(actor, "application.update", "application", app.id, old, new)
    return app


def submit(actor: Any, app: Application) -> None:
    require(actor, Role.OFFICER, Role.COOPERATIVE)
    _lock(app)
    _check_own(actor, app)
    transition(app, ApplicationStatus.SUBMITTED, actor)
    app.submitted_at = utcnow()


def withdraw(actor: Any, app: Application, reason: str) -> None:
    require(actor, Role.OFFICER, Role.COOPERATIVE)
    _lock(app)
    _check_own(actor, app)
    if has_role(actor, Role.COOPERATIVE) and app.status == ApplicationStatus.APPRAISED:
        # The fund has done its appraisal: withdrawing now goes through the officer.
        raise DomainError(
            _("Hồ sơ đã được thẩm định; muốn rút hồ sơ xin liên hệ cán bộ tín dụng của Quỹ.")
        )
    transition(app, ApplicationStatus.WITHDRAWN, actor, reason)


# --- rule checks --------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    code: str
    label: str
    passed: bool
    detail: str
    blocking: bool  # True: nobody may approve; False: a board member may override


def borrower_outstanding(cooperative_id: int) -> int:
    """Outstanding and committed (approved, not yet disbursed) to one borrower."""
    return int(
        db.session.scalar(
            select(
                func.coalesce(
                    func.sum(Loan.amount - Loan.disbursed + Loan.principal_outstanding), 0
                )
            ).where(
                Loan.cooperative_id == cooperative_id,
                Loan.status.in_([LoanStatus.APPROVED, LoanStatus.CONTRACTED, LoanStatus.ACTIVE]),
            )
        )
        or 0
    )


def committed_undisbursed() -> int:
    """Approved or contracted amounts not yet disbursed: cash the fund has promised."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Loan.amount - Loan.disbursed), 0)).where(
                Loan.status.in_([LoanStatus.APPROVED, LoanStatus.CONTRACTED, LoanStatus.ACTIVE])
            )
        )
        or 0
    )


def cash_available(as_of: date | None = None) -> int:
    return balances(as_of)[acc.CASH]


def rule_checks(app: Application, amount: int, as_of: date, approver: Any = None) -> list[Check]:
    coop = app.cooperative
    checks: list[Check] = []
    kinds = policy.value("eligible_kinds", as_of)
    checks.append(
        Check(
            "eligibility",
            _("Đối tượng được vay"),
            coop.kind in kinds,
            coop.kind_label,
            True,
        )
    )
    min_equity = policy.value("min_equity_pct", as_of)
    equity_ok = Decimal(app.own_equity) * 100 >= min_equity * app.total_project_cost
    loan_cap = app.total_project_cost - app.own_equity
    share = (Decimal(app.own_equity) * 100 / app.total_project_cost).quantize(Decimal("0.1"))
    checks.append(
        Check(
            "equity",
            _("Vốn đối ứng ≥ %(p)s%% tổng mức đầu tư", p=decimal_text(min_equity)),
            equity_ok and amount <= loan_cap,
            _(
                "Vốn đối ứng %(s)s%%; số vay %(a)s, tối đa %(c)s",
                s=decimal_text(share),
                a=money_filter(amount),
                c=money_filter(loan_cap),
            ),
            True,
        )
    )
    charter = balances(as_of)[acc.CHARTER_CAPITAL]
    single_pct = policy.value("single_borrower_limit_pct", as_of)
    single_cap = int(Decimal(charter) * single_pct / 100)
    current = borrower_outstanding(coop.id)
    checks.append(
        Check(
            "single_borrower",
            _("Dư nợ một khách hàng ≤ %(p)s%% vốn điều lệ thực có", p=decimal_text(single_pct)),
            current + amount <= single_cap,
            _(
                "Dư nợ và cam kết %(c)s + khoản này %(a)s; giới hạn %(l)s; còn trống %(h)s",
                c=money_filter(current),
                a=money_filter(amount),
                l=money_filter(single_cap),
                h=money_filter(single_cap - current - amount),
            ),
            False,
        )
    )
    group_pct = policy.value("related_group_limit_pct", as_of)
    group_cap = int(Decimal(charter) * group_pct / 100)
    if coop.related_group_id:
        members = list(
            db.session.scalars(
                select(Cooperative.id).where(Cooperative.related_group_id == coop.related_group_id)
            )
        )
        group_current = sum(borrower_outstanding(m) for m in members)
    else:
        group_current = current
    checks.append(
        Check(
            "related_group",
            _(
                "Dư nợ khách hàng và người có liên quan ≤ %(p)s%% vốn điều lệ thực có",
                p=decimal_text(group_pct),
            ),
            group_current + amount <= group_cap,
            _(
                "Dư nợ nhóm %(c)s + khoản này %(a)s; giới hạn %(l)s; còn trống %(h)s",
                c=money_filter(group_current),
                a=money_filter(amount),
                l=money_filter(group_cap),
                h=money_filter(group_cap - group_current - amount),
            ),
            False,
        )
    )
    free = cash_available(as_of) - committed_undisbursed()
    checks.append(
        Check(
            "cash",
            _("Quỹ có đủ vốn để cho vay"),
            amount <= free,
            _("Vốn sẵn sàng cho vay (trừ cam kết chưa giải ngân) %(f)s", f=money_filter(free)),
            True,
        )
    )
    limit = policy.value("director_approval_limit", as_of)
    if approver is not None:
        if has_role(approver, Role.BOARD):
            ok, who = True, _("Hội đồng quản lý: không giới hạn")
        elif has_role(approver, Role.DIRECTOR):
            ok, who = amount <= limit, _("Giám đốc: đến %(l)s", l=money_filter(limit))
        else:
            ok, who = False, _("Người duyệt không có thẩm quyền")
        checks.append(Check("authority", _("Thẩm quyền phê duyệt"), ok, who, True))
    return checks


def prepared_by(actor: Any, app: Application) -> bool:
    """Whether ``actor`` prepared ``app``: created it, or is its officer."""
    return actor.id in {app.created_by_id, app.officer_id}


def may_appraise(actor: Any, app: Application, as_of: date) -> bool:
    """The policy's ``self_appraisal_allowed`` (default no): may the officer who prepared
    the file appraise it too?"""
    return not prepared_by(actor, app) or bool(policy.value("self_appraisal_allowed", as_of))


def check_appraiser(actor: Any, app: Application, as_of: date) -> None:
    if not may_appraise(actor, app, as_of):
        raise PermissionDenied(
            _(
                "Cán bộ lập hồ sơ không được tự thẩm định hồ sơ của mình: cần một cán bộ tín "
                "dụng khác thẩm định (chính sách cho vay của Quỹ, tham số “Cán bộ lập hồ sơ "
                "được tự thẩm định”)."
            )
        )


def appraise(
    actor: Any, app: Application, recommended_amount: Any, note: str, as_of: date
) -> list[Check]:
    require(actor, Role.OFFICER)
    _lock(app)
    if app.status != ApplicationStatus.SUBMITTED:
        raise DomainError(_("Chỉ thẩm định hồ sơ đã nộp."))
    check_appraiser(actor, app, as_of)
    errors: dict[str, str] = {}
    amount = validation.amount(
        {"recommended_amount": recommended_amount}, "recommended_amount", errors
    )
    if not errors and amount > app.requested_amount:
        errors["recommended_amount"] = _("Số đề nghị cho vay không vượt số tiền xin vay.")
    clean_note = validation.text({"note": note}, "note", 5000, True, errors)
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    checks = rule_checks(app, amount, as_of)
    transition(app, ApplicationStatus.APPRAISED, actor)
    app.appraised_by_id = actor.id
    app.appraised_at = utcnow()
    app.recommended_amount = amount
    app.appraisal_note = clean_note
    app.appraisal_checks = [c.__dict__ for c in checks]
    audit.record(
        actor,
        "application.appraise",
        "application",
        app.id,
        None,
        {"recommended_amount": amount, "checks": app.appraisal_checks},
    )
    return checks


def reject(actor: Any, app: Application, reason: str) -> None:
    require(actor, Role.DIRECTOR, Role.BOARD)
    if not (reason or "").strip():
        raise ValidationFailed(_("Cần ghi lý do từ chối."), {"reason": _("Cần ghi lý do từ chối.")})
    _lock(app)
    if app.appraised_by_id == actor.id:
        raise PermissionDenied(_("Người thẩm định không được tự quyết định hồ sơ của mình."))
    transition(app, ApplicationStatus.REJECTED, actor, reason.strip())
    app.decided_by_id, app.decided_at, app.decision_note = actor.id, utcnow(), reason.strip()


def approve(
    actor: Any, app: Application, note: str, as_of: date, override_reason: str = ""
) -> Loan:
    """Approve within authority; creates the loan with the policy snapshot."""
    require(actor, Role.DIRECTOR, Role.BOARD)
    _lock(app)
    if app.status != ApplicationStatus.APPRAISED:
        raise DomainError(_("Chỉ phê duyệt hồ sơ đã thẩm định."))
    if app.appraised_by_id == actor.id or app.created_by_id == actor.id:
        raise PermissionDenied(_("Người lập hoặc thẩm định hồ sơ không được tự phê duyệt."))
    amount = app.recommended_amount or app.requested_amount
    checks = rule_checks(app, amount, as_of, approver=actor)
    failed = [c for c in checks if not c.passed]
    blocking = [c for c in failed if c.blocking]
    if blocking:
        raise DomainError(
            _(
                "Không phê duyệt được: %(r)s.",
                r="; ".join(f"{c.label} ({c.detail})" for c in blocking),
            )
        )
    if failed:
        if not has_role(actor, Role.BOARD):
            raise DomainError(
                _(
                    "Vượt giới hạn: %(r)s. Chỉ Hội đồng quản lý được phê duyệt vượt giới hạn, "
                    "kèm lý do.",
                    r="; ".join(f"{c.label} ({c.detail})" for c in failed),
                )
            )
        if not (override_reason or "").strip():
            msg = _("Phê duyệt vượt giới hạn cần ghi rõ lý do.")
            raise ValidationFailed(msg, {"override_reason": msg})
    transition(app, ApplicationStatus.APPROVED, actor, note)
    app.decided_by_id, app.decided_at = actor.id, utcnow()
    app.decision_note = (note or "").strip()[:5000]
    app.override_reason = (override_reason or "").strip()[:5000] if failed else ""
    snapshot = policy.snapshot(as_of)
    loan = Loan(
        contract_no=book.next_number(f"HD-{as_of.year}", 4),
        application_id=app.id,
        cooperative_id=app.cooperative_id,
        officer_id=app.officer_id or app.appraised_by_id,
        project_name=app.project_name,
        purpose=app.purpose,
        amount=amount,
        status=LoanStatus.APPROVED,
        term_months=app.term_months,
        annual_rate=app.annual_rate,
        principal_method=app.principal_method,
        principal_every_months=app.principal_every_months,
        interest_every_months=app.interest_every_months,
        grace_months=app.grace_months,
        custom_schedule=app.custom_schedule,
        overdue_multiplier=Decimal(snapshot["overdue_rate_pct"]),
        late_rate=Decimal(snapshot["late_interest_rate"]),
        policy_snapshot=snapshot,
        approved_on=as_of,
    )
    db.session.add(loan)
    db.session.flush()
    db.session.add(
        LoanTransition(
            entity="loan",
            entity_id=loan.id,
            from_status="",
            to_status="approved",
            at=utcnow(),
            user_id=actor.id,
            reason=note or "",
        )
    )
    audit.record(
        actor,
        "loan.create",
        "loan",
        loan.id,
        None,
        {"contract_no": loan.contract_no, "amount": amount, "override_reason": app.override_reason},
    )
    return loan


# The order a repayment settles the parts of an instalment, chosen per contract.
REPAYMENT_ORDER_LABELS = {
    "standard": N_("Lãi phạt → lãi → gốc (mặc định)"),
    "principal_first": N_("Gốc → lãi → lãi phạt"),
}


def _clean_order(order: str | None) -> str | None:
    """None when not given; the order's code, or ValidationFailed naming the choices."""
    if order is None or order == "":
        return None
    if order not in ORDERS:
        msg = _("Thứ tự thu nợ là một trong: %(v)s.", v=", ".join(ORDERS))
        raise ValidationFailed(msg, {"repayment_order": msg})
    return order


def sign_contract(
    actor: Any, loan: Loan, contract_date: date, as_of: date, repayment_order: str | None = None
) -> None:
    """The contract is signed; ``repayment_order`` (default: the standard order) is the
    allocation order the contract chooses."""
    require(actor, Role.OFFICER, Role.DIRECTOR)
    book.lock_loan(loan.id)  # re-reads ``loan`` (the same object) under the lock
    order = _clean_order(repayment_order)
    if contract_date > as_of or contract_date < loan.approved_on:
        msg = _("Ngày ký hợp đồng từ ngày phê duyệt đến ngày làm việc hiện tại.")
        raise ValidationFailed(msg, {"contract_date": msg})
    transition(loan, LoanStatus.CONTRACTED, actor)
    loan.contract_date = contract_date
    if order is not None and order != loan.repayment_order:
        _record_order(actor, loan, order)


def set_repayment_order(actor: Any, loan: Loan, repayment_order: str) -> None:
    """Change the contract's allocation order: only before the first disbursement, since
    repayments allocated under one order must not be re-read under another."""
    require(actor, Role.OFFICER, Role.DIRECTOR)
    book.lock_loan(loan.id)
    order = _clean_order(repayment_order)
    if order is None or order == loan.repayment_order:
        return
    if loan.status not in (LoanStatus.APPROVED, LoanStatus.CONTRACTED) or loan.disbursed:
        msg = _(
            "Thứ tự thu nợ chỉ thay đổi được trước lần giải ngân đầu tiên; khoản vay đã giải "
            "ngân giữ thứ tự đã ghi trong hợp đồng."
        )
        raise Conflict(msg, {"repayment_order": msg})
    _record_order(actor, loan, order)


def _record_order(actor: Any, loan: Loan, order: str) -> None:
    before = loan.repayment_order
    loan.repayment_order = order
    audit.record(
        actor,
        "loan.repayment_order",
        "loan",
        loan.id,
        {"repayment_order": before},
        {"contract_no": loan.contract_no, "repayment_order": order},
    )


def cancel(actor: Any, loan: Loan, reason: str) -> None:
    require(actor, Role.DIRECTOR, Role.BOARD)
    if not (reason or "").strip():
        raise ValidationFailed(_("Cần ghi lý do hủy."), {"reason": _("Cần ghi lý do hủy.")})
    book.lock_loan(loan.id)
    if loan.disbursed or db.session.scalar(
        select(func.count(Disbursement.id)).where(
            Disbursement.loan_id == loan.id, Disbursement.status == DisbursementStatus.PENDING
        )
    ):
        raise DomainError(_("Khoản vay đã có giải ngân; không hủy được."))
    transition(loan, LoanStatus.CANCELLED, actor, reason)


# --- disbursements -------------------------------------------------------------------------


def record_disbursement(actor: Any, loan_id: int, data: dict, as_of: date) -> Disbursement:
    require(actor, Role.ACCOUNTANT)
    loan = book.lock_loan(loan_id)
    if loan.status not in (LoanStatus.CONTRACTED, LoanStatus.ACTIVE):
        raise DomainError(_("Chỉ giải ngân khoản vay đã ký hợp đồng."))
    errors: dict[str, str] = {}
    amount = validation.amount(data, "amount", errors)
    value_date = validation.iso_date(data, "date", errors)
    reference = validation.text(data, "reference", 80, False, errors)
    if value_date and loan.contract_date and value_date < loan.contract_date:
        errors["date"] = _("Ngày giải ngân không được trước ngày ký hợp đồng.")
    if value_date and value_date > as_of:
        errors["date"] = _("Ngày giải ngân không được sau ngày làm việc hiện tại.")
    if value_date and loan.first_disbursement_date and value_date < loan.first_disbursement_date:
        errors["date"] = _("Đợt giải ngân mới không được trước đợt đã giải ngân.")
    pending = _pending_disbursed(loan.id)
    if amount and "amount" not in errors and amount > loan.amount - loan.disbursed - pending:
        errors["amount"] = _(
            "Vượt số tiền được duyệt: còn được giải ngân %(r)s.",
            r=money_filter(loan.amount - loan.disbursed - pending),
        )
    if amount and "amount" not in errors and amount > cash_available(as_of):
        errors["amount"] = _("Quỹ không đủ tiền: còn %(c)s.", c=money_filter(cash_available(as_of)))
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    if loan.disbursed:
        _try_with(loan, disbursement=(value_date, amount))
    disbursement = Disbursement(
        loan_id=loan.id,
        amount=amount,
        value_date=value_date,
        reference=reference,
        receipt_no=book.next_number(f"KU-{value_date.year}", 4),  # type: ignore[union-attr]
        status=DisbursementStatus.PENDING,
        recorded_by_id=actor.id,
    )
    db.session.add(disbursement)
    db.session.flush()
    audit.record(
        actor,
        "disbursement.create",
        "disbursement",
        disbursement.id,
        None,
        {"loan": loan.contract_no, "amount": amount, "date": value_date},
    )
    return disbursement


def _pending_disbursed(loan_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Disbursement.amount), 0)).where(
                Disbursement.loan_id == loan_id,
                Disbursement.status == DisbursementStatus.PENDING,
            )
        )
        or 0
    )


def _try_with(loan: Loan, disbursement: tuple[Any, int] | None = None) -> None:
    """Refuse now what the replay would refuse at approval."""
    from fundapp.domain import replay as engine

    history = book.history_of(loan)
    if disbursement:
        history = book.History(
            (*history.disbursements, engine.DisbursementEvent(0, *disbursement)),
            history.repayments,
            history.restructures,
            history.reliefs,
        )
    book.replay(loan, history)


def approve_disbursement(actor: Any, disbursement_id: int, as_of: date) -> Disbursement:
    require(actor, Role.DIRECTOR)
    disbursement = db.session.get(Disbursement, disbursement_id)
    if disbursement is None:
        from fundapp.domain.errors import NotFound

        raise NotFound(_("Không tìm thấy đợt giải ngân."))
    loan = book.lock_loan(disbursement.loan_id)
    db.session.refresh(disbursement)
    if disbursement.status != DisbursementStatus.PENDING:
        raise DomainError(_("Đợt giải ngân này đã được xử lý."))
    if disbursement.recorded_by_id == actor.id:
        raise PermissionDenied(_("Người lập đợt giải ngân không được tự phê duyệt."))
    if disbursement.amount > cash_available(as_of):
        raise DomainError(_("Quỹ không đủ tiền để giải ngân."))
    disbursement.status = DisbursementStatus.POSTED
    disbursement.approved_by_id = actor.id
    disbursement.decided_at = utcnow()
    db.session.flush()
    if loan.status == LoanStatus.CONTRACTED:
        transition(loan, LoanStatus.ACTIVE, actor, _("Giải ngân lần đầu"))
    _state, entry_id = book.refresh(
        loan,
        as_of,
        "disbursement",
        actor,
        disbursement.receipt_no,
        _("Giải ngân %(c)s", c=loan.contract_no),
    )
    disbursement.journal_entry_id = entry_id
    audit.record(
        actor,
        "disbursement.approve",
        "disbursement",
        disbursement.id,
        {"status": "pending"},
        {"status": "posted"},
    )
    return disbursement


def reject_disbursement(actor: Any, disbursement_id: int, reason: str) -> Disbursement:
    require(actor, Role.DIRECTOR)
    disbursement = db.session.get(Disbursement, disbursement_id)
    if disbursement is None:
        from fundapp.domain.errors import NotFound

        raise NotFound(_("Không tìm thấy đợt giải ngân."))
    book.lock_loan(disbursement.loan_id)
    db.session.refresh(disbursement)  # its status as the last decision left it
    if disbursement.status != DisbursementStatus.PENDING:
        raise DomainError(_("Đợt giải ngân này đã được xử lý."))
    disbursement.status = DisbursementStatus.REJECTED
    disbursement.approved_by_id = actor.id
    disbursement.decided_at = utcnow()
    audit.record(
        actor,
        "disbursement.reject",
        "disbursement",
        disbursement.id,
        {"status": "pending"},
        {"status": "rejected"},
        note=reason or "",
    )
    return disbursement


# --- restructuring and write-off -------------------------------------------------------------


def request_restructuring(actor: Any, loan_id: int, data: dict, as_of: date) -> Restructuring:
    require(actor, Role.OFFICER)
    loan = book.lock_loan(loan_id)
    if loan.status != LoanStatus.ACTIVE:
        raise DomainError(_("Chỉ cơ cấu lại khoản vay đang vay."))
    errors: dict[str, str] = {}
    kind = str(data.get("kind") or "")
    if kind not in ("term_adjustment", "extension"):
        errors["kind"] = _("Chọn điều chỉnh kỳ hạn hoặc gia hạn nợ.")
    effective = validation.iso_date(data, "effective_date", errors)
    if effective and effective > as_of:
        errors["effective_date"] = _("Ngày hiệu lực không được sau ngày làm việc hiện tại.")
    if effective and loan.first_disbursement_date and effective < loan.first_disbursement_date:
        errors["effective_date"] = _("Ngày hiệu lực không được trước ngày giải ngân.")
    new_maturity = validation.iso_date(data, "new_maturity", errors, required=kind == "extension")
    plan = parse_custom(data.get("principal_plan"), errors, "principal_plan") or []
    if kind == "term_adjustment" and not plan:
        errors["principal_plan"] = _("Điều chỉnh kỳ hạn cần các ngày và số gốc mới.")
    reason = validation.text(data, "reason", 2000, True, errors)
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    restructuring = Restructuring(
        loan_id=loan.id,
        kind=kind,
        effective_date=effective,
        new_maturity=new_maturity if kind == "extension" else None,
        principal_plan=plan,
        reason=reason,
        requested_by_id=actor.id,
    )
    db.session.add(restructuring)
    db.session.flush()
    history = book.history_of(loan)
    book.replay(
        loan,
        book.History(
            history.disbursements,
            history.repayments,
            (*history.restructures, book.restructure_event(restructuring)),
            history.reliefs,
        ),
    )
    audit.record(
        actor,
        "restructuring.request",
        "restructuring",
        restructuring.id,
        None,
        {
            "loan": loan.contract_no,
            "kind": kind,
            "effective_date": effective,
            "new_maturity": new_maturity,
            "plan": plan,
        },
    )
    return restructuring


def decide_restructuring(
    actor: Any, restructuring_id: int, approve_it: bool, note: str, as_of: date
) -> Restructuring:
    require(actor, Role.DIRECTOR, Role.BOARD)
    restructuring = db.session.get(Restructuring, restructuring_id)
    if restructuring is None:
        from fundapp.domain.errors import NotFound

        raise NotFound(_("Không tìm thấy đề nghị cơ cấu."))
    loan = book.lock_loan(restructuring.loan_id)
    db.session.refresh(restructuring)  # read before the lock: its status may have changed
    if restructuring.status != ApprovalStatus.PENDING:
        raise DomainError(_("Đề nghị này đã được xử lý."))
    if restructuring.requested_by_id == actor.id:
        raise PermissionDenied(_("Người đề nghị không được tự phê duyệt."))
    restructuring.approved_by_id, restructuring.decided_at = actor.id, utcnow()
    if not approve_it:
        restructuring.status = ApprovalStatus.REJECTED
        audit.record(actor, "restructuring.reject", "restructuring", restructuring.id, note=note)
        return restructuring
    restructuring.status = ApprovalStatus.APPROVED
    if restructuring.kind == "extension":
        loan.extensions += 1
    else:
        loan.term_adjustments += 1
    db.session.flush()
    book.refresh(
        loan,
        as_of,
        "restructuring",
        actor,
        loan.contract_no,
        _("Cơ cấu lại thời hạn trả nợ %(c)s", c=loan.contract_no),
    )
    audit.record(
        actor,
        "restructuring.approve",
        "restructuring",
        restructuring.id,
        {"status": "pending"},
        {"status": "approved"},
        note=note,
    )
    return restructuring


def propose_write_off(actor: Any, loan_id: int, reason: str, as_of: date) -> WriteOff:
    """Risk handling (xử lý rủi ro, Decree 45/2021 Art. 28–29): the director proposes using
    the provision for a group-5 loan; the board decides (``decide_write_off``). The loan is
    then tracked off-balance; its removal (xuất toán) is ``servicing.risk``, 5 years on."""
    require(actor, Role.DIRECTOR)
    loan = book.lock_loan(loan_id)
    if loan.status != LoanStatus.ACTIVE:
        raise DomainError(_("Chỉ xử lý rủi ro khoản vay đang vay."))
    if not (reason or "").strip():
        raise ValidationFailed(_("Cần ghi lý do."), {"reason": _("Cần ghi lý do.")})
    if db.session.scalar(
        select(WriteOff.id).where(
            WriteOff.loan_id == loan.id, WriteOff.status == ApprovalStatus.PENDING
        )
    ):
        raise DomainError(_("Khoản vay đã có đề nghị xử lý rủi ro đang chờ phê duyệt."))
    state = book.replay(loan)
    balances_now = state.balances(as_of)
    group_five = policy.value("group_thresholds_days", as_of)[3]
    if balances_now.days_past_due < group_five:
        raise DomainError(
            _(
                "Chỉ xử lý rủi ro khoản vay nhóm 5 đã trích lập đủ dự phòng "
                "(quá hạn từ %(d)s ngày); khoản này quá hạn %(n)s ngày.",
                d=group_five,
                n=balances_now.days_past_due,
            )
        )
    proposal = WriteOff(
        loan_id=loan.id,
        amount=loan.principal_outstanding,
        reason=reason.strip(),
        proposed_by_id=actor.id,
    )
    db.session.add(proposal)
    db.session.flush()
    audit.record(
        actor,
        "write_off.propose",
        "write_off",
        proposal.id,
        None,
        {"loan": loan.contract_no, "amount": proposal.amount},
    )
    return proposal


def decide_write_off(
    actor: Any, write_off_id: int, approve_it: bool, note: str, as_of: date
) -> WriteOff:
    """The board's decision on a risk handling: the provision absorbs the principal (Dr
    provision / Cr loans), the memo tracks it off-balance (Dr written-off loans)."""
    require(actor, Role.BOARD)
    proposal = db.session.get(WriteOff, write_off_id)
    if proposal is None:
        from fundapp.domain.errors import NotFound

        raise NotFound(_("Không tìm thấy đề nghị xử lý rủi ro."))
    loan = book.lock_loan(proposal.loan_id)
    db.session.refresh(proposal)  # read before the lock: its status may have changed
    if proposal.status != ApprovalStatus.PENDING:
        raise DomainError(_("Đề nghị này đã được xử lý."))
    if proposal.proposed_by_id == actor.id:
        raise PermissionDenied(_("Người đề nghị không được tự phê duyệt."))
    proposal.approved_by_id, proposal.decided_at = actor.id, utcnow()
    if not approve_it:
        proposal.status = ApprovalStatus.REJECTED
        audit.record(actor, "write_off.reject", "write_off", proposal.id, note=note)
        return proposal
    proposal.status = ApprovalStatus.APPROVED
    amount = loan.principal_outstanding
    proposal.amount = amount
    have = book.ledger_position(loan.id)
    lines = []
    held = -have.get(acc.PROVISION, 0)  # this loan's specific provision (a credit)
    coop = loan.cooperative_id
    if held < amount:
        # Not provisioned to the full amount: the shortfall is an expense of the day.
        top_up = amount - max(held, 0)
        lines += [
            Line(acc.PROVISION_EXPENSE, debit=top_up),
            Line(acc.PROVISION, credit=top_up, cooperative_id=coop, loan_id=loan.id),
        ]
    elif held > amount:
        # Provisioned beyond what is written off: the excess is released as income.
        lines += [
            Line(acc.PROVISION, debit=held - amount, cooperative_id=coop, loan_id=loan.id),
            Line(acc.PROVISION_RELEASE_INCOME, credit=held - amount),
        ]
    lines.append(Line(acc.PROVISION, debit=amount, cooperative_id=coop, loan_id=loan.id))
    overdue = max(have.get(acc.LOANS_OVERDUE, 0), 0)
    in_term = amount - min(overdue, amount)
    if overdue:
        lines.append(
            Line(
                acc.LOANS_OVERDUE, credit=min(overdue, amount), cooperative_id=coop, loan_id=loan.id
            )
        )
    if in_term:
        lines.append(Line(acc.LOANS_IN_TERM, credit=in_term, cooperative_id=coop, loan_id=loan.id))
    lines += [
        Line(acc.WRITTEN_OFF_MEMO, debit=amount, cooperative_id=loan.cooperative_id),
        Line(acc.MEMO_CONTRA, credit=amount),
    ]
    entry = post(
        as_of,
        "write_off",
        lines,
        actor=actor,
        reference=loan.contract_no,
        description=_("Xử lý rủi ro khoản vay %(c)s", c=loan.contract_no),
    )
    proposal.journal_entry_id = entry.id
    loan.written_off = amount
    loan.principal_outstanding = 0
    transition(loan, LoanStatus.WRITTEN_OFF, actor, proposal.reason)
    audit.record(
        actor,
        "write_off.approve",
        "write_off",
        proposal.id,
        {"status": "pending"},
        {"status": "approved", "amount": amount},
        note=note,
    )
    return proposal


# --- collateral and inspections --------------------------------------------------------------


def add_collateral(actor: Any, loan: Loan, data: dict) -> Collateral:
    require(actor, Role.OFFICER)
    if loan.status not in (LoanStatus.APPROVED, LoanStatus.CONTRACTED, LoanStatus.ACTIVE):
        raise DomainError(_("Chỉ thêm tài sản bảo đảm cho khoản vay chưa kết thúc."))
    errors: dict[str, str] = {}
    kind = validation.text(data, "kind", 60, True, errors)
    description = validation.text(data, "description", 2000, False, errors)
    valuation = validation.amount(data, "valuation", errors)
    factor = Decimal(0)
    try:
        factor = parse_rate(data.get("discount_factor") or "0")
        if factor > 1:
            raise MoneyError("bad_rate")
    except MoneyError:
        errors["discount_factor"] = _("Hệ số khấu trừ từ 0 đến 1 (ví dụ 0,5).")
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    item = Collateral(
        loan_id=loan.id,
        kind=kind,
        description=description,
        valuation=valuation,
        discount_factor=factor,
    )
    db.session.add(item)
    loan.reclassify = True  # the provision of its group is on principal less collateral
    db.session.flush()
    audit.record(
        actor,
        "collateral.create",
        "collateral",
        item.id,
        None,
        {"loan": loan.contract_no, "kind": kind, "valuation": valuation, "discount_factor": factor},
    )
    return item


FINDINGS = {
    "proper": N_("Đúng mục đích"),
    "partial": N_("Sử dụng một phần"),
    "improper": N_("Sai mục đích"),
}


def add_inspection(actor: Any, loan: Loan, data: dict, as_of: date) -> Inspection:
    require(actor, Role.OFFICER)
    if loan.status not in (LoanStatus.ACTIVE, LoanStatus.CLOSED):
        raise DomainError(_("Chỉ kiểm tra sử dụng vốn khi đã giải ngân."))
    errors: dict[str, str] = {}
    when = validation.iso_date(data, "inspected_on", errors)
    if when and (
        when > as_of or (loan.first_disbursement_date and when < loan.first_disbursement_date)
    ):
        errors["inspected_on"] = _("Ngày kiểm tra từ ngày giải ngân đến ngày làm việc hiện tại.")
    finding = str(data.get("finding") or "")
    if finding not in FINDINGS:
        errors["finding"] = _("Chọn kết quả kiểm tra.")
    notes = validation.text(data, "notes", 5000, False, errors)
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)
    item = Inspection(
        loan_id=loan.id, inspected_on=when, inspector_id=actor.id, finding=finding, notes=notes
    )
    db.session.add(item)
    db.session.flush()
    audit.record(
        actor,
        "inspection.create",
        "inspection",
        item.id,
        None,
        {"loan": loan.contract_no, "finding": finding, "date": when},
    )
    return item


def maturity_of(loan: Loan) -> date | None:
    if loan.maturity_date:
        return loan.maturity_date
    if loan.first_disbursement_date:
        return add_months(loan.first_disbursement_date, loan.term_months)
    return None


def loans_matching(q: str, borrower: bool = True) -> Any:
    """Ids of the loans whose contract number or project (and, with ``borrower``, the
    borrower's name, number or representative) holds ``q``, in any case and without
    diacritics (fundapp.core.lists.fold), ``%`` and ``_`` being plain characters: a
    union of searches that PostgreSQL each answers from a trigram index."""
    searches = [
        # Loans written by a bulk insert have no search key: their contract number still counts.
        select(Loan.id).where(func.upper(Loan.contract_no).contains(q.upper(), autoescape=True)),
        select(Loan.id).where(lists.contains(func.lower(Loan.search_key), q)),
    ]
    if borrower:
        searches.append(
            select(Loan.id)
            .join(Cooperative, Cooperative.id == Loan.cooperative_id)
            .where(lists.contains(func.lower(Cooperative.search_key), q))
        )
    return union(*searches)
