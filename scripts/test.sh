#!/usr/bin/env bash
# The test command: lint, type-check, architecture contracts, then the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/domain -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/system-deps.sh || echo "test: mbpoll could not be installed; the tests that need it skip" >&2

export LANE_CONTROLLER_TEST_PG_URL=${LANE_CONTROLLER_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
if [ "${LANE_CONTROLLER_SKIP_PG:-0}" != 1 ]; then
    if ! .venv/bin/python - <<'PY'
import os, sys
from sqlalchemy import create_engine, text
url = os.environ["LANE_CONTROLLER_TEST_PG_URL"]
try:
    with create_engine(url).connect() as conn:
        conn.execute(text("select 1"))
except Exception as exc:  # noqa: BLE001
    sys.exit(f"test: PostgreSQL is not reachable at {url}: {exc}\n"
             "      start it or set LANE_CONTROLLER_SKIP_PG=1 to run SQLite only")
PY
    then exit 1; fi
fi

echo "== ruff" && .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy --strict" && .venv/bin/mypy
echo "== import contracts" && .venv/bin/lint-imports
echo "== pytest" && .venv/bin/pytest "$@"
