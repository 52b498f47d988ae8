#!/usr/bin/env bash
# The main job. Today it demonstrates on the embedded defaults (a SQLite file): schema migration, CN
# import with per-record validation, one exit truck through the lane state machine on device fakes, and
# the hash-chained audit log and its check. The simulated lane over real transports (PLC, readers,
# cameras with real OCR) arrives with the PLC, reader and vision issues; this script will run it then.
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
  exists now : customs domain rules, CN import, SQLite/PostgreSQL store, hash-chained audit log, CLI,
               lane state machine and runner (driven here by in-memory device fakes)
  not yet    : Modbus barrier PLC, camera OCR, web page, hardware simulator over real transports
               (see the open issues)
TXT
echo; echo "== database: $LANE_CONTROLLER_DB"
$lc db upgrade
echo; echo "== import examples/cn-messages.jsonl (line 4 carries a wrong check digit on purpose)"
$lc cn import examples/cn-messages.jsonl || [ $? -eq 1 ]
echo; echo "== one exit truck through the lane state machine (device fakes, real store)"
$lc demo-lane
echo; echo "== audit verify"
$lc audit verify
echo; echo "== last audit entries (CSV export)"
$lc audit export --format csv | tail -n 6 | cut -c1-160
