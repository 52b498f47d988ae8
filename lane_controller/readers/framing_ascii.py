"""NMEA-style ASCII lines ``$BODY*HH\\r\\n`` (HH: XOR of the body bytes, upper-case hex)."""

from __future__ import annotations

import re

from lane_controller.readers.crc import xor_checksum
from lane_controller.readers.frames import AsciiFrame, DecoderStats, DropHook, DropReason

MAX_LINE = 512
_LINE = re.compile(rb"\$([\x20-\x29\x2B-\x7E]*)\*([0-9A-Fa-f]{2})\r?\n")
"""One line: printable body without ``*`` (a ``$`` inside never reaches here), checksum, CR optional."""


def encode_ascii(body: str) -> bytes:
    """Frame a body (printable ASCII without ``$`` and ``*``) as one line."""
    data = body.encode("ascii")
    if any(b < 0x20 or b > 0x7E or b in b"$*" for b in data):
        raise ValueError(f"body {body!r} must be printable ASCII without '$' or '*'")
    return b"$" + data + b"*%02X\r\n" % xor_checksum(data)


class AsciiDecoder:
    """Incremental decoder: ``feed(bytes)`` returns the complete, checked frames; partial lines wait."""

    def __init__(self, on_drop: DropHook | None = None) -> None:
        self._buf = bytearray()
        self._on_drop = on_drop
        self.stats = DecoderStats()

    def feed(self, data: bytes) -> list[AsciiFrame]:
        """Add received bytes; return the frames completed by them."""
        self._buf += data
        frames: list[AsciiFrame] = []
        buf = self._buf
        while buf:
            start = buf.find(b"$")
            if start < 0:
                self._drop(DropReason.GARBAGE, len(buf))
                break
            if start > 0:
                self._drop(DropReason.GARBAGE, start)
            end = buf.find(b"\n")
            nxt = buf.find(b"$", 1)
            if nxt >= 0 and (end < 0 or nxt < end):
                self._drop(DropReason.TRUNCATED, nxt)
                continue
            if end < 0:
                if len(buf) > MAX_LINE:
                    self._drop(DropReason.TOO_LONG, len(buf))
                break
            line = bytes(buf[: end + 1])
            del buf[: end + 1]
            frame = self._check(line)
            if frame is not None:
                frames.append(frame)
        return frames

    def flush(self) -> list[AsciiFrame]:
        """The line went quiet: a pending partial line is truncated."""
        if self._buf:
            self._drop(DropReason.TRUNCATED, len(self._buf))
        return []

    def _check(self, line: bytes) -> AsciiFrame | None:
        if len(line) > MAX_LINE:
            return self._bad(DropReason.TOO_LONG, line)
        match = _LINE.fullmatch(line)
        if match is None:
            return self._bad(DropReason.MALFORMED, line)
        body = match.group(1)
        if int(match.group(2), 16) != xor_checksum(body):
            return self._bad(DropReason.BAD_CHECKSUM, line)
        self.stats.frames += 1
        return AsciiFrame(body.decode("ascii"), line)

    def _bad(self, reason: DropReason, line: bytes) -> AsciiFrame | None:
        self.stats.drop(reason, line, self._on_drop)
        return None

    def _drop(self, reason: DropReason, count: int) -> None:
        raw = bytes(self._buf[:count])
        del self._buf[:count]
        self.stats.drop(reason, raw, self._on_drop)
