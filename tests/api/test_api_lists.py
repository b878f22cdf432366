"""API v1 lists: each filter narrows to the right objects, pages hold the rest, totals count
them all, and a cooperative's user sees its own cooperative's whatever it asks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from fundapp.extensions import db
from fundapp.ledger.services import record_capital
from fundapp.lending import applications
from fundapp.repayments import services as rs
from fundapp.servicing.close_day import run_pending
from tests.conftest import BUSINESS_DATE, api_token, make_cooperative, make_user
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

API = "/api/v1"


@dataclass
class Book:
    """Three cooperatives and four loans, as of the business date 20/11/2026:

    - l1 (HTX Nấm Tân Yên, former district 219): disbursed 01/11/2026, first instalment due
      01/12: nothing overdue, group 1; two repayments, the first reversed;
    - l2 (HTX Vải thiều Thanh Hà, 219): disbursed 05/01/2026, nothing repaid: overdue
      since 05/02, 288 days on 20/11 → group 5 (≥ 180, Circular 14/2024/TT-NHNN);
    - l3 (HTX Gà đồi Yên Thế, 215): disbursed 10/09/2026, nothing repaid: overdue since
      10/10, 21 + 20 = 41 days → group 3 (30–< 90, Circular 14/2024/TT-NHNN);
    - l4 (HTX Gà đồi Yên Thế, 215): contracted, not disbursed.
    """

    a: Any
    b: Any
    c: Any
    l1: Any
    l2: Any
    l3: Any
    l4: Any
    drafts: list[Any]
    repaid: list[Any]
    staff: dict[str, str]


@pytest.fixture
def book(client, app) -> Book:
    staff = fund_and_staff()
    a = make_cooperative(name="HTX Vải thiều Thanh Hà", district_code="219")
    b = make_cooperative(name="HTX Gà đồi Yên Thế", district_code="215", kind="union")
    c = make_cooperative(name="HTX Nấm Tân Yên", district_code="219")
    l1 = contracted_loan(staff, cooperative=c, on=date(2026, 11, 1), project_name="Trồng nấm rơm")
    disburse(staff, l1, 120_000_000, date(2026, 11, 1))
    l2 = contracted_loan(staff, cooperative=a, on=date(2026, 1, 5), project_name="Vườn vải VietGAP")
    disburse(staff, l2, 120_000_000, date(2026, 1, 5))
    l3 = contracted_loan(staff, cooperative=b, on=date(2026, 9, 10), project_name="Nuôi gà đồi")
    disburse(staff, l3, 120_000_000, date(2026, 9, 10))
    l4 = contracted_loan(staff, cooperative=b, on=date(2026, 9, 10), project_name="Chuồng gà")
    first = rs.record_repayment(
        staff.accountant, l1.id, {"amount": 1_000_000, "date": date(2026, 11, 10)}, BUSINESS_DATE
    )
    second = rs.record_repayment(
        staff.accountant, l1.id, {"amount": 2_000_000, "date": date(2026, 11, 15)}, BUSINESS_DATE
    )
    reversal = rs.request_reversal(staff.accountant, first.id, "Ghi nhầm khoản vay")
    rs.decide_reversal(staff.director, reversal.id, True, BUSINESS_DATE)
    drafts = [
        applications.create_application(
            staff.officer,
            {
                "cooperative_id": coop.id,
                "project_name": "Mở rộng sản xuất",
                "total_project_cost": 100_000_000,
                "own_equity": 50_000_000,
                "requested_amount": 50_000_000,
                "term_months": 12,
            },
            BUSINESS_DATE,
        )
        for coop in (a, c)
    ]
    applications.submit(staff.officer, drafts[1])
    record_capital(None, "entrusted", 2_000_000_000, date(2026, 3, 1), source_name="Quỹ TW")
    record_capital(None, "grant", 500_000_000, date(2026, 6, 15))
    db.session.commit()
    run_pending(date(2026, 11, 18), "cli")
    db.session.commit()
    run_pending(BUSINESS_DATE, "api")
    db.session.commit()
    headers = {
        "staff": api_token(client, make_user("controller")),
        "a": api_token(client, make_user("cooperative", cooperative=a)),
        "b": api_token(client, make_user("cooperative", cooperative=b)),
    }
    return Book(a, b, c, l1, l2, l3, l4, drafts, [first, second], headers)


def _get(client: Any, book: Book, path: str, who: str = "staff") -> dict:
    response = client.get(API + path, headers=book.staff[who])
    assert response.status_code == 200, (path, response.get_json())
    return response.get_json()


def _ids(client: Any, book: Book, path: str, who: str = "staff") -> list[int]:
    return [item["id"] for item in _get(client, book, path, who)["items"]]


def test_loans_by_each_filter(client, book):
    b = book
    every = [b.l4.id, b.l3.id, b.l2.id, b.l1.id]
    cases = {
        "": every,
        "?status=active": [b.l3.id, b.l2.id, b.l1.id],
        "?status=contracted": [b.l4.id],
        "?status=closed": [],
        f"?cooperative_id={b.b.id}": [b.l4.id, b.l3.id],
        "?former_district_code=219": [b.l2.id, b.l1.id],
        "?former_district_code=215": [b.l4.id, b.l3.id],
        # a and c: Thị trấn Chũ (07525, Lục Ngạn) in 2021, Phường Chũ today
        "?commune_code=07525": [b.l2.id, b.l1.id],
        "?commune_code=07210": [],
        "?debt_group=5": [b.l2.id],
        "?debt_group=3": [b.l3.id],
        "?debt_group=4": [],
        "?debt_group=2": [],
        "?overdue=true": [b.l3.id, b.l2.id],
        "?overdue=false": [b.l4.id, b.l1.id],
        "?former_district_code=219&overdue=true": [b.l2.id],
        # contract numbers follow the approvals: l3 is HD-2026-0003; case does not matter
        "?q=hd-2026-0003": [b.l3.id],
        # Diacritics and case do not count (issue 16): "gà" is "ga", found in "Chuồng gà",
        # "Nuôi gà đồi" and also in "Vườn vải VietGAP".
        "?q=gà": [b.l4.id, b.l3.id, b.l2.id],
        "?q=ga doi": [b.l3.id],
        "?q=VUON VAI": [b.l2.id],
        "?q=%25": [],  # "%" is a character to find, not a wildcard
    }
    for query, expected in cases.items():
        assert _ids(client, b, "/loans" + query) == expected, query
    assert b.l3.contract_no == "HD-2026-0003"


def test_loans_page_by_page(client, book):
    first = _get(client, book, "/loans?per_page=3")
    second = _get(client, book, "/loans?per_page=3&page=2")
    beyond = _get(client, book, "/loans?per_page=3&page=3")
    assert [i["id"] for i in first["items"]] == [book.l4.id, book.l3.id, book.l2.id]
    assert [i["id"] for i in second["items"]] == [book.l1.id]
    assert beyond["items"] == []
    assert (first["total"], second["total"], second["page"], second["per_page"]) == (4, 4, 2, 3)
    overdue = _get(client, book, "/loans?overdue=true&per_page=1&page=2")
    assert ([i["id"] for i in overdue["items"]], overdue["total"]) == ([book.l2.id], 2)


def test_a_cooperative_sees_its_own_loans_whatever_it_asks(client, book):
    own = [book.l4.id, book.l3.id]
    assert _ids(client, book, "/loans", "b") == own
    assert _ids(client, book, f"/loans?cooperative_id={book.a.id}", "b") == own
    assert _get(client, book, f"/loans?cooperative_id={book.a.id}", "b")["total"] == 2
    # the filters narrow its own loans, never widen them
    assert _ids(client, book, "/loans?former_district_code=219", "b") == []
    assert _ids(client, book, "/loans?overdue=true", "b") == [book.l3.id]
    assert _ids(client, book, "/loans?q=vải", "b") == []
    assert _ids(client, book, "/loans?q=vải", "a") == [book.l2.id]


def test_applications_by_status_and_cooperative(client, book):
    draft_a, submitted_c = book.drafts
    approved = [
        loan.application_id for loan in (book.l4, book.l3, book.l2, book.l1)
    ]  # newest first
    assert _ids(client, book, "/applications?status=approved") == approved
    assert _ids(client, book, "/applications?status=draft") == [draft_a.id]
    assert _ids(client, book, "/applications?status=submitted") == [submitted_c.id]
    assert _ids(client, book, f"/applications?cooperative_id={book.a.id}") == [
        draft_a.id,
        book.l2.application_id,
    ]
    both = f"/applications?cooperative_id={book.c.id}&status=approved"
    assert _ids(client, book, both) == [book.l1.application_id]
    page = _get(client, book, "/applications?per_page=4&page=2")
    assert ([i["id"] for i in page["items"]], page["total"]) == (approved[2:], 6)
    assert _ids(client, book, f"/applications?cooperative_id={book.b.id}", "a") == [
        draft_a.id,
        book.l2.application_id,
    ]


def test_cooperatives_by_text_district_and_kind(client, book):
    # by name: Gà đồi < Nấm < Vải
    assert _ids(client, book, "/cooperatives") == [book.b.id, book.c.id, book.a.id]
    assert _ids(client, book, "/cooperatives?former_district_code=219") == [book.c.id, book.a.id]
    assert _ids(client, book, "/cooperatives?commune_code=07525") == [book.c.id, book.a.id]
    assert _ids(client, book, "/cooperatives?needs_confirming=true") == []
    assert _ids(client, book, "/cooperatives?needs_confirming=false") == [
        book.b.id,
        book.c.id,
        book.a.id,
    ]
    assert _ids(client, book, "/cooperatives?kind=union") == [book.b.id]
    assert _ids(client, book, "/cooperatives?q=thanh hà") == [book.a.id]
    assert _ids(client, book, f"/cooperatives?q={book.c.tax_code}") == [book.c.id]
    page = _get(client, book, "/cooperatives?per_page=2&page=2")
    assert ([i["id"] for i in page["items"]], page["total"]) == ([book.a.id], 3)
    assert _ids(client, book, "/cooperatives", "a") == [book.a.id]
    assert _ids(client, book, "/cooperatives?former_district_code=215", "a") == []


def test_capital_entries_by_source_and_dates(client, book):
    listed = _get(client, book, "/capital-entries")["items"]
    assert [(e["source"], e["amount"], e["date"]) for e in listed] == [
        ("charter", 15_000_000_000, "2020-01-01"),
        ("entrusted", 2_000_000_000, "2026-03-01"),
        ("grant", 500_000_000, "2026-06-15"),
    ]
    charter, entrusted, grant = (e["id"] for e in listed)
    assert _ids(client, book, "/capital-entries?source=entrusted") == [entrusted]
    assert _ids(client, book, "/capital-entries?from=2026-03-01") == [entrusted, grant]
    assert _ids(client, book, "/capital-entries?from=2026-03-02&to=2026-06-15") == [grant]
    assert _ids(client, book, "/capital-entries?to=2026-02-28") == [charter]
    page = _get(client, book, "/capital-entries?per_page=2&page=2")
    assert ([i["id"] for i in page["items"]], page["total"]) == ([grant], 3)
    backwards = client.get(
        f"{API}/capital-entries?from=2026-06-15&to=2026-03-01", headers=book.staff["staff"]
    )
    assert backwards.status_code == 422
    assert list(backwards.get_json()["error"]["fields"]) == ["from"]
    assert client.get(f"{API}/capital-entries", headers=book.staff["a"]).status_code == 403


def test_repayments_with_or_without_the_reversed(client, book):
    first, second = book.repaid
    path = f"/loans/{book.l1.id}/repayments"
    listed = _get(client, book, path)["items"]
    assert [(r["id"], r["amount"], r["reversed"]) for r in listed] == [
        (first.id, 1_000_000, True),
        (second.id, 2_000_000, False),
    ]
    assert _ids(client, book, path + "?reversed=true") == [first.id]
    assert _ids(client, book, path + "?reversed=false") == [second.id]
    page = _get(client, book, path + "?per_page=1&page=2")
    assert ([i["id"] for i in page["items"]], page["total"]) == ([second.id], 2)
    # another cooperative's loan is not found, whatever the query
    response = client.get(API + path + "?reversed=false", headers=book.staff["a"])
    assert response.status_code == 404


def test_close_day_runs_by_trigger_and_dates(client, book):
    runs = _get(client, book, "/close-day/runs")["items"]
    assert [(r["date"], r["trigger"]) for r in runs] == [
        ("2026-11-20", "api"),
        ("2026-11-19", "api"),
        ("2026-11-18", "cli"),
    ]
    newest, middle, oldest = (r["id"] for r in runs)
    assert _ids(client, book, "/close-day/runs?trigger=cli") == [oldest]
    assert _ids(client, book, "/close-day/runs?trigger=api") == [newest, middle]
    assert _ids(client, book, "/close-day/runs?from=2026-11-19&to=2026-11-19") == [middle]
    page = _get(client, book, "/close-day/runs?per_page=2&page=2")
    assert ([i["id"] for i in page["items"]], page["total"]) == ([oldest], 3)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/loans?status=open", "status"),
        ("/loans?debt_group=6", "debt_group"),
        ("/loans?overdue=maybe", "overdue"),
        ("/loans?former_district_code=1", "former_district_code"),
        ("/loans?commune_code=7525", "commune_code"),
        ("/loans?cooperative_id=99999999999", "cooperative_id"),
        ("/loans?per_page=201", "per_page"),
        ("/loans?sort=id", "sort"),
        ("/cooperatives?kind=company", "kind"),
        ("/capital-entries?from=01-03-2026", "from"),
        ("/capital-entries?source=loan", "source"),
        ("/close-day/runs?trigger=cron", "trigger"),
        ("/applications?cooperative_id=-1", "cooperative_id"),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(client, app, path, field):
    headers = api_token(client, make_user("controller"))
    response = client.get(API + path, headers=headers)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and field in error["fields"]
