"""Shared set-up for lending tests: a funded fund, staff, and a contracted loan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fundapp.extensions import db
from fundapp.ledger.services import record_capital
from fundapp.lending import applications, contracts, disbursements
from fundapp.policy.services import install_defaults
from fundapp.support import services as support
from fundapp.support.models import SupportClaim
from tests.conftest import make_cooperative, make_user


@dataclass
class Staff:
    officer: Any
    appraiser: Any
    accountant: Any
    director: Any
    board: Any


def fund_and_staff(capital: int = 15_000_000_000) -> Staff:
    install_defaults()
    record_capital(None, "charter", capital, date(2020, 1, 1))
    db.session.commit()
    return Staff(
        make_user("officer"),
        make_user("officer"),
        make_user("accountant"),
        make_user("director"),
        make_user("board"),
    )


def application_data(cooperative: Any, amount: int, **terms: Any) -> dict[str, Any]:
    """An application's fields: cost twice the amount, the rest own equity, 12 months at
    6 %, equal principal; ``terms`` change or add fields."""
    data = {
        "cooperative_id": cooperative.id,
        "project_name": "Mở rộng vườn vải thiều",
        "total_project_cost": amount * 2,
        "own_equity": amount,
        "requested_amount": amount,
        "term_months": 12,
        "annual_rate": "6",
        "principal_method": "equal_principal",
    }
    data.update(terms)
    return data


def _approve(staff: Staff, amount: int, on: date, cooperative: Any, terms: dict[str, Any]) -> Any:
    """Create, submit, appraise and approve (the director up to 500.000.000 đ, the board
    above): the loan, not committed."""
    data = application_data(cooperative or make_cooperative(), amount, **terms)
    app = applications.create_application(staff.officer, data, on)
    applications.submit(staff.officer, app)
    applications.appraise(staff.appraiser, app, amount, "Phương án khả thi", on)
    approver = staff.director if amount <= 500_000_000 else staff.board
    return applications.approve(approver, app, "Đồng ý", on)


def approved_loan(
    staff: Staff,
    amount: int = 120_000_000,
    on: date = date(2026, 1, 5),
    cooperative: Any = None,
    **terms: Any,
) -> Any:
    """A loan approved on ``on``, its contract not yet signed."""
    loan = _approve(staff, amount, on, cooperative, terms)
    db.session.commit()
    return loan


def contracted_loan(
    staff: Staff,
    amount: int = 120_000_000,
    on: date = date(2026, 1, 5),
    cooperative: Any = None,
    **terms: Any,
) -> Any:
    """A loan approved and its contract signed on ``on``."""
    loan = _approve(staff, amount, on, cooperative, terms)
    contracts.sign_contract(staff.officer, loan, on, on)
    db.session.commit()
    return loan


def disburse(staff: Staff, loan: Any, amount: int, when: date) -> Any:
    d = disbursements.record_disbursement(
        staff.accountant, loan.id, {"amount": amount, "date": when}, when
    )
    disbursements.approve_disbursement(staff.director, d.id, when)
    db.session.commit()
    return d


def portal_application_form(**changes: Any) -> dict[str, Any]:
    """The cooperative's application form on the portal (``/portal/applications/new``),
    submitted; ``changes`` change or add fields."""
    data = {
        "project_name": "Kho lạnh bảo quản vải thiều",
        "purpose": "Xây kho lạnh 200 m², mua máy sấy",
        "description": "Kho lạnh cho 40 hộ thành viên.",
        "total_project_cost": "500.000.000",
        "own_equity": "150.000.000",
        "requested_amount": "300.000.000",
        "term_months": "24",
        "principal_method": "equal_principal",
        "principal_every_months": "3",
        "interest_every_months": "1",
        "grace_months": "0",
        "custom_schedule": "",
        "collateral_offered": "Quyền sử dụng đất thửa 123",
        "action": "submit",
    }
    data.update(changes)
    return data


SUPPORT_SCHEME = {
    "name": "Hỗ trợ lãi suất sản xuất nông nghiệp",
    "legal_basis": "Nghị quyết 24/2018/NQ-HĐND",
    "paying_agency": "Sở Tài chính",
    "share": "50",
    "first_due": "2026-01-01",
}


def support_with_claim(director: Any) -> tuple[Any, Any]:
    """An interest support scheme (code HTLS) and a claim filed to its agency, not yet paid,
    written directly (nothing is billed to claim in the security tests' books)."""
    scheme = support.create_scheme(director, {**SUPPORT_SCHEME, "code": "HTLS"})
    claim = SupportClaim(
        scheme_id=scheme.id,
        reference="HTLS-2026-0001",
        period_from=date(2026, 1, 1),
        period_to=date(2026, 10, 31),
        amount=1_000_000,
        submitted_at=datetime(2026, 11, 2, tzinfo=UTC),
    )
    db.session.add(claim)
    db.session.flush()
    return scheme, claim
