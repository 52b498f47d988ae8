#!/usr/bin/env bash
# Create .venv and install the package with its dev tools; re-install only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "bootstrap: Python >= 3.11 is required (found: $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi

stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ -f "$stamp" ] && [ -x .venv/bin/lane-controller ]; then
    exit 0
fi
echo "bootstrap: installing lane-controller and its dependencies into .venv (first run: a few minutes)" >&2
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
log=.venv/install.log
if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e '.[dev]'; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "bootstrap: installation failed; the whole log is in $log" >&2
    exit 1
fi
rm -f .venv/.installed-*
touch "$stamp"
