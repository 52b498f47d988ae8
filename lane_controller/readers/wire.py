"""The wire protocol interface the link drives: encode requests, turn received bytes into messages."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from lane_controller.readers.frames import AsciiFrame, BinaryFrame, DecoderStats, DropHook, DropReason
from lane_controller.readers.messages import Message, Request

F = TypeVar("F", bound=AsciiFrame | BinaryFrame)


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


class FrameDecoder(Protocol[F]):
    """An incremental decoder of one framing (``AsciiDecoder``, ``BinaryDecoder``)."""

    stats: DecoderStats

    def feed(self, data: bytes) -> list[F]:
        """Frames completed by received bytes."""
        ...

    def flush(self) -> list[F]:
        """Frames left when the line went quiet."""
        ...


class FramedProtocol(ABC, Generic[F]):
    """What both framings share: a frame decoder, the RS-485 echo filter and the drop counting around
    them. A subclass encodes requests and says what one checked frame means (``_parse``)."""

    seq_modulus: int

    def __init__(self, decoder: FrameDecoder[F], echo_window_s: float, on_drop: DropHook | None) -> None:
        self._decoder = decoder
        self._echo = EchoFilter(echo_window_s)
        self._on_drop = on_drop
        self.stats = decoder.stats

    @abstractmethod
    def encode(self, seq: int, request: Request) -> bytes:
        """The bytes of one request."""

    @abstractmethod
    def _parse(self, frame: F) -> list[Message] | DropReason:
        """The messages in one received frame, or why it is dropped."""

    def note_sent(self, raw: bytes) -> None:
        """Remember a sent frame for echo suppression."""
        self._echo.sent(raw)

    def feed(self, data: bytes) -> list[Message]:
        """Messages completed by received bytes."""
        return self._messages(self._decoder.feed(data))

    def flush(self) -> list[Message]:
        """The line went quiet."""
        return self._messages(self._decoder.flush())

    def _messages(self, frames: list[F]) -> list[Message]:
        out: list[Message] = []
        for frame in frames:
            parsed = DropReason.ECHO if self._echo.is_echo(frame.raw) else self._parse(frame)
            if isinstance(parsed, DropReason):
                self.stats.drop(parsed, frame.raw, self._on_drop)
            else:
                out += parsed
        return out


def utc_from_unix(value: int) -> datetime | None:
    """A u32 time stamp (0 = none) as an aware UTC datetime."""
    return datetime.fromtimestamp(value, UTC) if value else None
