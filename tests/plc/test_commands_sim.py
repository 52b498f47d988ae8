"""Command sequence numbers against the simulated PLC: wrapping, carrying on after a restart, and a
retried write that reuses its number so the PLC does not run it twice."""

from __future__ import annotations

import asyncio

import pytest

from lane_controller.plc import BarrierDriver, Outcome, PlcTimeout
from tests.plc.harness import PROFILES, fast_profile, rig, run, until

profiles = pytest.mark.parametrize("name", PROFILES)


@profiles
def test_sequence_numbers_wrap_past_zero_and_follow_the_plc(name):
    async def body() -> None:
        async with rig(name, "tcp") as r:
            await r.driver.stop()
            r.plc.command("stop", 65534)  # what an earlier controller run left in the PLC
            fresh = BarrierDriver(r.driver.profile, r.conn)  # learns the number from the PLC
            await fresh.start()
            try:
                outcomes = [await fresh.open(), await fresh.close(), await fresh.stop_boom()]
            finally:
                await fresh.stop()
            assert [(o.confirmed, o.seq) for o in outcomes] == [(True, 65535), (True, 1), (True, 2)]
            assert [(h.seq, h.outcome) for h in r.plc.history[1:]] == [
                (65535, "executed"),
                (1, "executed"),
                (2, "executed"),
            ]

    run(body)


@profiles
def test_retried_command_reuses_its_sequence_number(name):
    async def body() -> None:
        async with rig(name, "tcp") as r:
            cmd = r.driver.profile.command
            command_point = cmd.coils["open"] if cmd.coils else "cmd_word"
            transport = r.driver.hub.transport
            lost = []

            def losing(method):
                async def write(address, value, *, point=None):
                    await method(address, value, point=point)  # the PLC gets it...
                    if point == command_point and not lost:
                        lost.append(point)
                        raise PlcTimeout("no reply within 100 ms", point=point)  # ...the reply is lost

                return write

            transport.write_coil = losing(transport.write_coil)
            transport.write_register = losing(transport.write_register)
            outcome = await r.driver.open()
            assert lost == [command_point]
            assert (outcome.confirmed, outcome.reason, outcome.seq) == (True, Outcome.OK, 1), outcome
            executed = [h for h in r.plc.history if h.outcome == "executed"]
            assert [(h.command, h.seq) for h in executed] == [("open", 1)]
            # the retry was either a duplicate the PLC acknowledged again, or (host-released coil still
            # held at 1) no new rising edge at all
            assert {h.outcome for h in r.plc.history} <= {"executed", "duplicate"}

    run(body)


@pytest.mark.parametrize("name", ["generic", "came-gard"])
def test_command_until_ack_leaves_the_travel_to_the_status(name):
    async def body() -> None:
        async with rig(name, "rtu") as r:
            outcome = await r.driver.command("open", until="ack")
            assert (outcome.confirmed, outcome.seq) == (True, 1)
            assert "acknowledged" in outcome.text
            assert not r.plc.limit_up  # still on its way
            assert await r.driver.wait_for(lambda s: s.limit_up, 1.0) is not None
            with pytest.raises(ValueError, match="unknown barrier command 'lift'"):
                await r.driver.command("lift")

    run(body)


@profiles
def test_a_command_is_confirmed_by_the_drivers_own_polls(name):
    """The background poll runs once a minute here: open and close are still confirmed, because the driver
    polls by itself while a command awaits its acknowledgement and limit switch."""

    async def body() -> None:
        profile = fast_profile(name, poll_ms=60_000, plc_frozen_ms=600_000)
        async with rig(name, "tcp", profile, travel_s=0.05) as r:
            polls = r.driver.status().polls
            outcomes = [await r.driver.open(), await r.driver.close()]
            assert [(o.confirmed, o.reason) for o in outcomes] == [(True, Outcome.OK)] * 2, outcomes
            assert r.driver.status().polls > polls + 2
            assert r.plc.limit_down

    run(body)


def test_stop_is_not_held_back_by_a_travelling_open():
    """The boom takes a second to rise: a stop given meanwhile reaches the PLC at once and stops it."""

    async def body() -> None:
        profile = fast_profile("generic", travel_timeout_ms=1500)
        async with rig("generic", "tcp", profile, travel_s=1.0) as r:
            opening = asyncio.create_task(r.driver.open())
            await until(lambda: r.plc.state == "opening", what="the boom rising")
            stopped = await r.driver.stop_boom()
            assert stopped.confirmed, stopped
            assert r.plc.state == "stopped" and 0 < r.plc.position < 100
            outcome = await opening
            assert (outcome.confirmed, outcome.reason) == (False, Outcome.TRAVEL_TIMEOUT)
            assert "limit_up not reached" in outcome.text

    run(body)
