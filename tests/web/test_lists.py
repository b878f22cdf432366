"""Findability and exports of the list pages (issue 16): search without diacritics or case,
the Vietnamese alphabetical order, sortable columns, and the Excel export of the filtered
rows, read back with openpyxl and compared with the rows on screen."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from fundapp.core.lists import fold, vn_key
from fundapp.domain.money import format_dong
from fundapp.extensions import db
from tests.conftest import PASSWORD, client_for, make_cooperative, make_user
from tests.web.test_loans import active_loan, make_loan, people  # noqa: F401 (people: a fixture)

# Hand-ordered: letters first (Ch after C + vowel, Đ after D), case and tone marks ignored
# unless the letters are the same.
VIETNAMESE_ORDER = ["an", "Ánh", "Cà phê", "Chè", "Dứa", "Đào"]


def sheet_rows(response: Any) -> list[tuple[Any, ...]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    return [tuple(row) for row in book.active.iter_rows(values_only=True)]


def screen_column(html: str, index: int) -> list[str]:
    """The text of column ``index`` of each body row of the page's first table."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    assert body, "no table on the page"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S) for row in rows]
    return [_text(c[index]) for c in cells if len(c) > index]


def _text(html: str) -> str:
    html = re.sub(r"<br>.*", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


# --- the keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Vải thiều", "vai thieu"),
        ("Gà  ĐỒI", "ga doi"),
        ("Đắk Lắk", "dak lak"),
        ("ưƯơƠ", "uuoo"),
        ("", ""),
    ],
)
def test_fold_drops_diacritics_case_and_extra_spaces(text, folded):
    assert fold(text) == folded


def test_vietnamese_order_of_hand_made_names():
    shuffled = ["Đào", "Chè", "an", "Dứa", "Cà phê", "Ánh"]
    assert sorted(shuffled, key=vn_key) == VIETNAMESE_ORDER
    # Same letters: the tone decides (none, huyền, hỏi, ngã, sắc, nặng), then the case.
    assert sorted(["má", "mạ", "mà", "ma", "mã", "mả"], key=vn_key) == [
        "ma", "mà", "mả", "mã", "má", "mạ",
    ]  # fmt: skip
    assert vn_key("an") < vn_key("An") < vn_key("ăn")
    assert vn_key("an b") < vn_key("anh")  # word by word


# --- cooperatives ------------------------------------------------------------------------------


@pytest.fixture
def named(app):
    names = ["Đào", "Chè", "an", "Dứa", "Cà phê", "Ánh"]
    return {name: make_cooperative(name=name) for name in names}


def test_cooperatives_sorted_in_vietnamese_order_both_ways(app, named):
    officer = client_for(app, make_user("officer"))
    html = officer.get("/cooperatives/?sort=name&dir=asc").get_data(as_text=True)
    assert screen_column(html, 0) == VIETNAMESE_ORDER
    html = officer.get("/cooperatives/?sort=name&dir=desc").get_data(as_text=True)
    assert screen_column(html, 0) == VIETNAMESE_ORDER[::-1]
    assert 'aria-sort="descending"' in html
    # An unknown sort falls back to the name, never a 500.
    assert officer.get("/cooperatives/?sort=drop%20table&dir=sideways").status_code == 200


def test_cooperative_search_ignores_diacritics_and_case(app):
    make_cooperative(name="HTX Vải thiều Lục Ngạn")
    make_cooperative(name="HTX Gà đồi Yên Thế")
    make_cooperative(name="HTX Chè Tân Cương")
    officer = client_for(app, make_user("officer"))
    for q, expected in [
        ("vai", ["HTX Vải thiều Lục Ngạn"]),
        ("VẢI THIỀU", ["HTX Vải thiều Lục Ngạn"]),
        ("ga doi", ["HTX Gà đồi Yên Thế"]),
        ("yen the", ["HTX Gà đồi Yên Thế"]),
        ("đồi", ["HTX Gà đồi Yên Thế"]),
        ("tan cuong", ["HTX Chè Tân Cương"]),
        ("100%", []),
    ]:
        html = officer.get("/cooperatives/", query_string={"q": q}).get_data(as_text=True)
        shown = screen_column(html, 0) if "<tbody>" in html else []
        assert shown == expected, q


def test_cooperatives_export_equals_the_screen(app, named):
    officer = client_for(app, make_user("officer"))
    html = officer.get("/cooperatives/?q=a&sort=name").get_data(as_text=True)
    assert "format=xlsx" in html
    rows = sheet_rows(officer.get("/cooperatives/?q=a&sort=name&format=xlsx"))
    assert rows[0][0] == "Tên hợp tác xã / thành viên"
    assert [r[0] for r in rows[1:]] == screen_column(html, 0)
    assert [r[6] for r in rows[1:]] == screen_column(html, 6)  # tax codes


# --- loans and applications --------------------------------------------------------------------


def test_loan_list_search_sort_and_export(app, people):  # noqa: F811
    loans = []
    for name, project in [("HTX Vải thiều Lục Ngạn", "Sấy vải"), ("Đào", "Nuôi gà đồi")]:
        loan = make_loan(people)
        loan.cooperative.name = name
        loan.project_name = project
        loans.append(loan)
    db.session.commit()
    client = client_for(app, people.officer)
    for q, expected in [("vai thieu", ["HTX Vải thiều Lục Ngạn"]), ("GA DOI", ["Đào"])]:
        html = client.get("/loans/", query_string={"q": q}).get_data(as_text=True)
        assert screen_column(html, 1) == expected, q
    html = client.get("/loans/?sort=borrower&dir=asc").get_data(as_text=True)
    assert screen_column(html, 1) == ["Đào", "HTX Vải thiều Lục Ngạn"]  # Đ before H
    # The export: every filtered row, in the screen's order, amounts as integers.
    rows = sheet_rows(client.get("/loans/?sort=borrower&dir=asc&format=xlsx"))
    assert [r[0] for r in rows[1:]] == screen_column(html, 0)
    assert [r[1] for r in rows[1:]] == ["Đào", "HTX Vải thiều Lục Ngạn"]
    assert [r[3] for r in rows[1:]] == [240_000_000, 240_000_000]
    assert rows[0][3] == "Số tiền vay"


def test_loan_list_export_has_the_screens_overdue_columns(app, people):  # noqa: F811
    """The two columns the screen shows (issue 16) are in the export too: the overdue amount
    as an integer, the days past due as a number, empty where the screen shows "—"."""
    late = active_loan(people)  # disbursed 10/01/2026: instalments past due on 20/11/2026
    make_loan(people)  # signed, not disbursed: nothing overdue
    client = client_for(app, people.officer)
    html = client.get("/loans/?sort=newest&dir=asc").get_data(as_text=True)
    rows = sheet_rows(client.get("/loans/?sort=newest&dir=asc&format=xlsx"))
    assert rows[0][8:10] == ("Số tiền quá hạn", "Số ngày quá hạn")
    assert [r[0] for r in rows[1:]] == screen_column(html, 0)
    by_contract = {r[0]: r for r in rows[1:]}
    overdue = by_contract[late.contract_no]
    assert isinstance(overdue[8], int) and overdue[8] > 0
    # First instalment due 10/02/2026; 10/02 → 20/11/2026 = 18 + 245 (Mar–Oct) + 20 = 283 days.
    assert overdue[9] == 283
    assert [format_dong(r[8]) if r[8] is not None else "—" for r in rows[1:]] == screen_column(
        html, 8
    )
    assert [str(r[9]) if r[9] is not None else "—" for r in rows[1:]] == screen_column(html, 9)


def test_application_list_search_sort_and_export(app, people):  # noqa: F811
    for name in ["Chè", "Cà phê"]:
        loan = make_loan(people)
        loan.cooperative.name = name
    db.session.commit()
    client = client_for(app, people.officer)
    html = client.get("/applications/?status=all&sort=borrower&dir=asc").get_data(as_text=True)
    assert screen_column(html, 0) == ["Cà phê", "Chè"]
    html = client.get("/applications/?status=all&q=ca%20phe").get_data(as_text=True)
    assert screen_column(html, 0) == ["Cà phê"]
    rows = sheet_rows(client.get("/applications/?status=all&sort=borrower&format=xlsx"))
    assert [r[0] for r in rows[1:]] == ["Cà phê", "Chè"]
    assert [r[2] for r in rows[1:]] == [240_000_000, 240_000_000]


# --- capital and journal -----------------------------------------------------------------------


@pytest.fixture
def capital(app):
    from fundapp.ledger.services import record_capital

    record_capital(None, "charter", 10_000_000_000, date(2026, 1, 5), reference="QĐ-01")
    record_capital(
        None, "entrusted", 2_500_000, date(2026, 3, 1), source_name="Quỹ Hỗ trợ Trung ương"
    )
    record_capital(None, "grant", 1_000_000, date(2026, 6, 1), note="Tài trợ của Đức")
    db.session.commit()


def test_capital_filters_totals_and_export(app, capital):
    client = client_for(app, make_user("accountant"))
    html = client.get("/capital?from=01/02/2026").get_data(as_text=True)
    # 2.500.000 + 1.000.000 = 3.500.000 after 01/02/2026
    assert "3.500.000" in html and "10.000.000.000" not in html
    html = client.get("/capital?q=trung%20uong").get_data(as_text=True)
    assert screen_column(html, 2) == ["Quỹ Hỗ trợ Trung ương"]
    html = client.get("/capital?sort=amount&dir=asc").get_data(as_text=True)
    rows = sheet_rows(client.get("/capital?sort=amount&dir=asc&format=xlsx"))
    assert [r[3] for r in rows[1:]] == [1_000_000, 2_500_000, 10_000_000_000]
    # Dates come back as dates (openpyxl reads a date cell as a midnight datetime).
    assert [r[0].date() for r in rows[1:]] == [date(2026, 6, 1), date(2026, 3, 1), date(2026, 1, 5)]
    assert len(rows) - 1 == len(screen_column(html, 0))
    book = load_workbook(io.BytesIO(client.get("/capital?format=xlsx").data))
    assert book.active["D2"].number_format == "#,##0"
    assert book.active["A2"].number_format == "dd/mm/yyyy"
    # A bad date is named, the list still answers.
    bad = client.get("/capital?from=31/02/2026")
    assert bad.status_code == 200 and "Ngày không hợp lệ" in bad.get_data(as_text=True)


def test_journal_filters_by_date_account_kind_with_totals_and_export(app, capital):
    client = client_for(app, make_user("accountant"))
    html = client.get("/journal?from=01/02/2026&to=31/12/2026&kind=capital").get_data(as_text=True)
    # Two entries (2.500.000 and 1.000.000), each one debit and one credit line:
    # debits 3.500.000 = credits 3.500.000.
    assert html.count('<tbody class="entry">') == 2
    assert html.count("3.500.000") >= 2
    rows = sheet_rows(
        client.get("/journal?from=01/02/2026&kind=capital&sort=date&dir=asc&format=xlsx")
    )
    assert sum(r[7] or 0 for r in rows[1:]) == 3_500_000
    assert sum(r[8] or 0 for r in rows[1:]) == 3_500_000
    assert [r[0].date() for r in rows[1:]] == [date(2026, 3, 1)] * 2 + [date(2026, 6, 1)] * 2
    html = client.get("/journal?account=nope&loan=HD-404").get_data(as_text=True)
    assert "Không có bút toán nào khớp" in html


# --- users, notices, audit ---------------------------------------------------------------------


def test_users_search_by_name_without_diacritics_sort_and_export(app):
    from fundapp.auth.services import create_user

    for username, name in [("dao", "Đào Thị Hoa"), ("anh", "an Văn Bình"), ("chi", "Chu Thị Chè")]:
        create_user(None, username, PASSWORD, ["officer"], full_name=name)
    db.session.commit()
    client = client_for(app, make_user("admin"))
    html = client.get("/admin/users?q=dao%20thi").get_data(as_text=True)
    assert screen_column(html, 0) == ["dao"]
    html = client.get("/admin/users?q=thi&sort=name").get_data(as_text=True)
    assert screen_column(html, 0) == ["chi", "dao"]  # Chu before Đào
    rows = sheet_rows(client.get("/admin/users?q=thi&sort=name&format=xlsx"))
    assert [r[0] for r in rows[1:]] == ["chi", "dao"]


def test_notices_and_audit_export_the_rows_listed(app, people):  # noqa: F811
    from fundapp.loans.days import Notice

    loan = make_loan(people)
    for n, day in enumerate([date(2026, 2, 1), date(2026, 3, 1)], start=1):
        db.session.add(
            Notice(
                kind="due_soon",
                event_key=f"t:{n}",
                recipient_key=f"user:{people.officer.id}",
                business_date=day,
                loan_id=loan.id,
                user_id=people.officer.id,
                title=f"Thông báo {n}",
            )
        )
    db.session.commit()
    client = client_for(app, people.officer)
    rows = sheet_rows(client.get("/notices/?sort=date&dir=asc&format=xlsx"))
    assert [r[2] for r in rows[1:]] == ["Thông báo 1", "Thông báo 2"]
    assert [r[3] for r in rows[1:]] == [loan.contract_no] * 2
    rows = sheet_rows(client.get("/notices/?from=15/02/2026&format=xlsx"))
    assert [r[2] for r in rows[1:]] == ["Thông báo 2"]
    controller = client_for(app, make_user("controller"))
    html = controller.get("/audit/?sort=at&dir=desc").get_data(as_text=True)
    rows = sheet_rows(controller.get("/audit/?sort=at&dir=desc&format=xlsx"))
    assert len(rows) - 1 == len(screen_column(html, 0)) > 0
    # The screen's presentation, not raw codes: names of people, action labels, subjects.
    assert rows[0][:5] == ("Thời điểm", "Người thực hiện", "Thao tác", "Đối tượng", "Thay đổi")
    for index in (1, 2, 3):
        assert [r[index] for r in rows[1:]] == screen_column(html, index), index
    assert not any(re.fullmatch(r"[a-z_]+\.[a-z_]+", r[2] or "") for r in rows[1:])


# --- the API's q= ------------------------------------------------------------------------------


def test_api_q_ignores_diacritics(app, people):  # noqa: F811
    from tests.conftest import api_token

    loan = make_loan(people)
    loan.project_name = "Trồng vải thiều VietGAP"
    loan.cooperative.name = "HTX Gà đồi Yên Thế"
    db.session.commit()
    client = app.test_client()
    headers = api_token(client, people.officer)
    found = client.get("/api/v1/cooperatives?q=ga%20doi", headers=headers).get_json()
    assert [c["name"] for c in found["items"]] == ["HTX Gà đồi Yên Thế"]
    found = client.get("/api/v1/loans?q=VAI%20THIEU", headers=headers).get_json()
    assert [x["contract_no"] for x in found["items"]] == [loan.contract_no]
    admin = make_user("admin")
    found = client.get(
        "/api/v1/users?q=" + people.officer.username[:5], headers=api_token(client, admin)
    )
    assert found.status_code == 200


def test_lists_print_on_a4_with_wide_tables_in_landscape(app):
    make_cooperative(name="HTX In thử")
    client = client_for(app, make_user("officer"))
    html = client.get("/cooperatives/").get_data(as_text=True)
    assert 'href="/static/css/print.css" media="print"' in html
    assert 'data-print="wide"' in html
    css = client.get("/static/css/print.css")
    text = css.get_data(as_text=True)
    css.close()
    assert "@page wide { size: A4 landscape" in text
    assert '[data-print="wide"]' in text and "size: A4 portrait" in text


# Property: on plain lower-case ASCII words the key sorts as plain text does, and case never
# changes the letters' (primary) part of the key.
_WORDS = st.text(alphabet="abcdeghiklmnopqrstuvxy ", min_size=0, max_size=12)


@given(a=_WORDS, b=_WORDS)
def test_vn_key_agrees_with_plain_order_on_plain_words(a, b):
    a, b = " ".join(a.split()), " ".join(b.split())
    if a != b:
        assert (vn_key(a) < vn_key(b)) == (a.replace(" ", "!") < b.replace(" ", "!"))


@given(st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạấầẩẫậ", max_size=12))
def test_vn_key_letters_ignore_case(word):
    assert vn_key(word.upper()).split(" ")[0] == vn_key(word).split(" ")[0]
    assert fold(word.upper()) == fold(word)


def test_api_applications_q_ignores_diacritics(app, people):  # noqa: F811
    from tests.conftest import api_token

    loan = make_loan(people)
    loan.cooperative.name = "HTX Chè Tân Cương"
    other = make_loan(people)
    other.application.project_name = "Nuôi gà đồi"
    db.session.commit()
    client = app.test_client()
    headers = api_token(client, people.officer)
    for q, expected in [("che tan", [loan.application_id]), ("GA DOI", [other.application_id])]:
        found = client.get("/api/v1/applications", query_string={"q": q}, headers=headers)
        assert [a["id"] for a in found.get_json()["items"]] == expected, q
