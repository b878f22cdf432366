"""The code's structure is a contract (README "Code layout"): the packages depend downward only
(`.importlinter`), the domain is pure Python, no module grows past 600 lines, and an import
inside a function says why it is there. These hold whatever the database, so the PostgreSQL
run leaves them to SQLite."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(
    bool(PG_URL), reason="the code's structure does not depend on the database: run on SQLite"
)

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "fundapp"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_LINES = 600


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "translations" not in p.parts)


def test_the_import_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-4000:]
    assert ", 0 broken." in result.stdout, result.stdout[-2000:]


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # the domain reaching up to a view: the layers contract and the purity contract both break
        ("domain/money.py", "from fundapp.web import loans", "fundapp.domain is not allowed"),
        # persistence reaching up to a service
        (
            "loans/models.py",
            "from fundapp.servicing import close_day",
            "fundapp.loans is not allowed",
        ),
        # a report importing an HTTP view
        ("reports/par.py", "from fundapp.web import reports", "fundapp.reports is not allowed"),
    ],
)
def test_an_upward_import_breaks_the_build(tmp_path: Path, module: str, line: str, broken: str):
    copy = tmp_path / "tree"
    shutil.copytree(
        PACKAGE, copy / "fundapp", ignore=shutil.ignore_patterns("__pycache__", "translations")
    )
    shutil.copy(ROOT / ".importlinter", copy / ".importlinter")
    target = copy / "fundapp" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa: E402\n")
    result = _lint_imports(copy)
    assert result.returncode == 1, result.stdout[-2000:]
    assert broken in result.stdout


def test_the_domain_imports_neither_flask_nor_sqlalchemy():
    names = sorted(p.stem for p in (PACKAGE / "domain").glob("*.py") if p.stem != "__init__")
    assert {"money", "schedule", "replay", "allocation", "overdue"} <= set(names)
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module('fundapp.domain.' + name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'flask', 'sqlalchemy', 'flask_babel', 'flask_sqlalchemy', 'werkzeug', 'config'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_module_is_over_600_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


def _function_imports_without_a_reason(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    tree = ast.parse("\n".join(lines))
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            here = lines[node.lineno - 1]
            above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
            if "#" not in here and not above.startswith("#"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {here.strip()}")
    return found


def test_an_import_inside_a_function_says_why():
    found = sorted(
        {item for path in _modules() for item in _function_imports_without_a_reason(path)}
    )
    assert not found, "\n".join(found)
