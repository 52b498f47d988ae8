"""The append-only, hash-chained audit log: append, verify, export.

Each entry's canonical JSON is ``json.dumps({seq, recorded_at, lane_id, session_id, kind, actor, payload},
sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` with ``recorded_at`` as ISO 8601 UTC with
microseconds (``2025-01-31T08:15:00.123456+00:00``); ``entry_hash = sha256(prev_hash + canonical_json)``
in hex, and the first entry's ``prev_hash`` is 64 zeros. The ``audit_head`` row names the last entry;
appends lock it, so sequence numbers are gap-free whatever the number of writers.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Select,
    String,
    Table,
    bindparam,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from lane_controller.domain.lane_records import AuditEvent
from lane_controller.store.coltypes import JsonValue, to_utc, utcnow
from lane_controller.store.models import GENESIS_HASH, AuditEntry, AuditHead

__all__ = [
    "EXPORT_FIELDS",
    "GENESIS_HASH",
    "AuditEvent",
    "AuditLog",
    "AuditRecord",
    "ExportFormat",
    "VerifyProblem",
    "VerifyReport",
    "append_audit",
    "canonical_entry_json",
    "canonical_json",
    "compute_entry_hash",
    "export_entries",
    "format_timestamp",
    "verify_chain",
]

ExportFormat = Literal["jsonl", "csv"]
EXPORT_FIELDS = (
    "seq",
    "recorded_at",
    "lane_id",
    "session_id",
    "kind",
    "actor",
    "payload",
    "prev_hash",
    "entry_hash",
)
_STREAM_BATCH = 1000
_REORDER_SEARCH_WINDOW = 64


def canonical_json(value: JsonValue | Mapping[str, JsonValue]) -> str:
    """The one JSON text of ``value`` that is hashed; NaN and infinities are refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def format_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds, as hashed."""
    return to_utc(value).isoformat(timespec="microseconds")


def canonical_entry_json(
    *,
    seq: int,
    recorded_at: datetime | str,
    lane_id: str | None,
    session_id: str | None,
    kind: str,
    actor: str | None,
    payload: JsonValue | Mapping[str, JsonValue],
) -> str:
    stamp = recorded_at if isinstance(recorded_at, str) else format_timestamp(recorded_at)
    return canonical_json(
        {
            "seq": seq,
            "recorded_at": stamp,
            "lane_id": lane_id,
            "session_id": session_id,
            "kind": kind,
            "actor": actor,
            "payload": dict(payload) if isinstance(payload, Mapping) else payload,
        }
    )


def compute_entry_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A stored entry."""

    seq: int
    recorded_at: datetime
    lane_id: str | None
    session_id: str | None
    kind: str
    actor: str | None
    payload: Mapping[str, JsonValue]
    prev_hash: str
    entry_hash: str


# Built once: the append path is hot (every lane step), and Core statements on the tables skip the ORM's
# per-call statement building and cache-key generation.
_audit_log: Table = AuditEntry.__table__  # type: ignore[assignment]
_audit_head: Table = AuditHead.__table__  # type: ignore[assignment]
_SELECT_HEAD_FOR_UPDATE = (
    select(_audit_head.c.last_seq, _audit_head.c.last_hash).where(_audit_head.c.id == 1).with_for_update()
)
_INSERT_ENTRY = insert(_audit_log)
_UPDATE_HEAD = (
    update(_audit_head)
    .where(_audit_head.c.id == 1)
    .values(last_seq=bindparam("new_seq"), last_hash=bindparam("new_hash"))
)


def append_audit(
    session: Session | Connection, event: AuditEvent, *, at: datetime | None = None
) -> AuditRecord:
    """Append ``event`` inside the caller's transaction; it commits or rolls back with the caller's work.

    ``session`` is an ORM session (its pending objects are flushed first, into the same transaction) or
    a Core connection in a transaction.

    The head row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the ``BEGIN IMMEDIATE``
    transaction already holds the write lock), so the next seq is always last_seq + 1.
    """
    recorded_at = to_utc(at) if at is not None else utcnow()
    payload_text = canonical_json(event.payload)
    payload: dict[str, JsonValue] = json.loads(payload_text)

    head = session.execute(_SELECT_HEAD_FOR_UPDATE).one_or_none()
    if head is None:
        msg = "audit_head row is missing: the database is not migrated or the log was tampered with"
        raise RuntimeError(msg)
    seq = int(head.last_seq) + 1
    prev_hash = str(head.last_hash)
    canonical = canonical_entry_json(
        seq=seq,
        recorded_at=recorded_at,
        lane_id=event.lane_id,
        session_id=event.session_id,
        kind=event.kind,
        actor=event.actor,
        payload=payload,
    )
    entry_hash = compute_entry_hash(prev_hash, canonical)
    session.execute(
        _INSERT_ENTRY,
        {
            "seq": seq,
            "recorded_at": recorded_at,
            "lane_id": event.lane_id,
            "session_id": event.session_id,
            "kind": event.kind,
            "actor": event.actor,
            "payload": payload_text,
            "prev_hash": prev_hash,
            "entry_hash": entry_hash,
        },
    )
    session.execute(_UPDATE_HEAD, {"new_seq": seq, "new_hash": entry_hash})
    return AuditRecord(
        seq=seq,
        recorded_at=recorded_at,
        lane_id=event.lane_id,
        session_id=event.session_id,
        kind=event.kind,
        actor=event.actor,
        payload=payload,
        prev_hash=prev_hash,
        entry_hash=entry_hash,
    )


class AuditLog:
    """Appends each event in its own committed transaction."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        bind = session_factory.kw.get("bind")
        # With a plain engine behind the factory, a Core connection does the same work with less overhead.
        self._engine: Engine | None = bind if isinstance(bind, Engine) else None

    def append(self, event: AuditEvent, *, at: datetime | None = None) -> AuditRecord:
        if self._engine is not None:
            with self._engine.begin() as connection:
                return append_audit(connection, event, at=at)
        with self._session_factory.begin() as session:
            return append_audit(session, event, at=at)


# --------------------------------------------------------------------------------------------- verify

ProblemKind = Literal[
    "altered entry",
    "broken link",
    "missing entry",
    "reordered entry",
    "duplicate entry",
    "truncated log",
    "head mismatch",
    "anchor mismatch",
]


@dataclass(frozen=True, slots=True)
class VerifyProblem:
    seq: int
    kind: ProblemKind
    detail: str

    def __str__(self) -> str:
        return f"FAIL at seq {self.seq}: {self.kind} ({self.detail})"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """``problem`` is the first one found in seq order; entries counts those checked before it."""

    entries: int
    head_hash: str
    problem: VerifyProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def __str__(self) -> str:
        if self.problem is None:
            return f"OK: {self.entries} entries, chain head {self.head_hash}"
        return str(self.problem)


_COLUMNS_AFTER_TIMESTAMP = (
    AuditEntry.lane_id,
    AuditEntry.session_id,
    AuditEntry.kind,
    AuditEntry.actor,
    AuditEntry.payload,
    AuditEntry.prev_hash,
    AuditEntry.entry_hash,
)


def _entries_query(*, raw_timestamps: bool = False) -> Select[Any]:
    """Entries in seq order, streamed. With ``raw_timestamps`` (SQLite), ``recorded_at`` comes back as the
    stored text, so that a mangled value is reported as an altered entry instead of aborting the walk."""
    recorded_at: Any = AuditEntry.recorded_at
    if raw_timestamps:
        recorded_at = type_coerce(AuditEntry.recorded_at, String()).label("recorded_at")
    return (
        select(AuditEntry.seq, recorded_at, *_COLUMNS_AFTER_TIMESTAMP)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=_STREAM_BATCH)
    )


def _stored_timestamp(value: datetime | str) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _recompute(row: Row[Any], seq: int | None = None) -> str | None:
    """The hash ``row`` should carry (at ``seq`` if given), or None when its payload is not canonical."""
    try:
        payload = json.loads(row.payload)
        if canonical_json(payload) != row.payload:
            return None
        canonical = canonical_entry_json(
            seq=row.seq if seq is None else seq,
            recorded_at=_stored_timestamp(row.recorded_at),
            lane_id=row.lane_id,
            session_id=row.session_id,
            kind=row.kind,
            actor=row.actor,
            payload=payload,
        )
    except (ValueError, TypeError):
        return None
    return compute_entry_hash(row.prev_hash, canonical)


def _seq_with_hash(session: Session, column: Any, value: str) -> int | None:
    return session.execute(select(AuditEntry.seq).where(column == value).limit(1)).scalar_one_or_none()


def _diagnose_mismatch(session: Session, row: Row[Any], computed: str | None) -> VerifyProblem:
    """Tell an entry stored under the wrong seq (swapped or copied) from one whose content changed."""
    candidates: list[int] = []
    if row.prev_hash == GENESIS_HASH:
        candidates.append(1)
    predecessor = _seq_with_hash(session, AuditEntry.entry_hash, row.prev_hash)
    if predecessor is not None:
        candidates.append(predecessor + 1)
    successor = _seq_with_hash(session, AuditEntry.prev_hash, row.entry_hash)
    if successor is not None and successor != row.seq:
        candidates.append(successor - 1)
    for offset in range(1, _REORDER_SEARCH_WINDOW + 1):
        candidates.extend((row.seq + offset, row.seq - offset))
    for candidate in candidates:
        if candidate < 1 or candidate == row.seq:
            continue
        if _recompute(row, candidate) == row.entry_hash:
            holder = session.execute(
                select(AuditEntry.entry_hash).where(AuditEntry.seq == candidate)
            ).scalar_one_or_none()
            if holder == row.entry_hash:
                return VerifyProblem(row.seq, "duplicate entry", f"copy of the entry at seq {candidate}")
            return VerifyProblem(
                row.seq, "reordered entry", f"its hash fits seq {candidate}, it is stored at seq {row.seq}"
            )
    shown = computed if computed is not None else "none: payload is not canonical JSON"
    return VerifyProblem(row.seq, "altered entry", f"stored hash {row.entry_hash}, computed {shown}")


@dataclass(frozen=True, slots=True)
class Anchor:
    """A chain head published outside the store (printed, mailed to customs): entry `seq` had `entry_hash`.

    A chain rewritten from some entry onwards, head row included, verifies on its own; it cannot keep
    the hash of an anchored entry at or after the rewrite.
    """

    seq: int
    entry_hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """`SEQ:HASH`, as `audit verify` prints the head (`… chain head HASH` at seq N)."""
        seq_text, sep, digest = text.partition(":")
        digest = digest.strip().lower()
        if not sep or not seq_text.strip().isdigit() or len(digest) != 64 or not _is_hex(digest):
            raise ValueError(f"anchor {text!r} must be SEQ:HASH with a 64-digit hex SHA-256")
        return cls(int(seq_text), digest)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def _check_anchors(session: Session, report: VerifyReport, anchors: Sequence[Anchor]) -> VerifyReport:
    for anchor in sorted(anchors, key=lambda a: a.seq):
        stored = session.execute(
            select(AuditEntry.entry_hash).where(AuditEntry.seq == anchor.seq)
        ).scalar_one_or_none()
        if stored != anchor.entry_hash:
            detail = f"published hash {anchor.entry_hash}, stored {stored or 'no entry'}"
            return VerifyReport(
                report.entries, report.head_hash, VerifyProblem(anchor.seq, "anchor mismatch", detail)
            )
    return report


def verify_chain(session: Session, anchors: Sequence[Anchor] = ()) -> VerifyReport:
    """Walk the log in seq order and report the first broken, missing, reordered or altered entry,
    then check that every anchored entry still carries its published hash."""
    report = _walk_chain(session)
    return _check_anchors(session, report, anchors) if report.ok else report


def _walk_chain(session: Session) -> VerifyReport:
    head = session.execute(
        select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.id == 1)
    ).one_or_none()
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    raw_timestamps = session.get_bind().dialect.name == "sqlite"
    for row in session.execute(_entries_query(raw_timestamps=raw_timestamps)):
        if row.seq < expected_seq:
            return VerifyReport(
                count, prev_hash, VerifyProblem(row.seq, "reordered entry", f"expected seq {expected_seq}")
            )
        if row.seq > expected_seq:
            detail = f"next stored entry is seq {row.seq}"
            return VerifyReport(count, prev_hash, VerifyProblem(expected_seq, "missing entry", detail))
        computed = _recompute(row)
        if computed != row.entry_hash:
            return VerifyReport(count, prev_hash, _diagnose_mismatch(session, row, computed))
        if row.prev_hash != prev_hash:
            detail = f"prev_hash {row.prev_hash}, previous entry_hash {prev_hash}"
            return VerifyReport(count, prev_hash, VerifyProblem(row.seq, "broken link", detail))
        prev_hash = row.entry_hash
        expected_seq += 1
        count += 1

    last_seq = expected_seq - 1
    if head is None:
        if count == 0:
            return VerifyReport(0, GENESIS_HASH)
        detail = "the audit_head row is missing"
        return VerifyReport(count, prev_hash, VerifyProblem(last_seq, "head mismatch", detail))
    if head.last_seq > last_seq:
        detail = f"head records last seq {head.last_seq}, the log ends at seq {last_seq}"
        return VerifyReport(count, prev_hash, VerifyProblem(last_seq + 1, "truncated log", detail))
    if head.last_seq < last_seq:
        detail = f"entry beyond the head, which records last seq {head.last_seq}"
        return VerifyReport(count, prev_hash, VerifyProblem(head.last_seq + 1, "head mismatch", detail))
    if head.last_hash != prev_hash:
        detail = f"head records hash {head.last_hash}, last entry has {prev_hash}"
        return VerifyReport(count, prev_hash, VerifyProblem(last_seq, "head mismatch", detail))
    return VerifyReport(count, prev_hash)


# --------------------------------------------------------------------------------------------- export


def _export_rows(session: Session, since: datetime | None, lane_id: str | None) -> Iterator[Row[Any]]:
    query = _entries_query()
    if since is not None:
        query = query.where(AuditEntry.recorded_at >= to_utc(since))
    if lane_id is not None:
        query = query.where(AuditEntry.lane_id == lane_id)
    yield from session.execute(query)


def export_entries(
    session: Session,
    fmt: ExportFormat,
    out: TextIO,
    since: datetime | None = None,
    lane_id: str | None = None,
) -> int:
    """Stream entries in seq order with their hashes; returns how many were written.

    JSONL: one canonical JSON object per line with the fields of :data:`EXPORT_FIELDS` (``payload`` as
    an object). CSV: a header row, then those fields with ``payload`` as its canonical JSON text and
    None as an empty cell. Either way, removing ``prev_hash``/``entry_hash`` and re-serialising canonically
    gives the text whose ``sha256(prev_hash + text)`` is ``entry_hash``.
    """
    if fmt not in ("jsonl", "csv"):
        msg = f"unknown export format {fmt!r}; use 'jsonl' or 'csv'"
        raise ValueError(msg)
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(EXPORT_FIELDS)
    count = 0
    for row in _export_rows(session, since, lane_id):
        stamp = format_timestamp(row.recorded_at)
        if writer is not None:
            writer.writerow(
                [
                    row.seq,
                    stamp,
                    row.lane_id or "",
                    row.session_id or "",
                    row.kind,
                    row.actor or "",
                    row.payload,
                    row.prev_hash,
                    row.entry_hash,
                ]
            )
        else:
            document = {
                "seq": row.seq,
                "recorded_at": stamp,
                "lane_id": row.lane_id,
                "session_id": row.session_id,
                "kind": row.kind,
                "actor": row.actor,
                "payload": json.loads(row.payload),
                "prev_hash": row.prev_hash,
                "entry_hash": row.entry_hash,
            }
            out.write(canonical_json(document))
            out.write("\n")
        count += 1
    return count
