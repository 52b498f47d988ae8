"""The two framings, simulator side: parse host requests and write reader replies.

Written from hardware_profiles/readers/README.md, independently of ``lane_controller.readers``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from simulator.serial_readers.checks import crc16_mcrf4xx, nmea_xor
from simulator.serial_readers.world import SimSeal, SimTag

OPS = ("INVENTORY", "SEALS", "STATUS", "LOCK", "UNLOCK", "EVENTS")
NAK_CODES = ("UNKNOWN_SEAL", "BAD_STATE", "TAMPERED", "BATTERY_LOW", "NOT_AUTHORISED", "BAD_REQUEST", "BUSY")
BIN_CMDS = {0x01: "INVENTORY", 0x10: "STATUS", 0x11: "LOCK", 0x12: "UNLOCK", 0x13: "EVENTS", 0x14: "SEALS"}
BIN_OPS = {op: cmd for cmd, op in BIN_CMDS.items()}
BIN_STATES = {"SEALED": 1, "OPENED": 2, "TAMPERED": 3}
BIN_EVENTS = {"SEALED": 1, "OPENED": 2, "TAMPERED": 3, "BATTERY_LOW": 4, "LOCK_REFUSED": 5}


@dataclass(frozen=True, slots=True)
class SimRequest:
    """A host request as the simulated reader understood it (op "" = unparseable, answer BAD_REQUEST)."""

    op: str
    seq: int
    seal_id: str = ""
    cn_number: str = ""
    token: str = ""


Result = list[SimTag] | list[SimSeal] | SimSeal | str
"""What the world answered: tags or seals (inventories), a seal, or a refusal code."""


class Peer(Protocol):
    """One framing on the reader side."""

    def feed(self, data: bytes) -> list[SimRequest]:
        """Requests completed by bytes from the host."""
        ...

    def reply(self, request: SimRequest, result: Result) -> list[bytes]:
        """The reply frames, in order."""
        ...

    def tag_report(self, tag: SimTag) -> bytes:
        """An unsolicited tag report (seq 0)."""
        ...

    def corrupt(self, frame: bytes) -> bytes:
        """The frame with a wrong checksum."""
        ...


def _utc(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _unix(value: datetime | None) -> int:
    return 0 if value is None else int(value.timestamp())


def _state(s: SimSeal) -> str:
    return f"{s.seal_id},{s.status},{s.battery_pct},{_utc(s.sealed_at)},{_utc(s.opened_at)}"


def _record(s: SimSeal) -> bytes:
    sid = s.seal_id.encode("ascii")
    record = bytes((len(sid),)) + sid + bytes((BIN_STATES[s.status], s.battery_pct))
    return record + struct.pack(">II", _unix(s.sealed_at), _unix(s.opened_at))


class AsciiPeer:
    """``$BODY*HH\\r\\n`` lines."""

    def __init__(self) -> None:
        self._buf = b""

    @staticmethod
    def line(body: str) -> bytes:
        """Frame one body."""
        raw = body.encode("ascii")
        return b"$" + raw + f"*{nmea_xor(raw):02X}\r\n".encode()

    def feed(self, data: bytes) -> list[SimRequest]:
        """Requests in complete, checked lines."""
        self._buf += data
        out: list[SimRequest] = []
        while b"\n" in self._buf:
            line, self._buf = self._buf.split(b"\n", 1)
            start = line.rfind(b"$")
            if start < 0 or len(line) < start + 4:
                continue
            body, star, check = line[start + 1 :].rstrip(b"\r").rpartition(b"*")
            if not star or check != f"{nmea_xor(body):02X}".encode():
                continue
            fields = body.decode("ascii", "replace").split(",")
            if fields[0] != "CMD" or len(fields) < 3 or not fields[1].isdigit():
                continue
            seq, op, args = int(fields[1]), fields[2], [*fields[3:], "", "", ""]
            out.append(SimRequest(op if op in OPS else "", seq, args[0], args[1], args[2]))
        return out

    def reply(self, request: SimRequest, result: Result) -> list[bytes]:
        """Reply lines."""
        seq, op = request.seq, request.op
        if isinstance(result, str):
            return [self.line(f"NAK,{seq},{result}")]
        if op == "SEALS" and isinstance(result, list):
            lines = [self.line(f"SEAL,{seq},SEEN,{_state(s)}") for s in result if isinstance(s, SimSeal)]
            return [*lines, self.line(f"ACK,{seq},SEALS,{len(lines)}")]
        if isinstance(result, list):
            lines = [
                self.line(f"TAG,{seq},{t.epc},{t.antenna},{t.rssi}") for t in result if isinstance(t, SimTag)
            ]
            return [*lines, self.line(f"ACK,{seq},INVENTORY,{len(lines)}")]
        s = result
        state = _state(s)
        if op == "STATUS":
            return [self.line(f"SEAL,{seq},STATUS,{state}")]
        if op == "EVENTS":
            lines = [
                self.line(f"EVT,{seq},{s.seal_id},{i},{k},{_utc(t)}") for i, (k, t) in enumerate(s.events)
            ]
            return [*lines, self.line(f"ACK,{seq},EVENTS,{s.seal_id},{len(s.events)}")]
        return [self.line(f"ACK,{seq},{op},{state}")]

    def tag_report(self, tag: SimTag) -> bytes:
        """``TAG,0,...``."""
        return self.line(f"TAG,0,{tag.epc},{tag.antenna},{tag.rssi}")

    def corrupt(self, frame: bytes) -> bytes:
        """Flip the checksum's last hex digit."""
        star = frame.rindex(b"*")
        digit = frame[star + 2 : star + 3]
        return frame[: star + 2] + (b"0" if digit != b"0" else b"1") + frame[star + 3 :]


class BinaryPeer:
    """``len adr cmd data crc16`` frames for one reader address."""

    def __init__(self, address: int = 0) -> None:
        self.address = address
        self._buf = b""

    def frame(self, cmd: int, data: bytes) -> bytes:
        """Frame one reply (adr = this reader)."""
        head = bytes((len(data) + 4, self.address, cmd)) + data
        return head + struct.pack("<H", crc16_mcrf4xx(head))

    def feed(self, data: bytes) -> list[SimRequest]:
        """Requests in complete, checked frames (resync by dropping one byte)."""
        self._buf += data
        out: list[SimRequest] = []
        while len(self._buf) >= 5:
            n = self._buf[0]
            if n < 4:
                self._buf = self._buf[1:]
                continue
            if len(self._buf) < n + 1:
                later = self._next_valid_start()
                if later is None:
                    break
                self._buf = self._buf[later:]
                continue
            raw = self._buf[: n + 1]
            if struct.unpack("<H", raw[-2:])[0] != crc16_mcrf4xx(raw[:-2]):
                self._buf = self._buf[1:]
                continue
            self._buf = self._buf[n + 1 :]
            if raw[1] in (self.address, 0xFF) and raw[2] in BIN_CMDS and len(raw) > 5:
                out.append(self._request(BIN_CMDS[raw[2]], raw[3:-2]))
        return out

    def _next_valid_start(self) -> int | None:
        """Where a complete frame with a good CRC starts after a stalled first byte, if anywhere."""
        buf = self._buf
        for i in range(1, len(buf) - 4):
            end = i + buf[i] + 1
            if (
                buf[i] >= 4
                and end <= len(buf)
                and int.from_bytes(buf[end - 2 : end], "little") == crc16_mcrf4xx(buf[i : end - 2])
            ):
                return i
        return None

    @staticmethod
    def _request(op: str, data: bytes) -> SimRequest:
        seq, pos, texts = data[0], 1, []
        while pos < len(data):
            size = data[pos]
            texts.append(data[pos + 1 : pos + 1 + size].decode("ascii", "replace"))
            pos += 1 + size
        texts += ["", "", ""]
        return SimRequest(op, seq, texts[0], texts[1], texts[2])

    def reply(self, request: SimRequest, result: Result) -> list[bytes]:
        """One reply frame."""
        cmd = BIN_OPS.get(request.op, 0x7F) | 0x80
        head = bytes((request.seq,))
        if isinstance(result, str):
            return [self.frame(cmd, head + bytes((NAK_CODES.index(result) + 1,)))]
        if request.op == "SEALS" and isinstance(result, list):
            seals = [s for s in result if isinstance(s, SimSeal)][:5]
            return [self.frame(cmd, head + bytes((0, len(seals))) + b"".join(_record(s) for s in seals))]
        if isinstance(result, list):
            tags = [t for t in result if isinstance(t, SimTag)]
            body = bytes((0, len(tags)))
            for t in tags:
                epc = bytes.fromhex(t.epc)
                body += bytes((len(epc),)) + epc + struct.pack(">Bb", t.antenna, t.rssi)
            return [self.frame(cmd, head + body)]
        s = result
        sid = s.seal_id.encode("ascii")
        if request.op == "EVENTS":
            events = s.events[-40:]
            body = bytes((0, len(sid))) + sid + bytes((len(events),))
            body += b"".join(struct.pack(">BI", BIN_EVENTS[k], _unix(t)) for k, t in events)
            return [self.frame(cmd, head + body)]
        return [self.frame(cmd, head + b"\x00" + _record(s))]

    def tag_report(self, tag: SimTag) -> bytes:
        """Command 0x82 with seq 0."""
        epc = bytes.fromhex(tag.epc)
        return self.frame(
            0x82, b"\x00" + bytes((len(epc),)) + epc + struct.pack(">Bb", tag.antenna, tag.rssi)
        )

    def corrupt(self, frame: bytes) -> bytes:
        """Flip a bit of the CRC."""
        return frame[:-1] + bytes((frame[-1] ^ 0x01,))
