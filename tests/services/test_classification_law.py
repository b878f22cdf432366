"""The close of day classifies by the law in force on each date (issue 15), with figures
checked by hand.

The loan: 120.000.000 đ at 6 %/year over 12 months, equal principal monthly (short-term:
one month on time before an upgrade). Until 11/08/2024 the version shipped before issue 15
applies (Circular 11/2021 style: groups from 10, 91, 181, 361 days); from 12/08/2024
Circular 14/2024/TT-NHNN (10, 30, 90, 180). Provision rates: 0 / 5 / 20 / 50 / 100 % until
10/07/2024, then Decree 86/2024/NĐ-CP's 0 / 2 / 25 / 50 / 100 %.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fundapp.extensions import db
from fundapp.ledger.services import check_invariants
from fundapp.lending import restructuring
from fundapp.loans import standing, store
from fundapp.loans.models import Loan
from fundapp.policy import services as policy
from fundapp.policy.models import PolicyParameter
from fundapp.servicing.close_day import run_pending
from tests.jobs.helpers import close, day_of
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff


def live(loan: Loan, day: date) -> int:
    """The group the API and the portal show on ``day``."""
    fresh = db.session.get(Loan, loan.id)
    return standing.live_group(fresh, store.replay(fresh), day)


def loan_disbursed(staff, when: date, **terms) -> Loan:
    loan = contracted_loan(staff, on=when - timedelta(days=10), **terms)
    disburse(staff, loan, 120_000_000, when)
    return loan


@pytest.fixture
def staff(app):
    return fund_and_staff()


# Disbursed 15/01/2023: instalment 1 due 15/02/2023; 361 days later is 11/02/2024, before
# Circular 14/2024 and before Decree 86/2024.
OLD_DUE = date(2023, 2, 15)


@pytest.mark.parametrize(
    ("days", "group", "provision"),
    [
        (9, 1, 0),
        (10, 2, 6_000_000),  # 5 % × 120.000.000
        (90, 2, 6_000_000),
        (91, 3, 24_000_000),  # 20 % × 120.000.000
        (180, 3, 24_000_000),
        (181, 4, 60_000_000),  # 50 %
        (360, 4, 60_000_000),
        (361, 5, 120_000_000),  # 100 %
    ],
)
def test_boundaries_before_12_august_2024(staff, days, group, provision):
    loan = loan_disbursed(staff, date(2023, 1, 15))
    close(OLD_DUE + timedelta(days=days), start=OLD_DUE + timedelta(days=days))
    record = day_of(loan)
    assert (record.days_past_due, record.debt_group) == (days, group)
    assert record.specific_provision == provision
    assert live(loan, OLD_DUE + timedelta(days=days)) == group


def test_the_group_changes_on_12_august_2024_because_the_law_changed(staff):
    # Disbursed 27/05/2024, instalment 1 due 27/06/2024 and never paid.
    loan = loan_disbursed(staff, date(2024, 5, 27))
    close(date(2024, 8, 11), start=date(2024, 8, 11))
    # 11/08 − 27/06 = 45 days: group 2 (10–90); Decree 86/2024 already: 2 % × 120.000.000.
    record = day_of(loan)
    assert (record.days_past_due, record.debt_group) == (45, 2)
    assert record.specific_provision == 2_400_000
    close(date(2024, 8, 12))
    # 12/08 − 27/06 = 46 days: group 3 (30–< 90) of Circular 14/2024: 25 % = 30.000.000.
    record = day_of(loan)
    assert (record.days_past_due, record.debt_group) == (46, 3)
    assert record.specific_provision == 30_000_000
    assert live(loan, date(2024, 8, 12)) == 3
    result = check_invariants()
    assert result.ok, result.problems


def test_every_active_loan_is_reexamined_when_the_law_changes(staff):
    loan_disbursed(staff, date(2024, 5, 27))
    current = loan_disbursed(staff, date(2024, 8, 1))
    close(date(2024, 8, 11), start=date(2024, 8, 11))
    counts = run_pending(date(2024, 8, 12), "cli")[0].counts
    assert counts["loans_examined"] == 2
    assert day_of(current).debt_group == 1


def restructure(staff, loan: Loan, kind: str, effective: date, **extra) -> None:
    data = {"kind": kind, "effective_date": effective.isoformat(), "reason": "Mất mùa", **extra}
    request = restructuring.request_restructuring(staff.officer, loan.id, data, effective)
    restructuring.decide_restructuring(staff.director, request.id, True, "", effective)
    db.session.commit()


@pytest.mark.parametrize(
    ("disbursed", "effective", "maturity", "groups"),
    [
        # Circular 14/2024: a first restructuring → 2; overdue on its new schedule 1–29
        # days → 3, 30–89 → 4.
        (date(2026, 1, 15), date(2026, 2, 1), "2027-07-15", (2, 3, 3, 4)),
        # Before 12/08/2024: a first extension → 3; overdue on its new schedule < 90 days
        # → 4.
        (date(2023, 1, 15), date(2023, 2, 1), "2024-07-15", (3, 4, 4, 4)),
    ],
)
def test_restructured_then_overdue(staff, disbursed, effective, maturity, groups):
    loan = loan_disbursed(staff, disbursed)
    restructure(staff, loan, "extension", effective, new_maturity=maturity)
    first_due = min(
        i.due_date for i in db.session.get(Loan, loan.id).instalments if i.due_date > effective
    )
    days = (
        effective + timedelta(days=1),
        first_due + timedelta(days=1),
        first_due + timedelta(days=29),
        first_due + timedelta(days=30),
    )
    close(days[0], start=days[0])
    got = [day_of(loan).debt_group]
    for day in days[1:]:
        close(day)
        got.append(day_of(loan).debt_group)
        assert live(loan, day) == got[-1]
    assert tuple(got) == groups
    result = check_invariants()
    assert result.ok, result.problems


@pytest.mark.parametrize("disbursed", [date(2023, 1, 15), date(2026, 1, 15)])
def test_an_interest_relief_puts_a_current_loan_in_group_three(staff, disbursed):
    loan = loan_disbursed(staff, disbursed)
    day = disbursed + timedelta(days=5)
    close(day, start=day)
    assert day_of(loan).debt_group == 1
    # What the relief workflow does when a relief is approved: count it, reclassify.
    fresh = db.session.get(Loan, loan.id)
    fresh.interest_reliefs = 1
    fresh.reclassify = True
    db.session.commit()
    close(day + timedelta(days=1))
    assert day_of(loan).debt_group == 3
    assert live(loan, day + timedelta(days=1)) == 3


def test_the_live_group_agrees_with_the_close_of_day_during_the_wait(staff):
    from fundapp.repayments import services as rs

    loan = loan_disbursed(staff, date(2026, 1, 15))
    due = date(2026, 2, 15)
    close(due + timedelta(days=35), start=due)
    assert day_of(loan).debt_group == 3  # 35 days: group 3
    # 22/03: pays everything due (instalment 1 with its overdue interest, and instalment 2).
    payoff = store.replay(db.session.get(Loan, loan.id)).balances(date(2026, 3, 22)).total_due
    rs.record_repayment(
        staff.accountant, loan.id, {"amount": payoff, "date": "2026-03-22"}, date(2026, 3, 22)
    )
    db.session.commit()
    close(date(2026, 3, 23))
    assert (day_of(loan).debt_group, day_of(loan).cured_on) == (3, date(2026, 3, 23))
    assert live(loan, date(2026, 3, 23)) == 3


def test_policy_init_writes_both_dated_versions(app):
    assert policy.install_defaults() > 0
    db.session.commit()
    rows = {
        (r.key, r.effective_from): r.value
        for r in db.session.query(PolicyParameter).filter(
            PolicyParameter.key.in_(
                ["group_thresholds_days", "restructure_floor_groups", "provision_rates_pct"]
            )
        )
    }
    assert rows == {
        ("group_thresholds_days", date(2021, 4, 1)): "10,91,181,361",
        ("group_thresholds_days", date(2024, 8, 12)): "10,30,90,180",
        ("restructure_floor_groups", date(2021, 4, 1)): "2,3,4,5",
        ("restructure_floor_groups", date(2024, 8, 12)): "2,2,4,5",
        ("provision_rates_pct", date(2021, 4, 1)): "0,5,20,50,100",
        ("provision_rates_pct", date(2024, 7, 11)): "0,2,25,50,100",
    }
    assert policy.install_defaults() == 0  # nothing twice
    assert policy.value("group_thresholds_days", date(2024, 8, 11)) == [10, 91, 181, 361]
    assert policy.value("group_thresholds_days", date(2024, 8, 12)) == [10, 30, 90, 180]


def test_a_database_with_only_the_2021_law_gets_the_later_versions(app):
    from fundapp.policy.parameters import BY_KEY

    db.session.add(
        PolicyParameter(
            key="group_thresholds_days",
            value="10,91,181,361",
            effective_from=date(2021, 4, 1),
            legal_reference="x",
        )
    )
    db.session.commit()
    # A fund check names the repealed rule still in force on 12/08/2024.
    from fundapp.ledger.services import check_invariants as check

    problems = " ".join(check().problems)
    assert "still in force on 2024-08-12" in problems
    param = BY_KEY["group_thresholds_days"]
    assert [v[0] for v in policy.legal_versions_missing(param, [date(2021, 4, 1)])] == [
        date(2024, 8, 12)
    ]
    # A version the board approved from that date on stands.
    assert policy.legal_versions_missing(param, [date(2021, 4, 1), date(2025, 1, 1)]) == []
    policy.install_defaults()
    db.session.commit()
    assert "still in force" not in " ".join(check().problems)
