"""One borrower, one group (docs/rules.md#debt-classification-and-provisions): a loan's
`debt_group` in the API and the portal is the worst own group of its borrower's active loans,
as of the date asked."""

from __future__ import annotations

from datetime import date

from tests.conftest import api_token, make_cooperative, make_user
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff


def test_a_borrowers_loans_share_its_worst_group(app, client):
    staff = fund_and_staff()
    coop, other = make_cooperative(), make_cooperative()
    # Disbursed 05/01/2026, nothing repaid: the first instalment is unpaid since 05/02.
    # On 20/11/2026 that is 28 + 31 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 15 = 288 days:
    # group 5 (180 days or more, Circular 14/2024/TT-NHNN; it was group 4, 181–360, under
    # the rules of before 12/08/2024).
    late = contracted_loan(staff, cooperative=coop, on=date(2026, 1, 5))
    disburse(staff, late, late.amount, date(2026, 1, 5))
    # Disbursed 01/11/2026, first instalment due 01/12: nothing overdue, own group 1.
    fresh = contracted_loan(staff, cooperative=coop, on=date(2026, 11, 1))
    disburse(staff, fresh, fresh.amount, date(2026, 11, 1))
    alone = contracted_loan(staff, cooperative=other, on=date(2026, 11, 1))
    disburse(staff, alone, alone.amount, date(2026, 11, 1))
    headers = api_token(client, make_user("controller"))

    def balances(loan, as_of: str = "2026-11-20") -> dict:
        return client.get(f"/api/v1/loans/{loan.id}?as_of={as_of}", headers=headers).get_json()[
            "balances"
        ]

    assert (balances(late)["days_past_due"], balances(late)["debt_group"]) == (288, 5)
    assert (balances(fresh)["days_past_due"], balances(fresh)["debt_group"]) == (0, 5)
    assert balances(alone)["debt_group"] == 1
    # As of 20/02/2026 the late loan was 15 days past due (group 2), the other not yet lent.
    assert balances(late, "2026-02-20")["debt_group"] == 2
