"""Message layout of the binary framing (command table in hardware_profiles/readers/README.md)."""

from __future__ import annotations

import struct

from lane_controller.readers.frames import BinaryFrame, DropHook, DropReason
from lane_controller.readers.framing_binary import BinaryDecoder, encode_binary
from lane_controller.readers.messages import (
    NAK_BYTES,
    AckMsg,
    EventMsg,
    Message,
    NakCode,
    NakMsg,
    Op,
    ProtocolError,
    Request,
    SealStatus,
    SealStatusMsg,
    TagMsg,
)
from lane_controller.readers.wire import FramedProtocol, utc_from_unix

CMD_INVENTORY = 0x01
CMD_TAG_REPORT = 0x02
CMD_SEAL_STATUS = 0x10
CMD_LOCK = 0x11
CMD_UNLOCK = 0x12
CMD_EVENT_LOG = 0x13
CMD_SEAL_INVENTORY = 0x14
REPLY = 0x80
"""Reader-to-host frames carry the command code with bit 7 set."""
BROADCAST = 0xFF

OP_CMD = {
    Op.INVENTORY: CMD_INVENTORY,
    Op.STATUS: CMD_SEAL_STATUS,
    Op.LOCK: CMD_LOCK,
    Op.UNLOCK: CMD_UNLOCK,
    Op.EVENTS: CMD_EVENT_LOG,
    Op.SEALS: CMD_SEAL_INVENTORY,
}
CMD_OP = {c: o for o, c in OP_CMD.items()}
SEAL_STATES = {1: SealStatus.SEALED, 2: SealStatus.OPENED, 3: SealStatus.TAMPERED}
EVENT_KINDS = {1: "SEALED", 2: "OPENED", 3: "TAMPERED", 4: "BATTERY_LOW", 5: "LOCK_REFUSED"}


def _lv(text: str | None) -> bytes:
    raw = (text or "").encode("ascii")
    if len(raw) > 64:
        raise ValueError(f"field {text!r} longer than 64 bytes")
    return bytes((len(raw),)) + raw


class _Reader:
    """Cursor over a payload that raises ProtocolError when it runs short."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ProtocolError("payload too short")
        part = self.data[self.pos : self.pos + n]
        self.pos += n
        return part

    def u8(self) -> int:
        return self.take(1)[0]

    def text(self) -> str:
        raw = self.take(self.u8())
        if not raw or not raw.isascii() or not raw.isalnum():
            raise ProtocolError(f"bad text field {raw!r}")
        return raw.decode("ascii")

    def end(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError("trailing bytes")


def request_payload(seq: int, request: Request) -> bytes:
    """The data bytes of one request."""
    data = bytes((seq,))
    if request.op not in (Op.INVENTORY, Op.SEALS):
        data += _lv(request.seal_id)
    if request.op in (Op.LOCK, Op.UNLOCK):
        data += _lv(request.cn_number)
    if request.op is Op.UNLOCK:
        data += _lv(request.token)
    return data


def _seal_record(seq: int, r: _Reader) -> SealStatusMsg:
    seal_id = r.text()
    state = SEAL_STATES.get(r.u8())
    battery = r.u8()
    sealed, opened = struct.unpack(">II", r.take(8))
    if state is None or battery > 100:
        raise ProtocolError("bad seal state or battery")
    return SealStatusMsg(seq, seal_id, state, battery, utc_from_unix(sealed), utc_from_unix(opened))


def _tag(seq: int, r: _Reader) -> TagMsg:
    epc = r.take(r.u8())
    antenna, rssi = struct.unpack(">Bb", r.take(2))
    if not 2 <= len(epc) <= 32:
        raise ProtocolError("bad EPC length")
    return TagMsg(seq, epc.hex().upper(), antenna, rssi)


def parse_frame(frame: BinaryFrame) -> list[Message]:
    """Messages in one reader-to-host frame; raises ProtocolError."""
    if not frame.cmd & REPLY:
        raise ProtocolError("host-to-reader frame")
    r = _Reader(frame.data)
    seq = r.u8()
    if frame.cmd == CMD_TAG_REPORT | REPLY:
        tag = _tag(seq, r)
        r.end()
        return [tag]
    op = CMD_OP.get(frame.cmd & ~REPLY)
    if op is None:
        raise ProtocolError(f"unknown command 0x{frame.cmd:02X}")
    status = r.u8()
    if status:
        r.end()
        return [NakMsg(seq, NAK_BYTES.get(status, NakCode.OTHER), f"status 0x{status:02X}")]
    out: list[Message] = []
    if op is Op.INVENTORY:
        count = r.u8()
        out += [_tag(seq, r) for _ in range(count)]
        out.append(AckMsg(seq, op, count))
    elif op is Op.SEALS:
        count = r.u8()
        out += [_seal_record(seq, r) for _ in range(count)]
        out.append(AckMsg(seq, op, count))
    elif op is Op.EVENTS:
        seal_id, count = r.text(), r.u8()
        for index in range(count):
            kind, at = struct.unpack(">BI", r.take(5))
            out.append(
                EventMsg(seq, seal_id, index, EVENT_KINDS.get(kind, f"0x{kind:02X}"), utc_from_unix(at))
            )
        out.append(AckMsg(seq, op, count))
    else:
        out += [_seal_record(seq, r), AckMsg(seq, op)]
    r.end()
    return out


class BinaryProtocol(FramedProtocol[BinaryFrame]):
    """The binary wire protocol: decoder, echo filter and message parser for one reader address."""

    seq_modulus = 256

    def __init__(self, address: int = 0, echo_window_s: float = 0.5, on_drop: DropHook | None = None) -> None:
        super().__init__(BinaryDecoder(None, on_drop), echo_window_s, on_drop)
        self.address = address

    def encode(self, seq: int, request: Request) -> bytes:
        """The frame of one request."""
        return encode_binary(self.address, OP_CMD[request.op], request_payload(seq, request))

    def _parse(self, frame: BinaryFrame) -> list[Message] | DropReason:
        if frame.adr not in (self.address, BROADCAST):
            return DropReason.UNEXPECTED
        try:
            return parse_frame(frame)
        except ProtocolError:
            return DropReason.MALFORMED if frame.cmd & REPLY else DropReason.UNEXPECTED
