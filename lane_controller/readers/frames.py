"""Decoded frames of both framings, the reasons a frame is dropped, and decoder counters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class DropReason(StrEnum):
    """Why bytes on the line did not become a frame (counted in the reader status)."""

    GARBAGE = "garbage"
    """Bytes outside any frame (skipped while resynchronising)."""
    BAD_CHECKSUM = "bad_checksum"
    MALFORMED = "malformed"
    """Framing markers or fields are wrong (no ``*HH``, bad length, non-printable body)."""
    TOO_LONG = "too_long"
    TRUNCATED = "truncated"
    """A frame started but the line went quiet or a new frame began before it ended."""
    ECHO = "echo"
    """Our own request echoed back by an RS-485 adapter."""
    UNEXPECTED = "unexpected"
    """A well-formed frame the protocol does not expect (unknown command, wrong direction)."""


@dataclass(frozen=True, slots=True)
class AsciiFrame:
    """One checked ASCII line: the body between ``$`` and ``*``."""

    body: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class BinaryFrame:
    """One checked binary frame ``len adr cmd data crc16``."""

    adr: int
    cmd: int
    data: bytes
    raw: bytes


Frame = AsciiFrame | BinaryFrame
DropHook = Callable[[DropReason, bytes], None]


@dataclass
class DecoderStats:
    """What a decoder has seen: good frames, dropped frames by reason, skipped garbage bytes."""

    frames: int = 0
    garbage_bytes: int = 0
    drops: Counter[DropReason] = field(default_factory=Counter)

    def drop(self, reason: DropReason, raw: bytes, hook: DropHook | None) -> None:
        """Count one dropped frame (or run of garbage) and tell the hook."""
        self.drops[reason] += 1
        if reason is DropReason.GARBAGE:
            self.garbage_bytes += len(raw)
        if hook is not None:
            hook(reason, raw)
