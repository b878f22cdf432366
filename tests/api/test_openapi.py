"""/api/v1/openapi.json: generated from the routes and the shapes declared on each view, so
it describes every operation, and real answers match the schemas it declares."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, get_args

import jsonschema_rs
import pytest
import schemathesis
from flask import Flask

from fundapp.api import shapes
from fundapp.core.security import MONEY_AND_APPROVAL, Role
from fundapp.domain.cooperatives import CooperativeKind
from fundapp.ledger.models import CAPITAL_SOURCES
from fundapp.loans.models import (
    METHODS,
    ApplicationStatus,
    ApprovalStatus,
    DisbursementStatus,
    LoanStatus,
)
from fundapp.repayments.services import METHODS as PAYMENT_METHODS
from tests.conftest import api_token, make_user
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

API = "/api/v1"
HUGE_IDS = (2**31, 99_999_999_999_999_999_999)

# The POSTs that move money: a repeat under the same Idempotency-Key records nothing new.
MONEY_MOVING = {
    ("post", "/capital-entries"),
    ("post", "/loans/{loan_id}/disbursements"),
    ("post", "/disbursements/{disbursement_id}/approve"),
    ("post", "/loans/{loan_id}/repayments"),
    ("post", "/reversals/{reversal_id}/approve"),
    ("post", "/close-day"),
}


@pytest.fixture
def doc(client) -> dict[str, Any]:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def _api_rules(app: Flask) -> list[Any]:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith(API + "/")]


def _doc_path(rule: Any) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule).removeprefix(API)


def _methods(rule: Any) -> set[str]:
    return {m.lower() for m in rule.methods or ()} - {"head", "options"}


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _body(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    content = doc["paths"][path][method]["requestBody"]["content"]["application/json"]
    return _resolve(doc, content["schema"])


def _result(doc: dict[str, Any], method: str, path: str, status: str = "200") -> Any:
    """A validator of the JSON the operation declares for ``status``."""
    content = doc["paths"][path][method]["responses"][status]["content"]["application/json"]
    return jsonschema_rs.Draft202012Validator(
        {**content["schema"], "components": doc["components"]}
    )


def _conforms(validator: Any, data: Any) -> None:
    errors = [f"{e.instance_path}: {e.message}"[:300] for e in validator.iter_errors(data)]
    assert not errors, errors[:5]


# --- the document --------------------------------------------------------------------------


def test_schemathesis_loads_every_operation(doc):
    schema = schemathesis.openapi.from_dict(doc)
    operations = [result.ok() for result in schema.get_all_operations()]
    declared = {(m, p) for p, item in doc["paths"].items() for m in item}
    assert {(op.method.lower(), op.path) for op in operations} == declared
    assert ("post", "/loans/{loan_id}/repayments") in declared


def test_every_route_and_method_is_an_operation(app, doc):
    routes = {(m, _doc_path(r)) for r in _api_rules(app) for m in _methods(r)}
    declared = {(m, p) for p, item in doc["paths"].items() for m in item}
    assert routes == declared
    for rule in _api_rules(app):
        for method in _methods(rule):
            params = doc["paths"][_doc_path(rule)][method].get("parameters", [])
            in_path = {p["name"] for p in params if p["in"] == "path"}
            assert in_path == set(rule.arguments), rule.rule


def test_every_view_declares_its_shapes_and_says_what_it_does(app, doc):
    for rule in _api_rules(app):
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "openapi"), rule.endpoint
        summary = (view.__doc__ or "").strip()
        assert summary, rule.endpoint
        for method in _methods(rule):
            operation = doc["paths"][_doc_path(rule)][method]
            assert operation["summary"] == " ".join(summary.partition("\n\n")[0].split())


def test_money_is_integer_rates_are_strings_dates_are_dates(doc):
    repayment = _body(doc, "post", "/loans/{loan_id}/repayments")
    assert repayment["properties"]["amount"]["type"] == "integer"
    assert repayment["properties"]["amount"]["exclusiveMinimum"] == 0
    assert repayment["properties"]["date"] == {"format": "date", "title": "Date", "type": "string"}
    assert repayment["required"] == ["amount", "date"]
    assert repayment["additionalProperties"] is False
    application = _body(doc, "post", "/applications")
    for name in ("total_project_cost", "own_equity", "requested_amount"):
        assert application["properties"][name]["type"] == "integer", name
    rate = application["properties"]["annual_rate"]["anyOf"][0]
    assert rate["type"] == "string" and re.fullmatch(rate["pattern"], "7.2")
    answer = doc["paths"]["/loans/{loan_id}"]["get"]["responses"]["200"]["content"]
    loan = _resolve(doc, answer["application/json"]["schema"])
    assert loan["properties"]["annual_rate"]["type"] == "string"
    assert loan["properties"]["amount"]["type"] == "integer"
    balances = _resolve(doc, loan["properties"]["balances"])
    assert balances["properties"]["payoff_amount"]["type"] == "integer"
    assert balances["properties"]["oldest_unpaid_due_date"]["anyOf"] == [
        {"description": "YYYY-MM-DD", "type": "string"},
        {"type": "null"},
    ]
    # every date a body takes is a date, every amount an integer
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if "application/json" not in operation.get("requestBody", {}).get("content", {}):
                continue
            for name, prop in _body(doc, method, path).get("properties", {}).items():
                options = prop.get("anyOf", [prop])
                if name == "date" or name.endswith("_date"):
                    assert {"format": "date", "type": "string"} in [
                        {k: o[k] for k in ("format", "type") if k in o} for o in options
                    ], (path, name)
                if name == "amount" or name.endswith(("_amount", "_cost", "_equity")):
                    assert options[0]["type"] == "integer", (path, name)


def test_money_moving_posts_take_an_idempotency_key(app, doc):
    idempotent = set()
    for rule in _api_rules(app):
        if getattr(app.view_functions[rule.endpoint], "idempotent", False):
            for method in _methods(rule):
                idempotent.add((method, _doc_path(rule)))
    assert idempotent >= MONEY_MOVING
    for method, path in idempotent:
        operation = doc["paths"][path][method]
        headers = [p for p in operation["parameters"] if p["in"] == "header"]
        assert [h["name"] for h in headers] == ["Idempotency-Key"], path
        assert "409" in operation["responses"], path


def test_list_operations_take_paging_and_filters(doc):
    def query(path: str) -> set[str]:
        params = doc["paths"][path]["get"]["parameters"]
        return {p["name"] for p in params if p["in"] == "query"}

    assert query("/loans") == {
        "page",
        "per_page",
        "status",
        "cooperative_id",
        "commune_code",
        "former_district_code",
        "debt_group",
        "overdue",
        "q",
        "origin_fund",
    }
    assert query("/applications") == {"page", "per_page", "status", "cooperative_id", "q"}
    assert query("/cooperatives") >= {
        "page",
        "per_page",
        "q",
        "commune_code",
        "former_district_code",
        "needs_confirming",
        "kind",
    }
    assert query("/capital-entries") == {"page", "per_page", "source", "from", "to", "origin_fund"}
    assert query("/loans/{loan_id}/repayments") == {"page", "per_page", "reversed"}
    assert query("/close-day/runs") >= {"page", "per_page"}
    page = _resolve(
        doc,
        doc["paths"]["/loans"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
    )
    assert set(page["required"]) == {"items", "page", "per_page", "total"}
    assert page["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Loan"}


def test_files_are_declared_as_files(doc):
    for path, content in (
        ("/loans/{loan_id}/statement.pdf", "application/pdf"),
        ("/reports/fund-balance.pdf", "application/pdf"),
        (
            "/reports/par.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ):
        answer = doc["paths"][path]["get"]["responses"]["200"]["content"]
        assert answer == {content: {"schema": {"type": "string", "format": "binary"}}}


def test_enumerations_are_the_models_values():
    for literal, values in (
        (shapes.LoanStatus, [s.value for s in LoanStatus]),
        (shapes.ApplicationStatus, [s.value for s in ApplicationStatus]),
        (shapes.DisbursementStatus, [s.value for s in DisbursementStatus]),
        (shapes.ApprovalStatus, [s.value for s in ApprovalStatus]),
        (shapes.PrincipalMethod, list(METHODS)),
        (shapes.PaymentMethod, list(PAYMENT_METHODS)),
        (shapes.CapitalSource, list(CAPITAL_SOURCES)),
        (shapes.CooperativeKind, [k.value for k in CooperativeKind]),
        (shapes.RoleName, [r.value for r in Role]),
    ):
        assert list(get_args(literal)) == values


# --- real answers against the schemas ------------------------------------------------------


def test_real_answers_match_their_schemas(client, doc):
    staff = fund_and_staff()
    loan = contracted_loan(staff, on=date(2026, 1, 5))
    disburse(staff, loan, 120_000_000, date(2026, 1, 5))
    accountant = api_token(client, staff.accountant)
    # Instalment 1 due 05/02/2026: interest 120.000.000 × 6 % × 31/365 = 611.506,8 → 611.507
    # and principal 10.000.000; the 388.493 left of 11.000.000 prepays principal.
    paid = client.post(
        f"{API}/loans/{loan.id}/repayments",
        json={"amount": 11_000_000, "date": "2026-02-05", "method": "cash"},
        headers=accountant,
    )
    assert paid.status_code == 201, paid.get_json()
    assert paid.get_json()["allocations"] == [
        {"no": 1, "component": "interest", "amount": 611_507},
        {"no": 1, "component": "principal", "amount": 10_000_000},
        {"no": None, "component": "principal", "amount": 388_493, "prepayment": True},
    ]
    _conforms(_result(doc, "post", "/loans/{loan_id}/repayments", "201"), paid.get_json())

    reader = api_token(client, make_user("controller"))
    for path, template in (
        (f"/loans/{loan.id}", "/loans/{loan_id}"),
        (f"/loans/{loan.id}/schedule", "/loans/{loan_id}/schedule"),
        (f"/loans/{loan.id}/repayments", "/loans/{loan_id}/repayments"),
        (f"/applications/{loan.application_id}", "/applications/{app_id}"),
        ("/loans", "/loans"),
        ("/applications", "/applications"),
        ("/cooperatives", "/cooperatives"),
        (f"/cooperatives/{loan.cooperative_id}", "/cooperatives/{coop_id}"),
        ("/capital-entries", "/capital-entries"),
        ("/fund/position?as_of=2026-06-30", "/fund/position"),
        ("/dashboard", "/dashboard"),
        ("/reports/fund-balance", "/reports/fund-balance"),
        ("/reports/lending-activity", "/reports/lending-activity"),
        ("/reports/classification", "/reports/classification"),
        ("/reports/par", "/reports/par"),
        ("/me", "/me"),
    ):
        response = client.get(API + path, headers=reader)
        assert response.status_code == 200, (path, response.get_json())
        _conforms(_result(doc, "get", template), response.get_json())

    detail = client.get(f"{API}/loans/{loan.id}", headers=reader).get_json()
    # 120.000.000 − 10.000.000 − 388.493 still owed
    assert detail["balances"]["principal_outstanding"] == 109_611_507
    application = client.get(f"{API}/applications/{loan.application_id}", headers=reader)
    assert [c["code"] for c in application.get_json()["checks"]] == [
        "eligibility",
        "equity",
        "single_borrower",
        "related_group",
        "cash",
    ]
    report = client.get(f"{API}/reports/fund-balance", headers=reader).get_json()
    assert report["uses"]["outstanding"] == 109_611_507


def test_a_wrong_answer_breaks_its_schema(doc):
    """The validators above do check: an amount as a string, a missing balance or an
    unknown status fail."""
    validator = _result(doc, "get", "/loans/{loan_id}/schedule")
    row = {
        "no": 1,
        "due_date": "2026-02-05",
        "principal": 10_000_000,
        "interest": 611_507,
        "total": 10_611_507,
        "principal_paid": 0,
        "interest_paid": 0,
        "penalty_paid": 0,
        "interest_waived": 0,
        "interest_supported": 0,
        "penalty_waived": 0,
        "paid_on": None,
        "status": "scheduled",
    }
    good = {"loan_id": 1, "as_of": "2026-11-20", "instalments": [row]}
    _conforms(validator, good)
    for bad_row in ({**row, "principal": "10000000"}, {**row, "status": "late"}):
        assert not validator.is_valid({**good, "instalments": [bad_row]})
    del row["total"]
    assert not validator.is_valid({**good, "instalments": [row]})


# --- ids the database cannot hold ----------------------------------------------------------


def test_an_id_beyond_the_database_is_not_found_on_every_route(client, app):
    """Not a 500: PostgreSQL would refuse the INTEGER, SQLite the Python int."""
    # Every money and approval role in one user; the admin's routes with the admin's token.
    staff = api_token(client, make_user("officer", "accountant", "director", "board"))
    admin = api_token(client, make_user("admin"))
    checked = 0
    for rule in _api_rules(app):
        if "<int:" not in rule.rule:
            continue
        allowed = set(getattr(app.view_functions[rule.endpoint], "allowed_roles", ()))
        headers = admin if allowed and not allowed & set(MONEY_AND_APPROVAL) else staff
        for method in _methods(rule):
            for huge in HUGE_IDS:
                url = rule.rule
                for name in rule.arguments:
                    url = re.sub(rf"<(?:[^:>]+:)?{name}>", str(huge), url)
                response = client.open(url, method=method.upper(), json={}, headers=headers)
                assert response.status_code == 404, (method, url, response.get_json())
                checked += 1
    assert checked >= 2 * 30
