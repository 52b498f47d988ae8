"""The lane's write-ahead journal: records collected during one step, written to the store in one batch.

Everything a step of the lane produces (audit entries, session changes, reads, seal events, barrier
commands, outbox messages) is added here in order and made durable by :meth:`Journal.flush`. The barrier
gate flushes before every command it sends, so a command is never on the wire without its record. A
failed flush keeps the records and retries them, in order, with the next one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from lane_controller.domain.json_value import JsonValue
from lane_controller.domain.lane_records import AuditEvent, AuditItem, LaneRecord
from lane_controller.fsm.protocols import Clock, LaneRecorder


class Journal:
    """Pending records of one lane and the recorder that writes them."""

    def __init__(self, recorder: LaneRecorder, lane_id: str, clock: Clock) -> None:
        self._recorder = recorder
        self._lane_id = lane_id
        self._clock = clock
        self._pending: list[LaneRecord] = []
        self.flushes = 0
        self.audit_entries = 0

    @property
    def lane_id(self) -> str:
        """The lane every audit entry is attributed to."""
        return self._lane_id

    def now(self) -> datetime:
        """The lane clock's time."""
        return self._clock.now()

    @property
    def pending(self) -> int:
        """Records not yet written."""
        return len(self._pending)

    def audit(
        self,
        kind: str,
        payload: Mapping[str, JsonValue],
        *,
        session_id: str | None,
        actor: str | None = None,
        refs: Mapping[str, AuditItem] | None = None,
    ) -> AuditItem:
        """Add an audit entry for this lane (and session); its ``seq`` is set once flushed. ``refs``: seqs
        of earlier entries to put in the payload when written."""
        item = AuditItem(
            AuditEvent(kind, payload, lane_id=self._lane_id, session_id=session_id, actor=actor),
            at=self._clock.now(),
            refs=refs or {},
        )
        self._pending.append(item)
        return item

    def add(self, record: LaneRecord) -> None:
        """Add any other record."""
        self._pending.append(record)

    async def flush(self) -> bool:
        """Write every pending record in one transaction (True if there were any); on failure they stay
        pending and it raises."""
        if not self._pending:
            return False
        batch = list(self._pending)
        await self._recorder.commit(batch)
        del self._pending[: len(batch)]
        self.flushes += 1
        self.audit_entries += sum(1 for r in batch if isinstance(r, AuditItem))
        return True
