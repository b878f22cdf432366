"""Reading and changing the lending policy.

A change is a new dated version, never an edit, and it takes two board members (maker and
checker, as money does): one proposes it (``propose``), another approves it (``approve``),
which writes the version; another may instead reject it, or its proposer withdraw it. The
value is checked against the parameter's legal range when proposed and again when approved.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from fundapp import audit
from fundapp.core import validation
from fundapp.core.security import Role, has_role
from fundapp.domain.dates import utcnow
from fundapp.domain.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from fundapp.extensions import db
from fundapp.policy.bounds import OutOfRange
from fundapp.policy.models import PolicyChange, PolicyChangeStatus, PolicyParameter
from fundapp.policy.parameters import BY_KEY, PARAMS, Param

REASON_MAX = 2000
STATUS_LABELS = {
    PolicyChangeStatus.PENDING: _l("chờ duyệt"),
    PolicyChangeStatus.APPROVED: _l("đã phê duyệt"),
    PolicyChangeStatus.REJECTED: _l("đã từ chối"),
    PolicyChangeStatus.WITHDRAWN: _l("đã rút"),
}


def raw_value(key: str, as_of: date) -> str:
    row = db.session.scalar(
        select(PolicyParameter.value)
        .where(PolicyParameter.key == key, PolicyParameter.effective_from <= as_of)
        .order_by(PolicyParameter.effective_from.desc())
        .limit(1)
    )
    # Read tolerantly: a value an older version stored as typed ("6,8") is read as "6.8".
    return BY_KEY[key].tolerant(row) if row is not None else BY_KEY[key].default_on(as_of)


def version_in_force(key: str, as_of: date) -> PolicyParameter | None:
    """The stored version of ``key`` in force on ``as_of`` (None: the legal default)."""
    return db.session.scalar(
        select(PolicyParameter)
        .where(PolicyParameter.key == key, PolicyParameter.effective_from <= as_of)
        .order_by(PolicyParameter.effective_from.desc())
        .limit(1)
    )


def value(key: str, as_of: date) -> Any:
    """The typed value of ``key`` in force on ``as_of``."""
    return BY_KEY[key].parse(raw_value(key, as_of))


def snapshot(as_of: date) -> dict[str, str]:
    """Every parameter in force on ``as_of``, as stored: copied onto a contract."""
    return {p.key: raw_value(p.key, as_of) for p in PARAMS}


def install_defaults(actor: Any = None) -> int:
    """Write the law's versions of every parameter: the legal defaults from 2021 and each
    later version the law brought (Circular 14/2024 from 12/08/2024, Decree 86/2024), where
    the fund has not already decided a version from that date on.

    The one direct write of versions: the defaults are the law's, not a board decision."""
    stored: dict[str, list[date]] = {}
    for key, since in db.session.execute(
        select(PolicyParameter.key, PolicyParameter.effective_from)
    ):
        stored.setdefault(key, []).append(since)
    added = 0
    for param in PARAMS:
        dates = stored.get(param.key, [])
        for since, raw, reference in legal_versions_missing(param, dates):
            db.session.add(
                PolicyParameter(
                    key=param.key,
                    value=raw,
                    effective_from=since,
                    legal_reference=reference,
                    note="Giá trị mặc định theo văn bản pháp luật",
                    created_by_id=getattr(actor, "id", None),
                )
            )
            added += 1
    db.session.flush()
    return added


def legal_versions_missing(param: Param, stored: list[date]) -> list[tuple[date, str, str]]:
    """The law's versions of ``param`` still to write, given the dates of its stored
    versions: all of them when none is stored; otherwise each later one from whose date on
    nothing is stored (a version the board approved from that date on stands)."""
    versions = param.legal_versions()
    if not stored:
        return list(versions)
    return [v for v in versions[1:] if not any(d >= v[0] for d in stored)]


# --- reading the proposals -------------------------------------------------------------------


def pending_changes(key: str | None = None) -> list[PolicyChange]:
    """The changes waiting for a second board member, soonest effective first."""
    query = select(PolicyChange).where(PolicyChange.status == PolicyChangeStatus.PENDING)
    if key is not None:
        query = query.where(PolicyChange.key == key)
    return list(db.session.scalars(query.order_by(PolicyChange.effective_from, PolicyChange.id)))


def decided_changes(key: str, limit: int = 20) -> list[PolicyChange]:
    """The latest decided (approved, rejected, withdrawn) changes of ``key``."""
    return list(
        db.session.scalars(
            select(PolicyChange)
            .where(PolicyChange.key == key, PolicyChange.status != PolicyChangeStatus.PENDING)
            .order_by(PolicyChange.decided_at.desc(), PolicyChange.id.desc())
            .limit(limit)
        )
    )


def may_decide(user: Any, change: PolicyChange) -> bool:
    """Whether ``user`` may approve or reject ``change``: another board member."""
    return (
        change.status == PolicyChangeStatus.PENDING
        and has_role(user, Role.BOARD)
        and change.proposed_by_id != getattr(user, "id", None)
    )


# --- the maker -------------------------------------------------------------------------------


def propose(
    actor: Any,
    key: str,
    raw: str,
    effective_from: date | None,
    legal_reference: str,
    reason: str,
    business_date: date,
) -> PolicyChange:
    """A board member proposes a new version of ``key``; nothing changes until another
    board member approves it. The value must lie in the parameter's legal range on
    ``effective_from``; the date may not be before the business date nor on or before the
    latest stored version (history is never rewritten)."""
    _require_board(actor)
    param = _param(key)
    errors: dict[str, str] = {}
    stored = ""
    if effective_from is None:
        errors["effective_from"] = _("Ngày không hợp lệ.")
    else:
        stored = _checked_value(param, raw, effective_from, errors)
        _check_date(key, effective_from, business_date, errors)
    reference = validation.text(
        {"legal_reference": legal_reference}, "legal_reference", 255, False, errors
    )
    if not reference and "legal_reference" not in errors:
        errors["legal_reference"] = _("Cần ghi căn cứ pháp lý của thay đổi.")
    why = validation.text({"note": reason}, "note", REASON_MAX, False, errors)
    if not why and "note" not in errors:
        errors["note"] = _("Cần ghi lý do thay đổi để người phê duyệt xem xét.")
    if effective_from is not None and "effective_from" not in errors:
        twin = db.session.scalar(
            select(PolicyChange.id).where(
                PolicyChange.key == key,
                PolicyChange.effective_from == effective_from,
                PolicyChange.status == PolicyChangeStatus.PENDING,
            )
        )
        if twin is not None:
            errors["effective_from"] = _(
                "Đã có một đề xuất khác cho tham số này từ ngày %(d)s đang chờ duyệt.",
                d=effective_from.strftime("%d/%m/%Y"),
            )
    if errors:
        raise ValidationFailed(next(iter(errors.values())), errors)
    assert effective_from is not None
    change = PolicyChange(
        key=key,
        value=stored,
        effective_from=effective_from,
        legal_reference=reference,
        reason=why,
        status=PolicyChangeStatus.PENDING,
        proposed_by_id=actor.id,
        proposed_at=utcnow(),
    )
    db.session.add(change)
    db.session.flush()
    audit.record(
        actor,
        "policy.propose",
        "policy_change",
        change.id,
        {"key": key, "value": raw_value(key, effective_from)},
        {
            "key": key,
            "value": stored,
            "effective_from": effective_from,
            "legal_reference": reference,
            "status": PolicyChangeStatus.PENDING.value,
        },
        note=why,
    )
    return change


def withdraw(actor: Any, change_id: int, note: str = "") -> PolicyChange:
    """The proposer takes back a pending change."""
    _require_board(actor)
    change = _lock(change_id)
    _still_pending(change)
    if change.proposed_by_id != actor.id:
        raise PermissionDenied(_("Chỉ người đề xuất mới rút được đề xuất này."))
    errors: dict[str, str] = {}
    clean = validation.text({"note": note}, "note", REASON_MAX, False, errors)
    if errors:
        raise ValidationFailed(errors["note"], errors)
    return _close(actor, change, PolicyChangeStatus.WITHDRAWN, clean, decided_by=None)


def _close(
    actor: Any,
    change: PolicyChange,
    status: PolicyChangeStatus,
    note: str,
    decided_by: int | None,
) -> PolicyChange:
    """End a pending change without a version (withdrawn by its proposer, rejected by
    another board member), audited as ``policy.withdraw`` or ``policy.reject``."""
    change.status = status
    change.decided_by_id = decided_by
    change.decided_at = utcnow()
    change.decision_note = note
    db.session.flush()
    action = "policy.withdraw" if status is PolicyChangeStatus.WITHDRAWN else "policy.reject"
    audit.record(
        actor,
        action,
        "policy_change",
        change.id,
        {"status": PolicyChangeStatus.PENDING.value},
        {"key": change.key, "status": status.value},
        note=note,
    )
    return change


# --- the checker -----------------------------------------------------------------------------


def approve(actor: Any, change_id: int, business_date: date, note: str = "") -> PolicyChange:
    """Another board member approves a pending change: it becomes the parameter's version
    from its date. The value and the date are checked again, as of now."""
    change = _to_decide(actor, change_id)
    errors: dict[str, str] = {}
    clean = validation.text({"note": note}, "note", REASON_MAX, False, errors)
    param = _param(change.key)
    _lock_versions(change.key)
    _checked_value(param, change.value, change.effective_from, errors)
    _check_date(change.key, change.effective_from, business_date, errors)
    if errors:
        problems = " ".join(m for f, m in errors.items() if f != "note")
        if problems:
            raise DomainError(
                _(
                    "Không phê duyệt được: %(why)s Hãy từ chối đề xuất này và đề xuất lại.",
                    why=problems,
                ),
                {f: m for f, m in errors.items() if f == "note"},
            )
        raise ValidationFailed(errors["note"], errors)
    before = raw_value(change.key, change.effective_from)
    version = PolicyParameter(
        key=change.key,
        value=change.value,
        effective_from=change.effective_from,
        legal_reference=change.legal_reference,
        note=change.reason,
        created_by_id=actor.id,
    )
    db.session.add(version)
    db.session.flush()
    change.status = PolicyChangeStatus.APPROVED
    change.decided_by_id = actor.id
    change.decided_at = utcnow()
    change.decision_note = clean
    change.policy_parameter_id = version.id
    db.session.flush()
    audit.record(
        actor,
        "policy.approve",
        "policy_change",
        change.id,
        {"status": PolicyChangeStatus.PENDING.value},
        {
            "key": change.key,
            "status": PolicyChangeStatus.APPROVED.value,
            "policy_parameter_id": version.id,
        },
        note=clean,
    )
    audit.record(
        actor,
        "policy.change",
        "policy_parameter",
        version.id,
        {"key": change.key, "value": before},
        {"key": change.key, "value": version.value, "effective_from": version.effective_from},
        note=change.reason,
    )
    return change


def reject(actor: Any, change_id: int, reason: str) -> PolicyChange:
    """Another board member rejects a pending change, saying why; nothing is written."""
    change = _to_decide(actor, change_id)
    errors: dict[str, str] = {}
    clean = validation.text({"note": reason}, "note", REASON_MAX, True, errors)
    if errors:
        if not clean:
            errors["note"] = _("Cần ghi lý do từ chối.")
        raise ValidationFailed(errors["note"], errors)
    return _close(actor, change, PolicyChangeStatus.REJECTED, clean, decided_by=actor.id)


# --- the checks ------------------------------------------------------------------------------


def _to_decide(actor: Any, change_id: int) -> PolicyChange:
    """The pending change, locked, that ``actor`` may decide: a board member other than
    the one who proposed it."""
    _require_board(actor)
    change = _lock(change_id)
    _still_pending(change)
    _not_the_maker(actor, change)
    return change


def _require_board(actor: Any) -> None:
    if not has_role(actor, Role.BOARD):
        raise PermissionDenied(_("Chỉ thành viên Hội đồng quản lý được thay đổi chính sách."))


def _param(key: str) -> Param:
    param = BY_KEY.get(key)
    if param is None:
        raise ValidationFailed(_("Tham số không tồn tại."), {"key": _("Tham số không tồn tại.")})
    return param


def _lock(change_id: int) -> PolicyChange:
    """The change, re-read and locked for the rest of the transaction, so that two
    decisions on it cannot both pass the state check (SQLite has a single writer)."""
    change = db.session.execute(
        select(PolicyChange)
        .where(PolicyChange.id == change_id)
        .with_for_update(of=PolicyChange)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if change is None:
        raise NotFound(_("Không tìm thấy đề xuất thay đổi chính sách."))
    return change


def _lock_versions(key: str) -> None:
    """Lock the latest stored version of ``key``: two approvals of the same parameter then
    take turns, and the second sees the first's version when it checks the date."""
    db.session.execute(
        select(PolicyParameter.id)
        .where(PolicyParameter.key == key)
        .order_by(PolicyParameter.effective_from.desc())
        .limit(1)
        .with_for_update()
    ).all()


def _still_pending(change: PolicyChange) -> None:
    if change.status != PolicyChangeStatus.PENDING:
        raise Conflict(
            _(
                "Đề xuất này đã được xử lý (%(s)s); không thể quyết định lại.",
                s=STATUS_LABELS[PolicyChangeStatus(change.status)],
            )
        )


def _not_the_maker(actor: Any, change: PolicyChange) -> None:
    if change.proposed_by_id == actor.id:
        raise PermissionDenied(
            _("Người đề xuất không được tự phê duyệt; cần một thành viên Hội đồng quản lý khác.")
        )


def _checked_value(param: Param, raw: str, effective_from: date, errors: dict[str, str]) -> str:
    try:
        return param.validate(raw, effective_from)
    except OutOfRange as exc:
        errors["value"] = exc.message
        return ""


def _check_date(key: str, effective_from: date, business_date: date, errors: dict) -> None:
    if effective_from < business_date:
        errors["effective_from"] = _(
            "Ngày hiệu lực không được trước ngày làm việc hiện tại (không sửa lịch sử)."
        )
        return
    latest = db.session.scalar(
        select(PolicyParameter.effective_from)
        .where(PolicyParameter.key == key)
        .order_by(PolicyParameter.effective_from.desc())
        .limit(1)
    )
    if latest is not None and effective_from <= latest:
        errors["effective_from"] = _(
            "Đã có phiên bản hiệu lực từ %(d)s; ngày hiệu lực mới phải sau ngày đó.",
            d=latest.strftime("%d/%m/%Y"),
        )


def check_stored_values(result: Any) -> None:
    """``flask fund check``: every stored version lies in its parameter's legal range on its
    own date. New versions are checked when proposed and approved; this finds one stored
    before the ranges existed, or written to the database by hand."""
    result.checked.append("every lending policy version lies in its legal range")
    for row in db.session.scalars(select(PolicyParameter).order_by(PolicyParameter.id)):
        param = BY_KEY.get(row.key)
        if param is None:
            result.fail(f"policy version {row.id}: unknown parameter {row.key!r}")
            continue
        try:
            stored = param.validate(row.value, row.effective_from)
        except OutOfRange as exc:
            result.fail(
                f"policy version {row.id} ({row.key} = {row.value!r} from "
                f"{row.effective_from.isoformat()}): {exc.message}"
            )
            continue
        if not param.stored_plainly(row.value):
            # Stored by an older version as typed ("6,8"): read as ``stored`` everywhere,
            # named here so that it can be corrected in the database.
            result.fail(
                f"policy version {row.id} ({row.key} = {row.value!r} from "
                f"{row.effective_from.isoformat()}) is not stored canonically; "
                f"it is read as {stored!r}"
            )
    # A version still in force when the law tightened its range must lie in the new one
    # (the 2021 debt groups kept past 12/08/2024 would classify by a repealed rule).
    result.checked.append("the lending policy in force when the law changed lies in the new range")
    for param in PARAMS:
        for bound in param.bounds[1:]:
            row = version_in_force(param.key, bound.since)
            if row is None or row.effective_from >= bound.since:
                continue
            try:
                param.validate(row.value, bound.since)
            except OutOfRange as exc:
                result.fail(
                    f"policy version {row.id} ({param.key} = {row.value!r}) is still in "
                    f"force on {bound.since.isoformat()}: {exc.message}"
                )
