"""CN imports per second (each record validated and committed on its own) on SQLite and PostgreSQL.

Run: .venv/bin/python bench/bench_cn_import.py [--count N] [--skip-pg]
Target (issue 2): >= 500 CN/s on SQLite on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from stdnum import iso6346

from lane_controller.customs.cn_ingest import CNIngestor
from lane_controller.customs.cn_records import RawRecord
from lane_controller.domain.stations import StationTable
from lane_controller.store.db import SqliteSynchronous, create_engine_for
from lane_controller.store.migrate import upgrade

PG_URL = os.environ.get("LANE_CONTROLLER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def records(count: int) -> list[RawRecord]:
    out = []
    for i in range(count):
        base = f"BNCU{i:06d}"
        out.append(
            RawRecord(
                f"record {i + 1}",
                {
                    "function": "9",
                    "cn_number": f"CNB{i:08d}",
                    "direction": "exit",
                    "origin_site_code": "KHC1",
                    "destination_station_code": "KELC",
                    "containers": [base + iso6346.calc_check_digit(base)],
                    "tractor_plate": f"KL{chr(65 + i % 26)}-{i % 10000:04d}",
                    "trailer_plate": "AB-1234",
                    "transport_tool_category": "1",
                    "seals": [{"seal_id": f"ES{i:08d}", "seal_type": "electronic"}],
                    "release_instruction_code": "1",
                    "issued_at": "2026-11-26T09:30:00+08:00",
                },
            )
        )
    return out


def measure(url: str, count: int, sqlite_synchronous: SqliteSynchronous = "FULL") -> float:
    engine = create_engine_for(url, sqlite_synchronous=sqlite_synchronous)
    upgrade(engine)
    ingestor = CNIngestor(engine, StationTable.packaged())
    batch = records(count)
    started = time.perf_counter()
    report = ingestor.ingest_all(batch)
    elapsed = time.perf_counter() - started
    engine.dispose()
    if report.rejected:
        raise SystemExit(f"unexpected rejections: {report.outcomes[0]}")
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per database; the median is printed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        modes: tuple[SqliteSynchronous, ...] = ("FULL", "NORMAL")
        for synchronous in modes:
            rates = [
                measure(f"sqlite:///{Path(tmp) / f'{synchronous}{run}'}.db", args.count, synchronous)
                for run in range(args.repeat)
            ]
            print(
                f"cn import  sqlite synchronous={synchronous:<6} {statistics.median(rates):6.0f} CN/s "
                f"(median of {args.repeat}: {', '.join(f'{r:.0f}' for r in rates)}; {args.count} records, "
                "one transaction each; target >= 500)"
            )
    if not args.skip_pg:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            rate = measure(f"{PG_URL}?options=-csearch_path%3D{schema}", args.count)
            print(
                f"cn import  postgresql              {rate:6.0f} CN/s "
                f"({args.count} records, one transaction each)"
            )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
