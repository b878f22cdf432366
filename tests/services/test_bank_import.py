"""Bank statement import: reading the banks' files, matching each credit to a loan of the
demo fund, storing each transaction once, and the accountant's corrections."""

from __future__ import annotations

import io
import unicodedata
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import event, select

from fundapp.audit.models import AuditLog
from fundapp.auth.models import User
from fundapp.banking import services
from fundapp.banking.matching import DUE_AHEAD_DAYS, load_book, match
from fundapp.banking.models import LINE_STATUSES, BankLine, BankStatement
from fundapp.banking.parsers import PRESETS, Mapping, StatementError, money, parse
from fundapp.cooperatives.models import Cooperative
from fundapp.core.lists import fold
from fundapp.domain.errors import Conflict, PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.loans.models import Loan, LoanStatus
from tests.conftest import BUSINESS_DATE, count

AGRIBANK_HEADER = [
    "STT",
    "Ngày giao dịch",
    "Số tham chiếu",
    "Số tiền ghi nợ",
    "Số tiền ghi có",
    "Số dư",
    "Nội dung",
    "Tên người chuyển",
    "Tài khoản người chuyển",
]
TITLE = [
    ["NGÂN HÀNG NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN VIỆT NAM"],
    ["SAO KÊ TÀI KHOẢN"],
    ["Số tài khoản: 2500201012345"],
    ["Từ ngày 16/11/2026 đến ngày 20/11/2026"],
    [""],
]


def agribank_csv(lines: list[tuple], encoding: str = "utf-8-sig") -> bytes:
    """An Agribank-like export: title rows, the headers on row 6, the lines, a total."""
    out = io.StringIO()
    for row in TITLE:
        out.write(",".join(row) + "\n")
    out.write(",".join(AGRIBANK_HEADER) + "\n")
    for n, (txn, day, debit, credit, text, payer, account) in enumerate(lines, start=1):
        cells = [str(n), day.strftime("%d/%m/%Y"), txn, debit, credit, "", text, payer, account]
        out.write(",".join(f'"{c}"' for c in cells) + "\n")
    out.write('"","Tổng cộng","","","","","","",""\n')
    if encoding == "cp1258":
        return _cp1258(out.getvalue())
    return out.getvalue().encode(encoding)


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def _cp1258(text: str) -> bytes:
    """Windows-1258 as old Vietnamese software writes it: the letter (with its circumflex,
    breve or horn), then the tone as a combining mark."""
    out = []
    for ch in text:
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            letter = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
            tones = "".join(c for c in parts if c in _TONES)
            out.append(letter.encode("cp1258") + tones.encode("cp1258"))
    return b"".join(out)


# --- reading files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "dong"),
    [
        ("1.500.000", 1_500_000),
        ("1,500,000", 1_500_000),
        ("1500000", 1_500_000),
        ("1 500 000 VND", 1_500_000),
        ("1.500.000,00", 1_500_000),
        ("1,500,000.00", 1_500_000),
        ("-250.000", -250_000),
        (1_627_397, 1_627_397),
        (2_500_000.0, 2_500_000),
        ("", None),
        (None, None),
    ],
)
def test_money_cells_are_whole_dong(app, cell, dong):
    assert money(cell) == dong


@pytest.mark.parametrize("cell", ["1.5", "1.500.000,50", "abc", 1_500_000.5, "12,34,5"])
def test_money_cells_that_are_no_whole_dong_are_refused(app, cell):
    with pytest.raises(ValueError):
        money(cell)


def test_a_cp1258_csv_and_its_rows(app):
    data = agribank_csv(
        [
            ("FT1", date(2026, 11, 18), "", "1.627.397", "Trả nợ HD20260014 K04", "HTX", ""),
            ("FT2", date(2026, 11, 18), "11.000", "", "Phí SMS", "", ""),
        ],
        encoding="cp1258",
    )
    rows = parse(data, "sao_ke.csv", PRESETS["AGRIBANK"])
    assert [(r.line_no, r.txn_id, r.amount, r.debit) for r in rows] == [
        (7, "FT1", 1_627_397, False),
        (8, "FT2", 11_000, True),
    ]
    assert rows[0].description == "Trả nợ HD20260014 K04"


def test_bad_files_are_refused_with_a_message(app):
    mapping = PRESETS["AGRIBANK"]
    for data, name, message in [
        (b"", "a.csv", "Tệp sao kê rỗng."),
        (b"%PDF-1.4", "a.pdf", "Chỉ nhận sao kê Excel (.xlsx) hoặc CSV (.csv)."),
        (b"not a zip", "a.xlsx", "Tệp .xlsx không đọc được: không phải bảng tính Excel hợp lệ."),
        (b"PK\x03\x04garbage", "a.xlsx", "Tệp .xlsx không đọc được"),
        ("Ngày,Tiền\n01/11/2026,5\n".encode(), "a.csv", "Không thấy dòng tiêu đề"),
    ]:
        with pytest.raises(StatementError) as refused:
            parse(data, name, mapping)
        assert refused.value.message.startswith(message)
    bad = agribank_csv(
        [
            ("FT1", date(2026, 11, 18), "", "1.000.000", "ok", "", ""),
            ("FT2", date(2026, 11, 18), "", "1.000.000,5", "phần lẻ", "", ""),
            ("FT3", date(2026, 11, 18), "5.000", "1.000.000", "hai chiều", "", ""),
            ("FT4", date(2026, 11, 18), "", "", "không tiền", "", ""),
        ]
    )
    bad = bad.replace(b'"18/11/2026","FT1"', b'"31/02/2026","FT1"')
    with pytest.raises(StatementError) as refused:
        parse(bad, "a.csv", mapping)
    assert refused.value.message == "Tệp sao kê có 4 dòng không đọc được; chưa nhập dòng nào."
    assert refused.value.rows == [
        "Dòng 7: ngày “31/02/2026” không đúng định dạng %d/%m/%Y.",
        "Dòng 8: số tiền “1.000.000,5” không phải số nguyên đồng.",
        "Dòng 9: vừa ghi có vừa ghi nợ.",
        "Dòng 10: không có số tiền.",
    ]


def test_a_signed_amount_column_and_rows_without_a_bank_id(app):
    mapping = Mapping(date="Ngày", credit="Số tiền", description="Nội dung", header_row=1)
    data = "Ngày,Số tiền,Nội dung\n20/11/2026,500000,a\n20/11/2026,-20000,b\n20/11/2026,500000,a\n"
    rows = parse(data.encode(), "g.csv", mapping)
    assert [(r.amount, r.debit) for r in rows] == [
        (500_000, False),
        (20_000, True),
        (500_000, False),
    ]
    # Two equal rows keep two ids, the same on every reading of the file.
    assert rows[0].txn_id != rows[2].txn_id
    assert [r.txn_id for r in parse(data.encode(), "g.csv", mapping)] == [r.txn_id for r in rows]


# --- the line's statuses --------------------------------------------------------------------

ALLOWED = {
    ("matched", "confirmed"),
    ("matched", "unmatched"),
    ("matched", "ignored"),
    ("matched", "duplicate"),
    ("unmatched", "confirmed"),
    ("unmatched", "ignored"),
    ("unmatched", "duplicate"),
    ("confirmed", "confirmed"),
    ("confirmed", "unmatched"),
    ("confirmed", "ignored"),
    ("confirmed", "duplicate"),
    ("confirmed", "posted"),
    ("ignored", "unmatched"),
    ("duplicate", "unmatched"),
}


@pytest.mark.parametrize("status", LINE_STATUSES)
@pytest.mark.parametrize("to", LINE_STATUSES)
def test_every_status_pair(status, to):
    assert services.can_move(status, to) == ((status, to) in ALLOWED)


# --- the demo fund's statement ---------------------------------------------------------------

DAY = BUSINESS_DATE  # 20/11/2026: instalments due up to 05/12/2026 count as due


def _fmt(amount: int, n: int) -> str:
    """The three ways banks print 1 500 000."""
    return [f"{amount:,}".replace(",", "."), f"{amount:,}", str(amount)][n % 3]


def _demo_statement() -> tuple[list[tuple], dict[str, tuple[str, str | None]]]:
    """200 rows for the demo fund and, per transaction id, the method and contract
    expected."""
    loans = list(
        db.session.execute(
            select(Loan.contract_no, Loan.cooperative_id, Cooperative.name, Cooperative.tax_code)
            .join(Cooperative, Cooperative.id == Loan.cooperative_id)
            .where(Loan.status == LoanStatus.ACTIVE)
            .order_by(Loan.id)
        )
    )
    assert len(loans) == 49
    per_coop = Counter(coop for _, coop, _, _ in loans)
    # Cooperatives with one active loan (a member borrower's name also names the
    # cooperative it belongs to: left out here).
    single = [
        (c, name, tax)
        for c, coop, name, tax in loans
        if per_coop[coop] == 1 and name.startswith("HTX ")
    ]
    rows: list[tuple] = []
    expected: dict[str, tuple[str, str | None]] = {}

    def add(method, contract, text, amount, payer="", account="", day=DAY, debit=False):
        txn = f"FT26{len(rows) + 1:05d}"
        money_cell = _fmt(amount, len(rows))
        cells = ("", money_cell) if not debit else (money_cell, "")
        rows.append((txn, day, *cells, text, payer, account))
        if not debit:
            expected[txn] = (method, contract)

    # 60 structured references, written as the QR writes them and as people retype them.
    for n in range(60):
        contract = loans[n % 49][0]
        compact = contract.replace("-", "")
        text = [
            f"{compact} K{n % 9 + 1:02d}",
            f"tra no {compact.lower()}k{n % 9 + 1:02d}",
            f"THANH TOAN {contract} K{n % 9 + 1:02d} CHUYEN KHOAN",
        ][n % 3]
        add("reference", contract, text, 5_000_000 + 1_000 * n, day=DAY - timedelta(n % 5))
    # 40 contract numbers in free text, with and without diacritics and dashes.
    for n in range(40):
        contract = loans[(n * 7) % 49][0]
        text = [
            f"Trả nợ hợp đồng {contract}",
            f"tra no hop dong so {contract.replace('-', ' ')}",
            f"HĐ {contract} trả gốc và lãi",
            f"nop tien vay {contract.lower()}",
        ][n % 4]
        add("contract", contract, text, 10_000_000 + 1_000 * n)
    # 30 borrowers with one active loan named in the text or as the payer.
    for n in range(30):
        contract, name, _tax = single[n % len(single)]
        bare = name.replace("HTX ", "")
        if n % 3 == 0:
            add("borrower", contract, f"{name} chuyển tiền trả nợ", 7_000_000 + 1_000 * n)
        elif n % 3 == 1:
            payer = fold(name).upper()
            add("borrower", contract, "tra no vay quy", 7_000_000 + 1_000 * n, payer=payer)
        else:
            add("borrower", contract, f"Hợp tác xã {bare} nộp tiền", 7_000_000 + 1_000 * n)
    # 15 tax codes.
    for n in range(15):
        contract, _name, tax = single[(n * 5) % len(single)]
        add("borrower", contract, f"MST {tax} tra no", 8_000_000 + 1_000 * n)
    rows_before_special = len(rows)
    # A transfer with no reference of exactly what HD-2026-0014 has due (instalment 4,
    # 1 627 397 đ due 03/12/2026): the amount alone names it.
    add("amount", "HD-2026-0014", "chuyen tien", 1_627_397)
    # HTX Gà đồi Phồn Xương has two loans: the one whose due equals the amount
    # (HD-2025-0009, instalment 6: 35 483 113 đ due 05/12/2026), else the one with the
    # oldest unpaid instalment (HD-2026-0014, due 03/12/2026).
    add("several", "HD-2025-0009", "HTX Ga doi Phon Xuong tra no", 35_483_113)
    add("several", "HD-2026-0014", "HTX Gà đồi Phồn Xương trả nợ", 2_000_000)
    # A wrong amount with a good reference still names the loan.
    add("reference", "HD-2026-0014", "HD20260014 K04", 1_600_000)
    # 31 credits nothing names: no reference, a non-borrower, amounts no loan has due.
    for n in range(31):
        text = ["chuyen tien", "CONG TY TNHH AN PHAT thanh toan hoa don", "ung ho quy"][n % 3]
        add("none", None, text, 3_000_000 + 7_000 * n, payer="CONG TY TNHH AN PHAT")
    # 19 debits: fees and transfers out, skipped.
    for n in range(19):
        add(None, None, "Phí SMS Banking" if n % 2 else "Chuyển tiền giải ngân", 11_000, debit=True)
    # The bank printed one transfer twice.
    rows.append(rows[0])
    assert len(rows) == 200 and rows_before_special == 145
    return rows, expected


def test_the_demo_fund_statement_is_matched_line_by_line(app):
    from fundapp.demo.seed import seed

    seed(BUSINESS_DATE)
    db.session.commit()
    accountant = db.session.scalar(select(User).where(User.username == "ketoan"))
    rows, expected = _demo_statement()
    data = agribank_csv(rows)

    result = services.import_statement(accountant, "agribank", "sao_ke_agribank.csv", data)
    db.session.commit()
    assert result.new
    assert (result.rows_read, result.credits, result.debits, result.duplicates) == (200, 180, 19, 1)
    assert (result.matched, result.unmatched) == (149, 31)

    lines = services.statement_lines(result.statement.id)
    contract_of = dict(db.session.execute(select(Loan.id, Loan.contract_no)).tuples().all())
    got = {line.txn_id: line for line in lines}
    assert set(got) == set(expected)
    for txn, (method, contract) in expected.items():
        line = got[txn]
        want = ("borrower", 50) if method == "several" else (method, None)
        assert line.method == want[0], (txn, line.description, line.reason)
        assert contract_of.get(line.loan_id) == contract, (txn, line.description, line.reason)
        if want[1] is not None:
            assert line.confidence == want[1]
        assert line.status == ("unmatched" if method == "none" else "matched")
    assert Counter(line.method for line in lines) == {
        "reference": 61,
        "contract": 40,
        "borrower": 47,
        "amount": 1,
        "none": 31,
    }
    assert Counter(line.confidence for line in lines) == {
        99: 61,
        90: 40,
        75: 45,
        50: 2,
        40: 1,
        0: 31,
    }

    # The reasons say why, the amount checked against what is due.
    wrong = got[f"FT26{149:05d}"]
    assert wrong.reason == (
        "Mã tham chiếu “HD20260014 K04”: hợp đồng HD-2026-0014, kỳ 4. "
        "Số tiền khác số phải trả (1.627.397 đ)."
    )
    assert wrong.instalment_no == 4
    by_amount = got[f"FT26{146:05d}"]
    assert by_amount.instalment_no == 4 and by_amount.confidence == 40
    several = got[f"FT26{147:05d}"]
    assert "2 khoản vay đang vay; chọn HD-2025-0009 vì số phải trả bằng số tiền." in several.reason
    assert "Không có mã tham chiếu" in got[f"FT26{150:05d}"].reason
    assert services.unmatched_lines() == sorted(
        (line for line in lines if line.method == "none"), key=lambda x: (x.value_date, x.id)
    )

    # The same file again changes nothing.
    before = (count(BankStatement), count(BankLine), count(AuditLog))
    again = services.import_statement(accountant, "AGRIBANK", "sao_ke_agribank.csv", data)
    db.session.commit()
    assert not again.new and again.statement.id == result.statement.id
    assert (count(BankStatement), count(BankLine), count(AuditLog)) == before
    # The next statement repeats three lines and brings two: only those are stored.
    overlap = agribank_csv(
        [
            *rows[:3],
            ("FT2700001", DAY, "", "1.627.397", "HD20260014 K04", "", ""),
            ("FT2700002", DAY, "", "999.000", "chuyen tien", "", ""),
        ]
    )
    later = services.import_statement(accountant, "AGRIBANK", "tuan_sau.csv", overlap)
    db.session.commit()
    assert later.new and (later.credits, later.duplicates) == (2, 3)
    assert count(BankLine) == 182
    assert [line.txn_id for line in services.statement_lines(later.statement.id)] == [
        "FT2700001",
        "FT2700002",
    ]

    _two_queries(data, lines)
    _corrections(accountant, got, expected)
    _vcb_workbook(accountant)


def _corrections(accountant: User, got: dict[str, BankLine], expected: dict) -> None:
    director = db.session.scalar(select(User).where(User.username == "giamdoc"))
    assert director is not None
    stranger = got[f"FT26{151:05d}"]
    with pytest.raises(PermissionDenied):
        services.correct_line(director, stranger.id, "ignore", note="x")
    with pytest.raises(ValidationFailed) as refused:
        services.correct_line(accountant, stranger.id, "ignore")
    assert refused.value.fields == {"note": "Nhập lý do."}
    with pytest.raises(Conflict):
        services.correct_line(accountant, stranger.id, "confirm")
    services.correct_line(accountant, stranger.id, "ignore", note="Công ty An Phát trả tiền hàng")
    db.session.commit()
    assert stranger.status == "ignored" and stranger.loan_id is None
    assert stranger not in services.unmatched_lines()

    # An unmatched transfer the accountant recognises: set to a loan and its instalment.
    loan = db.session.scalar(select(Loan).where(Loan.contract_no == "HD-2023-0002"))
    recognised = got[f"FT26{150:05d}"]
    with pytest.raises(ValidationFailed):
        services.correct_line(
            accountant, recognised.id, "assign", loan_id=loan.id, instalment_no=99
        )
    closed = db.session.scalar(select(Loan).where(Loan.status == LoanStatus.CLOSED))
    with pytest.raises(ValidationFailed):
        services.correct_line(accountant, recognised.id, "assign", loan_id=closed.id)
    services.correct_line(accountant, recognised.id, "assign", loan_id=loan.id, instalment_no=12)
    db.session.commit()
    assert (recognised.status, recognised.method, recognised.confidence) == (
        "confirmed",
        "manual",
        100,
    )
    assert recognised.reason == "Kế toán chọn hợp đồng HD-2023-0002."

    # A matched line confirmed as it is, another cleared back to the unmatched list.
    first, second = got["FT2600001"], got["FT2600002"]
    services.correct_line(accountant, first.id, "confirm")
    services.correct_line(accountant, second.id, "clear")
    db.session.commit()
    assert first.status == "confirmed" and first.method == "reference"
    assert (second.status, second.loan_id, second.method) == ("unmatched", None, "none")
    assert second in services.unmatched_lines()
    audited = db.session.scalars(
        select(AuditLog.action).where(AuditLog.entity == "bank_line").order_by(AuditLog.id)
    )
    assert list(audited) == ["ignore", "assign", "confirm", "clear"]


def _vcb_workbook(accountant: User) -> None:
    """A Vietcombank-like XLSX: title rows, headers on row 8, spreadsheet dates and numbers."""
    book = Workbook()
    sheet = book.active
    sheet.append(["NGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM"])
    sheet.append(["SAO KÊ TÀI KHOẢN / ACCOUNT STATEMENT"])
    for _ in range(5):
        sheet.append([])
    sheet.append(
        ["STT", "Ngày giao dịch", "Số tham chiếu", "Số tiền ghi nợ", "Số tiền ghi có", "Mô tả"]
    )
    sheet.append([1, datetime(2026, 11, 19), "5108VCB1", None, 1_627_397, "HD20260014 K04"])
    sheet.append([2, datetime(2026, 11, 20), "5108VCB2", None, 35_483_113.0, "MST 2400000017"])
    sheet.append([3, datetime(2026, 11, 20), "5108VCB3", 22_000, None, "Phi quan ly tai khoan"])
    sheet.append([4, "20/11/2026", "5108VCB4", None, "4.000.000", "ung ho"])
    out = io.BytesIO()
    book.save(out)
    result = services.import_statement(accountant, "VCB", "vcb.xlsx", out.getvalue())
    db.session.commit()
    assert (result.rows_read, result.credits, result.debits, result.matched) == (4, 3, 1, 2)
    lines = services.statement_lines(result.statement.id)
    assert [(x.txn_id, x.value_date, x.amount, x.method, x.instalment_no) for x in lines] == [
        ("5108VCB1", date(2026, 11, 19), 1_627_397, "reference", 4),
        ("5108VCB2", date(2026, 11, 20), 35_483_113, "borrower", 6),
        ("5108VCB4", date(2026, 11, 20), 4_000_000, "none", None),
    ]
    # The tax code names HTX Gà đồi Phồn Xương, two loans: the one whose due is the amount.
    assert "Mã số thuế 2400000017 của HTX Gà đồi Phồn Xương." in lines[1].reason
    assert DUE_AHEAD_DAYS == 15


def _two_queries(data: bytes, lines: list[BankLine]) -> None:
    """No query per line: the book is read in two queries, the lines matched in memory."""
    rows = [r for r in parse(data, "a.csv", PRESETS["AGRIBANK"]) if not r.debit][:-1]
    selects: list[str] = []

    def seen(conn, cursor, statement, *args):
        if statement.startswith("SELECT"):
            selects.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        book = load_book({r.value_date for r in rows})
        found = [match(book, r) for r in rows]
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(selects) == 2
    assert [(m.loan_id, m.method, m.reason) for m in found] == [
        (x.loan_id, x.method, x.reason) for x in lines
    ]
