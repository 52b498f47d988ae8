"""`audit verify --file`: an auditor checks an export offline, without the store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lane_controller.cli import main
from lane_controller.store.audit import AuditEvent, AuditLog

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture
def filled(session_factory, db_url) -> str:
    log = AuditLog(session_factory)
    for i in range(1, 11):
        event = AuditEvent(
            "lane.read", {"i": i, "text": "運送單"}, lane_id=f"L{i % 2}", actor="op" if i % 3 else None
        )
        log.append(event, at=T0 + timedelta(seconds=i))
    return db_url


def export(db_url: str, path: Path, fmt: str, capsys, *extra: str) -> Path:
    assert main(["--db", db_url, "audit", "export", "--format", fmt, *extra]) == 0
    path.write_text(capsys.readouterr().out, encoding="utf-8")
    return path


def verify_file(path: Path, capsys, *extra: str) -> tuple[int, str]:
    status = main(["audit", "verify", "--file", str(path), *extra])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_full_export_verifies_offline(filled, tmp_path, capsys, fmt):
    path = export(filled, tmp_path / f"log.{fmt}", fmt, capsys)
    status, out = verify_file(path, capsys)
    assert status == 0
    assert out.startswith("OK: 10 entries, last seq 10")


def test_altered_line_is_found(filled, tmp_path, capsys):
    path = export(filled, tmp_path / "log.jsonl", "jsonl", capsys)
    lines = path.read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[3])
    entry["payload"]["i"] = 99
    lines[3] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, out = verify_file(path, capsys)
    assert status == 1
    assert out.startswith("FAIL at seq 4: altered entry")
    assert "[line 4]" in out


def test_deleted_line_is_a_missing_entry_unless_partial(filled, tmp_path, capsys):
    path = export(filled, tmp_path / "log.csv", "csv", capsys)
    lines = path.read_text(encoding="utf-8").splitlines()
    del lines[6]  # header + entries: line index 6 is seq 6
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, out = verify_file(path, capsys)
    assert status == 1
    assert out.startswith("FAIL at seq 6: missing entry")
    status, out = verify_file(path, capsys, "--partial")
    assert status == 0
    assert "1 gaps" in out


def test_swapped_lines_are_found(filled, tmp_path, capsys):
    path = export(filled, tmp_path / "log.jsonl", "jsonl", capsys)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2], lines[3] = lines[3], lines[2]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, out = verify_file(path, capsys)
    assert status == 1
    assert out.startswith("FAIL at seq 3: missing entry")


def test_lane_filtered_export_verifies_as_partial(filled, tmp_path, capsys):
    path = export(filled, tmp_path / "lane.jsonl", "jsonl", capsys, "--lane", "L1")
    status, out = verify_file(path, capsys, "--partial")
    assert status == 0
    assert out.startswith("OK: 5 entries")


def test_anchor_checked_against_the_file(filled, tmp_path, capsys):
    path = export(filled, tmp_path / "log.jsonl", "jsonl", capsys)
    last = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
    assert verify_file(path, capsys, "--anchor", f"10:{last['entry_hash']}")[0] == 0
    status, out = verify_file(path, capsys, "--anchor", f"10:{'0' * 64}")
    assert status == 1
    assert "anchor mismatch" in out


def test_not_an_export_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    status, out = verify_file(path, capsys)
    assert status == 2
    assert "header must be seq,recorded_at" in out
