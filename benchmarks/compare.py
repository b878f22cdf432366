"""``--compare REV``: the same scenario, in the same sitting, with the code of an older commit.

REV's tree is extracted with ``git archive`` into a temporary directory (read-only for the
repository: no worktree, branch or index is touched), its ``benchmarks/`` replaced by this
one, so both commits are measured by the same harness; it uses the same ``.venv`` and
``.venv-bench``. For each size, before this code's run, a child ``python -m benchmarks``
runs there on that size alone: it generates its own book with REV's models and engine from
the same seed (the two commits' schemas may differ, so a dump of one book would not load
into the other), runs what this run runs at that size, and writes its results as JSON,
which come back here through :func:`decode`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.documents import FUND_REPORT_AT, DocumentResult
from benchmarks.http import HttpResult
from benchmarks.runner import SizeResult

ROOT = Path(__file__).resolve().parent.parent


# --- results as JSON -----------------------------------------------------------------------


def encode(value: Any) -> Any:
    """Dataclasses, dates, tuples and containers of them as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def decode(kind: Any, value: Any) -> Any:
    """The inverse of :func:`encode` for a value of the annotated type ``kind``."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [k for k in typing.get_args(kind) if k is not type(None)]
        return decode(options[0], value) if len(options) == 1 else value
    if origin is list:
        (item,) = typing.get_args(kind)
        return [decode(item, v) for v in value]
    if origin is tuple:
        item = typing.get_args(kind)[0]
        return tuple(decode(item, v) for v in value)
    if origin is dict:
        return dict(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        known = {f.name for f in dataclasses.fields(kind) if f.init}
        return kind(**{k: decode(hints[k], v) for k, v in value.items() if k in known})
    if kind is date:
        return date.fromisoformat(value)
    if kind is float and isinstance(value, int):
        return float(value)
    return value


@dataclass
class Part:
    """What one child run of REV measured (one size)."""

    results: list[SizeResult] = field(default_factory=list)
    documents: list[DocumentResult] = field(default_factory=list)
    http: HttpResult | None = None
    fundapp: str = ""  # where the child imported fundapp from: REV's tree, checked
    error: str = ""


def write_part(path: Path, part: Part) -> None:
    path.write_text(json.dumps(encode(part)), encoding="utf-8")


def read_part(path: Path) -> Part:
    part: Part = decode(Part, json.loads(path.read_text(encoding="utf-8")))
    return part


# --- REV's tree and its runs -----------------------------------------------------------------


@dataclass
class Rev:
    asked: str  # as given on the command line
    commit: str  # short hash
    tree: Path
    parts: list[Part] = field(default_factory=list)

    @property
    def label(self) -> str:
        return (
            self.commit if self.asked.startswith(self.commit) else f"{self.asked} ({self.commit})"
        )

    @property
    def results(self) -> list[SizeResult]:
        return [r for p in self.parts for r in p.results]

    @property
    def documents(self) -> list[DocumentResult]:
        return [d for p in self.parts for d in p.documents]

    @property
    def http(self) -> HttpResult | None:
        return next((p.http for p in self.parts if p.http is not None), None)

    @property
    def errors(self) -> list[str]:
        return [p.error for p in self.parts if p.error]


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode:
        raise ValueError(done.stderr.strip() or f"git {' '.join(args)} failed")
    return done.stdout.strip()


def prepare(asked: str, log: Callable[[str], None]) -> Rev:
    """REV's files in a new temporary directory, with this benchmark harness and compiled
    translations; ValueError when REV is not a commit."""
    try:
        commit = _git("rev-parse", "--verify", "--quiet", f"{asked}^{{commit}}")
    except ValueError:
        raise ValueError(f"{asked!r} is not a commit of this repository") from None
    short = _git("rev-parse", "--short", commit)
    tree = Path(tempfile.mkdtemp(prefix=f"fundapp-bench-{short}-"))
    try:
        archive = tree / "rev.tar"
        _git("archive", "--format=tar", f"--output={archive}", commit)
        with tarfile.open(archive) as tar:
            tar.extractall(tree, filter="data")
        archive.unlink()
        shutil.rmtree(tree / "benchmarks", ignore_errors=True)
        shutil.copytree(
            ROOT / "benchmarks", tree / "benchmarks", ignore=shutil.ignore_patterns("__pycache__")
        )
        if (ROOT / ".venv-bench").exists():
            (tree / ".venv-bench").symlink_to(ROOT / ".venv-bench")
        if (tree / "fundapp" / "translations").is_dir():
            pybabel = Path(sys.executable).with_name("pybabel")
            subprocess.run(
                [str(pybabel), "-q", "compile", "-d", "fundapp/translations", "-f"],
                cwd=tree,
                check=True,
                timeout=300,
            )
    except BaseException:
        shutil.rmtree(tree, ignore_errors=True)
        raise
    log(f"compare: the code of {short} extracted to {tree}")
    return Rev(asked, short, tree)


def cleanup(rev: Rev) -> None:
    shutil.rmtree(rev.tree, ignore_errors=True)


def child_args(args: argparse.Namespace, size: int, output: Path) -> list[str]:
    """The options of this run for REV's run of ``size`` alone: the same scenario at that
    size (documents where this run times them, HTTP at the largest size), no results file."""
    sizes = list(args.sizes)
    own_documents_book = FUND_REPORT_AT not in sizes and size == sizes[-1]
    documents = args.documents and (size == FUND_REPORT_AT or own_documents_book)
    http = args.http and size == max(sizes)
    out = [
        "--sizes", str(size), "--date", args.date.isoformat(),
        "--steady-days", str(args.steady_days), "--run-timeout", str(args.run_timeout),
        "--first-run-timeout", str(args.first_run_timeout), "--seed", str(args.seed),
        "--workers", str(args.workers), "--no-doc", "--part-json", str(output),
        "--documents" if documents else "--no-documents",
        "--http" if http else "--no-http",
        "--http-duration", str(args.http_duration), "--http-clients", str(args.http_clients),
        "--http-page-clients", ",".join(str(c) for c in args.http_page_clients),
        "--mixed-readers", str(args.mixed_readers), "--mixed-writers", str(args.mixed_writers),
    ]  # fmt: skip
    if args.no_payments:
        out.append("--no-payments")
    if args.templates is not None:
        out += ["--templates", str(args.templates)]
    if args.full_check:
        out.append("--full-check")
    return out


def run_size(rev: Rev, args: argparse.Namespace, size: int, log: Callable[[str], None]) -> Part:
    """REV's run of ``size`` in a child process (its log goes to this one's output)."""
    output = rev.tree / f"part-{size}.json"
    env = {**os.environ, "PYTHONPATH": str(rev.tree), "BENCH_LOG_TAG": rev.commit}
    command = [sys.executable, "-m", "benchmarks", *child_args(args, size, output)]
    log(f"compare: {size:,} loans with the code of {rev.commit}")
    done = subprocess.run(command, cwd=rev.tree, env=env, check=False)
    if not output.exists():
        part = Part(error=f"the run of {rev.commit} at {size:,} loans exited {done.returncode} "
                    "without results (its log is above)")  # fmt: skip
    else:
        part = read_part(output)
        if not Path(part.fundapp).is_relative_to(rev.tree):
            part.error = f"the run of {rev.commit} imported fundapp from {part.fundapp}"
    if part.error:
        log(f"compare: {part.error}")
    rev.parts.append(part)
    return part
