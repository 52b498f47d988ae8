"""Repository of lane operations: sessions, reads, seal events, barrier commands and their audit entries.

A lane writes in *batches*: everything one step of the lane produced (audit entries, the session row,
reads, seal events, barrier commands, outbox messages) goes into the database in one transaction, in
order, with the audit entries hash-chained exactly as :func:`lane_controller.store.audit.append_audit`
chains them (the head row is read once per batch, then every entry takes the next seq). Batches of
several lanes may share a transaction (group commit); each lane's records keep their order.

Core statements on a connection: the lane control path runs this for every step of every truck.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlalchemy.sql.expression import Executable

from lane_controller.domain.lane_records import (
    AuditEvent,
    AuditItem,
    BarrierAckRow,
    BarrierCommandRow,
    LaneRecord,
    OfficerConfirmationRow,
    OpenSessionRow,
    OutboxRow,
    ReadRow,
    SealEventRow,
    SessionChanged,
    SessionClosed,
    SessionOpened,
)
from lane_controller.store.audit import compute_entry_hash, format_timestamp
from lane_controller.store.coltypes import to_utc
from lane_controller.store.fast_sql import DbapiCursor
from lane_controller.store.models import (
    AuditEntry,
    AuditHead,
    BarrierCommand,
    Lane,
    LaneSession,
    Read,
    SealEvent,
)
from lane_controller.store.models import TransportNote as NoteRow
from lane_controller.store.outbox import enqueue_new

__all__ = [
    "AuditItem",
    "BarrierAckRow",
    "BarrierCommandRow",
    "LaneRecord",
    "OfficerConfirmationRow",
    "OpenSessionRow",
    "OutboxRow",
    "ReadRow",
    "SealEventRow",
    "SessionChanged",
    "SessionClosed",
    "SessionOpened",
    "ensure_lane",
    "last_barrier_seq",
    "last_lane_mode",
    "open_sessions",
    "write_records",
]

_audit_log: Table = AuditEntry.__table__  # type: ignore[assignment]
_audit_head: Table = AuditHead.__table__  # type: ignore[assignment]
_lanes: Table = Lane.__table__  # type: ignore[assignment]
_sessions: Table = LaneSession.__table__  # type: ignore[assignment]
_reads: Table = Read.__table__  # type: ignore[assignment]
_seal_events: Table = SealEvent.__table__  # type: ignore[assignment]
_barrier: Table = BarrierCommand.__table__  # type: ignore[assignment]
_notes: Table = NoteRow.__table__  # type: ignore[assignment]

_SELECT_HEAD_FOR_UPDATE = (
    select(_audit_head.c.last_seq, _audit_head.c.last_hash).where(_audit_head.c.id == 1).with_for_update()
)
_UPDATE_HEAD = (
    update(_audit_head)
    .where(_audit_head.c.id == 1)
    .values(last_seq=bindparam("new_seq"), last_hash=bindparam("new_hash"))
)
_INSERT_AUDIT = insert(_audit_log)
_INSERT_SESSION = insert(_sessions)
_INSERT_READ = insert(_reads)
_INSERT_SEAL_EVENT = insert(_seal_events)
_INSERT_BARRIER = insert(_barrier)
_UPDATE_SESSION = (
    update(_sessions)
    .where(_sessions.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        reason=func.coalesce(bindparam("b_reason", type_=_sessions.c.reason.type), _sessions.c.reason),
        transport_note_id=func.coalesce(
            bindparam("b_note", type_=_sessions.c.transport_note_id.type), _sessions.c.transport_note_id
        ),
    )
)
_CLOSE_SESSION = (
    update(_sessions)
    .where(_sessions.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        ended_at=bindparam("b_ended", type_=_sessions.c.ended_at.type),
        outcome=bindparam("b_outcome"),
        reason=func.coalesce(bindparam("b_reason", type_=_sessions.c.reason.type), _sessions.c.reason),
    )
)
_CONFIRM_NOTE = (
    update(_notes)
    .where(_notes.c.cn_number == bindparam("b_cn"), _notes.c.status == "active")
    .values(
        officer_confirmed_by=bindparam("b_officer"),
        officer_confirmed_at=bindparam("b_at", type_=_notes.c.officer_confirmed_at.type),
        updated_at=bindparam("b_updated", type_=_notes.c.updated_at.type),
    )
)
_ACK_BARRIER = (
    update(_barrier)
    .where(_barrier.c.lane_id == bindparam("b_lane_id"), _barrier.c.seq == bindparam("b_seq"))
    .values(acked_at=bindparam("b_at"), result=bindparam("b_result"), error=bindparam("b_error"))
)

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_canonical_payload = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
"""``audit.canonical_json`` (what ``json.dumps`` builds per call with these options), built once."""

LANE_MODE_KINDS = ("lane.closed", "lane.reopened")
"""Audit kinds that record staff closing and reopening a lane; the latest one is the lane's mode."""


# --------------------------------------------------------------------------------------------- write


def entry_json(seq: int, recorded_at: datetime, event: AuditEvent, payload_text: str) -> str:
    """``canonical_entry_json`` of the entry, spliced from the payload's canonical text instead of encoding
    the payload twice (the keys in sorted order, as ``json.dumps(..., sort_keys=True)`` writes them)."""
    dumps = _dumps
    return (
        f'{{"actor":{dumps(event.actor)},"kind":{dumps(event.kind)},"lane_id":{dumps(event.lane_id)},'
        f'"payload":{payload_text},"recorded_at":"{format_timestamp(recorded_at)}","seq":{seq},'
        f'"session_id":{dumps(event.session_id)}}}'
    )


def _audit_rows(cursor: DbapiCursor, items: Sequence[AuditItem]) -> list[dict[str, Any]]:
    """Number and chain ``items`` after the current head; sets each item's ``seq``."""
    head = cursor.run(_SELECT_HEAD_FOR_UPDATE, [{}]).fetchone()
    if head is None:
        msg = "audit_head row is missing: the database is not migrated or the log was tampered with"
        raise RuntimeError(msg)
    seq = int(head[0])
    prev_hash = str(head[1])
    rows: list[dict[str, Any]] = []
    for item in items:
        seq += 1
        event = item.resolve() if item.refs else item.event
        recorded_at = to_utc(item.at)
        payload_text = _canonical_payload(event.payload)
        canonical = entry_json(seq, recorded_at, event, payload_text)
        entry_hash = compute_entry_hash(prev_hash, canonical)
        rows.append(
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
            }
        )
        item.seq = seq
        prev_hash = entry_hash
    return rows


def _coalesce(records: Sequence[LaneRecord]) -> list[LaneRecord]:
    """One UPDATE per session and batch: a session's later state changes fold into its first one (the last
    state wins; reason and note keep the last value given)."""
    out: list[LaneRecord] = []
    first: dict[str, int] = {}
    for record in records:
        if isinstance(record, SessionChanged):
            at = first.get(record.session_id)
            if at is not None:
                earlier = out[at]
                assert isinstance(earlier, SessionChanged)
                out[at] = SessionChanged(
                    record.session_id,
                    record.state,
                    reason=record.reason if record.reason is not None else earlier.reason,
                    transport_note_id=record.transport_note_id
                    if record.transport_note_id is not None
                    else earlier.transport_note_id,
                )
                continue
            first[record.session_id] = len(out)
        out.append(record)
    return out


def write_records(conn: Connection, records: Sequence[LaneRecord]) -> None:
    """Write ``records`` in the caller's transaction, in order; audit entries get gap-free seqs.
    Consecutive rows of the same statement go in one executemany."""
    cursor = DbapiCursor(conn)
    try:
        items = [r for r in records if isinstance(r, AuditItem)]
        audit_rows = _audit_rows(cursor, items) if items else []
        run: list[dict[str, Any]] = []
        run_stmt: Executable | None = None
        for record in _coalesce(records):
            if isinstance(record, OutboxRow):
                if run_stmt is not None:
                    cursor.run(run_stmt, run)
                    run_stmt, run = None, []
                enqueue_new(conn, record.topic, record.key, record.payload, at=record.at)
                continue
            step = _statement(record)
            if step is None:
                continue
            stmt, row = step
            if stmt is not run_stmt or (run and row.keys() != run[0].keys()):
                if run_stmt is not None:
                    cursor.run(run_stmt, run)
                run_stmt, run = stmt, []
            run.append(row)
        if run_stmt is not None:
            cursor.run(run_stmt, run)
        if audit_rows:
            cursor.run(_INSERT_AUDIT, audit_rows)
            last = audit_rows[-1]
            cursor.run(_UPDATE_HEAD, [{"new_seq": last["seq"], "new_hash": last["entry_hash"]}])
    finally:
        cursor.close()


def _statement(record: LaneRecord) -> tuple[Executable, dict[str, Any]] | None:
    """The statement and bind values that write ``record`` (None for audit items, written apart)."""
    if isinstance(record, AuditItem):
        return None
    if isinstance(record, SessionOpened):
        return _INSERT_SESSION, {
            "id": record.session_id,
            "lane_id": record.lane_id,
            "direction": record.direction,
            "started_at": record.started_at,
            "state": record.state,
        }
    if isinstance(record, SessionChanged):
        return _UPDATE_SESSION, {
            "b_id": record.session_id,
            "b_state": record.state,
            "b_reason": record.reason,
            "b_note": record.transport_note_id,
        }
    if isinstance(record, SessionClosed):
        return _CLOSE_SESSION, {
            "b_id": record.session_id,
            "b_state": record.state,
            "b_ended": record.ended_at,
            "b_outcome": record.outcome,
            "b_reason": record.reason,
        }
    if isinstance(record, ReadRow):
        return _INSERT_READ, {
            "session_id": record.session_id,
            "kind": record.kind,
            "text": record.text,
            "confidence": record.confidence,
            "camera": record.camera,
            "image_sha256": record.image_sha256,
            "box": list(record.box) if record.box is not None else None,
            "accepted": record.accepted,
            "created_at": record.at,
        }
    if isinstance(record, SealEventRow):
        return _INSERT_SEAL_EVENT, {
            "session_id": record.session_id,
            "seal_id": record.seal_id,
            "operation": record.operation,
            "status": record.status,
            "battery_pct": record.battery_pct,
            "cn_number": record.cn_number,
            "device_time": record.device_time,
            "recorded_at": record.at,
        }
    if isinstance(record, BarrierCommandRow):
        decision_seq = None
        if record.decision is not None:
            if record.decision.seq is None:
                msg = "a barrier command references a decision that is not written in or before its batch"
                raise ValueError(msg)
            decision_seq = record.decision.seq
        return _INSERT_BARRIER, {
            "lane_id": record.lane_id,
            "session_id": record.session_id,
            "command": record.command,
            "seq": record.seq,
            "decision_audit_seq": decision_seq,
            "issued_at": record.at,
        }
    if isinstance(record, BarrierAckRow):
        return _ACK_BARRIER, {
            "b_lane_id": record.lane_id,
            "b_seq": record.seq,
            "b_at": record.at,
            "b_result": record.result,
            "b_error": record.error,
        }
    if isinstance(record, OfficerConfirmationRow):
        return _CONFIRM_NOTE, {
            "b_cn": record.cn_number,
            "b_officer": record.officer_id,
            "b_at": record.at,
            "b_updated": record.at,
        }
    raise TypeError(f"unknown lane record {record!r}")  # pragma: no cover - exhaustive


# --------------------------------------------------------------------------------------------- read


def ensure_lane(conn: Connection, lane_id: str, *, name: str, direction: str, site_code: str) -> None:
    """Create the lane row, or check that the stored one has the configured direction."""
    row = conn.execute(select(_lanes.c.direction).where(_lanes.c.id == lane_id)).one_or_none()
    if row is None:
        conn.execute(
            insert(_lanes),
            {"id": lane_id, "name": name, "direction": direction, "site_code": site_code},
        )
        return
    if row.direction != direction:
        msg = f"lane {lane_id} is stored as an {row.direction} lane, configured as {direction}"
        raise ValueError(msg)
    conn.execute(update(_lanes).where(_lanes.c.id == lane_id).values(name=name, site_code=site_code))


def open_sessions(conn: Connection, lane_id: str) -> list[OpenSessionRow]:
    """Sessions of the lane that never ended, newest first."""
    rows = conn.execute(
        select(
            _sessions.c.id,
            _sessions.c.lane_id,
            _sessions.c.direction,
            _sessions.c.started_at,
            _sessions.c.state,
            _sessions.c.reason,
            _sessions.c.transport_note_id,
        )
        .where(_sessions.c.lane_id == lane_id, _sessions.c.ended_at.is_(None))
        .order_by(_sessions.c.started_at.desc(), _sessions.c.id)
    ).all()
    return [
        OpenSessionRow(
            session_id=r.id,
            lane_id=r.lane_id,
            direction=r.direction,
            started_at=r.started_at,
            state=r.state,
            reason=r.reason,
            transport_note_id=r.transport_note_id,
        )
        for r in rows
    ]


def last_barrier_seq(conn: Connection, lane_id: str) -> int:
    """The highest barrier command sequence number used on the lane (0 when none)."""
    value = conn.execute(select(func.max(_barrier.c.seq)).where(_barrier.c.lane_id == lane_id)).scalar()
    return int(value or 0)


def last_lane_mode(conn: Connection, lane_id: str) -> str | None:
    """The kind of the lane's latest ``lane.closed``/``lane.reopened`` audit entry, None if never."""
    value = conn.execute(
        select(_audit_log.c.kind)
        .where(_audit_log.c.lane_id == lane_id, _audit_log.c.kind.in_(LANE_MODE_KINDS))
        .order_by(_audit_log.c.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if value is None else str(value)
