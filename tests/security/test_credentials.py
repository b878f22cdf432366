"""Passwords and what hangs on them (issue 14, points 3 and 6): every password change or
reset revokes the user's API tokens, a token alone cannot change its user's password, and
a failed login costs one password verification with the real hasher whether or not the
username exists."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest
from argon2 import PasswordHasher

from fundapp.auth import services
from fundapp.extensions import db
from tests.conftest import PASSWORD, api_token, login, make_user

API = "/api/v1"
NEW_PASSWORD = "Vaithieu2027x"


def works(client: Any, headers: dict[str, str]) -> bool:
    status = client.get(f"{API}/me", headers=headers).status_code
    assert status in (200, 401), status
    return status == 200


def mint(client: Any, username: str, password: str) -> int:
    body = {"username": username, "password": password}
    return client.post(f"{API}/tokens", json=body).status_code


# --- point 3: tokens end with the password ----------------------------------------------------


def test_a_password_changed_on_the_web_revokes_every_token(app, client):
    user = make_user("accountant")
    laptop, server = api_token(client, user), api_token(client, user)
    web = app.test_client()
    login(web, user)
    changed = web.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert not works(client, laptop) and not works(client, server)
    assert web.get("/fund").status_code == 200  # the session that changed it goes on
    assert mint(client, user.username, NEW_PASSWORD) == 201


def test_a_password_changed_through_the_api_revokes_every_token_its_own_too(app, client):
    user = make_user("officer")
    caller, other = api_token(client, user), api_token(client, user)
    web = app.test_client()
    login(web, user)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert client.post(f"{API}/me/password", headers=caller, json=body).status_code == 204
    assert not works(client, caller) and not works(client, other)
    assert web.get("/fund").status_code == 302  # the web sessions end as well
    assert mint(client, user.username, NEW_PASSWORD) == 201


def test_a_token_alone_cannot_change_its_users_password(app, client):
    user = make_user("officer")
    headers = api_token(client, user)
    for body in (
        {"new_password": NEW_PASSWORD},
        {"current_password": "", "new_password": NEW_PASSWORD},
        {"current_password": "DoanBua2026", "new_password": NEW_PASSWORD},
    ):
        refused = client.post(f"{API}/me/password", headers=headers, json=body)
        assert refused.status_code == 422, body
        assert "current_password" in refused.get_json()["error"]["fields"]
    assert works(client, headers)
    assert mint(client, user.username, PASSWORD) == 201
    assert mint(client, user.username, NEW_PASSWORD) == 401


def test_an_admins_reset_on_the_web_revokes_the_users_tokens(app, client):
    user = make_user("officer")
    headers = api_token(client, user)
    admin = app.test_client()
    login(admin, make_user("admin"))
    reset = admin.post(f"/admin/users/{user.id}/password", data={"new_password": NEW_PASSWORD})
    assert reset.status_code == 302
    assert not works(client, headers)


def test_an_admins_reset_through_the_api_revokes_the_users_tokens(app, client):
    user = make_user("officer")
    headers = api_token(client, user)
    admin = api_token(client, make_user("admin"))
    reset = client.post(
        f"{API}/users/{user.id}/password", headers=admin, json={"new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 204
    assert not works(client, headers)
    assert works(client, admin)  # the admin's own tokens are untouched


# --- point 6: an unknown username costs what a wrong password does ---------------------------


@pytest.fixture
def production_hashing(app):
    """The production hasher (RFC 9106 low memory) for this test's users and logins."""
    app.config["ARGON2_PROFILE"] = "default"
    return app


@pytest.fixture
def verifications(monkeypatch) -> list[tuple[int, int, int]]:
    """The cost parameters of every password verification made."""
    calls: list[tuple[int, int, int]] = []
    original = PasswordHasher.verify

    def spy(self: PasswordHasher, hash: Any, password: Any) -> bool:
        calls.append((self.time_cost, self.memory_cost, self.parallelism))
        return original(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    return calls


def test_a_failed_login_verifies_once_with_the_real_hasher_known_or_not(
    production_hashing, client, verifications
):
    user = make_user("officer")
    production = PasswordHasher()
    expected = [(production.time_cost, production.memory_cost, production.parallelism)]
    attempts = {
        "web, wrong password": lambda: login(client, user, "SaiMatKhau2026"),
        "web, unknown user": lambda: client.post(
            "/login", data={"username": "khong.co.ai", "password": "SaiMatKhau2026"}
        ),
        "api, wrong password": lambda: client.post(
            f"{API}/tokens", json={"username": user.username, "password": "SaiMatKhau2026"}
        ),
        "api, unknown user": lambda: client.post(
            f"{API}/tokens", json={"username": "khong.co.ai", "password": "SaiMatKhau2026"}
        ),
    }
    for name, attempt in attempts.items():
        verifications.clear()
        assert attempt().status_code == 401, name
        assert verifications == expected, name


def test_a_failed_login_takes_as_long_for_an_unknown_username(production_hashing):
    """Loose on purpose: the spy above is the exact check. Without the dummy hash an unknown
    name answers in a few milliseconds against a verification's tens or hundreds."""
    user = make_user("officer")
    services.authenticate("khong.co.ai", "x", "192.0.2.1", 1000, 15)  # makes the dummy hash

    def timed(username: str) -> float:
        start = time.perf_counter()
        result = services.authenticate(username, "SaiMatKhau2026", "192.0.2.1", 1000, 15)
        elapsed = time.perf_counter() - start
        assert result.user is None and not result.locked
        return elapsed

    known, unknown = [], []
    for _ in range(5):
        known.append(timed(user.username))
        unknown.append(timed("khong.co.ai"))
    db.session.rollback()
    assert statistics.median(unknown) > 0.5 * statistics.median(known), (known, unknown)
