"""The readiness check (fundapp/lending/readiness.py), figures checked by hand.

The policy defaults: own equity at least 20 % of the project cost, bad debt from group 3.
- cost 500.000.000, equity 80.000.000: 20 % of 500.000.000 = 100.000.000 needed,
  100.000.000 − 80.000.000 = 20.000.000 đ missing; the loan cap 500.000.000 − 80.000.000
  = 420.000.000 ≥ the 400.000.000 asked, so only the equity condition fails;
- cost 500.000.001: 20 % = 100.000.000,2 → 100.000.001 needed (up to the whole đồng:
  100.000.000 would be 19,99999996 %).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db
from fundapp.lending import readiness
from fundapp.lending.readiness import Amounts
from fundapp.loans.models import Application
from tests.conftest import BUSINESS_DATE, make_cooperative
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff


def amounts(**changes) -> Amounts:
    values = {
        "total_project_cost": 500_000_000,
        "own_equity": 80_000_000,
        "requested_amount": 400_000_000,
        "collateral": True,
        "purpose": "Mua máy sấy vải",
    }
    values.update(changes)
    return Amounts(**values)


def by_code(conditions) -> dict[str, readiness.Condition]:
    return {c.code: c for c in conditions}


def test_short_of_equity_fails_only_the_equity_condition_with_the_amount_missing(app):
    coop = make_cooperative()
    result = readiness.check(coop, amounts(), BUSINESS_DATE)
    assert [c.code for c in result] == [
        "legal_status",
        "project",
        "equity",
        "no_bad_debt",
        "collateral",
    ]
    failing = [c for c in result if not c.passed]
    assert [c.code for c in failing] == ["equity"]
    equity = failing[0]
    assert equity.missing == 20_000_000
    assert "còn thiếu 20.000.000 đ" in equity.detail
    assert "100.000.000 đ" in equity.detail  # the least equity needed
    assert equity.bring
    assert "Điều 22" in equity.basis


def test_equity_at_the_minimum_passes_with_nothing_missing(app):
    result = by_code(
        readiness.check(make_cooperative(), amounts(own_equity=100_000_000), BUSINESS_DATE)
    )
    assert result["equity"].passed
    assert result["equity"].missing == 0
    assert all(c.passed for c in result.values())


def test_the_equity_needed_is_rounded_up_to_the_dong():
    assert readiness.equity_needed(500_000_001, Decimal(20)) == 100_000_001
    assert readiness.equity_needed(500_000_000, Decimal(20)) == 100_000_000
    assert readiness.equity_needed(333_333_333, Decimal("25.5")) == 85_000_000  # 84.999.999,9


def test_one_dong_short_fails(app):
    result = by_code(
        readiness.check(
            make_cooperative(),
            amounts(total_project_cost=500_000_001, own_equity=100_000_000),
            BUSINESS_DATE,
        )
    )
    assert not result["equity"].passed
    assert result["equity"].missing == 1


def test_a_loan_above_cost_less_equity_fails_the_equity_condition_with_nothing_missing(app):
    # cap 500.000.000 − 100.000.000 = 400.000.000 < 450.000.000 asked
    result = by_code(
        readiness.check(
            make_cooperative(),
            amounts(own_equity=100_000_000, requested_amount=450_000_000),
            BUSINESS_DATE,
        )
    )
    assert not result["equity"].passed
    assert result["equity"].missing == 0
    assert "400.000.000 đ" in result["equity"].detail


def test_no_purpose_and_no_collateral_fail_their_conditions(app):
    result = by_code(
        readiness.check(
            make_cooperative(),
            amounts(own_equity=100_000_000, purpose="", collateral=False),
            BUSINESS_DATE,
        )
    )
    assert [c for c, v in result.items() if not v.passed] == ["project", "collateral"]
    assert "quy chế của Quỹ" in result["collateral"].detail
    assert result["collateral"].bring


def test_bad_debt_from_the_policy_group(app):
    staff = fund_and_staff()
    coop = make_cooperative()
    loan = contracted_loan(staff, cooperative=coop, on=date(2026, 8, 3))
    disburse(staff, loan, 120_000_000, date(2026, 8, 5))
    good = amounts(own_equity=100_000_000)

    loan.debt_group = 2
    db.session.commit()
    bad_debt = by_code(readiness.check(coop, good, BUSINESS_DATE))["no_bad_debt"]
    assert bad_debt.passed
    assert "Nhóm nợ hiện tại: 2" in bad_debt.detail

    loan.debt_group = 3
    db.session.commit()
    bad_debt = by_code(readiness.check(coop, good, BUSINESS_DATE))["no_bad_debt"]
    assert not bad_debt.passed
    assert "nợ xấu từ nhóm 3" in bad_debt.detail
    # Another borrower is not touched by it.
    assert by_code(readiness.check(make_cooperative(), good, BUSINESS_DATE))["no_bad_debt"].passed


def test_an_application_is_checked_on_its_own_amounts(app):
    coop = make_cooperative()
    application = Application(
        cooperative=coop,
        project_name="Kho lạnh",
        purpose="Xây kho lạnh",
        total_project_cost=500_000_000,
        own_equity=80_000_000,
        requested_amount=400_000_000,
        collateral_offered="Quyền sử dụng đất",
    )
    result = readiness.check_application(application, BUSINESS_DATE)
    assert [c.code for c in result if not c.passed] == ["equity"]
    assert by_code(result)["equity"].missing == 20_000_000


def test_typed_amounts_are_read_and_bad_ones_refused(app):
    typed = readiness.read_amounts(
        {
            "total_project_cost": "500.000.000",
            "own_equity": "80.000.000",
            "requested_amount": "400.000.000",
            "collateral": "yes",
            "purpose": " Mua máy sấy ",
        }
    )
    assert typed == Amounts(500_000_000, 80_000_000, 400_000_000, True, "Mua máy sấy")
    with pytest.raises(ValidationFailed) as refused:
        readiness.read_amounts(
            {
                "total_project_cost": "abc",
                "own_equity": "",
                "requested_amount": "1",
                "collateral": "maybe",
            }
        )
    assert set(refused.value.fields) == {"total_project_cost", "own_equity", "collateral"}
