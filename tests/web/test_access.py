"""Server-side role checks: the controller changes nothing, a cooperative sees only itself."""

from __future__ import annotations

import pytest

from tests.conftest import api_token, login, make_cooperative, make_user

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# Self-service actions every signed-in user has, the controller included.
SELF_SERVICE = {
    "auth.login",
    "auth.logout",
    "auth.change_password",
    "auth.end_other_sessions",
    "main.language",
    "api.create_token",
    "api.revoke_current_token",
    "api.revoke_own_token",
    "api.change_own_password",
    # Marking one's own notices read is the reader's state, not the fund's data.
    "notices.read",
    "notices.read_all",
    "api.mark_notice_read",
    "api.mark_all_notices_read",
}


def _url(rule) -> str:
    values = {}
    for arg in rule.arguments:
        values[arg] = "min_equity_pct" if arg == "key" else 1
    return rule.build(values, append_unknown=False)[1]


def _mutating_rules(app):
    rules = [
        r
        for r in app.url_map.iter_rules()
        if (r.methods or set()) & MUTATING and r.endpoint not in SELF_SERVICE
    ]
    assert len(rules) >= 10  # the map is really being walked
    return rules


def test_controller_gets_403_on_every_mutating_route(client, app):
    make_cooperative()
    controller = make_user("controller")
    login(client, controller)
    headers = api_token(app.test_client(), controller)
    checked = []
    for rule in _mutating_rules(app):
        url = _url(rule)
        for method in sorted((rule.methods or set()) & MUTATING):
            if url.startswith("/api/"):
                response = client.open(url, method=method, json={}, headers=headers)
            else:
                response = client.open(url, method=method, data={"x": "1"})
            assert response.status_code == 403, (method, url, response.status_code)
            checked.append((method, url))
    assert ("POST", "/capital/new") in checked
    assert ("POST", "/api/v1/capital-entries") in checked


def test_controller_reads_everything(client, app):
    coop = make_cooperative()
    login(client, make_user("controller"))
    for url in (
        "/fund",
        "/capital",
        "/journal",
        "/cooperatives/",
        f"/cooperatives/{coop.id}",
        "/cooperatives/groups",
        "/policy/",
        "/policy/min_equity_pct",
        "/audit/",
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "url",
    [
        "/fund",
        "/capital",
        "/capital/new",
        "/journal",
        "/cooperatives/",
        "/cooperatives/new",
        "/policy/",
        "/audit/",
        "/admin/users",
    ],
)
def test_cooperative_user_cannot_open_staff_pages(client, app, url):
    login(client, make_user("cooperative"))
    assert client.get(url).status_code == 403


def test_cooperative_user_cannot_open_another_cooperatives_pages_or_api(client, app):
    own = make_cooperative(name="HTX Của tôi")
    other = make_cooperative(name="HTX Hàng xóm")
    user = make_user("cooperative", cooperative=own)
    login(client, user)
    assert client.get(f"/cooperatives/{other.id}").status_code == 403
    assert client.get(f"/cooperatives/{other.id}/edit").status_code == 403
    portal = client.get("/portal/").get_data(as_text=True)
    assert "HTX Của tôi" in portal and "HTX Hàng xóm" not in portal

    headers = api_token(client, user)
    assert client.get(f"/api/v1/cooperatives/{other.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/cooperatives/{own.id}", headers=headers).status_code == 200
    listing = client.get("/api/v1/cooperatives", headers=headers).get_json()
    assert [c["id"] for c in listing["items"]] == [own.id]
    assert client.get("/api/v1/capital-entries", headers=headers).status_code == 403
    patch = client.patch(f"/api/v1/cooperatives/{own.id}", json={"name": "X"}, headers=headers)
    assert patch.status_code == 403


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("officer", {"/cooperatives/new"}),
        ("accountant", {"/capital/new"}),
        ("board", {"/policy/min_equity_pct/change"}),
        ("admin", {"/admin/users", "/admin/users/new", "/audit/"}),
        ("director", set()),
    ],
)
def test_each_role_reaches_only_its_own_forms(client, app, role, allowed):
    login(client, make_user(role))
    forms = {
        "/cooperatives/new",
        "/capital/new",
        "/policy/min_equity_pct/change",
        "/admin/users",
        "/admin/users/new",
        "/audit/",
    }
    for url in forms:
        expected = 200 if url in allowed else 403
        assert client.get(url).status_code == expected, (role, url)


def test_anonymous_is_sent_to_login(client, app):
    response = client.get("/fund")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.get("/api/v1/me").status_code == 401
