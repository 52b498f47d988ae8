"""The barrier driver against the simulated PLC, every profile over TCP and over RTU on a pty."""

from __future__ import annotations

import logging

import pytest

import lane_controller.plc.hub as hub_module
from lane_controller.plc import BarrierDriver, Outcome, PlcProfile
from tests.plc.harness import FAST, KINDS, PROFILES, Rig, rig, run, unavailable, until
from tests.plc.test_profile import raw

pytestmark = pytest.mark.parametrize("kind", KINDS)
profiles = pytest.mark.parametrize("name", PROFILES)


async def cycle(r: Rig) -> None:
    opened = await r.driver.open()
    assert (opened.confirmed, opened.reason) == (True, Outcome.OK), opened
    assert r.plc.limit_up and r.driver.status().limit_up
    closed = await r.driver.close()
    assert (closed.confirmed, closed.reason) == (True, Outcome.OK), closed
    assert r.plc.limit_down


@profiles
def test_open_close_cycles_and_refused_close(name, kind):
    async def body() -> None:
        async with rig(name, kind) as r:
            first = r.driver.status()
            assert (first.state, first.limit_down, first.fault_code) == ("closed", True, "none")
            await cycle(r)
            assert [(rec.command, rec.seq, rec.outcome) for rec in r.plc.history] == [
                ("open", 1, "executed"),
                ("close", 2, "executed"),
            ]
            assert r.driver.status().cmd_seq == r.driver.status().cmd_seq_ack == 2
            assert (await r.driver.wait_for(lambda s: s.cycle_count == 1, 1.0)) is not None

            assert (await r.driver.open()).confirmed
            r.plc.set_inputs(loop_safety=True)
            refused = await r.driver.close()
            assert (refused.confirmed, refused.reason, refused.seq) == (False, Outcome.REFUSED, 4)
            assert "not acknowledged within 200 ms" in refused.text
            assert "vehicle on the safety loop" in refused.text
            assert r.plc.history[-1].outcome == "refused"
            assert r.plc.limit_up  # the boom did not come down on the vehicle
            r.plc.set_inputs(loop_safety=False)
            assert (await r.driver.close()).confirmed

    run(body)


@profiles
def test_delay_silence_and_exceptions(name, kind, caplog, monkeypatch):
    monkeypatch.setattr(hub_module, "_STABLE_S", 0.0)  # log the recovery at the first good request

    async def body() -> None:
        async with rig(name, kind) as r:
            d = r.driver
            r.plc.faults.delay_s = 0.03  # slower than usual, within the request time-out
            await cycle(r)
            assert d.status().available

            r.plc.faults.delay_s = 0.0
            r.plc.faults.silent = True
            st = await unavailable(d, "unavailable when silent")
            assert st.last_error_kind == "PlcTimeout"
            assert "no reply within 100 ms" in st.last_error
            outcome = await d.open()
            assert (outcome.confirmed, outcome.reason) == (False, Outcome.UNAVAILABLE)
            assert "PLC unavailable" in outcome.text
            await until(lambda: d.hub.stats.failures >= 3, what="several failed polls")
            assert d.status().last_error_kind == "PlcTimeout"  # the cause, not the wait to reconnect
            r.plc.faults.silent = False
            await until(lambda: d.status().available, what="recovery after silence")
            assert d.status().reconnects >= 1

            r.plc.faults.exception_code = 4
            st = await unavailable(d, "unavailable on exceptions")
            block = d.codec.plan[0]
            assert st.last_error_kind == "PlcExceptionReply"
            assert f"{block.points[0]}" in st.last_error
            assert f"({block.table} {block.address})" in st.last_error
            assert "Modbus exception 4 (server_device_failure)" in st.last_error
            outcome = await d.open()
            assert (outcome.confirmed, outcome.reason) == (False, Outcome.EXCEPTION)
            assert "Modbus exception 4" in outcome.text
            r.plc.faults.exception_code = None
            await until(lambda: d.status().available, what="recovery after exceptions")
            assert (await d.open()).confirmed

    with caplog.at_level(logging.INFO, logger="lane_controller.plc.hub"):
        run(body)
    hub_lines = [rec for rec in caplog.records if rec.name == "lane_controller.plc.hub"]
    # one line when it became unavailable and one when it came back, per episode: the two made here
    # (silence, exceptions), and on a loaded host perhaps one more where a delayed reply ran past its
    # time-out; never two warnings or two recoveries in a row
    levels = [rec.levelname for rec in hub_lines]
    assert len(levels) >= 4 and levels == ["WARNING", "INFO"] * (len(levels) // 2), hub_lines
    warnings = " ".join(rec.getMessage() for rec in hub_lines if rec.levelname == "WARNING")
    assert "no reply within 100 ms" in warnings and "Modbus exception 4" in warnings, warnings


@profiles
def test_frozen_heartbeat_and_stuck_limit(name, kind):
    async def body() -> None:
        async with rig(name, kind) as r:
            d = r.driver
            r.plc.faults.freeze_heartbeat = True
            st = await until(lambda: d.status().plc_frozen and d.status(), what="plc_frozen")
            assert (st.fault, st.fault_code, st.available) == (True, "plc_frozen", True)
            r.plc.faults.freeze_heartbeat = False
            st = await until(lambda: not d.status().plc_frozen and d.status(), what="heartbeat again")
            assert (st.fault, st.fault_code) == (False, "none")

            r.plc.faults.stuck_limit = "down"
            outcome = await d.open()
            assert (outcome.confirmed, outcome.reason) == (False, Outcome.TRAVEL_TIMEOUT), outcome
            assert "limit_up not reached within 500 ms (limit_down still set)" in outcome.text
            assert "fault both_limits" in outcome.text
            r.plc.faults.stuck_limit = None
            assert (await d.reset()).confirmed
            await until(lambda: not d.status().fault, what="fault cleared")
            assert (await d.close()).confirmed

    run(body)


@profiles
def test_line_faults_and_server_restart(name, kind):
    async def body() -> None:
        async with rig(name, kind) as r:
            d = r.driver
            if kind == "rtu":
                r.plc.faults.corrupt_rtu = 1.0
                st = await unavailable(d, "unavailable")
                assert st.last_error_kind in ("PlcTimeout", "PlcMalformedReply"), st
                r.plc.faults.corrupt_rtu = 0.25
                failures = d.hub.stats.failures
                await until(lambda: d.hub.stats.failures >= failures + 3, what="damaged replies")
                r.plc.faults.corrupt_rtu = 0.0
                await until(lambda: d.status().available, what="recovery after damaged replies")
            else:
                connects = d.hub.stats.connects
                await r.server.drop_connections()
                await until(
                    lambda: d.hub.stats.connects > connects and d.status().available, what="reconnected"
                )
            await cycle(r)

            await r.server.stop()
            st = await unavailable(d, "unavailable when stopped")
            assert st.last_error_kind in ("PlcConnectionError", "PlcTimeout")
            polls = d.status().polls
            await r.server.restart()
            await until(lambda: d.status().available and d.status().polls > polls, what="back after restart")
            await cycle(r)

    run(body)


@profiles
def test_host_heartbeat_and_watchdog(name, kind):
    async def body() -> None:
        async with rig(name, kind) as r:
            seen: list[str] = []
            unsubscribe = r.driver.subscribe(lambda s: seen.append(s.fault_code))
            await until(lambda: len(seen) >= 2 * FAST["watchdog_ms"] // FAST["poll_ms"], what="polls")
            unsubscribe()
            assert set(seen) == {"none"}  # the heartbeat kept the watchdog quiet
            assert r.plc.held["watchdog_ms"] == FAST["watchdog_ms"]

            await r.driver.stop()
            await until(lambda: r.plc.fault_code == "watchdog", what="watchdog expired")
            # a driver that writes no heartbeat: opens are refused, and it says why
            data = raw(name)
            del data["points"]["host_heartbeat"]  # and leaves the PLC's watchdog as it is
            del data["points"]["watchdog_ms"]
            silent = BarrierDriver(PlcProfile.model_validate(data).with_timing(**FAST), r.conn)
            await silent.start()
            try:
                outcome = await silent.open()
                assert (outcome.confirmed, outcome.reason) == (False, Outcome.REFUSED), outcome
                assert "PLC reports fault watchdog" in outcome.text
            finally:
                await silent.stop()
            await r.driver.start()  # heartbeats again: the PLC clears the watchdog fault by itself
            await until(lambda: r.driver.status().available and r.driver.status().fault_code == "none")
            assert (await r.driver.open()).confirmed

    run(body)


def test_a_fault_bit_read_without_its_code_is_a_fault_once_the_next_poll_agrees(kind):
    """The fault bit and the fault-code register are read in separate requests: a reversal that begins
    between them reads as the bit without its code once. A board without a fault-code register faults
    at once."""
    from functools import partial

    from lane_controller.plc.transport import ModbusTransport

    async def body() -> None:
        async with rig("generic", kind) as r:
            values = {}
            for block in r.driver.codec.plan:
                raw = await r.driver.hub.request(partial(ModbusTransport.read_block, block=block))
                values.update(r.driver.codec.decode_block(block, raw))
            assert (values["fault"], values["fault_code"]) == (False, "none")
            torn = {**values, "fault": True}
            driver = BarrierDriver(r.driver.profile, r.conn)  # never started: the polls are these calls
            polls = [driver._snapshot(v, 0.0) for v in (torn, torn, values, torn, values)]
            assert [p.fault for p in polls] == [False, True, False, False, False]
            assert polls[1].fault_code == "fault"
            coded = driver._snapshot({**values, "fault": True, "fault_code": "overcurrent"}, 0.0)
            assert (coded.fault, coded.fault_code) == (True, "overcurrent")
            uncoded_board = {k: v for k, v in torn.items() if k != "fault_code"}
            assert BarrierDriver(r.driver.profile, r.conn)._snapshot(uncoded_board, 0.0).fault

    run(body)
