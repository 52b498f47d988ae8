"""Binary frames ``len adr cmd data crc16`` with CRC-16/MCRF4XX, low byte first.

``len`` counts the bytes after itself (adr, cmd, data and the two CRC bytes), so a frame is ``len + 1``
bytes long, 5 to 256; the CRC covers ``len adr cmd data``.
"""

from __future__ import annotations

from lane_controller.readers.crc import crc16_mcrf4xx
from lane_controller.readers.frames import BinaryFrame, DecoderStats, DropHook, DropReason

MIN_LEN = 4
MAX_DATA = 255 - MIN_LEN


def encode_binary(adr: int, cmd: int, data: bytes = b"") -> bytes:
    """Frame one command: adds the length byte and the CRC."""
    if not (0 <= adr <= 0xFF and 0 <= cmd <= 0xFF) or len(data) > MAX_DATA:
        raise ValueError(f"bad frame: adr={adr} cmd={cmd} data of {len(data)} bytes (max {MAX_DATA})")
    head = bytes((len(data) + MIN_LEN, adr, cmd)) + data
    crc = crc16_mcrf4xx(head)
    return head + bytes((crc & 0xFF, crc >> 8))


class BinaryDecoder:
    """Incremental decoder with resynchronisation: a bad length or CRC drops one byte and rescans.

    ``address``, when given, is the only ``adr`` accepted (a cheap resync filter); ``flush()`` on line
    silence rescans a stalled buffer whose first byte claimed a length that never arrived.
    """

    def __init__(self, address: int | None = None, on_drop: DropHook | None = None) -> None:
        self._buf = bytearray()
        self._address = address
        self._on_drop = on_drop
        self._skipped = bytearray()
        self._shadow = 0
        """Bytes left of the last frame dropped for its CRC: rescanned, but not counted again."""
        self.stats = DecoderStats()

    def feed(self, data: bytes) -> list[BinaryFrame]:
        """Add received bytes; return the frames completed by them."""
        self._buf += data
        frames = self._scan()
        self._end_garbage()
        return frames

    def flush(self) -> list[BinaryFrame]:
        """The line went quiet: rescan past a stalled start, then drop what is left as truncated."""
        frames: list[BinaryFrame] = []
        while self._buf:
            self._skip(1)
            frames += self._scan()
        if self._skipped:
            raw = bytes(self._skipped)
            self._skipped.clear()
            self.stats.drop(DropReason.TRUNCATED, raw, self._on_drop)
        return frames

    def _scan(self) -> list[BinaryFrame]:
        frames: list[BinaryFrame] = []
        buf = self._buf
        while buf:
            length = buf[0]
            if length < MIN_LEN or (len(buf) > 1 and self._address is not None and buf[1] != self._address):
                self._skip(1)
                continue
            if len(buf) < length + 1:
                break
            raw = bytes(buf[: length + 1])
            crc = raw[-2] | raw[-1] << 8
            if crc16_mcrf4xx(raw[:-2]) != crc:
                if not self._shadow:
                    self._end_garbage()
                    self.stats.drop(DropReason.BAD_CHECKSUM, raw, self._on_drop)
                    self._shadow = len(raw)
                self._skip(1)
                continue
            self._shadow = 0
            self._end_garbage()
            del buf[: length + 1]
            self.stats.frames += 1
            frames.append(BinaryFrame(raw[1], raw[2], raw[3:-2], raw))
        return frames

    def _skip(self, count: int) -> None:
        if self._shadow:
            self._shadow -= 1
        else:
            self._skipped += self._buf[:count]
        del self._buf[:count]

    def _end_garbage(self) -> None:
        if self._skipped:
            raw = bytes(self._skipped)
            self._skipped.clear()
            self.stats.drop(DropReason.GARBAGE, raw, self._on_drop)
