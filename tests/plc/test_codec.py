"""Register codec: read plans, decoding, encoding (no I/O)."""

from __future__ import annotations

import pytest

from lane_controller.plc.codec import ReadBlock, RegisterCodec, WriteOp, plan_reads
from lane_controller.plc.points import Point
from lane_controller.plc.profile import PlcProfile, load_plc_profile
from tests.plc.test_profile import raw


def block_of(codec: RegisterCodec, point: str) -> ReadBlock:
    return next(b for b in codec.plan if point in b.points)


def test_generic_plan_is_two_reads():
    codec = RegisterCodec(load_plc_profile("generic"))
    assert [(b.table, b.address, b.count) for b in codec.plan] == [
        ("discrete_input", 0, 12),
        ("input_register", 0, 8),
    ]
    assert block_of(codec, "cycle_count").points[-2:] == ("cycle_count", "fw_version")
    assert not any(p.writable for p in codec.status_points)


def test_came_plan_modicon_holding_registers():
    codec = RegisterCodec(load_plc_profile("came-gard"))
    # 40101..40109 -> holding registers 100..108 in one read; the coils and 402xx are written, not read
    assert [(b.table, b.address, b.count) for b in codec.plan] == [("holding_register", 100, 9)]


def test_register_only_plan_and_roger_plan():
    only = RegisterCodec(load_plc_profile("register-only"))
    assert [(b.table, b.address, b.count) for b in only.plan] == [("input_register", 0, 9)]
    roger = RegisterCodec(load_plc_profile("roger"))
    assert [(b.table, b.address, b.count) for b in roger.plan] == [
        ("discrete_input", 0, 10),
        ("input_register", 0, 8),
    ]


def pts(*specs: tuple[str, int, int]) -> list[Point]:
    return [
        Point(name, "input_register", address, "uint32" if width == 2 else "uint16")
        for name, address, width in specs
    ]


def test_plan_gaps_and_limits():
    points = pts(("a", 0, 1), ("b", 1, 2), ("c", 5, 1), ("d", 200, 1), ("e", 201, 1))
    assert [(b.address, b.count) for b in plan_reads(points)] == [(0, 3), (5, 1), (200, 2)]
    assert [(b.address, b.count, b.points) for b in plan_reads(points, max_gap=2)] == [
        (0, 6, ("a", "b", "c")),
        (200, 2, ("d", "e")),
    ]
    # a run longer than 125 registers is split
    long = [Point(f"p{i}", "holding_register", i, "uint16") for i in range(130)]
    assert [(b.address, b.count) for b in plan_reads(long)] == [(0, 125), (125, 5)]
    bits = [Point(f"b{i}", "coil", i * 10, "bool") for i in range(3)]
    assert [(b.address, b.count) for b in plan_reads(bits, max_gap=1)] == [(0, 21)]
    assert len(plan_reads(bits)) == 3
    # register bits share one read
    regbits = [Point(f"r{i}", "input_register", 4, "bool", bit=i) for i in range(3)]
    assert [(b.address, b.count, len(b.points)) for b in plan_reads(regbits)] == [(4, 1, 3)]


def test_decode_generic():
    codec = RegisterCodec(load_plc_profile("generic"))
    di = block_of(codec, "limit_up")
    ir = block_of(codec, "state")
    values = codec.decode_block(di, [True, False, True] + [False] * 9 + [True] * 4)  # padded like pymodbus
    assert (values["limit_up"], values["limit_down"], values["loop_arming"], values["on_battery"]) == (
        True,
        False,
        True,
        False,
    )
    values = codec.decode_block(ir, [32, 55, 3, 65535, 12, 0x0001, 0x0002, 0x0104])
    assert values == {
        "state": "opening",
        "position_pct": 55,
        "fault_code": "obstacle",
        "plc_heartbeat": 65535,
        "cmd_seq_ack": 12,
        "cycle_count": 0x0001_0002,  # big: high word first
        "fw_version": 0x0104,
    }
    assert codec.decode_block(ir, [99, 0, 77, 0, 0, 0, 0, 0])["state"] == "unknown(99)"
    with pytest.raises(ValueError, match="7 values for a read of 8"):
        codec.decode_block(ir, [0] * 7)


def test_decode_came_bits_and_little_word_order():
    codec = RegisterCodec(load_plc_profile("came-gard"))
    (hr,) = codec.plan
    inputs = 1 << 0 | 1 << 3 | 1 << 9  # limit_up, loop_safety, fault
    values = codec.decode_block(hr, [3, 100, 20, 7, inputs, 0x0002, 0x0001, 5, 9])
    assert values["state"] == "open"
    assert values["fault_code"] == "watchdog"
    assert (values["limit_up"], values["limit_down"], values["loop_safety"], values["fault"]) == (
        True,
        False,
        True,
        True,
    )
    assert values["cycle_count"] == 0x0001_0002  # little: low word first
    assert values["cmd_seq_ack"] == 9


def test_decode_int16():
    data = raw()
    data["points"]["position_pct"]["type"] = "int16"
    codec = RegisterCodec(PlcProfile.model_validate(data))
    point = codec.points["position_pct"]
    assert codec.decode(point, [0xFFFF]) == -1
    assert codec.decode(point, [0x7FFF]) == 32767


def test_encode():
    generic = RegisterCodec(load_plc_profile("generic"))
    assert generic.encode("coil_open", True) == WriteOp("coil_open", "coil", 0, (1,))
    assert generic.encode("cmd_seq", 65535) == WriteOp("cmd_seq", "holding_register", 3, (65535,))
    assert generic.encode("cmd_word", "close") == WriteOp("cmd_word", "holding_register", 2, (2,))
    roger = RegisterCodec(load_plc_profile("roger"))
    assert roger.encode("cmd_word", "reset") == WriteOp("cmd_word", "holding_register", 0, (99,))
    came = RegisterCodec(load_plc_profile("came-gard"))
    assert came.encode("host_heartbeat", 7) == WriteOp("host_heartbeat", "holding_register", 200, (7,))
    assert came.encode("coil_close", False) == WriteOp("coil_close", "coil", 3, (0,))


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("state", "open", "read-only"),
        ("limit_up", True, "read-only"),
        ("coil_hold_open", True, "does not map"),
        ("cmd_seq", 65536, "does not fit uint16"),
        ("cmd_seq", -1, "does not fit"),
        ("cmd_seq", "one", "expects a number"),
        ("coil_open", 1, "True or False"),
    ],
)
def test_encode_rejects(name, value, match):
    codec = RegisterCodec(load_plc_profile("came-gard"))
    with pytest.raises(ValueError, match=match):
        codec.encode(name, value)
    with pytest.raises(ValueError, match="'lift' is not one of none, open, close, stop, reset"):
        RegisterCodec(load_plc_profile("roger")).encode("cmd_word", "lift")


def test_encode_uint32_word_orders():
    point = Point("x", "holding_register", 10, "uint32", writable=True)
    from lane_controller.plc.codec import _words

    assert _words(point, 0x0001_0002, "big") == (1, 2)
    assert _words(point, 0x0001_0002, "little") == (2, 1)
    assert _words(Point("y", "holding_register", 1, "int16", writable=True), -2, "big") == (0xFFFE,)
