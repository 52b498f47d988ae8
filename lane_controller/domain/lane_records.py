"""What a lane writes to its log and its records: audit events and entries to append, session rows,
reads, seal events, barrier commands, outbox messages, and the open sessions a crash left.

Plain values: the lane state machine builds them, the store (``store/lane_records.py``) writes them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from lane_controller.domain.json_value import JsonValue


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened. ``lane_id``, ``session_id`` and ``actor`` are None or non-empty."""

    kind: str
    payload: Mapping[str, JsonValue] = field(default_factory=dict)
    lane_id: str | None = None
    session_id: str | None = None
    actor: str | None = None

    def __post_init__(self) -> None:
        if not self.kind:
            msg = "audit event kind must not be empty"
            raise ValueError(msg)
        for name in ("lane_id", "session_id", "actor"):
            if getattr(self, name) == "":
                # "" and None would be indistinguishable in a CSV export.
                msg = f"audit event {name} must be None or non-empty"
                raise ValueError(msg)


@dataclass(slots=True, eq=False)
class AuditItem:
    """An audit entry to append; ``seq`` is filled in once the batch holding it is written.

    ``refs`` names earlier entries (of this batch or written before) whose seq goes into the payload under
    the given key when this one is written: a barrier command cites its decision in the same transaction.
    """

    event: AuditEvent
    at: datetime
    seq: int | None = field(default=None)
    refs: Mapping[str, AuditItem] = field(default_factory=dict)

    def resolve(self) -> AuditEvent:
        """The event with its references filled in (kept as ``event`` from then on)."""
        if self.refs:
            seqs: dict[str, JsonValue] = {}
            for key, ref in self.refs.items():
                if ref.seq is None:
                    msg = f"audit entry {self.event.kind} cites an entry not yet written ({ref.event.kind})"
                    raise ValueError(msg)
                seqs[key] = ref.seq
            self.event = dataclasses.replace(self.event, payload={**self.event.payload, **seqs})
            self.refs = {}
        return self.event


@dataclass(frozen=True, slots=True)
class SessionOpened:
    """A truck arrived: a new lane session."""

    session_id: str
    lane_id: str
    direction: str
    started_at: datetime
    state: str


@dataclass(frozen=True, slots=True)
class SessionChanged:
    """The session's state, reason (None keeps it) and matched note (None keeps it)."""

    session_id: str
    state: str
    reason: str | None = None
    transport_note_id: int | None = None


@dataclass(frozen=True, slots=True)
class SessionClosed:
    """The session ended (truck passed, left, was denied, or the session was closed on recovery)."""

    session_id: str
    state: str
    ended_at: datetime
    outcome: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ReadRow:
    """One plate, container or RFID read of a session."""

    session_id: str
    kind: str
    text: str
    confidence: float
    accepted: bool
    at: datetime
    camera: str | None = None
    image_sha256: str | None = None
    box: tuple[int, int, int, int] | None = None
    """Where in the frame (x0, y0, x1, y1) the text was read."""


@dataclass(frozen=True, slots=True)
class SealEventRow:
    """A seal status read or operation, for the session and the customs uplink."""

    session_id: str | None
    seal_id: str
    operation: str
    status: str | None
    at: datetime
    battery_pct: int | None = None
    cn_number: str | None = None
    device_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class BarrierCommandRow:
    """A barrier command, written before it is sent; ``decision`` is the audit entry that allowed it."""

    lane_id: str
    session_id: str | None
    command: str
    seq: int
    at: datetime
    decision: AuditItem | None = None


@dataclass(frozen=True, slots=True)
class BarrierAckRow:
    """What became of a barrier command (``result`` e.g. ``open``, ``closed``, ``failed``)."""

    lane_id: str
    seq: int
    at: datetime
    result: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A message for the customs platform; ``key`` must be new (it names the session and the step)."""

    topic: str
    key: str
    payload: Mapping[str, JsonValue]
    at: datetime


@dataclass(frozen=True, slots=True)
class OfficerConfirmationRow:
    """A dedicated officer (專責人員) confirmed the note's vehicle seal: the note is frozen from now on."""

    cn_number: str
    officer_id: str
    at: datetime


LaneRecord = (
    AuditItem
    | SessionOpened
    | SessionChanged
    | SessionClosed
    | ReadRow
    | SealEventRow
    | BarrierCommandRow
    | BarrierAckRow
    | OutboxRow
    | OfficerConfirmationRow
)


@dataclass(frozen=True, slots=True)
class OpenSessionRow:
    """A session without an end, as a crash left it."""

    session_id: str
    lane_id: str
    direction: str
    started_at: datetime
    state: str
    reason: str | None
    transport_note_id: int | None
