"""Helpers for the simulated-PLC tests: bounded async bodies, a pymodbus master written from the README."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from simulator.plc import PlcServer, SimPlc, SimPoint, load_sim_profile

T = TypeVar("T")
PROFILES = ("generic", "came-gard", "roger", "register-only")
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

Client = AsyncModbusTcpClient | AsyncModbusSerialClient


def run(body: Callable[[], Awaitable[T]], limit_s: float = 10.0) -> T:
    """Run an async test body; fail (not hang) after ``limit_s``."""

    async def bounded() -> T:
        return await asyncio.wait_for(body(), limit_s)

    return asyncio.run(bounded())


def make_plc(profile: str, **kwargs: Any) -> SimPlc:
    """A fast PLC with the watchdog off unless asked."""
    kwargs.setdefault("travel_s", 0.2)
    kwargs.setdefault("watchdog_ms", 0)
    return SimPlc(load_sim_profile(profile), **kwargs)


async def start(plc: SimPlc, transport: str) -> tuple[PlcServer, Client]:
    """Serve ``plc`` and connect a pymodbus master to it."""
    client: Client
    if transport == "tcp":
        server = await PlcServer.start_tcp(plc)
        client = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=0.5, retries=0)
    else:
        server = await PlcServer.start_rtu(plc)
        client = AsyncModbusSerialClient(
            server.client_device, baudrate=38400, parity=server.client_parity, timeout=0.5, retries=0
        )
    assert await client.connect()
    return server, client


async def read_raw(client: Client, point: SimPoint, unit: int = 1) -> Any:
    """The point's response (bits or registers) read with the function code its table needs."""
    readers = {
        "coil": client.read_coils,
        "discrete_input": client.read_discrete_inputs,
        "holding_register": client.read_holding_registers,
        "input_register": client.read_input_registers,
    }
    return await readers[point.table](point.address, count=point.width, device_id=unit)


async def read_point(client: Client, point: SimPoint, word_order: str = "big") -> bool | int | str:
    """A point's logical value, decoded here (a third implementation beside the simulator and the driver)."""
    rsp = await read_raw(client, point)
    assert not rsp.isError(), f"{point.name}: {rsp}"
    if point.table in ("coil", "discrete_input"):
        return bool(rsp.bits[0])
    words = rsp.registers
    if point.bit is not None:
        return bool(words[0] >> point.bit & 1)
    if point.type == "uint32":
        high, low = words if word_order == "big" else words[::-1]
        return high << 16 | low
    if point.enum:
        return {raw: name for name, raw in point.enum.items()}[words[0]]
    return int(words[0])


async def give_command(client: Client, plc: SimPlc, command: str, seq: int) -> None:
    """Write the sequence number then the command, the way the README's command sequence says."""
    profile = plc.profile
    points = profile.points
    if profile.command.seq_point:
        rsp = await client.write_register(points[profile.command.seq_point].address, seq, device_id=1)
        assert not rsp.isError(), rsp
    if profile.command.style == "command_word":
        point = points[str(profile.command.point)]
        rsp = await client.write_register(point.address, point.enum[command], device_id=1)
        assert not rsp.isError(), rsp
        return
    coil = points[profile.command.coils[command]]
    rsp = await client.write_coil(coil.address, True, device_id=1)
    assert not rsp.isError(), rsp
    if profile.command.release == "host":
        rsp = await client.write_coil(coil.address, False, device_id=1)
        assert not rsp.isError(), rsp


async def wait_point(client: Client, plc: SimPlc, name: str, expected: object, within_s: float = 3.0) -> None:
    """Poll a point over the wire until it reads ``expected``."""
    point = plc.profile.points[name]
    deadline = asyncio.get_running_loop().time() + within_s
    value: object = None
    while asyncio.get_running_loop().time() < deadline:
        value = await read_point(client, point, plc.profile.word_order)
        if value == expected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{name} = {value!r}, expected {expected!r}")


async def wait_for(predicate: Callable[[], bool], within_s: float = 3.0) -> None:
    """Poll a condition with a deadline."""
    deadline = asyncio.get_running_loop().time() + within_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def request_fails(call: Awaitable[Any]) -> bool:
    """Whether a request got no usable answer (time-out, broken frame, closed connection)."""
    try:
        rsp = await call
    except (TimeoutError, ModbusException, ConnectionError):
        return True
    return bool(rsp.isError())
