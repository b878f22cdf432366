"""The statutory reporting calendar for fixed business dates, and on the dashboard."""

from __future__ import annotations

from datetime import date

from fundapp.reports.calendar import STATUTORY, due
from tests.conftest import login, make_user


def _rows(today: date) -> list[tuple[str, date, str, bool, bool]]:
    return [(d.statutory.key, d.due_date, d.period, d.period_ended, d.past) for d in due(today)]


def test_mid_april_year_reports_past_then_ranking_and_half_year(app):
    assert _rows(date(2026, 4, 15)) == [
        ("lending_year", date(2026, 3, 31), "2025", True, True),
        ("operations_year", date(2026, 3, 31), "2025", True, True),
        ("ranking", date(2026, 5, 31), "2025", True, False),
        ("lending_half_year", date(2026, 7, 31), "2026-H1", False, False),
        ("operations_half_year", date(2026, 7, 31), "2026-H1", False, False),
        ("lending_year", date(2027, 3, 31), "2026", False, False),
        ("operations_year", date(2027, 3, 31), "2026", False, False),
    ]


def test_on_the_due_date_it_is_still_due_and_the_day_after_past(app):
    on_day = {r[0]: r for r in _rows(date(2026, 7, 31))}
    assert on_day["lending_half_year"] == (
        "lending_half_year",
        date(2026, 7, 31),
        "2026-H1",
        True,
        False,
    )
    after = [r for r in _rows(date(2026, 8, 1)) if r[0] == "operations_half_year"]
    assert after == [
        ("operations_half_year", date(2026, 7, 31), "2026-H1", True, True),
        ("operations_half_year", date(2027, 7, 31), "2027-H1", False, False),
    ]


def test_early_january_nothing_past_and_last_year_can_be_made(app):
    rows = _rows(date(2027, 1, 5))
    assert not any(r[4] for r in rows)
    assert [r[:4] for r in rows[:3]] == [
        ("lending_year", date(2027, 3, 31), "2026", True),
        ("operations_year", date(2027, 3, 31), "2026", True),
        ("ranking", date(2027, 5, 31), "2026", True),
    ]
    assert len(rows) == len(STATUTORY)


def test_every_deadline_names_its_basis(app):
    for s in STATUTORY:
        assert str(s.basis) and str(s.title) and str(s.recipients)
    assert all("Thông tư 52/2022/TT-BTC" in s.basis for s in STATUTORY if s.key != "ranking")


def test_the_dashboard_lists_the_deadlines_with_links(app, client):
    # The business date of the tests is 20/11/2026: every 2026 deadline is past.
    login(client, make_user("director"))
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'id="reporting-calendar"' in html
    assert 'id="due-operations_half_year-2026-H1" class="due-past"' in html
    assert 'href="/reports/operations?period=2026-H1"' in html
    assert 'href="/reports/lending-activity?period=2025"' in html
    assert 'id="due-lending_year-2026" class="due-next"' in html
    assert "31/03/2027" in html and "Liên minh Hợp tác xã tỉnh" in html
    # The year 2026 is not over: its report is listed without a link.
    assert 'href="/reports/operations?period=2026"' not in html
