# fundapp developer tasks (GNU make). `make help` lists them.
#
# Every recipe is one bash script (.ONESHELL) run with -eu -o pipefail, so a
# failing command fails the target unless the recipe handles it explicitly.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask
PYTEST := $(VENV)/bin/pytest
RUFF   := $(VENV)/bin/ruff
STAMP  := $(VENV)/.installed
REQS   := requirements.txt requirements-dev.txt

# Browser tests drive the system Chromium (scripts/install-system-deps.sh).
export FUNDAPP_CHROMIUM ?= /usr/bin/chromium

PYTEST_ARGS := -q -p no:cacheprovider
# The test server runs without autovacuum: the suite empties every table between tests,
# and an automatic ANALYZE would end transactions at random moments, which the report
# cache (keyed by the transaction snapshot on PostgreSQL) rightly takes for changes.
PG_TEST_OPTIONS := -c autovacuum=off

# Shell helper for multi-step recipes: `step NAME CMD...` runs CMD, reports a
# failure (pytest exit 5 = no tests collected counts as one) and records it in
# the array `failed` instead of stopping, so every step still runs.
define STEP_FN
failed=()
step() {
	local name=$$1 rc=0
	shift
	echo "==> $$name"
	"$$@" || rc=$$?
	if ((rc == 5)) && [[ $$name == pytest* ]]; then
		echo "!! $$name: no tests were collected (pytest exit 5)" >&2
	fi
	if ((rc != 0)); then
		echo "!! $$name failed (exit $$rc)" >&2
		failed+=("$$name")
	fi
	return 0
}
finish() {
	if (($${#failed[@]})); then
		printf '!! %s\n' "FAILED: $${failed[*]}" >&2
		exit 1
	fi
	echo "==> all passed"
}
endef

.PHONY: help venv translations messages db run test test-sqlite test-pg lint fmt bench clean

help:
	@cat <<'EOF'
	make venv          create .venv, install requirements-dev.txt (when changed) and system packages
	make translations  compile fundapp/translations/*.po to .mo
	make db            apply database migrations (flask db upgrade)
	make run           seed demo data, print demo logins, run scheduler + dev server on 127.0.0.1:5000
	make test          lint, then pytest on SQLite (all tests) and on a throwaway PostgreSQL (not e2e)
	make test-sqlite   pytest on SQLite only
	make test-pg       pytest on a throwaway PostgreSQL only (-m "not e2e")
	make lint          ruff check + ruff format --check + lint-imports (the layers)
	make fmt           ruff check --fix + ruff format
	make bench         run benchmarks against a throwaway PostgreSQL
	make clean         remove instance/*.db and caches
	EOF

venv:
	@if [[ ! -x $(PY) ]]; then
		echo "==> creating $(VENV)"
		python3 -m venv $(VENV)
	fi
	stale=0
	if [[ ! -f $(STAMP) ]]; then stale=1; fi
	for req in $(REQS); do
		if [[ $$req -nt $(STAMP) ]]; then stale=1; fi
	done
	if ((stale)); then
		echo "==> installing requirements-dev.txt into $(VENV)"
		$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
		touch $(STAMP)
	fi
	scripts/install-system-deps.sh

translations: venv
	@if [[ -d fundapp/translations ]]; then
		$(VENV)/bin/pybabel -q compile -d fundapp/translations -f
	fi

# Re-extract the Vietnamese source strings and merge them into the English catalogue.
messages: venv
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k N_ --ignore-dirs '.* .venv instance' \
		--sort-output --no-location -o fundapp/translations/messages.pot .
	$(VENV)/bin/pybabel update -i fundapp/translations/messages.pot -d fundapp/translations \
		--no-fuzzy-matching

db: venv
	@mkdir -p instance
	FLASK_APP=wsgi.py $(FLASK) db upgrade

run: venv translations db
	@export FLASK_APP=wsgi.py
	$(FLASK) demo seed --if-empty
	$(FLASK) demo logins
	if $(FLASK) jobs --help >/dev/null 2>&1; then
		$(FLASK) jobs run &
		jobs_pid=$$!
		trap 'kill $$jobs_pid 2>/dev/null || true; wait $$jobs_pid 2>/dev/null || true' EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
		echo "==> scheduler started (pid $$jobs_pid)"
	else
		echo "==> no 'flask jobs' command yet; running without the scheduler"
	fi
	$(FLASK) run --host 127.0.0.1 --port 5000

# The SQLite pass must not see a PostgreSQL URL left in the caller's environment.
test: venv translations
	@$(STEP_FN)
	step "ruff check" $(RUFF) check .
	step "ruff format --check" $(RUFF) format --check .
	step "lint-imports (layers)" $(VENV)/bin/lint-imports --no-cache
	# The two databases' suites run side by side (one per core), each into its own log,
	# then the browser tests alone, so that their timings are not squeezed.
	logs=$$(mktemp -d)
	trap 'rm -rf "$$logs"' EXIT
	echo "==> pytest (SQLite) and pytest (PostgreSQL), side by side"
	env -u FUNDAPP_TEST_DATABASE_URL $(PYTEST) $(PYTEST_ARGS) -m "not e2e" >"$$logs/sqlite" 2>&1 &
	sqlite_pid=$$!
	PG_TEST_OPTIONS="$(PG_TEST_OPTIONS)" scripts/pg-test.sh $(PYTEST) $(PYTEST_ARGS) -m "not e2e" >"$$logs/pg" 2>&1 &
	pg_pid=$$!
	step "pytest (SQLite)" wait $$sqlite_pid
	step "pytest (PostgreSQL)" wait $$pg_pid
	echo "--- SQLite"; tail -n 200 "$$logs/sqlite"
	echo "--- PostgreSQL"; tail -n 200 "$$logs/pg"
	step "pytest (SQLite, browser)" env -u FUNDAPP_TEST_DATABASE_URL $(PYTEST) $(PYTEST_ARGS) -m e2e
	finish

test-sqlite: venv translations
	@$(STEP_FN)
	step "pytest (SQLite)" env -u FUNDAPP_TEST_DATABASE_URL $(PYTEST) $(PYTEST_ARGS)
	finish

test-pg: venv translations
	@$(STEP_FN)
	step "pytest (PostgreSQL)" env PG_TEST_OPTIONS="$(PG_TEST_OPTIONS)" scripts/pg-test.sh $(PYTEST) $(PYTEST_ARGS) -m "not e2e"
	finish

lint: venv
	@$(STEP_FN)
	step "ruff check" $(RUFF) check .
	step "ruff format --check" $(RUFF) format --check .
	step "lint-imports (layers)" $(VENV)/bin/lint-imports --no-cache
	finish

fmt: venv
	@rc=0
	$(RUFF) check --fix . || rc=$$?
	$(RUFF) format .
	exit $$rc

# Close of day at 10 000 and 100 000 loans, then HTTP load on the larger book; results in
# docs/benchmarks.md. Options pass through, e.g. `make bench BENCH_ARGS="--sizes 2000"`, or
# `BENCH_ARGS="--compare 1d3b21f"` to run an older commit beside this code in the same sitting
# (see --help). The load generator (Locust) gets its own virtualenv from requirements-bench.txt.
BENCH_VENV := .venv-bench

bench: venv
	@if [[ -d benchmarks ]]; then
		if [[ " $(BENCH_ARGS) " != *" --no-http "* ]]; then
			if [[ ! -x $(BENCH_VENV)/bin/python ]]; then
				echo "==> creating $(BENCH_VENV)"
				python3 -m venv $(BENCH_VENV)
			fi
			if [[ ! -f $(BENCH_VENV)/.installed || requirements-bench.txt -nt $(BENCH_VENV)/.installed ]]; then
				echo "==> installing requirements-bench.txt into $(BENCH_VENV)"
				$(BENCH_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-bench.txt
				touch $(BENCH_VENV)/.installed
			fi
		fi
		scripts/pg-test.sh $(PY) -m benchmarks $(BENCH_ARGS)
	else
		echo "benchmarks/ is not there yet; nothing to run"
	fi

clean:
	@rm -f instance/*.db instance/*.db-journal instance/*.db-wal instance/*.db-shm
	rm -rf .pytest_cache .ruff_cache .hypothesis
	find . \( -path ./.venv -o -path ./.git \) -prune -o -type d -name __pycache__ -exec rm -rf {} +
