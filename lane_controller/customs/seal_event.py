"""The seal event a lane reports to the customs platform: an exit lane confirmed the seals, or an entry
lane unsealed them.

A lane builds one :class:`SealEvent` when it decides to let a sealed truck through; its
:meth:`SealEvent.message` is the outbox payload (and the ``lane.seal_event`` audit entry) and its
:meth:`SealEvent.key` the outbox idempotency key. Plain values only, so the lane state machine can build it
without the store.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from lane_controller.domain.enums import Direction
from lane_controller.domain.json_value import JsonValue

SEAL_TOPIC = "customs.seal"
"""Outbox topic of seal events (exit sealing confirmed, entry unsealing) for the customs platform."""


@dataclass(frozen=True, slots=True)
class SealLine:
    """One seal as the lane read it when the event was decided."""

    seal_id: str
    state: str
    battery_pct: int | None = None
    sealed_at: datetime | None = None
    opened_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SealEvent:
    """Sealing confirmed at an exit (``direction`` exit) or unsealing at an entry, for one session's note."""

    direction: Direction
    lane_id: str
    site_code: str
    session_id: str
    cn_number: str
    cn_version: int
    at: datetime
    seals: tuple[SealLine, ...]
    officer_id: str | None = None
    route_code: str | None = None
    time_limit: timedelta | None = None
    offline_unseal: bool = False
    late: bool = False

    @property
    def operation(self) -> str:
        """``seal_confirmed`` at an exit lane, ``unsealed`` at an entry lane."""
        return "seal_confirmed" if self.direction is Direction.EXIT else "unsealed"

    def key(self) -> str:
        """A new outbox idempotency key naming the note, the session and the operation."""
        return f"seal/{self.cn_number}/{self.session_id}/{self.operation}/{uuid.uuid4().hex[:8]}"

    def message(self) -> dict[str, JsonValue]:
        """The message for the customs platform (JSON-ready)."""
        return {
            "operation": self.operation,
            "lane_id": self.lane_id,
            "site_code": self.site_code,
            "session_id": self.session_id,
            "cn_number": self.cn_number,
            "cn_version": self.cn_version,
            "at": self.at.isoformat(),
            "seals": [
                {
                    "seal_id": s.seal_id,
                    "state": s.state,
                    "battery_pct": s.battery_pct,
                    "sealed_at": s.sealed_at.isoformat() if s.sealed_at else None,
                    "opened_at": s.opened_at.isoformat() if s.opened_at else None,
                }
                for s in self.seals
            ],
            "officer_id": self.officer_id,
            "route_code": self.route_code,
            "time_limit_minutes": self.time_limit.total_seconds() / 60 if self.time_limit else None,
            "offline_unseal": self.offline_unseal,
            "late": self.late,
        }
