"""Configuration from the environment, in every mode.

``FUNDAPP_CONFIG`` picks the class (``development`` by default, ``production``, ``testing``).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
load_dotenv(BASE_DIR / ".env")

# The development fallback key. Production refuses to start with it.
DEFAULT_SECRET_KEY = "dev-only-insecure-key-change-me"  # noqa: S105
# The longest a remember-me sign-in may last.
MAX_REMEMBER = timedelta(days=30)


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env(name: str, default: str) -> str:
    """The variable's value; an empty value (as left in .env) means "use the default"."""
    return os.environ.get(name, "").strip() or default


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says which setting."""


class Config:
    SECRET_KEY = _env("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = _env(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'fundapp.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}
    # A streaming replica of the PostgreSQL primary; the dashboard and the reports read from
    # it when set (fundapp/core/replica.py), everything else uses DATABASE_URL.
    DATABASE_URL_REPLICA = _env("DATABASE_URL_REPLICA", "")
    FUNDAPP_TIMEZONE = _env("FUNDAPP_TIMEZONE", "Asia/Ho_Chi_Minh")
    # The fund's province (a code of the 34-province map of 01/07/2025): the communes the
    # cooperative form offers and the units `flask units load` brings in by default.
    FUNDAPP_PROVINCE = _env("FUNDAPP_PROVINCE", "24")
    FUNDAPP_NAME = _env("FUNDAPP_NAME", "Quỹ hỗ trợ phát triển hợp tác xã tỉnh Bắc Ninh")
    FUNDAPP_ADDRESS = _env(
        "FUNDAPP_ADDRESS", "Số 1 đường Nguyễn Văn Cừ, phường Bắc Giang, tỉnh Bắc Ninh"
    )
    # Where cooperatives pay (shown on the portal with the payment reference to write).
    # Demo values; a fund sets its own account in .env.
    FUNDAPP_BANK_NAME = _env("FUNDAPP_BANK_NAME", "Agribank chi nhánh Bắc Giang")
    FUNDAPP_BANK_ACCOUNT = _env("FUNDAPP_BANK_ACCOUNT", "2500 201 012 345")
    FUNDAPP_BANK_ACCOUNT_NAME = _env(
        "FUNDAPP_BANK_ACCOUNT_NAME", "Quỹ hỗ trợ phát triển hợp tác xã tỉnh Bắc Ninh"
    )
    # The NAPAS BIN of that bank (6 digits; Agribank 970405): with it the notices, the
    # statement, the schedule and the portal carry a VietQR code of the account with the
    # amount and the reference; "off" (any value not of 6 digits) shows no code.
    FUNDAPP_BANK_BIN = _env("FUNDAPP_BANK_BIN", "970405")
    # The business date the app works on; empty means "today in FUNDAPP_TIMEZONE".
    FUNDAPP_BUSINESS_DATE = _env("FUNDAPP_BUSINESS_DATE", "")
    # APScheduler (`flask jobs run`, one process): the close of day runs daily at HH:MM in
    # FUNDAPP_TIMEZONE; a start-up run catches up dates missed while it was down.
    FUNDAPP_CLOSE_DAY_AT = _env("FUNDAPP_CLOSE_DAY_AT", "00:15")
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = FUNDAPP_TIMEZONE
    LANGUAGES = ("vi", "en")
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "fundapp" / "translations")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # "Remember me" lasts this many days (at most 30), the server-side session as long as
    # the cookie; any other session ends after PERMANENT_SESSION_LIFETIME (seconds) or at
    # logout, a password change or the account's deactivation.
    REMEMBER_COOKIE_DURATION = timedelta(days=int(_env("REMEMBER_COOKIE_DURATION", "30")))
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    LOGIN_MAX_FAILURES = int(_env("LOGIN_MAX_FAILURES", "5"))
    LOGIN_LOCK_MINUTES = int(_env("LOGIN_LOCK_MINUTES", "15"))
    # An office shares one address (and behind a proxy, so would everyone without
    # FUNDAPP_PROXIES): an address is locked only after many more failures than a username.
    LOGIN_MAX_FAILURES_PER_ADDRESS = int(_env("LOGIN_MAX_FAILURES_PER_ADDRESS", "20"))
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
    FUNDAPP_PROXIES = int(_env("FUNDAPP_PROXIES", "0"))
    API_TOKEN_HOURS = int(_env("API_TOKEN_HOURS", "12"))

    MAIL_BACKEND = _env("MAIL_BACKEND", "log")  # "log" or "smtp"
    MAIL_SERVER = _env("MAIL_SERVER", "")
    MAIL_PORT = int(_env("MAIL_PORT", "587"))
    MAIL_USERNAME = _env("MAIL_USERNAME", "")
    MAIL_PASSWORD = _env("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_SENDER = _env("MAIL_SENDER", "quyhtx@example.vn")
    # SMS and Zalo (fundapp/notices/senders.py): "log" writes them to the log; "http" POSTs
    # JSON to the provider's gateway at MESSAGE_HTTP_URL with the bearer key and the
    # provider's template id of each notice kind (MESSAGE_TEMPLATES, a JSON object).
    MESSAGE_SMS_BACKEND = _env("MESSAGE_SMS_BACKEND", "log")
    MESSAGE_ZALO_BACKEND = _env("MESSAGE_ZALO_BACKEND", "log")
    MESSAGE_HTTP_URL = _env("MESSAGE_HTTP_URL", "")
    MESSAGE_HTTP_KEY = _env("MESSAGE_HTTP_KEY", "")
    MESSAGE_HTTP_TIMEOUT = float(_env("MESSAGE_HTTP_TIMEOUT", "10"))
    MESSAGE_TEMPLATES = _env("MESSAGE_TEMPLATES", "{}")
    # The messages' retries are sent every this many minutes (`flask jobs run`).
    MESSAGE_RETRY_EVERY = _env("MESSAGE_RETRY_EVERY", "5")

    # Application documents live outside static/, under random names.
    UPLOAD_FOLDER = _env("UPLOAD_FOLDER", str(BASE_DIR / "instance" / "uploads"))
    UPLOAD_MAX_BYTES = int(_env("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
    # Quotas: documents on one application, and bytes of documents of one cooperative (all
    # its applications, whoever uploaded them).
    UPLOAD_MAX_FILES_PER_APPLICATION = int(_env("UPLOAD_MAX_FILES_PER_APPLICATION", "30"))
    UPLOAD_MAX_BYTES_PER_COOPERATIVE = int(
        _env("UPLOAD_MAX_BYTES_PER_COOPERATIVE", str(200 * 1024 * 1024))
    )
    # A JSON body nested deeper is refused (400) before any view reads it.
    JSON_MAX_DEPTH = int(_env("JSON_MAX_DEPTH", "32"))
    PAGE_SIZE = 25
    ARGON2_PROFILE = "default"
    # Whole-book figures (dashboard, reports) kept per process while the book is unchanged.
    REPORT_CACHE_SIZE = int(_env("REPORT_CACHE_SIZE", "64"))
    TESTING = False

    @classmethod
    def check(cls) -> None:
        """Refuse settings that are not fit for this mode."""
        remember = cls.REMEMBER_COOKIE_DURATION
        if not isinstance(remember, timedelta):
            remember = timedelta(seconds=int(remember))  # Flask-Login's reading of a number
        if not timedelta(0) < remember <= MAX_REMEMBER:
            raise ConfigError("REMEMBER_COOKIE_DURATION must be from 1 to 30 days")


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = _env("FUNDAPP_TEST_DATABASE_URL", "sqlite://")
    DATABASE_URL_REPLICA = ""  # tests/services/test_replica.py starts one of its own
    WTF_CSRF_ENABLED = False
    SERVER_NAME = "localhost"
    ARGON2_PROFILE = "cheapest"  # only here: see fundapp/auth/models.py
    REPORT_CACHE_SIZE = 0  # each test computes its figures; tests/reports/test_cache.py turns it on


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    @classmethod
    def check(cls) -> None:
        super().check()
        secret = _env("SECRET_KEY", "")
        if not secret or secret == DEFAULT_SECRET_KEY or len(secret) < 32:
            raise ConfigError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
        if not os.environ.get("DATABASE_URL"):
            raise ConfigError("DATABASE_URL must be set in production")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    name = _env("FUNDAPP_CONFIG", "development").strip().lower()
    if name not in CONFIGS:
        raise ConfigError(f"FUNDAPP_CONFIG must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]
