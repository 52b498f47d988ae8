"""A whole exit lane whose barrier is the real Modbus driver talking to the simulated PLC over TCP.

The lane runner, the store (SQLite file) and the PLC path are real: loops and boom live in the simulated
PLC, reach the lane through the driver's status polls, and the lane's commands reach the PLC as Modbus
writes with sequence numbers. Cameras and readers are the in-memory fakes (tested on their own elsewhere).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from lane_controller.customs.cn_ingest import CNIngestor
from lane_controller.customs.cn_records import RawRecord
from lane_controller.domain.enums import Direction
from lane_controller.domain.stations import StationTable
from lane_controller.fsm.clock import SystemClock
from lane_controller.fsm.config import LaneConfig, Timeouts
from lane_controller.fsm.fakes import FakeDevices
from lane_controller.fsm.protocols import ReadKind, Recognition, SealReport, SealState, VotedRead
from lane_controller.fsm.runner import LaneRunner
from lane_controller.fsm.states import LaneState
from lane_controller.lanes.barrier import LaneBarrier
from lane_controller.lanes.store import StoreMatcher, StoreRecorder
from lane_controller.plc import BarrierDriver, connection_for, load_plc_profile
from lane_controller.store.db import create_engine_for
from lane_controller.store.migrate import upgrade
from lane_controller.store.models import AuditEntry
from simulator.plc import PlcServer, SimPlc, load_sim_profile
from tests.customs.cn_samples import cn_record
from tests.readers.harness import run

TRUCK = Recognition(
    plates=(VotedRead(ReadKind.PLATE, "KLA1234", 0.96, 5),),
    containers=(VotedRead(ReadKind.CONTAINER, "CSQU3054383", 0.94, 5),),
)


@dataclass
class Lane:
    plc: SimPlc
    server: PlcServer
    driver: BarrierDriver
    runner: LaneRunner
    engine: Engine

    @property
    def state(self) -> LaneState:
        return self.runner.machine.state

    async def until(self, what: Callable[[], bool], label: str, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not what():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {label}: lane {self.state}, PLC {self.plc.snapshot()}")
            await asyncio.sleep(0.01)

    def audit_kinds(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.scalars(select(AuditEntry.kind).order_by(AuditEntry.seq)))


@asynccontextmanager
async def exit_lane(tmp_path: Path, profile_name: str, *, travel_s: float = 0.2) -> AsyncIterator[Lane]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'lane.db'}")
    upgrade(engine)
    assert CNIngestor(engine, StationTable.packaged()).ingest(RawRecord("t", cn_record("CN0001"))).accepted
    plc = SimPlc(load_sim_profile(profile_name), travel_s=travel_s)
    server = await PlcServer.start_tcp(plc, host="127.0.0.1", port=0)
    profile = load_plc_profile(profile_name).with_timing(poll_ms=20)
    driver = BarrierDriver(
        profile, connection_for(profile, {"kind": "tcp", "host": "127.0.0.1", "port": server.port})
    )
    await driver.start()
    fakes = FakeDevices()
    fakes.recognizer.result = TRUCK
    fakes.seal_reader.put(SealReport("ES00012345", SealState.SEALED, battery_pct=80))
    barrier = LaneBarrier(driver)
    recorder = StoreRecorder(engine)
    config = LaneConfig(
        lane_id="X1", direction=Direction.EXIT, site_code="KHC1", timeouts=Timeouts(opening=3, closing=3)
    )
    runner = LaneRunner(
        config,
        dataclasses.replace(fakes.lane_devices(), barrier=barrier),
        recorder=recorder,
        matcher=StoreMatcher(engine),
        clock=SystemClock(),
    )
    lane = Lane(plc, server, driver, runner, engine)
    try:
        await lane.until(lambda: driver.status().available, "the PLC")
        await runner.start()
        stop_feed = barrier.feed(runner.feed_inputs)
        yield lane
        stop_feed()
    finally:
        await runner.stop()
        await driver.stop()
        await server.close()
        recorder.close()
        engine.dispose()


@pytest.mark.parametrize("profile_name", ["generic", "register-only"])
def test_a_truck_leaves_through_the_real_plc_path(tmp_path: Path, profile_name: str) -> None:
    async def body() -> None:
        async with exit_lane(tmp_path, profile_name) as lane:
            plc = lane.plc
            plc.set_inputs(loop_arming=True)
            await lane.until(lambda: plc.limit_up and lane.state is LaneState.PASSING, "the boom up")
            # A truck takes seconds over the loops; a few polls (20 ms) see each step.
            for step in (
                {"loop_safety": True, "photocell_blocked": True},
                {"loop_arming": False},
                {"loop_exit": True},
            ):
                plc.set_inputs(**step)
                await asyncio.sleep(0.1)
            assert [r.command for r in plc.history] == ["open"]  # nothing closes on the truck
            for step in ({"loop_safety": False, "photocell_blocked": False}, {"loop_exit": False}):
                plc.set_inputs(**step)
                await asyncio.sleep(0.1)
            await lane.until(
                lambda: plc.limit_down and lane.state is LaneState.IDLE, "the boom down, lane idle"
            )
            assert [(r.command, r.outcome) for r in plc.history] == [
                ("open", "executed"),
                ("close", "executed"),
            ]
            assert len({r.seq for r in plc.history}) == 2  # each command its own sequence number
        kinds = lane.audit_kinds()
        assert kinds.count("barrier.command") == 2
        assert kinds.index("lane.decision") < kinds.index("barrier.command")

    run(body, 20.0)


def test_an_unreachable_plc_faults_the_lane_and_it_recovers(tmp_path: Path) -> None:
    async def body() -> None:
        async with exit_lane(tmp_path, "generic") as lane:
            await lane.server.stop()
            await lane.until(lambda: lane.state is LaneState.FAULT, "the lane in fault")
            assert "plc_unreadable" in str(lane.runner.status())
            await lane.server.restart()
            await lane.until(lambda: lane.state is LaneState.IDLE, "the lane back to idle", timeout_s=8.0)
        kinds = lane.audit_kinds()
        assert "device.fault" in kinds and "device.recovered" in kinds

    run(body, 20.0)


async def _under_the_boom_then_onto_the_exit_loop(lane: Lane) -> None:
    plc = lane.plc
    plc.set_inputs(loop_arming=True)
    await lane.until(lambda: plc.limit_up and lane.state is LaneState.PASSING, "the boom up")
    for step in ({"loop_safety": True}, {"loop_arming": False}, {"loop_exit": True}, {"loop_safety": False}):
        plc.set_inputs(**step)
        await asyncio.sleep(0.1)


def test_a_reversal_for_an_obstacle_is_a_pass_not_a_fault(tmp_path: Path) -> None:
    """Someone steps into the photocell while the boom comes down: the PLC reverses (fault code obstacle),
    the lane goes back to passing, and closes again once the beam is clear."""

    async def body() -> None:
        async with exit_lane(tmp_path, "generic", travel_s=1.0) as lane:
            plc = lane.plc
            await _under_the_boom_then_onto_the_exit_loop(lane)
            await lane.until(lambda: plc.state == "closing", "the boom coming down")
            plc.set_inputs(photocell_blocked=True)
            await lane.until(lambda: plc.limit_up and lane.state is LaneState.PASSING, "the boom back up")
            plc.set_inputs(photocell_blocked=False)
            await asyncio.sleep(0.1)
            plc.set_inputs(loop_exit=False)
            await lane.until(lambda: plc.limit_down and lane.state is LaneState.IDLE, "closed and idle")
        kinds = lane.audit_kinds()
        assert "device.fault" not in kinds

    run(body, 20.0)


def test_one_lost_reply_does_not_fault_a_passing_truck(tmp_path: Path) -> None:
    async def body() -> None:
        async with exit_lane(tmp_path, "generic") as lane:
            await _under_the_boom_then_onto_the_exit_loop(lane)
            lane.plc.faults.silent = True  # one poll times out (300 ms)
            await lane.until(lambda: not lane.driver.status().available, "a failed poll")
            lane.plc.faults.silent = False
            await lane.until(lambda: lane.driver.status().available, "the PLC back")
            lane.plc.set_inputs(loop_exit=False)
            await lane.until(lambda: lane.plc.limit_down and lane.state is LaneState.IDLE, "closed and idle")
        assert "device.fault" not in lane.audit_kinds()

    run(body, 20.0)
