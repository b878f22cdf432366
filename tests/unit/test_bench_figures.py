"""The benchmark's verdicts against the issue's targets, its side-by-side table, and the
JSON that carries an older commit's results back (benchmarks/figures.py, compare.py)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import pytest

from benchmarks import compare, figures
from benchmarks.http import (
    FundCheck,
    HttpResult,
    MixedRun,
    PageResult,
    Posted,
    RepaymentRun,
    page_targets,
    worker_ms,
)
from benchmarks.runner import Run, SizeResult


def _size(loans: int, first_s: float, steady_s: list[float]) -> SizeResult:
    result = SizeResult(loans, {}, {}, {})
    result.runs.append(Run(date(2026, 11, 20), "first", first_s, ran=True))
    for n, seconds in enumerate(steady_s, 21):
        result.runs.append(Run(date(2026, 11, n), "steady", seconds, ran=True))
    return result


def _by_key(items: list[figures.Figure]) -> dict[str, figures.Figure]:
    return {f.key: f for f in items}


def test_close_of_day_targets_at_100000_loans():
    got = _by_key(
        figures.close_of_day([_size(10_000, 6.0, [0.4, 0.5, 0.3]), _size(100_000, 61.0, [4, 5, 6])])
    )
    # Steady medians 0.4 s and 5 s: 5 ≤ 5 met; ratio 5 / 0.4 = 12.5 > 11 missed.
    assert got["close.steady.100000"].value == 5
    assert got["close.steady.100000"].met is True
    assert got["close.first.100000"].met is False  # 61 s > 60 s
    assert got["close.ratio"].value == pytest.approx(12.5)
    assert got["close.ratio"].met is False
    # Only the 100 000-loan figures have targets.
    assert got["close.steady.10000"].met is None
    assert got["close.first.10000"].met is None


def test_a_steady_run_that_did_not_finish_misses_the_target():
    top = _size(100_000, 50.0, [4.0, 4.0])
    top.runs[-1].ran = False
    got = _by_key(figures.close_of_day([top]))
    assert got["close.steady.100000"].value is None
    assert got["close.steady.100000"].met is False
    assert got["close.first.100000"].met is True


def test_worker_time_is_two_workers_over_the_request_rate():
    assert worker_ms(100.0) == pytest.approx(20.0)  # 2 × 1000 ms / 100 requests
    assert worker_ms(150.0) == pytest.approx(13.333, abs=0.001)
    assert worker_ms(None) is None
    assert page_targets("detail", 8) == (100.0, 15.0)
    assert page_targets("detail", 2) == (None, None)
    assert page_targets("dashboard", 8) == (None, None)
    assert page_targets("dashboard", 4, mixed=True) == (300.0, None)
    assert page_targets("list", 4, mixed=True) == (150.0, None)


def _detail(p95: float, per_second: float, in_flight: list[float] | None = None) -> PageResult:
    p95_target, worker_target = page_targets("detail", 8)
    return PageResult(
        "detail", "loan page", "/loans/<id>", p95_target, clients=8,
        target_worker_ms=worker_target, requests=500, p50_ms=60, p95_ms=p95, max_ms=p95,
        per_second=per_second, in_flight_ms=in_flight or [],
    )  # fmt: skip


def test_loan_page_needs_both_the_p95_and_the_worker_time():
    assert _detail(90, 150).met is True  # 13.3 ms of a worker ≤ 15
    assert _detail(90, 100).met is False  # 20 ms of a worker > 15
    assert _detail(110, 150).met is False  # p95 over 100 ms
    # A request cut off at the end after 120 ms counts against the 100 ms p95.
    assert _detail(90, 150, [120.0]).met is False
    assert _detail(90, 150, [40.0]).met is True
    failed = _detail(90, 150)
    failed.failures = 1
    assert failed.met is False
    got = _by_key(
        figures.http(HttpResult(100_000, date(2026, 11, 23), 8, 30, pages=[_detail(90, 100)]))
    )
    assert got["page.detail.8.p95"].met is True
    assert got["page.detail.8.worker"].value == pytest.approx(20.0)
    assert got["page.detail.8.worker"].met is False


def _repayments(per: int, seconds: float, problems: list[str] | None = None) -> RepaymentRun:
    run = RepaymentRun("8 clients, distinct loans", 8, per)
    run.posted = [Posted(n, 1_000_000, 201, {}, 0.05, 0.0) for n in range(per)]
    run.seconds = seconds
    run.problems = problems or []
    return run


def test_repayment_rate_is_a_floor_and_an_inexact_one_misses():
    h = HttpResult(100_000, date(2026, 11, 23), 8, 30)
    h.repayments = [_repayments(320, 2.5)]  # 128 per second
    assert _by_key(figures.http(h))["repay.distinct"].met is True
    h.repayments = [_repayments(320, 3.3)]  # 97.0 per second
    assert _by_key(figures.http(h))["repay.distinct"].met is False
    h.repayments = [_repayments(320, 1.0, ["loan 7: repaid 1 ≠ 2"])]
    assert _by_key(figures.http(h))["repay.distinct"].met is False


def test_mixed_run_and_fund_check_figures():
    h = HttpResult(100_000, date(2026, 11, 23), 8, 30)
    dash = PageResult("dashboard", "dashboard, during writes", "", 300.0, clients=4, p95_ms=280)
    lst = PageResult("list", "loan list, during writes", "", 150.0, clients=4, p95_ms=151)
    h.mixed = MixedRun(4, 4, 30, pages=[dash, lst], repayments=_repayments(100, 2.0))
    h.mixed.replay_problems = ["loan 3: cached balances differ from its replay"]
    h.check = FundCheck(ran=True, ok=True, seconds=59.5, detail="OK")
    h.deep_check = FundCheck(ran=True, ok=False, seconds=300, command="flask fund check --deep")
    got = _by_key(figures.http(h))
    assert got["mixed.dashboard.4.p95"].met is True
    assert got["mixed.list.4.p95"].met is False
    assert got["mixed.repay"].value == 50  # 100 repayments in 2 s
    assert got["mixed.repay"].met is False  # no rate target, but a replay differs
    assert got["check"].met is True  # 59.5 s ≤ 60 s, passing
    assert got["check.deep"].target is None
    assert got["check.deep"].met is False  # it found problems


def test_side_by_side_pairs_figures_by_key():
    new = [figures.Figure("close.steady.100000", "steady", 4.2, "s", 5.0)]
    old = [
        figures.Figure("close.steady.100000", "steady", 12.8, "s", 5.0),
        figures.Figure("check.deep", "deep", 90.0, "s"),
    ]
    rows = figures.side_by_side(new, old, "1d3b21f")
    assert rows[0] == "| figure | target | this code | met? | 1d3b21f | met? |"
    assert rows[2] == "| steady | ≤ 5 s | 4.20 s | **met** | 12.80 s | **missed** |"
    assert rows[3] == "| deep | — | not run | — | 90.00 s | — |"
    alone = figures.side_by_side(new, None)
    assert alone[2] == "| steady | ≤ 5 s | 4.20 s | **met** |"


def test_results_survive_the_json_of_a_compare_run(tmp_path: Path):
    h = HttpResult(1_000, date(2026, 11, 21), 8, 5, page_clients=(2, 8))
    h.pages = [_detail(90, 150, [12.5])]
    h.repayments = [_repayments(3, 0.5)]
    h.mixed = MixedRun(4, 4, 5, pages=[_detail(80, 120)], repayments=_repayments(2, 0.1))
    h.deep_check = FundCheck(ran=True, ok=True, seconds=1.5, command="flask fund check --deep")
    part = compare.Part([_size(1_000, 5.6, [0.3])], [], h, fundapp="/srv/rev/fundapp")
    compare.write_part(tmp_path / "part.json", part)
    back = compare.read_part(tmp_path / "part.json")
    assert back == part
    assert back.results[0].runs[1].business_date == date(2026, 11, 21)
    assert back.http is not None and back.http.page_clients == (2, 8)
    assert figures.headline(back.results, [], back.http) == figures.headline(part.results, [], h)


def _args(sizes: list[int], **extra: object) -> argparse.Namespace:
    defaults = dict(
        sizes=sizes, date=date(2026, 11, 20), steady_days=3, run_timeout=600,
        first_run_timeout=3600, seed=2026, workers=2, documents=True, http=True,
        http_duration=30, http_clients=8, http_page_clients=(2, 8), mixed_readers=4,
        mixed_writers=4, no_payments=False, templates=None, full_check=False,
    )  # fmt: skip
    return argparse.Namespace(**{**defaults, **extra})


def test_the_older_commit_runs_each_size_as_this_run_does():
    args = _args([10_000, 100_000])
    small = compare.child_args(args, 10_000, Path("part.json"))
    large = compare.child_args(args, 100_000, Path("part.json"))
    # The documents go with the 10 000-loan book, the load with the largest.
    assert "--documents" in small and "--no-http" in small
    assert "--no-documents" in large and "--http" in large
    assert small[small.index("--sizes") + 1] == "10000"
    assert small[small.index("--seed") + 1] == "2026"
    assert "--no-doc" in small
    # Without 10 000 among the sizes, the last size's run makes its own book for them.
    alone = compare.child_args(_args([2_000, 5_000]), 5_000, Path("part.json"))
    assert "--documents" in alone
    assert "--no-documents" in compare.child_args(_args([2_000, 5_000]), 2_000, Path("/p"))


def test_an_on_time_payment_reverses_the_accrual_of_its_period():
    from benchmarks.runner import _accrual_reversal

    # 10 000 000 đ: 8 000 000 principal, 2 000 000 interest, of which 1 050 411 accrued.
    legs = [("1121", 10_000_000), ("2111", -8_000_000), ("7021", -2_000_000)]
    got = dict(_accrual_reversal(legs, {"3942": 1_050_411}))
    assert got == {"1121": 10_000_000, "2111": -8_000_000, "7021": -949_589, "3942": -1_050_411}
    assert sum(got.values()) == 0
    # Outside group 1 the accrual is held off balance: the pair goes to zero.
    got = dict(_accrual_reversal(legs, {"9412": 795_019, "9999": -795_019}))
    assert got["9412"] == -795_019 and got["9999"] == 795_019 and got["7021"] == -2_000_000
    assert sum(got.values()) == 0
    # A pair that does not balance is left to the close of day to correct.
    assert _accrual_reversal(legs, {"9412": 5, "9999": -4}) == legs
