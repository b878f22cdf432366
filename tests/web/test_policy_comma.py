"""Issue 16, defect 1: a decimal comma in a policy value.

The form's own hint says "ví dụ 6,5"; an older version stored what was typed ("6,8") and
from then on /policy/ and /policy/default_annual_rate answered 500 to every role. Now the
value is stored canonically ("6.8") and a non-canonical value already stored is read
tolerantly (shown as 6,8 %/năm) and named by `flask fund check`."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from fundapp.extensions import db
from fundapp.policy import services
from fundapp.policy.models import PolicyChange, PolicyParameter
from fundapp.policy.parameters import BY_KEY
from tests.conftest import api_token, login, make_user

READERS = ("officer", "accountant", "director", "board", "controller", "admin")
PAGES = ("/policy/", "/policy/default_annual_rate")


def _stored(key: str) -> list[str]:
    return list(
        db.session.scalars(
            select(PolicyParameter.value)
            .where(PolicyParameter.key == key)
            .order_by(PolicyParameter.effective_from)
        )
    )


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("6,8", "6.8"),  # Vietnamese decimal comma
        ("6.8", "6.8"),  # English decimal point
        (" 6,80 ", "6.8"),  # trailing zero and spaces dropped
        ("7", "7"),
        ("0,5", "0.5"),
    ],
)
def test_both_decimal_forms_are_stored_the_one_way(raw, stored):
    assert BY_KEY["default_annual_rate"].validate(raw, date(2026, 12, 1)) == stored
    assert BY_KEY["default_annual_rate"].canonical(raw) == stored


@pytest.mark.parametrize(
    ("key", "raw", "read"),
    [
        ("default_annual_rate", "6,8", "6.8"),
        ("min_equity_pct", " 35,50", "35.5"),
        ("director_approval_limit", "0700000000", "700000000"),
        ("group_thresholds_days", "10, 30,90,180", "10,30,90,180"),
        ("default_annual_rate", "abc", "abc"),  # unreadable: shown as stored, no error
    ],
)
def test_a_value_stored_another_way_is_read_canonically(key, raw, read):
    assert BY_KEY[key].canonical(raw) == read


def test_the_web_form_with_a_comma_stores_the_canonical_value_and_every_role_reads_it(client, app):
    services.install_defaults()
    db.session.commit()
    maker, checker = make_user("board"), make_user("board")
    login(client, maker)
    form = {
        "value": "6,8",
        "effective_from": "01/12/2026",
        "legal_reference": "Nghị quyết HĐQL số 5/2026",
        "note": "Điều chỉnh lãi suất",
    }
    assert client.post("/policy/default_annual_rate/change", data=form).status_code == 302
    change = db.session.scalars(select(PolicyChange)).one()
    assert change.value == "6.8"
    other = app.test_client()
    login(other, checker)
    assert other.post(f"/policy/changes/{change.id}/approve", data={}).status_code == 302
    assert _stored("default_annual_rate")[-1] == "6.8"
    for role in READERS:
        reader = app.test_client()
        login(reader, make_user(role))
        for url in PAGES:
            response = reader.get(url)
            assert response.status_code == 200, (role, url)
        assert "6,8 %/năm" in reader.get("/policy/default_annual_rate").get_data(as_text=True)


def test_a_raw_comma_stored_by_an_older_version_breaks_no_page(client, app, runner):
    services.install_defaults()
    db.session.add(
        PolicyParameter(
            key="default_annual_rate",
            value="6,8",  # as an older version stored it, typed with the comma
            effective_from=date(2026, 6, 1),
            legal_reference="stored by an older version",
            note="",
        )
    )
    db.session.commit()
    for role in READERS:
        reader = app.test_client()
        login(reader, make_user(role))
        for url in PAGES:
            response = reader.get(url)
            assert response.status_code == 200, (role, url)
            assert "6,8 %/năm" in response.get_data(as_text=True)
    board = app.test_client()
    login(board, make_user("board"))
    change_page = board.get("/policy/default_annual_rate/change")
    assert change_page.status_code == 200
    # The business date is 20/11/2026: the version of 01/06/2026 is in force, read as 6.8.
    assert services.raw_value("default_annual_rate", date(2026, 11, 20)) == "6.8"
    assert services.snapshot(date(2026, 11, 20))["default_annual_rate"] == "6.8"
    assert str(services.value("default_annual_rate", date(2026, 11, 20))) == "6.8"
    token = api_token(app.test_client(), make_user("director"))
    api = app.test_client().get("/api/v1/policy/default_annual_rate", headers=token)
    assert api.status_code == 200
    assert "6.8" in api.get_data(as_text=True) and "6,8" not in api.get_data(as_text=True)
    checked = runner.invoke(args=["fund", "check"])
    assert checked.exit_code == 1
    assert "default_annual_rate = '6,8'" in checked.output
    assert "not stored canonically" in checked.output
