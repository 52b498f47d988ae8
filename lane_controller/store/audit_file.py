"""Offline verification of an audit export (JSONL or CSV), for auditors who hold the file but not the store.

Each entry's hash is recomputed from its own fields; consecutive seq numbers must link
(`prev_hash` = the previous entry's hash). By default the file must be the whole log: it starts at seq 1
on the genesis hash and has no gaps, so a deleted line is found, and a line moved elsewhere is reported
as reordered where it turns up. A filtered export (`--since`, `--lane`) has gaps by design: checked with
`complete=False`, only the links between consecutive entries are checked across it, and `gaps` says how
many links could not be.

Parsing is strict: an entry must be exactly in the form the exporter writes, the form its hash was
computed over: no duplicate keys (a forged second value), no number written as a string or a fraction,
no timestamp in another UTC offset, no extra spaces. Anything else is reported as an altered entry. A
file that verifies proves only the entries it holds: a dropped tail goes unseen unless the head it ends
on is compared with one published earlier (``audit anchor``, ``--anchor``).
"""

from __future__ import annotations

import csv
import json
import re
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
    format_timestamp,
)
from lane_controller.store.models import GENESIS_HASH
from lane_controller.strict_json import DuplicateKeyError, unique_keys

_HASH = re.compile(r"[0-9a-f]{64}")
_CSV_FIELD_LIMIT = 1 << 30
_SEQ_TEXT = re.compile(r"[1-9][0-9]*")


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
            return f"{self.problem}" + (f" [line {self.line}]" if self.line is not None else "")
        gaps = f", {self.gaps} gaps (filtered export: links across them not checked)" if self.gaps else ""
        return (
            f"OK: {self.entries} entries, last seq {self.last_seq}, hash {self.last_hash}{gaps}; "
            f"compare the head {self.last_seq}:{self.last_hash} with the one published (--anchor)"
        )


class ExportFormatError(ValueError):
    """The file is not an audit export of the given format; the message names the line."""


class _Altered(ValueError):
    """An entry that is not in the exporter's canonical form; ``seq`` when it could be read."""

    def __init__(self, seq: int | None, detail: str, line: int | None = None) -> None:
        super().__init__(detail)
        self.seq, self.detail, self.line = seq, detail, line


def _strict_loads(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=unique_keys)
    except DuplicateKeyError as exc:
        raise _Altered(None, str(exc)) from None
    except RecursionError:
        raise _Altered(None, "nested too deeply to be an exported entry") from None


def _field_problem(entry: dict[str, Any]) -> str | None:
    """Why the entry's fields are not as the exporter writes them, or None."""
    seq = entry["seq"]
    if type(seq) is not int or seq < 1:
        return f"seq {seq!r} is not a whole number from 1"
    stamp = entry["recorded_at"]
    try:
        canonical_stamp = format_timestamp(datetime.fromisoformat(stamp)) if isinstance(stamp, str) else None
    except ValueError:
        canonical_stamp = None
    if stamp != canonical_stamp:
        return f"recorded_at {stamp!r} is not a UTC time with microseconds as exported"
    for name in ("lane_id", "session_id", "actor"):
        if entry[name] is not None and (not isinstance(entry[name], str) or not entry[name]):
            return f"{name} {entry[name]!r} is neither text nor empty"
    if not isinstance(entry["kind"], str) or not entry["kind"]:
        return f"kind {entry['kind']!r} is not text"
    for name in ("prev_hash", "entry_hash"):
        if not isinstance(entry[name], str) or not _HASH.fullmatch(entry[name]):
            return f"{name} {entry[name]!r} is not a lower-case hex SHA-256"
    return None


def _seq_label(value: Any) -> int | None:
    if type(value) is int:
        return value
    text = str(value)
    return int(text) if _SEQ_TEXT.fullmatch(text) else None


def _jsonl_entries(stream: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    for line_no, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            entry = _strict_loads(line)
        except json.JSONDecodeError as exc:
            raise ExportFormatError(f"line {line_no}: not JSON ({exc.msg})") from exc
        except _Altered as exc:
            try:
                plain = json.loads(line)  # the same line, the last of each duplicate key kept: its seq
            except (RecursionError, ValueError):
                plain = None
            seq = _seq_label(plain.get("seq")) if isinstance(plain, dict) else None
            raise _Altered(seq, exc.detail, line_no) from exc
        if not isinstance(entry, dict) or set(entry) != set(EXPORT_FIELDS):
            raise ExportFormatError(
                f"line {line_no}: expected an object with fields {', '.join(EXPORT_FIELDS)}"
            )
        problem = _field_problem(entry)
        if problem is None and canonical_json(entry) != line.rstrip("\r\n"):
            problem = "not in the exporter's canonical form (spacing, key order or escapes differ)"
        if problem is not None:
            raise _Altered(_seq_label(entry["seq"]), problem, line_no)
        entry["payload_text"] = canonical_json(entry["payload"])
        yield line_no, entry


def _csv_entries(stream: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    csv.field_size_limit(_CSV_FIELD_LIMIT)  # a payload cell is as long as the entry's payload
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
        seq = _seq_label(entry["seq"])
        if seq is None or str(seq) != entry["seq"]:
            raise _Altered(seq, f"seq {entry['seq'][:40]!r} is not a whole number from 1", line_no)
        entry["seq"] = seq
        try:
            entry["payload"] = _strict_loads(entry["payload"])
        except ValueError as exc:
            detail = exc.detail if isinstance(exc, _Altered) else f"payload is not JSON ({exc})"
            raise _Altered(seq, detail, line_no) from exc
        problem = _field_problem(entry)
        if problem is not None:
            raise _Altered(seq, problem, line_no)
        entry["payload_text"] = row[EXPORT_FIELDS.index("payload")]
        yield line_no, entry


def _entry_problem(entry: dict[str, Any]) -> VerifyProblem | None:
    seq = int(entry["seq"])
    if canonical_json(entry["payload"]) != entry["payload_text"]:
        return VerifyProblem(seq, "altered entry", "payload is not in canonical form")
    canonical = canonical_entry_json(
        seq=seq,
        recorded_at=entry["recorded_at"],
        lane_id=entry["lane_id"],
        session_id=entry["session_id"],
        kind=entry["kind"],
        actor=entry["actor"],
        payload=entry["payload"],
    )
    computed = compute_entry_hash(entry["prev_hash"], canonical)
    if computed != entry["entry_hash"]:
        return VerifyProblem(seq, "altered entry", f"stored hash {entry['entry_hash']}, computed {computed}")
    return None


def _link_problem(entry: dict[str, Any], last_seq: int | None, last_hash: str | None) -> VerifyProblem | None:
    seq = int(entry["seq"])
    if last_seq is None:
        if seq == 1 and entry["prev_hash"] != GENESIS_HASH:
            return VerifyProblem(1, "broken link", "the first entry does not start at the genesis hash")
        return None
    if seq == last_seq:
        return VerifyProblem(seq, "duplicate entry", "the same seq twice in a row")
    if seq < last_seq:
        return VerifyProblem(seq, "reordered entry", f"stands after seq {last_seq}")
    if seq == last_seq + 1 and entry["prev_hash"] != last_hash:
        return VerifyProblem(
            seq, "broken link", f"prev_hash {entry['prev_hash']}, previous entry_hash {last_hash}"
        )
    return None


@dataclass(slots=True)
class _Walk:
    """The state of a walk through an export: counts, the last entry, and in a complete export the
    first seq found missing so far (it may still turn up later, out of order)."""

    complete: bool
    count: int = 0
    gaps: int = 0
    last_seq: int | None = None
    last_hash: str | None = None
    missing: tuple[int, int, int] | None = None
    """(the seq expected, the line where another came instead, that other seq)."""

    def report(self, problem: VerifyProblem | None = None, line: int | None = None) -> FileVerifyReport:
        return FileVerifyReport(self.count, self.gaps, self.last_seq, self.last_hash, problem, line)

    def missing_report(self) -> FileVerifyReport:
        assert self.missing is not None
        expected, line, found = self.missing
        return self.report(
            VerifyProblem(expected, "missing entry", f"next entry in the file is seq {found}"), line
        )


def verify_export(
    stream: TextIO,
    fmt: ExportFormat,
    anchors: tuple[Anchor, ...] = (),
    *,
    complete: bool = True,
    from_start: bool = True,
) -> FileVerifyReport:
    """Check an export line by line and report the first problem; raises `ExportFormatError` for a file
    that is not an export at all. An empty file is a problem: there is nothing it proves.

    ``complete`` files have no gaps; ``from_start`` ones begin at seq 1 on the genesis hash. A ``--since``
    export is complete but not from the start; a ``--lane`` export is neither."""
    walk = _Walk(complete)
    hashes: dict[int, str] = {}
    try:
        for line_no, entry in _csv_entries(stream) if fmt == "csv" else _jsonl_entries(stream):
            seq = int(entry["seq"])
            problem = _link_problem(entry, walk.last_seq, walk.last_hash) or _entry_problem(entry)
            if problem is not None:
                if walk.missing is not None and problem.kind != "reordered entry":
                    return walk.missing_report()
                return walk.report(problem, line_no)
            expected = (1 if from_start else seq) if walk.last_seq is None else walk.last_seq + 1
            if seq > expected:
                if complete and walk.missing is None:
                    walk.missing = (expected, line_no, seq)
                if walk.last_seq is not None:
                    walk.gaps += 1
            walk.last_seq, walk.last_hash = seq, str(entry["entry_hash"])
            hashes[seq] = walk.last_hash
            walk.count += 1
    except _Altered as exc:
        if walk.missing is not None:
            return walk.missing_report()
        seq = exc.seq if exc.seq is not None else (walk.last_seq or 0) + 1
        return walk.report(VerifyProblem(seq, "altered entry", exc.detail), exc.line)
    if walk.missing is not None:
        return walk.missing_report()
    if walk.count == 0:
        return walk.report(VerifyProblem(1, "missing entry", "the file holds no entries"))
    for anchor in anchors:
        if hashes.get(anchor.seq) != anchor.entry_hash:
            detail = f"published hash {anchor.entry_hash}, file has {hashes.get(anchor.seq, 'no such entry')}"
            return walk.report(VerifyProblem(anchor.seq, "anchor mismatch", detail))
    return walk.report()
