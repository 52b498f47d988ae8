"""Golden byte vectors from hardware_profiles/readers/README.md, checked against both the controller's
codecs and the simulator's independent ones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lane_controller.readers.crc import crc16_mcrf4xx, xor_checksum
from lane_controller.readers.framing_ascii import encode_ascii
from lane_controller.readers.framing_binary import BinaryDecoder, encode_binary
from lane_controller.readers.messages import NakCode, NakMsg, Op, Request, SealStatus, SealStatusMsg
from lane_controller.readers.proto_ascii import AsciiProtocol
from lane_controller.readers.proto_binary import BinaryProtocol
from simulator.serial_readers import checks
from simulator.serial_readers.peers import AsciiPeer, BinaryPeer, SimRequest

STATUS_REQ = bytes.fromhex("12 01 10 01 0C 54 57 53 4C 30 30 30 31 32 33 34 35 9F F4")
STATUS_REPLY = bytes.fromhex(
    "1D 01 90 01 00 0C 54 57 53 4C 30 30 30 31 32 33 34 35 01 5A 65 53 F1 00 00 00 00 00 C2 43"
)


@pytest.mark.parametrize("crc", [crc16_mcrf4xx, checks.crc16_mcrf4xx])
def test_crc16_mcrf4xx_check_value(crc) -> None:
    assert crc(b"123456789") == 0x6F91
    assert crc(b"") == 0xFFFF
    assert crc(bytes.fromhex("04 00 01")) == 0x4BDB  # the common UHF-reader inventory frame 04 00 01 DB 4B
    assert crc(bytes.fromhex("04 FF 21")) == 0x9519


def test_xor_checksums_agree() -> None:
    assert xor_checksum(b"CMD,1,STATUS,TWSL00012345") == checks.nmea_xor(b"CMD,1,STATUS,TWSL00012345") == 0x5E
    assert xor_checksum(b"") == 0


@pytest.mark.parametrize(
    ("adr", "cmd", "data", "golden"),
    [
        (0, 0x01, b"", "04 00 01 DB 4B"),
        (0xFF, 0x21, b"", "04 FF 21 19 95"),
        (0, 0x01, b"\x05", "05 00 01 05 03 23"),
        (1, 0x91, b"\x07\x04", "06 01 91 07 04 22 CF"),
    ],
)
def test_binary_frames(adr: int, cmd: int, data: bytes, golden: str) -> None:
    raw = bytes.fromhex(golden)
    assert encode_binary(adr, cmd, data) == raw
    assert BinaryPeer(adr).frame(cmd, data) == raw
    [frame] = BinaryDecoder().feed(raw)
    assert (frame.adr, frame.cmd, frame.data) == (adr, cmd, data)


def test_binary_status_request_and_reply() -> None:
    proto = BinaryProtocol(address=1)
    assert proto.encode(1, Request(Op.STATUS, "TWSL00012345")) == STATUS_REQ
    [req] = BinaryPeer(1).feed(STATUS_REQ)
    assert req == SimRequest("STATUS", 1, "TWSL00012345", "", "")
    sealed = datetime.fromtimestamp(1700000000, UTC)
    assert proto.feed(STATUS_REPLY)[0] == SealStatusMsg(
        1, "TWSL00012345", SealStatus.SEALED, 90, sealed, None
    )
    assert proto.feed(bytes.fromhex("06 01 91 07 04 22 CF")) == [
        NakMsg(7, NakCode.BATTERY_LOW, "status 0x04")
    ]


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("CMD,1,STATUS,TWSL00012345", b"$CMD,1,STATUS,TWSL00012345*5E\r\n"),
        ("TAG,0,E28011700000020F1A2B3C4D,1,-55", b"$TAG,0,E28011700000020F1A2B3C4D,1,-55*72\r\n"),
        ("NAK,7,BATTERY_LOW", b"$NAK,7,BATTERY_LOW*35\r\n"),
    ],
)
def test_ascii_lines(body: str, line: bytes) -> None:
    assert encode_ascii(body) == line == AsciiPeer.line(body)


def test_seal_inventory_requests() -> None:
    assert BinaryProtocol(address=1).encode(2, Request(Op.SEALS)) == bytes.fromhex("05 01 14 02 49 E6")
    assert BinaryPeer(1).feed(bytes.fromhex("05 01 14 02 49 E6")) == [SimRequest("SEALS", 2)]
    assert AsciiProtocol().encode(2, Request(Op.SEALS)) == b"$CMD,2,SEALS*30\r\n"
    assert AsciiPeer().feed(b"$CMD,2,SEALS*30\r\n") == [SimRequest("SEALS", 2)]


def test_ascii_request_and_refusal() -> None:
    proto = AsciiProtocol()
    assert proto.encode(1, Request(Op.STATUS, "TWSL00012345")) == b"$CMD,1,STATUS,TWSL00012345*5E\r\n"
    assert AsciiPeer().feed(b"$CMD,1,STATUS,TWSL00012345*5E\r\n") == [SimRequest("STATUS", 1, "TWSL00012345")]
    assert proto.feed(b"$NAK,7,BATTERY_LOW*35\r\n") == [NakMsg(7, NakCode.BATTERY_LOW, "BATTERY_LOW")]
