from __future__ import annotations

from fundapp.auth.models import User
from fundapp.extensions import db
from tests.conftest import PASSWORD, login, make_cooperative, make_user


def test_admin_creates_links_and_disables_users(client, app):
    coop = make_cooperative(name="HTX Vải thiều Thanh Hà")
    login(client, make_user("admin"))
    response = client.post(
        "/admin/users/new",
        data={
            "username": "htx.thanhha",
            "full_name": "Nguyễn Văn Hà",
            "email": "ha@example.vn",
            "password": "Thanhha2026",
            "roles": ["cooperative"],
            "cooperative_id": str(coop.id),
            "active": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    user = db.session.query(User).filter_by(username="htx.thanhha").one()
    assert user.role_names == ["cooperative"] and user.cooperative_id == coop.id

    other = app.test_client()
    assert login(other, user, "Thanhha2026").status_code == 302
    assert "HTX Vải thiều Thanh Hà" in other.get("/portal/").get_data(as_text=True)

    # Disable: the open session ends and login is refused.
    response = client.post(
        f"/admin/users/{user.id}",
        data={
            "full_name": "Nguyễn Văn Hà",
            "email": "ha@example.vn",
            "roles": ["cooperative"],
            "cooperative_id": str(coop.id),
        },
    )
    assert response.status_code == 302
    assert other.get("/portal/").status_code == 302
    assert login(app.test_client(), user, "Thanhha2026").status_code == 401


def test_admin_assigns_several_roles(client, app):
    login(client, make_user("admin"))
    target = make_user("officer")
    client.post(
        f"/admin/users/{target.id}",
        data={
            "full_name": "X",
            "email": "",
            "roles": ["officer", "accountant"],
            "cooperative_id": "",
            "active": "y",
        },
    )
    db.session.refresh(target)
    assert target.role_names == ["accountant", "officer"]


def test_user_form_refuses_bad_input(client, app):
    login(client, make_user("admin"))
    cases = [
        ({"username": "A B", "password": "Abcdef12345", "roles": ["officer"]}, "Tên đăng nhập"),
        ({"username": "okname", "password": "short", "roles": ["officer"]}, "ít nhất 10 ký tự"),
        (
            {"username": "okname", "password": "Abcdef12345", "roles": []},
            "Chọn ít nhất một vai trò.",
        ),
        (
            {"username": "okname", "password": "Abcdef12345", "roles": ["cooperative"]},
            "phải gắn với một hợp tác xã",
        ),
        (
            {"username": "okname", "password": "Abcdef12345", "roles": ["wizard"]},
            "Vai trò không hợp lệ.",
        ),
    ]
    for data, message in cases:
        response = client.post("/admin/users/new", data={"active": "y", **data})
        assert response.status_code == 200
        assert message in response.get_data(as_text=True), message
    assert db.session.query(User).filter_by(username="okname").count() == 0


def test_admin_resets_a_password(client, app):
    login(client, make_user("admin"))
    target = make_user("officer")
    client.post(f"/admin/users/{target.id}/password", data={"new_password": "Datlai20261"})
    assert login(app.test_client(), target, PASSWORD).status_code == 401
    assert login(app.test_client(), target, "Datlai20261").status_code == 302


def test_audit_log_visible_to_controller_and_admin_only(client, app):
    make_cooperative(name="HTX Kiểm toán")
    login(client, make_user("controller"))
    page = client.get("/audit/").get_data(as_text=True)
    assert "cooperative.create" in page
    officer_client = app.test_client()
    login(officer_client, make_user("officer"))
    assert officer_client.get("/audit/").status_code == 403
