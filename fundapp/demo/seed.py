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
from fundapp.demo.loans import (
    TARGET_OUTSTANDING,
    TARGET_PROJECTS,
    Builder,
    LoanBookError,
    build_book,
)
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.ledger.services import check_invariants, fund_position, record_capital
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

# name, district code, commune, sector, kind, members, representative
COOPERATIVES: tuple[tuple[str, str, str, str, str, int, str], ...] = (
    (
        "HTX Vải thiều Thanh Hà",
        "219",
        "Xã Hồng Giang",
        "Trồng vải thiều",
        "cooperative",
        42,
        "Nguyễn Văn Hà",
    ),
    (
        "HTX Gà đồi Đồng Tâm",
        "215",
        "Xã Đồng Tâm",
        "Chăn nuôi gà đồi",
        "cooperative",
        35,
        "Trần Văn Tâm",
    ),
    (
        "HTX Sâm Nam núi Dành",
        "216",
        "Xã Liên Chung",
        "Trồng sâm Nam núi Dành",
        "cooperative",
        18,
        "Lê Thị Dành",
    ),
    ("HTX Nấm Tân Dĩnh", "217", "Xã Tân Dĩnh", "Sản xuất nấm", "cooperative", 22, "Phạm Văn Nấm"),
    ("HTX Măng Sơn Động", "220", "Xã An Lạc", "Chế biến măng", "cooperative", 27, "Hoàng Thị Mai"),
    (
        "HTX Dịch vụ nông nghiệp Việt Yên",
        "222",
        "Xã Tăng Tiến",
        "Dịch vụ nông nghiệp",
        "cooperative",
        60,
        "Đỗ Văn Việt",
    ),
    (
        "HTX Rau an toàn Hiệp Hòa",
        "223",
        "Xã Mai Đình",
        "Trồng rau an toàn",
        "cooperative",
        31,
        "Vũ Thị Rau",
    ),
    ("HTX Cam Lục Ngạn", "219", "Xã Biên Sơn", "Trồng cam, bưởi", "cooperative", 25, "Ngô Văn Cam"),
    (
        "HTX Chè Yên Thế",
        "215",
        "Xã Tam Tiến",
        "Trồng và chế biến chè",
        "cooperative",
        29,
        "Bùi Thị Chè",
    ),
    (
        "HTX Thủy sản Yên Dũng",
        "221",
        "Xã Tư Mại",
        "Nuôi trồng thủy sản",
        "cooperative",
        19,
        "Đinh Văn Cá",
    ),
    (
        "HTX Mỳ Chũ Nam Dương",
        "218",
        "Xã Bắc Lũng",
        "Sản xuất mỳ Chũ",
        "cooperative",
        46,
        "Lý Văn Chũ",
    ),
    (
        "HTX Lợn sạch Lạng Giang",
        "217",
        "Xã Mỹ Thái",
        "Chăn nuôi lợn",
        "cooperative",
        24,
        "Trịnh Văn Lợn",
    ),
    (
        "HTX Dịch vụ môi trường TP Bắc Giang",
        "213",
        "Phường Dĩnh Kế",
        "Dịch vụ vệ sinh môi trường",
        "cooperative",
        38,
        "Phan Thị Xanh",
    ),
    (
        "HTX May mặc Thọ Xương",
        "213",
        "Phường Thọ Xương",
        "May mặc",
        "cooperative",
        55,
        "Tạ Thị May",
    ),
    (
        "HTX Gạo nếp cái hoa vàng Tân Yên",
        "216",
        "Xã Phúc Hòa",
        "Trồng lúa đặc sản",
        "cooperative",
        70,
        "Cao Văn Nếp",
    ),
    ("HTX Nấm Hiệp Hòa", "223", "Xã Đông Lỗ", "Sản xuất nấm", "cooperative", 16, "Dương Thị Nấm"),
    (
        "HTX Gà đồi Phồn Xương",
        "215",
        "Thị trấn Phồn Xương",
        "Chăn nuôi gà đồi",
        "cooperative",
        28,
        "Mai Văn Gà",
    ),
    (
        "HTX Vải sớm Phúc Hòa",
        "216",
        "Xã Phúc Sơn",
        "Trồng vải thiều",
        "cooperative",
        33,
        "Hà Thị Vải",
    ),
    (
        "HTX Dược liệu Sơn Động",
        "220",
        "Xã Tuấn Đạo",
        "Trồng dược liệu",
        "cooperative",
        21,
        "La Văn Dược",
    ),
    (
        "HTX Ong mật Lục Nam",
        "218",
        "Xã Lục Sơn",
        "Nuôi ong lấy mật",
        "cooperative",
        17,
        "Lương Văn Ong",
    ),
    (
        "HTX Dịch vụ nông nghiệp Yên Dũng",
        "221",
        "Xã Tiền Phong",
        "Dịch vụ nông nghiệp",
        "cooperative",
        64,
        "Kiều Văn Dũng",
    ),
    ("HTX Gốm Thổ Hà", "222", "Xã Vân Hà", "Sản xuất gốm", "cooperative", 26, "Nguyễn Thị Gốm"),
    (
        "HTX Bưởi Diễn Lục Ngạn",
        "219",
        "Xã Phượng Sơn",
        "Trồng cam, bưởi",
        "cooperative",
        23,
        "Trần Văn Bưởi",
    ),
    (
        "HTX Chăn nuôi bò Lạng Giang",
        "217",
        "Xã Hương Sơn",
        "Chăn nuôi bò",
        "cooperative",
        20,
        "Lê Văn Bò",
    ),
    ("HTX Hoa Đa Mai", "213", "Xã Đồng Sơn", "Trồng hoa", "cooperative", 15, "Phạm Thị Hoa"),
    (
        "HTX Rau hữu cơ Việt Yên",
        "222",
        "Xã Hương Mai",
        "Trồng rau an toàn",
        "cooperative",
        30,
        "Hoàng Văn Hữu",
    ),
    (
        "HTX Măng tre Yên Thế",
        "215",
        "Xã Xuân Lương",
        "Chế biến măng",
        "cooperative",
        19,
        "Đỗ Thị Tre",
    ),
    (
        "HTX Thủy sản Hiệp Hòa",
        "223",
        "Xã Châu Minh",
        "Nuôi trồng thủy sản",
        "cooperative",
        14,
        "Vũ Văn Thủy",
    ),
    (
        "HTX Nông sản sạch Lục Nam",
        "218",
        "Xã Bảo Sơn",
        "Trồng rau an toàn",
        "cooperative",
        36,
        "Ngô Thị Sạch",
    ),
    (
        "HTX Gỗ rừng trồng Sơn Động",
        "220",
        "Xã Yên Định",
        "Chế biến gỗ rừng trồng",
        "cooperative",
        40,
        "Bùi Văn Gỗ",
    ),
    (
        "Liên hiệp HTX Nông sản Bắc Giang",
        "213",
        "Phường Xương Giang",
        "Tiêu thụ nông sản",
        "union",
        6,
        "Đinh Thị Liên",
    ),
    (
        "HTX Chè Tân Yên",
        "216",
        "Xã Lam Cốt",
        "Trồng và chế biến chè",
        "cooperative",
        24,
        "Lý Văn Lam",
    ),
    (
        "HTX Dâu tằm Yên Dũng",
        "221",
        "Xã Lãng Sơn",
        "Trồng dâu nuôi tằm",
        "cooperative",
        18,
        "Trịnh Thị Tằm",
    ),
    (
        "HTX Vải thiều Tân Mộc",
        "219",
        "Xã Tân Mộc",
        "Trồng vải thiều",
        "cooperative",
        39,
        "Phan Văn Mộc",
    ),
    (
        "HTX Dịch vụ nông nghiệp Hiệp Hòa",
        "223",
        "Xã Hoàng An",
        "Dịch vụ nông nghiệp",
        "cooperative",
        58,
        "Tạ Văn An",
    ),
    (
        "HTX Chăn nuôi Tiên Lục",
        "217",
        "Xã Tiên Lục",
        "Chăn nuôi gà đồi",
        "cooperative",
        22,
        "Cao Thị Lục",
    ),
    (
        "HTX Nấm linh chi Lục Nam",
        "218",
        "Xã Cẩm Lý",
        "Sản xuất nấm",
        "cooperative",
        12,
        "Dương Văn Chi",
    ),
    (
        "HTX Sâm Nam Việt Yên",
        "222",
        "Xã Nghĩa Trung",
        "Trồng sâm Nam núi Dành",
        "cooperative",
        11,
        "Mai Thị Sâm",
    ),
    (
        "HTX Chế biến nông sản Sơn Động",
        "220",
        "Thị trấn An Châu",
        "Chế biến nông sản",
        "cooperative",
        25,
        "Hà Văn Châu",
    ),
    (
        "HTX Thanh long Yên Dũng",
        "221",
        "Xã Đồng Phúc",
        "Trồng cây ăn quả",
        "cooperative",
        13,
        "La Thị Long",
    ),
    (
        "Nguyễn Văn Khoa (thành viên HTX Vải thiều Thanh Hà)",
        "219",
        "Xã Hồng Giang",
        "Trồng vải thiều",
        "coop_member",
        1,
        "Nguyễn Văn Khoa",
    ),
    (
        "Trần Thị Hường (thành viên tổ hợp tác gà đồi Tam Hiệp)",
        "215",
        "Xã Tam Hiệp",
        "Chăn nuôi gà đồi",
        "group_member",
        1,
        "Trần Thị Hường",
    ),
)

# The fund's capital as reported: 17.547 triệu đồng in all.
CAPITAL: tuple[tuple[date, str, int, str, str, str], ...] = (
    (
        date(2011, 3, 15),
        "charter",
        5_000_000_000,
        "",
        "QĐ 245/QĐ-UBND",
        "Vốn điều lệ ban đầu do ngân sách tỉnh cấp",
    ),
    (
        date(2014, 6, 20),
        "charter",
        3_000_000_000,
        "",
        "QĐ 812/QĐ-UBND",
        "Ngân sách tỉnh cấp bổ sung vốn điều lệ",
    ),
    (
        date(2017, 9, 12),
        "charter",
        4_000_000_000,
        "",
        "QĐ 1320/QĐ-UBND",
        "Ngân sách tỉnh cấp bổ sung vốn điều lệ",
    ),
    (
        date(2019, 5, 10),
        "entrusted",
        2_000_000_000,
        "Quỹ hỗ trợ phát triển HTX Trung ương",
        "HĐ 15/2019/HĐUT",
        "Vốn nhận ủy thác cho vay HTX nông nghiệp",
    ),
    (
        date(2020, 12, 1),
        "grant",
        547_000_000,
        "",
        "TT-2020/TTRO",
        "Tài trợ của dự án hỗ trợ HTX nông nghiệp",
    ),
    (
        date(2026, 3, 16),
        "charter",
        3_000_000_000,
        "",
        "QĐ 356/QĐ-UBND",
        "Vốn bổ sung năm 2026 để cho vay",
    ),
)
TOTAL_CAPITAL = 17_547_000_000


# The day the Bắc Giang cooperatives' addresses were entered, with the 2021 units.
REGISTERED_ON = date(2021, 3, 1)

# name, today's commune (former Bắc Ninh province), sector, representative, project
BAC_NINH_COOPERATIVES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "HTX Gốm Phù Lãng",
        "Phường Quế Võ",
        "Gốm mỹ nghệ",
        "Nguyễn Văn Lãng",
        "Lò nung gốm tiết kiệm năng lượng",
    ),
    (
        "HTX Rau an toàn Gia Bình",
        "Xã Gia Bình",
        "Trồng rau an toàn",
        "Trần Thị Bình",
        "Nhà màng trồng rau an toàn",
    ),
    (
        "HTX Tranh Đông Hồ Thuận Thành",
        "Phường Thuận Thành",
        "Thủ công mỹ nghệ",
        "Lê Văn Hồ",
        "Xưởng in tranh dân gian",
    ),
    (
        "HTX Lúa gạo Lương Tài",
        "Xã Lương Tài",
        "Dịch vụ nông nghiệp",
        "Phạm Thị Tài",
        "Máy sấy và kho lúa",
    ),
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
    from fundapp.lending import services as lending

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
        application = lending.create_application(
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
            lending.submit(officer, application)
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
    from fundapp.funds.services import ensure_own

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


VILLAGES = ("Đông", "Tây", "Nam", "Bắc", "Trung", "Thượng", "Hạ", "Mới")
