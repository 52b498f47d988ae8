"""Property tests of the two decoders: round trips, chunking, resync, and no bad frame ever accepted."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lane_controller.readers.crc import crc16_mcrf4xx, xor_checksum
from lane_controller.readers.frames import AsciiFrame, BinaryFrame, DropReason
from lane_controller.readers.framing_ascii import AsciiDecoder, encode_ascii
from lane_controller.readers.framing_binary import MAX_DATA, BinaryDecoder, encode_binary
from simulator.serial_readers import checks

BODY = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="$*"), max_size=200
)
DATA = st.binary(max_size=MAX_DATA)
BYTE = st.integers(0, 255)
SPLITS = st.lists(st.integers(0, 600), max_size=8)


def chunks(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(raw) + 1) for c in cuts})
    return [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]


def ascii_ok(frame: AsciiFrame) -> bool:
    body, _, check = frame.raw.rstrip(b"\r\n")[1:].rpartition(b"*")
    return int(check, 16) == checks.nmea_xor(body) and body.decode() == frame.body


def binary_ok(frame: BinaryFrame) -> bool:
    raw = frame.raw
    return raw[0] == len(raw) - 1 and checks.crc16_mcrf4xx(raw[:-2]) == raw[-2] | raw[-1] << 8


def decode_ascii(parts: list[bytes]) -> list[AsciiFrame]:
    dec = AsciiDecoder()
    return [f for part in parts for f in dec.feed(part)] + dec.flush()


def decode_binary(parts: list[bytes], address: int | None = None) -> list[BinaryFrame]:
    dec = BinaryDecoder(address)
    return [f for part in parts for f in dec.feed(part)] + dec.flush()


@settings(deadline=None)
@given(st.lists(BODY, min_size=1, max_size=5), SPLITS)
def test_ascii_round_trip_in_any_chunks(bodies: list[str], cuts: list[int]) -> None:
    raw = b"".join(encode_ascii(b) for b in bodies)
    assert [f.body for f in decode_ascii(chunks(raw, cuts))] == bodies


@settings(deadline=None)
@given(st.lists(st.tuples(BYTE, BYTE, DATA), min_size=1, max_size=4), SPLITS)
def test_binary_round_trip_in_any_chunks(frames: list[tuple[int, int, bytes]], cuts: list[int]) -> None:
    raw = b"".join(encode_binary(a, c, d) for a, c, d in frames)
    assert [(f.adr, f.cmd, f.data) for f in decode_binary(chunks(raw, cuts))] == frames


@settings(deadline=None)
@given(st.binary(max_size=2000), SPLITS)
def test_random_bytes_never_crash_or_yield_a_bad_frame(noise: bytes, cuts: list[int]) -> None:
    assert all(ascii_ok(f) for f in decode_ascii(chunks(noise, cuts)))
    assert all(binary_ok(f) for f in decode_binary(chunks(noise, cuts)))


@settings(deadline=None)
@given(BODY, st.integers(0, 10_000), st.integers(0, 7))
def test_ascii_bit_flip_is_never_accepted_as_another_frame(body: str, pos: int, bit: int) -> None:
    raw = bytearray(encode_ascii(body))
    raw[pos % len(raw)] ^= 1 << bit
    frames = decode_ascii([bytes(raw)])
    assert all(ascii_ok(f) and f.body == body for f in frames)  # only a hex-digit case flip survives


@settings(deadline=None)
@given(BYTE, BYTE, DATA, st.integers(0, 10_000), st.integers(0, 7))
def test_binary_bit_flip_is_always_detected(adr: int, cmd: int, data: bytes, pos: int, bit: int) -> None:
    raw = bytearray(encode_binary(adr, cmd, data))
    raw[pos % len(raw)] ^= 1 << bit
    frames = decode_binary([bytes(raw)])
    assert all(binary_ok(f) for f in frames)
    assert (adr, cmd, data) not in [(f.adr, f.cmd, f.data) for f in frames]


@settings(deadline=None)
@given(BODY, BODY, st.integers(1, 10_000))
def test_ascii_truncated_frame_is_dropped_and_the_next_one_read(first: str, second: str, cut: int) -> None:
    raw = encode_ascii(first)
    partial = raw[: cut % (len(raw) - 1) + 1]
    dec = AsciiDecoder()
    frames = dec.feed(partial) + dec.feed(encode_ascii(second))
    assert [f.body for f in frames] == [second]
    assert dec.stats.drops[DropReason.TRUNCATED] + dec.stats.drops[DropReason.MALFORMED] == 1


@settings(deadline=None)
@given(st.binary(max_size=60).filter(lambda b: b"$" not in b), BODY, BODY)
def test_ascii_resyncs_after_garbage(garbage: bytes, first: str, second: str) -> None:
    frames = decode_ascii([garbage + encode_ascii(first) + garbage + encode_ascii(second)])
    assert [f.body for f in frames] == [first, second]


@settings(deadline=None)
@given(st.binary(min_size=1, max_size=60), BYTE, DATA)
def test_binary_resyncs_after_garbage_once_the_line_is_quiet(garbage: bytes, cmd: int, data: bytes) -> None:
    raw = encode_binary(7, cmd, data)
    frames = decode_binary([garbage + raw], address=7)
    assert (7, cmd, data) in [(f.adr, f.cmd, f.data) for f in frames]


@settings(max_examples=50, deadline=None)
@given(BYTE, BYTE, DATA, st.integers(1, 300))
def test_binary_truncated_frame_is_counted(adr: int, cmd: int, data: bytes, cut: int) -> None:
    raw = encode_binary(adr, cmd, data)
    dec = BinaryDecoder()
    assert dec.feed(raw[: cut % (len(raw) - 1) + 1]) == []
    assert dec.flush() == []
    assert sum(dec.stats.drops.values()) >= 1


@settings(deadline=None)
@given(st.binary(max_size=600))
def test_checksums_match_the_simulators_independent_ones(data: bytes) -> None:
    assert xor_checksum(data) == checks.nmea_xor(data)
    assert crc16_mcrf4xx(data) == checks.crc16_mcrf4xx(data)
