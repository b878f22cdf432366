"""The issue's targets, one figure each, and the table that sets them side by side with the
figures of an older commit measured in the same sitting (``--compare``).

Pure: it reads the result objects of a run and computes; nothing here touches the
database, the server or the clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.documents import DocumentResult
from benchmarks.http import (
    CHECK_TARGET_S,
    REPAYMENTS_TARGET_PER_S,
    HttpResult,
    PageResult,
    RepaymentRun,
)
from benchmarks.runner import SizeResult

TARGET_AT = 100_000
TARGET_BASE = 10_000
STEADY_TARGET_S = 5.0
FIRST_TARGET_S = 60.0
RATIO_TARGET = 11.0


@dataclass
class Figure:
    """One measured figure; ``key`` pairs it with the same figure of the other commit."""

    key: str
    label: str
    value: float | None
    unit: str  # "s", "ms", "/s" or "×"
    target: float | None = None
    at_least: bool = False  # the target is a floor (a rate), not a ceiling
    broken: str = ""  # a correctness failure: the target is missed whatever the value
    note: str = ""  # why there is no value, or what qualifies it

    @property
    def met(self) -> bool | None:
        if self.broken:
            return False
        if self.target is None:
            return None
        if self.value is None:
            return False
        return self.value >= self.target if self.at_least else self.value <= self.target

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "—"
        unit = "/s" if self.unit == "/s" else f" {self.unit}"
        return f"{'≥' if self.at_least else '≤'} {self.target:g}{unit}"


def _number(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.0f} ms"
    if unit == "/s":
        return f"{value:.1f}/s"
    if unit == "×":
        return f"{value:.1f}×"
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def value_text(figure: Figure | None) -> str:
    if figure is None:
        return "not run"
    if figure.value is None:
        return f"— ({figure.note})" if figure.note else "—"
    text = _number(figure.value, figure.unit)
    if figure.broken:
        text += f" (**{figure.broken}**)"
    elif figure.note:
        text += f" ({figure.note})"
    return text


def close_of_day(results: list[SizeResult]) -> list[Figure]:
    out = []
    by_size = {r.loans: r for r in results}
    for r in results:
        at_target = r.loans == TARGET_AT
        first = r.first
        first_s = first.seconds if first is not None and first.ran else None
        why = "" if first is None or first.ran else first.error.split(":")[0]
        out.append(
            Figure(
                f"close.first.{r.loans}",
                f"close of day, first run, {r.loans:,} loans",
                first_s,
                "s",
                FIRST_TARGET_S if at_target else None,
                note=why,
            )
        )
        out.append(
            Figure(
                f"close.steady.{r.loans}",
                f"close of day, steady state (median), {r.loans:,} loans",
                r.steady_median,
                "s",
                STEADY_TARGET_S if at_target else None,
                note="" if r.steady_median is not None else "a run did not complete",
            )
        )
    top, base = by_size.get(TARGET_AT), by_size.get(TARGET_BASE)
    if top is not None and base is not None:
        ratio = None
        if top.steady_median is not None and base.steady_median:
            ratio = top.steady_median / base.steady_median
        out.append(
            Figure(
                "close.ratio",
                f"close of day growth {TARGET_BASE:,} → {TARGET_AT:,} (steady medians)",
                ratio,
                "×",
                RATIO_TARGET,
            )
        )
    return out


def documents(docs: list[DocumentResult]) -> list[Figure]:
    return [
        Figure(
            f"pdf.{d.document.split('.')[0]}",
            f"{d.document} ({d.size}), median",
            d.median,
            "s",
            d.target_s,
            note=d.error.split(":")[0] if d.error else "",
        )
        for d in docs
    ]


def _page(p: PageResult, prefix: str, label: str) -> list[Figure]:
    note = p.error[:60] if p.error else ""
    # A request cut off at the end only matters when it took longer than the p95 shown.
    if p.in_flight_ms and (p.p95_ms is None or max(p.in_flight_ms) > p.p95_ms):
        note = f"{len(p.in_flight_ms)} unanswered at the end, ≥ {max(p.in_flight_ms):.0f} ms"
    broken = f"{p.failures} failed" if p.failures else ""
    out = [
        Figure(
            f"{prefix}.{p.key}.{p.clients}.p95",
            f"{label}, {p.clients} clients, p95",
            p.p95_ms,
            "ms",
            p.target_ms,
            broken=broken,
            note=note,
        )
    ]
    if p.key == "detail":
        out.append(
            Figure(
                f"{prefix}.{p.key}.{p.clients}.worker",
                f"{label}, {p.clients} clients, a worker's time per request",
                p.worker_ms,
                "ms",
                p.target_worker_ms,
                broken=broken,
            )
        )
    return out


def _rate(r: RepaymentRun, key: str, label: str, target: float | None) -> Figure:
    broken = ""
    if r.problems:
        broken = "not all landed exact: " + r.problems[0][:80]
    return Figure(
        key, label, r.per_second, "/s", target, at_least=True, broken=broken, note=r.error[:60]
    )


def http(h: HttpResult | None) -> list[Figure]:
    if h is None:
        return []
    out: list[Figure] = []
    for p in h.pages:
        out += _page(p, "page", p.label)
    for r in h.repayments:
        if r.loans > 1:
            out.append(
                _rate(
                    r,
                    "repay.distinct",
                    f"repayments, {r.clients} clients on distinct loans",
                    REPAYMENTS_TARGET_PER_S,
                )
            )
        else:
            out.append(_rate(r, "repay.one", f"repayments, {r.clients} clients on one loan", None))
    m = h.mixed
    if m is not None:
        for p in m.pages:
            out += _page(p, "mixed", f"{p.label.split(',')[0]} during writes")
        if m.repayments is not None:
            figure = _rate(
                m.repayments,
                "mixed.repay",
                f"repayments during the reads, {m.writers} clients on distinct loans",
                None,
            )
            if m.replay_problems and not figure.broken:
                figure.broken = "replay differs: " + m.replay_problems[0][:80]
            if m.writes_ended_early_s > 1:
                figure.note = f"the writers ran out of loans {m.writes_ended_early_s:.0f} s early"
            out.append(figure)
    for check in (h.check, h.deep_check):
        if check is None or not (check.ran or check.detail):
            continue
        out.append(
            Figure(
                "check.deep" if check.command.endswith("--deep") else "check",
                f"`{check.command}` on the whole book",
                check.seconds if check.ran else None,
                "s",
                None if check.command.endswith("--deep") else CHECK_TARGET_S,
                broken="" if not check.ran or check.ok else "found problems",
                note="" if check.ran else check.detail[:60],
            )
        )
    return out


def headline(
    results: list[SizeResult], docs: list[DocumentResult], h: HttpResult | None
) -> list[Figure]:
    return close_of_day(results) + documents(docs) + http(h)


def _verdict(figure: Figure) -> str:
    met = figure.met
    return "—" if met is None else ("**met**" if met else "**missed**")


def side_by_side(new: list[Figure], old: list[Figure] | None, old_label: str = "") -> list[str]:
    """A markdown table: each figure, its target, this code's value and verdict, and (with
    ``old``) the older commit's value and verdict beside it. A figure only the older run
    has is listed too."""
    if old is None:
        rows = ["| figure | target | this code | met? |", "|---|---|---:|---|"]
        for f in new:
            rows.append(f"| {f.label} | {f.target_text} | {value_text(f)} | {_verdict(f)} |")
        return rows
    before = {f.key: f for f in old}
    rows = [
        f"| figure | target | this code | met? | {old_label} | met? |",
        "|---|---|---:|---|---:|---|",
    ]
    seen = set()
    for f in new:
        seen.add(f.key)
        o = before.get(f.key)
        rows.append(
            f"| {f.label} | {f.target_text} | {value_text(f)} | {_verdict(f)} "
            f"| {value_text(o)} | {_verdict(o) if o is not None else '—'} |"
        )
    for o in old:
        if o.key not in seen:
            rows.append(
                f"| {o.label} | {o.target_text} | not run | — | {value_text(o)} | {_verdict(o)} |"
            )
    return rows
