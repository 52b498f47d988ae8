"""The wire protocol interface the link drives: encode requests, turn received bytes into messages."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

from lane_controller.readers.frames import DecoderStats
from lane_controller.readers.messages import Message, Request


class WireProtocol(Protocol):
    """One framing with its message layout (ASCII lines or binary frames)."""

    seq_modulus: int
    stats: DecoderStats

    def encode(self, seq: int, request: Request) -> bytes:
        """The bytes of one request."""
        ...

    def feed(self, data: bytes) -> list[Message]:
        """Messages completed by received bytes; drops are counted in ``stats``."""
        ...

    def flush(self) -> list[Message]:
        """The line went quiet (inter-byte time-out)."""
        ...

    def note_sent(self, raw: bytes) -> None:
        """Remember a sent frame so an RS-485 echo of it is dropped."""
        ...


class EchoFilter:
    """Drops a received frame identical to the last sent one within ``window_s`` (RS-485 echo)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._last: bytes | None = None
        self._at = 0.0

    def sent(self, raw: bytes) -> None:
        """Remember a sent frame."""
        self._last, self._at = raw, time.monotonic()

    def is_echo(self, raw: bytes) -> bool:
        """Whether a received frame is the echo of the last sent one (consumed once)."""
        if self._last == raw and time.monotonic() - self._at <= self.window_s:
            self._last = None
            return True
        return False


def utc_from_unix(value: int) -> datetime | None:
    """A u32 time stamp (0 = none) as an aware UTC datetime."""
    return datetime.fromtimestamp(value, UTC) if value else None
