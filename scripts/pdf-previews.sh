#!/usr/bin/env bash
# Regenerate the previews of the printed documents from a fresh demo fund.
#
# Usage: scripts/pdf-previews.sh [OUT_DIR]      (default: instance/previews)
#
# Seeds the demo fund into a throwaway SQLite database, then `flask documents previews`
# writes one of each loan document as PDF and the first page of each as PNG (pdftoppm,
# 60 dpi), to check the layout and the Vietnamese diacritics by eye.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-instance/previews}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

export FLASK_APP=wsgi.py
export FUNDAPP_CONFIG=development
export DATABASE_URL="sqlite:///$tmp/previews.db"
flask=.venv/bin/flask

"$flask" db upgrade >/dev/null 2>&1
"$flask" demo seed >/dev/null
"$flask" documents previews --out "$out"
