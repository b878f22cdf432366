"""Reports and the dashboard read from a PostgreSQL streaming replica when there is one.

``DATABASE_URL_REPLICA`` names a hot standby of the primary. ``configure`` makes an engine
for it, kept in the app's extensions rather than as a Flask-SQLAlchemy bind: every bind
key gets a metadata of its own, which ``db.create_all()`` and ``drop_all()`` then visit on
every app, connecting to the standby (or failing where there is none). A view wrapped in
``reads_from_replica`` runs with ``db.session`` swapped for a session of its own whose
plain reads go to that engine (``extensions.RoutingSession``). The report code is
unchanged: it calls ``db.session`` as everywhere else. Signing in and the request's hooks
run before and after the view, on the request's own session, on the primary: a revoked
session or a changed role is never read from a server that has not replayed it yet.

A replica that cannot be reached (refused, gone, timing out) costs one failed attempt: the
view is run again on the primary, a warning is logged, and the primary serves these views
for ``RETRY_SECONDS`` before the replica is tried again. The view only reads, so running it
twice changes nothing; if the primary fails as well, the error is the primary's (503).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError

from fundapp.extensions import READ_REPLICA, db

F = TypeVar("F", bound=Callable[..., Any])

EXTENSION = "fundapp.replica"
# After a failure the primary serves the replica's views this long before it is tried again,
# so that a replica that times out does not slow every report down.
RETRY_SECONDS = 30.0
# A replica that does not answer is given up on after this long (PostgreSQL's libpq option).
CONNECT_TIMEOUT_SECONDS = 3

_lock = threading.Lock()
_down_until: dict[str, float] = {}


def configure(app: Flask) -> None:
    """The replica's engine, when ``DATABASE_URL_REPLICA`` is set (no connection yet)."""
    url = str(app.config.get("DATABASE_URL_REPLICA") or "").strip()
    if not url:
        return
    try:
        parsed = make_url(url)
    except ArgumentError:
        # SQLAlchemy's message would repeat the URL, password and all, into the logs.
        raise ValueError("DATABASE_URL_REPLICA is not a database URL") from None
    options: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "postgresql":
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    app.extensions[EXTENSION] = create_engine(parsed, **options)


def engine_of(app: Flask) -> Engine | None:
    return app.extensions.get(EXTENSION)


def replica_engine() -> Engine | None:
    """The replica's engine, or ``None`` when there is none, the setting has been emptied,
    or it failed a moment ago."""
    engine = engine_of(current_app)
    if engine is None or not current_app.config.get("DATABASE_URL_REPLICA"):
        return None
    with _lock:
        if time.monotonic() < _down_until.get(str(engine.url), 0.0):
            return None
    return engine


def _mark_down(engine: Engine, exc: Exception) -> None:
    with _lock:
        _down_until[str(engine.url)] = time.monotonic() + RETRY_SECONDS
    current_app.logger.warning(
        "read replica %s unavailable, reading from the primary for %ds: %s",
        engine.url,  # the URL's str() hides the password
        RETRY_SECONDS,
        str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
    )


def reads_from_replica(view: F) -> F:
    """Run ``view`` with its reads on the replica (see the module's doc); views that only
    read. Without a replica, or while it is down, the view runs as it is."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        engine = replica_engine()
        if engine is None:
            return view(*args, **kwargs)
        registry = db.session.registry
        own = registry() if registry.has() else None
        reading = db.session.session_factory()
        reading.info[READ_REPLICA] = engine
        registry.set(reading)
        try:
            return view(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            failed = exc
        finally:
            reading.close()
            if own is None:
                registry.clear()
            else:
                registry.set(own)
        _mark_down(engine, failed)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
