#!/usr/bin/env bash
# Sets up everything the tests need and runs the whole suite: lint, types, and pytest on SQLite and
# PostgreSQL, including real SIP calls (Kamailio + SIPp) and pages in Chromium. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "test: PostgreSQL is not answering on 127.0.0.1:5432, trying to start it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 20); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.5; done
fi

echo "== ruff"; .venv/bin/ruff check src tests bench && .venv/bin/ruff format --check src tests bench
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; exec .venv/bin/pytest "$@"
