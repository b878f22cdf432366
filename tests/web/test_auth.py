from __future__ import annotations

import re

import pytest

from fundapp.extensions import db
from tests.conftest import PASSWORD, fresh_database, login, make_app, make_user


def test_login_and_logout(client, app):
    user = make_user("accountant")
    response = login(client, user)
    assert response.status_code == 302
    page = client.get("/fund")
    assert page.status_code == 200
    assert "Tổng quan" in page.get_data(as_text=True)
    client.post("/logout")
    assert client.get("/fund").status_code == 302


def test_one_generic_message_for_unknown_user_and_wrong_password(client, app):
    user = make_user("officer")
    wrong = client.post("/login", data={"username": user.username, "password": "sai-mat-khau1"})
    unknown = client.post("/login", data={"username": "khongco", "password": "sai-mat-khau1"})
    assert wrong.status_code == unknown.status_code == 401
    message = "Tên đăng nhập hoặc mật khẩu không đúng."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_throttling_locks_after_repeated_failures_even_with_right_password(client, app):
    user = make_user("officer")
    for _ in range(5):
        response = client.post("/login", data={"username": user.username, "password": "x1x1x1x1x1"})
        assert response.status_code == 401
    locked = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert "Tạm khóa" in locked.get_data(as_text=True)
    assert client.get("/fund").status_code == 302  # still not logged in


def test_disabled_user_cannot_log_in(client, app):
    from fundapp.extensions import db

    user = make_user("officer")
    user.active = False
    db.session.commit()
    assert login(client, user).status_code == 401


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/steal",
        "//evil.example/x",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "\\\\evil.example",
    ],
)
def test_next_never_redirects_off_site(client, app, target):
    user = make_user("officer")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": user.username, "password": PASSWORD},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location and "javascript" not in location


def test_next_to_own_page_is_followed(client, app):
    user = make_user("officer")
    response = client.post(
        "/login",
        query_string={"next": "/cooperatives/?q=vai"},
        data={"username": user.username, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/cooperatives/?q=vai"


def test_change_own_password_ends_other_sessions(app):
    user = make_user("officer")
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    response = first.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "MoiHon2026x",
            "confirm": "MoiHon2026x",
        },
    )
    assert response.status_code == 302
    assert first.get("/fund").status_code == 200
    assert second.get("/fund").status_code == 302
    fresh = app.test_client()
    assert login(fresh, user, "MoiHon2026x").status_code == 302


def test_change_password_refuses_weak_password(client, app):
    user = make_user("officer")
    login(client, user)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
    )
    assert response.status_code == 200
    assert "ít nhất 10 ký tự" in response.get_data(as_text=True)


def test_csrf_is_enforced_on_forms():
    from fundapp.ledger.models import CapitalEntry

    with fresh_database(make_app(WTF_CSRF_ENABLED=True)) as app:
        user = make_user("accountant")
        client = app.test_client()
        # Login itself is a form: without the token it is refused.
        refused = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert refused.status_code == 400
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        ok = client.post(
            "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
        )
        assert ok.status_code == 302
        # A money form without the token changes nothing.
        before = client.get("/capital").get_data(as_text=True)
        response = client.post(
            "/capital/new",
            data={"source": "charter", "amount": "1000000", "entry_date": "01/11/2026"},
        )
        assert response.status_code == 400
        assert db.session.query(CapitalEntry).count() == 0
        # The same page; only the CSRF tokens differ (each carries the second it was signed).
        assert _without_tokens(before) == _without_tokens(
            client.get("/capital").get_data(as_text=True)
        )


def _without_tokens(page: str) -> str:
    return re.sub(r'name="csrf_token"( type="hidden")? value="[^"]*"', "csrf_token", page)


def test_session_cookie_flags(client, app):
    user = make_user("officer")
    response = login(client, user)
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_security_headers(client, app):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _client_at(app, address: str, forwarded: str | None = None):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if forwarded:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded
    return client


def _fail_once(client, username: str) -> int:
    return client.post(
        "/login", data={"username": username, "password": "sai.mat.khau1"}
    ).status_code


def test_an_address_locks_after_its_own_larger_limit_across_usernames(client, app):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 8
    colleague = make_user("officer")
    office = _client_at(app, "192.0.2.50")
    # Eight different mistyped names from one office: none reaches the per-user limit of 5.
    assert [_fail_once(office, f"nguoi{n}") for n in range(8)] == [401] * 8
    locked = login(office, colleague)
    assert locked.status_code == 429  # the address is now locked, whoever signs in
    assert login(_client_at(app, "192.0.2.51"), colleague).status_code == 302


def test_forwarded_addresses_are_trusted_only_behind_a_configured_proxy(app):
    with fresh_database(make_app(FUNDAPP_PROXIES=1, LOGIN_MAX_FAILURES_PER_ADDRESS=3)) as proxied:
        user = make_user("officer")
        # Behind the proxy every request comes from 10.0.0.2; the header names the client.
        for _ in range(3):
            assert _fail_once(_client_at(proxied, "10.0.0.2", "198.51.100.7"), "ai.do") == 401
        assert login(_client_at(proxied, "10.0.0.2", "198.51.100.7"), user).status_code == 429
        assert login(_client_at(proxied, "10.0.0.2", "198.51.100.8"), user).status_code == 302
    with fresh_database(make_app(LOGIN_MAX_FAILURES_PER_ADDRESS=3)) as direct:
        user = make_user("officer")
        # No proxy configured: a forged header does not spread failures over addresses.
        for n in range(3):
            assert _fail_once(_client_at(direct, "203.0.113.9", f"198.51.100.{n}"), "ai.do") == 401
        assert login(_client_at(direct, "203.0.113.9", "198.51.100.99"), user).status_code == 429
