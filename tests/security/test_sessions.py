"""Server-side sessions (issue 14, point 2): a browser's cookies stand for a revocable
``user_sessions`` row, so logging out, a password change, an admin's reset and the
account's deactivation end them wherever they were copied to; "remember me" lasts at most
30 days (REMEMBER_COOKIE_DURATION), an ordinary session PERMANENT_SESSION_LIFETIME."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config import ConfigError
from fundapp.app import create_app
from fundapp.auth.models import UserSession
from fundapp.domain.dates import utcnow
from fundapp.extensions import db
from tests.conftest import PASSWORD, _Config, fresh_database, make_app, make_user

COOKIES = ("session", "remember_token")
NEW_PASSWORD = "Vaithieu2027x"


def sign_in(app: Flask, user: Any, remember: bool = True) -> FlaskClient:
    client = app.test_client()
    data = {"username": user.username, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302
    return client


def copy_cookies(client: FlaskClient, names: tuple[str, ...] = COOKIES) -> dict[str, str]:
    copied = {}
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, name
        copied[name] = cookie.value
    return copied


def replay(app: Flask, cookies: dict[str, str]) -> Any:
    """The copied cookies in a browser of their own, asking for a staff page."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief.get("/fund")


def remember_cookie_expires(response: Any) -> datetime:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("remember_token="):
            expires = header.split("Expires=")[1].split(";")[0]
            return parsedate_to_datetime(expires)
    raise AssertionError("no remember-me cookie")


def signed_out(response: Any) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def sessions_of(user: Any) -> list[UserSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        )
    )


def test_copied_cookies_stop_working_once_their_session_logs_out(app):
    user = make_user("accountant")
    client = sign_in(app, user)
    cookies = copy_cookies(client)
    # The copies work while the session lives: each cookie alone signs a browser in.
    assert replay(app, cookies).status_code == 200
    assert replay(app, {"session": cookies["session"]}).status_code == 200
    assert replay(app, {"remember_token": cookies["remember_token"]}).status_code == 200

    assert client.post("/logout").status_code == 302
    assert signed_out(replay(app, cookies))
    assert signed_out(replay(app, {"session": cookies["session"]}))
    assert signed_out(replay(app, {"remember_token": cookies["remember_token"]}))
    [record] = sessions_of(user)
    assert record.revoked_at is not None
    # Signing in again opens a new session; the old cookies stay dead.
    again = sign_in(app, user)
    assert again.get("/fund").status_code == 200
    assert signed_out(replay(app, cookies))


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app):
    user = make_user("accountant")
    here, elsewhere = sign_in(app, user, remember=False), sign_in(app, user)
    stolen = copy_cookies(elsewhere)
    response = here.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert here.get("/fund").status_code == 200
    assert signed_out(elsewhere.get("/fund"))
    assert signed_out(replay(app, stolen))
    assert signed_out(replay(app, {"remember_token": stolen["remember_token"]}))
    assert [r.revoked_at is None for r in sessions_of(user)] == [True, False]


def test_an_admins_reset_and_deactivation_end_every_session(app):
    admin = sign_in(app, make_user("admin"), remember=False)
    user = make_user("officer")
    first = copy_cookies(sign_in(app, user))
    second = copy_cookies(sign_in(app, user))
    reset = admin.post(f"/admin/users/{user.id}/password", data={"new_password": NEW_PASSWORD})
    assert reset.status_code == 302
    assert signed_out(replay(app, first)) and signed_out(replay(app, second))

    client = app.test_client()
    assert (
        client.post(
            "/login", data={"username": user.username, "password": NEW_PASSWORD, "remember": "y"}
        ).status_code
        == 302
    )
    third = copy_cookies(client)
    form = {"full_name": "X", "email": "", "roles": ["officer"], "cooperative_id": ""}
    assert admin.post(f"/admin/users/{user.id}", data=form).status_code == 302  # inactive
    assert signed_out(replay(app, third))
    # Switched on again, the account has to sign in anew: the old cookies stay dead.
    assert admin.post(f"/admin/users/{user.id}", data={**form, "active": "y"}).status_code == 302
    assert signed_out(replay(app, third))
    assert all(r.revoked_at is not None for r in sessions_of(user))


def test_a_session_ends_when_its_record_expires(app):
    user = make_user("officer")
    client = sign_in(app, user, remember=True)
    cookies = copy_cookies(client)
    [record] = sessions_of(user)
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert signed_out(client.get("/fund"))
    assert signed_out(replay(app, cookies))


def test_signing_in_forgets_sessions_that_ended_over_30_days_ago(app):
    user = make_user("officer")
    for _ in range(3):
        sign_in(app, user, remember=False)
    old_expired, old_revoked, recent = sessions_of(user)
    now = utcnow()
    old_expired.expires_at = now - timedelta(days=31)
    old_revoked.revoked_at = now - timedelta(days=31)
    recent.revoked_at = now - timedelta(days=29)
    db.session.commit()
    kept = {recent.id}
    sign_in(app, user, remember=False)
    left = sessions_of(user)
    assert len(left) == 2 and kept < {s.id for s in left}
    other = make_user("officer")
    sign_in(app, other, remember=False)
    assert len(sessions_of(user)) == 2  # another user's sign-in leaves these alone


def test_the_server_keeps_a_session_as_long_as_its_cookie(app):
    user = make_user("officer")
    before = utcnow()
    response = app.test_client().post(
        "/login", data={"username": user.username, "password": PASSWORD, "remember": "y"}
    )
    sign_in(app, user, remember=False)
    after = utcnow()
    remembered, ordinary = sessions_of(user)
    assert remembered.remember and not ordinary.remember
    month = timedelta(days=30)
    assert before + month <= remembered.expires_at <= after + month
    workday = timedelta(seconds=_Config.PERMANENT_SESSION_LIFETIME)
    assert before + workday <= ordinary.expires_at <= after + workday
    cookie_expires = remember_cookie_expires(response)  # to the second
    assert before.replace(microsecond=0) + month <= cookie_expires <= after + month
    # Only the key's hash is stored; the key itself is in the browser's cookies alone.
    assert all(len(r.key_hash) == 64 for r in (remembered, ordinary))
    assert remembered.ip == "127.0.0.1"


def test_remember_me_follows_the_configured_days():
    with fresh_database(make_app(REMEMBER_COOKIE_DURATION=timedelta(days=7))) as app:
        user = make_user("officer")
        before = utcnow()
        response = app.test_client().post(
            "/login", data={"username": user.username, "password": PASSWORD, "remember": "y"}
        )
        after, week = utcnow(), timedelta(days=7)
        [record] = sessions_of(user)
        assert before + week <= record.expires_at <= after + week
        cookie_expires = remember_cookie_expires(response)
        assert before.replace(microsecond=0) + week <= cookie_expires <= after + week


@pytest.mark.parametrize(
    "duration", [timedelta(days=31), timedelta(days=365), timedelta(0), 365 * 86400]
)
def test_remember_me_beyond_30_days_is_refused(duration):
    config = type("Config", (_Config,), {"REMEMBER_COOKIE_DURATION": duration})
    with pytest.raises(ConfigError, match="REMEMBER_COOKIE_DURATION"):
        create_app(config)


def test_remember_me_defaults_to_30_days():
    import os

    from config import Config

    if os.environ.get("REMEMBER_COOKIE_DURATION", "").strip():
        pytest.skip("REMEMBER_COOKIE_DURATION is set in this environment")
    duration = Config.REMEMBER_COOKIE_DURATION
    assert duration == timedelta(days=30)


def test_a_cookie_of_the_old_user_id_form_signs_nobody_in(app):
    user = make_user("officer")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:1"
        session["_fresh"] = True
    assert signed_out(client.get("/fund"))


def test_a_user_sees_their_sessions_and_ends_the_others(app):
    user = make_user("officer")
    elsewhere = sign_in(app, user)
    here = app.test_client()
    here.post(
        "/login",
        data={"username": user.username, "password": PASSWORD},
        headers={"User-Agent": "Firefox/<script>alert(1)</script>"},
    )
    page = here.get("/account/sessions").get_data(as_text=True)
    assert page.count("127.0.0.1") == 2 and page.count("Phiên này") == 1
    assert "Firefox/&lt;script&gt;" in page and "<script>alert" not in page
    assert here.post("/account/sessions/end-others").status_code == 302
    assert signed_out(elsewhere.get("/fund"))
    assert here.get("/fund").status_code == 200
    assert here.get("/account/sessions").get_data(as_text=True).count("127.0.0.1") == 1


def test_the_admin_sees_a_users_open_sessions(app):
    admin = sign_in(app, make_user("admin"), remember=False)
    user = make_user("officer")
    sign_in(app, user)
    page = admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Phiên đăng nhập" in page and "127.0.0.1" in page
