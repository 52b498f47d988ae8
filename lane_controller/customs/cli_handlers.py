"""The `lane-controller cn …` commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from lane_controller import exit_codes
from lane_controller.customs.cn_ingest import CNIngestor, ImportReport, ImportSource
from lane_controller.customs.cn_records import InputFormatError, RecordSource
from lane_controller.customs.seal_confirmation import (
    ConfirmationRefused,
    check_officer_id,
    confirm_seal,
    read_photo,
)
from lane_controller.domain.stations import StationTable
from lane_controller.store.cli_handlers import open_migrated_engine


def _print_report(report: ImportReport, out: TextIO) -> None:
    for outcome in report.outcomes:
        cn = outcome.cn_number or "-"
        if outcome.accepted:
            detail = f"{outcome.outcome.value if outcome.outcome else ''} v{outcome.version}"
            out.write(f"{outcome.where:<12} {cn:<20} accepted  {detail}\n")
        else:
            for index, error in enumerate(outcome.errors):
                lead = f"{outcome.where:<12} {cn:<20} rejected " if index == 0 else " " * 43
                out.write(f"{lead} {error}\n")
    out.write(f"accepted {report.accepted}, rejected {report.rejected} (of {len(report.outcomes)} records)\n")


def run_cn_import(
    db_url: str | None, path: Path, out: TextIO, *, as_json: bool = False, stations_file: Path | None = None
) -> int:
    """Import a JSON/JSONL file of CN messages. Exit 0 all accepted, 1 some rejected, 2 the input or a
    station table is unusable (nothing stored), 3 the database cannot be used, 4 no records at all."""
    try:
        stations = StationTable.from_csv(stations_file) if stations_file else StationTable.packaged()
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"cn import: station table: {exc}\n")
        return exit_codes.USAGE
    stdin = str(path) == "-"
    if not stdin and not path.is_file():
        why = "no such file" if not path.exists() else "not a regular file"
        sys.stderr.write(f"cn import: {path}: {why}\n")
        return exit_codes.USAGE
    engine = open_migrated_engine(db_url, sys.stderr)
    if engine is None:
        return exit_codes.ENVIRONMENT
    try:
        ingestor = CNIngestor(engine, stations)
        try:
            with sys.stdin.buffer if stdin else path.open("rb") as stream:
                # .jsonl is JSON Lines, .json one document (decided whole); anything else is detected
                jsonl = {".jsonl": True, ".json": False}.get(path.suffix.lower())
                records = RecordSource(stream, jsonl=jsonl)
                source = ImportSource(str(path), lambda: records.sha256)
                report = ingestor.ingest_all(records.records(), source)
        except (OSError, InputFormatError) as exc:
            sys.stderr.write(f"cn import: {path}: {exc}; nothing imported\n")
            return exit_codes.USAGE
    finally:
        engine.dispose()
    if not report.outcomes:
        sys.stderr.write(f"cn import: {path}: no CN records in it; nothing to do\n")
        return exit_codes.NOTHING_TO_DO
    if as_json:
        body = {
            "accepted": report.accepted,
            "rejected": report.rejected,
            "records": [o.as_dict() for o in report.outcomes],
        }
        out.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_report(report, out)
    return exit_codes.OK if report.rejected == 0 else exit_codes.FINDINGS


def run_cn_confirm_seal(
    db_url: str | None, cn_number: str, *, officer_id: str, photo: Path, evidence_dir: Path, out: TextIO
) -> int:
    """Record a dedicated officer's seal confirmation. Exit 0 recorded, 1 refused by the rules (unknown
    CN, nothing to confirm, already confirmed), 2 an unusable photo, 3 the database cannot be used."""
    try:
        check_officer_id(officer_id)
        evidence = read_photo(photo)
    except ConfirmationRefused as exc:
        sys.stderr.write(f"cn confirm-seal: {exc}\n")
        return exit_codes.USAGE
    engine = open_migrated_engine(db_url, sys.stderr)
    if engine is None:
        return exit_codes.ENVIRONMENT
    try:
        done = confirm_seal(engine, cn_number, officer_id, evidence, evidence_dir)
    except ConfirmationRefused as exc:
        sys.stderr.write(f"cn confirm-seal: {exc}\n")
        return exit_codes.FINDINGS
    finally:
        engine.dispose()
    out.write(
        f"CN {done.cn_number}: vehicle seal confirmed by officer {done.officer_id} at "
        f"{done.at.isoformat(timespec='seconds')}; photo {done.photo_sha256} kept as {done.photo_path}\n"
    )
    return exit_codes.OK
