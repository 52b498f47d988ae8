"""The small typed ports through which a lane talks to its devices, the clock and the store.

The state machine never imports a device library: the runner hands it objects that satisfy these
Protocols (drivers in production, in-memory fakes in tests and benchmarks).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from lane_controller.domain.lane_records import LaneRecord, OpenSessionRow
from lane_controller.domain.matching import MatchQuery, MatchResult

# ------------------------------------------------------------------------------------------ devices


class Device(StrEnum):
    """A device of a lane, as named in faults and in the status snapshot."""

    BARRIER = "barrier"
    """The barrier and its PLC (loops and photocell are PLC inputs)."""
    CAMERAS = "cameras"
    """Cameras and the recognizer (OCR and voting)."""
    TAG_READER = "tag_reader"
    SEAL_READER = "seal_reader"
    UPLINK = "uplink"
    DISPLAY = "display"
    STORE = "store"


class BarrierPosition(StrEnum):
    """Where the boom is, as the PLC reports it."""

    OPEN = "open"
    CLOSED = "closed"
    OPENING = "opening"
    CLOSING = "closing"
    STOPPED = "stopped"
    UNKNOWN = "unknown"


_STATE_CODES = {
    16: BarrierPosition.OPEN,
    17: BarrierPosition.CLOSED,
    19: BarrierPosition.STOPPED,
    32: BarrierPosition.OPENING,
    33: BarrierPosition.CLOSING,
}


@dataclass(frozen=True, slots=True)
class PlcInputs:
    """One snapshot of the barrier PLC's inputs (DESIGN §5 default map)."""

    limit_up: bool = False
    limit_down: bool = True
    arming: bool = False
    safety: bool = False
    exit: bool = False
    photocell: bool = False
    manual_mode: bool = False
    estop: bool = False
    motor_running: bool = False
    fault: bool = False
    breakaway: bool = False
    on_battery: bool = False
    state_code: int | None = None
    """Input register STATE (16 open, 17 closed, 19 stopped, 32 opening, 33 closing) when the PLC has it."""
    fault_code: int = 0
    """The PLC's FAULT_CODE (DESIGN §5), or one of the host's own: ``PLC_UNREADABLE``, ``PLC_FROZEN``."""

    @property
    def position(self) -> BarrierPosition:
        """The boom position: from the STATE register when known, else from the limit switches."""
        if self.state_code in _STATE_CODES:
            return _STATE_CODES[self.state_code]
        if self.limit_up and not self.limit_down:
            return BarrierPosition.OPEN
        if self.limit_down and not self.limit_up:
            return BarrierPosition.CLOSED
        return BarrierPosition.UNKNOWN

    def evolve(self, **changes: bool | int | None) -> PlcInputs:
        """These inputs with some fields changed (``dataclasses.replace``, without its introspection:
        every PLC input change goes through here)."""
        values = {name: getattr(self, name) for name in _PLC_FIELDS}
        values.update(changes)
        return PlcInputs(**values)

    def with_position(self, position: BarrierPosition) -> PlcInputs:
        """These inputs with the boom reported at ``position`` (STATE register and limit switches)."""
        return self.evolve(
            state_code=POSITION_CODES.get(position),
            limit_up=position is BarrierPosition.OPEN,
            limit_down=position is BarrierPosition.CLOSED,
            motor_running=position in (BarrierPosition.OPENING, BarrierPosition.CLOSING),
        )

    @property
    def under_boom(self) -> bool:
        """Something is under the boom: the safety loop or the photocell reports a vehicle."""
        return self.safety or self.photocell

    @property
    def faulted(self) -> bool:
        """The PLC cannot run the lane automatically (fault, emergency stop, breakaway, manual mode)."""
        return self.fault or self.estop or self.breakaway or self.manual_mode


PLC_UNREADABLE = -1
"""``PlcInputs.fault_code`` when the host cannot read the PLC (the other inputs are the last ones read)."""
PLC_FROZEN = -2
"""``PlcInputs.fault_code`` when the PLC answers but its heartbeat stopped."""

_PLC_FIELDS = tuple(f.name for f in dataclasses.fields(PlcInputs))
POSITION_CODES: dict[BarrierPosition, int] = {p: c for c, p in _STATE_CODES.items()}
"""The DESIGN §5 STATE register value of each boom position (``PlcInputs.state_code``)."""


class CommandKind(StrEnum):
    """Barrier commands (the values are the ``barrier_commands.command`` column)."""

    OPEN = "open"
    CLOSE = "close"
    STOP = "stop"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class BarrierCommand:
    """A command with its sequence number (the PLC executes a retried seq once) and the audit seq of the
    decision that allowed it (required for ``open``)."""

    kind: CommandKind
    seq: int
    decision_audit_seq: int | None = None


class BarrierRefused(Exception):
    """The PLC answered but did not take a command (nothing moved); the message says why."""


class Barrier(Protocol):
    """The barrier PLC."""

    async def send(self, command: BarrierCommand) -> None:
        """Write the command; raises :class:`BarrierRefused` when the PLC did not take it and any other
        exception on a transport error. Progress is reported through the inputs."""
        ...

    async def read_inputs(self) -> PlcInputs:
        """Read all inputs now (used on start-up to rebuild the lane's state)."""
        ...


class ReadKind(StrEnum):
    """What was read (the values are the ``reads.kind`` column)."""

    PLATE = "plate"
    CONTAINER = "container"
    RFID = "rfid"


@dataclass(frozen=True, slots=True)
class Observation:
    """One OCR read of one frame, kept for the session's record."""

    kind: ReadKind
    text: str
    confidence: float
    camera: str | None = None
    image_sha256: str | None = None
    accepted: bool = True
    """Passed the ISO 6346 check or the plate grammar (a plate read that is a container's own text, such as
    its size-and-type code, is not accepted)."""
    box: tuple[int, int, int, int] | None = None
    """Where in the frame (x0, y0, x1, y1) the text was read."""


@dataclass(frozen=True, slots=True)
class VotedRead:
    """The voted text of one plate or container, with the share of frames that agreed on it."""

    kind: ReadKind
    text: str
    agreement: float
    votes: int = 1
    confidence: float = 1.0
    alternatives: tuple[tuple[str, float], ...] = ()
    """Texts this one beat, with their share of the vote (kept for the record)."""


@dataclass(frozen=True, slots=True)
class Recognition:
    """Everything the cameras made of one truck."""

    plates: tuple[VotedRead, ...] = ()
    containers: tuple[VotedRead, ...] = ()
    observations: tuple[Observation, ...] = ()


class Recognizer(Protocol):
    """Captures frames from every camera of the lane, OCRs and votes. Blocking and CPU-heavy: the runner
    calls it in a worker thread."""

    def recognize(self, lane_id: str, session_id: str) -> Recognition:
        """Identify the truck now on the lane."""
        ...


@dataclass(frozen=True, slots=True)
class TagRead:
    """An RFID tag heard by the lane's reader."""

    epc: str
    antenna: int = 1
    rssi: float = 0.0


class TagReader(Protocol):
    """The lane's UHF RFID reader."""

    async def read_tags(self) -> Sequence[TagRead]:
        """Tags heard during one inventory round."""
        ...


class SealState(StrEnum):
    """What a seal reports (the values are the ``seal_events.status`` column)."""

    SEALED = "sealed"
    OPENED = "opened"
    TAMPERED = "tampered"


@dataclass(frozen=True, slots=True)
class SealReport:
    """One electronic seal as read (ISO 18185 style)."""

    seal_id: str
    state: SealState
    battery_pct: int | None = None
    sealed_at: datetime | None = None
    opened_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UnsealAuthorisation:
    """Unseal data downloaded from the customs platform for an offline unseal (void 15 min after download)."""

    cn_number: str
    seal_ids: tuple[str, ...]
    downloaded_at: datetime
    token: str = ""


class SealReader(Protocol):
    """The lane's electronic-seal reader."""

    async def inventory(self) -> Sequence[SealReport]:
        """Every seal heard on the truck now."""
        ...

    async def unlock(self, seal_id: str, authorisation: UnsealAuthorisation) -> None:
        """Offline unseal of one seal with downloaded unseal data; raises when the seal refuses."""
        ...


class Uplink(Protocol):
    """The customs platform connection (store and forward; sending the outbox is its job)."""

    async def unseal_authorisation(self, cn_number: str) -> UnsealAuthorisation | None:
        """The unseal data downloaded for this CN, if any (the uplink keeps downloads for offline use)."""
        ...

    def outbox_changed(self) -> None:
        """A message was queued in the outbox: send when possible."""
        ...


@dataclass(frozen=True, slots=True)
class DisplayMessage:
    """What the lane display shows the driver, zh-TW and English."""

    zh: str
    en: str
    reason: str | None = None


class Display(Protocol):
    """The lane's driver display."""

    async def show(self, message: DisplayMessage) -> None:
        """Show a message until the next one."""
        ...


# -------------------------------------------------------------------------------------------- time


class TimerHandle(Protocol):
    """A scheduled call that can be cancelled."""

    def cancel(self) -> None:
        """Do not run the call (no effect once it ran)."""
        ...


class Clock(Protocol):
    """Wall time for records and a scheduler for time-outs; tests use a manual clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    def monotonic(self) -> float:
        """Seconds on a monotonic scale (latencies)."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` on the event loop after ``delay`` seconds."""
        ...


# ------------------------------------------------------------------------------------------- store


@dataclass(frozen=True, slots=True)
class StoredLane:
    """What the store knows about a lane when its runner starts."""

    open_sessions: tuple[OpenSessionRow, ...] = ()
    last_barrier_seq: int = 0
    closed_by_staff: bool = False


class LaneRecorder(Protocol):
    """The store, as the lane sees it: durable batches of records, and the lane's stored state."""

    async def commit(self, records: Sequence[LaneRecord]) -> None:
        """Write the records in one transaction, in order; returns once they are durable."""
        ...

    async def prepare_lane(self, lane_id: str, *, name: str, direction: str, site_code: str) -> StoredLane:
        """Create or check the lane row and read what a restart needs."""
        ...


class CnMatcher(Protocol):
    """Finds the transport note that agrees with a truck's reads."""

    async def match(self, query: MatchQuery) -> MatchResult:
        """Search the active notes."""
        ...
