"""Committed audit appends per second (each append its own transaction) on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_audit.py [--count 3000] [--writers 8] [--pg-url URL | --no-pg]

SQLite runs on a file in a temporary directory, once per ``synchronous`` level; PostgreSQL on a
throw-away schema of ``--pg-url`` (default ``$LANE_CONTROLLER_TEST_PG_URL`` or the local test server).
Target: >= 1,000 committed appends/s on SQLite with the default settings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lane_controller.store.audit import AuditEvent, AuditLog, verify_chain
from lane_controller.store.db import DEFAULT_SQLITE_SYNCHRONOUS, create_engine_for, make_session_factory
from lane_controller.store.migrate import upgrade

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _event(i: int, writer: int = 0) -> AuditEvent:
    return AuditEvent(
        kind="plate.read",
        payload={"i": i, "plate": "KLA-1234", "confidence": 0.973, "camera": "exit-1-front", "w": writer},
        lane_id="L1",
        session_id=str(uuid.UUID(int=i)),
        actor="lane-runner",
    )


def _run(url: str, count: int, writers: int, **engine_kwargs: object) -> tuple[float, float]:
    engine = create_engine_for(url, **engine_kwargs)  # type: ignore[arg-type]
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        log = AuditLog(factory)
        for i in range(50):  # warm-up: pool, statement cache
            log.append(_event(i))

        start = time.perf_counter()
        for i in range(count):
            log.append(_event(i))
        sequential = count / (time.perf_counter() - start)

        per_writer = max(1, count // writers)
        barrier = threading.Barrier(writers + 1)

        def work(w: int) -> None:
            barrier.wait()
            for i in range(per_writer):
                log.append(_event(i, w))

        threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        barrier.wait()
        start = time.perf_counter()
        for t in threads:
            t.join()
        concurrent = per_writer * writers / (time.perf_counter() - start)

        with factory() as session:
            report = verify_chain(session)
        if not report.ok:
            raise SystemExit(f"chain broken after benchmark: {report}")
        return sequential, concurrent
    finally:
        engine.dispose()


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def _line(label: str, sequential: float, concurrent: float, writers: int) -> str:
    return (
        f"{label:<34} {sequential:>9,.0f} appends/s sequential"
        f"   {concurrent:>9,.0f} appends/s with {writers} writers"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--pg-url", default=os.environ.get("LANE_CONTROLLER_TEST_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--repeat", type=int, default=1, help="runs per database; the median is printed")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()

    levels = [DEFAULT_SQLITE_SYNCHRONOUS] + [s for s in ("NORMAL", "FULL") if s != DEFAULT_SQLITE_SYNCHRONOUS]
    for level in levels:
        runs = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
                url = f"sqlite:///{Path(tmp) / 'lane.db'}"
                runs.append(_run(url, args.count, args.writers, sqlite_synchronous=level))
        default = " (default)" if level == DEFAULT_SQLITE_SYNCHRONOUS else ""
        print(_line(f"SQLite synchronous={level}{default}", *_median(runs), args.writers), flush=True)

    if args.no_pg:
        return
    schema = f"bench_audit_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg_url, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        print(f"PostgreSQL: skipped, {args.pg_url} unreachable ({type(exc).__name__})")
        admin.dispose()
        return
    try:
        pg_url = (
            make_url(args.pg_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
        runs = [_run(pg_url, args.count, args.writers) for _ in range(args.repeat)]
        print(_line("PostgreSQL", *_median(runs), args.writers), flush=True)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
