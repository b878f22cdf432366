#!/usr/bin/env bash
# Install the system packages fundapp needs for development and tests:
#   PostgreSQL server (throwaway test servers, see scripts/pg-test.sh),
#   HarfBuzz subset + DejaVu fonts (WeasyPrint PDFs), poppler-utils (pdftotext
#   in PDF tests), Chromium + chromedriver (browser tests).
#
# Does nothing when everything is already there. As root it installs what is
# missing with apt-get; otherwise it prints what to install and, only when
# called with --require, exits non-zero.
#
# Usage: scripts/install-system-deps.sh [--require]
set -euo pipefail

require=0
for arg in "$@"; do
    case "$arg" in
        --require) require=1 ;;
        -h | --help)
            sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "install-system-deps: unknown argument: $arg" >&2
            exit 2
            ;;
    esac
done

PACKAGES=(postgresql libharfbuzz-subset0 fonts-dejavu-core poppler-utils chromium chromium-driver)

# Prints one "what: package" line per missing tool; prints nothing if all present.
missing_tools() {
    [[ -x /usr/bin/chromium ]] || echo "chromium browser (/usr/bin/chromium): chromium chromium-driver"
    command -v pdftotext >/dev/null 2>&1 || echo "pdftotext: poppler-utils"
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || echo "PostgreSQL server (/usr/lib/postgresql/*/bin/initdb): postgresql"
    { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null || true; } |
        grep -q 'libharfbuzz-subset\.so\.0' || echo "libharfbuzz-subset.so.0: libharfbuzz-subset0"
    return 0
}

missing="$(missing_tools)"
if [[ -z "$missing" ]]; then
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    {
        echo "install-system-deps: these system tools are missing:"
        sed 's/^/    /' <<<"$missing"
        echo "Install them as root with:"
        echo "    sudo apt-get update && sudo apt-get install -y ${PACKAGES[*]}"
    } >&2
    if ((require)); then exit 1; fi
    exit 0
fi

echo "install-system-deps: installing missing system packages:" >&2
sed 's/^/    /' <<<"$missing" >&2

# Another apt/dpkg run may hold the lock (e.g. a provisioning job in the
# background): wait up to 10 minutes for it instead of failing.
apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if apt-get "${apt_opts[@]}" -qq update >"$log" 2>&1 &&
    apt-get "${apt_opts[@]}" -qq install -y "${PACKAGES[@]}" >>"$log" 2>&1; then
    :
else
    echo "install-system-deps: apt-get failed; its output:" >&2
    tail -n 40 "$log" >&2
fi

missing="$(missing_tools)"
if [[ -n "$missing" ]]; then
    echo "install-system-deps: still missing after apt-get:" >&2
    sed 's/^/    /' <<<"$missing" >&2
    if ((require)); then exit 1; fi
    exit 0
fi
echo "install-system-deps: system packages installed." >&2
