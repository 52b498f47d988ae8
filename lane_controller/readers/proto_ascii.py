"""Message layout of the ASCII framing (see hardware_profiles/readers/README.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lane_controller.readers.frames import AsciiFrame, DropHook, DropReason
from lane_controller.readers.framing_ascii import AsciiDecoder, encode_ascii
from lane_controller.readers.messages import (
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
from lane_controller.readers.wire import FramedProtocol

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_EPC = re.compile(r"^(?:[0-9A-F]{2}){2,32}$")
_ID = re.compile(r"^[A-Z0-9]{1,32}$")


def format_utc(value: datetime | None) -> str:
    """A time stamp field: ``YYYY-MM-DDTHH:MM:SSZ`` or ``-``."""
    return "-" if value is None else value.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_utc(text: str) -> datetime | None:
    """Parse a time stamp field."""
    if text == "-":
        return None
    try:
        return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise ProtocolError(f"bad time {text!r}") from exc


def _int(text: str, lo: int, hi: int) -> int:
    if not re.fullmatch(r"-?\d{1,6}", text) or not lo <= int(text) <= hi:
        raise ProtocolError(f"bad number {text!r}")
    return int(text)


def _seal_id(text: str) -> str:
    if not _ID.match(text):
        raise ProtocolError(f"bad seal id {text!r}")
    return text


def _status(seq: int, f: list[str]) -> SealStatusMsg:
    if len(f) != 5:
        raise ProtocolError("seal status needs id, state, battery, sealed and opened times")
    try:
        status = SealStatus(f[1])
    except ValueError as exc:
        raise ProtocolError(f"bad seal state {f[1]!r}") from exc
    return SealStatusMsg(seq, _seal_id(f[0]), status, _int(f[2], 0, 100), parse_utc(f[3]), parse_utc(f[4]))


def parse_body(body: str) -> list[Message]:
    """Messages in one reader-to-host line; raises ProtocolError."""
    f = body.split(",")
    if len(f) < 2:
        raise ProtocolError("too few fields")
    kind, seq = f[0], _int(f[1], 0, 65535)
    rest = f[2:]
    if kind == "TAG" and len(rest) == 3 and _EPC.match(rest[0]):
        return [TagMsg(seq, rest[0], _int(rest[1], 0, 255), _int(rest[2], -128, 127))]
    if kind == "SEAL" and rest[:1] == ["STATUS"] and len(rest) in (5, 6):
        status_fields = rest[1:] if len(rest) == 6 else [*rest[1:], "-"]
        return [_status(seq, status_fields), AckMsg(seq, Op.STATUS)]
    if kind == "SEAL" and rest[:1] == ["SEEN"] and len(rest) == 6:
        return [_status(seq, rest[1:])]
    if kind == "EVT" and len(rest) == 4:
        return [EventMsg(seq, _seal_id(rest[0]), _int(rest[1], 0, 65535), rest[2], parse_utc(rest[3]))]
    if kind == "NAK" and len(rest) in (1, 2):
        code = NakCode(rest[0]) if rest[0] in NakCode.__members__ else NakCode.OTHER
        return [NakMsg(seq, code, rest[1] if len(rest) == 2 else rest[0])]
    if kind == "ACK" and rest:
        op = rest[0]
        if op in ("INVENTORY", "SEALS") and len(rest) == 2:
            return [AckMsg(seq, Op(op), _int(rest[1], 0, 65535))]
        if op == "EVENTS" and len(rest) == 3:
            _seal_id(rest[1])
            return [AckMsg(seq, Op.EVENTS, _int(rest[2], 0, 65535))]
        if op in ("LOCK", "UNLOCK") and len(rest) == 6:
            return [_status(seq, rest[1:]), AckMsg(seq, Op(op))]
    raise ProtocolError(f"unexpected line {kind!r} with {len(rest)} fields")


def request_body(seq: int, request: Request) -> str:
    """The body of one request line."""
    parts = ["CMD", str(seq), request.op.value]
    if request.op not in (Op.INVENTORY, Op.SEALS):
        parts.append(request.seal_id or "")
    if request.op in (Op.LOCK, Op.UNLOCK):
        parts.append(request.cn_number or "")
    if request.op is Op.UNLOCK and request.token:
        parts.append(request.token)
    return ",".join(parts)


class AsciiProtocol(FramedProtocol[AsciiFrame]):
    """The ASCII wire protocol: decoder, echo filter and message parser."""

    seq_modulus = 65536

    def __init__(self, echo_window_s: float = 0.5, on_drop: DropHook | None = None) -> None:
        super().__init__(AsciiDecoder(on_drop), echo_window_s, on_drop)

    def encode(self, seq: int, request: Request) -> bytes:
        """The line of one request."""
        return encode_ascii(request_body(seq, request))

    def _parse(self, frame: AsciiFrame) -> list[Message] | DropReason:
        try:
            return parse_body(frame.body)
        except (ProtocolError, ValueError):
            return DropReason.UNEXPECTED if frame.body.startswith("CMD,") else DropReason.MALFORMED
