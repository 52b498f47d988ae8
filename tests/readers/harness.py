"""Drivers against simulated readers on real ptys, with a hard time limit on every test body."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal, TypeVar

from lane_controller.readers.eseal import SealReader
from lane_controller.readers.profile import ReaderProfile
from lane_controller.readers.rfid import TagReader
from simulator.serial_readers.reader import SimulatedReader
from simulator.serial_readers.world import ReaderWorld, SimSeal, SimTag

T = TypeVar("T")
SEAL = "TWSL00012345"
EPC_A = "E28011700000020F1A2B3C4D"
EPC_B = "E2801170000002AABBCCDD00"
FRAMINGS: tuple[Literal["ascii", "binary"], ...] = ("ascii", "binary")


def run(body: Callable[[], Awaitable[T]], limit_s: float = 10.0) -> T:
    """Run an async test body; fail (not hang) after ``limit_s``."""

    async def bounded() -> T:
        return await asyncio.wait_for(body(), limit_s)

    return asyncio.run(bounded())


def profile(framing: str, kind: str = "eseal", **extra: object) -> ReaderProfile:
    """A test profile with short time-outs."""
    data: dict[str, object] = {
        "name": f"test-{kind}-{framing}",
        "kind": kind,
        "framing": framing,
        "address": 1 if framing == "binary" else 0,
        "port": {"url": "unused"},
        "timeouts": {
            "request_s": 0.3,
            "lock_s": 0.3,
            "inter_byte_s": 0.03,
            "reopen_initial_s": 0.02,
            "reopen_max_s": 0.1,
        },
        "retries": 1,
        "echo_window_s": 0.5,
        "dedup_window_s": 1.0,
    }
    data.update(extra)
    return ReaderProfile.model_validate(data)


def truck_world() -> ReaderWorld:
    """A truck with two tags and one open seal, fast delays."""
    world = ReaderWorld(status_delay_s=0.0, lock_delay_s=0.01, unlock_delay_s=0.01)
    world.vehicle_arrives([SimTag(EPC_A, 1, -50), SimTag(EPC_B, 2, -70)], [SimSeal(SEAL)])
    return world


@asynccontextmanager
async def seal_pair(
    tmp: Path, framing: Literal["ascii", "binary"], world: ReaderWorld | None = None, **extra: object
) -> AsyncIterator[tuple[SimulatedReader, SealReader]]:
    """A simulated seal reader and the driver connected to it."""
    prof = profile(framing, **extra)
    sim = SimulatedReader(tmp / f"tty-{framing}", framing, world or truck_world(), address=prof.address)
    sim.start()
    reader = SealReader.from_profile(prof, str(sim.path))
    await reader.start(2.0)
    try:
        yield sim, reader
    finally:
        await reader.close()
        sim.stop()


@asynccontextmanager
async def tag_pair(
    tmp: Path, framing: Literal["ascii", "binary"], world: ReaderWorld | None = None, **extra: object
) -> AsyncIterator[tuple[SimulatedReader, TagReader]]:
    """A simulated tag reader and the driver connected to it."""
    prof = profile(framing, kind="rfid", **extra)
    sim = SimulatedReader(tmp / f"tty-rfid-{framing}", framing, world or truck_world(), address=prof.address)
    sim.start()
    reader = TagReader.from_profile(prof, str(sim.path))
    await reader.start(2.0)
    try:
        yield sim, reader
    finally:
        await reader.close()
        sim.stop()
