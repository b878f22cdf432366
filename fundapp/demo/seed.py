"""The Bắc Giang demo fund: users per role, cooperatives in the ten districts, capital.

The Bắc Giang cooperatives are registered with the units of their time (a commune of the
2021 list and its district, kept as the former district) and shown with today's commune
through the successions; a few cooperatives of former Bắc Ninh are registered with
today's communes, with applications in progress and no loans, so the fund's totals stay
the seed's.

Cooperatives are fictional; the capital totals are the fund's reported figures:
17.547 triệu đồng in all, of which 3.000 triệu received this year as new capital to lend.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from fundapp.areas import loader as units_loader
from fundapp.areas import services as areas
from fundapp.auth.models import User
from fundapp.auth.services import create_user
from fundapp.cooperatives import services as coops
from fundapp.core.dates import business_date
from fundapp.demo.data import (
    BAC_NINH_COOPERATIVES,
    CAPITAL,
    COOPERATIVES,
    REGISTERED_ON,
    TOTAL_CAPITAL,
    VILLAGES,
)
from fundapp.demo.loans import (
    TARGET_OUTSTANDING,
    TARGET_PROJECTS,
    Builder,
    LoanBookError,
    build_book,
)
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.funds.services import ensure_own
from fundapp.ledger.services import check_invariants, fund_position, record_capital
from fundapp.lending import applications
from fundapp.loans.models import Loan, LoanStatus
from fundapp.policy.services import install_defaults
from fundapp.servicing.close_day import run_close_day


class DemoError(RuntimeError):
    pass


DEMO_PASSWORD = "QuyHTX@2026"  # noqa: S105  (printed by `make run`; demo only)

# username, role, description, cooperative registration no. (cooperative users)
DEMO_USERS: tuple[tuple[str, str, str, str | None], ...] = (
    ("canbo", "officer", "Nguyễn Văn Tín — cán bộ tín dụng", None),
    ("canbo2", "officer", "Trần Thị Thẩm — cán bộ tín dụng (thẩm định)", None),
    ("ketoan", "accountant", "Lê Thị Toán — kế toán", None),
    ("giamdoc", "director", "Phạm Văn Đức — giám đốc", None),
    ("chutich", "board", "Hoàng Văn Chủ — chủ tịch Hội đồng quản lý", None),
    # A policy change is approved by a board member other than its proposer.
    ("hoidong", "board", "Ngô Thị Hội — thành viên Hội đồng quản lý", None),
    ("kiemsoat", "controller", "Đỗ Thị Soát — kiểm soát viên", None),
    ("quantri", "admin", "Vũ Văn Trị — quản trị hệ thống", None),
    ("htx.vaithieu", "cooperative", "HTX Vải thiều Thanh Hà (Lục Ngạn)", "2405000001"),
    ("htx.gadoi", "cooperative", "HTX Gà đồi Đồng Tâm (Yên Thế)", "2405000002"),
)


def _bac_giang_commune(district: str, commune: str) -> str:
    """The 2021 code of a demo cooperative's commune, read from the units (never typed)."""
    unit = areas.find_commune(district, commune, REGISTERED_ON)
    if unit is None or not unit.valid_on(REGISTERED_ON):
        raise DemoError(f"demo commune {commune} of district {district} is not in the 2021 units")
    return unit.code


def _today_commune(name: str, today: date) -> str:
    for _label, communes in areas.commune_groups(today):
        for code, commune in communes:
            if commune == name:
                return code
    raise DemoError(f"demo commune {name} is not a commune of the fund's province today")


def _bac_ninh_cooperatives(officer: User, today: date) -> list[int]:
    """Registered today with today's communes of former Bắc Ninh; each has an application
    (two drafts, two submitted), none a loan."""
    ids = []
    for index, (name, commune, sector, rep, project) in enumerate(BAC_NINH_COOPERATIVES, start=1):
        coop = coops.create(
            officer,
            {
                "name": name,
                "kind": "cooperative",
                "registration_no": f"2705{index:06d}",
                "tax_code": f"27{index:08d}",
                "commune_code": _today_commune(commune, today),
                "address": f"Thôn {VILLAGES[index % len(VILLAGES)]}",
                "sector": sector,
                "representative": rep,
                "phone": f"0913{index:06d}",
                "email": f"htxbn{index:02d}@example.vn",
                "members_count": 12 + index,
                "bank_account": f"8900{index:08d}",
                "bank_name": "Agribank chi nhánh Bắc Ninh",
            },
            as_of=today,
        )
        amount = 200_000_000 + 50_000_000 * index
        application = applications.create_application(
            officer,
            {
                "cooperative_id": coop.id,
                "project_name": project,
                "purpose": project,
                "description": f"Phương án sản xuất kinh doanh: {project.lower()}.",
                "total_project_cost": amount * 2,
                "own_equity": amount,
                "requested_amount": amount,
                "term_months": 36,
                "annual_rate": "6.5",
                "principal_method": "equal_principal",
                "principal_every_months": 6,
                "interest_every_months": 3,
                "grace_months": 0,
            },
            today - timedelta(days=index),
        )
        if index % 2 == 0:
            applications.submit(officer, application)
        ids.append(coop.id)
    return ids


def database_is_empty() -> bool:
    return (db.session.scalar(select(func.count(User.id))) or 0) == 0


def _tax_code(index: int) -> str:
    return f"24{index:08d}"


def seed(today: date | None = None) -> list[str]:
    if sum(c[2] for c in CAPITAL) != TOTAL_CAPITAL:
        raise DemoError("demo capital does not add up to the reported total")
    install_defaults()

    ensure_own()  # this fund's row among the origin funds
    today = today or business_date()
    # Reference data, not demo data: loaded here too so a fresh database can be seeded.
    if not units_loader.loaded(areas.fund_province()):
        units_loader.load(areas.fund_province())
        areas.forget()
    created: dict[str, int] = {}
    coop_ids: list[int] = []
    for index, (name, district, commune, sector, kind, members, rep) in enumerate(
        COOPERATIVES, start=1
    ):
        reg = f"2405{index:06d}" if kind in ("cooperative", "union") else f"24TV{index:06d}"
        coop = coops.create(
            None,
            {
                "name": name,
                "kind": kind,
                "registration_no": reg,
                "tax_code": _tax_code(index),
                "commune_code": _bac_giang_commune(district, commune),
                "former_district_code": district,
                "address": f"Thôn {VILLAGES[index % len(VILLAGES)]}",
                "sector": sector,
                "representative": rep,
                "phone": f"0912{index:06d}",
                "email": f"htx{index:02d}@example.vn",
                "members_count": members,
                "bank_account": f"8800{index:08d}",
                "bank_name": "Agribank chi nhánh Bắc Giang",
            },
            as_of=today,
            entered_on=REGISTERED_ON,
        )
        created[coop.registration_no] = coop.id
        coop_ids.append(coop.id)
    users: dict[str, User] = {}
    for username, role, label, reg in DEMO_USERS:
        users[username] = create_user(
            None,
            username,
            DEMO_PASSWORD,
            [role],
            full_name=label.split(" — ")[0],
            email=f"{username}@example.vn",
            cooperative_id=created[reg] if reg else None,
        )
    for when, source, amount, source_name, reference, note in CAPITAL:
        record_capital(users["ketoan"], source, amount, when, reference, note, source_name)
    db.session.flush()
    try:
        book = build_book(users, coop_ids, today)
    except LoanBookError as exc:
        raise DemoError(f"demo loans: {exc}") from exc
    try:
        bac_ninh = _bac_ninh_cooperatives(users["canbo"], today)
    except DomainError as exc:
        detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        raise DemoError(f"demo cooperatives of former Bắc Ninh: {exc.message} {detail}") from exc
    # The nightly close of day for the business date: overdue transfers, debt groups,
    # provisions and notices, as the fund would find them in the morning.
    closed = run_close_day(today, "demo")
    return [
        f"cooperatives: {len(COOPERATIVES)} of former Bắc Giang, "
        f"{len(bac_ninh)} of former Bắc Ninh",
        f"users: {len(DEMO_USERS)}",
        *_check_book(book, today),
        f"close of day {today:%d/%m/%Y}: {closed.counts}",
    ]


def _dong(amount: int) -> str:
    return f"{amount:,} đ".replace(",", ".")


def _check_book(book: Builder, today: date) -> list[str]:
    """The reported figures, asserted: 49 projects, 14.450 triệu outstanding, capital."""
    active = list(
        db.session.scalars(select(Loan).where(Loan.status == LoanStatus.ACTIVE).order_by(Loan.id))
    )
    outstanding = sum(loan.principal_outstanding for loan in active)
    position = fund_position()
    if len(active) != TARGET_PROJECTS:
        raise DemoError(f"demo book has {len(active)} active projects, not {TARGET_PROJECTS}")
    if outstanding != TARGET_OUTSTANDING or position.outstanding != TARGET_OUTSTANDING:
        raise DemoError(
            f"demo outstanding is {outstanding} (ledger {position.outstanding}), "
            f"not {TARGET_OUTSTANDING}"
        )
    if position.total_capital != TOTAL_CAPITAL:
        raise DemoError(f"demo capital is {position.total_capital}, not {TOTAL_CAPITAL}")
    check = check_invariants()
    if not check.ok:
        raise DemoError("demo fund check failed: " + "; ".join(check.problems))
    overdue = book.overdue(today)
    closed = db.session.scalar(select(func.count(Loan.id)).where(Loan.status == LoanStatus.CLOSED))
    return [
        f"projects (active loans): {len(active)}",
        f"cooperatives with loans: {len({loan.cooperative_id for loan in active})}",
        f"closed loans: {closed}",
        "overdue loans: "
        + f"{len(overdue)}"
        + (" (" + ", ".join(f"{c} {d} ngày" for c, d in overdue) + ")" if overdue else ""),
        f"outstanding: {_dong(outstanding)}",
        f"capital: {_dong(position.total_capital)}",
        f"cash: {_dong(position.cash)}",
        f"business date: {today:%d/%m/%Y}",
    ]
