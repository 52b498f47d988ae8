"""The barrier driver against the simulated PLC (TCP, or RTU on a pty), with short timings and a hard
time limit on every test body."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

from lane_controller.plc import (
    BarrierDriver,
    BarrierStatus,
    PlcConnection,
    PlcProfile,
    connection_for,
    load_plc_profile,
)
from simulator.plc import PlcServer, SimPlc, load_sim_profile

T = TypeVar("T")
PROFILES = ("generic", "came-gard", "roger", "register-only")
KINDS: tuple[Literal["tcp", "rtu"], ...] = ("tcp", "rtu")
TRAVEL_S = 0.1
FAST = {
    "poll_ms": 20,
    "request_timeout_ms": 100,
    "heartbeat_ms": 60,
    "watchdog_ms": 300,
    "plc_frozen_ms": 400,
    "ack_timeout_ms": 200,
    "travel_timeout_ms": 500,
}


def run(body: Callable[[], Awaitable[T]], limit_s: float = 20.0) -> T:
    """Run an async test body; fail (not hang) after ``limit_s``."""

    async def bounded() -> T:
        async with asyncio.timeout(limit_s):
            return await body()

    return asyncio.run(bounded())


def fast_profile(name: str, **timing: int) -> PlcProfile:
    """A shipped profile with the test timings."""
    return load_plc_profile(name).with_timing(**{**FAST, **timing})


async def until(check: Callable[[], Any], timeout_s: float = 3.0, what: str = "") -> Any:
    """Poll ``check()`` until it is truthy; fail with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        if value := check():
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout_s} s: {what or check}")
        await asyncio.sleep(0.01)


async def unavailable(driver: BarrierDriver, what: str, timeout_s: float = 3.0) -> BarrierStatus:
    """The first status that shows the PLC unavailable."""
    return await until(lambda: not driver.status().available and driver.status(), timeout_s, what)


@dataclass
class Rig:
    """A simulated PLC, its server, and a started driver connected to it."""

    plc: SimPlc
    server: PlcServer
    driver: BarrierDriver
    conn: PlcConnection

    async def ready(self) -> None:
        """Wait for the first good status."""
        assert await self.driver.wait_for(lambda s: True, 3.0) is not None, self.driver.status()


def connection(profile: PlcProfile, server: PlcServer) -> PlcConnection:
    """The lane-layout style override pointing the profile at the simulator."""
    if server.kind == "tcp":
        override: dict[str, Any] = {"kind": "tcp", "host": server.host, "port": server.port}
    else:
        override = {"kind": "rtu", "device": server.client_device, "parity": server.client_parity}
        override |= {"baudrate": 38400, "bytesize": 8, "stopbits": 1}
    return replace(connection_for(profile, override), reconnect_initial_s=0.02, reconnect_max_s=0.1)


async def start_server(plc: SimPlc, kind: Literal["tcp", "rtu"]) -> PlcServer:
    if kind == "tcp":
        return await PlcServer.start_tcp(plc, host="127.0.0.1", port=0)
    return await PlcServer.start_rtu(plc, baudrate=38400, parity="E")


@asynccontextmanager
async def rig(
    name: str, kind: Literal["tcp", "rtu"], profile: PlcProfile | None = None, *, travel_s: float = TRAVEL_S
) -> AsyncIterator[Rig]:
    """A simulated PLC of profile ``name`` served over ``kind`` and a started driver."""
    plc = SimPlc(load_sim_profile(name), travel_s=travel_s)
    server = await start_server(plc, kind)
    profile = profile or fast_profile(name)
    conn = connection(profile, server)
    driver = BarrierDriver(profile, conn)
    await driver.start()
    try:
        r = Rig(plc, server, driver, conn)
        await r.ready()
        yield r
    finally:
        await driver.stop()
        await server.close()
