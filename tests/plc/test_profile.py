"""PLC profiles: the shipped ones load; each class of bad input fails with the file, key and reason."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from lane_controller.plc.profile import (
    PROFILE_DIR,
    PlcProfile,
    PlcProfileError,
    RtuTransport,
    TcpTransport,
    connection_for,
    load_plc_profile,
)

SHIPPED = ("generic", "came-gard", "roger", "register-only")


def raw(name: str = "generic") -> dict:
    return tomllib.loads((PROFILE_DIR / f"{name}.toml").read_text(encoding="utf-8"))


def dump(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(dump(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {dump(v)}' for k, v in value.items()) + " }"
    return str(value)


def write(tmp_path: Path, data: dict) -> Path:
    """A TOML file of ``data`` named after its profile name (inline tables only: enough for profiles)."""
    path = tmp_path / f"{data.get('name', 'x')}.toml"
    path.write_text("\n".join(f'"{k}" = {dump(v)}' for k, v in data.items()) + "\n", encoding="utf-8")
    return path


def fails(tmp_path: Path, data: dict, key: str, reason: str) -> PlcProfileError:
    path = write(tmp_path, data)
    with pytest.raises(PlcProfileError) as info:
        load_plc_profile(path)
    err = info.value
    assert (err.key, reason in err.reason) == (key, True), str(err)
    assert str(path) in str(err)
    return err


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profiles_load(name):
    profile = load_plc_profile(name)
    assert profile.name == name
    assert profile.point("state").enum.keys() >= {"open", "closed", "opening", "closing", "stopped"}


def test_dump_round_trips(tmp_path):
    for name in SHIPPED:
        assert load_plc_profile(write(tmp_path, raw(name))) == load_plc_profile(name)


def test_modicon_and_one_based_numbering():
    came = load_plc_profile("came-gard")
    assert (came.point("state").table, came.point("state").address) == ("holding_register", 100)
    assert (came.point("coil_stop").table, came.point("coil_stop").address) == ("coil", 0)
    assert (came.point("loop_safety").address, came.point("loop_safety").bit) == (104, 3)
    assert came.point("cycle_count").addresses == range(105, 107)
    roger = load_plc_profile("roger")
    assert (roger.point("cmd_word").table, roger.point("cmd_word").address) == ("holding_register", 0)
    assert (roger.point("limit_up").table, roger.point("limit_up").address) == ("discrete_input", 0)


def test_unknown_key(tmp_path):
    data = raw()
    data["timing"]["pol_ms"] = 50
    fails(tmp_path, data, "timing.pol_ms", "unknown key")
    data = raw()
    data["points"]["state"]["adress"] = 3
    fails(tmp_path, data, "points.state.adress", "unknown key")


def test_unknown_point_name(tmp_path):
    data = raw()
    data["points"]["limit_upp"] = {"table": "discrete_input", "address": 40}
    fails(tmp_path, data, "points.limit_upp", "unknown point name")


@pytest.mark.parametrize(
    ("numbering", "spec", "key", "reason"),
    [
        (
            "zero_based",
            {"table": "input_register", "address": 65536},
            "points.fw_version.address",
            "outside 0-65535",
        ),
        (
            "one_based",
            {"table": "input_register", "address": 0},
            "points.fw_version.address",
            "outside 1-65536",
        ),
        ("modicon", {"address": 20001}, "points.fw_version.address", "not a Modicon number"),
        ("modicon", {"address": 30000}, "points.fw_version.address", "not a Modicon number"),
        ("modicon", {"address": 50001}, "points.fw_version.address", "not a Modicon number"),
        ("modicon", {"address": 40120, "table": "input_register"}, "points.fw_version.table", "disagrees"),
        ("zero_based", {"address": 3}, "points.fw_version.table", "required"),
    ],
)
def test_impossible_addresses(tmp_path, numbering, spec, key, reason):
    data = raw("came-gard") if numbering == "modicon" else raw()
    data["numbering"] = numbering
    if numbering == "one_based":  # shift every other point so only fw_version is wrong
        for p in data["points"].values():
            p["address"] += 1
    data["points"]["fw_version"] = spec
    fails(tmp_path, data, key, reason)


def test_uint32_needs_two_registers(tmp_path):
    data = raw()
    data["points"]["cycle_count"] = {"table": "input_register", "address": 65535, "type": "uint32"}
    fails(tmp_path, data, "points.cycle_count.address", "two registers")
    data = raw()
    data["points"]["cycle_count"] = {"table": "input_register", "address": 6, "type": "uint32"}  # 6-7
    fails(tmp_path, data, "points.fw_version", "overlaps cycle_count")


def test_overlaps(tmp_path):
    data = raw()
    data["points"]["fw_version"] = {"table": "input_register", "address": 3}
    fails(tmp_path, data, "points.fw_version", "overlaps plc_heartbeat")
    data = raw("register-only")
    data["points"]["on_battery"]["bit"] = 1
    fails(tmp_path, data, "points.on_battery.bit", "bit 1 of input_register 0 is limit_down")
    data = raw("register-only")
    data["points"]["fw_version"] = {"table": "input_register", "address": 0}
    fails(tmp_path, data, "points.fw_version", "overlaps limit_up")


def test_writable_point_in_input_table(tmp_path):
    data = raw()
    data["points"]["lane_mode"] = {"table": "input_register", "address": 9}
    fails(tmp_path, data, "points.lane_mode.table", "read-only")
    data = raw()
    data["points"]["coil_open"] = {"table": "discrete_input", "address": 20}
    fails(tmp_path, data, "points.coil_open.table", "read-only")


def test_bits_and_types(tmp_path):
    data = raw()
    data["points"]["limit_up"]["bit"] = 2
    fails(tmp_path, data, "points.limit_up.bit", "only registers have bits")
    data = raw()
    data["points"]["position_pct"]["type"] = "bool"
    fails(tmp_path, data, "points.position_pct.type", "needs `bit`")
    data = raw("register-only")
    data["points"]["state"]["bit"] = 3
    fails(tmp_path, data, "points.state.enum", "only whole registers")
    data = raw()
    data["points"]["limit_up"] = {"table": "input_register", "address": 9}
    fails(tmp_path, data, "points.limit_up", "is a bool")
    data = raw()
    data["points"]["lane_mode"]["type"] = "uint32"
    fails(tmp_path, data, "points.lane_mode.type", "one uint16")


def test_enums(tmp_path):
    data = raw()
    data["points"]["state"]["enum"]["half_open"] = 7
    fails(tmp_path, data, "points.state.enum.half_open", "unknown name")
    data = raw()
    del data["points"]["state"]["enum"]["stopped"]
    fails(tmp_path, data, "points.state.enum", "missing stopped")
    data = raw()
    data["points"]["fault_code"]["enum"]["obstacle"] = 1
    fails(tmp_path, data, "points.fault_code.enum", "share one raw value")
    data = raw()
    del data["points"]["state"]["enum"]
    fails(tmp_path, data, "points.state.enum", "needs an enumeration")
    data = raw()
    data["points"]["position_pct"]["enum"] = {"open": 1}
    fails(tmp_path, data, "points.position_pct.enum", "not an enumeration")
    data = raw()
    data["points"]["state"]["enum"]["open"] = 70000
    fails(tmp_path, data, "points.state.enum.open", "less than or equal to 65535")


def test_required_point_missing(tmp_path):
    data = raw()
    del data["points"]["loop_safety"]
    fails(tmp_path, data, "points.loop_safety", "required point missing")


def test_function_codes(tmp_path):
    data = raw("register-only")
    data["points"]["coil_green_light"] = {"table": "coil", "address": 0}
    fails(tmp_path, data, "points.coil_green_light", "function code 5 or 15")
    data = raw("register-only")
    data["points"]["limit_up"] = {"table": "discrete_input", "address": 0}
    fails(tmp_path, data, "points.limit_up", "function code 2")
    data = raw("register-only")
    data["function_codes"] = [3, 4]
    fails(tmp_path, data, "points.host_heartbeat", "function code 6 or 16")


def test_command_section(tmp_path):
    data = raw()
    del data["command"]["coils"]["reset"]
    fails(tmp_path, data, "command.coils.reset", "missing")
    data = raw()
    data["command"]["coils"]["open"] = "limit_up"
    fails(tmp_path, data, "command.coils.open", "not a writable coil")
    data = raw()
    data["command"]["pulse_ms"] = 200
    fails(tmp_path, data, "command.pulse_ms", "not allowed with release plc")
    data = raw("came-gard")
    del data["command"]["pulse_ms"]
    fails(tmp_path, data, "command.pulse_ms", "required with release host")
    data = raw()
    del data["command"]["release"]
    fails(tmp_path, data, "command.release", "required")
    data = raw("roger")
    data["command"]["coils"] = {"open": "coil_open"}
    fails(tmp_path, data, "command.coils", "only with style coil_pulse")
    data = raw("roger")
    del data["command"]["point"]
    fails(tmp_path, data, "command.point", "required")
    data = raw("roger")
    del data["command"]["ack_point"]
    fails(tmp_path, data, "command.ack_point", "go together")
    data = raw("roger")
    data["command"]["seq_point"] = "lane_mode"
    fails(tmp_path, data, "command.seq_point", "must be the cmd_seq point")
    data = raw("roger")
    data["command"]["ack_point"] = "plc_heartbeat"
    fails(tmp_path, data, "command.ack_point", "must be the cmd_seq_ack point")
    data = raw()
    data["command"]["coils"]["close"] = "coil_open"  # open would run as close on the PLC
    fails(tmp_path, data, "command.coils.close", "must be the coil_close point")
    data = raw()
    data["command"]["coils"]["open"] = "coil_green_light"
    fails(tmp_path, data, "command.coils.open", "must be the coil_open point")
    data = raw()
    data["command"]["style"] = "pulse"
    fails(tmp_path, data, "command.style", "Input should be")


def test_misc_fields(tmp_path):
    data = raw()
    data["name"] = "other"
    write(tmp_path, data).rename(tmp_path / "generic.toml")
    with pytest.raises(PlcProfileError, match="name: 'other' must equal the file's stem 'generic'"):
        load_plc_profile(tmp_path / "generic.toml")
    data = raw()
    data["unit_id"] = 248
    fails(tmp_path, data, "unit_id", "less than or equal to 247")
    data = raw("came-gard")
    data["unit_id"] = 0
    fails(tmp_path, data, "unit_id", "broadcast")
    data = raw()
    data["transport"]["parity"] = "E"
    fails(tmp_path, data, "transport.tcp.parity", "unknown key")
    data = raw("came-gard")
    data["transport"]["parity"] = "X"
    fails(tmp_path, data, "transport.rtu.parity", "Input should be")
    data = raw()
    data["timing"]["heartbeat_ms"] = 3000
    fails(tmp_path, data, "timing.heartbeat_ms", "at most half of watchdog_ms")
    data = raw()
    data["numbering"] = "two_based"
    fails(tmp_path, data, "numbering", "Input should be")


def test_unreadable_files(tmp_path):
    with pytest.raises(PlcProfileError, match="no such profile"):
        load_plc_profile("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n", encoding="utf-8")
    with pytest.raises(PlcProfileError, match="cannot parse"):
        load_plc_profile(bad)


def test_connection_override():
    came = load_plc_profile("came-gard")
    conn = connection_for(came, {"device": "/dev/pts/7"})
    assert conn.transport == RtuTransport(kind="rtu", device="/dev/pts/7", baudrate=38400, parity="E")
    assert conn.describe() == "rtu /dev/pts/7 38400 8E1"
    conn = connection_for(came, {"kind": "tcp", "host": "10.1.2.3", "port": 1502})
    assert conn.transport == TcpTransport(host="10.1.2.3", port=1502)
    generic = load_plc_profile("generic")
    assert connection_for(generic, {"port": 5020}).describe() == "tcp 127.0.0.1:5020"
    assert connection_for(generic).request_timeout_s == 0.3
    with pytest.raises(PlcProfileError, match=r"lane gate-3: transport\.baudrate: unknown key"):
        connection_for(generic, {"baudrate": 9600}, source="lane gate-3")
    with pytest.raises(PlcProfileError, match=r"transport\.port"):
        connection_for(generic, {"port": 0})


def test_with_timing_validates():
    profile = load_plc_profile("generic").with_timing(poll_ms=10, watchdog_ms=400, heartbeat_ms=100)
    assert (profile.timing.poll_ms, profile.point("state").address) == (10, 0)
    with pytest.raises(ValueError, match="at most half of watchdog_ms"):
        profile.with_timing(heartbeat_ms=500)
    assert isinstance(profile, PlcProfile)


def test_points_and_timings_that_would_misbehave(tmp_path):
    data = raw()
    del data["points"]["host_heartbeat"]
    fails(tmp_path, data, "points.host_heartbeat", "required with a watchdog")
    data = raw()
    data["points"]["cmd_word"]["enum"]["none"] = 7
    data["points"]["cmd_word"]["enum"]["open"] = 1
    fails(tmp_path, data, "points.cmd_word.enum.none", "must be 0")
    data = raw()
    data["points"]["plc_heartbeat"] = {"table": "discrete_input", "address": 20}
    fails(tmp_path, data, "points.plc_heartbeat", "is a number")
    data = raw()
    data["timing"]["plc_frozen_ms"] = 300
    fails(tmp_path, data, "timing.plc_frozen_ms", "at least 3 poll periods")
