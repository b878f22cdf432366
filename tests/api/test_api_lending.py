"""API v1 lending: the whole journey of a loan with figures checked by hand, the rules
(separation of duties, states, own-data) and bad input that changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any

import pytest

from fundapp.extensions import db
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.services import record_capital
from fundapp.loans.models import (
    Application,
    Disbursement,
    Loan,
    Repayment,
    Restructuring,
    Reversal,
)
from fundapp.policy.services import install_defaults
from tests.api.conftest import API, token
from tests.conftest import BUSINESS_DATE, make_cooperative, make_user

APPLICATION = {
    "project_name": "Mở rộng vùng vải thiều VietGAP",
    "purpose": "Mua phân bón, hệ thống tưới nhỏ giọt",
    "description": "Mở rộng 5 ha vải thiều theo tiêu chuẩn VietGAP",
    # 40.000.000 / 160.000.000 = 25 % own equity ≥ 20 %; the loan 120.000.000 ≤ 80 %.
    "total_project_cost": 160_000_000,
    "own_equity": 40_000_000,
    "requested_amount": 120_000_000,
    "term_months": 12,
    "annual_rate": "6",
    "principal_method": "equal_principal",
    "principal_every_months": 1,
    "interest_every_months": 1,
    "grace_months": 0,
    "collateral_offered": "Quyền sử dụng đất vườn vải",
}


def on(app: Any, day: str) -> None:
    """Move the fund's business date (time passes between the steps of a journey)."""
    app.config["FUNDAPP_BUSINESS_DATE"] = day


def dong(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class Fund:
    """The fund with capital and its staff, each user made on first use."""

    def __init__(self, client: Any, app: Any, coop: Any) -> None:
        self.client, self.app, self.coop = client, app, coop

    def user(self, *roles: str, **kwargs: Any) -> dict[str, str]:
        return token(make_user(*roles, **kwargs))

    @cached_property
    def officer(self) -> dict[str, str]:
        return self.user("officer")

    @cached_property
    def appraiser(self) -> dict[str, str]:
        return self.user("officer")

    @cached_property
    def director(self) -> dict[str, str]:
        return self.user("director")

    @cached_property
    def director2(self) -> dict[str, str]:
        return self.user("director")

    @cached_property
    def accountant(self) -> dict[str, str]:
        return self.user("accountant")

    @cached_property
    def coop_user(self) -> dict[str, str]:
        return self.user("cooperative", cooperative=self.coop)

    def post(self, path: str, headers: dict[str, str], json: Any = None, **extra: str) -> Any:
        return self.client.post(API + path, json=json, headers={**headers, **extra})

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(API + path, headers=headers or self.officer)

    def apply(self, **changes: Any) -> dict:
        response = self.post(
            "/applications",
            self.officer,
            {"cooperative_id": self.coop.id, **APPLICATION, **changes},
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def approved_loan(self, **changes: Any) -> int:
        """Application → submitted → appraised (a second officer) → approved (director)."""
        on(self.app, "2026-01-10")
        app_id = self.apply(**changes)["id"]
        assert self.post(f"/applications/{app_id}/submit", self.officer).status_code == 200
        amount = changes.get("requested_amount", APPLICATION["requested_amount"])
        appraised = self.post(
            f"/applications/{app_id}/appraise",
            self.appraiser,
            {"recommended_amount": amount, "note": "Phương án khả thi"},
        )
        assert appraised.status_code == 200, appraised.get_json()
        approved = self.post(f"/applications/{app_id}/approve", self.director, {"note": "Đồng ý"})
        assert approved.status_code == 200, approved.get_json()
        return approved.get_json()["loan_id"]

    def disbursed_loan(self) -> int:
        """Contract on 12/01/2026, 120.000.000 đ disbursed and posted on 15/01/2026."""
        loan_id = self.approved_loan()
        on(self.app, "2026-01-12")
        signed = self.post(
            f"/loans/{loan_id}/contract", self.officer, {"contract_date": "2026-01-12"}
        )
        assert signed.status_code == 200, signed.get_json()
        on(self.app, "2026-01-15")
        recorded = self.post(
            f"/loans/{loan_id}/disbursements",
            self.accountant,
            {"amount": 120_000_000, "date": "2026-01-15", "reference": "UNC 15/01"},
        )
        assert recorded.status_code == 201, recorded.get_json()
        posted = self.post(f"/disbursements/{recorded.get_json()['id']}/approve", self.director2)
        assert posted.status_code == 200, posted.get_json()
        return loan_id

    def repay(self, loan_id: int, amount: Any, day: str, **extra: str) -> Any:
        on(self.app, day)
        return self.post(
            f"/loans/{loan_id}/repayments",
            self.accountant,
            {"amount": amount, "date": day, "reference": "GNC", "method": "bank"},
            **extra,
        )


@pytest.fixture
def fund(client, app) -> Fund:
    record_capital(None, "charter", 15_000_000_000, date(2020, 1, 1))
    install_defaults()
    db.session.commit()
    return Fund(client, app, make_cooperative(name="HTX Vải thiều Thanh Hà"))


def _error(response: Any, status: int = 422) -> dict:
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["message"]
    return error


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.query(model).count()
        for model in (Application, Loan, Disbursement, Repayment, Reversal, JournalEntry)
    )


# --- the journey ---------------------------------------------------------------------------


def test_journey_from_application_to_closure(fund):
    on(fund.app, "2026-01-10")
    created = fund.apply()
    assert created["status"] == "draft" and created["annual_rate"] == "6"
    assert created["checks"] is None and created["loan_id"] is None
    app_id = created["id"]

    submitted = fund.post(f"/applications/{app_id}/submit", fund.officer)
    assert submitted.get_json()["status"] == "submitted"
    appraised = fund.post(
        f"/applications/{app_id}/appraise",
        fund.appraiser,
        {"recommended_amount": 120_000_000, "note": "Phương án khả thi"},
    ).get_json()
    assert appraised["status"] == "appraised" and appraised["recommended_amount"] == 120_000_000
    checks = {c["code"]: c for c in appraised["checks"]}
    assert set(checks) == {"eligibility", "equity", "single_borrower", "related_group", "cash"}
    assert all(c["passed"] for c in checks.values())
    assert set(checks["equity"]) == {"code", "label", "passed", "detail", "blocking"}
    # 15 % of 15.000.000.000 charter capital = 2.250.000.000; headroom 2.130.000.000.
    assert "2.130.000.000" in checks["single_borrower"]["detail"]
    assert checks["single_borrower"]["blocking"] is False and checks["cash"]["blocking"] is True

    approved = fund.post(f"/applications/{app_id}/approve", fund.director, {"note": "Đồng ý"})
    assert approved.status_code == 200
    assert approved.get_json()["status"] == "approved"
    loan_id = approved.get_json()["loan_id"]
    assert fund.get(f"/applications/{app_id}").get_json()["loan_id"] == loan_id

    on(fund.app, "2026-01-12")
    loan = fund.post(f"/loans/{loan_id}/contract", fund.officer, {"contract_date": "2026-01-12"})
    assert loan.status_code == 200
    loan = loan.get_json()
    assert loan["status"] == "contracted" and loan["contract_date"] == "2026-01-12"
    assert loan["contract_no"] == "HD-2026-0001" and loan["amount"] == 120_000_000
    assert loan["balances"]["principal_outstanding"] == 0

    on(fund.app, "2026-01-15")
    pending = fund.post(
        f"/loans/{loan_id}/disbursements",
        fund.accountant,
        {"amount": 120_000_000, "date": "2026-01-15", "reference": "UNC 15/01"},
    )
    assert pending.status_code == 201
    d = pending.get_json()
    assert (d["status"], d["amount"], d["date"]) == ("pending", 120_000_000, "2026-01-15")
    assert d["receipt_no"] == "KU-2026-0001"
    assert db.session.get(Loan, loan_id).disbursed == 0  # nothing moves before the checker
    # The recorder is the accountant, so either director may approve it.
    posted = fund.post(f"/disbursements/{d['id']}/approve", fund.director2)
    assert posted.status_code == 200
    assert posted.get_json()["status"] == "posted" and posted.get_json()["id"] == d["id"]

    loan = fund.get(f"/loans/{loan_id}").get_json()
    assert loan["status"] == "active"
    assert loan["first_disbursement_date"] == "2026-01-15"
    assert loan["maturity_date"] == "2027-01-15"
    assert loan["principal_method"] == "equal_principal" and loan["annual_rate"] == "6"
    assert loan["repayment_order"] == "standard" and loan["prepayment_mode"] == "keep_maturity"

    rows = fund.get(f"/loans/{loan_id}/schedule").get_json()["instalments"]
    assert len(rows) == 12
    # 1: 120.000.000 × 6 % × 31/365 (15/01 → 15/02) = 611.506,8 → 611.507
    assert rows[0] == {
        "no": 1,
        "due_date": "2026-02-15",
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
    # 2: 110.000.000 × 6 % × 28/365 (15/02 → 15/03) = 506.301,4 → 506.301
    assert (rows[1]["due_date"], rows[1]["principal"], rows[1]["interest"]) == (
        "2026-03-15",
        10_000_000,
        506_301,
    )
    # 12: 10.000.000 × 6 % × 31/365 (15/12 → 15/01) = 50.958,9 → 50.959
    assert (rows[11]["due_date"], rows[11]["interest"]) == ("2027-01-15", 50_959)
    assert sum(r["principal"] for r in rows) == 120_000_000

    # Instalment 1 paid on its due date: interest first, then principal.
    first = fund.repay(loan_id, 10_611_507, "2026-02-15")
    assert first.status_code == 201
    first = first.get_json()
    assert first["receipt_no"] == "PT-2026-000001" and first["prepaid_principal"] == 0
    assert first["allocations"] == [
        {"no": 1, "component": "interest", "amount": 611_507},
        {"no": 1, "component": "principal", "amount": 10_000_000},
    ]
    on(fund.app, "2026-02-15")
    assert fund.get(f"/loans/{loan_id}/schedule").get_json()["instalments"][0]["status"] == "paid"

    # Instalment 2 (due 15/03) paid 10 days late with 11.000.000 on 25/03: overdue interest
    # 10.000.000 × 6 % × 150 % × 10/365 = 24.657,53 plus 506.301 × 10 % × 10/365 = 1.387,13,
    # summed then rounded once: 26.044,66 → 26.045. Then interest 506.301, principal
    # 10.000.000, and the rest 11.000.000 − 26.045 − 506.301 − 10.000.000 = 467.654 prepays.
    key = {"Idempotency-Key": "pt-2026-03-25"}
    late = fund.repay(loan_id, 11_000_000, "2026-03-25", **key)
    assert late.status_code == 201
    late = late.get_json()
    assert late["allocations"] == [
        {"no": 2, "component": "penalty", "amount": 26_045},
        {"no": 2, "component": "interest", "amount": 506_301},
        {"no": 2, "component": "principal", "amount": 10_000_000},
        {"no": None, "component": "principal", "amount": 467_654, "prepayment": True},
    ]
    assert sum(a["amount"] for a in late["allocations"]) == late["amount"] == 11_000_000
    assert late["prepaid_principal"] == 467_654

    # The same POST with the same key is answered again and records nothing new.
    again = fund.repay(loan_id, 11_000_000, "2026-03-25", **key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == late
    assert db.session.query(Repayment).count() == 2
    other = fund.repay(loan_id, 12_000_000, "2026-03-25", **key)
    assert _error(other, 409)["code"] == "conflict"
    assert db.session.query(Repayment).count() == 2

    # The prepayment keeps the maturity: 120.000.000 − 20.000.000 − 467.654 = 99.532.346
    # over the 10 instalments left: 9.953.234 each, the last 9.953.240 (remainder 6).
    rows = fund.get(f"/loans/{loan_id}/schedule").get_json()["instalments"]
    assert [r["principal"] for r in rows[2:]] == [9_953_234] * 9 + [9_953_240]
    assert rows[1]["penalty_paid"] == 26_045 and rows[1]["paid_on"] == "2026-03-25"
    # 3: 100.000.000 × 6 % × 10/365 (15/03 → 25/03) + 99.532.346 × 6 % × 21/365
    #    = 164.383,56 + 343.591,18 = 507.974,74 → 507.975
    assert rows[2]["due_date"] == "2026-04-15" and rows[2]["interest"] == 507_975
    assert rows[11]["due_date"] == "2027-01-15"

    loan = fund.get(f"/loans/{loan_id}").get_json()
    assert loan["balances"] == {
        "as_of": "2026-03-25",
        "disbursed": 120_000_000,
        "principal_outstanding": 99_532_346,
        "principal_overdue": 0,
        "principal_due": 0,
        "interest_due": 0,
        "interest_overdue": 0,
        "penalty_due": 0,
        "total_due": 0,
        "days_past_due": 0,
        "oldest_unpaid_due_date": None,
        "debt_group": 1,
        # 99.532.346 + interest accrued 15/03 → 25/03 on 100.000.000: 164.383,56 → 164.384
        "payoff_amount": 99_696_730,
    }
    assert loan["principal_paid"] == 20_467_654 and loan["penalty_paid"] == 26_045
    # 611.507 + 506.301
    assert loan["interest_paid"] == 1_117_808

    # Nothing more is paid until the business date 20/11/2026: instalments 3–10 are overdue.
    on(fund.app, BUSINESS_DATE.isoformat())
    balances = fund.get(f"/loans/{loan_id}").get_json()["balances"]
    schedule = fund.get(f"/loans/{loan_id}/schedule").get_json()["instalments"]
    overdue = schedule[2:10]
    assert [r["status"] for r in schedule] == ["paid"] * 2 + ["overdue"] * 8 + ["scheduled"] * 2
    # 8 × 9.953.234
    assert balances["principal_overdue"] == 79_625_872
    assert balances["interest_overdue"] == sum(r["interest"] for r in overdue) == 2_605_518
    # Oldest unpaid due date 15/04/2026: 30+31+30+31+31+30+31 days to 15/11, + 5 = 219 →
    # group 5 (180 days or more, Circular 14/2024; it was 4, 181–360, before 12/08/2024).
    assert balances["oldest_unpaid_due_date"] == "2026-04-15"
    assert balances["days_past_due"] == 219 and balances["debt_group"] == 5
    # Overdue interest per instalment over [due date, 20/11): principal × 9 % + interest × 10 %,
    # rounded once per instalment.
    penalty = sum(
        dong(
            (Decimal(r["principal"]) * 9 + Decimal(r["interest"]) * 10)
            * (BUSINESS_DATE - date.fromisoformat(r["due_date"])).days
            / (100 * 365)
        )
        for r in overdue
    )
    assert balances["penalty_due"] == penalty
    # Payoff: principal + overdue interest + penalty + interest accrued 15/11 → 20/11 on the
    # 2 instalments not yet due: (9.953.234 + 9.953.240) × 6 % × 5/365 = 16.361,49 → 16.361.
    assert balances["payoff_amount"] == 99_532_346 + 2_605_518 + penalty + 16_361
    # ?as_of= reads the same loan on another day.
    back = fund.get(f"/loans/{loan_id}?as_of=2026-03-25").get_json()["balances"]
    assert back["payoff_amount"] == 99_696_730

    # Reversal of the late repayment: maker (accountant), checker (director).
    reversal = fund.post(
        f"/repayments/{late['id']}/reverse", fund.accountant, {"reason": "Nhầm số tiền"}
    )
    assert reversal.status_code == 201
    reversal = reversal.get_json()
    assert reversal["status"] == "pending" and reversal["repayment_id"] == late["id"]
    own = fund.post(f"/reversals/{reversal['id']}/approve", fund.accountant)
    assert _error(own, 403)["code"] == "forbidden"
    decided = fund.post(f"/reversals/{reversal['id']}/approve", fund.director)
    assert decided.status_code == 200
    assert decided.get_json()["status"] == "approved"
    listed = fund.get(f"/loans/{loan_id}/repayments").get_json()["items"]
    assert [(r["id"], r["reversed"]) for r in listed] == [(first["id"], False), (late["id"], True)]
    # Replayed without it: instalment 2 is again 10 days late on 25/03 (group 2: 10–90).
    back = fund.get(f"/loans/{loan_id}?as_of=2026-03-25").get_json()["balances"]
    assert (back["principal_overdue"], back["interest_overdue"]) == (10_000_000, 506_301)
    assert (back["penalty_due"], back["days_past_due"], back["debt_group"]) == (26_045, 10, 2)
    assert back["principal_outstanding"] == 110_000_000

    # Paying the payoff amount on the business date closes the loan.
    payoff = fund.get(f"/loans/{loan_id}").get_json()["balances"]["payoff_amount"]
    closing = fund.repay(loan_id, payoff, BUSINESS_DATE.isoformat())
    assert closing.status_code == 201
    assert sum(a["amount"] for a in closing.get_json()["allocations"]) == payoff
    loan = fund.get(f"/loans/{loan_id}").get_json()
    assert loan["status"] == "closed" and loan["closed_on"] == BUSINESS_DATE.isoformat()
    assert loan["balances"]["principal_outstanding"] == 0
    assert loan["balances"]["payoff_amount"] == 0
    before = _counts()
    refused = fund.repay(loan_id, 1_000_000, BUSINESS_DATE.isoformat())
    assert "Đã tất toán" in _error(refused)["message"]
    assert _counts() == before


# --- rules ---------------------------------------------------------------------------------


def test_wrong_state_transitions_are_422_with_a_message(fund):
    on(fund.app, "2026-01-10")
    app_id = fund.apply()["id"]
    draft_approve = fund.post(f"/applications/{app_id}/approve", fund.director, {})
    assert "thẩm định" in _error(draft_approve)["message"]
    draft_appraise = fund.post(
        f"/applications/{app_id}/appraise",
        fund.appraiser,
        {"recommended_amount": 100_000_000, "note": "x"},
    )
    assert _error(draft_appraise)["message"]
    assert fund.post(f"/applications/{app_id}/submit", fund.officer).status_code == 200
    twice = fund.post(f"/applications/{app_id}/submit", fund.officer)
    assert "Đã nộp" in _error(twice)["message"]
    assert db.session.get(Application, app_id).status == "submitted"

    loan_id = fund.approved_loan()
    # A disbursement before the contract is signed.
    early = fund.post(
        f"/loans/{loan_id}/disbursements",
        fund.accountant,
        {"amount": 1_000_000, "date": "2026-01-10"},
    )
    assert "hợp đồng" in _error(early)["message"]
    on(fund.app, "2026-01-12")
    assert (
        fund.post(f"/loans/{loan_id}/contract", fund.officer, {"contract_date": "2026-01-12"})
    ).status_code == 200
    again = fund.post(f"/loans/{loan_id}/contract", fund.officer, {"contract_date": "2026-01-12"})
    assert "Đã ký hợp đồng" in _error(again)["message"]
    assert db.session.get(Loan, loan_id).contract_date == date(2026, 1, 12)
    # An application already approved cannot be approved or rejected again.
    approved_app = db.session.get(Loan, loan_id).application_id
    twice = fund.post(f"/applications/{approved_app}/approve", fund.director2)
    assert "thẩm định" in _error(twice)["message"]
    assert db.session.query(Loan).count() == 1


def test_disbursement_twice_approved_and_rejected(fund):
    loan_id = fund.approved_loan()
    on(fund.app, "2026-01-12")
    bad_date = fund.post(
        f"/loans/{loan_id}/contract", fund.officer, {"contract_date": "2026-02-01"}
    )
    assert "contract_date" in _error(bad_date)["fields"]
    fund.post(f"/loans/{loan_id}/contract", fund.officer, {"contract_date": "2026-01-12"})
    on(fund.app, "2026-01-15")
    first = fund.post(
        f"/loans/{loan_id}/disbursements",
        fund.accountant,
        {"amount": 50_000_000, "date": "2026-01-15"},
    ).get_json()
    # More than the approved amount left (120.000.000 − 50.000.000 pending = 70.000.000).
    over = fund.post(
        f"/loans/{loan_id}/disbursements",
        fund.accountant,
        {"amount": 70_000_001, "date": "2026-01-15"},
    )
    assert "70.000.000" in _error(over)["fields"]["amount"]
    rejected = fund.post(
        f"/disbursements/{first['id']}/reject", fund.director, {"reason": "Sai TK"}
    )
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    late = fund.post(f"/disbursements/{first['id']}/approve", fund.director)
    assert "đã được xử lý" in _error(late)["message"]
    assert db.session.get(Loan, loan_id).status == "contracted"
    assert db.session.query(JournalEntry).count() == 1  # the capital entry only


def test_separation_of_duties(fund):
    on(fund.app, "2026-01-10")
    app_id = fund.apply()["id"]
    fund.post(f"/applications/{app_id}/submit", fund.officer)
    # An officer who is also a director appraises, then may not decide.
    both = fund.user("officer", "director")
    fund.post(
        f"/applications/{app_id}/appraise",
        both,
        {"recommended_amount": 120_000_000, "note": "Đạt"},
    )
    assert _error(fund.post(f"/applications/{app_id}/approve", both), 403)["code"] == "forbidden"
    assert _error(fund.post(f"/applications/{app_id}/reject", both, {"reason": "x"}), 403)
    assert db.session.get(Application, app_id).status == "appraised"
    # An officer cannot approve at all; neither can an accountant.
    assert fund.post(f"/applications/{app_id}/approve", fund.officer).status_code == 403
    assert fund.post(f"/applications/{app_id}/approve", fund.accountant).status_code == 403
    loan_id = fund.post(f"/applications/{app_id}/approve", fund.director).get_json()["loan_id"]

    # A disbursement recorded by an accountant who is also a director: someone else approves.
    fund.post(f"/loans/{loan_id}/contract", fund.officer, {"contract_date": "2026-01-10"})
    maker = fund.user("accountant", "director")
    d = fund.post(
        f"/loans/{loan_id}/disbursements", maker, {"amount": 120_000_000, "date": "2026-01-10"}
    ).get_json()
    assert _error(fund.post(f"/disbursements/{d['id']}/approve", maker), 403)
    assert fund.post(f"/disbursements/{d['id']}/approve", fund.accountant).status_code == 403
    assert db.session.get(Disbursement, d["id"]).status == "pending"
    assert fund.post(f"/disbursements/{d['id']}/approve", fund.director).status_code == 200

    # The same for a reversal: who recorded the repayment or asked for the reversal may not
    # approve it.
    on(fund.app, "2026-02-10")
    paid = fund.post(
        f"/loans/{loan_id}/repayments", maker, {"amount": 1_000_000, "date": "2026-02-10"}
    ).get_json()
    rev = fund.post(f"/repayments/{paid['id']}/reverse", maker, {"reason": "Trùng"}).get_json()
    assert _error(fund.post(f"/reversals/{rev['id']}/approve", maker), 403)
    dup = fund.post(f"/repayments/{paid['id']}/reverse", fund.accountant, {"reason": "Trùng"})
    assert "chờ duyệt" in _error(dup)["message"]
    rejected = fund.post(f"/reversals/{rev['id']}/reject", fund.director, {"reason": "Không trùng"})
    assert rejected.get_json()["status"] == "rejected"
    assert db.session.get(Repayment, paid["id"]).reversed is False


def test_board_overrides_a_concentration_limit_only_with_a_reason(fund):
    # 15 % of 15.000.000.000 = 2.250.000.000 < 2.400.000.000: a limit, not a blocking rule.
    on(fund.app, "2026-01-10")
    app_id = fund.apply(
        total_project_cost=3_000_000_000, own_equity=600_000_000, requested_amount=2_400_000_000
    )["id"]
    fund.post(f"/applications/{app_id}/submit", fund.officer)
    appraised = fund.post(
        f"/applications/{app_id}/appraise",
        fund.appraiser,
        {"recommended_amount": 2_400_000_000, "note": "Vượt hạn mức một khách hàng"},
    ).get_json()
    single = next(c for c in appraised["checks"] if c["code"] == "single_borrower")
    assert single["passed"] is False and single["blocking"] is False
    # "còn trống" (headroom) 2.250.000.000 − 2.400.000.000 = −150.000.000
    assert "\u2212150.000.000 đ" in single["detail"]
    # 2.400.000.000 is also above the director's authority (500.000.000): blocking for him.
    refused = _error(fund.post(f"/applications/{app_id}/approve", fund.director))
    assert "500.000.000" in refused["message"]
    board = fund.user("board")
    no_reason = fund.post(f"/applications/{app_id}/approve", board, {"note": "Đồng ý"})
    assert "override_reason" in _error(no_reason)["fields"]
    assert db.session.query(Loan).count() == 0
    ok = fund.post(
        f"/applications/{app_id}/approve",
        board,
        {"note": "Đồng ý", "override_reason": "Dự án trọng điểm của tỉnh"},
    )
    assert ok.status_code == 200
    body = ok.get_json()
    assert body["override_reason"] == "Dự án trọng điểm của tỉnh" and body["loan_id"]


def test_reject_and_withdraw(fund):
    on(fund.app, "2026-01-10")
    first = fund.apply()["id"]
    fund.post(f"/applications/{first}/submit", fund.officer)
    no_reason = fund.post(f"/applications/{first}/reject", fund.director, {"reason": " "})
    assert "reason" in _error(no_reason)["fields"]
    rejected = fund.post(f"/applications/{first}/reject", fund.director, {"reason": "Thiếu hồ sơ"})
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["decision_note"] == "Thiếu hồ sơ"
    second = fund.apply()["id"]
    withdrawn = fund.post(f"/applications/{second}/withdraw", fund.officer, {"reason": "HTX rút"})
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert fund.post(f"/applications/{second}/submit", fund.officer).status_code == 422
    listing = fund.get("/applications?status=rejected").get_json()
    assert [a["id"] for a in listing["items"]] == [first]


def test_restructuring_term_adjustment_floors_the_debt_group(fund):
    loan_id = fund.disbursed_loan()
    on(fund.app, "2026-02-10")
    body = {
        "kind": "term_adjustment",
        "effective_date": "2026-02-10",
        # The 120.000.000 outstanding moves to two harvest dates; maturity unchanged.
        "principal_plan": [["2026-07-15", 60_000_000], ["2027-01-15", 60_000_000]],
        "reason": "Mất mùa do rét đậm",
    }
    bad = fund.post(
        f"/loans/{loan_id}/restructurings",
        fund.officer,
        {**body, "principal_plan": [["2026-07-15", "60000000"], ["2027-01-15", 60_000_000]]},
    )
    assert "principal_plan" in _error(bad)["fields"]
    wrong_sum = fund.post(
        f"/loans/{loan_id}/restructurings",
        fund.officer,
        {**body, "principal_plan": [["2026-07-15", 60_000_000], ["2027-01-15", 50_000_000]]},
    )
    assert _error(wrong_sum)["message"]
    assert db.session.query(Restructuring).count() == 0
    requested = fund.post(f"/loans/{loan_id}/restructurings", fund.officer, body)
    assert requested.status_code == 201
    r = requested.get_json()
    assert r["status"] == "pending" and r["kind"] == "term_adjustment"
    assert fund.post(f"/restructurings/{r['id']}/approve", fund.officer).status_code == 403
    approved = fund.post(f"/restructurings/{r['id']}/approve", fund.director, {"note": "Đồng ý"})
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    again = fund.post(f"/restructurings/{r['id']}/reject", fund.director)
    assert "đã được xử lý" in _error(again)["message"]

    rows = fund.get(f"/loans/{loan_id}/schedule").get_json()["instalments"]
    principal = {r["due_date"]: r["principal"] for r in rows if r["principal"]}
    assert principal == {"2026-07-15": 60_000_000, "2027-01-15": 60_000_000}
    balances = fund.get(f"/loans/{loan_id}").get_json()["balances"]
    # Nothing overdue, but a first term adjustment puts the loan at least in group 2.
    assert balances["days_past_due"] == 0 and balances["debt_group"] == 2
    assert fund.get(f"/loans/{loan_id}").get_json()["term_adjustments"] == 1


# --- bad input -----------------------------------------------------------------------------


BAD_AMOUNTS = [
    ("10611507", "không phải chuỗi"),
    ("10.611.507", "không phải chuỗi"),
    (10611507.0, "không có phần thập phân"),
    (-5, "lớn hơn 0"),
    (0, "lớn hơn 0"),
    (True, "số nguyên đồng"),
    (None, "Nhập số tiền"),
    ([1], "số nguyên đồng"),
    (10**20, "quá lớn"),
]

BAD_REPAYMENT_FIELDS = [
    ({"date": "15/13/2026"}, "date"),
    ({"date": 20260215}, "date"),
    ({"date": "2026-11-21"}, "date"),  # after the business date
    ({"date": "2026-01-14"}, "date"),  # before the disbursement
    ({"method": "bitcoin"}, "method"),
    ({"reference": 42}, "reference"),
    ({"note": "x"}, "note"),  # unknown field
]


def test_bad_money_and_fields_change_nothing(fund):
    # One loan for every case (the journey to a disbursed loan is the slow part).
    loan_id = fund.disbursed_loan()
    on(fund.app, BUSINESS_DATE.isoformat())
    before = _counts()
    for amount, message in BAD_AMOUNTS:
        for path in ("repayments", "disbursements"):
            response = fund.post(
                f"/loans/{loan_id}/{path}",
                fund.accountant,
                {"amount": amount, "date": "2026-02-15"},
                **{"Idempotency-Key": f"bad-{path}"},
            )
            assert message in _error(response)["fields"]["amount"], (path, amount)
    for body, field in BAD_REPAYMENT_FIELDS:
        response = fund.post(
            f"/loans/{loan_id}/repayments",
            fund.accountant,
            {"amount": 1_000_000, "date": "2026-02-15", **body},
        )
        assert field in _error(response)["fields"], body
    not_an_object = fund.post(f"/loans/{loan_id}/repayments", fund.accountant, [1_000_000])
    assert _error(not_an_object)["code"] == "validation_error"
    assert _counts() == before
    # Refused keys were not kept: the same key with a good body is a first request.
    good = fund.post(
        f"/loans/{loan_id}/repayments",
        fund.accountant,
        {"amount": 1_000_000, "date": "2026-02-15"},
        **{"Idempotency-Key": "bad-repayments"},
    )
    assert good.status_code == 201 and "Idempotent-Replayed" not in good.headers


def test_overpayment_is_refused(fund):
    loan_id = fund.disbursed_loan()
    # Payoff on 15/02/2026: 120.000.000 + interest 611.507; one đồng more is refused.
    on(fund.app, "2026-02-15")
    payoff = fund.get(f"/loans/{loan_id}").get_json()["balances"]["payoff_amount"]
    assert payoff == 120_611_507
    before = _counts()
    assert "vượt" in _error(fund.repay(loan_id, payoff + 1, "2026-02-15"))["message"]
    assert _counts() == before


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"requested_amount": "120000000"}, {"requested_amount"}),
        (
            {"total_project_cost": 1.6e8, "own_equity": "40000000"},
            {"total_project_cost", "own_equity"},
        ),
        ({"requested_amount": -1}, {"requested_amount"}),
        ({"requested_amount": 0}, {"requested_amount"}),
        ({"annual_rate": 6.5}, {"annual_rate"}),
        ({"annual_rate": "sáu"}, {"annual_rate"}),
        ({"annual_rate": "150"}, {"annual_rate"}),
        ({"term_months": 0}, {"term_months"}),
        ({"term_months": 12.5}, {"term_months"}),
        ({"principal_method": "balloon"}, {"principal_method"}),
        ({"principal_every_months": 2}, {"principal_every_months"}),
        ({"grace_months": 12}, {"grace_months"}),
        (
            {"own_equity": 20_000_000, "total_project_cost": 10_000_000},
            {"own_equity", "requested_amount"},
        ),
        ({"cooperative_id": 99999}, {"cooperative_id"}),
        ({"cooperative_id": "abc"}, {"cooperative_id"}),
        ({"project_name": ""}, {"project_name"}),
        ({"project_name": 7}, {"project_name"}),
        ({"principal_method": "custom"}, {"custom_schedule"}),
        (
            {"principal_method": "custom", "custom_schedule": [["2026-07-15", "120000000"]]},
            {"custom_schedule"},
        ),
        (
            {"principal_method": "custom", "custom_schedule": [["2026-07-15", 100_000_000]]},
            {"custom_schedule"},
        ),
        ({"interest": 1}, {"interest"}),
    ],
)
def test_bad_application_is_422_with_fields_and_changes_nothing(fund, changes, fields):
    on(fund.app, "2026-01-10")
    response = fund.post(
        "/applications", fund.officer, {"cooperative_id": fund.coop.id, **APPLICATION, **changes}
    )
    assert set(_error(response)["fields"]) == fields
    assert db.session.query(Application).count() == 0


def test_custom_schedule_and_integer_rate_are_accepted(fund):
    on(fund.app, "2026-01-10")
    created = fund.apply(
        annual_rate=7,
        principal_method="custom",
        custom_schedule=[["2026-07-15", 70_000_000], ["2027-01-15", 50_000_000]],
    )
    assert created["annual_rate"] == "7"
    assert created["custom_schedule"] == [["2026-07-15", 70_000_000], ["2027-01-15", 50_000_000]]
    assert fund.apply(annual_rate="7.2")["annual_rate"] == "7.2"


def test_bad_bodies_and_queries(fund):
    on(fund.app, "2026-01-10")
    app_id = fund.apply()["id"]
    fund.post(f"/applications/{app_id}/submit", fund.officer)
    for payload in (
        {"recommended_amount": "120000000", "note": "x"},
        {"recommended_amount": 130_000_000, "note": "x"},  # above the request
        {"recommended_amount": 100_000_000, "note": ""},
    ):
        response = fund.post(f"/applications/{app_id}/appraise", fund.appraiser, payload)
        assert _error(response)["fields"]
    not_json = fund.client.post(
        f"{API}/applications/{app_id}/appraise",
        data="recommended_amount=1",
        content_type="application/x-www-form-urlencoded",
        headers=fund.appraiser,
    )
    assert _error(not_json)["code"] == "validation_error"
    assert db.session.get(Application, app_id).status == "submitted"
    assert "status" in _error(fund.get("/applications?status=bogus"))["fields"]
    assert "cooperative_id" in _error(fund.get("/loans?cooperative_id=x"))["fields"]
    assert "page" in _error(fund.get("/loans?page=0"))["fields"]
    loan_id = fund.approved_loan()
    assert "as_of" in _error(fund.get(f"/loans/{loan_id}?as_of=2026-02-30"))["fields"]


def test_unknown_objects_are_404(fund):
    for path, headers in (
        ("/loans/99999/repayments", fund.accountant),
        ("/loans/99999/disbursements", fund.accountant),
        ("/loans/99999/contract", fund.officer),
        ("/loans/99999/restructurings", fund.officer),
        ("/disbursements/99999/approve", fund.director),
        ("/disbursements/99999/reject", fund.director),
        ("/repayments/99999/reverse", fund.accountant),
        ("/reversals/99999/approve", fund.director),
        ("/reversals/99999/reject", fund.director),
        ("/restructurings/99999/approve", fund.director),
        ("/applications/99999/submit", fund.officer),
        ("/applications/99999/approve", fund.director),
    ):
        response = fund.post(path, headers, {"amount": 1, "date": "2026-01-01", "reason": "x"})
        assert _error(response, 404)["code"] == "not_found", path
    for path in ("/loans/99999", "/loans/99999/schedule", "/applications/99999"):
        assert fund.get(path).status_code == 404


# --- who sees what -------------------------------------------------------------------------


def test_cooperative_user_reads_only_its_own(fund):
    own_loan = fund.disbursed_loan()
    neighbour = make_cooperative(name="HTX Gà đồi Yên Thế")
    on(fund.app, "2026-01-10")
    other_app = fund.apply(cooperative_id=neighbour.id)["id"]
    own_app = db.session.get(Loan, own_loan).application_id
    other_loan = Loan(
        contract_no="HD-2026-0099",
        cooperative_id=neighbour.id,
        project_name="Nuôi gà đồi",
        amount=50_000_000,
        term_months=12,
        annual_rate=Decimal("6"),
        approved_on=date(2026, 1, 10),
    )
    db.session.add(other_loan)
    db.session.commit()

    me = fund.coop_user
    on(fund.app, BUSINESS_DATE.isoformat())
    for path in (
        f"/loans/{other_loan.id}",
        f"/loans/{other_loan.id}/schedule",
        f"/loans/{other_loan.id}/repayments",
        f"/applications/{other_app}",
    ):
        assert _error(fund.get(path, me), 404)["code"] == "not_found", path
    for path in (
        f"/loans/{own_loan}",
        f"/loans/{own_loan}/schedule",
        f"/loans/{own_loan}/repayments",
        f"/applications/{own_app}",
    ):
        assert fund.get(path, me).status_code == 200, path
    # Nothing repaid: 15/02 → 20/11/2026 = 278 days past due → group 5 (≥ 180 days,
    # Circular 14/2024; group 4, 181–360, before 12/08/2024).
    assert fund.get(f"/loans/{own_loan}", me).get_json()["balances"]["debt_group"] == 5
    assert [x["id"] for x in fund.get("/loans", me).get_json()["items"]] == [own_loan]
    # The cooperative_id filter cannot widen a cooperative user's view.
    mine = fund.get(f"/loans?cooperative_id={neighbour.id}", me).get_json()["items"]
    assert [x["id"] for x in mine] == [own_loan]
    assert [x["id"] for x in fund.get("/applications", me).get_json()["items"]] == [own_app]

    # Staff see both and can filter.
    everything = fund.get("/loans").get_json()
    assert everything["total"] == 2
    assert [x["id"] for x in fund.get("/loans?status=active").get_json()["items"]] == [own_loan]
    filtered = fund.get(f"/applications?cooperative_id={neighbour.id}").get_json()["items"]
    assert [x["id"] for x in filtered] == [other_app]

    # …and may POST nothing here but its own applications (tests/web/test_portal.py), at the
    # rate the fund's policy sets.
    before = _counts()
    rate = fund.post("/applications", me, {"cooperative_id": fund.coop.id, **APPLICATION})
    assert list(_error(rate, 422)["fields"]) == ["annual_rate"]
    for path, payload in (
        (f"/loans/{own_loan}/repayments", {"amount": 1_000_000, "date": "2026-11-20"}),
        (f"/loans/{own_loan}/disbursements", {"amount": 1_000_000, "date": "2026-11-20"}),
        (f"/loans/{own_loan}/restructurings", {"kind": "extension"}),
        ("/disbursements/1/approve", {}),
    ):
        assert _error(fund.post(path, me, payload), 403)["code"] == "forbidden", path
    assert _counts() == before


def test_controller_reads_and_anonymous_is_401(fund):
    loan_id = fund.disbursed_loan()
    controller = fund.user("controller")
    assert fund.get(f"/loans/{loan_id}", controller).status_code == 200
    assert fund.get("/applications", controller).get_json()["total"] == 1
    assert fund.post(f"/loans/{loan_id}/repayments", controller, {}).status_code == 403
    assert fund.client.get(f"{API}/loans/{loan_id}").status_code == 401
