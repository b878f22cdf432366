"""Formats of issue 16: one sign for negative amounts, dd/mm/yyyy in every date field, people
by their names, Nợ before Có, and the audit log in Vietnamese with formatted values, named
objects and a date filter."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from fundapp.audit.models import AuditLog
from fundapp.core.formatting import date_input_filter, person_filter
from fundapp.domain.money import format_dong
from fundapp.extensions import db
from tests.conftest import make_user
from tests.web.test_loans import client_for, disburse, make_loan, people  # noqa: F401

MINUS = "\u2212"


@pytest.mark.parametrize(
    ("amount", "locale", "expected"),
    [
        (-1234, "vi", f"{MINUS}1.234 đ"),
        (-1_234_567, "en", f"{MINUS}1,234,567 VND"),
        (-1, "vi", f"{MINUS}1 đ"),
        (0, "vi", "0 đ"),  # zero has no sign
        (1234, "vi", "1.234 đ"),
    ],
)
def test_negative_amounts_have_one_shape(amount: int, locale: str, expected: str) -> None:
    assert format_dong(amount, locale) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 12, 7), "07/12/2026"),
        ("2026-12-07", "07/12/2026"),  # a URL's ISO day is shown the one way
        ("07/12/2026", "07/12/2026"),
        ("7/12/2026", "7/12/2026"),  # typed text is given back as typed
        ("2026-02-30", "2026-02-30"),  # not a day: shown as typed, the server names it
        ("", ""),
        (None, ""),
    ],
)
def test_date_fields_show_dd_mm_yyyy(value, expected: str) -> None:
    assert date_input_filter(value) == expected


def test_a_person_is_shown_by_name() -> None:
    assert person_filter(SimpleNamespace(full_name="Lê Thị Toán", username="ketoan")) == (
        "Lê Thị Toán"
    )
    assert person_filter(SimpleNamespace(full_name="", username="ketoan")) == "ketoan"
    assert person_filter(None) == ""


def _audit_html(client, query: str = "") -> str:
    response = client.get(f"/audit/{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_audit_log_reads_in_vietnamese(app, people):  # noqa: F811
    loan = make_loan(people)
    disbursement = disburse(people, loan, loan.contract_date or date(2026, 11, 20))
    db.session.commit()
    controller = make_user("controller")
    html = _audit_html(client_for(app, controller), "?entity=disbursement")
    # 'disbursement.approve' → "Duyệt giải ngân"; the object named by its contract number
    assert "Duyệt giải ngân" in html
    assert f"khoản vay {loan.contract_no}" in html
    assert f"#{disbursement.id}" not in html
    # people by name, not username
    assert people.director.full_name in html
    # status values translated, not raw codes
    assert "Chờ duyệt" in html and "Đã hạch toán" in html

    html = _audit_html(client_for(app, controller), "?entity=application")
    # checks as readable lines (✓/✗ and the check's label), not a Python repr
    assert "✓ " in html
    assert "{&#39;code&#39;" not in html and "'passed'" not in html
    # money with đ: the requested 240.000.000 (and the recommendation)
    assert "240.000.000 đ" in html
    assert "240000000" not in html


def test_audit_log_filters_by_date(app, people):  # noqa: F811
    controller = make_user("controller")
    # 23:30 UTC on 06/12 is 06:30 on 07/12 in Asia/Ho_Chi_Minh (UTC+7): a day of 07/12 there.
    for at, note in (
        (datetime(2026, 12, 6, 16, 59, tzinfo=UTC), "ngay-6"),  # 23:59 on 06/12 local
        (datetime(2026, 12, 6, 23, 30, tzinfo=UTC), "ngay-7"),  # 06:30 on 07/12 local
        (datetime(2026, 12, 8, 1, 0, tzinfo=UTC), "ngay-8"),  # 08:00 on 08/12 local
    ):
        db.session.add(
            AuditLog(at=at, username="x", action="user.update", entity="user", note=note)
        )
    db.session.commit()
    client = client_for(app, controller)
    table = [
        ("?from=07/12/2026&to=07/12/2026", {"ngay-7"}),
        ("?from=2026-12-07", {"ngay-7", "ngay-8"}),
        ("?to=06/12/2026", {"ngay-6"}),
        ("?from=01/12/2026&to=31/12/2026", {"ngay-6", "ngay-7", "ngay-8"}),
    ]
    for query, expected in table:
        html = _audit_html(client, query + "&entity=user")
        assert set(re.findall(r"ngay-[0-9]", html)) == expected, query
    # A day that is not one: a message, the list unfiltered, never a 500.
    html = _audit_html(client, "?from=31/02/2026&entity=user")
    assert "Ngày không hợp lệ" in html
    assert set(re.findall(r"ngay-[0-9]", html)) == {"ngay-6", "ngay-7", "ngay-8"}


def test_journal_lists_debits_before_credits(app, people):  # noqa: F811
    loan = make_loan(people)
    disburse(people, loan, loan.contract_date or date(2026, 11, 20))
    db.session.commit()
    html = client_for(app, people.accountant).get("/journal").get_data(as_text=True)
    for body in re.findall(r'<tbody class="entry">(.*?)</tbody>', html, re.S):
        sides = re.findall(r'class="(line-debit|line-credit)"', body)
        assert sides == sorted(sides, key=lambda s: s != "line-debit"), sides
