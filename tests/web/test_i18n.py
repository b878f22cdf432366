from __future__ import annotations

from tests.conftest import login, make_user


def test_vietnamese_by_default_and_english_on_request(client, app):
    login(client, make_user("accountant"))
    vi = client.get("/fund").get_data(as_text=True)
    assert "Tổng quan quỹ" in vi
    client.post("/language/en", data={"next": "/fund"})
    en = client.get("/fund").get_data(as_text=True)
    assert "Fund overview" in en
    assert "Tổng quan quỹ" not in en


def test_money_and_dates_follow_the_language(client, app):
    from datetime import date

    from fundapp.domain.dates import format_date
    from fundapp.domain.money import format_dong

    assert format_dong(1_234_567_890, "vi") == "1.234.567.890 đ"
    assert format_dong(1_234_567_890, "en") == "1,234,567,890 VND"
    assert format_date(date(2026, 3, 5), "vi") == "05/03/2026"
    # dd/mm/yyyy in both languages (issue 16: "dd/mm/yyyy everywhere").
    assert format_date(date(2026, 3, 5), "en") == "05/03/2026"
