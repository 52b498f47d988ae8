"""What the simulated readers see: tags in range and seals with their state and event logs.

Fed by the simulated vehicles: a truck arriving brings its tags and seals, leaving takes them away.
Seal rules follow ISO 18185 ideas: a write-once id, status, battery, UTC sealing/opening times, and an
append-only event log.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

LOW_BATTERY_PCT = 5


def utc_now() -> datetime:
    """Now, UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class SimTag:
    """A tag in range of an antenna."""

    epc: str
    antenna: int = 1
    rssi: int = -55


@dataclass
class SimSeal:
    """One electronic seal."""

    seal_id: str
    status: str = "OPENED"
    battery_pct: int = 90
    sealed_at: datetime | None = None
    opened_at: datetime | None = None
    cn_number: str | None = None
    events: list[tuple[str, datetime]] = field(default_factory=list)

    def log(self, kind: str) -> None:
        """Append to the event log."""
        self.events.append((kind, utc_now()))


class Refused(Exception):
    """A request the seal refuses, with the protocol's error name."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class ReaderWorld:
    """Tags and seals in range; operations with realistic delays (seconds, scaled down in tests)."""

    tags: list[SimTag] = field(default_factory=list)
    seals: dict[str, SimSeal] = field(default_factory=dict)
    unseal_tokens: dict[str, str] = field(default_factory=dict)
    """Seals that need an offline-unseal authorisation token to open."""
    status_delay_s: float = 0.005
    lock_delay_s: float = 0.4
    unlock_delay_s: float = 0.3
    lock: threading.Lock = field(default_factory=threading.Lock)

    def vehicle_arrives(self, tags: list[SimTag], seals: list[SimSeal]) -> None:
        """A truck pulls up with its tags and seals."""
        with self.lock:
            self.tags = list(tags)
            self.seals.update({s.seal_id: s for s in seals})

    def vehicle_leaves(self) -> None:
        """The truck is gone: nothing in range."""
        with self.lock:
            self.tags, self.seals = [], {}

    def tamper(self, seal_id: str) -> None:
        """Someone forced the seal."""
        with self.lock:
            seal = self.seals[seal_id]
            seal.status = "TAMPERED"
            seal.log("TAMPERED")

    def flatten_battery(self, seal_id: str) -> None:
        """The seal's battery is flat."""
        with self.lock:
            seal = self.seals[seal_id]
            seal.battery_pct = 0
            seal.log("BATTERY_LOW")

    def seal(self, seal_id: str) -> SimSeal:
        """A seal in range, or Refused(UNKNOWN_SEAL)."""
        found = self.seals.get(seal_id)
        if found is None:
            raise Refused("UNKNOWN_SEAL")
        return found

    def do_lock(self, seal_id: str, cn_number: str) -> SimSeal:
        """Seal with a CN number."""
        with self.lock:
            seal = self.seal(seal_id)
            if seal.status == "TAMPERED":
                raise Refused("TAMPERED")
            if seal.battery_pct < LOW_BATTERY_PCT:
                seal.log("LOCK_REFUSED")
                raise Refused("BATTERY_LOW")
            if seal.status == "SEALED" or not cn_number:
                raise Refused("BAD_STATE" if cn_number else "BAD_REQUEST")
            seal.status, seal.sealed_at, seal.opened_at, seal.cn_number = "SEALED", utc_now(), None, cn_number
            seal.log("SEALED")
            return seal

    def do_unlock(self, seal_id: str, cn_number: str, token: str) -> SimSeal:
        """Open the seal (checking the CN and any offline-unseal token)."""
        with self.lock:
            seal = self.seal(seal_id)
            if seal.status == "TAMPERED":
                raise Refused("TAMPERED")
            if seal.battery_pct < LOW_BATTERY_PCT:
                raise Refused("BATTERY_LOW")
            if seal.status != "SEALED":
                raise Refused("BAD_STATE")
            needed = self.unseal_tokens.get(seal_id)
            if cn_number != seal.cn_number or (needed is not None and token != needed):
                raise Refused("NOT_AUTHORISED")
            seal.status, seal.opened_at = "OPENED", utc_now()
            seal.log("OPENED")
            return seal
