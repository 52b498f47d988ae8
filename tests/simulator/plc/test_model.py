"""The barrier model on its own clock (``advance``): travel, refusals, reversal, watchdog, commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.plc import SimPlc, load_sim_profile
from simulator.plc.profile import PROFILE_DIR

from .harness import PROFILES, make_plc


@pytest.mark.parametrize("name", PROFILES)
def test_profiles_load_with_protocol_addresses(name: str) -> None:
    profile = load_sim_profile(name)
    assert profile.name == name
    assert profile == load_sim_profile(PROFILE_DIR / f"{name}.toml")


def test_address_conversion() -> None:
    came = load_sim_profile("came-gard").points
    assert (came["coil_stop"].table, came["coil_stop"].address) == ("coil", 0)
    assert (came["state"].table, came["state"].address) == ("holding_register", 100)
    assert (came["loop_safety"].address, came["loop_safety"].bit) == (104, 3)
    roger = load_sim_profile("roger").points
    assert (roger["cmd_word"].table, roger["cmd_word"].address) == ("holding_register", 0)
    assert roger["limit_up"].address == 0
    assert load_sim_profile("register-only").function_codes == {3, 4, 6}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("numbering", '"zero_based"', '"two_based"'), "numbering"),
        (("limit_up", "address = 0 }", "address = 1 }"), "overlaps"),
        (("state", "enum = { open = 16", "enum = { ajar = 16"), "unknown names"),
        (("cmd_seq", '"holding_register", address = 3', '"input_register", address = 9'), "writable"),
        (("style", '"coil_pulse"', '"smoke_signal"'), "style"),
    ],
)
def test_bad_profiles_are_rejected(tmp_path: Path, edit: tuple[str, str, str], message: str) -> None:
    text = (PROFILE_DIR / "generic.toml").read_text()
    anchor, old, new = edit
    lines = [line.replace(old, new) if line.startswith(anchor) else line for line in text.splitlines()]
    path = tmp_path / "bad.toml"
    path.write_text("\n".join(lines))
    with pytest.raises(ValueError, match=message):
        load_sim_profile(path)
    with pytest.raises(ValueError, match="no such PLC profile"):
        load_sim_profile("no-such-board")


def test_open_close_cycle_travels_at_constant_speed() -> None:
    plc = make_plc("generic", travel_s=1.0)
    assert plc.snapshot()["state"] == "closed" and plc.limit_down and not plc.limit_up
    assert plc.command("open", seq=1).outcome == "executed"
    plc.advance(0.5)
    snap = plc.snapshot()
    assert snap["state"] == "opening" and snap["motor_running"] and snap["position_pct"] == 50
    assert not snap["limit_up"] and not snap["limit_down"]
    plc.advance(0.6)
    snap = plc.snapshot()
    assert (snap["state"], snap["limit_up"], snap["motor_running"], snap["cmd_seq_ack"]) == (
        "open",
        True,
        False,
        1,
    )
    plc.command("close", seq=2)
    plc.advance(1.1)
    assert plc.snapshot()["state"] == "closed" and plc.cycle_count == 1
    plc.command("open", seq=3)
    plc.advance(0.3)
    plc.command("stop", seq=4)
    plc.advance(1.0)
    assert plc.state == "stopped" and round(plc.position) == 30


def test_instant_travel_for_benchmarks() -> None:
    plc = make_plc("roger", travel_s=0)
    plc.command("open", seq=1)
    assert plc.state == "open" and plc.limit_up


def test_close_refused_with_a_vehicle_under_the_boom_and_reversal() -> None:
    plc = make_plc("generic", travel_s=1.0)
    plc.command("open", seq=1)
    plc.advance(1.1)
    for blocker in ("loop_safety", "photocell_blocked"):
        plc.set_inputs(**{blocker: True})
        record = plc.command("close", seq=2)
        assert (record.outcome, record.reason) == ("refused", "vehicle under the boom")
        assert plc.cmd_seq_ack == 1 and plc.state == "open"
        plc.set_inputs(**{blocker: False})
    assert plc.command("close", seq=2).outcome == "executed"
    plc.advance(0.5)
    plc.set_inputs(photocell_blocked=True)  # a vehicle appears under the closing boom
    assert plc.state == "opening" and plc.fault_code == "obstacle" and plc.latched is None
    plc.advance(1.0)
    assert plc.state == "open" and plc.cycle_count == 0
    assert plc.fault_code == "none"  # not latched: gone once the boom is back up
    plc.set_inputs(photocell_blocked=False)
    plc.command("close", seq=3)
    assert plc.fault_code == "none"


def test_sequence_numbers_deduplicate_retries_and_refusals_are_not_acked() -> None:
    plc = make_plc("generic", travel_s=0)
    assert plc.command("open", seq=7).outcome == "executed"
    plc.command("stop", seq=8)
    plc.position, plc.direction = 40.0, 0
    assert plc.command("stop", seq=8).outcome == "duplicate"
    assert plc.cmd_seq_ack == 8
    plc.set_inputs(estop=True)
    assert plc.command("open", seq=9).reason == "estop"
    assert plc.cmd_seq_ack == 8
    plc.set_inputs(estop=False)
    assert plc.command("open", seq=9).outcome == "executed"  # the refused seq may run once allowed


def test_commands_are_consumed_even_when_refused() -> None:
    plc = make_plc("generic", travel_s=0)
    plc.set_inputs(manual_mode=True)
    plc.write_points({"cmd_seq": 1, "coil_open": True})
    assert plc.coils["coil_open"] is False and plc.history[-1].reason == "manual_mode"
    plc.set_inputs(manual_mode=False)
    plc.advance(1.0)
    assert plc.state == "closed"  # never held to run later
    plc.write_points({"cmd_word": "open", "cmd_seq": 2})  # the seq lands before the command
    assert plc.value("cmd_word") == "none" and plc.cmd_seq_ack == 2 and plc.state == "open"


def test_host_released_coils_act_on_the_rising_edge() -> None:
    plc = make_plc("came-gard", travel_s=0)
    plc.write_points({"cmd_seq": 1, "coil_open": True})
    assert plc.coils["coil_open"] and plc.state == "open"
    plc.write_points({"cmd_seq": 2, "coil_close": True})
    plc.write_points({"cmd_seq": 3, "coil_open": True})  # still high: no edge
    assert plc.state == "closed" and plc.cmd_seq_ack == 2
    plc.write_points({"coil_open": False})
    plc.write_points({"cmd_seq": 3, "coil_open": True})
    assert plc.state == "open"


def test_estop_stops_where_it_is_and_manual_refuses_remote_commands() -> None:
    plc = make_plc("generic", travel_s=1.0)
    plc.command("open", seq=1)
    plc.advance(0.4)
    plc.set_inputs(estop=True)
    plc.advance(0.5)
    assert plc.state == "stopped" and round(plc.position) == 40
    assert plc.command("close", seq=2).outcome == "refused"
    assert plc.command("stop", seq=3).outcome == "executed"
    plc.set_inputs(estop=False, manual_mode=True)
    assert [plc.command(c, seq=s).reason for c, s in (("open", 4), ("reset", 5))] == ["manual_mode"] * 2
    assert plc.command("stop", seq=6).outcome == "executed"


def test_watchdog_latches_refuses_opens_and_clears_on_a_new_heartbeat() -> None:
    plc = SimPlc(load_sim_profile("generic"), travel_s=0, watchdog_ms=500)
    plc.command("open", seq=1)
    plc.advance(0.6)
    assert plc.fault_code == "watchdog" and plc.value("fault")
    assert plc.state == "open"  # a boom already up stays up
    plc.command("close", seq=2)
    assert plc.state == "closed"
    assert plc.command("open", seq=3).reason == "fault watchdog"
    plc.write_points({"host_heartbeat": 1})
    assert plc.fault_code == "none"
    assert plc.command("open", seq=3).outcome == "executed"
    plc.write_points({"watchdog_ms": 0})
    plc.advance(2.0)
    assert plc.fault_code == "none"


def test_auto_close_after_the_lane_clears() -> None:
    plc = make_plc("generic", travel_s=0, auto_close_s=2)
    plc.command("open", seq=1)
    plc.set_inputs(loop_exit=True)
    plc.advance(3.0)
    assert plc.state == "open"
    plc.set_inputs(loop_exit=False)
    plc.advance(1.9)
    assert plc.state == "open"
    plc.advance(0.2)
    assert plc.state == "closed"
    plc.write_points({"lane_mode": 2})
    assert plc.command("open", seq=2).outcome == "executed"
    plc.advance(5.0)
    assert plc.state == "open"
    assert plc.command("close", seq=3).reason == "lane held open"


def test_stuck_limit_and_frozen_heartbeat() -> None:
    plc = make_plc("generic", travel_s=0)
    plc.advance(0.35)
    assert plc.plc_heartbeat == 3
    plc.faults.freeze_heartbeat = True
    plc.advance(1.0)
    assert plc.plc_heartbeat == 3
    plc.faults.freeze_heartbeat = False
    plc.advance(0.1)
    assert plc.plc_heartbeat == 4
    plc.faults.stuck_limit = "up"
    plc.advance(0.01)
    assert plc.limit_up and plc.limit_down and plc.fault_code == "both_limits"
    assert plc.command("open", seq=1).reason == "fault both_limits"
    plc.command("reset", seq=2)
    assert plc.fault_code == "both_limits"  # the cause is still there
    plc.faults.stuck_limit = None
    plc.command("reset", seq=3)
    assert plc.fault_code == "none"
    plc.inject_fault("overcurrent")
    assert plc.snapshot()["fault_code"] == "overcurrent"


def test_drive_through_waits_for_the_boom() -> None:
    import asyncio

    plc = make_plc("generic", travel_s=0.05, auto_close_s=1)

    async def body() -> tuple[bool, bool]:
        plc.start()
        try:
            backed_off = await plc.drive_through(step_s=0.02, open_timeout_s=0.1)
            driver = asyncio.create_task(plc.drive_through(step_s=0.05))
            await asyncio.sleep(0.1)
            seen_arming = plc.inputs["loop_arming"]
            plc.command("open", seq=1)
            passed = await driver
            assert seen_arming and not any(plc.inputs.values())
            return backed_off, passed
        finally:
            await plc.stop()

    assert asyncio.run(asyncio.wait_for(body(), 5)) == (False, True)


def test_with_the_host_gone_the_boom_comes_down_once_the_lane_is_clear() -> None:
    """Watchdog expired with the boom up: it stays up over a vehicle, and comes down 3 s after the safety
    loop, the photocell and the exit loop are all clear."""
    plc = SimPlc(load_sim_profile("generic"), travel_s=0, watchdog_ms=500)
    plc.command("open", seq=1)
    plc.set_inputs(loop_safety=True)
    plc.advance(5.0)
    assert plc.fault_code == "watchdog" and plc.state == "open"  # a vehicle under the boom: it stays up
    plc.set_inputs(loop_safety=False, loop_exit=True)
    plc.advance(5.0)
    assert plc.state == "open"
    plc.set_inputs(loop_exit=False)
    plc.advance(2.9)
    assert plc.state == "open"
    plc.advance(0.2)
    assert plc.state == "closed"
