"""A bounded fuzz run of both protocol stacks (decoder + message parser): mutated real replies and
random payloads with valid checksums. Nothing may raise; every drop is counted."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lane_controller.readers.framing_ascii import encode_ascii
from lane_controller.readers.framing_binary import MAX_DATA, encode_binary
from lane_controller.readers.messages import AckMsg, EventMsg, NakMsg, SealStatusMsg, TagMsg
from lane_controller.readers.proto_ascii import AsciiProtocol
from lane_controller.readers.proto_binary import BinaryProtocol
from simulator.serial_readers.peers import AsciiPeer, BinaryPeer, SimRequest
from simulator.serial_readers.world import SimSeal, SimTag

BUDGET = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MESSAGE_TYPES = (TagMsg, SealStatusMsg, EventMsg, AckMsg, NakMsg)


def _samples() -> list[tuple[str, bytes]]:
    seal = SimSeal("TWSL00012345", "SEALED", 77, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), None, "CN1")
    seal.events = [("SEALED", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))]
    tags = [SimTag("E28011700000020F1A2B3C4D"), SimTag("AABB", 3, -90)]
    out: list[tuple[str, bytes]] = []
    for name, peer in (("ascii", AsciiPeer()), ("binary", BinaryPeer(1))):
        out.append((name, b"".join(peer.reply(SimRequest("SEALS", 4), [seal, seal]))))
        for op, result in (
            ("INVENTORY", tags),
            ("STATUS", seal),
            ("LOCK", seal),
            ("EVENTS", seal),
            ("UNLOCK", "TAMPERED"),
        ):
            out.append((name, b"".join(peer.reply(SimRequest(op, 9, seal.seal_id), result))))
        out.append((name, peer.tag_report(tags[0])))
    return out


SAMPLES = _samples()
EDIT = st.tuples(
    st.integers(0, 10_000), st.sampled_from(["flip", "drop", "insert", "dup"]), st.integers(0, 255)
)


def mutate(raw: bytes, edits: list[tuple[int, str, int]]) -> bytes:
    buf = bytearray(raw)
    for pos, kind, value in edits:
        i = pos % (len(buf) + 1)
        if kind == "flip" and i < len(buf):
            buf[i] ^= 1 << (value % 8)
        elif kind == "drop" and i < len(buf):
            del buf[i]
        elif kind == "insert":
            buf.insert(i, value)
        elif kind == "dup":
            buf[i:i] = buf[i : i + 8]
    return bytes(buf)


def run_stack(kind: str, raw: bytes) -> None:
    proto = AsciiProtocol() if kind == "ascii" else BinaryProtocol(address=1)
    messages = proto.feed(raw) + proto.flush()
    assert all(isinstance(m, MESSAGE_TYPES) for m in messages)


@BUDGET
@given(st.sampled_from(SAMPLES), st.lists(EDIT, max_size=6))
def test_fuzz_mutated_replies(sample: tuple[str, bytes], edits: list[tuple[int, str, int]]) -> None:
    kind, raw = sample
    run_stack(kind, mutate(raw, edits))


@BUDGET
@given(st.sampled_from([0x81, 0x82, 0x90, 0x91, 0x92, 0x93, 0x01, 0x7F]), st.binary(max_size=MAX_DATA))
def test_fuzz_binary_payloads_with_valid_crc(cmd: int, data: bytes) -> None:
    proto = BinaryProtocol(address=1)
    raw = encode_binary(1, cmd, data)
    messages = proto.feed(raw)
    assert all(isinstance(m, MESSAGE_TYPES) for m in messages)
    assert messages or sum(proto.stats.drops.values()) == 1  # parsed, or dropped and counted


FIELD = st.text(alphabet="0123456789ABCDEFTAGSELKNVOPRYUI-:Z", max_size=12)


@BUDGET
@given(st.sampled_from(["TAG", "SEAL", "EVT", "ACK", "NAK", "CMD", "X"]), st.lists(FIELD, max_size=9))
def test_fuzz_ascii_bodies_with_valid_checksum(kind: str, fields: list[str]) -> None:
    proto = AsciiProtocol()
    messages = proto.feed(encode_ascii(",".join([kind, *fields])))
    assert all(isinstance(m, MESSAGE_TYPES) for m in messages)
    assert messages or sum(proto.stats.drops.values()) == 1
