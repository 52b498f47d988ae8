"""Export (JSONL/CSV, filters) re-verifiable offline, and the db/audit command handlers."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from lane_controller.store.audit import GENESIS_HASH, AuditEvent, AuditLog, export_entries
from lane_controller.store.cli_handlers import run_audit_export, run_audit_verify, run_db_upgrade
from lane_controller.store.models import AuditEntry

T0 = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


def _fill(session_factory: sessionmaker[Session], n: int = 30) -> None:
    log = AuditLog(session_factory)
    for i in range(1, n + 1):
        log.append(
            AuditEvent(
                kind="seal.status",
                payload={"i": i, "seal": f"ES{i:04d}", "text": '封條 ok, "quoted"\nnew line'},
                lane_id="L1" if i % 3 else "L2",
                actor=None if i % 5 else "officer",
                session_id=None if i % 2 else f"s-{i}",
            ),
            at=T0 + timedelta(minutes=i),
        )


def _offline_hash(entry: dict[str, Any]) -> str:
    """What an auditor does with an exported entry: drop the hashes, re-serialise, hash."""
    body = {k: v for k, v in entry.items() if k not in {"prev_hash", "entry_hash"}}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((entry["prev_hash"] + text).encode("utf-8")).hexdigest()


def _parse(fmt: str, text: str) -> list[dict[str, Any]]:
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    rows = list(csv.DictReader(io.StringIO(text)))
    entries = []
    for row in rows:
        entry: dict[str, Any] = {k: (v if v != "" else None) for k, v in row.items()}
        entry["seq"] = int(row["seq"])
        entry["payload"] = json.loads(row["payload"])
        entries.append(entry)
    return entries


def _check_offline(entries: list[dict[str, Any]], *, contiguous: bool) -> None:
    for entry in entries:
        assert _offline_hash(entry) == entry["entry_hash"], entry["seq"]
    if contiguous:
        prev = GENESIS_HASH
        for expected_seq, entry in enumerate(entries, start=1):
            assert entry["seq"] == expected_seq
            assert entry["prev_hash"] == prev
            prev = entry["entry_hash"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_round_trip(session_factory: sessionmaker[Session], fmt: str) -> None:
    _fill(session_factory)
    out = io.StringIO()
    with session_factory() as session:
        count = export_entries(session, fmt, out)  # type: ignore[arg-type]
    assert count == 30
    entries = _parse(fmt, out.getvalue())
    assert len(entries) == 30
    _check_offline(entries, contiguous=True)
    assert entries[4]["actor"] == "officer"
    assert entries[0]["payload"]["text"] == '封條 ok, "quoted"\nnew line'
    assert entries[0]["recorded_at"] == "2025-06-01T08:01:00.000000+00:00"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_filters(session_factory: sessionmaker[Session], db_url: str, fmt: str) -> None:
    _fill(session_factory)
    since = T0 + timedelta(minutes=10)
    out = io.StringIO()
    with session_factory() as session:
        count = export_entries(session, fmt, out, since=since, lane_id="L2")  # type: ignore[arg-type]
    entries = _parse(fmt, out.getvalue())
    assert [e["seq"] for e in entries] == [12, 15, 18, 21, 24, 27, 30]
    assert count == 7
    _check_offline(entries, contiguous=False)

    # the command handler: --since given as text (no zone means UTC), --lane
    cli_out = io.StringIO()
    assert run_audit_export(db_url, fmt, "2025-06-01T08:10:00", "L2", cli_out) == 0
    assert _parse(fmt, cli_out.getvalue()) == entries
    cli_out = io.StringIO()
    taipei_since = datetime(2025, 6, 1, 16, 25, tzinfo=timezone(timedelta(hours=8)))  # 08:25Z
    assert run_audit_export(db_url, fmt, taipei_since, None, cli_out) == 0
    assert [e["seq"] for e in _parse(fmt, cli_out.getvalue())] == list(range(25, 31))


def test_export_handler_rejects_bad_arguments(db_url: str, session_factory: sessionmaker[Session]) -> None:
    err = io.StringIO()
    assert run_audit_export(db_url, "xml", None, None, io.StringIO(), err=err) == 2
    assert "unknown format" in err.getvalue()
    err = io.StringIO()
    assert run_audit_export(db_url, "jsonl", "last tuesday", None, io.StringIO(), err=err) == 2
    assert "ISO 8601" in err.getvalue()


def test_verify_handler(db_url: str, session_factory: sessionmaker[Session]) -> None:
    _fill(session_factory, 20)
    out = io.StringIO()
    assert run_audit_verify(db_url, out) == 0
    assert out.getvalue().startswith("OK: 20 entries, chain head ")
    with session_factory.begin() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 17).values(kind="seal.statuz"))
    out = io.StringIO()
    assert run_audit_verify(db_url, out) == 1
    assert out.getvalue().startswith("FAIL at seq 17: altered entry (stored hash ")
    assert ", computed " in out.getvalue()


def test_upgrade_handler(db_url: str) -> None:
    out = io.StringIO()
    assert run_db_upgrade(db_url, out) == 0
    assert "upgraded from empty to revision 0001" in out.getvalue()
    out = io.StringIO()
    assert run_db_upgrade(db_url, out) == 0
    assert "already at revision 0001" in out.getvalue()
    out = io.StringIO()
    assert run_audit_verify(db_url, out) == 0
    assert out.getvalue().strip() == f"OK: 0 entries, chain head {GENESIS_HASH}"


def test_handlers_refuse_a_missing_or_unmigrated_database(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "lane.db"
    err = io.StringIO()
    assert run_audit_verify(f"sqlite:///{path}", io.StringIO(), err=err) == 3
    assert "no database" in err.getvalue()
    assert not path.parent.exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    err = io.StringIO()
    assert run_audit_export(f"sqlite:///{empty}", "csv", None, None, io.StringIO(), err=err) == 3
    assert "revision none" in err.getvalue()


def test_command_line_wiring(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lane_controller.cli import main

    (tmp_path / "var").mkdir()
    url = f"sqlite:///{tmp_path / 'var' / 'lane.db'}"
    assert main(["--db", url, "db", "upgrade"]) == 0
    assert main(["--db", url, "audit", "verify"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"OK: 0 entries, chain head {GENESIS_HASH}"
    assert main(["--db", url, "audit", "export", "--format", "csv", "--lane", "L1"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "seq,recorded_at,lane_id,session_id,kind,actor,payload,prev_hash,entry_hash"
    ]
