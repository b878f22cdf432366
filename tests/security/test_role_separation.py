"""Incompatible roles (issue 14, point 5): the administrator, the controller and a
cooperative's account hold no other role. Refused through the web admin form and the API;
an account already holding such a set (from before the rule) counts as its excluding role
alone."""

from __future__ import annotations

from itertools import combinations

import pytest
from sqlalchemy import func, select

from fundapp.auth.models import User, UserRole
from fundapp.auth.services import create_user
from fundapp.core.security import ALL_ROLES, effective_roles, has_role
from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db
from fundapp.ledger.models import CapitalEntry
from tests.conftest import PASSWORD, api_token, login, make_cooperative, make_user

API = "/api/v1"
PRECEDENCE = ("admin", "controller", "cooperative")
HELD_ALONE = set(PRECEDENCE)
ADMIN_CONFLICT = (
    "Quản trị hệ thống không được kiêm Kế toán, Giám đốc, Chủ tịch / Hội đồng quản lý: "
    "người quản trị tài khoản không giữ vai trò thu chi"
)
CONTROLLER_CONFLICT = "Kiểm soát viên không được kiêm Kế toán: kiểm soát viên chỉ xem"


@pytest.mark.parametrize("pair", list(combinations(ALL_ROLES, 2)), ids="+".join)
def test_every_pair_of_roles_is_refused_exactly_when_it_mixes_a_role_held_alone(app, pair):
    coop = make_cooperative() if "cooperative" in pair else None
    refused = bool(set(pair) & HELD_ALONE)
    try:
        create_user(None, "hai.vai", PASSWORD, list(pair), cooperative_id=coop.id if coop else None)
    except ValidationFailed as exc:
        assert refused, exc.fields
        assert set(exc.fields) == {"roles"}
    else:
        assert not refused, pair
    # Stored anyway, the set counts as its first role of PRECEDENCE alone.
    kept = next((role for role in PRECEDENCE if role in pair), None)
    assert effective_roles(pair) == ({kept} if refused else set(pair))


def _users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def test_the_web_form_refuses_money_roles_for_an_admin_and_any_role_for_a_controller(client, app):
    admin = make_user("admin")
    login(client, admin)
    before = _users()
    created = client.post(
        "/admin/users/new",
        data={
            "username": "sep.admin",
            "password": "Abcdef12345",
            "roles": ["admin", "accountant", "director", "board"],
            "active": "y",
        },
    )
    assert created.status_code == 200
    assert ADMIN_CONFLICT in created.get_data(as_text=True)
    assert _users() == before

    # Nor can the admin give itself a money role.
    own = client.post(
        f"/admin/users/{admin.id}",
        data={"full_name": "Q", "email": "", "roles": ["admin", "accountant"], "active": "y"},
    )
    assert own.status_code == 200
    assert "Quản trị hệ thống không được kiêm Kế toán" in own.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.role_names == ["admin"]

    controller = make_user("controller")
    edited = client.post(
        f"/admin/users/{controller.id}",
        data={"full_name": "K", "email": "", "roles": ["controller", "accountant"], "active": "y"},
    )
    assert edited.status_code == 200
    assert CONTROLLER_CONFLICT in edited.get_data(as_text=True)
    db.session.refresh(controller)
    assert controller.role_names == ["controller"]


def test_the_api_refuses_the_same_sets(client, app):
    admin = make_user("admin")
    headers = api_token(client, admin)
    before = _users()
    body = {
        "username": "sep.admin",
        "password": "Abcdef12345",
        "roles": ["admin", "accountant", "director", "board"],
    }
    created = client.post(f"{API}/users", headers=headers, json=body)
    assert created.status_code == 422
    assert created.get_json()["error"]["fields"]["roles"].startswith(ADMIN_CONFLICT)
    mixed = client.post(
        f"{API}/users", headers=headers, json={**body, "roles": ["controller", "accountant"]}
    )
    assert mixed.get_json()["error"]["fields"]["roles"].startswith(CONTROLLER_CONFLICT)
    assert _users() == before

    own = client.patch(
        f"{API}/users/{admin.id}", headers=headers, json={"roles": ["admin", "accountant"]}
    )
    assert own.status_code == 422
    assert "Quản trị hệ thống không được kiêm Kế toán" in own.get_json()["error"]["fields"]["roles"]
    officer = make_user("officer")
    patched = client.patch(
        f"{API}/users/{officer.id}", headers=headers, json={"roles": ["officer", "controller"]}
    )
    assert patched.status_code == 422
    db.session.refresh(admin)
    db.session.refresh(officer)
    assert admin.role_names == ["admin"] and officer.role_names == ["officer"]
    # Roles one person may hold together are still accepted.
    fine = client.patch(
        f"{API}/users/{officer.id}", headers=headers, json={"roles": ["officer", "accountant"]}
    )
    assert fine.status_code == 200


def _grant_behind_the_rules(user: User, *roles: str) -> None:
    """A set stored before the rule existed (or by hand in the database)."""
    user.roles.extend(UserRole(role=role) for role in roles)
    db.session.commit()


def test_an_admin_who_already_holds_money_roles_moves_no_money(client, app):
    admin = make_user("admin")
    _grant_behind_the_rules(admin, "accountant", "director", "board")
    assert admin.role_names == ["accountant", "admin", "board", "director"]
    assert has_role(admin, "admin") and not has_role(admin, "accountant", "director", "board")

    login(client, admin)
    users_page = client.get("/admin/users")
    assert users_page.status_code == 200  # still the administrator: the roles can be fixed
    assert "chỉ Quản trị hệ thống có hiệu lực" in users_page.get_data(as_text=True)
    entry = {"source": "charter", "amount": "1000000", "entry_date": "01/11/2026"}
    assert client.post("/capital/new", data=entry).status_code == 403
    headers = api_token(client, admin)
    body = {"source": "charter", "amount": 1_000_000, "date": "2026-11-01"}
    assert client.post(f"{API}/capital-entries", headers=headers, json=body).status_code == 403
    tranche = {"amount": 1_000_000, "date": "2026-11-01"}
    assert (
        client.post(f"{API}/loans/1/disbursements", headers=headers, json=tranche).status_code
        == 403
    )
    assert db.session.scalar(select(func.count(CapitalEntry.id))) == 0

    # Putting the roles right is the usual form.
    fixed = client.post(
        f"/admin/users/{admin.id}",
        data={"full_name": "Q", "email": "", "roles": ["admin"], "active": "y"},
    )
    assert fixed.status_code == 302
    db.session.refresh(admin)
    assert admin.role_names == ["admin"]


def test_a_controller_who_already_holds_a_money_role_stays_read_only(client, app):
    controller = make_user("controller")
    _grant_behind_the_rules(controller, "accountant")
    login(client, controller)
    assert client.get("/fund").status_code == 200
    assert client.get("/audit/").status_code == 200
    entry = {"source": "charter", "amount": "1000000", "entry_date": "01/11/2026"}
    assert client.post("/capital/new", data=entry).status_code == 403
    assert db.session.scalar(select(func.count(CapitalEntry.id))) == 0
