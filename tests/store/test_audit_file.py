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
    assert out.startswith("FAIL at seq 3: reordered entry (stands after seq 4) [line 4]")


def test_a_line_moved_far_is_reordered_and_a_line_dropped_is_missing(filled, tmp_path, capsys):
    path = export(filled, tmp_path / "log.jsonl", "jsonl", capsys)
    lines = path.read_text(encoding="utf-8").splitlines()
    moved = [*lines[:2], *lines[3:8], lines[2], *lines[8:]]
    path.write_text("\n".join(moved) + "\n", encoding="utf-8")
    assert verify_file(path, capsys)[1].startswith("FAIL at seq 3: reordered entry (stands after seq 8)")
    path.write_text("\n".join(lines[:2] + lines[3:]) + "\n", encoding="utf-8")
    assert verify_file(path, capsys)[1].startswith("FAIL at seq 3: missing entry")


def test_a_dropped_tail_shows_in_the_head_and_fails_a_later_anchor(filled, tmp_path, capsys):
    path = export(filled, tmp_path / "log.jsonl", "jsonl", capsys)
    lines = path.read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[-1])
    path.write_text("\n".join(lines[:-3]) + "\n", encoding="utf-8")
    status, out = verify_file(path, capsys)
    assert status == 0  # the entries it holds are sound...
    seven = json.loads(lines[6])["entry_hash"]
    assert f"compare the head 7:{seven} with the one published" in out  # ...and it says where it ends
    status, out = verify_file(path, capsys, "--anchor", f"10:{head['entry_hash']}")
    assert status == 1
    assert "FAIL at seq 10: anchor mismatch" in out and "no such entry" in out


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_empty_file_verifies_nothing(tmp_path, capsys, fmt):
    path = tmp_path / f"log.{fmt}"
    path.write_text(
        ""
        if fmt == "jsonl"
        else "seq,recorded_at,lane_id,session_id,kind,actor,payload,prev_hash,entry_hash\n"
    )
    status, out = verify_file(path, capsys)
    assert status == 1
    assert "the file holds no entries" in out


def _edit_line(path: Path, index: int, edit) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[index] = edit(lines[index])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        # a forged first value of a duplicate key: json.loads would keep the genuine last one
        (lambda line: line.replace('"payload":{', '"payload":{"i":0,', 1), "duplicate key 'i'"),
        (lambda line: line.replace('{"actor"', '{"seq":4,"actor"', 1), "duplicate key 'seq'"),
        (lambda line: line.replace('"seq":4', '"seq":"4"'), "seq '4' is not a whole number"),
        (lambda line: line.replace('"seq":4', '"seq":4.0'), "seq 4.0 is not a whole number"),
        (lambda line: line.replace('"seq":4', '"seq":true'), "seq True is not a whole number"),
        (
            lambda line: line.replace("T08:00:04.000000+00:00", "T16:00:04.000000+08:00"),
            "is not a UTC time with microseconds",
        ),
        (lambda line: line.replace('"seq":4,', '"seq": 4,'), "not in the exporter's canonical form"),
    ],
)
def test_an_entry_not_in_the_exported_form_is_altered_even_when_its_hash_holds(
    filled, tmp_path, capsys, edit, reason
):
    path = export(filled, tmp_path / "log.jsonl", "jsonl", capsys)
    head = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
    _edit_line(path, 3, edit)
    status, out = verify_file(path, capsys, "--anchor", f"10:{head['entry_hash']}")
    assert status == 1, out
    assert out.startswith("FAIL at seq 4: altered entry"), out
    assert reason in out and "[line 4]" in out, out


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda line: line.replace("4,", "04,", 1), "seq '04' is not a whole number"),
        (lambda line: line.replace('{""i"":4', '{""i"":0,""i"":4', 1), "duplicate key 'i'"),
        (lambda line: line.replace("+00:00", "Z", 1), "is not a UTC time with microseconds"),
    ],
)
def test_a_csv_cell_not_in_the_exported_form_is_altered(filled, tmp_path, capsys, edit, reason):
    path = export(filled, tmp_path / "log.csv", "csv", capsys)
    _edit_line(path, 4, edit)  # the header is line 1: index 4 is seq 4
    status, out = verify_file(path, capsys)
    assert status == 1, out
    assert out.startswith("FAIL at seq 4: altered entry") and reason in out, out


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


def test_a_csv_export_with_a_large_payload_verifies(session_factory, db_url, tmp_path, capsys):
    AuditLog(session_factory).append(AuditEvent("cn.rejected", {"text": "x" * 300_000}), at=T0)
    path = export(db_url, tmp_path / "log.csv", "csv", capsys)
    status, out = verify_file(path, capsys)
    assert status == 0, out


def test_odd_lines_are_named_once_and_a_repeated_line_is_a_duplicate(filled, tmp_path, capsys):
    path = export(filled, tmp_path / "log.jsonl", "jsonl", capsys)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines[:4], "[" * 100_000 + "]" * 100_000, *lines[4:]]) + "\n")
    status, out = verify_file(path, capsys)
    assert status == 1 and "altered entry (nested too deeply" in out and "[line 5]" in out
    assert "None" not in out and out.count("[line") == 1
    path.write_text("\n".join([*lines[:4], lines[3], *lines[4:]]) + "\n", encoding="utf-8")
    assert verify_file(path, capsys)[1].startswith("FAIL at seq 4: duplicate entry")


def test_a_since_export_is_checked_for_gaps_with_tail(filled, tmp_path, capsys):
    path = export(filled, tmp_path / "since.jsonl", "jsonl", capsys, "--since", "2026-11-26T08:00:04+00:00")
    assert verify_file(path, capsys, "--tail")[1].startswith("OK: 7 entries, last seq 10")
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:2] + lines[3:]) + "\n", encoding="utf-8")
    status, out = verify_file(path, capsys, "--tail")
    assert status == 1 and out.startswith("FAIL at seq 6: missing entry")
    assert verify_file(path, capsys)[0] == 1  # without --tail it must start at seq 1


def test_an_empty_anchor_file_is_not_a_pass(filled, tmp_path, capsys):
    path = export(filled, tmp_path / "log.jsonl", "jsonl", capsys)
    empty = tmp_path / "anchors.txt"
    empty.write_text("# nothing kept yet\n", encoding="utf-8")
    status, out = verify_file(path, capsys, "--anchor-file", str(empty))
    assert status == 2 and "holds no anchors" in out


def test_an_anchor_file_that_cannot_be_written_still_shows_the_anchor(filled, tmp_path, capsys):
    assert main(["--db", filled, "audit", "anchor", "--file", str(tmp_path)]) == 2  # a folder
    captured = capsys.readouterr()
    assert captured.out.startswith("10:") and "cannot append to" in captured.err


def test_an_export_to_a_full_disk_is_an_environment_error(filled):
    import subprocess
    import sys

    with Path("/dev/full").open("wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "lane_controller.cli", "--db", filled, "audit", "export"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=60,
        )
    assert done.returncode == 3
    assert done.stderr == "lane-controller: cannot read or write: No space left on device\n"
