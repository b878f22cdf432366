#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server.
#
# Usage: scripts/pg-test.sh CMD [ARGS...]
#
# Creates a fresh cluster in a temp dir, starts it on a free port of
# 127.0.0.1, creates the database fundapp_test and runs CMD with
#   FUNDAPP_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/fundapp_test
# (plus PGHOST/PGPORT/PGUSER/PGDATABASE, so psql & co. work without arguments).
# The server is stopped and the temp dir removed however CMD ends; the exit
# status is CMD's.
#
# PG_TEST_OPTIONS adds server options (e.g. "-c autovacuum=off").
#
# Uses the real server binaries under /usr/lib/postgresql/<highest>/bin
# (override with PG_BINDIR). As root the cluster is owned by and run as the
# `postgres` user, since PostgreSQL refuses to run as root.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

die() {
    echo "pg-test: $*" >&2
    exit 1
}

# --- find the binaries -----------------------------------------------------
bindir="${PG_BINDIR:-}"
if [[ -z "$bindir" ]]; then
    bindir="$(
        for d in /usr/lib/postgresql/*/bin; do
            [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && echo "$d"
        done | sort -V | tail -n 1
    )"
fi
[[ -n "$bindir" && -x "$bindir/initdb" && -x "$bindir/pg_ctl" ]] ||
    die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin; run scripts/install-system-deps.sh"

# --- who runs the server ---------------------------------------------------
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
    id -u postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user"
    as_pg=(runuser -u postgres --)
fi

# As root the `postgres` user must be able to reach the dir, so use /tmp then.
if ((${#as_pg[@]})); then tmpbase=/tmp; else tmpbase="${TMPDIR:-/tmp}"; fi
tmpdir="$(mktemp -d "$tmpbase/fundapp-pg.XXXXXX")"
datadir="$tmpdir/data"
logfile="$tmpdir/server.log"
started=0

# Run a server binary as the server's owner, from a directory it can read.
pg() {
    (cd "$tmpdir" && "${as_pg[@]}" "$@")
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if ((started)); then
        if ! pg "$bindir/pg_ctl" -D "$datadir" -m fast -w -t 30 stop >/dev/null 2>&1; then
            pg "$bindir/pg_ctl" -D "$datadir" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
        fi
        # Last resort: kill exactly our postmaster (first line of postmaster.pid).
        if [[ -f "$datadir/postmaster.pid" ]]; then
            local pid
            pid="$(head -n 1 "$datadir/postmaster.pid" 2>/dev/null || true)"
            if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
                tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$datadir"; then
                kill -KILL "$pid" 2>/dev/null || true
                sleep 0.5
            fi
        fi
    fi
    rm -rf -- "$tmpdir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if ((${#as_pg[@]})); then
    chown postgres: "$tmpdir"
fi

# --- initdb ----------------------------------------------------------------
init_opts=(-D "$datadir" -A trust -U postgres --encoding=UTF8)
if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
    locale_opts=(--locale=C.UTF-8)
else
    locale_opts=(--no-locale)
fi
if ! pg "$bindir/initdb" "${init_opts[@]}" "${locale_opts[@]}" >"$tmpdir/initdb.log" 2>&1; then
    if [[ "${locale_opts[0]}" != --no-locale ]]; then
        rm -rf -- "$datadir"
        pg "$bindir/initdb" "${init_opts[@]}" --no-locale >"$tmpdir/initdb.log" 2>&1 ||
            { cat "$tmpdir/initdb.log" >&2; die "initdb failed"; }
    else
        cat "$tmpdir/initdb.log" >&2
        die "initdb failed"
    fi
fi

# --- start on a free port (retry if someone grabs the port meanwhile) -------
free_port() {
    local py
    py="$(command -v python3 || command -v python)" || die "python3 is needed to pick a free port"
    "$py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

port=""
started=1 # from here on, cleanup tries to stop a server
for attempt in 1 2 3; do
    port="$(free_port)"
    if pg "$bindir/pg_ctl" -D "$datadir" -l "$logfile" -w -t 60 \
        -o "-k '$tmpdir' -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${PG_TEST_OPTIONS:-}" \
        start >/dev/null 2>&1; then
        break
    fi
    if ((attempt == 3)); then
        tail -n 30 "$logfile" >&2 || true
        die "could not start PostgreSQL"
    fi
    # The postmaster may still be coming up or going down; make sure it is gone.
    pg "$bindir/pg_ctl" -D "$datadir" -m immediate -w stop >/dev/null 2>&1 || true
done

# --- database ----------------------------------------------------------------
if [[ -x "$bindir/createdb" ]]; then
    "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres fundapp_test ||
        die "createdb fundapp_test failed"
else
    "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "CREATE DATABASE fundapp_test" || die "CREATE DATABASE fundapp_test failed"
fi

version="$("$bindir/postgres" --version 2>/dev/null || true)" # "postgres (PostgreSQL) 15.x ..."
version="PostgreSQL ${version#postgres (PostgreSQL) }"
export FUNDAPP_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/fundapp_test"
export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres PGDATABASE=fundapp_test
echo "pg-test: started ${version% (*} on 127.0.0.1:$port (data in $tmpdir); FUNDAPP_TEST_DATABASE_URL=$FUNDAPP_TEST_DATABASE_URL" >&2

# --- run the command ---------------------------------------------------------
set +e
"$@"
rc=$?
set -e
exit "$rc"
