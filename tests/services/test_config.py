from __future__ import annotations

import pytest

from config import DEFAULT_SECRET_KEY, ConfigError, ProductionConfig


def test_production_refuses_the_default_secret(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/fund")
    monkeypatch.setenv("SECRET_KEY", DEFAULT_SECRET_KEY)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        ProductionConfig.check()


def test_production_refuses_a_missing_or_short_secret(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/fund")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        ProductionConfig.check()
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        ProductionConfig.check()


def test_production_refuses_no_database_url(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        ProductionConfig.check()


def test_production_starts_with_proper_settings(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/fund")
    ProductionConfig.check()
    assert ProductionConfig.SESSION_COOKIE_SECURE is True


def test_create_app_refuses_production_with_default_secret(monkeypatch):
    from fundapp.app import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    with pytest.raises(ConfigError):
        create_app(ProductionConfig)
