"""The machine, the verdict against the targets, and docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.documents import (
    FUND_REPORT_AT,
    FUND_REPORT_TARGET_S,
    STATEMENT_INSTALMENTS,
    STATEMENT_TARGET_S,
    DocumentResult,
)
from benchmarks.figures import (
    FIRST_TARGET_S,
    RATIO_TARGET,
    STEADY_TARGET_S,
    TARGET_AT,
    TARGET_BASE,
    headline,
    side_by_side,
)
from benchmarks.http import (
    CHECK_TARGET_S,
    DETAIL_P95_TARGET_MS,
    DETAIL_TARGET_CLIENTS,
    DETAIL_WORKER_TARGET_MS,
    MAX_PAGE_S,
    MIN_REQUESTS,
    MIXED_P95_TARGETS_MS,
    REPAYMENTS_TARGET_PER_S,
    WARMUP_S,
    WORKERS,
    FundCheck,
    HttpResult,
    MixedRun,
    PageResult,
    RepaymentRun,
    describe_locks,
)
from benchmarks.runner import SizeResult

if TYPE_CHECKING:
    from benchmarks.compare import Rev

TARGET_SECONDS = STEADY_TARGET_S
TARGET_RATIO = RATIO_TARGET
HISTORY_HEADING = "## History"
# Written by hand after a run (what the figures mean, why a target is missed); a new run
# keeps it as it is, under the new figures.
READING_HEADING = "## Reading the results"


@dataclass
class Machine:
    cpus: str
    cpu_model: str
    memory: str
    postgres: str
    python: str
    commit: str
    compared: str = ""  # --compare: the older commit run beside this code

    def lines(self) -> list[str]:
        out = [
            f"- CPU: {self.cpu_model}, {self.cpus}",
            f"- memory: {self.memory}",
            f"- database: {self.postgres}",
            f"- Python {self.python}; code at commit {self.commit}",
        ]
        if self.compared:
            out.append(
                f"- compared with the code of {self.compared}, each size run with it just "
                "before this code's run, on a book generated the same way (same seed) by its "
                "own code"
            )
        return out


def machine(postgres_version: str) -> Machine:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        info = dict(
            line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if line
        )
        total = int(info["MemTotal"].split()[0]) / 1024 / 1024
        available = int(info["MemAvailable"].split()[0]) / 1024 / 1024
        memory = f"{total:.0f} GiB total, {available:.0f} GiB available at start (free -g)"
    except (OSError, KeyError, ValueError):
        pass
    commit = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if dirty:
            commit += " + uncommitted changes"
    except (OSError, subprocess.CalledProcessError):
        pass
    return Machine(
        cpus=f"nproc = {usable}",
        cpu_model=model,
        memory=memory,
        postgres=postgres_version,
        python=platform.python_version(),
        commit=commit,
    )


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def verdict(results: list[SizeResult]) -> list[str]:
    by_size = {r.loans: r for r in results}
    out = []
    top = by_size.get(TARGET_AT)
    if top is None:
        out.append(f"- ≤ {TARGET_SECONDS:.0f} s at {TARGET_AT:,} loans: not measured in this run")
    elif top.steady_median is None:
        out.append(
            f"- ≤ {TARGET_SECONDS:.0f} s at {TARGET_AT:,} loans: **missed** — the steady-state "
            "run did not complete (see the notes)"
        )
    else:
        ok = top.steady_median <= TARGET_SECONDS
        out.append(
            f"- ≤ {TARGET_SECONDS:.0f} s at {TARGET_AT:,} loans (steady-state median): "
            f"{top.steady_median:.2f} s — **{'met' if ok else 'missed'}**"
        )
    if top is not None:
        first = top.first
        if first is None or not first.ran or first.seconds is None:
            out.append(
                f"- first run ≤ {FIRST_TARGET_S:.0f} s at {TARGET_AT:,} loans: **missed** — "
                "it did not complete"
            )
        else:
            ok = first.seconds <= FIRST_TARGET_S
            out.append(
                f"- first run ≤ {FIRST_TARGET_S:.0f} s at {TARGET_AT:,} loans: "
                f"{first.seconds:.2f} s — **{'met' if ok else 'missed'}**"
            )
    base = by_size.get(TARGET_BASE)
    if top is None or base is None:
        out.append(
            f"- time({TARGET_AT:,}) / time({TARGET_BASE:,}) ≤ {TARGET_RATIO:.0f}: not measured "
            "in this run"
        )
    elif top.steady_median is None or base.steady_median is None or not base.steady_median:
        out.append(
            f"- time({TARGET_AT:,}) / time({TARGET_BASE:,}) ≤ {TARGET_RATIO:.0f}: **missed** — "
            "a steady-state run did not complete"
        )
    else:
        ratio = top.steady_median / base.steady_median
        ok = ratio <= TARGET_RATIO
        first = ""
        if top.first and base.first and top.first.ran and base.first.ran and base.first.seconds:
            first = f" (first run: {top.first.seconds / base.first.seconds:.1f})"
        out.append(
            f"- time({TARGET_AT:,}) / time({TARGET_BASE:,}) ≤ {TARGET_RATIO:.0f} "
            f"(steady-state medians): {ratio:.1f} — **{'met' if ok else 'missed'}**{first}"
        )
    return out


def table(results: list[SizeResult]) -> list[str]:
    rows = [
        "| loans | first run (s) | steady-state median (s) | steady-state runs (s) "
        "| loans examined (first / steady) | target | met? |",
        "|---:|---:|---:|---|---|---|---|",
    ]
    for r in results:
        first = r.first
        steady = r.steady
        runs = ", ".join(_s(x.seconds) if x.ran else "not done" for x in steady) or "—"
        examined = " / ".join(
            [
                str(first.counts.get("loans_examined", "?")) if first and first.ran else "—",
                ", ".join(str(x.counts.get("loans_examined", "?")) for x in steady if x.ran) or "—",
            ]
        )
        if r.loans == TARGET_AT:
            target = (
                f"steady ≤ {TARGET_SECONDS:.0f} s, first ≤ {FIRST_TARGET_S:.0f} s; ratio to "
                f"{TARGET_BASE:,} ≤ {TARGET_RATIO:.0f}"
            )
        elif r.loans == TARGET_BASE:
            target = f"base of the ratio (≤ {TARGET_RATIO:.0f})"
        else:
            target = "— (not a target size)"
        met = "—"
        if r.loans == TARGET_AT:
            median = r.steady_median
            first_run_s = first.seconds if first is not None and first.ran else None
            met = (
                "no"
                if median is None
                or median > TARGET_SECONDS
                or first_run_s is None
                or first_run_s > FIRST_TARGET_S
                else "yes"
            )
        first_s = "—"
        if first and first.ran:
            first_s = _s(first.seconds)
        elif first:
            first_s = f"not done ({first.error.split(':')[0]} after {first.seconds or 0:.0f} s)"
        rows.append(
            f"| {r.loans:,} | {first_s} | {_s(r.steady_median)} | {runs} | {examined} "
            f"| {target} | {met} |"
        )
    return rows


def documents_table(documents: list[DocumentResult]) -> list[str]:
    """PDFs in a warm process: the median of the timed renders after one warm-up."""
    rows = [
        "| document | size | median (s) | runs (s) | target | met? |",
        "|---|---|---:|---|---|---|",
    ]
    for d in documents:
        runs = ", ".join(_s(x) for x in d.runs) or f"not done ({d.error.split(':')[0]})"
        met = "—" if d.met is None else ("yes" if d.met else "no")
        rows.append(
            f"| {d.document} | {d.size} | {_s(d.median)} | {runs} | ≤ {d.target_s:g} s | {met} |"
        )
    return rows


def documents_details(documents: list[DocumentResult]) -> list[str]:
    out = []
    for d in documents:
        if d.error:
            out.append(f"- **{d.document}**: not measured — {d.error}")
            continue
        extra = f"; {d.detail}" if d.detail else ""
        out.append(
            f"- **{d.document}** ({d.size}): warm-up {_s(d.warmup_s)} s, then {len(d.runs)} "
            f"timed renders; {d.pages} pages, {d.kilobytes} KiB{extra}"
        )
    return out


def documents_verdict(documents: list[DocumentResult]) -> list[str]:
    out = []
    for d in documents:
        if d.median is None:
            out.append(f"- {d.document} ≤ {d.target_s:g} s: **missed** — not measured ({d.error})")
        else:
            out.append(
                f"- {d.document} ({d.size}) ≤ {d.target_s:g} s: median {d.median:.2f} s — "
                f"**{'met' if d.met else 'missed'}**"
            )
    return out


def _documents_block(documents: list[DocumentResult], heading: str) -> list[str]:
    if not documents:
        return []
    return [
        f"{heading} Documents",
        "",
        "PDFs in a warm process: the median of the renders after one warm-up.",
        "",
        *documents_table(documents),
        "",
        *documents_verdict(documents),
        "",
        *documents_details(documents),
        "",
    ]


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def page_target_text(p: PageResult) -> str:
    parts = []
    if p.target_ms is not None:
        parts.append(f"p95 ≤ {p.target_ms:.0f} ms")
    if p.target_worker_ms is not None:
        parts.append(f"worker ≤ {p.target_worker_ms:.0f} ms a request")
    return ", ".join(parts) or "—"


def _page_verdict(p: PageResult, clients: int, mixed: bool = False) -> str:
    if p.error and p.p95_ms is None:
        return f"not measured — {p.error}"
    if p.target_ms is None and p.target_worker_ms is None:
        return "— (no target)" + (f"; {p.failures} failed" if p.failures else "")
    if p.met:
        return "**met**"
    why = []
    if p.failures:
        why.append(f"{p.failures} requests failed")
    late = [ms for ms in p.in_flight_ms if p.target_ms is not None and ms > p.target_ms]
    if late:
        why.append(f"{len(late)} still unanswered at the end, after ≥ {max(late):.0f} ms")
    work = p.worker_ms
    if p.target_worker_ms is not None and work is not None and work > p.target_worker_ms:
        why.append(
            f"{p.per_second:.1f} req/s on {WORKERS} workers is ≈ {work:.0f} ms of a worker per "
            "request"
        )
    if mixed and p.target_ms is not None and p.p95_ms is not None and p.p95_ms > p.target_ms:
        why.append(f"p95 {p.p95_ms:.0f} ms, the workers shared with the writers")
    elif p.target_ms is not None and p.p95_ms is not None and p.p95_ms > p.target_ms and work:
        why.append(
            f"p95 {p.p95_ms:.0f} ms: ≈ {work:.0f} ms of a worker per request, and with "
            f"{clients} clients on {WORKERS} workers each request also waits for the ones "
            "ahead of it"
        )
    return "**missed** — " + ("; ".join(why) or "no figures")


def _repayment_target(r: RepaymentRun, rate: float | None = REPAYMENTS_TARGET_PER_S) -> str:
    if r.loans > 1 and rate is not None:
        return f"≥ {rate:.0f} per second; all land, balances exact"
    return "all land, balances exact"


def _repayment_verdict(r: RepaymentRun, rate: float | None = REPAYMENTS_TARGET_PER_S) -> str:
    if r.problems:
        return "**missed** — " + "; ".join(r.problems[:3])
    if r.loans == 1 or r.per_second is None or rate is None:
        return "**met**" if r.created else "**missed** — none landed"
    if r.per_second >= rate:
        return "**met**"
    work = 1000 * WORKERS / r.per_second
    return (
        f"**missed** — {r.per_second:.1f} per second on {WORKERS} workers is ≈ {work:.0f} ms of a "
        f"worker per repayment; {describe_locks(r)}"
    )


def _page_rows(pages: list[PageResult], mixed: bool = False) -> list[str]:
    """``mixed``: the workers also serve the writers, so a page's share of them is unknown."""
    rows = [
        "| page | URLs | clients | requests | p50 (ms) | p95 (ms) | max (ms) | req/s "
        "| worker ms a request | errors | target | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for p in pages:
        rate = "—" if p.per_second is None else f"{p.per_second:.1f}"
        rows.append(
            f"| {p.label} | {p.what} | {p.clients} | {p.requests} | {_ms(p.p50_ms)} "
            f"| {_ms(p.p95_ms)} | {_ms(p.max_ms)} | {rate} "
            f"| {'—' if mixed else _ms(p.worker_ms)} | {p.failures} "
            f"| {page_target_text(p)} | {_page_verdict(p, p.clients, mixed)} |"
        )
    return rows


def mixed_block(m: MixedRun) -> list[str]:
    """The readers' pages during the writes, and the writes."""
    out = [
        f"Mixed: {m.readers} signed-in users read the dashboard and the loan list (each request "
        f"draws one of the two) for {WARMUP_S} s of warm-up and {m.duration_s} s measured, "
        f"while {m.writers} API clients post repayments on distinct loans from the readers' "
        "start to their end.",
        "",
        *_page_rows(m.pages, mixed=True),
    ]
    r = m.repayments
    if r is not None:
        rate = "—" if r.per_second is None else f"{r.per_second:.1f}"
        out += [
            "",
            "| repayments during the reads | sent / 201 / new in the database | time (s) "
            "| per second | latency p50 / p95 (ms) | errors | target | verdict |",
            "|---|---|---:|---:|---|---|---|---|",
            f"| {r.label} ({r.loans} loans) | {r.sent} / {r.created} / {r.in_database} "
            f"| {r.seconds:.2f} | {rate} | {_ms(r.latency_ms(0.5))} / {_ms(r.latency_ms(0.95))} "
            f"| {'; '.join(r.failures) or '0'} | {_repayment_target(r, None)} "
            f"| {_repayment_verdict(r, None)} |",
        ]
    out.append("")
    if m.error:
        out.append(f"- **stopped early**: {m.error}")
    if m.writes_ended_early_s > 1:
        out.append(
            f"- the writers ran out of loans {m.writes_ended_early_s:.0f} s before the readers "
            "stopped: the reads after that were not during writes"
        )
    if r is not None:
        replay = "; ".join(m.replay_problems) or "all equal"
        out.append(
            f"- every repayment answered 201 is in the database once and each loan moved by "
            f"exactly what its answers allocated: {'; '.join(r.problems[:3]) or 'yes'}; "
            f"{m.replayed} of the {r.loans} loans repaid (at random), against the app's replay "
            f"and ledger targets (`compare_with_replay`): {replay}"
        )
        out.append(f"- {describe_locks(r)}")
    for p in m.pages:
        if p.in_flight_ms:
            times = ", ".join(f"{ms:.0f}" for ms in p.in_flight_ms)
            out.append(f"- {p.label}: unanswered when the window closed, after (ms) {times}")
        if p.errors:
            out.append(f"- {p.label}, failed requests: " + "; ".join(p.errors[:8]))
    return out


def _check_line(c: FundCheck, target_s: float | None) -> str:
    state = "ran" if c.ran else "did not finish"
    verdict = ""
    if target_s is not None:
        ok = c.ran and c.ok and c.seconds <= target_s
        verdict = f" — target ≤ {target_s:.0f} s: **{'met' if ok else 'missed'}**"
    return (
        f"- `{c.command}` on the whole book afterwards {state} in {c.seconds:.0f} s: "
        f"{c.detail}{verdict}"
    )


def http_tables(h: HttpResult, documents: list[DocumentResult]) -> list[str]:
    rows = _page_rows(h.pages)
    rows += [
        "",
        "| repayments | sent / 201 / new in the database | time (s) | per second "
        "| latency p50 / p95 (ms) | errors | target | verdict |",
        "|---|---|---:|---:|---|---|---|---|",
    ]
    for r in h.repayments:
        rate = "—" if r.per_second is None else f"{r.per_second:.1f}"
        rows.append(
            f"| {r.label} ({r.loans} loan{'s' if r.loans > 1 else ''}) "
            f"| {r.sent} / {r.created} / {r.in_database} | {r.seconds:.2f} | {rate} "
            f"| {_ms(r.latency_ms(0.5))} / {_ms(r.latency_ms(0.95))} "
            f"| {'; '.join(r.failures) or '0'} | {_repayment_target(r)} "
            f"| {_repayment_verdict(r)} |"
        )
    rows += [
        "",
        "| computation | median | runs | target | verdict |",
        "|---|---:|---:|---|---|",
    ]
    for s in h.schedules:
        rows.append(
            f"| build_schedule, {s.label} (pure, in process) | {s.median_ms:.2f} ms "
            f"| {len(s.runs)} | — (no target) | — |"
        )
    for d in documents:
        if d.document.startswith("statement"):
            median = "not measured" if d.median is None else f"{d.median:.2f} s"
            met = "—" if d.met is None else ("**met**" if d.met else "**missed**")
            rows.append(
                f"| {d.document}, {d.size} (see Documents) | {median} | {len(d.runs)} "
                f"| ≤ {d.target_s:g} s | {met} |"
            )
    return rows


def http_details(h: HttpResult) -> list[str]:
    out = []
    if h.error:
        out.append(f"- **stopped early**: {h.error}")
    if h.repayments:
        replay = "; ".join(h.replay_problems) or "all equal"
        out.append(
            f"- the {h.replayed} loans repaid, afterwards, against the app's replay of their "
            f"history and its ledger targets (`compare_with_replay`): {replay}"
        )
    if h.check.detail:
        out.append(_check_line(h.check, CHECK_TARGET_S))
    if h.deep_check is not None and h.deep_check.detail:
        out.append(_check_line(h.deep_check, None))
    elif h.check.detail:
        out.append("- `flask fund check --deep`: not in this code, not timed")
    for r in h.repayments:
        out.append(f"- {r.label}: {describe_locks(r)}")
    for p in h.pages:
        if p.first_ms:
            firsts = ", ".join(f"{ms / 1000:.1f} s" for ms in p.first_ms)
            out.append(
                f"- {p.label}: the first computation of its whole-book figures in each worker, "
                f"before the load and outside its figures: {firsts} (what a reader waits for "
                "after every change to the book, until `fundapp/reports/cache.py` keeps them)"
            )
        if p.errors:
            out.append(f"- {p.label}, failed requests: " + "; ".join(p.errors[:8]))
    if h.server_errors:
        out.append("- errors in the server's log: " + "; ".join(h.server_errors[:10]))
    return out


def http_summary(h: HttpResult) -> list[str]:
    """For the terminal: one line a scenario."""
    from benchmarks.http import describe_page, describe_repayments

    server = h.server or "server not started"
    out = [f"HTTP at {h.loans:,} loans ({server}; {h.tool or 'no Locust'})"]
    out += ["- " + describe_page(p) for p in h.pages]
    out += ["- " + describe_repayments(r) for r in h.repayments]
    out += http_details(h)
    if h.mixed is not None:
        out += ["- mixed: " + describe_page(p) for p in h.mixed.pages]
        if h.mixed.repayments is not None:
            out.append("- mixed: " + describe_repayments(h.mixed.repayments))
        out += [line for line in mixed_block(h.mixed)[2:] if line.startswith("- ")]
    out += [f"- build_schedule {s.label}: median {s.median_ms:.2f} ms" for s in h.schedules]
    return out


def _http_block(h: HttpResult | None, documents: list[DocumentResult], heading: str) -> list[str]:
    if h is None:
        return []
    return [
        f"{heading} HTTP under load",
        "",
        f"The {h.loans:,}-loan book above after its close-of-day runs, business date "
        f"{h.business_day.isoformat()}; server `{h.server or 'not started'}` in the "
        "production configuration (with `SESSION_COOKIE_SECURE=false`: plain http)"
        + (f" (up in {h.started_s:.1f} s)" if h.started_s else "")
        + f"; load from {h.tool or 'nothing (Locust missing)'}: each page with "
        f"{' and then '.join(str(c) for c in h.page_clients)} clients back to "
        f"back, {h.warmup_s} s warm-up, then {h.duration_s} s per page (a slow page longer, "
        f"until {MIN_REQUESTS} requests are measured, at most {MAX_PAGE_S} s in all).",
        "",
        *http_tables(h, documents),
        "",
        *http_details(h),
        "",
        *(mixed_block(h.mixed) if h.mixed is not None else []),
        "",
    ]


def details(results: list[SizeResult], args_line: str) -> list[str]:
    out = []
    for r in results:
        g = r.generation
        c = r.counts
        out.append(
            f"- **{r.loans:,} loans**: generated in {g.get('total_s', 0):.0f} s "
            f"(engine templates {g.get('templates_s', 0):.0f} s, COPY load "
            f"{g.get('load_s', 0):.0f} s), VACUUM ANALYZE {r.vacuum_s:.0f} s; rows: "
            + ", ".join(f"{k} {v:,}" for k, v in c.items())
            + "; payers: "
            + ", ".join(
                f"{k.replace('_', '-')} {v:,}"
                for k, v in sorted(r.behaviours.items())
                if k != "extension"
            )
            + f", of which restructured (extension) {r.behaviours.get('extension', 0):,}"
        )
        steady = [x for x in r.steady if x.ran]
        if steady:
            shares = ", ".join(
                f"{100 * x.counts.get('loans_examined', 0) / r.loans:.0f} %" for x in steady
            )
            out.append(f"  - share of the book examined by the steady-state runs: {shares}")
        if r.problems:
            out.append("  - generated book checks FAILED: " + "; ".join(r.problems))
        else:
            out.append(f"  - generated book checks passed ({len(r.checks)} checks)")
        if r.warnings:
            out.append(
                "  - after the runs, sampled loans differ from the app's replay / ledger targets: "
                + "; ".join(r.warnings[:10])
            )
        for run in r.runs:
            label = f"{run.kind} {run.business_date}"
            if run.ran:
                paid = ""
                if run.payments_before:
                    paid = (
                        f" (before it, untimed: {run.payments_before:,} repayments of the "
                        f"previous day recorded in {run.payments_s:.1f} s)"
                    )
                out.append(f"  - {label}: {run.seconds:.2f} s{paid}; counts {run.counts}")
            else:
                out.append(
                    f"  - {label}: not measured — after {run.seconds or 0:.0f} s, {run.error}"
                )
                if run.traceback:
                    out.append("")
                    out.append("    ```")
                    out.extend("    " + line for line in run.traceback.rstrip().splitlines())
                    out.append("    ```")
    out.append(f"- command line: `{args_line}`")
    return out


def write_markdown(
    path: Path,
    results: list[SizeResult],
    mach: Machine,
    started: datetime,
    args_line: str,
    notes: list[str],
    documents: list[DocumentResult] | None = None,
    http: HttpResult | None = None,
    rev: Rev | None = None,
) -> None:
    stamp = started.strftime("%Y-%m-%d %H:%M")
    documents = documents or []
    glance = at_a_glance(results, documents, http, rev)
    block = [
        f"### {stamp} — sizes {', '.join(f'{r.loans:,}' for r in results)}",
        "",
        *glance,
        *table(results),
        "",
        *verdict(results),
        "",
        *details(results, args_line),
        "",
        *_documents_block(documents, "####"),
        *_http_block(http, documents, "####"),
        *_rev_block(rev, "####"),
    ]
    history, reading = "", []
    if path.exists():
        existing = path.read_text(encoding="utf-8")
        if HISTORY_HEADING in existing:
            history = existing.split(HISTORY_HEADING, 1)[1].strip("\n")
        reading = _section(existing, READING_HEADING)
    top = [
        "# Benchmarks",
        "",
        "Close of day (docs/rules.md#close-of-day) on PostgreSQL for a generated portfolio,",
        "two of its PDF documents (the statement and the fund balance report), and the web app",
        "and API under HTTP load on the largest book.",
        "Run it with",
        "",
        "```",
        "make bench",
        "```",
        "",
        "which runs `scripts/pg-test.sh .venv/bin/python -m benchmarks` (a throwaway",
        "PostgreSQL server, `FUNDAPP_TEST_DATABASE_URL` pointing at it) for 10 000 and",
        "100 000 loans. A quick run: `scripts/pg-test.sh .venv/bin/python -m benchmarks",
        "--sizes 2000`; `--help` lists the options. Each run rewrites the latest results",
        f"below and appends them, dated, under “{HISTORY_HEADING[3:]}”.",
        "",
        *targets_text(),
        "",
        "Each figure is kept beside its target and, with `--compare REV` (e.g.",
        '`make bench BENCH_ARGS="--compare 1d3b21f"`), beside the figure of the code before',
        "the change, measured in the same sitting: this machine's speed varies from day to",
        "day. `--output PATH` writes the results elsewhere than this file.",
        "",
        f"## Latest results ({stamp})",
        "",
        "Machine:",
        "",
        *mach.lines(),
        "",
        *glance,
        *table(results),
        "",
        *verdict(results),
        "",
        "Details:",
        "",
        *details(results, args_line),
        "",
        *_documents_block(documents, "###"),
        *_http_block(http, documents, "###"),
        *_rev_block(rev, "###"),
        *reading,
        "## How the numbers are made",
        "",
        *notes,
        "",
        HISTORY_HEADING,
        "",
        "",
    ]
    body = "\n".join(top)
    if history:
        body += history + "\n\n"
    body += "\n".join(block)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body.rstrip("\n") + "\n", encoding="utf-8")


def targets_text() -> list[str]:
    return [
        "**Targets** (issue), at 100 000 loans on this 2-core machine, gunicorn with 2 workers:",
        "",
        f"- close of day: steady state (the median of the daily runs after the first) "
        f"≤ {STEADY_TARGET_S:g} s, the first run on a fresh book (which classifies every loan "
        f"once) ≤ {FIRST_TARGET_S:g} s, and time({TARGET_AT:,}) / time({TARGET_BASE:,}) "
        f"≤ {RATIO_TARGET:g} (steady state);",
        f"- the loan page: p95 ≤ {DETAIL_P95_TARGET_MS:.0f} ms at {DETAIL_TARGET_CLIENTS} "
        f"clients, and ≤ {DETAIL_WORKER_TARGET_MS:.0f} ms of a worker per request ({WORKERS} "
        "workers × the measured time ÷ the requests answered in it);",
        f"- repayments: ≥ {REPAYMENTS_TARGET_PER_S:.0f} per second from 8 API clients on "
        "distinct loans, every one landed with exact balances (and on one loan, every one "
        "landed);",
        f"- mixed: the dashboard p95 ≤ {MIXED_P95_TARGETS_MS['dashboard']:.0f} ms and the loan "
        f"list p95 ≤ {MIXED_P95_TARGETS_MS['list']:.0f} ms while repayments are posted, every "
        "one landed with exact balances;",
        f"- `flask fund check` ≤ {CHECK_TARGET_S:.0f} s and passing (`--deep`, when the app has "
        "it, is timed without a target);",
        f"- the statement PDF of a {STATEMENT_INSTALMENTS}-instalment loan with "
        f"{STATEMENT_INSTALMENTS} repayments ≤ {STATEMENT_TARGET_S:g} s (and the fund balance "
        f"report PDF at {FUND_REPORT_AT:,} loans ≤ {FUND_REPORT_TARGET_S:g} s), in a warm "
        "process.",
        "",
        "`--no-documents` skips the PDFs, `--no-http` the server, the load and the check.",
    ]


def at_a_glance(
    results: list[SizeResult],
    documents: list[DocumentResult],
    http: HttpResult | None,
    rev: Rev | None,
) -> list[str]:
    """Every figure with a target (and the others measured) beside its target and, with
    --compare, beside REV's."""
    new = headline(results, documents, http)
    old = None if rev is None else headline(rev.results, rev.documents, rev.http)
    out = [
        "At a glance"
        + (f", beside the code of {rev.label} run in the same sitting:" if rev else ":"),
        "",
        *side_by_side(new, old, rev.label if rev else ""),
        "",
    ]
    if rev is not None and rev.errors:
        out += [f"- the run of {rev.label}: {e}" for e in rev.errors] + [""]
    return out


def _rev_block(rev: Rev | None, heading: str) -> list[str]:
    """REV's own close-of-day figures and load tables, for the details behind the glance."""
    if rev is None or not (rev.results or rev.http):
        return []
    out = [f"{heading} The run of {rev.label}", ""]
    if rev.results:
        out += [*table(rev.results), "", *verdict(rev.results), ""]
    if rev.documents:
        out += [*documents_table(rev.documents), ""]
    if rev.http is not None:
        out += [*http_tables(rev.http, []), "", *http_details(rev.http), ""]
        if rev.http.mixed is not None:
            out += [*mixed_block(rev.http.mixed), ""]
    return out


def _section(text: str, heading: str) -> list[str]:
    """The lines of the ``heading`` section of ``text`` (heading included, up to the next
    level-2 heading), or none."""
    if heading not in text:
        return []
    body = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return [heading, "", *body.strip("\n").splitlines(), ""]


NOTES = [
    "- **Portfolio.** `benchmarks/portfolio.py` drops the schema `public` and recreates it from",
    "  the models (`db.create_all()`), installs the policy defaults, creates the staff",
    "  users and one charter-capital entry through the app's services, then loads N active",
    "  loans with PostgreSQL COPY (all constraints and indexes in place) for N/2",
    "  cooperatives. Loans are 100–800 million đ at 6.0–7.2 %/year over 24–60 months,",
    "  mostly equal principal (monthly, or quarterly principal with monthly or quarterly",
    "  interest, some with 3–6 months' grace), some annuity and bullet; first disbursed 1–5",
    "  years before the business date (2026-11-20 by default) and maturing after it.",
    "- **Templates.** Every loan follows one of 500 to 3 000 templates (terms, disbursement",
    "  date, payment history) replayed by the app's engine (`fundapp.domain.replay.replay`):",
    "  the schedule, the allocation of each repayment and the cached balances are exactly the",
    "  engine's for that history. About 85 % of loans pay every instalment on its due date,",
    "  10 % stopped paying 1–12 months ago, 5 % pay only 40–90 % of each instalment since",
    "  1–8 months ago; 0.3 % had an approved extension (gia hạn nợ) a few months ago. With",
    '  N/2 cooperatives and "one borrower, one group", a late loan pulls its borrower\'s',
    "  other loans out of group 1 too. Loans sharing a template share due dates, so daily",
    "  volumes are lumpier than in a real book.",
    "- **Ledger.** Per loan one disbursement entry (Dr 2111 / Cr 1121) and one entry for all",
    "  its repayments (Dr 1121 / Cr 2111, 7021, 7022): what `posting.targets` wants of a loan",
    "  before any close of day. Per-loan running balances are filled from the lines when the",
    "  schema has them. Before timing anything the generator checks the `flask fund check`",
    "  invariants in SQL and compares a sample of 150 loans with the app's replay and ledger",
    "  targets.",
    '- **Timing.** After `VACUUM ANALYZE`, `run_close_day(D, "bench")` plus the commit is',
    "  timed for D = the business date (the first run: nothing was ever closed, so every",
    "  active loan is classified) and then for the 3 following dates (steady state; the",
    "  median is reported). Between two runs, untimed, the repayments of the day just",
    "  closed are recorded: partial payers' through the app's `record_repayment`; on-time",
    "  payers' (the instalment due that day, nothing else owed) in bulk with exactly what",
    "  that service stores and posts, a sample of them then checked against the app's",
    "  replay and `posting.targets`. So each nightly run sees what a real night would. A run",
    "  past the time limit (`--run-timeout`, default 600 s) is stopped, rolled back and",
    "  reported as not measured; the later dates of that size are then not run.",
    "- **What a daily run touches.** The overdue state of every late instalment (Σ balance ×",
    "  days and the overdue interest from it) advances in one UPDATE, exact NUMERIC",
    "  arithmetic on PostgreSQL. Loans are examined (figures read, groups, provisions and",
    "  ledger differences computed) only when something of theirs can change that day:",
    "  something past due and unsettled (found through the partial index of unsettled",
    "  instalments by due date), a replay or new collateral since the last run",
    "  (`loans.reclassify`), never classified, or another loan of the same borrower whose",
    "  group moves; all of them when the provision rates change. Journal lines, running",
    "  balances, classifications and notices go in by COPY (through a staging table for",
    "  the upserts). So the cost follows the late loans and the day's events, not the",
    "  book: with this generator about 15 % of the loans are late, and each is examined",
    "  and posted (its overdue interest accrues) every night.",
    "- **Server.** The throwaway cluster of `scripts/pg-test.sh`: stock settings",
    "  (shared_buffers 128 MB) but `fsync=off`, `synchronous_commit=off`,",
    "  `full_page_writes=off`, so commits cost less than on a production server; client and",
    "  server share the 2 cores.",
    "- **Documents** (`benchmarks/documents.py`). On the 10 000-loan book after its close-of-day",
    "  runs (or, when 10 000 is not among the sizes, a 10 000-loan book generated for them",
    "  and closed once on the business date), in the benchmark's warm process: the fund",
    "  balance report PDF of the business date exactly as /reports/fund-balance.pdf makes",
    "  it (its figures, then the PDF, both timed), then a loan made through the app's",
    "  services (application, appraisal, approval, contract, one disbursement, 60 monthly",
    "  instalments each paid in full 5 days late: due, overdue transfer, overdue interest",
    "  and repayment every month) and its whole-life statement PDF as",
    "  /loans/<id>/statement.pdf makes it. Each: one warm-up render, then the median of 5.",
    "- **HTTP** (`benchmarks/http.py`, `--no-http` skips it). After the close-of-day runs",
    "  (and the documents) of the largest size, on that book: `gunicorn -w 2 --timeout 300",
    "  wsgi:app` on a free port of 127.0.0.1, `FUNDAPP_CONFIG=production` with a random",
    "  `SECRET_KEY`, `DATABASE_URL` = the bench database, `FUNDAPP_BUSINESS_DATE` = the",
    "  last closed date, and `SESSION_COOKIE_SECURE=false` (the clients speak plain http to",
    "  the loopback); started, waited for on /healthz, and stopped (its process group) at",
    "  the end whatever happens. Staff and accountant users are made through",
    "  `create_user`. Server, database and load generator share the 2 cores.",
    "- **Pages.** Locust (pinned in requirements-bench.txt, in its own `.venv-bench`, which",
    "  `make bench` creates), headless, `benchmarks/locustfile.py`: each page first with 2",
    "  users, one per gunicorn worker (the page's own latency, nothing queued), then with 8",
    "  (`--http-page-clients`: the queue of 8 against 2 sync workers). The users sign in",
    "  through the real /login form with its CSRF token (director, board, officer,",
    "  controller, accountant in turn), then request pages back to back, no think time.",
    "  One scenario at a time, each 5 s of",
    "  warm-up (reported apart) then 30 s measured (`--http-duration`), or longer until 20",
    "  requests are measured (at most 300 s in all) when the page is slow. The loan list draws",
    "  from 400 URLs: status, district, overdue and contract-number filters, pages spread",
    "  over each filter's page count; the loan page from 500 random loans; the dashboard",
    "  and the fund balance report page of the business date. Any answer but 200 (a",
    "  redirect included) is an error. p50/p95/max are Locust's statistics of the measured",
    "  requests (it rounds times above 100 ms to 10 ms, above 1 s to 100 ms); req/s is their",
    "  number over the time from the end of the warm-up to the last answer. Each account",
    "  signs in once, alone, before the load, so the load measures pages, not first",
    "  sign-ins. The dashboard and the report pages keep their whole-book figures per",
    "  worker while the book is unchanged (`fundapp/reports/cache.py`, `REPORT_CACHE_SIZE`):",
    "  the warm-up computes them once in each worker; the time of that first computation",
    "  is the `max` column and is reported apart below.",
    "- **Repayments.** 8 API clients (threads in the benchmark process, each with its own",
    "  accountant's token from POST /api/v1/tokens and its own connection) start together",
    "  and post POST /api/v1/loans/{id}/repayments one after another, each with its own",
    "  `Idempotency-Key`: first on 320 distinct loans (40 each; loans with something due",
    "  pay the `total_due` of GET /api/v1/loans/{id}, read beforehand, untimed), then all",
    "  8 on one loan (the largest without arrears), 10 repayments of 1 000 000 đ each.",
    "  Per second = repayments answered 201 ÷ time from the start to the last answer.",
    "  Then, from the database: every 201 is one new repayment, each loan's principal",
    "  outstanding fell by exactly the principal lines of its answers and its repaid total",
    "  rose by exactly the amounts; the loans repaid are compared with the app's replay",
    "  and ledger targets. While the repayments run, the benchmark looks at",
    "  `pg_stat_activity` every 50 ms and counts, per table, the looks in which a request",
    "  waited for a lock (the table read from the waiting statement).",
    "- **Mixed.** Then, for the warm-up and the measured time of a page scenario, 4 Locust",
    "  users (`--mixed-readers`) request the dashboard or a loan-list URL (drawn as above, one",
    "  or the other at random each time) while 4 API clients (`--mixed-writers`) post",
    "  repayments of 2 000 000 đ, each on a loan of its own drawn from the active loans with",
    "  more than 8 000 000 đ outstanding, from the readers' start until Locust ends. The",
    "  readers' window is fixed: requests still unanswered at its end are listed with the",
    "  time they had taken, and one over the target misses it. The writes are checked as",
    "  above (every 201 in the database once, each loan moved by exactly what was",
    "  allocated), and 500 of the loans repaid, drawn at random, are compared with the app's",
    "  replay and ledger targets. Per second = repayments answered 201 ÷ the writers' time.",
    "- **Fund check.** After the load, `flask fund check` runs on the whole book in its own",
    "  process, timed (target ≤ 60 s); then `flask fund check --deep` (which replays every",
    "  loan) when the code has that option, timed without a target.",
    "- **Side by side** (`--compare REV`). REV's files come from `git archive` (the",
    "  repository is only read) into a temporary directory, with this `benchmarks/` in place",
    "  of REV's, so the same harness measures both; same `.venv` and `.venv-bench`. For each",
    "  size, just before this code's run, a child process runs that size there: it generates",
    "  its own book with REV's models and engine from the same seed (the schemas may differ),",
    "  and runs what this run runs at that size (documents at 10 000, the load at the largest).",
    "  Its figures are set beside this code's in the tables, its own tables follow.",
    "- **Schedule.** `fundapp.domain.schedule.build_schedule` for 480 million đ over 60",
    "  monthly instalments at 6.6 %, equal principal and annuity: one warm-up call, then",
    "  the median of 50. The statement PDF is the one timed under Documents.",
]
