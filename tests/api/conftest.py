"""Shared set-up of the API tests: the base path, a bearer token without the password round
trip, the error body, and the ``staff`` and ``api`` fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from flask import current_app
from flask.testing import FlaskClient

from fundapp.auth.services import issue_token
from fundapp.extensions import db
from tests.services.lending_helpers import Staff, fund_and_staff

API = "/api/v1"


def token(user: Any, name: str = "tests") -> dict[str, str]:
    """A bearer token without the password round trip (the token endpoint has its own
    tests; hashing a password per user would dominate these tests' time)."""
    raw, _token = issue_token(user, current_app.config["API_TOKEN_HOURS"], name)
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def error(response: Any, status: int = 422) -> dict:
    """The ``error`` object of an answer that must have ``status``."""
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"]


@pytest.fixture
def staff(app: Any) -> Staff:
    return fund_and_staff()


@pytest.fixture
def api(client: FlaskClient) -> Any:
    """GET and POST under ``API`` as a user, with a fresh bearer token each time."""

    class Api:
        def get(self, path: str, who: Any, **query: Any) -> Any:
            return client.get(API + path, headers=token(who), query_string=query)

        def post(self, path: str, who: Any, json: Any = None, **headers: str) -> Any:
            return client.post(API + path, headers={**token(who), **headers}, json=json)

    return Api()
