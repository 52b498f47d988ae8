"""Protocol messages shared by both framings: requests the host sends and what readers answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Op(StrEnum):
    """Request operations (the ASCII verbs)."""

    INVENTORY = "INVENTORY"
    SEALS = "SEALS"
    """Every seal in range (seal inventory)."""
    STATUS = "STATUS"
    LOCK = "LOCK"
    UNLOCK = "UNLOCK"
    EVENTS = "EVENTS"


class SealStatus(StrEnum):
    """What a seal reports about itself."""

    SEALED = "SEALED"
    OPENED = "OPENED"
    TAMPERED = "TAMPERED"


class NakCode(StrEnum):
    """Why a reader refused a request (binary status byte in brackets, see the protocol description)."""

    UNKNOWN_SEAL = "UNKNOWN_SEAL"  # 0x01
    BAD_STATE = "BAD_STATE"  # 0x02
    TAMPERED = "TAMPERED"  # 0x03
    BATTERY_LOW = "BATTERY_LOW"  # 0x04
    NOT_AUTHORISED = "NOT_AUTHORISED"  # 0x05
    BAD_REQUEST = "BAD_REQUEST"  # 0x06
    BUSY = "BUSY"  # 0x07
    OTHER = "OTHER"  # any other code


NAK_BYTES: dict[int, NakCode] = {i + 1: c for i, c in enumerate(list(NakCode)[:-1])}


@dataclass(frozen=True, slots=True)
class Request:
    """One host request; ``seq`` is set by the link when it is sent."""

    op: Op
    seal_id: str | None = None
    cn_number: str | None = None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class TagMsg:
    """A tag heard: in an inventory reply (the request's seq) or unsolicited (seq 0)."""

    seq: int
    epc: str
    antenna: int
    rssi: int


@dataclass(frozen=True, slots=True)
class SealStatusMsg:
    """A seal's state as the reader reports it."""

    seq: int
    seal_id: str
    status: SealStatus
    battery_pct: int
    sealed_at: datetime | None
    opened_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventMsg:
    """One entry of a seal's append-only event log."""

    seq: int
    seal_id: str
    index: int
    kind: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class AckMsg:
    """The last message of a successful reply; ``count`` for inventory and event-log replies."""

    seq: int
    op: Op
    count: int | None = None


@dataclass(frozen=True, slots=True)
class NakMsg:
    """A refused request."""

    seq: int
    code: NakCode
    detail: str = ""


Message = TagMsg | SealStatusMsg | EventMsg | AckMsg | NakMsg


class ProtocolError(ValueError):
    """A checked frame whose content does not follow the protocol (dropped as malformed)."""
