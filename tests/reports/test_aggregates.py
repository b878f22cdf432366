"""The whole-book sums of ``reports.aggregates`` are the per-loan positions summed.

On the aged fund of ``scenario`` (loans in groups 1, 2 and 4, in three former districts,
of three borrower kinds and two term classes, with history of debt groups and arrears),
with a second officer, a loan moved to an origin fund and one to another status (both
columns are grouped as stored), every dimension of ``aggregates.book`` is compared, as of
dates before the last close of day (the debt-group history) and on or after it (the
loans' current group), with a sum over ``positions.loan_positions`` (the per-loan path),
and the period flows, in total and per column, with ``positions.loan_flows``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from fundapp.cooperatives.models import Cooperative
from fundapp.core.db import touch_loans
from fundapp.extensions import db
from fundapp.funds import services as funds
from fundapp.funds.services import ALL
from fundapp.loans.models import Loan, LoanStatus
from fundapp.reports import aggregates
from fundapp.reports.aggregates import AREA_AND_GROUP, DIMENSIONS, BookRow
from fundapp.reports.positions import LoanPosition, loan_dimensions, loan_flows, loan_positions
from tests.conftest import fresh_database, make_app, make_user
from tests.reports.scenario import AS_OF, QUARTER_END, aged_fund

# Before the first arrears, A one day late, the small fund's date, a month end with A in
# a worse group, the quarter end (the last close of day) and a day after it.
DATES = (
    date(2026, 2, 10),
    date(2026, 2, 16),
    AS_OF,
    date(2026, 4, 30),
    QUARTER_END,
    QUARTER_END + timedelta(days=3),
)
_SUMS = ("principal_in_term", "principal_overdue", "interest_receivable", "specific_provision")


@pytest.fixture(scope="module")
def book() -> Any:
    with fresh_database(make_app()) as app:
        aged = aged_fund()
        other = make_user("officer")
        db.session.execute(
            update(Loan).where(Loan.id == aged.fund.loan_b.id).values(officer_id=other.id)
        )
        fund = funds.create(None, "BN", "Quỹ hỗ trợ phát triển HTX tỉnh Bắc Ninh (cũ)")
        db.session.execute(
            update(Loan)
            .where(Loan.id == aged.loan_c.id)
            .values(origin_fund_id=fund.id, status=LoanStatus.WRITTEN_OFF)
        )
        # Written behind the session's back: noted as the app's writes note their loans.
        touch_loans([aged.fund.loan_b.id, aged.loan_c.id])
        db.session.commit()
        yield app, aged, funds.origin_filter("BN")


def _columns() -> dict[int, dict[str, Any]]:
    """Per loan, the stored columns the aggregates group by besides the positions'."""
    rows = db.session.execute(
        select(
            Loan.id,
            Loan.officer_id,
            Loan.origin_fund_id,
            Loan.status,
            Cooperative.commune_unit_id,
            Cooperative.former_district_code,
        ).join(Cooperative, Cooperative.id == Loan.cooperative_id)
    )
    return {row.id: dict(row._mapping) for row in rows}


def _key(p: LoanPosition, as_of: date, stored: dict[str, Any], dim: str) -> Any:
    if dim in ("debt_group", "term_class", "sector", "borrower_kind"):
        return getattr(p, dim)
    if dim == "oldest_due":
        return as_of - timedelta(days=p.days_past_due) if p.days_past_due else None
    return stored[dim]


def _summed(
    positions: list[LoanPosition], as_of: date, by: tuple[str, ...]
) -> dict[tuple, tuple[int, ...]]:
    """The per-loan path: positions summed per key, with loans and distinct borrowers."""
    stored = _columns()
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(_SUMS))
    loans: dict[tuple, int] = defaultdict(int)
    borrowers: dict[tuple, set[int]] = defaultdict(set)
    for p in positions:
        key = tuple(_key(p, as_of, stored[p.loan_id], dim) for dim in by)
        loans[key] += 1
        borrowers[key].add(p.cooperative_id)
        for n, name in enumerate(_SUMS):
            sums[key][n] += getattr(p, name)
    return {k: (loans[k], len(borrowers[k]), *sums[k]) for k in sums}


def _figures(row: BookRow) -> tuple[int, ...]:
    return (row.loans, row.borrowers, *(getattr(row, name) for name in _SUMS))


def _grouped(rows: tuple[BookRow, ...], by: tuple[str, ...]) -> dict[tuple, tuple[int, ...]]:
    out = {tuple(getattr(r, dim) for dim in by): _figures(r) for r in rows}
    assert len(out) == len(rows)  # one row per key
    return out


@pytest.mark.parametrize("as_of", DATES)
@pytest.mark.parametrize("outstanding_only", [True, False])
def test_every_dimension_is_the_positions_summed(book, as_of, outstanding_only):
    _app, _aged, _bn = book
    positions = [p for p in loan_positions(as_of) if p.outstanding > 0 or not outstanding_only]
    groupings = [(dim,) for dim in DIMENSIONS] + [AREA_AND_GROUP, tuple(DIMENSIONS)]
    for by in groupings:
        got = aggregates.book(as_of, by, outstanding_only=outstanding_only)
        assert _grouped(got.rows, by) == _summed(positions, as_of, by), by
    total = aggregates.book(as_of, outstanding_only=outstanding_only)
    assert total.rows == ()
    assert _figures(total.total) == _summed(positions, as_of, ()).get((), (0,) * 6)


def test_the_book_has_what_the_comparison_needs(book):
    """Several values of each dimension on the dates compared (else the test proves
    little): three groups, districts, kinds, two officers, origins, statuses, term classes."""
    _app, _aged, _bn = book
    seen: dict[str, set] = defaultdict(set)
    for as_of in DATES:
        for dim in DIMENSIONS:
            for row in aggregates.book(as_of, (dim,), outstanding_only=False).rows:
                seen[dim].add(getattr(row, dim))
    assert {1, 2, 4} <= seen["debt_group"]  # B, C and A on the quarter end
    assert len(seen["former_district_code"]) == 3
    assert len(seen["borrower_kind"]) == 3
    for dim in ("officer_id", "origin_fund_id", "status", "term_class"):
        assert len(seen[dim]) == 2, dim
    assert None in seen["oldest_due"] and len(seen["oldest_due"]) >= 3
    # 30/06: A unpaid since 15/02, C since 10/06, B current.
    assert {r.oldest_due for r in aggregates.book(QUARTER_END, ("oldest_due",)).rows} == {
        None,
        date(2026, 2, 15),
        date(2026, 6, 10),
    }


@pytest.mark.parametrize("as_of", [AS_OF, QUARTER_END])
def test_one_origin_is_its_loans_summed(book, as_of):
    _app, _aged, bn = book
    for origin in (bn, funds.origin_filter(funds.OWN_CODE)):
        positions = [p for p in loan_positions(as_of, origin) if p.outstanding > 0]
        got = aggregates.book(as_of, AREA_AND_GROUP, origin)
        assert _grouped(got.rows, AREA_AND_GROUP) == _summed(positions, as_of, AREA_AND_GROUP)
    on_quarter_end = aggregates.book(QUARTER_END, (), bn).total
    assert (on_quarter_end.loans, on_quarter_end.outstanding) == (1, 60_000_000)


@pytest.mark.parametrize("by", ["commune", "former_district", "former_province"])
def test_areas_are_the_positions_areas(book, by):
    _app, _aged, _bn = book
    for as_of in DATES:
        expected: dict[tuple[str, str], int] = defaultdict(int)
        for p in loan_positions(as_of):
            if p.outstanding > 0:
                expected[p.area(by)] += p.outstanding
        rows = aggregates.book(as_of, AREA_AND_GROUP).rows
        assert aggregates.by_area(rows, by, as_of) == dict(expected)


@pytest.mark.parametrize(
    ("starts", "end"),
    [
        ((date(2026, 2, 1), date(2026, 1, 1)), AS_OF),
        ((date(2026, 6, 1), date(2026, 4, 1), date(2026, 1, 1)), QUARTER_END),
        ((date(2025, 1, 1),), date(2025, 12, 31)),
    ],
)
def test_flows_are_the_loans_flows_summed(book, starts, end):
    _app, _aged, bn = book
    for origin in (ALL, bn):
        got = aggregates.flows_since(starts, end, origin)
        for start, totals in zip(starts, got, strict=True):
            flows = loan_flows(start, end, origin).values()
            assert (totals.start, totals.end) == (start, end)
            for name in (
                "opening",
                "disbursed",
                "collected",
                "written_off",
                "closing",
                "principal_collected",
                "interest_collected",
            ):
                assert getattr(totals, name) == sum(getattr(f, name) for f in flows), name


@pytest.mark.parametrize(
    ("start", "end"), [(date(2026, 2, 1), AS_OF), (date(2026, 4, 1), QUARTER_END)]
)
def test_flows_by_every_loan_column_are_the_loans_flows_summed(book, start, end):
    _app, _aged, bn = book
    stored = _columns()
    dims = loan_dimensions(set(stored), end)
    flat = ("opening", "disbursed", "collected", "written_off", "closing")
    for origin in (ALL, bn):
        flows = loan_flows(start, end, origin)
        for dim in [d for d in DIMENSIONS if d not in ("debt_group", "oldest_due")]:
            expected: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(flat))
            for loan_id, flow in flows.items():
                d = dims[loan_id]
                value = getattr(d, dim) if hasattr(d, dim) else stored[loan_id][dim]
                for n, name in enumerate(flat):
                    expected[(value,)][n] += getattr(flow, name)
            got = aggregates.flows_by(start, end, (dim,), origin)
            assert {k: [getattr(f, n) for n in flat] for k, f in got.items()} == expected, dim


def test_an_unknown_dimension_is_refused(book):
    with pytest.raises(ValueError, match="unknown book dimensions"):
        aggregates.book(AS_OF, ("colour",))
    with pytest.raises(ValueError, match="cannot be grouped"):
        aggregates.flows_by(date(2026, 1, 1), AS_OF, ("debt_group",))
