from __future__ import annotations

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
        assert before == client.get("/capital").get_data(as_text=True)


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
