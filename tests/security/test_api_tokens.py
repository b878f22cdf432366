"""API bearer tokens under attack: expired, revoked (by the holder, by an admin, by
deactivating the user), tampered or sent the wrong way, used by the wrong role or on another
cooperative's object; never shown again after creation, stored only as a hash, and minted
only for a password, with throttling.

One fund is built per module; every test makes its own users (and, for throttling, uses its
own client address), so they do not depend on each other's order.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select

from fundapp.auth import services as auth
from fundapp.auth.models import ApiToken
from fundapp.cooperatives.models import Cooperative
from fundapp.domain.dates import utcnow
from fundapp.extensions import db
from fundapp.ledger.models import CapitalEntry
from fundapp.lending import applications
from fundapp.loans.days import CloseDayRun
from fundapp.loans.models import Application, Repayment
from tests.conftest import (
    BUSINESS_DATE,
    PASSWORD,
    fresh_database,
    login,
    make_app,
    make_cooperative,
    make_user,
)
from tests.documents.helpers import repay
from tests.services.lending_helpers import (
    application_data,
    contracted_loan,
    disburse,
    fund_and_staff,
)

API = "/api/v1"


def _error(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


UNAUTHORIZED = _error("unauthorized", "Mã truy cập thiếu, sai, đã hết hạn hoặc đã bị thu hồi.")
FORBIDDEN = _error("forbidden", "Bạn không có quyền thực hiện thao tác này.")
NOT_FOUND = _error("not_found", "Không tìm thấy trang hoặc dữ liệu yêu cầu.")
BAD_LOGIN = _error("unauthorized", "Tên đăng nhập hoặc mật khẩu không đúng.")
LOCKED = _error("too_many_requests", "Tạm khóa do đăng nhập sai nhiều lần.")
# The only API routes that answer without a token.
PUBLIC = {"api.create_token", "api.openapi_document"}

_addresses = count(1)


@dataclass
class Scene:
    app: Flask
    home: Any  # the cooperative of ``member``
    away: Any  # a neighbour
    member: Any
    objects: dict[str, dict[str, int]]  # per cooperative: its loan, tranche, receipt…


def _draft(officer: Any, coop: Any) -> Application:
    return applications.create_application(
        officer,
        application_data(coop, 100_000_000, project_name="Nhà sơ chế vải thiều"),
        BUSINESS_DATE,
    )


@pytest.fixture(scope="module")
def scene() -> Iterator[Scene]:
    with fresh_database(make_app()) as app:
        staff = fund_and_staff()
        home = make_cooperative(name="HTX Vải thiều Thanh Hà")
        away = make_cooperative(name="HTX Gà đồi Yên Thế")
        objects = {}
        for coop in (home, away):
            loan = contracted_loan(staff, cooperative=coop)
            tranche = disburse(staff, loan, 120_000_000, date(2026, 1, 5))
            paid = repay(staff, loan, 10_611_507, date(2026, 2, 5))
            draft = _draft(staff.officer, coop)
            db.session.commit()
            objects[coop.name] = {
                "coop": coop.id,
                "loan": loan.id,
                "tranche": tranche.id,
                "repayment": paid.id,
                "application": draft.id,
            }
        member = make_user("cooperative", cooperative=home)
        yield Scene(app, home, away, member, objects)


def client_at(app: Flask, address: str) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def client(scene: Scene) -> Any:
    """A client with an address of its own: login throttling counts per address."""
    return client_at(scene.app, f"10.7.0.{next(_addresses)}")


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def new_token(user: Any, name: str = "kiểm thử") -> tuple[str, ApiToken]:
    raw, token = auth.issue_token(user, current_app.config["API_TOKEN_HOURS"], name)
    db.session.commit()
    return raw, token


def sign_in(client: Any, username: str, password: str, **extra: Any) -> Any:
    return client.post(f"{API}/tokens", json={"username": username, "password": password, **extra})


def me(client: Any, headers: dict[str, str], **kwargs: Any) -> Any:
    return client.get(f"{API}/me", headers=headers, **kwargs)


def refused(response: Any) -> bool:
    return response.status_code == 401 and response.get_json() == UNAUTHORIZED


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- expired ---------------------------------------------------------------------------------


def test_a_token_lasts_exactly_the_configured_hours(scene, client, monkeypatch):
    user = make_user("officer")
    before = utcnow()
    response = sign_in(client, user.username, PASSWORD)
    after = utcnow()
    assert response.status_code == 201
    hours = timedelta(hours=current_app.config["API_TOKEN_HOURS"])
    assert hours == timedelta(hours=12)
    expires = parse_ts(response.get_json()["expires_at"])
    assert before + hours <= expires <= after + hours
    headers = bearer(response.get_json()["token"])

    monkeypatch.setattr(auth, "utcnow", lambda: expires - timedelta(microseconds=1))
    assert me(client, headers).status_code == 200
    monkeypatch.setattr(auth, "utcnow", lambda: expires)
    assert refused(me(client, headers))
    monkeypatch.setattr(auth, "utcnow", lambda: expires + timedelta(days=400))
    assert refused(me(client, headers))


def test_an_expired_token_opens_nothing_and_is_listed_inactive(scene, client):
    user = make_user("controller")
    raw, token = new_token(user, "hết hạn")
    live, _live = new_token(user, "còn hạn")
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    for path in ("/me", "/tokens", "/loans", "/audit"):
        assert refused(client.get(f"{API}{path}", headers=bearer(raw))), path
    assert refused(client.delete(f"{API}/tokens/current", headers=bearer(raw)))
    listed = client.get(f"{API}/tokens", headers=bearer(live)).get_json()["items"]
    assert {t["name"]: t["active"] for t in listed} == {"hết hạn": False, "còn hạn": True}


# --- revoked ---------------------------------------------------------------------------------


def test_the_holder_revokes_the_current_token_and_it_cannot_undo_that(scene, client):
    user = make_user("accountant")
    raw, token = new_token(user)
    assert client.delete(f"{API}/tokens/current", headers=bearer(raw)).status_code == 204
    assert refused(me(client, bearer(raw)))
    assert refused(client.delete(f"{API}/tokens/current", headers=bearer(raw)))
    assert refused(client.delete(f"{API}/tokens/{token.id}", headers=bearer(raw)))
    db.session.refresh(token)
    assert token.revoked_at is not None


def test_an_admin_revokes_one_token_from_the_web_page(scene, client):
    holder = make_user("director")
    revoked, token = new_token(holder, "máy cũ")
    kept, _kept = new_token(holder, "máy mới")
    page_client = scene.app.test_client()
    login(page_client, make_user("admin"))
    done = page_client.post(f"/admin/tokens/{token.id}/revoke")
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/admin/users/{holder.id}")
    assert refused(me(client, bearer(revoked)))
    assert me(client, bearer(kept)).status_code == 200


def test_deactivating_a_user_revokes_every_token_for_good(scene, client):
    holder = make_user("officer")
    tokens = [new_token(holder, name)[0] for name in ("một", "hai")]
    admin_raw, _admin = new_token(make_user("admin"))
    path = f"{API}/users/{holder.id}"
    assert client.patch(path, headers=bearer(admin_raw), json={"active": False}).status_code == 200
    assert all(refused(me(client, bearer(raw))) for raw in tokens)
    # Switching the account back on does not bring the old tokens back.
    assert client.patch(path, headers=bearer(admin_raw), json={"active": True}).status_code == 200
    assert all(refused(me(client, bearer(raw))) for raw in tokens)
    revoked = db.session.scalars(select(ApiToken).where(ApiToken.user_id == holder.id)).all()
    assert len(revoked) == 2 and all(t.revoked_at is not None for t in revoked)
    assert sign_in(client, holder.username, PASSWORD).status_code == 201


def test_a_user_switched_off_in_the_database_is_refused_at_once(scene, client):
    holder = make_user("board")
    raw, _token = new_token(holder)
    holder.active = False
    db.session.commit()
    assert refused(me(client, bearer(raw)))
    holder.active = True
    db.session.commit()
    assert me(client, bearer(raw)).status_code == 200


# --- tampered or sent the wrong way ---------------------------------------------------------


def _flip(raw: str, at: int) -> str:
    return raw[:at] + ("A" if raw[at] != "A" else "B") + raw[at + 1 :]


def test_tampered_tokens_and_wrong_schemes_are_401(scene, client):
    user = make_user("officer")
    raw, token = new_token(user)
    other_raw, _other = new_token(make_user("officer"))
    stored_hash = token.token_hash
    basic = "Basic " + base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    attempts = {
        "first char changed": bearer(_flip(raw, 0)),
        "middle char changed": bearer(_flip(raw, len(raw) // 2)),
        "last char changed": bearer(_flip(raw, len(raw) - 1)),
        "truncated": bearer(raw[:-1]),
        "half of it": bearer(raw[: len(raw) // 2]),
        "one char more": bearer(raw + "A"),
        "twice": bearer(raw + raw),
        "another user's prefix, wrong secret": bearer(other_raw[:20] + raw[20:]),
        "the stored hash itself": bearer(stored_hash),
        "case swapped": bearer(raw.swapcase()),
        "empty bearer": {"Authorization": "Bearer "},
        "bare scheme": {"Authorization": "Bearer"},
        "no scheme": {"Authorization": raw},
        "basic with the password": {"Authorization": basic},
        "basic with the token": {"Authorization": f"Basic {raw}"},
        "token scheme": {"Authorization": f"Token {raw}"},
        "scheme glued to it": {"Authorization": f"Bearer:{raw}"},
        "far too long": bearer("x" * 5000),
        "latin-1 noise": bearer("é" * 43),
        "other header": {"X-Api-Token": raw},
    }
    for what, headers in attempts.items():
        assert refused(me(client, headers)), what
    for name in ("access_token", "token", "api_key"):
        assert refused(client.get(f"{API}/me", query_string={name: raw})), name
        assert refused(client.get(f"{API}/me", query_string={name: f"Bearer {raw}"})), name
    assert refused(client.post(f"{API}/capital-entries", data={"access_token": raw}))
    # The scheme is case-insensitive (RFC 6750); the token itself is not.
    assert me(client, {"Authorization": f"bearer {raw}"}).status_code == 200
    assert me(client, {"Authorization": f"BEARER {raw}"}).status_code == 200


def test_a_signed_in_web_session_does_not_open_the_api(scene, client):
    user = make_user("officer")
    assert login(client, user).status_code == 302
    assert client.get("/loans/").status_code == 200
    assert refused(client.get(f"{API}/me"))
    assert refused(client.post(f"{API}/cooperatives", json={"name": "HTX Mới"}))


def test_every_api_route_but_two_wants_a_token(scene, client):
    """Walks the URL map: a route added without ``api_roles`` fails here."""
    user = make_user("officer")
    raw, _token = new_token(user)
    tampered = bearer(_flip(raw, 5))
    adapter = scene.app.url_map.bind("localhost")
    public, checked = set(), 0
    for rule in scene.app.url_map.iter_rules():
        if not rule.rule.startswith(f"{API}/"):
            continue
        if not hasattr(scene.app.view_functions[rule.endpoint], "allowed_roles"):
            public.add(rule.endpoint)
            continue
        url = adapter.build(rule.endpoint, {arg: 1 for arg in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert refused(client.open(url, method=method, headers=tampered)), (method, url)
            checked += 1
    assert public == PUBLIC
    assert checked >= 90


# --- the wrong role, another cooperative's objects ------------------------------------------


def test_a_token_acts_with_the_roles_its_user_has_now(scene, client):
    """Roles are read on each request, not frozen into the token: a demoted officer's token
    loses the officer's routes at once, and a role's token never reaches another's."""
    officer = make_user("officer")
    raw, _token = new_token(officer)
    admin_headers = bearer(new_token(make_user("admin"))[0])
    coop = {
        "name": "HTX Mới thành lập",
        "kind": "cooperative",
        "registration_no": "2405990001",
        "tax_code": "2400990001",
        "commune_code": "07525",
        "sector": "Trồng rau",
    }
    before = _rows()
    demoted = client.patch(
        f"{API}/users/{officer.id}", headers=admin_headers, json={"roles": ["controller"]}
    )
    assert demoted.status_code == 200
    refused_now = client.post(f"{API}/cooperatives", headers=bearer(raw), json=coop)
    assert (refused_now.status_code, refused_now.get_json()) == (403, FORBIDDEN)
    assert client.get(f"{API}/loans", headers=bearer(raw)).status_code == 200  # a reader now

    loan_id = scene.objects[scene.home.name]["loan"]
    payment = {"amount": 1_000_000, "date": "2026-11-20", "reference": "PT-thu"}
    capital = {"source": "charter", "amount": 1_000_000_000, "date": "2026-11-20"}
    wrong_role = [
        ("admin", "POST", f"/loans/{loan_id}/repayments", payment),  # no money actions
        ("controller", "POST", "/capital-entries", capital),  # reads, changes nothing
        ("officer", "POST", "/close-day", {"date": "2026-11-20"}),
        ("accountant", "GET", "/users", None),
        ("board", "POST", f"/loans/{loan_id}/repayments", payment),
        ("director", "POST", "/capital-entries", capital),
    ]
    for role, method, path, body in wrong_role:
        headers = bearer(new_token(make_user(role))[0])
        response = client.open(f"{API}{path}", method=method, headers=headers, json=body)
        assert (response.status_code, response.get_json()) == (403, FORBIDDEN), (role, path)
    member = bearer(new_token(scene.member)[0])
    for method, path, body in [
        ("GET", "/users", None),
        ("GET", "/audit", None),
        ("GET", "/journal", None),
        ("POST", f"/loans/{loan_id}/repayments", payment),
        ("POST", "/cooperatives", coop),
    ]:
        response = client.open(f"{API}{path}", method=method, headers=member, json=body)
        assert (response.status_code, response.get_json()) == (403, FORBIDDEN), path
    assert _rows() == before


def _rows() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (CapitalEntry, Repayment, Cooperative, CloseDayRun)
    )


def test_a_cooperative_token_finds_only_its_own_objects(scene, client):
    headers = bearer(new_token(scene.member)[0])
    urls = {
        "coop": ["/cooperatives/{}", "/cooperatives/{}/debt-confirmation.pdf"],
        "loan": [
            "/loans/{}",
            "/loans/{}/schedule",
            "/loans/{}/schedule.pdf",
            "/loans/{}/statement.pdf",
            "/loans/{}/repayments",
            "/loans/{}/disbursements",
        ],
        "tranche": ["/disbursements/{}/debt-receipt.pdf"],
        "repayment": ["/repayments/{}/receipt.pdf"],
        "application": ["/applications/{}", "/applications/{}/documents"],
    }
    own = scene.objects[scene.home.name]
    other = scene.objects[scene.away.name]
    for kind, templates in urls.items():
        for template in templates:
            if not template.endswith(".pdf"):  # the access matrix renders the PDFs
                mine = client.get(API + template.format(own[kind]), headers=headers)
                assert mine.status_code == 200, (template, mine.status_code)
            theirs = client.get(API + template.format(other[kind]), headers=headers)
            missing = client.get(API + template.format(999_999), headers=headers)
            # The same answer as for an id that does not exist: nothing to probe.
            assert (theirs.status_code, theirs.get_json()) == (404, NOT_FOUND), template
            assert (missing.status_code, missing.get_json()) == (404, NOT_FOUND), template

    app_id = other["application"]
    writes = [
        client.patch(f"{API}/applications/{app_id}", headers=headers, json={"term_months": 6}),
        client.post(f"{API}/applications/{app_id}/submit", headers=headers),
        client.post(f"{API}/applications/{app_id}/withdraw", headers=headers, json={}),
        client.post(
            f"{API}/applications/{app_id}/documents",
            headers=headers,
            data={"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a.pdf")},
        ),
        client.patch(
            f"{API}/cooperatives/{other['coop']}/contact",
            headers=headers,
            json={"phone": "0911111111"},
        ),
    ]
    assert [(r.status_code, r.get_json()) for r in writes] == [(404, NOT_FOUND)] * len(writes)
    draft = db.session.get(Application, app_id)
    db.session.refresh(draft)
    assert (draft.status, draft.term_months) == ("draft", 12)
    db.session.expire_all()
    assert db.session.get(Cooperative, other["coop"]).phone == "0912345678"
    listed = client.get(f"{API}/loans", headers=headers).get_json()["items"]
    assert [loan["id"] for loan in listed] == [own["loan"]]


# --- never shown again, stored hashed --------------------------------------------------------


def test_the_token_is_shown_once_and_stored_only_as_its_hash(scene, client, caplog):
    caplog.set_level(logging.DEBUG)
    holder = make_user("controller")
    created = sign_in(client, holder.username, PASSWORD, name="máy chủ tích hợp")
    assert created.status_code == 201
    raw = created.get_json()["token"]
    assert len(raw) >= 43  # 32 random bytes, URL-safe base64
    digest = hashlib.sha256(raw.encode()).hexdigest()
    stored = db.session.scalars(select(ApiToken).where(ApiToken.user_id == holder.id)).one()
    assert stored.token_hash == digest

    headers = bearer(raw)
    admin_headers = bearer(new_token(make_user("admin"))[0])
    answers = [
        client.get(f"{API}/me", headers=headers),
        client.get(f"{API}/tokens", headers=headers),
        client.get(f"{API}/audit", headers=headers),
        client.get(f"{API}/audit?entity=api_token", headers=admin_headers),
        client.get(f"{API}/users/{holder.id}/tokens", headers=admin_headers),
        client.get(f"{API}/users/{holder.id}", headers=admin_headers),
    ]
    page_client = scene.app.test_client()
    login(page_client, make_user("admin"))
    answers.append(page_client.get(f"/admin/users/{holder.id}"))
    answers.append(page_client.get("/audit/"))
    for answer in answers:
        assert answer.status_code == 200, answer.request.path
        body = answer.get_data(as_text=True)
        assert raw not in body and digest not in body, answer.request.path
        assert raw[:12] not in body, answer.request.path  # not even a prefix of the secret
    listed = answers[1].get_json()["items"]
    assert [(t["id"], t["name"]) for t in listed] == [(stored.id, "máy chủ tích hợp")]
    assert not {"token", "token_hash", "secret"} & set(listed[0])
    assert "máy chủ tích hợp" in answers[6].get_data(as_text=True)

    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            assert raw not in repr(tuple(row)), table.name
    assert not [r for r in caplog.records if raw in r.getMessage()]


# --- minting a token: the password, always; throttled -----------------------------------------


def test_a_token_is_minted_only_for_the_right_password(scene, client):
    user = make_user("accountant")
    raw, _token = new_token(user)
    tokens_before = db.session.scalar(select(func.count(ApiToken.id)))
    # A token does not mint another one.
    no_password = client.post(
        f"{API}/tokens", headers=bearer(raw), json={"username": user.username}
    )
    assert no_password.status_code == 422
    assert set(no_password.get_json()["error"]["fields"]) == {"password"}
    wrong = sign_in(client, user.username, "Matkhau2025")
    assert (wrong.status_code, wrong.get_json()) == (401, BAD_LOGIN)
    # An unknown user and an inactive one get the very same answer: nothing to enumerate.
    unknown = sign_in(client, "khong-co-ai", PASSWORD)
    assert (unknown.status_code, unknown.get_json()) == (401, BAD_LOGIN)
    inactive = make_user("officer")
    inactive.active = False
    db.session.commit()
    switched_off = sign_in(client, inactive.username, PASSWORD)
    assert (switched_off.status_code, switched_off.get_json()) == (401, BAD_LOGIN)
    empty = sign_in(client, user.username, "")
    assert empty.status_code == 422 and set(empty.get_json()["error"]["fields"]) == {"password"}
    assert db.session.scalar(select(func.count(ApiToken.id))) == tokens_before
    assert sign_in(client, user.username.upper(), PASSWORD).status_code == 201


def test_five_failures_lock_the_user_even_with_the_right_password(scene, client, monkeypatch):
    user = make_user("director")
    failures = [sign_in(client, user.username, f"Sai{n}matkhau") for n in range(5)]
    assert [r.status_code for r in failures] == [401] * 5
    tokens_before = db.session.scalar(select(func.count(ApiToken.id)))
    locked = sign_in(client, user.username, PASSWORD)
    assert (locked.status_code, locked.get_json()) == (429, LOCKED)
    # The lock is the user's, wherever the request comes from, and it locks the web login too.
    elsewhere = client_at(scene.app, "10.8.0.1")
    assert sign_in(elsewhere, user.username, PASSWORD).status_code == 429
    assert login(elsewhere, user).status_code == 429
    assert db.session.scalar(select(func.count(ApiToken.id))) == tokens_before

    later = utcnow() + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"], seconds=1)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    assert sign_in(elsewhere, user.username, PASSWORD).status_code == 201


def test_guessing_many_usernames_from_one_address_locks_that_address(scene, client):
    limit = scene.app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    for n in range(limit):
        assert sign_in(client, f"doan-ten-{n}", "Matkhau2026").status_code == 401
    victim = make_user("officer")
    assert (sign_in(client, victim.username, PASSWORD).get_json()) == LOCKED
    other_address = client_at(scene.app, "10.9.0.1")
    assert sign_in(other_address, victim.username, PASSWORD).status_code == 201
