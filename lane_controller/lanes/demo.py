"""`lane-controller demo-lane`: one exit truck through a lane whose devices are simulated peers on real
transports.

- Barrier PLC: the simulated PLC (``simulator.plc``, profile ``generic``) served over Modbus TCP on
  127.0.0.1; the lane drives it through the real driver (``lane_controller.plc``). The truck's loops and
  photocell are the simulated PLC's inputs, so everything the lane knows of the truck's movement comes
  over Modbus.
- RFID and e-seal readers: simulated readers (``simulator.serial_readers``) on ptys, ASCII framing,
  driven by the real serial drivers (``lane_controller.readers``).
- Camera: the simulator's synthetic gate scene showing the demo truck's plate and container code, read
  by the real OCR readers (EasyOCR, offline weights); ``--fixed-reads`` skips OCR with the reads fixed.
- Store: the database given (migrated), with the CN of that truck imported beforehand.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from lane_controller.domain.enums import Direction
from lane_controller.fsm.clock import SystemClock
from lane_controller.fsm.config import LaneConfig, Timeouts
from lane_controller.fsm.events import LaneEvent
from lane_controller.fsm.fakes import FakeDevices
from lane_controller.fsm.protocols import ReadKind, Recognition, Recognizer, VotedRead
from lane_controller.fsm.runner import LaneRunner
from lane_controller.fsm.states import LaneState
from lane_controller.lanes.barrier import LaneBarrier
from lane_controller.lanes.readers import LaneSealReader, LaneTagReader
from lane_controller.lanes.recognition import CaptureSettings, LaneRecognizer
from lane_controller.lanes.store import StoreMatcher, StoreRecorder
from lane_controller.plc import BarrierDriver, connection_for, load_plc_profile
from lane_controller.readers.eseal import SealReader
from lane_controller.readers.profile import load_profiles
from lane_controller.readers.rfid import TagReader
from lane_controller.vision.containers import ContainerReader
from lane_controller.vision.engine import OcrEngine
from lane_controller.vision.plates import PlateReader
from simulator.cameras import SceneOptions, SyntheticCamera
from simulator.plc import PlcServer, SimPlc, load_sim_profile
from simulator.serial_readers.reader import SimulatedReader
from simulator.serial_readers.world import ReaderWorld, SimSeal, SimTag

DEMO_CN = "CN20261126001"
DEMO_TRUCK = Recognition(
    plates=(VotedRead(ReadKind.PLATE, "KLA1234", 0.96, 5), VotedRead(ReadKind.PLATE, "AB1234", 0.91, 5)),
    containers=(VotedRead(ReadKind.CONTAINER, "CSQU3054383", 0.94, 5),),
)
DEMO_SCENE_SEED = 7
"""The synthetic scene the demo camera shows (the truck's look; its texts are the demo CN's)."""
DEMO_SEAL = "ES00012345"
DEMO_TAG = "E28011700000020F1A2B3C4D"
STEP_S = 0.4
"""Seconds between the truck's movements (a real truck takes several)."""
TRUCK_MOVES: tuple[tuple[str, dict[str, bool]], ...] = (
    ("truck under the boom (safety loop, photocell)", {"loop_safety": True, "photocell_blocked": True}),
    ("arming loop clear", {"loop_arming": False}),
    ("truck on the exit loop", {"loop_exit": True}),
    ("safety loop and photocell clear", {"loop_safety": False, "photocell_blocked": False}),
    ("exit loop clear", {"loop_exit": False}),
)


def _world() -> ReaderWorld:
    world = ReaderWorld(status_delay_s=0.0, lock_delay_s=0.05, unlock_delay_s=0.05)
    sealed_at = datetime.now(UTC) - timedelta(minutes=20)
    seal = SimSeal(DEMO_SEAL, status="SEALED", battery_pct=87, sealed_at=sealed_at, cn_number=DEMO_CN)
    world.vehicle_arrives([SimTag(DEMO_TAG, 1, -52)], [seal])
    return world


async def _until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo: {what} did not happen within {timeout_s:.0f} s")
        await asyncio.sleep(0.02)


@dataclass
class SimulatedHardware:
    """The demo lane's simulated peers and the real drivers connected to them."""

    plc: SimPlc
    server: PlcServer
    driver: BarrierDriver
    seal_sim: SimulatedReader
    tag_sim: SimulatedReader
    seal_driver: SealReader
    tag_driver: TagReader


@asynccontextmanager
async def simulated_hardware(tmp: Path) -> AsyncIterator[SimulatedHardware]:
    """Start the simulated PLC and readers and connect the drivers; stop everything on the way out."""
    plc = SimPlc(load_sim_profile("generic"), travel_s=1.0)
    server = await PlcServer.start_tcp(plc, host="127.0.0.1", port=0)
    profile = load_plc_profile("generic")
    connection = connection_for(profile, {"host": "127.0.0.1", "port": server.port})
    world = _world()
    readers = load_profiles()
    hw = SimulatedHardware(
        plc=plc,
        server=server,
        driver=BarrierDriver(profile, connection, name="X1 barrier"),
        seal_sim=SimulatedReader(tmp / "eseal", "ascii", world),
        tag_sim=SimulatedReader(tmp / "rfid", "ascii", world),
        seal_driver=SealReader.from_profile(readers["eseal-lane-ascii"], str(tmp / "eseal")),
        tag_driver=TagReader.from_profile(readers["rfid-lane-ascii"], str(tmp / "rfid")),
    )
    hw.seal_sim.start()
    hw.tag_sim.start()
    try:
        await hw.driver.start()
        await hw.seal_driver.start(2.0)
        await hw.tag_driver.start(2.0)
        await _until(lambda: hw.driver.status().available, 5.0, "the PLC answering")
        yield hw
    finally:
        await hw.driver.stop()
        await hw.seal_driver.close()
        await hw.tag_driver.close()
        hw.seal_sim.stop()
        hw.tag_sim.stop()
        await server.close()


async def _truck(runner: LaneRunner, plc: SimPlc, out: TextIO) -> None:
    """The truck arrives; if the barrier opens it drives through, else it waits where it is."""
    out.write("  truck on the arming loop\n")
    plc.set_inputs(loop_arming=True)
    stopped = (LaneState.MANUAL_REVIEW, LaneState.DENIED, LaneState.FAULT, LaneState.CLOSED_LANE)
    await _until(lambda: plc.limit_up or runner.machine.state in stopped, 200.0, "a decision")
    if not plc.limit_up:
        out.write(f"  the barrier stays down: {runner.status().message_en}\n")
        return
    for label, change in TRUCK_MOVES:
        await asyncio.sleep(STEP_S)
        out.write(f"  {label}\n")
        plc.set_inputs(**change)
    await _until(lambda: runner.machine.state is LaneState.IDLE and plc.limit_down, 15.0, "the boom closing")


def _camera_recognizer(out: TextIO) -> tuple[Recognizer, Callable[[], None]]:
    """The demo truck painted by the simulator's scene renderer, read by the real OCR readers."""
    started = time.monotonic()
    engine = OcrEngine.shared()
    out.write(
        f"  OCR engine (EasyOCR, offline English weights) loaded in {time.monotonic() - started:.1f} s\n"
    )
    options = SceneOptions(container_code="CSQU3054383", plate="KLA-1234", layout="horizontal")
    camera = SyntheticCamera("gate", truck=DEMO_SCENE_SEED, options=options)
    camera.open()
    recognizer = LaneRecognizer(
        {"gate": camera},
        [PlateReader(engine), ContainerReader(engine)],
        settings=CaptureSettings(frames=2, interval_s=0.0, timeout_s=5.0),
    )
    return recognizer, camera.close


async def _drive(engine: Engine, out: TextIO, tmp: Path, *, ocr: bool) -> LaneState:
    async with simulated_hardware(tmp) as hw:
        out.write(
            f"  simulated PLC (generic profile) on Modbus TCP 127.0.0.1:{hw.server.port}; "
            f"e-seal reader on {hw.seal_sim.path}, RFID reader on {hw.tag_sim.path}\n"
        )
        fakes = FakeDevices()  # the uplink and the display
        fakes.recognizer.result = DEMO_TRUCK
        recognizer: Recognizer = fakes.recognizer
        close_camera: Callable[[], None] = lambda: None  # noqa: E731
        if ocr:
            recognizer, close_camera = await asyncio.to_thread(_camera_recognizer, out)
        else:
            out.write("  camera reads fixed (--fixed-reads)\n")
        barrier = LaneBarrier(hw.driver)
        devices = dataclasses.replace(
            fakes.lane_devices(),
            barrier=barrier,
            recognizer=recognizer,
            seal_reader=LaneSealReader(hw.seal_driver),
            tag_reader=LaneTagReader(hw.tag_driver),
        )
        # OCR on a 2-core CPU takes seconds per frame: give identification time.
        config = LaneConfig(
            lane_id="X1",
            name="Exit 1",
            direction=Direction.EXIT,
            site_code="KHC1",
            timeouts=Timeouts(identifying=180.0),
        )
        last: list[str] = [""]

        def on_handled(_event: LaneEvent, _latency: float) -> None:
            status = runner.status()
            if status.state != last[0]:
                last[0] = status.state
                cn = f" [CN {status.cn_number}]" if status.cn_number else ""
                out.write(f"    -> {status.state:<14} {status.message_en or ''}{cn}\n")

        recorder = StoreRecorder(engine)
        runner = LaneRunner(
            config,
            devices,
            recorder=recorder,
            matcher=StoreMatcher(engine),
            clock=SystemClock(),
            on_handled=on_handled,
        )
        try:
            await runner.start()
            stop_feed = barrier.feed(runner.feed_inputs)
            await _truck(runner, hw.plc, out)
            stop_feed()
        finally:
            await runner.stop()
            recorder.close()
            close_camera()
        if isinstance(recognizer, LaneRecognizer):
            reads = [
                f"{r.kind.value} {r.text} ({r.confidence:.2f})"
                for f in recognizer.last_frames
                for r in f.reads
                if r.valid
            ]
            out.write(f"  OCR reads (valid): {', '.join(reads) or 'none'}\n")
        commands = "; ".join(f"{r.command} seq {r.seq}: {r.outcome}" for r in hw.plc.history)
        out.write(f"  the PLC received: {commands or 'no command'}\n")
        return runner.machine.state


def run_exit_demo(engine: Engine, out: TextIO, *, ocr: bool = True) -> int:
    """Drive the demo truck; 0 when the lane ends idle after the barrier opened and closed. ``ocr``: the
    truck is read from a synthetic camera by the real OCR readers; otherwise its reads are fixed."""
    with tempfile.TemporaryDirectory(prefix="lane-demo-") as tmp:
        state = asyncio.run(_drive(engine, out, Path(tmp), ocr=ocr))
    return 0 if state is LaneState.IDLE else 1
