"""Fixtures: a fresh database per test on SQLite (in memory) or on the PostgreSQL server
named by FUNDAPP_TEST_DATABASE_URL (started by `make test`)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import func, select, text

from config import TestingConfig
from fundapp.app import create_app
from fundapp.extensions import db

PASSWORD = "Matkhau2026"
BUSINESS_DATE = date(2026, 11, 20)
PG_URL = os.environ.get("FUNDAPP_TEST_DATABASE_URL", "")


class _Config(TestingConfig):
    SQLALCHEMY_DATABASE_URI = PG_URL or "sqlite://"
    FUNDAPP_BUSINESS_DATE = BUSINESS_DATE.isoformat()
    LOGIN_MAX_FAILURES = 5


class Client(FlaskClient):
    """Tests hold one app context around many requests; Flask-Login caches the user on
    ``g`` of that context, so forget it before each request as a fresh context would."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        g.pop("_login_user", None)
        g.pop("_flask_babel", None)
        g.pop("csrf_token", None)  # Flask-WTF keeps the request's token on g
        return super().open(*args, **kwargs)


class _TemplateCode(BytecodeCache):
    """The templates' compiled code, kept in memory for the session: an app of its own (a
    test's ``make_app(...)``) loads a template without parsing and compiling it again. Jinja
    checks each entry against the template's source, so an edited template is compiled."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _TemplateCode()


def make_app(**overrides: Any) -> Flask:
    config = type("Config", (_Config,), overrides)
    app = create_app(config)
    app.test_client_class = Client
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    # A template edited while the session runs is read again, as a new app would read it.
    app.jinja_env.auto_reload = True
    return app


_shared: dict[str, Any] = {}


def shared_app() -> Flask:
    """The app of the ``app`` fixture, made once for the session: building the URL map, the
    templates and the SQL statements again for every test took a third of the suite's
    time. :func:`fresh_database` gives each test an empty database and, when the test
    ends, puts the app's configuration back as it was made."""
    if "app" not in _shared:
        app = _shared["app"] = make_app()
        _shared["config"] = dict(app.config)
    return _shared["app"]


# Reference data every test reads and none writes: loaded once per session on PostgreSQL
# (kept out of the TRUNCATE), once per session on SQLite, in the template every test's
# in-memory database is copied from (the province's ~600 units).
REFERENCE_TABLES = {"admin_units", "unit_successions"}


def load_units() -> None:
    from fundapp.areas import loader, services

    loader.load("24")
    db.session.commit()
    services.forget()


def _reset_postgres() -> None:
    tables = ", ".join(
        f'"{t.name}"' for t in db.metadata.sorted_tables if t.name not in REFERENCE_TABLES
    )
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()
    from fundapp.areas import loader

    if not loader.loaded("24"):  # a test that rebuilt the schema (the migrations') emptied them
        load_units()


_pg_schema_ready = False


def _in_memory() -> bool:
    return db.engine.dialect.name == "sqlite" and db.engine.url.database in (None, "", ":memory:")


def _restore_sqlite_template() -> None:
    """The empty schema with the reference data, copied into this app's in-memory database
    (whatever an earlier test left there is replaced): made once, by ``create_all`` and
    :func:`load_units`, then copied by SQLite's backup, a few milliseconds."""
    template = _shared.get("sqlite_template")
    if template is None:
        db.create_all()
        load_units()
        template = sqlite3.connect(":memory:", check_same_thread=False)
        pooled = db.engine.raw_connection()
        try:
            pooled.driver_connection.backup(template)
        finally:
            pooled.close()
        _shared["sqlite_template"] = template
        return
    pooled = db.engine.raw_connection()
    try:
        template.backup(pooled.driver_connection)
    finally:
        pooled.close()
    from fundapp.areas import services

    services.forget()  # as load_units does: the next lookup reads the tables again


@contextmanager
def fresh_database(app: Flask) -> Iterator[Flask]:
    """An empty schema for one test, inside the app's context; cleaned up afterwards."""
    global _pg_schema_ready
    shared = app is _shared.get("app")
    with app.app_context():
        if PG_URL:
            if not _pg_schema_ready:
                db.drop_all()
                db.create_all()
                load_units()
                _pg_schema_ready = True
            else:
                _reset_postgres()
        elif _in_memory():
            _restore_sqlite_template()
        else:
            db.create_all()
            load_units()
        try:
            yield app
        finally:
            db.session.remove()
            if shared:
                # The engine (and its in-memory database) stays for the next test, which
                # replaces the data first; settings a test changed are put back.
                app.config.clear()
                app.config.update(_shared["config"])
            else:
                if not PG_URL and not _in_memory():
                    db.drop_all()
                db.engine.dispose()


@pytest.fixture
def app() -> Iterator[Flask]:
    with fresh_database(shared_app()) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


# --- factories --------------------------------------------------------------

_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


# A cooperative made with ``district_code=`` (a 2021 district of Bắc Giang) is registered on
# this day with the first commune of that district in the 2021 list: its former district is
# that district and its commune of today follows from the successions.
REGISTERED_2021 = date(2021, 3, 1)


def _first_commune_2021(district: str) -> str:
    from fundapp.areas import services as areas

    ix = areas.index()
    communes = sorted(
        u.code
        for u in ix.units.values()
        if u.level == "commune" and u.parent_id and ix.units[u.parent_id].code == district
        and u.valid_on(REGISTERED_2021)
    )  # fmt: skip
    assert communes, f"no 2021 commune in district {district}"
    return communes[0]


def make_cooperative(**values: Any) -> Any:
    """A cooperative registered on the business date, by default in 07525 (Phường Chũ);
    ``district_code="219"``: registered in 2021 in that district (see above)."""
    from fundapp.cooperatives import services

    n = _next()
    data = {
        "name": f"HTX Thử nghiệm {n}",
        "kind": "cooperative",
        "registration_no": f"REG{n:07d}",
        "tax_code": f"{9000000000 + n}",
        "commune_code": "07525",  # Phường Chũ (former Huyện Lục Ngạn, Bắc Giang)
        "sector": "Trồng vải thiều",
        "representative": "Nguyễn Văn A",
        "phone": "0912345678",
        "email": f"htx{n}@example.vn",
        "members_count": "10",
    }
    entered_on = None
    district = values.pop("district_code", None)
    if district:
        data["commune_code"] = _first_commune_2021(district)
        data["former_district_code"] = district
        entered_on = REGISTERED_2021
    data.update(values)
    coop = services.create(None, data, entered_on=entered_on)
    db.session.commit()
    return coop


def make_user(*roles: str, cooperative: Any = None, username: str | None = None) -> Any:
    from fundapp.auth.services import create_user

    roles = roles or ("officer",)
    name = username or f"{roles[0]}{_next()}"
    if "cooperative" in roles and cooperative is None:
        cooperative = make_cooperative()
    user = create_user(
        None,
        name,
        PASSWORD,
        list(roles),
        full_name=name.title(),
        cooperative_id=cooperative.id if cooperative is not None else None,
    )
    db.session.commit()
    return user


def login(client: FlaskClient, user: Any, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"username": user.username, "password": password})


def client_for(app: Flask, user: Any) -> FlaskClient:
    """A test client of its own, signed in as ``user``."""
    client = app.test_client()
    assert login(client, user).status_code == 302
    return client


def count(model: Any, **where: Any) -> int:
    """Rows of ``model`` (matching ``where``): what a refused request must leave unchanged."""
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0


def api_token(client: FlaskClient, user: Any) -> dict[str, str]:
    response = client.post("/api/v1/tokens", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


@pytest.fixture
def factories() -> Any:
    class F:
        cooperative = staticmethod(make_cooperative)
        user = staticmethod(make_user)

    return F
