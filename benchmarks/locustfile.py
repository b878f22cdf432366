"""Signed-in staff reading pages, for ``benchmarks.http`` (``locust --headless``).

Runs in its own virtualenv (.venv-bench) and imports nothing from fundapp. The plan, a
JSON file named by ``BENCH_PLAN``, lists the accounts and, per scenario, its label and
the URLs to draw from, or several such groups with weights (a mixed scenario: each
request draws its group, then its URL); ``BENCH_SCENARIO`` picks the scenario. Each
simulated user signs in through the real /login form (CSRF token included), then requests
URLs of the scenario back to back. Requests started in the first ``warmup_s`` seconds of
the test are reported as "warm-up"; any answer other than 200 (a redirect to /login
included) is a failure. The test stops once ``duration_s`` has passed after the warm-up
and ``min_requests`` were measured of every group, or at ``--run-time`` whatever was
measured: a slow page still gets enough requests for its percentiles. A scenario marked
``fixed`` stops when ``duration_s`` has passed after the warm-up, whatever was measured
(its window is the one in which other clients write); the requests still in flight then
are reported with the time they had taken so far. When Locust quits, each group's figures
(Locust's own statistics of the measured requests, and every failure) go to the JSON file
named by ``BENCH_RESULT``: its CSV files are written once a second and may miss the last
one.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

PLAN = json.loads(Path(os.environ["BENCH_PLAN"]).read_text(encoding="utf-8"))
SCENARIO = PLAN["scenarios"][os.environ["BENCH_SCENARIO"]]
GROUPS = SCENARIO.get("groups") or [{**SCENARIO, "weight": 1}]
LABELS = [g["label"] for g in GROUPS]
FIXED = bool(SCENARIO.get("fixed"))
WARMUP_S = float(PLAN["warmup_s"])
DURATION_S = float(PLAN["duration_s"])
MIN_REQUESTS = int(PLAN["min_requests"])
ACCOUNTS = itertools.cycle(PLAN["accounts"])
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_test_started = [time.monotonic(), time.time()]
# Per user, the request under way: (label, monotonic start); removed when it answers.
IN_FLIGHT: dict[int, tuple[str, float]] = {}
_stopped_at: list[float] = []  # when the window closed (stopping the users takes a while)


@events.test_start.add_listener
def _started(environment: Environment, **_kwargs: Any) -> None:
    _test_started[:] = [time.monotonic(), time.time()]
    gevent.spawn(_stop_when_measured, environment)


def _stop_when_measured(environment: Environment) -> None:
    while True:
        gevent.sleep(0.5)
        # .get: indexing the entries would create an empty row.
        rows = [environment.stats.entries.get((label, "GET")) for label in LABELS]
        measured = min(row.num_requests if row is not None else 0 for row in rows)
        if time.monotonic() - _test_started[0] >= WARMUP_S + DURATION_S and (
            FIXED or measured >= MIN_REQUESTS
        ):
            _stopped_at.append(time.monotonic())
            if environment.runner is not None:
                environment.runner.quit()
            return


@events.quitting.add_listener
def _write_result(environment: Environment, **_kwargs: Any) -> None:
    now = _stopped_at[0] if _stopped_at else time.monotonic()
    measured_from = _test_started[0] + WARMUP_S
    by_label: dict[str, Any] = {}
    for label in LABELS:
        row = environment.stats.entries.get((label, "GET"))
        figures: dict[str, Any] = {"requests": 0, "failures": 0}
        if row is not None and row.num_requests:
            # Throughput over the measured window: from the end of the warm-up to the last
            # answer.
            window = row.last_request_timestamp - (_test_started[1] + WARMUP_S)
            figures = {
                "requests": row.num_requests,
                "failures": row.num_failures,
                # Locust rounds times above 100 ms, so a percentile may pass the maximum.
                "p50_ms": min(row.get_response_time_percentile(0.5), row.max_response_time),
                "p95_ms": min(row.get_response_time_percentile(0.95), row.max_response_time),
                "max_ms": row.max_response_time,
                "per_second": row.num_requests / window if window > 0 else None,
            }
        figures["in_flight_ms"] = sorted(
            (now - started) * 1000
            for name, started in IN_FLIGHT.values()
            if name == label and started >= measured_from
        )
        figures["errors"] = [
            f"{e.name}: {e.error} (×{e.occurrences})"
            for e in environment.stats.errors.values()
            if e.name in (label, "login")
        ]
        by_label[label] = figures
    Path(os.environ["BENCH_RESULT"]).write_text(json.dumps(by_label), encoding="utf-8")


class Staff(HttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        username, password = next(ACCOUNTS)
        self.rng = random.Random(f"{os.environ['BENCH_SCENARIO']}/{username}/{id(self)}")
        page = self.client.get("/login", name="login")
        match = CSRF_INPUT.search(page.text or "")
        if match is None:
            raise StopUser
        form = {"username": username, "password": password, "csrf_token": match.group(1)}
        with self.client.post(
            "/login", data=form, name="login", allow_redirects=False, catch_response=True
        ) as answer:
            if answer.status_code != 302 or "/login" in answer.headers.get("Location", ""):
                answer.failure(f"login as {username}: HTTP {answer.status_code}")
                raise StopUser

    @task
    def read_page(self) -> None:
        group = self.rng.choices(GROUPS, weights=[g["weight"] for g in GROUPS])[0]
        url = self.rng.choice(group["urls"])
        started = time.monotonic()
        warm = started - _test_started[0] < WARMUP_S
        # Not in a ``finally``: a request cut off when Locust quits stays in flight.
        IN_FLIGHT[id(self)] = (group["label"], started)
        with self.client.get(
            url,
            name="warm-up" if warm else group["label"],
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code} for {url}")
        IN_FLIGHT.pop(id(self), None)
