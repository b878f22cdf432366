"""Whole-book figures are kept while the book does not change, and only then.

The small fund of ``tests.dashboard.scenario``: 90.000.000 đ outstanding (A 30.000.000 in
Lục Ngạn 219, B 60.000.000 in TP Bắc Giang 213), 94.029.040 đ collected in 2026.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import text

from fundapp.cooperatives import services as cs
from fundapp.dashboard import figures
from fundapp.extensions import db
from fundapp.loans.models import Disbursement, DisbursementStatus
from fundapp.repayments import services as rs
from fundapp.reports import cache
from tests.conftest import PG_URL, fresh_database, login, make_app, make_user
from tests.dashboard.scenario import TODAY, build

COLLECTED_2026 = 94_029_040
B_FIRST_INSTALMENT = 5_305_753


@pytest.fixture
def cached_app() -> Iterator[Flask]:
    cache.clear()
    with fresh_database(make_app(REPORT_CACHE_SIZE=8)) as app, app.test_request_context():
        yield app
    cache.clear()


def _district_series() -> list[tuple[str, int]]:
    series = figures.dashboard(TODAY, "former_district").series
    return [(r.code, r.outstanding) for r in series.by_area]


def test_the_dashboard_is_computed_once_per_state_of_the_book(cached_app):
    fund = build()
    first = figures.dashboard(TODAY)
    again = figures.dashboard(TODAY)
    assert first.outstanding == again.outstanding == 90_000_000
    assert again.year.collected == COLLECTED_2026
    assert cache.stats() == {"hits": 1, "misses": 1, "kept": 1}

    # A repayment is a journal entry: the next dashboard counts it.
    rs.record_repayment(
        fund.staff.accountant, fund.loan_b.id, {"amount": B_FIRST_INSTALMENT, "date": TODAY}, TODAY
    )
    db.session.commit()
    after = figures.dashboard(TODAY)
    assert after.year.collected == COLLECTED_2026 + B_FIRST_INSTALMENT == 99_334_793
    assert after.month.collected == B_FIRST_INSTALMENT
    assert cache.stats()["misses"] == 2


def test_an_audited_change_without_money_moving_is_seen(cached_app):
    fund = build()
    assert _district_series() == [("213", 60_000_000), ("219", 30_000_000)]
    coop = fund.loan_b.cooperative
    # Moved to Phường Chũ (07525), a commune of today whose former district is Thị xã Chũ
    # (224, divided from Huyện Lục Ngạn 219 on 01/01/2025).
    cs.update(fund.staff.officer, coop, {**coop.to_dict(), "commune_code": "07525"})
    db.session.commit()
    assert _district_series() == [("224", 60_000_000), ("219", 30_000_000)]


def test_the_approval_queues_are_always_live(cached_app, monkeypatch):
    build()
    # A book whose version never changes: only the queue itself can show the decision.
    monkeypatch.setattr(cache, "book_version", lambda: ("unchanged",))
    assert figures.dashboard(TODAY).pending.disbursements == 1
    hits_before = cache.stats()["hits"]
    waiting = db.session.query(Disbursement).filter_by(status=DisbursementStatus.PENDING).one()
    waiting.status = DisbursementStatus.REJECTED
    db.session.commit()
    d = figures.dashboard(TODAY)
    assert cache.stats()["hits"] == hits_before + 1  # the book's figures were kept …
    assert d.pending.disbursements == 0  # … and the queue was read again


def test_the_fund_report_page_is_kept_per_filters_and_language(cached_app):
    build()
    client = cached_app.test_client()
    login(client, make_user("director"))
    cache.clear()
    first = client.get("/reports/fund-balance")
    assert first.status_code == 200
    assert client.get("/reports/fund-balance").get_data() == first.get_data()
    assert cache.stats() == {"hits": 1, "misses": 1, "kept": 1}
    assert client.get("/reports/fund-balance?as_of=2026-10-31").status_code == 200
    assert cache.stats()["misses"] == 2
    client.post("/language/en")
    english = client.get("/reports/fund-balance")
    assert english.status_code == 200
    assert cache.stats()["misses"] == 3


def test_size_zero_turns_it_off(app):
    cache.clear()
    with app.test_request_context():
        build()
        figures.dashboard(TODAY)
        figures.dashboard(TODAY)
    assert cache.stats() == {"hits": 0, "misses": 0, "kept": 0}


def test_the_oldest_result_leaves_first(cached_app):
    build()
    for day in range(1, 11):
        figures.dashboard(TODAY.replace(day=day))
    assert cache.stats()["kept"] == 8


def test_the_loan_list_totals_follow_each_repayment(cached_app):
    fund = build()
    client = cached_app.test_client()
    login(client, make_user("officer"))
    cache.clear()

    def totals_row(query: str = "") -> str:
        page = client.get(f"/loans/{query}").get_data(as_text=True)
        return page.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]

    assert "90.000.000 đ" in totals_row()  # A 30.000.000 + B 60.000.000 outstanding
    assert "90.000.000 đ" in totals_row()
    assert cache.stats()["hits"] == 1
    # B's instalment of 10/06 is 5.000.000 principal + 305.753 interest, overdue since;
    # late interest comes first, so principal falls by a little less than 5.000.000.
    rs.record_repayment(
        fund.staff.accountant, fund.loan_b.id, {"amount": B_FIRST_INSTALMENT, "date": TODAY}, TODAY
    )
    db.session.commit()
    db.session.refresh(fund.loan_b)
    expected = 30_000_000 + fund.loan_b.principal_outstanding
    assert expected < 90_000_000
    assert f"{expected:,}".replace(",", ".") + " đ" in totals_row()


@pytest.mark.skipif(not PG_URL, reason="the snapshot version is PostgreSQL's")
def test_on_postgresql_any_ended_write_renews_the_version(cached_app):
    build()
    db.session.commit()
    first = cache.book_version()
    assert first is not None and cache.book_version() == first
    with db.engine.connect() as other:
        other.execute(text("UPDATE loans SET reclassify = reclassify"))
        # In progress elsewhere: invisible to the figures, and the version stands.
        assert cache.book_version() == first
        other.commit()
    assert cache.book_version() != first
    # A transaction that has itself written neither reads nor fills the cache.
    db.session.execute(text("UPDATE loans SET reclassify = reclassify"))
    assert cache.book_version() is None
    before = cache.stats()
    figures.dashboard(TODAY)
    assert cache.stats() == before
    db.session.rollback()
