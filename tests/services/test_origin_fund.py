"""A fund that took over another fund's book (origin funds), and the allocation order each
contract chooses.

- The former Bắc Ninh fund's book comes in under origin ``BN``: its capital, three loans
  whose contract numbers repeat this fund's, the cooperatives it registers. Both books
  stand side by side; a number repeated within one book is still refused.
- Every report (fund balance, lending activity, classification, PAR) and the dashboard
  give, per origin, figures that add up to the consolidated ones.
- A ``principal_first`` contract allocates a repayment principal first (hand figures).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fundapp.domain.errors import Conflict, ValidationFailed
from fundapp.extensions import db
from fundapp.funds import services as funds
from fundapp.funds.models import Fund
from fundapp.imports import services as imports
from fundapp.imports.template import csv_bytes
from fundapp.ledger.models import CapitalEntry
from fundapp.ledger.services import record_capital
from fundapp.lending import contracts
from fundapp.loans.models import Loan, LoanStatus
from fundapp.reports.origin_book import fund_position
from tests.conftest import BUSINESS_DATE, api_token, login, make_cooperative, make_user
from tests.data.make_import_files import GOOD
from tests.services.lending_helpers import approved_loan, contracted_loan, disburse, fund_and_staff

API = "/api/v1"
BN_NAME = "Quỹ hỗ trợ phát triển HTX tỉnh Bắc Ninh (cũ)"


def bn_row(n: int, contract_no: str, amount: int, **changes: Any) -> dict[str, Any]:
    return {
        **GOOD,
        "cooperative_name": f"HTX Bắc Ninh {n}",
        "registration_no": f"270590000{n}",
        "tax_code": f"270900000{n}",
        "contract_no": contract_no,
        "amount": amount,
        **changes,
    }


def bn_book(own_numbers: list[str]) -> bytes:
    """Three loans of the former Bắc Ninh fund; the first two carry numbers this fund
    uses too."""
    return csv_bytes(
        [
            bn_row(1, own_numbers[0], 100_000_000),
            bn_row(2, own_numbers[1], 80_000_000, repayment_order="principal_first"),
            bn_row(3, "BN-2024-0007", 60_000_000),
        ]
    )


@pytest.fixture
def two_books(app: Any) -> Any:
    """This fund's two loans, and the BN book (capital and three loans) imported."""
    staff = fund_and_staff()
    own = [contracted_loan(staff, 120_000_000), contracted_loan(staff, 90_000_000)]
    for loan in own:
        disburse(staff, loan, loan.amount, date(2026, 1, 5))
    funds.create(None, "BN", BN_NAME, "Tiếp nhận theo quyết định hợp nhất")
    record_capital(None, "charter", 2_000_000_000, date(2025, 1, 1), origin_fund="BN")
    db.session.commit()
    numbers = [loan.contract_no for loan in own]
    report = imports.import_loans(
        staff.accountant, bn_book(numbers), "bac-ninh.csv", BUSINESS_DATE, origin="BN"
    )
    assert report.imported, [r.message for r in report.bad_rows] or report.error
    db.session.commit()
    staff.own_numbers = numbers  # type: ignore[attr-defined]
    return staff


# --- the funds ------------------------------------------------------------------------------


def test_this_fund_is_the_default_origin(app: Any) -> None:
    assert [o.code for o in funds.origins()] == [funds.OWN_CODE]
    own = funds.ensure_own("Quỹ HTX tỉnh Bắc Ninh")
    assert own.is_own and funds.ensure_own() is own
    assert funds.resolve("") is None and funds.resolve(own.code) is None
    coop = make_cooperative()
    assert coop.origin_fund_id is None and funds.code_of(coop.origin_fund_id) == own.code


@pytest.mark.parametrize(
    ("code", "name", "field"),
    [
        ("", "Quỹ A", "code"),
        ("bn x", "Quỹ A", "code"),
        ("B" * 21, "Quỹ A", "code"),
        ("BN", "", "name"),
        ("QUY", "Quỹ trùng mã", "code"),
    ],
)
def test_a_fund_is_refused_naming_the_field(app: Any, code: str, name: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        funds.create(None, code, name)
    assert field in refused.value.fields
    assert db.session.scalar(select(Fund).where(Fund.is_own.is_(False))) is None


def test_an_unknown_origin_is_refused_with_the_known_codes(app: Any) -> None:
    funds.create(None, "BN", BN_NAME)
    with pytest.raises(ValidationFailed) as refused:
        record_capital(None, "grant", 1_000_000, date(2026, 1, 1), origin_fund="HN")
    assert "HN" in refused.value.fields["origin_fund"]
    assert "BN" in refused.value.fields["origin_fund"]
    assert db.session.scalar(select(CapitalEntry)) is None


# --- capital with its origin ------------------------------------------------------------------


def test_capital_entry_with_origin_through_the_api(app: Any, client: Any) -> None:
    staff = fund_and_staff()
    headers = api_token(client, staff.accountant)
    made_fund = client.post(f"{API}/funds", headers=headers, json={"code": "BN", "name": BN_NAME})
    assert made_fund.status_code == 201, made_fund.json
    assert [f["code"] for f in client.get(f"{API}/funds", headers=headers).json["items"]] == [
        "QUY",
        "BN",
    ]
    body = {"source": "charter", "amount": 2_000_000_000, "date": "2025-01-01"}
    made = client.post(
        f"{API}/capital-entries", headers=headers, json={**body, "origin_fund": "BN"}
    )
    assert made.status_code == 201, made.json
    assert made.json["origin_fund"] == "BN"
    bad = client.post(f"{API}/capital-entries", headers=headers, json={**body, "origin_fund": "HN"})
    assert bad.status_code == 422 and "origin_fund" in bad.json["error"]["fields"]
    listed = client.get(f"{API}/capital-entries?origin_fund=BN", headers=headers).json["items"]
    assert [(e["amount"], e["origin_fund"]) for e in listed] == [(2_000_000_000, "BN")]
    own = client.get(f"{API}/capital-entries?origin_fund=QUY", headers=headers).json["items"]
    # fund_and_staff records 15.000.000.000 đ of this fund's charter capital.
    assert [(e["amount"], e["origin_fund"]) for e in own] == [(15_000_000_000, "QUY")]
    # Per origin: 15.000.000.000 + 2.000.000.000 = 17.000.000.000 consolidated.
    bn = funds.origin_filter("BN")
    assert fund_position(origin=bn).charter == 2_000_000_000
    assert fund_position(origin=funds.origin_filter("QUY")).charter == 15_000_000_000
    assert fund_position().charter == 17_000_000_000


# --- the book taken over ----------------------------------------------------------------------


def test_a_second_funds_book_keeps_its_contract_numbers(two_books: Any, client: Any) -> None:
    first, second = two_books.own_numbers
    both = db.session.scalars(select(Loan).where(Loan.contract_no == first)).all()
    assert sorted(funds.code_of(loan.origin_fund_id) for loan in both) == ["BN", "QUY"]
    bn_loans = db.session.scalars(
        select(Loan).where(Loan.origin_fund_id.is_not(None)).order_by(Loan.id)
    ).all()
    assert [(loan.contract_no, loan.amount, loan.repayment_order) for loan in bn_loans] == [
        (first, 100_000_000, "standard"),
        (second, 80_000_000, "principal_first"),
        ("BN-2024-0007", 60_000_000, "standard"),
    ]
    # The cooperatives the book registered are the book's.
    assert {funds.code_of(loan.cooperative.origin_fund_id) for loan in bn_loans} == {"BN"}
    # This fund's numbering goes on as before: the next contract is HD-2026-0003.
    assert contracted_loan(two_books).contract_no == "HD-2026-0003"

    headers = api_token(client, two_books.accountant)
    listed = client.get(f"{API}/loans?origin_fund=BN", headers=headers).json["items"]
    assert sorted(item["contract_no"] for item in listed) == sorted([first, second, "BN-2024-0007"])
    assert {item["origin_fund"] for item in listed} == {"BN"}
    coop = client.get(f"{API}/cooperatives/{bn_loans[0].cooperative_id}", headers=headers).json
    assert coop["origin_fund"] == "BN"


def test_a_number_repeated_within_one_book_is_still_refused(two_books: Any) -> None:
    again = imports.dry_run(
        two_books.accountant,
        bn_book(two_books.own_numbers),
        "lai.csv",
        BUSINESS_DATE,
        origin="BN",
    )
    assert not again.ok
    assert all("đã có trong hệ thống" in r.message for r in again.bad_rows)
    assert len(again.bad_rows) == 3
    with pytest.raises(ValidationFailed) as refused:
        imports.dry_run(
            two_books.accountant, bn_book(["X-1", "X-2"]), "x.csv", BUSINESS_DATE, origin="HN"
        )
    assert "origin" in refused.value.fields


def test_the_api_imports_under_an_origin(app: Any, client: Any) -> None:
    staff = fund_and_staff()
    funds.create(None, "BN", BN_NAME)
    db.session.commit()
    own = contracted_loan(staff)
    headers = api_token(client, staff.accountant)
    data = bn_book([own.contract_no, "BN-2023-0001"])
    response = client.post(
        f"{API}/imports/loans?dry_run=false&origin=BN",
        headers=headers,
        data={"file": (io.BytesIO(data), "bn.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json
    assert response.json["origin_fund"] == "BN" and response.json["loans"] == 3
    unknown = client.post(
        f"{API}/imports/loans?origin=HN",
        headers=headers,
        data={"file": (io.BytesIO(data), "bn.csv")},
        content_type="multipart/form-data",
    )
    assert unknown.status_code == 422 and "origin" in unknown.json["error"]["fields"]


# --- reports: per origin, adding up to the consolidated figures --------------------------------


def _sum_numbers(parts: list[Any]) -> Any:
    """Element-wise sum of JSON values: numbers add up, dicts and lists by key/position."""
    first = parts[0]
    if isinstance(first, bool) or first is None or isinstance(first, str):
        return first
    if isinstance(first, int):
        return sum(parts)
    if isinstance(first, dict):
        keys = set().union(*(p.keys() for p in parts))
        return {k: _sum_numbers([p.get(k, 0) for p in parts]) for k in keys}
    return first


def _report(client: Any, headers: dict[str, str], path: str) -> dict[str, Any]:
    response = client.get(f"{API}/reports/{path}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


@pytest.mark.parametrize(
    ("path", "keys"),
    [
        ("fund-balance?as_of=2026-11-20", ("sources", "uses", "total_capital", "projects")),
        ("fund-balance?as_of=2026-11-20", ("period", "bad_debt", "cooperatives")),
        ("par?as_of=2026-11-20", ("loans", "outstanding")),
        ("classification?quarter=2026-Q3", ("total_loans", "total_outstanding")),
        ("classification?quarter=2026-Q3", ("general_required", "general_held", "total_held")),
    ],
)
def test_per_origin_reports_add_up_to_the_consolidated(
    two_books: Any, client: Any, path: str, keys: tuple[str, ...]
) -> None:
    headers = api_token(client, two_books.accountant)
    consolidated = _report(client, headers, path)
    parts = [_report(client, headers, f"{path}&origin={code}") for code in ("QUY", "BN")]
    for key in keys:
        summed = _sum_numbers([p[key] for p in parts])
        if isinstance(consolidated[key], dict):
            for inner, value in consolidated[key].items():
                if isinstance(value, int) and not isinstance(value, bool):
                    assert summed[inner] == value, (key, inner)
        else:
            assert summed == consolidated[key], key


def test_fund_balance_per_origin_by_hand(two_books: Any, client: Any) -> None:
    headers = api_token(client, two_books.accountant)
    bn = _report(client, headers, "fund-balance?as_of=2026-11-20&origin=BN")
    own = _report(client, headers, "fund-balance?as_of=2026-11-20&origin=QUY")
    # BN: 2.000.000.000 đ of charter capital; its three loans 100 + 80 + 60 million paid out
    # from the fund's cash in 2025 with nothing repaid (the file has no payments).
    assert bn["sources"]["charter_capital"] == 2_000_000_000
    assert bn["uses"]["outstanding"] == 240_000_000
    assert bn["uses"]["cash"] == 2_000_000_000 - 240_000_000
    assert bn["projects"] == 3
    # This fund: 15.000.000.000 đ, two loans of 120 + 90 million disbursed on 05/01/2026.
    assert own["sources"]["charter_capital"] == 15_000_000_000
    assert own["uses"]["outstanding"] == 210_000_000
    assert own["projects"] == 2


def test_an_unknown_report_origin_is_422(two_books: Any, client: Any) -> None:
    headers = api_token(client, two_books.accountant)
    response = client.get(f"{API}/reports/par?origin=HN", headers=headers)
    assert response.status_code == 422 and "origin" in response.json["error"]["fields"]


def test_lending_activity_per_origin_adds_up(two_books: Any, client: Any) -> None:
    headers = api_token(client, two_books.accountant)
    path = "lending-activity?from=2025-01-01&to=2026-11-20&group_by=sector"
    consolidated = _report(client, headers, path)["total"]
    parts = [_report(client, headers, f"{path}&origin={c}")["total"] for c in ("QUY", "BN")]
    for key, value in consolidated.items():
        if isinstance(value, int) and not isinstance(value, bool):
            assert sum(p[key] for p in parts) == value, key
    # Disbursed in the period: this fund 120 + 90 million, BN 100 + 80 + 60 million.
    assert [p["disbursed"] for p in parts] == [210_000_000, 240_000_000]


def test_dashboard_per_origin_adds_up(two_books: Any, client: Any) -> None:
    headers = api_token(client, two_books.accountant)
    whole = client.get(f"{API}/dashboard", headers=headers).json
    parts = [client.get(f"{API}/dashboard?origin={c}", headers=headers).json for c in ("QUY", "BN")]
    for key in ("available_to_lend", "projects", "cooperatives"):
        assert sum(p[key] for p in parts) == whole[key], key
    for key in ("capital", "outstanding", "this_year"):
        for inner, value in whole[key].items():
            if isinstance(value, int):
                assert sum(p[key][inner] for p in parts) == value, (key, inner)
    # Outstanding: this fund 120 + 90 million, BN 100 + 80 + 60 million.
    assert [p["outstanding"]["total"] for p in parts] == [210_000_000, 240_000_000]
    assert client.get(f"{API}/dashboard?origin=HN", headers=headers).status_code == 422


# --- the allocation order of the contract ------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "allocations"),
    [
        # Instalment 1, due 05/02/2026: principal 120.000.000 / 12 = 10.000.000 and interest
        # 120.000.000 × 6 % × 31 / 365 = 611.506,85 → 611.507. A payment of 10.300.000 on
        # its due date:
        # principal first: 10.000.000 principal, then 300.000 of the interest;
        ("principal_first", [("principal", 10_000_000), ("interest", 300_000)]),
        # standard: all 611.507 of the interest, then 10.300.000 − 611.507 = 9.688.493.
        ("standard", [("interest", 611_507), ("principal", 9_688_493)]),
    ],
)
def test_the_contracts_order_allocates_a_repayment(
    app: Any, client: Any, order: str, allocations: list[tuple[str, int]]
) -> None:
    staff = fund_and_staff()
    loan = approved_loan(staff, project_name="Kho lạnh")
    officer = api_token(client, staff.officer)
    signed = client.post(
        f"{API}/loans/{loan.id}/contract",
        headers=officer,
        json={"contract_date": "2026-01-05", "repayment_order": order},
    )
    assert signed.status_code == 200, signed.json
    assert signed.json["repayment_order"] == order
    disburse(staff, loan, 120_000_000, date(2026, 1, 5))
    paid = client.post(
        f"{API}/loans/{loan.id}/repayments",
        headers=api_token(client, staff.accountant),
        json={"amount": 10_300_000, "date": "2026-02-05"},
    )
    assert paid.status_code == 201, paid.json
    assert [(a["no"], a["component"], a["amount"]) for a in paid.json["allocations"]] == [
        (1, component, amount) for component, amount in allocations
    ]


def test_the_order_is_read_only_after_the_first_disbursement(app: Any, client: Any) -> None:
    staff = fund_and_staff()
    loan = approved_loan(staff, project_name="Kho lạnh")
    assert loan.repayment_order == "standard"  # the default
    officer = api_token(client, staff.officer)
    changed = client.patch(
        f"{API}/loans/{loan.id}", headers=officer, json={"repayment_order": "principal_first"}
    )
    assert changed.status_code == 200 and changed.json["repayment_order"] == "principal_first"
    bad = client.patch(f"{API}/loans/{loan.id}", headers=officer, json={"repayment_order": "x"})
    assert bad.status_code == 422
    contracts.sign_contract(staff.officer, loan, date(2026, 1, 5), date(2026, 1, 5))
    db.session.commit()
    disburse(staff, loan, 120_000_000, date(2026, 1, 5))
    assert db.session.get(Loan, loan.id).status == LoanStatus.ACTIVE
    late = client.patch(
        f"{API}/loans/{loan.id}", headers=officer, json={"repayment_order": "standard"}
    )
    assert late.status_code == 409 and "repayment_order" in late.json["error"]["fields"]
    assert db.session.get(Loan, loan.id).repayment_order == "principal_first"
    with pytest.raises(Conflict):
        contracts.set_repayment_order(staff.officer, loan, "standard")
    # An empty body changes nothing, whatever the status.
    assert client.patch(f"{API}/loans/{loan.id}", headers=officer, json={}).status_code == 200


def test_the_contract_form_sets_the_order(app: Any, client: Any) -> None:
    staff = fund_and_staff()
    loan = approved_loan(staff, project_name="Kho lạnh")
    login(client, staff.officer)
    page = client.get(f"/loans/{loan.id}")
    assert "contract-repayment_order" in page.get_data(as_text=True)
    response = client.post(
        f"/loans/{loan.id}/contract",
        data={
            "contract-contract_date": "05/01/2026",
            "contract-repayment_order": "principal_first",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    loan = db.session.get(Loan, loan.id)
    assert (loan.status, loan.repayment_order) == (LoanStatus.CONTRACTED, "principal_first")
    assert "Gốc → lãi → lãi phạt" in client.get(f"/loans/{loan.id}").get_data(as_text=True)


def test_the_capital_form_records_the_origin(app: Any, client: Any) -> None:
    funds.create(None, "BN", BN_NAME)
    db.session.commit()
    login(client, make_user("accountant"))
    form = client.get("/capital/new").get_data(as_text=True)
    assert 'name="origin_fund"' in form and BN_NAME in form
    data = {
        "source": "charter",
        "amount": "2.000.000.000",
        "entry_date": "01/01/2025",
        "reference": "",
        "note": "",
        "source_name": "",
    }
    assert client.post("/capital/new", data={**data, "origin_fund": "BN"}).status_code == 302
    refused = client.post("/capital/new", data={**data, "origin_fund": "HN"})
    assert refused.status_code in (200, 422) and "HN" in refused.get_data(as_text=True)
    entries = db.session.scalars(select(CapitalEntry)).all()
    assert [(e.amount, funds.code_of(e.origin_fund_id)) for e in entries] == [(2_000_000_000, "BN")]
    listing = client.get("/capital").get_data(as_text=True)
    assert ">BN<" in listing


def test_the_import_page_brings_a_book_in_under_its_origin(
    app: Any, client: Any, tmp_path: Any
) -> None:
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    staff = fund_and_staff()
    own = contracted_loan(staff)
    funds.create(None, "BN", BN_NAME)
    db.session.commit()
    login(client, staff.accountant)
    assert 'name="origin"' in client.get("/imports/loans").get_data(as_text=True)
    page = client.post(
        "/imports/loans/check",
        data={"file": (io.BytesIO(bn_book([own.contract_no, "X-2"])), "bn.csv"), "origin": "BN"},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200 and "Kiểm tra thử: 3 khoản vay" in page.get_data(as_text=True)
    token = next(Path(app.config["IMPORT_FOLDER"]).iterdir()).name
    assert client.post("/imports/loans/run", data={"token": token}).status_code == 302
    twins = db.session.scalars(select(Loan).where(Loan.contract_no == own.contract_no)).all()
    assert sorted(funds.code_of(loan.origin_fund_id) for loan in twins) == ["BN", "QUY"]


def test_the_origins_commands(app: Any, runner: Any) -> None:
    assert runner.invoke(args=["policy", "init"]).exit_code == 0
    own = funds.own_fund()
    assert own is not None and own.code == "QUY" and own.is_own
    added = runner.invoke(args=["origins", "add", "BN", BN_NAME, "--note", "QĐ hợp nhất"])
    assert added.exit_code == 0, added.output
    again = runner.invoke(args=["origins", "add", "bn", "Trùng"])
    assert again.exit_code != 0 and "đã có" in again.output
    listed = runner.invoke(args=["origins", "list"]).output.splitlines()
    assert listed[0].startswith("QUY\t") and listed[0].endswith("(this fund)")
    assert listed[1] == f"BN\t{BN_NAME}"


def test_the_pages_name_the_origin_fund(two_books: Any, client: Any) -> None:
    login(client, two_books.accountant)
    loan = db.session.scalar(select(Loan).where(Loan.origin_fund_id.is_not(None)))
    assert BN_NAME in client.get(f"/loans/{loan.id}").get_data(as_text=True)
    coop_page = client.get(f"/cooperatives/{loan.cooperative_id}").get_data(as_text=True)
    assert BN_NAME in coop_page
    report = client.get("/reports/par?origin=BN").get_data(as_text=True)
    assert f"Quỹ gốc BN – {BN_NAME}" in report
    assert client.get("/reports/par?origin=HN").status_code == 422
    assert client.get("/dashboard?origin=BN").status_code == 200
    assert client.get("/dashboard?origin=HN").status_code == 422
