"""The `lane-controller cn …` commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from lane_controller.customs.cn_ingest import CNIngestor, ImportReport
from lane_controller.customs.cn_records import InputFormatError, iter_records
from lane_controller.domain.stations import StationTable
from lane_controller.store.cli_handlers import open_migrated_engine

EXIT_ALL_ACCEPTED = 0
EXIT_SOME_REJECTED = 1
EXIT_NOT_RUN = 2


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
    """Import a JSON/JSONL file of CN messages; 0 all accepted, 1 some rejected, 2 nothing could run."""
    try:
        stations = StationTable.from_csv(stations_file) if stations_file else StationTable.packaged()
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"cn import: station table: {exc}\n")
        return EXIT_NOT_RUN
    engine = open_migrated_engine(db_url, sys.stderr)
    if engine is None:
        return EXIT_NOT_RUN
    try:
        ingestor = CNIngestor(engine, stations)
        try:
            if str(path) == "-":
                report = ingestor.ingest_all(iter_records(sys.stdin))
            else:
                with path.open(encoding="utf-8") as stream:
                    report = ingestor.ingest_all(
                        iter_records(stream, jsonl=True if path.suffix == ".jsonl" else None)
                    )
        except (OSError, UnicodeDecodeError, InputFormatError) as exc:
            sys.stderr.write(f"cn import: {path}: {exc}\n")
            return EXIT_NOT_RUN
    finally:
        engine.dispose()
    if as_json:
        body = {
            "accepted": report.accepted,
            "rejected": report.rejected,
            "records": [o.as_dict() for o in report.outcomes],
        }
        out.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_report(report, out)
    return EXIT_ALL_ACCEPTED if report.rejected == 0 else EXIT_SOME_REJECTED
