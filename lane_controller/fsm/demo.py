"""`lane-controller demo-lane`: one exit truck through the lane state machine on in-memory device fakes.

The store is real (the database given), the devices are the fakes of `fsm/fakes.py`: no PLC, readers or
cameras yet. The truck is the one of CN CN20261126001 in `examples/cn-messages.jsonl`.
"""

from __future__ import annotations

import asyncio
from typing import TextIO

from sqlalchemy import Engine

from lane_controller.domain.enums import Direction
from lane_controller.fsm.clock import SystemClock
from lane_controller.fsm.config import LaneConfig
from lane_controller.fsm.events import LaneEvent
from lane_controller.fsm.fakes import FakeDevices
from lane_controller.fsm.protocols import ReadKind, Recognition, SealReport, SealState, VotedRead
from lane_controller.fsm.runner import LaneRunner
from lane_controller.fsm.store_port import StoreMatcher, StoreRecorder

DEMO_TRUCK = Recognition(
    plates=(VotedRead(ReadKind.PLATE, "KLA1234", 0.96, 5), VotedRead(ReadKind.PLATE, "AB1234", 0.91, 5)),
    containers=(VotedRead(ReadKind.CONTAINER, "CSQU3054383", 0.94, 5),),
)
DEMO_SEALS = (SealReport("ES00012345", SealState.SEALED, battery_pct=87),)
TRUCK_MOVES: tuple[tuple[str, dict[str, bool]], ...] = (
    ("truck on the arming loop", {"arming": True}),
    ("truck under the boom (safety loop)", {"safety": True}),
    ("arming loop clear", {"arming": False}),
    ("truck on the exit loop", {"exit": True}),
    ("safety loop clear", {"safety": False}),
    ("exit loop clear", {"exit": False}),
)


async def _drive(engine: Engine, out: TextIO) -> str:
    devices = FakeDevices()
    devices.recognizer.result = DEMO_TRUCK
    devices.seal_reader.put(*DEMO_SEALS)
    recorder = StoreRecorder(engine)
    config = LaneConfig(lane_id="X1", name="Exit 1", direction=Direction.EXIT, site_code="KHC1")
    last_state: list[str] = [""]
    matched: list[str] = []
    runner: LaneRunner | None = None

    def on_handled(event: LaneEvent, _latency: float) -> None:
        assert runner is not None
        status = runner.status()
        if status.cn_number and not matched:
            matched.append(status.cn_number)
        if status.state != last_state[0]:
            last_state[0] = status.state
            out.write(f"    -> {status.state:<14} {status.message_en or ''}\n")

    runner = LaneRunner(
        config,
        devices.lane_devices(),
        recorder=recorder,
        matcher=StoreMatcher(engine),
        clock=SystemClock(),
        on_handled=on_handled,
    )
    devices.plant.feed = runner.feed_inputs
    await runner.start()
    try:
        for label, change in TRUCK_MOVES:
            out.write(f"  {label}\n")
            devices.plant.set(**change)
            await runner.settle()
        final = runner.status()
    finally:
        await runner.stop()
        recorder.close()
    commands = ", ".join(
        f"{c.kind.value} #{c.seq}"
        + (f" (decision: audit entry {c.decision_audit_seq})" if c.decision_audit_seq else "")
        for c in devices.barrier.commands
    )
    out.write(f"  barrier commands: {commands or 'none'}; CN matched: {matched[0] if matched else '-'}\n")
    return final.state


def run_exit_demo(engine: Engine, out: TextIO) -> int:
    """Drive the demo truck; 0 when the lane ends idle after the barrier opened and closed."""
    state = asyncio.run(_drive(engine, out))
    return 0 if state == "idle" else 1
