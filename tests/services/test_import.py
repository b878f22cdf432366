"""Importing existing loans from the spreadsheet template: the parser, the dry run, the
import in one transaction, and the demo fund's 49 loans rebuilt to the đồng."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from fundapp.audit.models import AuditLog
from fundapp.cooperatives.models import Cooperative
from fundapp.domain.errors import PermissionDenied
from fundapp.extensions import db
from fundapp.imports import services
from fundapp.imports.cells import CellError, day, money, pairs, rate
from fundapp.imports.columns import COLUMNS
from fundapp.imports.parser import ImportFileError, parse
from fundapp.imports.template import csv_bytes, xlsx_bytes
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry, JournalLine
from fundapp.ledger.services import record_capital
from fundapp.loans import store
from fundapp.loans.models import Disbursement, Loan, LoanTransition, Repayment
from fundapp.policy.services import install_defaults
from tests.conftest import BUSINESS_DATE, api_token, fresh_database, make_app, make_user
from tests.data.make_import_files import GOOD, HAND_CHECKED_CSV
from tests.services.lending_helpers import contracted_loan, fund_and_staff

DATA = Path(__file__).resolve().parent.parent / "data"
MAX = services.DEFAULT_MAX_BYTES


def table_counts() -> dict[str, int]:
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t)) or 0
        for t in db.metadata.sorted_tables
    }


def csv_file(rows: list[dict[str, Any]]) -> bytes:
    return csv_bytes(rows)


def row(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


# --- cells -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (1_500_000_000, 1_500_000_000),  # an Excel integer cell
        (1_500_000_000.0, 1_500_000_000),  # an Excel number that happens to be whole
        ("1.500.000.000", 1_500_000_000),
        ("1500000000", 1_500_000_000),
        ("1,500,000,000", 1_500_000_000),
        ("1 500 000 000", 1_500_000_000),
        ("1.500.000.000 đ", 1_500_000_000),
        (" 120000000 ", 120_000_000),
    ],
)
def test_money_cells_accepted(cell: Any, expected: int) -> None:
    value = money(cell)
    assert value == expected and type(value) is int


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        (1_500_000_000.5, "phần thập phân"),
        (0.1, "phần thập phân"),
        ("1500000000.5", "số nguyên đồng"),
        ("1.500.000,5", "số nguyên đồng"),
        ("một tỷ", "số nguyên đồng"),
        ("-50000000", "lớn hơn 0"),
        (-50_000_000, "lớn hơn 0"),
        (0, "lớn hơn 0"),
        ("0", "lớn hơn 0"),
        (-1.0, "lớn hơn 0"),
        (True, "số nguyên đồng"),
        (10**16, "quá lớn"),
        (float("nan"), "phần thập phân"),
    ],
)
def test_money_cells_refused(cell: Any, problem: str) -> None:
    with pytest.raises(CellError, match=problem):
        money(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (datetime(2026, 1, 5), date(2026, 1, 5)),
        (date(2026, 1, 5), date(2026, 1, 5)),
        ("2026-01-05", date(2026, 1, 5)),
        ("05/01/2026", date(2026, 1, 5)),
        ("5/1/2026", date(2026, 1, 5)),
        ("2026-01-05 00:00:00", date(2026, 1, 5)),
    ],
)
def test_date_cells_accepted(cell: Any, expected: date) -> None:
    assert day(cell) == expected


@pytest.mark.parametrize(
    "cell",
    ["2026-02-30", "30/02/2026", "05-01-2026", "hôm qua", 46027, 46027.0, datetime(2026, 1, 5, 9)],
)
def test_date_cells_refused(cell: Any) -> None:
    with pytest.raises(CellError):
        day(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [(7.2, Decimal("7.2")), ("7,2", Decimal("7.2")), ("6", Decimal("6")), (6, Decimal("6"))],
)
def test_rate_cells(cell: Any, expected: Decimal) -> None:
    assert rate(cell) == expected


@pytest.mark.parametrize("cell", ["bảy", "101", "-1", "7.2%"])
def test_rate_cells_refused(cell: Any) -> None:
    with pytest.raises(CellError):
        rate(cell)


def test_payment_cells() -> None:
    got = pairs("2026-02-05:10.733.808; 05/03/2026 : 10607562\n2026-04-05:1")
    assert [(p.date, p.amount) for p in got] == [
        (date(2026, 2, 5), 10_733_808),
        (date(2026, 3, 5), 10_607_562),
        (date(2026, 4, 5), 1),
    ]
    for bad in ("2026-02-05", "2026-02-05:-5", "2026-02-31:100", "2026-02-05:1,5"):
        with pytest.raises(CellError):
            pairs(bad)


# --- lines and files ---------------------------------------------------------------------------


def reasons_of(data: bytes, name: str = "f.csv") -> dict[int, list[str]]:
    return {p.line: p.reasons for p in parse(data, name, BUSINESS_DATE, MAX) if p.reasons}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"district": "Hà Đông"}, ["huyện “Hà Đông” không có trong danh mục"]),
        ({"district": "TP Bắc Giang"}, []),
        ({"district": "huyện lục ngạn"}, []),
        ({"cooperative_kind": "hộ gia đình"}, ["loại hình “hộ gia đình” không hợp lệ"]),
        ({"principal_method": "trả dần"}, ["phương thức trả gốc “trả dần” không hợp lệ"]),
        ({"annual_rate": "bảy"}, ["lãi suất “bảy” phải là số phần trăm, ví dụ 7.2"]),
        (
            {"disbursement_date": "2026-11-21"},
            ["ngày giải ngân 21/11/2026 sau ngày làm việc 20/11/2026"],
        ),
        ({"contract_no": ""}, ["thiếu số hợp đồng"]),
        (
            {"amount": "1500000000.5"},
            ["số tiền vay “1500000000.5” phải là số nguyên đồng (ví dụ 1.500.000.000)"],
        ),
        (
            {"payments": "2025-03-01:5000000"},
            ["lần trả ngày 01/03/2025 trước ngày giải ngân 10/03/2025"],
        ),
        (
            {"payments": "2025-06-10:5000000; 2026-11-21:5000000"},
            ["lần trả ngày 21/11/2026 sau ngày làm việc 20/11/2026"],
        ),
        ({"principal_every_months": 2}, ["kỳ trả gốc: Kỳ hạn trả là 1, 3, 6 hoặc 12 tháng"]),
        (
            {"custom_schedule": "2025-09-10:150000000"},
            ["lịch trả gốc tự nhập chỉ dùng với phương thức custom"],
        ),
        (
            {"principal_method": "custom", "custom_schedule": "2025-09-10:100000000"},
            ["lịch trả gốc tự nhập: Tổng số gốc theo lịch tự nhập phải bằng số tiền vay"],
        ),
        (
            {"tranches": "2025-03-10:100000000; 2025-05-10:60000000"},
            ["các đợt giải ngân: tổng 160.000.000 đ vượt số tiền vay 150.000.000 đ"],
        ),
        ({"tax_code": "12345"}, ["mã số thuế “12345” phải gồm 10 hoặc 13 chữ số"]),
    ],
)
def test_each_reason_of_a_line(app: Any, changes: dict[str, Any], expected: list[str]) -> None:
    assert reasons_of(csv_file([row(**changes)])).get(2, []) == expected


def test_one_message_names_every_reason_of_the_line(app: Any) -> None:
    data = csv_file([row(), row(contract_no="CU-9", district="Hà Đông", amount=0)])
    report = services.dry_run(fund_and_staff().accountant, data, "f.csv", BUSINESS_DATE)
    assert [r.message for r in report.bad_rows] == [
        "Dòng 3: huyện “Hà Đông” không có trong danh mục; số tiền vay phải lớn hơn 0"
    ]


def test_header_errors_are_one_message_and_nothing_else_is_read(app: Any) -> None:
    with pytest.raises(ImportFileError) as refused:
        parse((DATA / "loans_wrong_column.csv").read_bytes(), "x.csv", BUSINESS_DATE, MAX)
    assert refused.value.message == (
        "Dòng 1 (tiêu đề): cột “Số tiền” không có trong mẫu; thiếu cột “Số tiền vay”. "
        "Hãy dùng tệp mẫu."
    )
    twice = ("Số hợp đồng,Số hợp đồng\r\n").encode()
    with pytest.raises(ImportFileError, match="cột “Số hợp đồng” lặp lại"):
        parse(twice, "x.csv", BUSINESS_DATE, MAX)


def test_the_ascii_keys_and_a_semicolon_csv_are_read(app: Any) -> None:
    keys = ";".join(c.key for c in COLUMNS if c.required)
    values = "HTX A;2405000999;219;K-1;Dự án;120.000.000;2026-01-05;12;7,2;annuity"
    lines = parse(f"{keys}\n{values}\n".encode(), "k.csv", BUSINESS_DATE, MAX)
    loan = lines[0].row
    assert loan is not None and lines[0].reasons == []
    assert (loan.amount, loan.terms.annual_rate, loan.terms.principal_method) == (
        120_000_000,
        Decimal("7.2"),
        "annuity",
    )
    assert loan.cooperative.kind == "cooperative"  # the default
    assert loan.tranches[0].amount == 120_000_000 and loan.payments == ()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "a.csv", "Tệp rỗng."),
        (b"Ten;So\n", "a.txt", "Chỉ nhận tệp Excel (.xlsx) hoặc CSV (.csv) theo mẫu."),
        (b"not a zip at all", "a.xlsx", "không phải bảng tính Excel hợp lệ"),
        (b"PK\x03\x04broken zip", "a.xlsx", "không phải bảng tính Excel hợp lệ"),
        (b"T\xean h\xe1p\n", "a.csv", "mã UTF-8"),
        (b"a,b\x00c\n", "a.csv", "ký tự không hợp lệ"),
        (b"x" * (MAX + 1), "a.csv", "Tệp quá lớn: tối đa 10 MB."),
    ],
)
def test_files_refused_whole(app: Any, data: bytes, name: str, message: str) -> None:
    with pytest.raises(ImportFileError, match=re.escape(message)):
        parse(data, name, BUSINESS_DATE, MAX)


def test_lines_keep_the_spreadsheets_numbers_across_blank_rows(app: Any) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([c.header for c in COLUMNS])
    sheet.append([GOOD.get(c.key) for c in COLUMNS])
    sheet.cell(row=6, column=1, value="HTX Dòng sáu")  # rows 3–5 left empty
    for index, column in enumerate(COLUMNS, start=1):
        if column.key != "cooperative_name":
            sheet.cell(row=6, column=index, value={**GOOD, "district": "Hà Đông"}.get(column.key))
    out = io.BytesIO()
    workbook.save(out)
    lines = parse(out.getvalue(), "f.xlsx", BUSINESS_DATE, MAX)
    assert [(p.line, p.reasons) for p in lines] == [
        (2, []),
        (
            6,
            [
                "huyện “Hà Đông” không có trong danh mục",
                "số hợp đồng “CU-2025-001” trùng với dòng 2",
                "số đăng ký “2405900001” ở dòng 2 mang tên “HTX Rau sạch Tư Mại”, khác tên "
                "“HTX Dòng sáu”",
            ],
        ),
    ]


def test_at_most_5000_loans_a_file(app: Any) -> None:
    header = ",".join(c.header for c in COLUMNS)
    line = csv_file([row()]).decode("utf-8-sig").splitlines()[1]
    blank = "," * (len(COLUMNS) - 1)
    many = "\n".join([header, *[line] * 5000, *[blank] * 100]).encode()
    assert len(parse(many, "f.csv", BUSINESS_DATE, MAX)) == 5000
    with pytest.raises(ImportFileError, match="tối đa 5000"):
        parse(many + ("\n" + line).encode(), "f.csv", BUSINESS_DATE, MAX)


def test_a_zip_that_is_not_a_workbook_is_refused(app: Any) -> None:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "xin chào")
    with pytest.raises(ImportFileError, match="không phải bảng tính Excel"):
        parse(out.getvalue(), "a.xlsx", BUSINESS_DATE, MAX)


def test_formulas_are_not_evaluated(app: Any) -> None:
    book_ = Workbook()
    sheet = book_.active
    sheet.append([c.header for c in COLUMNS])
    sheet.append([GOOD.get(c.key) for c in COLUMNS])
    sheet["I2"] = "=100000000*1.5"  # the amount column, as a formula never calculated
    out = io.BytesIO()
    book_.save(out)
    assert reasons_of(out.getvalue(), "f.xlsx") == {2: ["thiếu số tiền vay"]}


def test_the_template_has_the_headers_and_a_help_sheet(app: Any) -> None:
    workbook = load_workbook(io.BytesIO(xlsx_bytes()))
    assert workbook.sheetnames == ["Khoản vay", "Hướng dẫn"]
    headers = [c.value for c in workbook["Khoản vay"][1]]
    assert headers == [c.header for c in COLUMNS]
    help_text = " ".join(
        str(c.value) for r in workbook["Hướng dẫn"].iter_rows() for c in r if c.value
    )
    for column in COLUMNS:
        assert column.header in help_text and column.key in help_text
    assert "equal_principal" in help_text and "custom" in help_text
    raw = csv_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").splitlines() == [",".join(c.header for c in COLUMNS)]
    # The example row of the help sheet is itself a valid line.
    example = {c.key: c.example for c in COLUMNS if c.key not in ("custom_schedule", "tranches")}
    assert reasons_of(csv_file([example])) == {}


def test_text_that_looks_like_a_formula_stays_text(app: Any) -> None:
    data = csv_file([row(project_name="=HYPERLINK(1)")])
    assert b"'=HYPERLINK(1)" in data
    assert parse(data, "f.csv", BUSINESS_DATE, MAX)[0].row.project_name == "=HYPERLINK(1)"
    sheet = load_workbook(io.BytesIO(xlsx_bytes([row(project_name="=HYPERLINK(1)")])))
    cell = sheet["Khoản vay"]["H2"]
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"


# --- the dry run and the import ----------------------------------------------------------------


def test_dry_run_reports_and_writes_nothing(app: Any) -> None:
    staff = fund_and_staff(capital=1_000_000_000)
    before = table_counts()
    report = services.dry_run(
        staff.accountant, HAND_CHECKED_CSV.encode(), "hai-khoan.csv", BUSINESS_DATE
    )
    assert report.ok and not report.imported and report.dry_run
    assert [(r.line, r.contract_no, r.principal_outstanding) for r in report.rows] == [
        (2, "CU-2026-101", 90_000_000),
        (3, "CU-2026-102", 200_000_000),
    ]
    assert report.cooperatives_created == 2
    # 15 % of 1.000.000.000 đ charter capital is 150.000.000 đ: the 200 million loan breaks
    # the single-borrower limit. The loan exists already, so it is a warning, not a refusal.
    assert report.rows[0].warnings == ()
    assert len(report.rows[1].warnings) == 1 and "150.000.000 đ" in report.rows[1].warnings[0]
    db.session.commit()
    assert table_counts() == before


def test_import_rebuilds_two_loans_checked_by_hand(app: Any, runner: Any, client: Any) -> None:
    staff = fund_and_staff()
    report = services.import_loans(
        staff.accountant, HAND_CHECKED_CSV.encode(), "hai-khoan.csv", BUSINESS_DATE
    )
    db.session.commit()
    assert report.imported, [r.message for r in report.bad_rows]
    a, b = (
        db.session.scalar(select(Loan).where(Loan.contract_no == c))
        for c in ("CU-2026-101", "CU-2026-102")
    )

    # Line 2: 120.000.000 đ at 7,2 %, equal principal of 10.000.000 đ monthly from 05/08/2026.
    # Interest on the balance, actual/365, rounded once per instalment:
    #   05/08–05/09, 31 days on 120.000.000: 120e6 × 0,072 × 31 / 365 = 733.808,22 → 733.808
    #   05/09–05/10, 30 days on 110.000.000: 110e6 × 0,072 × 30 / 365 = 650.958,90 → 650.959
    #   05/10–05/11, 31 days on 100.000.000: 100e6 × 0,072 × 31 / 365 = 611.506,85 → 611.507
    # Paid exactly on the due dates: 10.733.808, 10.650.959, 10.611.507 → 90.000.000 left.
    assert (a.principal_outstanding, a.principal_paid, a.interest_paid) == (
        90_000_000,
        30_000_000,
        733_808 + 650_959 + 611_507,
    )
    assert (a.annual_rate, a.principal_method, a.term_months) == (
        Decimal("7.2"),
        "equal_principal",
        12,
    )
    first = db.session.scalar(
        select(Repayment).where(Repayment.loan_id == a.id).order_by(Repayment.value_date)
    )
    assert first.allocations == [
        {"no": 1, "component": "interest", "amount": 733_808},
        {"no": 1, "component": "principal", "amount": 10_000_000},
    ]

    # Line 3: 200.000.000 đ at 6 %, principal at maturity, interest every 3 months from
    # 10/02/2026: 89 days to 10/05 → 200e6 × 0,06 × 89 / 365 = 2.926.027,40 → 2.926.027;
    # 92 days to 10/08 → 3.024.657,53 → 3.024.658, both paid; 92 days to 10/11 → 3.024.658,
    # unpaid: 10 days past due on 20/11, with late interest of 3.024.658 × 10 % × 10 / 365
    # = 8.286,73 → 8.287 đ.
    balances = store.replay(b).balances(BUSINESS_DATE)
    assert (
        balances.principal_outstanding,
        balances.principal_overdue,
        balances.interest_overdue,
        balances.penalty_due,
        balances.days_past_due,
    ) == (200_000_000, 0, 3_024_658, 8_287, 10)
    assert b.interest_paid == 2_926_027 + 3_024_658

    # Receipts numbered in date order across the file; postings dated on the events.
    receipts = db.session.execute(
        select(Repayment.value_date, Repayment.receipt_no).order_by(Repayment.receipt_no)
    ).all()
    assert receipts == [
        (date(2026, 5, 10), "PT-2026-000001"),
        (date(2026, 8, 10), "PT-2026-000002"),
        (date(2026, 9, 5), "PT-2026-000003"),
        (date(2026, 10, 5), "PT-2026-000004"),
        (date(2026, 11, 5), "PT-2026-000005"),
    ]
    tranche = db.session.scalar(select(Disbursement).where(Disbursement.loan_id == a.id))
    assert (tranche.status, tranche.value_date, tranche.receipt_no) == (
        "posted",
        date(2026, 8, 5),
        "KU-2026-0002",
    )
    assert tranche.recorded_by_id == staff.accountant.id and tranche.approved_by_id is None
    entry = db.session.get(JournalEntry, tranche.journal_entry_id)
    assert entry.entry_date == date(2026, 8, 5)
    lines = {(line.account, line.debit, line.credit) for line in entry.lines}
    assert lines == {(acc.LOANS_IN_TERM, 120_000_000, 0), (acc.CASH, 0, 120_000_000)}
    cash_moved = db.session.scalar(
        select(func.sum(JournalLine.debit - JournalLine.credit)).where(
            JournalLine.account == acc.CASH, JournalLine.loan_id.is_not(None)
        )
    )
    assert cash_moved == -320_000_000 + 3 * 10_000_000 + 1_996_274 + 5_950_685

    # Cooperatives created, the loans contracted and active, everything audited as imported.
    coop = db.session.scalar(select(Cooperative).where(Cooperative.registration_no == "2405910002"))
    assert (coop.kind, coop.former_district_code, coop.tax_code) == ("union", "215", "2409100002")
    transitions = db.session.scalars(
        select(LoanTransition.to_status)
        .where(LoanTransition.entity == "loan", LoanTransition.entity_id == a.id)
        .order_by(LoanTransition.id)
    ).all()
    assert transitions == ["approved", "contracted", "active"]
    assert (a.contract_date, a.approved_on, a.application_id) == (date(2026, 8, 5),) * 2 + (None,)
    assert a.policy_snapshot["overdue_rate_pct"] == "150"
    actions = db.session.scalars(select(AuditLog.action)).all()
    assert actions.count("loan.import") == 2 and actions.count("disbursement.import") == 2
    batch = db.session.scalar(select(AuditLog).where(AuditLog.action == "loans.import"))
    assert batch.username == staff.accountant.username
    assert batch.after["file"] == "hai-khoan.csv" and batch.after["rows"] == 2
    assert batch.after["loans"] == ["CU-2026-101", "CU-2026-102"]

    check = runner.invoke(args=["fund", "check"])
    assert check.exit_code == 0, check.output

    # The API shows them like any loan.
    director = make_user("director")
    headers = api_token(client, director)
    got = client.get(f"/api/v1/loans/{a.id}", headers=headers).get_json()
    assert got["balances"]["principal_outstanding"] == 90_000_000


def test_a_row_the_engine_refuses_fails_the_whole_file(app: Any) -> None:
    staff = fund_and_staff()
    # 100.000.000 đ lent on 02/03/2026; ten days later everything owed is the principal and
    # 100e6 × 6 % × 10 / 365 = 164.383,56 → 164.384 đ of interest, well under 101.000.000.
    overpaid = (
        "HTX Trả thừa,htx,2405910003,2409100003,219,Trồng vải,CU-2026-103,Vườn vải,"
        "100000000,2026-03-02,12,6,bullet,12,3,2026-03-12:101000000\r\n"
    )
    data = (HAND_CHECKED_CSV + overpaid).encode()
    before = table_counts()
    report = services.import_loans(staff.accountant, data, "f.csv", BUSINESS_DATE)
    db.session.commit()
    assert not report.imported and not report.ok
    assert [r.message for r in report.bad_rows] == [
        "Dòng 4: lần trả ngày 12/03/2026 (101.000.000 đ): Số tiền trả vượt quá toàn bộ số phải "
        "trả của khoản vay tại ngày đó"
    ]
    assert [r.ok for r in report.rows] == [True, True, False]
    assert table_counts() == before


def test_a_payment_total_beyond_anything_owed_is_refused_before_the_run(app: Any) -> None:
    staff = fund_and_staff()
    data = csv_file([row(payments="2025-06-10:500000000")])
    report = services.dry_run(staff.accountant, data, "f.csv", BUSINESS_DATE)
    assert len(report.bad_rows) == 1
    assert report.bad_rows[0].message.startswith(
        "Dòng 2: tổng các lần đã trả 500.000.000 đ vượt số tối đa khoản vay có thể phải trả"
    )


def test_the_fund_must_have_the_cash_on_the_day_of_each_tranche(app: Any) -> None:
    install_defaults()
    record_capital(None, "charter", 5_000_000_000, date(2026, 6, 1))
    accountant = make_user("accountant")
    report = services.dry_run(accountant, HAND_CHECKED_CSV.encode(), "f.csv", BUSINESS_DATE)
    assert [r.message for r in report.bad_rows] == [
        "Dòng 3: đợt giải ngân ngày 10/02/2026: Quỹ không đủ tiền: còn 0 đ"
    ]


def test_a_file_beyond_the_funds_cash_is_one_message(app: Any) -> None:
    install_defaults()
    record_capital(None, "charter", 100_000_000, date(2020, 1, 1))
    accountant = make_user("accountant")
    before = table_counts()
    report = services.import_loans(accountant, HAND_CHECKED_CSV.encode(), "f.csv", BUSINESS_DATE)
    db.session.commit()
    # 120e6 + 200e6 lent, 31.996.274 + 5.950.685 paid back: 282.053.041 đ needed.
    assert report.error == (
        "Quỹ không đủ vốn cho các khoản vay trong tệp: số giải ngân trừ số đã thu là "
        "282.053.041 đ, tiền của Quỹ hiện có 100.000.000 đ. Hãy ghi nhận các nguồn vốn (với "
        "ngày nhận thực tế) trước khi nhập."
    )
    assert not report.imported and table_counts() == before


def test_cooperatives_and_contracts_already_in_the_fund(app: Any) -> None:
    staff = fund_and_staff()
    from tests.conftest import make_cooperative

    same = make_cooperative(name="HTX Rau sạch Tư Mại", registration_no="2405900001")
    make_cooperative(name="HTX Khác tên", registration_no="2405900002")
    existing = contracted_loan(staff)
    data = csv_file(
        [
            row(tax_code=""),  # known by its registration number: no tax code needed
            row(contract_no="CU-2", registration_no="2405900002", tax_code=""),
            row(contract_no=existing.contract_no, registration_no="2405900003", tax_code=""),
            row(contract_no="CU-4", registration_no="2405900004", tax_code=same.tax_code),
        ]
    )
    report = services.dry_run(staff.accountant, data, "f.csv", BUSINESS_DATE)
    assert report.cooperatives_created == 0
    assert report.rows[0].ok
    assert [r.message for r in report.bad_rows] == [
        "Dòng 3: số đăng ký “2405900002” đã có trong hệ thống với tên “HTX Khác tên”, khác tên "
        "trong tệp",
        f"Dòng 4: số hợp đồng “{existing.contract_no}” đã có trong hệ thống; thiếu mã số thuế "
        "(bắt buộc với hợp tác xã mới)",
        f"Dòng 5: mã số thuế {same.tax_code} đã thuộc hợp tác xã “HTX Rau sạch Tư Mại”",
    ]


def test_the_same_cooperative_on_several_lines_is_created_once(app: Any) -> None:
    staff = fund_and_staff()
    data = csv_file(
        [
            row(),
            row(contract_no="CU-2", tax_code=""),
            row(contract_no="CU-3", cooperative_name="HTX Tên khác"),
        ]
    )
    report = services.dry_run(staff.accountant, data, "f.csv", BUSINESS_DATE)
    assert [r.message for r in report.bad_rows] == [
        "Dòng 4: số đăng ký “2405900001” ở dòng 2 mang tên “HTX Rau sạch Tư Mại”, khác tên "
        "“HTX Tên khác”"
    ]
    ok = services.dry_run(
        staff.accountant, csv_file([row(), row(contract_no="CU-2")]), "f.csv", BUSINESS_DATE
    )
    assert ok.ok and ok.cooperatives_created == 1


def test_only_an_accountant_imports(app: Any) -> None:
    staff = fund_and_staff()
    with pytest.raises(PermissionDenied):
        services.dry_run(staff.officer, HAND_CHECKED_CSV.encode(), "f.csv", BUSINESS_DATE)


def test_the_error_file_gets_one_message_per_bad_row_and_writes_nothing(app: Any) -> None:
    staff = fund_and_staff()
    before = table_counts()
    for name in ("loans_errors.xlsx", "loans_errors.csv"):
        report = services.import_loans(
            staff.accountant, (DATA / name).read_bytes(), name, BUSINESS_DATE
        )
        db.session.commit()
        assert not report.imported
        assert [r.message for r in report.bad_rows] == [
            "Dòng 3: huyện “Hà Đông” không có trong danh mục",
            "Dòng 4: số tiền vay phải lớn hơn 0",
            "Dòng 5: các lần đã trả không theo thứ tự ngày: 10/06/2025 đứng sau 10/09/2025",
            "Dòng 6: số hợp đồng “CU-2025-001” trùng với dòng 2",
            "Dòng 7: huyện “Quận 1” không có trong danh mục; số tiền vay phải lớn hơn 0",
        ]
        wrong = services.import_loans(
            staff.accountant,
            (DATA / name.replace("errors", "wrong_column")).read_bytes(),
            name,
            BUSINESS_DATE,
        )
        assert wrong.error.startswith("Dòng 1 (tiêu đề): cột “Số tiền” không có trong mẫu")
        assert wrong.rows == ()
        db.session.commit()
    assert table_counts() == before


def test_cli_dry_run_and_refusal_exit_codes(app: Any, runner: Any, tmp_path: Path) -> None:
    staff = fund_and_staff()
    good = tmp_path / "hai-khoan.csv"
    good.write_text(HAND_CHECKED_CSV, encoding="utf-8")
    # Two accountants: the command must be told which one imports.
    make_user("accountant")
    unnamed = runner.invoke(args=["loans", "import", str(good), "--dry-run"])
    assert unnamed.exit_code != 0 and "--user" in unnamed.output
    user = staff.accountant.username
    checked = runner.invoke(args=["loans", "import", str(good), "--dry-run", "--user", user])
    assert checked.exit_code == 0, checked.output
    assert "line 2: OK CU-2026-101 outstanding 90.000.000 đ (active)" in checked.output
    assert db.session.scalar(select(func.count(Loan.id))) == 0
    bad = runner.invoke(args=["loans", "import", str(DATA / "loans_errors.csv"), "--user", user])
    assert bad.exit_code == 1
    assert "Dòng 4: số tiền vay phải lớn hơn 0" in bad.output
    done = runner.invoke(args=["loans", "import", str(good), "--user", user])
    assert done.exit_code == 0, done.output
    assert "Đã nhập 2 khoản vay, dư nợ gốc 290.000.000 đ." in done.output


# --- the demo fund's 49 loans ----------------------------------------------------------------

BALANCE_KEYS = (
    "principal_outstanding",
    "principal_overdue",
    "interest_due",
    "interest_overdue",
    "penalty_due",
    "days_past_due",
    "debt_group",
)


def _api_balances(app: Any) -> dict[str, dict[str, Any]]:
    client = app.test_client()
    headers = api_token(client, make_user("director"))
    out = {}
    for loan in db.session.scalars(select(Loan).where(Loan.status == "active")):
        got = client.get(f"/api/v1/loans/{loan.id}", headers=headers).get_json()
        out[loan.contract_no] = {
            **{k: got["balances"][k] for k in BALANCE_KEYS},
            "group_after_close": loan.debt_group,
            "method": loan.principal_method,
            "extensions": loan.extensions,
        }
    return out


def test_the_49_demo_loans_import_to_the_dong() -> None:
    from fundapp.demo.data import CAPITAL
    from fundapp.demo.seed import seed
    from fundapp.imports.export import loan_book

    with fresh_database(make_app()) as demo:
        seed()
        db.session.commit()
        expected = _api_balances(demo)
        exported = loan_book()
        # The prepared file is this export (regenerate it with
        # `python -m tests.data.make_import_files` when the demo changes).
        prepared = (DATA / "loans_49.xlsx").read_bytes()
        assert [p.row for p in parse(xlsx_bytes(exported.rows), "a.xlsx", BUSINESS_DATE, MAX)] == [
            p.row for p in parse(prepared, "b.xlsx", BUSINESS_DATE, MAX)
        ]
        assert exported.notes == []
    assert len(expected) == 49

    with fresh_database(make_app()) as fresh:
        install_defaults()
        for when, source, amount, source_name, reference, note in CAPITAL:
            record_capital(None, source, amount, when, reference, note, source_name)
        accountant = make_user("accountant")
        runner = fresh.test_cli_runner()
        result = runner.invoke(
            args=["loans", "import", str(DATA / "loans_49.xlsx"), "--user", accountant.username]
        )
        assert result.exit_code == 0, result.output[-2000:]
        assert "Đã nhập 49 khoản vay, dư nợ gốc 14.450.000.000 đ." in result.output
        check = runner.invoke(args=["fund", "check"])
        assert check.exit_code == 0, check.output
        closed = runner.invoke(args=["close-day"])
        assert closed.exit_code == 0, closed.output
        got = _api_balances(fresh)

    assert sum(v["principal_outstanding"] for v in got.values()) == 14_450_000_000
    # The demo's restructured loan (an extension of 12 months) has no restructuring rows in
    # the template: it is exported with its current terms, its schedule after the extension
    # as a custom plan up to the new maturity, and its one extension as a count, which keeps
    # the debt-group floor. Its balances match like the others'; only the method differs.
    restructured = [c for c, v in expected.items() if v["extensions"]]
    assert len(restructured) == 1
    for contract in restructured:
        assert expected[contract]["method"] != "custom" and got[contract]["method"] == "custom"
        assert got[contract]["extensions"] == 1
        expected[contract]["method"] = "custom"
    assert got == expected


# --- old districts and communes of historical loans ------------------------------------------


@pytest.mark.parametrize(
    ("changes", "commune", "former_district", "doubtful"),
    [
        # Disbursed 10/03/2025: Phường Thọ Xương (07201) of Thành phố Bắc Giang then, merged
        # into Phường Bắc Giang (07210) on 01/07/2025.
        ({"district": "213", "commune_code": "7201"}, "07210", "213", False),
        # A commune of today is read on the import's date when it was not one on the loan's.
        ({"district": "219", "commune_code": "07525"}, "07525", "219", False),
        # Only the 2021 district Yên Dũng (221, merged into Thành phố Bắc Giang on
        # 01/01/2025): the district is kept, the commune is left for an officer.
        ({"district": "Yên Dũng"}, None, "221", True),
    ],
)
def test_old_districts_and_communes_are_converted(
    app: Any, changes: dict, commune: str | None, former_district: str, doubtful: bool
) -> None:
    staff = fund_and_staff()
    report = services.import_loans(
        staff.accountant, csv_file([row(**changes)]), "f.csv", BUSINESS_DATE
    )
    db.session.commit()
    assert report.imported, [r.message for r in report.bad_rows]
    coop = db.session.scalar(select(Cooperative).where(Cooperative.registration_no == "2405900001"))
    area = coop.area
    assert (area.commune_code, area.former_district_code, area.needs_confirming) == (
        commune,
        former_district,
        doubtful,
    )


def test_a_commune_code_in_force_neither_then_nor_now_is_refused(app: Any) -> None:
    assert reasons_of(csv_file([row(commune_code="99999")])) == {
        2: ["mã xã 99999 không có hiệu lực ngày 10/03/2025 cũng như hiện nay"]
    }
    assert reasons_of(csv_file([row(commune_code="Chũ")])) == {
        2: ["mã xã “Chũ” phải là mã gồm 5 chữ số, ví dụ 07525"]
    }
