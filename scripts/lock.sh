#!/usr/bin/env bash
# Refresh requirements.lock: resolve pyproject.toml's ranges (with the dev extra) plus the installers
# (scripts/lock-tools.in) to the newest releases that scripts/lock-constraints.txt allows, with hashes,
# then rebuild .venv from the new lock and run the whole test command. Extra arguments go to pip-compile
# (e.g. --upgrade-package numpy to move one package only; without any, every package is upgraded).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
tools=.venv-lock
if [ ! -x "$tools/bin/pip-compile" ]; then
    echo "lock: installing pip-tools into $tools" >&2
    "$PYTHON" -m venv "$tools"
    "$tools/bin/python" -m pip install --quiet 'pip-tools==7.7.0'
fi
[ $# -gt 0 ] || set -- --upgrade
CUSTOM_COMPILE_COMMAND=scripts/lock.sh "$tools/bin/pip-compile" --quiet \
    --extra dev --generate-hashes --allow-unsafe --strip-extras \
    --no-emit-index-url --no-emit-find-links \
    --constraint scripts/lock-constraints.txt \
    --output-file requirements.lock "$@" \
    pyproject.toml scripts/lock-tools.in
echo "lock: requirements.lock written; rebuilding .venv from it and running the tests" >&2
scripts/test.sh
