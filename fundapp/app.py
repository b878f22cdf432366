"""The application factory: configuration, extensions, blueprints, error handlers."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from flask import Flask, g, jsonify, render_template, request, session
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2.ext import _make_new_gettext
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import Config, config_from_env
from fundapp import models  # noqa: F401  (every table registered on the metadata)
from fundapp.api import bp as api_bp
from fundapp.auth.models import User
from fundapp.auth.services import user_for_session
from fundapp.cli import register
from fundapp.core import formatting, replica
from fundapp.core.dates import business_date
from fundapp.core.db import serialise_sqlite
from fundapp.core.security import ROLE_LABELS, has_role, role_conflicts
from fundapp.core.validation import json_too_deep
from fundapp.domain.errors import DomainError, MalformedRequest, ValidationFailed
from fundapp.extensions import babel, csrf, db, login_manager, migrate
from fundapp.funds.services import origin_of
from fundapp.imports.cli import loans_cli
from fundapp.ledger.services import register_check, register_overview_extra
from fundapp.loans import book, dues
from fundapp.loans.integrity import check_loans
from fundapp.loans.queries import overview_figures
from fundapp.loans.verify import deep_check
from fundapp.notices.delivery import deliver_pending  # (see the comment above)
from fundapp.notices.services import unread_count
from fundapp.policy.services import check_stored_values
from fundapp.servicing.close_day import after_each_date  # (see the comment above)
from fundapp.web.admin import bp as admin_bp
from fundapp.web.applications import bp as applications_bp
from fundapp.web.audit import bp as audit_bp
from fundapp.web.auth import bp as auth_bp
from fundapp.web.banking import bp as banking_bp
from fundapp.web.committee import bp as committee_bp
from fundapp.web.cooperatives import bp as coop_bp
from fundapp.web.credit_file import bp as credit_file_bp
from fundapp.web.dashboard import bp as dashboard_bp
from fundapp.web.documents import bp as documents_bp
from fundapp.web.imports import bp as imports_bp
from fundapp.web.ledger import bp as ledger_bp
from fundapp.web.loan_actions import bp as loans_bp  # web.loans' bp, with its POST views
from fundapp.web.main import bp as main_bp
from fundapp.web.notices import bp as notices_bp
from fundapp.web.planning import bp as planning_bp
from fundapp.web.policy import bp as policy_bp
from fundapp.web.portal import bp as portal_bp
from fundapp.web.ranking import bp as ranking_bp
from fundapp.web.relief import bp as relief_bp
from fundapp.web.reports import bp as reports_bp
from fundapp.web.servicing import bp as servicing_bp
from fundapp.web.support import bp as support_bp
from fundapp.web.work import bp as work_bp
from fundapp.work import notify


def create_app(config: type[Config] | None = None) -> Flask:
    config = config or config_from_env()
    config.check()
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=True,
    )
    app.config.from_object(config)
    if app.config.get("FUNDAPP_PROXIES"):
        # The client's address and scheme as the trusted proxies saw them (login throttling
        # by address, Secure cookies); without proxies the headers are ignored, so they
        # cannot be forged to dodge a lock.
        hops = int(app.config["FUNDAPP_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    _ensure_instance_dir(app)
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        # The book's statements are short and planned once; PostgreSQL's JIT compiles the
        # larger whole-book sums for longer than they run (433 ms compiling a 60 ms query).
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("options", "-c jit=off")
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": connect_args}
    # Every id in a URL fits the database's INTEGER keys: a larger one is simply not found.
    app.url_map.converters["int"] = RowIdConverter

    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_error_handlers(app)
    register_input_guard(app)
    register_security_headers(app)
    register_commands(app)
    register_domain_hooks()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return app


class RowIdConverter(IntegerConverter):
    """``<int:…>`` bounded to 1 … 2^31 − 1, the range of the tables' primary keys. The bound
    is in the pattern itself: a larger number never matches the rule, so it is a plain 404
    whatever the method (a converter that refused it after matching would make Werkzeug
    answer 405 when the same path has rules for other methods)."""

    regex = (
        r"(?:[1-9]\d{0,8}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}"
        r"|21474[0-7]\d{4}|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d"
        r"|214748364[0-7])"
    )


def _ensure_instance_dir(app: Flask) -> None:

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def select_locale() -> str:
    lang = session.get("lang") if request else None
    if lang in ("vi", "en"):
        return lang
    return "vi"


def register_extensions(app: Flask) -> None:
    replica.configure(app)
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_key: str) -> User | None:
        # Flask-Login's user id (in the session and the remember-me cookie) is the key of a
        # server-side session: only a live one of an active user signs anyone in.

        return user_for_session(session_key)

    with app.app_context():
        for engine in db.engines.values():
            serialise_sqlite(engine)  # this app's engines only; not every Engine in the process


def register_blueprints(app: Flask) -> None:

    for bp in (
        main_bp, auth_bp, admin_bp, coop_bp, ledger_bp, policy_bp, audit_bp, portal_bp,
        applications_bp, loans_bp, notices_bp, servicing_bp, documents_bp, reports_bp,
        dashboard_bp, imports_bp, relief_bp, work_bp, credit_file_bp, planning_bp,
        committee_bp, ranking_bp, support_bp, banking_bp,
    ):  # fmt: skip
        app.register_blueprint(bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, never cookies


def register_template_helpers(app: Flask) -> None:

    app.jinja_env.filters["money"] = formatting.money_filter
    app.jinja_env.filters["vndate"] = formatting.date_filter
    app.jinja_env.filters["rate"] = formatting.rate_filter
    app.jinja_env.filters["datetime"] = formatting.datetime_filter
    app.jinja_env.filters["person"] = formatting.person_filter
    app.jinja_env.filters["dateinput"] = formatting.date_input_filter
    app.jinja_env.globals["has_role"] = has_role
    app.jinja_env.globals["ROLE_LABELS"] = ROLE_LABELS
    app.jinja_env.globals["role_conflicts"] = role_conflicts

    app.jinja_env.globals["origin_fund"] = origin_of

    @app.context_processor
    def inject() -> dict[str, Any]:

        return {
            "fund_name": app.config["FUNDAPP_NAME"],
            "current_locale": str(get_locale()),
            "business_date": business_date(),
            "unread_notices": unread_count(current_user),
            # ``_()`` in a template looks ``gettext`` up in its context first: the catalogue
            # of this render, found once, instead of Flask-Babel's global, which finds it
            # again for each of a page's ~200 strings. The same callable as Jinja's own
            # (jinja2.ext.i18n, newstyle), so the same text and escaping.
            "gettext": _make_new_gettext(get_translations().ugettext),
        }


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, fields: dict | None = None) -> Any:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def register_error_handlers(app: Flask) -> None:

    messages = {
        400: ("bad_request", lambda: _("Yêu cầu không hợp lệ.")),
        401: ("unauthorized", lambda: _("Cần đăng nhập.")),
        403: ("forbidden", lambda: _("Bạn không có quyền thực hiện thao tác này.")),
        404: ("not_found", lambda: _("Không tìm thấy trang hoặc dữ liệu yêu cầu.")),
        405: ("method_not_allowed", lambda: _("Phương thức không được hỗ trợ.")),
        409: ("conflict", lambda: _("Dữ liệu đã thay đổi, xin thử lại.")),
        413: ("too_large", lambda: _("Dữ liệu gửi lên quá lớn.")),
        422: ("validation_error", lambda: _("Dữ liệu chưa hợp lệ.")),
        429: ("too_many_requests", lambda: _("Quá nhiều yêu cầu, xin thử lại sau.")),
        500: ("server_error", lambda: _("Hệ thống gặp lỗi; thao tác chưa được ghi nhận.")),
    }

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        db.session.rollback()
        msg = _("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Xin tải lại trang.")
        if _wants_json():
            return api_error(400, "csrf", msg)
        return render_template("errors/error.html", code=400, message=msg), 400

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        db.session.rollback()
        if _wants_json():
            return api_error(exc.status_code, exc.code, exc.message, exc.fields)
        return render_template("errors/error.html", code=exc.status_code, message=exc.message), (
            exc.status_code
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        db.session.rollback()
        status = exc.code or 500
        code, message = messages.get(status, ("error", lambda: exc.description or ""))
        if _wants_json():
            return api_error(status, code, message())
        template = "errors/error.html"
        return render_template(template, code=status, message=message()), status

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(exc: Exception) -> Any:
        # The connection is gone or refused: whatever the request began was not committed.
        with contextlib.suppress(Exception):
            db.session.rollback()
        app.logger.error("database unavailable on %s %s: %s", request.method, request.path, exc)
        msg = _(
            "Hệ thống tạm thời không kết nối được cơ sở dữ liệu; thao tác chưa được ghi nhận. "
            "Xin thử lại sau ít phút."
        )
        if _wants_json():
            response, status = api_error(503, "unavailable", msg)
        else:
            response, status = render_template("errors/unavailable.html", message=msg), 503
        return response, status, {"Retry-After": "30"}

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if app.config.get("PROPAGATE_EXCEPTIONS_IN_TESTS"):
            raise exc
        code, message = messages[500]
        if _wants_json():
            return api_error(500, code, message())
        return render_template("errors/error.html", code=500, message=message()), 500


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def register_input_guard(app: Flask) -> None:
    """No one types a NUL character and PostgreSQL cannot store or compare one: a query
    parameter or form field holding one is refused before any view runs (uploaded file names
    are cleaned where they are stored; JSON bodies are checked by their shapes).

    A JSON body nested deeper than ``JSON_MAX_DEPTH`` is refused (400) before any view reads
    it: Python's parser would recurse once a level, into a RecursionError. The API reads a
    body whatever its content type; a page only when it says JSON."""

    @app.before_request
    def refuse_deep_json() -> None:
        if request.method not in _BODY_METHODS or request.mimetype in _FORM_TYPES:
            return
        if not (request.path.startswith("/api/") or request.is_json):
            return
        limit = int(app.config["JSON_MAX_DEPTH"])
        if json_too_deep(request.get_data(cache=True), limit):
            raise MalformedRequest(
                _(
                    "Nội dung JSON lồng nhau quá sâu: tối đa %(n)s cấp mảng và đối tượng.",
                    n=limit,
                )
            )

    @app.before_request
    def refuse_nul() -> None:
        fields = list(request.args.lists())
        if request.mimetype in _FORM_TYPES:
            fields += request.form.lists()
        bad = [str(key) for key, values in fields if any("\x00" in str(v) for v in (key, *values))]
        if bad:
            message = _("Dữ liệu gửi lên có ký tự không hợp lệ (NUL); xin nhập lại.")
            raise ValidationFailed(message, {key[:50]: message for key in bad[:20]})


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response: Any) -> Any:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            # Cookies that only travel over HTTPS mean the site is served over HTTPS.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        # A signed-in user's pages, documents and errors hold the fund's data: never cached
        # (``_login_user`` is only there once the request looked at the user).
        signed_in = getattr(g.get("_login_user"), "is_authenticated", False)
        if getattr(g, "no_store", False) or signed_in or request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def register_domain_hooks() -> None:
    """Later modules add their invariants and figures to the ledger's check and overview."""

    register_check(check_loans)
    register_check(deep_check, deep=True)
    register_check(check_stored_values)
    register_check(book.check_totals)
    register_check(dues.check_totals)
    book.install()  # the whole-book totals, refreshed before each commit
    dues.install()  # what falls due month by month, likewise
    register_overview_extra(overview_figures)

    notify.install()  # notifications of work from what each unit of work flushes
    # Registered when the app is made, like the hooks above: the close of day cannot import
    # the sender (a layer above it).

    after_each_date(deliver_pending)  # the close of day's e-mails, after each date's commit


def register_commands(app: Flask) -> None:

    register(app)
    app.cli.add_command(loans_cli)
