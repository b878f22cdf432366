"""API v1 administration: user accounts (create, edit, reset a password), API tokens
(listed without secrets, revoked by the admin or by their owner), changing one's own
password; the role matrix and bad input that changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditLog
from fundapp.auth.models import ApiToken, User
from fundapp.domain.dates import utcnow
from fundapp.extensions import db
from tests.api.conftest import API, error, token
from tests.conftest import PASSWORD, make_cooperative, make_user

NEW_PASSWORD = "Vaithieu2027x"


def sign_in(client: Any, username: str, password: str) -> int:
    response = client.post(f"{API}/tokens", json={"username": username, "password": password})
    return response.status_code


def users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


@pytest.fixture
def admin(app):
    return make_user("admin", username="quantri")


# --- users ------------------------------------------------------------------------------------


def test_admin_creates_an_officer_who_can_then_sign_in(client, admin):
    response = client.post(
        f"{API}/users",
        headers=token(admin),
        json={
            "username": "CanBo.Moi",
            "password": NEW_PASSWORD,
            "roles": ["officer", "accountant"],
            "full_name": "Nguyễn Thị Hoa",
            "email": "hoa@quyhtx.vn",
        },
    )
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["username"] == "canbo.moi"  # usernames are lower case
    assert created["roles"] == ["accountant", "officer"]
    assert (created["active"], created["cooperative_id"], created["last_login_at"]) == (
        True,
        None,
        None,
    )
    assert "password" not in created and "password_hash" not in created
    assert sign_in(client, "canbo.moi", NEW_PASSWORD) == 201
    log = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "user.create", AuditLog.username == "quantri")
    ).all()
    assert [row.entity_id for row in log] == [str(created["id"])]


def test_a_cooperative_account_names_its_cooperative(client, admin):
    coop = make_cooperative(name="HTX Gà đồi Đồng Tâm")
    data = {"username": "htx.gadoi", "password": NEW_PASSWORD, "roles": ["cooperative"]}
    missing = error(client.post(f"{API}/users", headers=token(admin), json=data))
    assert (
        missing["fields"]["cooperative_id"] == "Tài khoản hợp tác xã phải gắn với một hợp tác xã."
    )
    mixed = error(
        client.post(
            f"{API}/users",
            headers=token(admin),
            json={**data, "roles": ["cooperative", "officer"], "cooperative_id": coop.id},
        )
    )
    assert mixed["fields"]["roles"] == "Tài khoản hợp tác xã không kiêm vai trò khác."
    created = client.post(
        f"{API}/users", headers=token(admin), json={**data, "cooperative_id": coop.id}
    )
    assert created.status_code == 201
    assert created.get_json()["cooperative_id"] == coop.id


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password": "ngan1"}, "password", "Mật khẩu cần ít nhất 10 ký tự."),
        ({"password": "chuachuaso!"}, "password", "Mật khẩu cần có cả chữ và số."),
        ({"username": "ab"}, "username", None),
        ({"username": "quantri"}, "username", "Tên đăng nhập đã được dùng."),
        ({"roles": []}, "roles", "Chọn ít nhất một vai trò."),
        ({"roles": ["superuser"]}, "roles.0", None),
        ({"email": "khong-phai-email"}, "email", "Địa chỉ e-mail không hợp lệ."),
        ({"cooperative_id": 1}, "cooperative_id", None),
        ({"is_admin": True}, "is_admin", "Trường không được hỗ trợ."),
    ],
)
def test_bad_accounts_are_refused_and_none_is_created(client, admin, changes, field, message):
    data = {"username": "ketoan2", "password": NEW_PASSWORD, "roles": ["accountant"], **changes}
    before = users()
    refused = error(client.post(f"{API}/users", headers=token(admin), json=data))
    assert field in refused["fields"]
    if message:
        assert refused["fields"][field] == message
    assert users() == before


def test_lists_filter_by_name_role_and_active(client, admin):
    make_user("officer", username="canbo1")
    make_user("officer", username="canbo2")
    inactive = make_user("accountant", username="ketoan1")
    inactive.active = False
    db.session.commit()
    headers = token(admin)

    def names(**query: Any) -> list[str]:
        response = client.get(f"{API}/users", headers=headers, query_string=query)
        assert response.status_code == 200, response.get_json()
        return [u["username"] for u in response.get_json()["items"]]

    assert names() == ["canbo1", "canbo2", "ketoan1", "quantri"]
    assert names(q="CANBO") == ["canbo1", "canbo2"]
    assert names(role="officer") == ["canbo1", "canbo2"]
    assert names(active="false") == ["ketoan1"]
    assert names(per_page=3, page=2) == ["quantri"]
    assert "role" in error(client.get(f"{API}/users?role=root", headers=headers))["fields"]
    assert client.get(f"{API}/users/{inactive.id}", headers=headers).get_json()["active"] is False
    assert client.get(f"{API}/users/999999", headers=headers).status_code == 404
    assert client.get(f"{API}/users/{2**40}", headers=headers).status_code == 404


def test_editing_keeps_what_is_left_out_and_deactivating_revokes_tokens(client, admin):
    officer = make_user("officer", username="canbo1")
    officer_headers = token(officer)
    assert client.get(f"{API}/me", headers=officer_headers).status_code == 200
    response = client.patch(
        f"{API}/users/{officer.id}",
        headers=token(admin),
        json={"roles": ["officer", "director"], "full_name": "Trần Văn Bình"},
    )
    assert response.status_code == 200, response.get_json()
    edited = response.get_json()
    assert (edited["roles"], edited["full_name"], edited["active"]) == (
        ["director", "officer"],
        "Trần Văn Bình",
        True,
    )
    assert client.get(f"{API}/me", headers=officer_headers).get_json()["roles"] == [
        "director",
        "officer",
    ]
    off = client.patch(f"{API}/users/{officer.id}", headers=token(admin), json={"active": False})
    assert off.get_json()["active"] is False and off.get_json()["roles"] == ["director", "officer"]
    assert client.get(f"{API}/me", headers=officer_headers).status_code == 401
    assert sign_in(client, "canbo1", PASSWORD) == 401


def test_an_admin_cannot_lock_or_demote_themself(client, admin):
    headers = token(admin)
    for change in ({"active": False}, {"roles": ["controller"]}):
        refused = error(client.patch(f"{API}/users/{admin.id}", headers=headers, json=change))
        assert "Không thể tự khóa" in refused["fields"]["roles"]
    db.session.refresh(admin)
    assert admin.active and admin.role_names == ["admin"]
    bad = error(client.patch(f"{API}/users/{admin.id}", headers=headers, json={"active": "no"}))
    assert bad["fields"]["active"] == "Phải là true hoặc false."


def test_admin_resets_a_password(client, admin):
    officer = make_user("officer", username="canbo1")
    path = f"{API}/users/{officer.id}/password"
    short = error(client.post(path, headers=token(admin), json={"new_password": "abc123"}))
    assert short["fields"]["new_password"] == "Mật khẩu cần ít nhất 10 ký tự."
    assert sign_in(client, "canbo1", PASSWORD) == 201
    done = client.post(path, headers=token(admin), json={"new_password": NEW_PASSWORD})
    assert done.status_code == 204 and done.data == b""
    assert sign_in(client, "canbo1", PASSWORD) == 401
    assert sign_in(client, "canbo1", NEW_PASSWORD) == 201


@pytest.mark.parametrize("role", ["officer", "accountant", "director", "board", "controller"])
def test_only_the_admin_manages_users(client, app, role):
    target = make_user("officer")
    headers = token(make_user(role))
    assert client.get(f"{API}/users", headers=headers).status_code == 403
    assert client.get(f"{API}/users/{target.id}", headers=headers).status_code == 403
    data = {"username": "moi1234", "password": NEW_PASSWORD, "roles": ["admin"]}
    assert client.post(f"{API}/users", headers=headers, json=data).status_code == 403
    assert (
        client.patch(f"{API}/users/{target.id}", headers=headers, json={"active": False})
    ).status_code == 403
    assert (
        client.post(
            f"{API}/users/{target.id}/password", headers=headers, json={"new_password": "x"}
        )
    ).status_code == 403
    assert client.get(f"{API}/users/{target.id}/tokens", headers=headers).status_code == 403
    assert client.get(f"{API}/users").status_code == 401


def test_a_cooperative_user_is_refused_the_admin_endpoints(client, app):
    headers = token(make_user("cooperative"))
    assert client.get(f"{API}/users", headers=headers).status_code == 403
    assert client.get(f"{API}/audit", headers=headers).status_code == 403


# --- tokens -----------------------------------------------------------------------------------


def test_admin_lists_and_revokes_a_users_tokens_without_seeing_secrets(client, admin):
    officer = make_user("officer", username="canbo1")
    laptop = token(officer, "máy tính xách tay")
    phone = token(officer, "điện thoại")
    listed = client.get(f"{API}/users/{officer.id}/tokens", headers=token(admin)).get_json()
    assert [t["name"] for t in listed["items"]] == ["điện thoại", "máy tính xách tay"]
    assert not {"token", "token_hash"} & set(listed["items"][0])
    assert all(t["active"] and t["revoked_at"] is None for t in listed["items"])
    laptop_id = listed["items"][1]["id"]

    other = make_user("accountant")
    wrong_owner = client.delete(f"{API}/users/{other.id}/tokens/{laptop_id}", headers=token(admin))
    assert wrong_owner.status_code == 404
    done = client.delete(f"{API}/users/{officer.id}/tokens/{laptop_id}", headers=token(admin))
    assert done.status_code == 204
    assert client.get(f"{API}/me", headers=laptop).status_code == 401
    assert client.get(f"{API}/me", headers=phone).status_code == 200
    again = client.delete(f"{API}/users/{officer.id}/tokens/{laptop_id}", headers=token(admin))
    assert again.status_code == 204  # already revoked: nothing changes
    after = client.get(f"{API}/users/{officer.id}/tokens", headers=token(admin)).get_json()
    revoked = {t["id"]: t for t in after["items"]}[laptop_id]
    assert revoked["active"] is False and revoked["revoked_at"].endswith("Z")
    revocations = db.session.scalars(select(AuditLog).where(AuditLog.action == "token.revoke"))
    assert [row.entity_id for row in revocations] == [str(laptop_id)]


def test_a_user_lists_and_revokes_only_their_own_tokens(client, app):
    controller = make_user("controller")
    current = token(controller, "đang dùng")
    spare = token(controller, "dự phòng")
    expired_headers = token(controller, "cũ")
    expired = db.session.scalars(select(ApiToken).where(ApiToken.name == "cũ")).one()
    expired.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(f"{API}/me", headers=expired_headers).status_code == 401

    stranger = make_user("officer")
    stranger_headers = token(stranger, "của người khác")
    mine = client.get(f"{API}/tokens", headers=current).get_json()
    assert [(t["name"], t["active"]) for t in mine["items"]] == [
        ("cũ", False),
        ("dự phòng", True),
        ("đang dùng", True),
    ]
    assert all(t["user_id"] == controller.id for t in mine["items"])
    spare_id = mine["items"][1]["id"]
    strangers = client.get(f"{API}/tokens", headers=stranger_headers).get_json()["items"]
    stranger_id = strangers[0]["id"]

    assert client.delete(f"{API}/tokens/{stranger_id}", headers=current).status_code == 404
    assert client.get(f"{API}/me", headers=stranger_headers).status_code == 200
    assert client.delete(f"{API}/tokens/{spare_id}", headers=current).status_code == 204
    assert client.get(f"{API}/me", headers=spare).status_code == 401
    assert client.get(f"{API}/me", headers=current).status_code == 200
    assert client.delete(f"{API}/tokens/{2**40}", headers=current).status_code == 404


# --- one's own password -----------------------------------------------------------------------


def test_a_controller_changes_their_own_password(client, app):
    controller = make_user("controller", username="kiemsoat")
    headers = token(controller)
    path = f"{API}/me/password"
    wrong = error(
        client.post(
            path, headers=headers, json={"current_password": "sai", "new_password": NEW_PASSWORD}
        )
    )
    assert wrong["fields"]["current_password"] == "Mật khẩu hiện tại không đúng."
    same = error(
        client.post(
            path, headers=headers, json={"current_password": PASSWORD, "new_password": PASSWORD}
        )
    )
    assert same["fields"]["new_password"] == "Mật khẩu mới phải khác mật khẩu hiện tại."
    weak = error(
        client.post(
            path,
            headers=headers,
            json={"current_password": PASSWORD, "new_password": "abcdefghijk"},
        )
    )
    assert weak["fields"]["new_password"] == "Mật khẩu cần có cả chữ và số."
    missing = error(client.post(path, headers=headers, json={"new_password": NEW_PASSWORD}))
    assert missing["fields"]["current_password"] == "Bắt buộc."
    assert sign_in(client, "kiemsoat", PASSWORD) == 201

    done = client.post(
        path, headers=headers, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204
    assert sign_in(client, "kiemsoat", PASSWORD) == 401
    assert sign_in(client, "kiemsoat", NEW_PASSWORD) == 201
    # Every token of the user is revoked, the one that made the change too.
    assert client.get(f"{API}/me", headers=headers).status_code == 401
    assert client.post(path, json={"current_password": "x", "new_password": "y"}).status_code == 401
