from __future__ import annotations

import pytest

from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import CapitalEntry, JournalEntry
from fundapp.ledger.services import balances
from tests.conftest import login, make_user


@pytest.fixture
def accountant_client(client, app):
    login(client, make_user("accountant"))
    return client


def _post(client, **values):
    data = {
        "source": "charter",
        "amount": "1.500.000.000",
        "entry_date": "15/11/2026",
        "reference": "QĐ 12/QĐ-UBND",
        "note": "",
        "source_name": "",
    }
    data.update(values)
    return client.post("/capital/new", data=data)


def test_accountant_records_capital_and_it_posts_dr_cash_cr_capital(accountant_client):
    response = _post(accountant_client)
    assert response.status_code == 302
    entry = db.session.query(CapitalEntry).one()
    assert entry.amount == 1_500_000_000
    assert entry.journal_entry.lines[0].account == acc.CASH
    assert entry.journal_entry.lines[0].debit == 1_500_000_000
    assert entry.journal_entry.lines[1].account == acc.CHARTER_CAPITAL
    assert entry.journal_entry.lines[1].credit == 1_500_000_000
    bal = balances()
    assert bal[acc.CASH] == 1_500_000_000 == bal[acc.CHARTER_CAPITAL]
    page = accountant_client.get("/fund").get_data(as_text=True)
    assert "1.500.000.000 đ" in page


def test_entrusted_capital_is_tracked_by_source(accountant_client):
    _post(
        accountant_client, source="entrusted", source_name="Quỹ HTX Trung ương", amount="2000000000"
    )
    from fundapp.ledger.services import fund_position

    position = fund_position()
    assert position.entrusted == 2_000_000_000
    assert position.entrusted_sources == {"Quỹ HTX Trung ương": 2_000_000_000}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "-5000", "Số tiền phải lớn hơn 0."),
        ("amount", "0", "Số tiền phải lớn hơn 0."),
        ("amount", "1500000.5", "Số tiền phải là số nguyên đồng"),
        ("amount", "1.500.000,50", "Số tiền phải là số nguyên đồng"),
        ("amount", "12abc", "Số tiền phải là số nguyên đồng"),
        ("amount", "", "Nhập số tiền (đồng)."),
        ("amount", "9" * 30, "Số tiền quá lớn."),
        ("entry_date", "31/02/2026", "Ngày không hợp lệ"),
        ("entry_date", "01/01/2030", "không được sau ngày làm việc"),
        ("source", "gold", "Nguồn vốn không hợp lệ."),
        ("source_name", "", "Vốn ủy thác cần ghi rõ bên ủy thác."),
        ("reference", "x" * 81, "Số chứng từ tối đa 80 ký tự."),
    ],
)
def test_bad_capital_input_gives_a_field_message_and_changes_nothing(
    accountant_client, field, value, message
):
    extra = {"source": "entrusted"} if field == "source_name" else {}
    response = _post(accountant_client, **{field: value, **extra})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.query(CapitalEntry).count() == 0
    assert db.session.query(JournalEntry).count() == 0
