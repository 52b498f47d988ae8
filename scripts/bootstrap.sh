#!/usr/bin/env bash
# Create .venv with exactly the packages of requirements.lock (hash-checked), then the project itself as
# an editable install. The venv is rebuilt from scratch whenever the lock or pyproject.toml changed, so it
# never keeps a package the lock no longer names. The lock is for CPython 3.11 on Linux x86_64.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "bootstrap: Python >= 3.11 is required (found: $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi

stamp=.venv/.installed-$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ -x .venv/bin/lane-controller ]; then
    exit 0
fi
echo "bootstrap: installing lane-controller and the locked packages into .venv (first run: a few minutes)" >&2
rm -rf .venv
"$PYTHON" -m venv .venv
log=.venv/install.log
if ! {
    .venv/bin/python -m pip install --require-hashes --no-deps -r requirements.lock &&
        .venv/bin/python -m pip install --no-deps --no-build-isolation -e . &&
        .venv/bin/python -m pip check
} >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "bootstrap: installation failed; the whole log is in $log" >&2
    exit 1
fi
touch "$stamp"
