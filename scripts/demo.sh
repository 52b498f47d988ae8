#!/usr/bin/env bash
# The main job. Today it demonstrates the foundation on the embedded defaults (a SQLite file):
# schema migration, CN import with per-record validation, the hash-chained audit log and its check.
# The simulated lane (PLC, readers, cameras with real OCR) arrives with the lane, PLC, reader and
# vision issues; this script will run it then.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

if [ -z "${LANE_CONTROLLER_DB:-}" ]; then
    rm -f var/demo/lane-controller.db var/demo/lane-controller.db-wal var/demo/lane-controller.db-shm
    export LANE_CONTROLLER_DB=sqlite:///var/demo/lane-controller.db
fi
lc=.venv/bin/lane-controller

cat <<'TXT'
lane-controller demo (foundation)
  exists now : customs domain rules, CN import, SQLite/PostgreSQL store, hash-chained audit log, CLI
  not yet    : lane state machine, Modbus barrier PLC, serial RFID/e-seal readers, camera OCR, web page,
               hardware simulator (see the open issues)
TXT
echo; echo "== database: $LANE_CONTROLLER_DB"
$lc db upgrade
echo; echo "== import examples/cn-messages.jsonl (line 4 carries a wrong check digit on purpose)"
$lc cn import examples/cn-messages.jsonl || [ $? -eq 1 ]
echo; echo "== audit verify"
$lc audit verify
echo; echo "== last audit entries (CSV export)"
$lc audit export --format csv | tail -n 4 | cut -c1-160
