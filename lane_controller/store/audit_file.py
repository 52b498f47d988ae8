"""Offline verification of an audit export (JSONL or CSV), for auditors who hold the file but not the store.

Each entry's hash is recomputed from its own fields; consecutive seq numbers must link
(`prev_hash` = the previous entry's hash). By default the file must be the whole log: it starts at seq 1
on the genesis hash and has no gaps, so a deleted line is found. A filtered export (`--since`, `--lane`)
has gaps by design: checked with `complete=False`, only the links between consecutive entries are
checked across it, and `gaps` says how many links could not be.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from lane_controller.store.audit import (
    EXPORT_FIELDS,
    Anchor,
    ExportFormat,
    VerifyProblem,
    canonical_entry_json,
    canonical_json,
    compute_entry_hash,
)
from lane_controller.store.models import GENESIS_HASH


@dataclass(frozen=True, slots=True)
class FileVerifyReport:
    """Result of checking an export: entries read, unchecked links across gaps, the first problem."""

    entries: int
    gaps: int
    last_seq: int | None
    last_hash: str | None
    problem: VerifyProblem | None = None
    line: int | None = None

    @property
    def ok(self) -> bool:
        """True when every entry and every checkable link holds."""
        return self.problem is None

    def __str__(self) -> str:
        if self.problem is not None:
            return f"{self.problem} [line {self.line}]"
        gaps = f", {self.gaps} gaps (filtered export: links across them not checked)" if self.gaps else ""
        return f"OK: {self.entries} entries, last seq {self.last_seq}, hash {self.last_hash}{gaps}"


class ExportFormatError(ValueError):
    """The file is not an audit export of the given format; the message names the line."""


def _jsonl_entries(stream: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    for line_no, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ExportFormatError(f"line {line_no}: not JSON ({exc.msg})") from exc
        if not isinstance(entry, dict) or set(entry) != set(EXPORT_FIELDS):
            raise ExportFormatError(
                f"line {line_no}: expected an object with fields {', '.join(EXPORT_FIELDS)}"
            )
        entry["payload_text"] = canonical_json(entry["payload"])
        yield line_no, entry


def _csv_entries(stream: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None or tuple(header) != EXPORT_FIELDS:
        raise ExportFormatError(f"line 1: header must be {','.join(EXPORT_FIELDS)}")
    for row in reader:
        line_no = reader.line_num
        if len(row) != len(EXPORT_FIELDS):
            raise ExportFormatError(f"line {line_no}: {len(row)} cells, expected {len(EXPORT_FIELDS)}")
        entry: dict[str, Any] = dict(zip(EXPORT_FIELDS, row, strict=True))
        for name in ("lane_id", "session_id", "actor"):
            entry[name] = entry[name] or None
        try:
            entry["seq"] = int(entry["seq"])
            entry["payload"] = json.loads(entry["payload"])
        except ValueError as exc:
            raise ExportFormatError(f"line {line_no}: bad seq or payload ({exc})") from exc
        entry["payload_text"] = row[EXPORT_FIELDS.index("payload")]
        yield line_no, entry


def _entry_problem(entry: dict[str, Any]) -> VerifyProblem | None:
    seq = int(entry["seq"])
    if canonical_json(entry["payload"]) != entry["payload_text"]:
        return VerifyProblem(seq, "altered entry", "payload is not in canonical form")
    try:
        canonical = canonical_entry_json(
            seq=seq,
            recorded_at=datetime.fromisoformat(entry["recorded_at"]),
            lane_id=entry["lane_id"],
            session_id=entry["session_id"],
            kind=entry["kind"],
            actor=entry["actor"],
            payload=entry["payload"],
        )
    except (TypeError, ValueError) as exc:
        return VerifyProblem(seq, "altered entry", f"unreadable field: {exc}")
    computed = compute_entry_hash(entry["prev_hash"], canonical)
    if computed != entry["entry_hash"]:
        return VerifyProblem(seq, "altered entry", f"stored hash {entry['entry_hash']}, computed {computed}")
    return None


def _link_problem(
    entry: dict[str, Any], last_seq: int | None, last_hash: str | None, *, complete: bool
) -> VerifyProblem | None:
    seq = int(entry["seq"])
    expected = 1 if last_seq is None else last_seq + 1
    if complete and seq > expected:
        return VerifyProblem(expected, "missing entry", f"next entry in the file is seq {seq}")
    if last_seq is None:
        if seq == 1 and entry["prev_hash"] != GENESIS_HASH:
            return VerifyProblem(1, "broken link", "the first entry does not start at the genesis hash")
        return None
    if seq <= last_seq:
        return VerifyProblem(seq, "reordered entry", f"follows seq {last_seq}")
    if seq == last_seq + 1 and entry["prev_hash"] != last_hash:
        return VerifyProblem(
            seq, "broken link", f"prev_hash {entry['prev_hash']}, previous entry_hash {last_hash}"
        )
    return None


def verify_export(
    stream: TextIO, fmt: ExportFormat, anchors: tuple[Anchor, ...] = (), *, complete: bool = True
) -> FileVerifyReport:
    """Check an export line by line and report the first problem; raises `ExportFormatError`."""
    entries = _csv_entries(stream) if fmt == "csv" else _jsonl_entries(stream)
    count = gaps = 0
    last_seq: int | None = None
    last_hash: str | None = None
    hashes: dict[int, str] = {}
    for line_no, entry in entries:
        problem = _link_problem(entry, last_seq, last_hash, complete=complete) or _entry_problem(entry)
        if problem is not None:
            return FileVerifyReport(count, gaps, last_seq, last_hash, problem, line_no)
        seq = int(entry["seq"])
        if last_seq is not None and seq > last_seq + 1:
            gaps += 1
        last_seq, last_hash = seq, str(entry["entry_hash"])
        hashes[seq] = last_hash
        count += 1
    for anchor in anchors:
        if hashes.get(anchor.seq) != anchor.entry_hash:
            detail = f"published hash {anchor.entry_hash}, file has {hashes.get(anchor.seq, 'no such entry')}"
            problem = VerifyProblem(anchor.seq, "anchor mismatch", detail)
            return FileVerifyReport(count, gaps, last_seq, last_hash, problem)
    return FileVerifyReport(count, gaps, last_seq, last_hash)
