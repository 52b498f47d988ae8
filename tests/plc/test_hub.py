"""The hub (one lock, capped backoff, one log line per change) and the transport's error mapping, on fakes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from types import SimpleNamespace

import pytest
from pymodbus.exceptions import ConnectionException, ModbusIOException
from pymodbus.pdu import ExceptionResponse

import lane_controller.plc.hub as hub_module
from lane_controller.plc import (
    ModbusHub,
    PlcConnection,
    PlcConnectionError,
    PlcError,
    PlcExceptionReply,
    PlcMalformedReply,
    PlcReconnecting,
    PlcTimeout,
    TcpTransport,
)
from lane_controller.plc.transport import ModbusTransport
from tests.plc.harness import run

CONN = PlcConnection(
    TcpTransport(host="192.0.2.1"), request_timeout_s=0.05, reconnect_initial_s=0.02, reconnect_max_s=0.08
)


class FakeTransport:
    """Stands in for ModbusTransport: ``down`` makes connects fail."""

    def __init__(self) -> None:
        self.connected = False
        self.down = False
        self.connects: list[float] = []

    async def connect(self) -> None:
        self.connects.append(time.monotonic())
        if self.down:
            raise PlcConnectionError("refused")
        self.connected = True

    def close(self) -> None:
        self.connected = False


def make_hub() -> tuple[ModbusHub, FakeTransport]:
    fake = FakeTransport()
    return ModbusHub(CONN, name="t", transport=fake), fake  # type: ignore[arg-type]


async def ok(_t: object) -> str:
    return "ok"


def test_backoff_is_exponential_and_capped():
    async def body() -> None:
        hub, fake = make_hub()
        fake.down = True
        end = time.monotonic() + 0.6
        while time.monotonic() < end:
            with pytest.raises(PlcConnectionError):
                await hub.request(ok)
            await asyncio.sleep(0.002)
        gaps = [b - a for a, b in zip(fake.connects, fake.connects[1:], strict=False)]
        # 0 (at once), then 20, 40, 80, 80... ms
        assert gaps[0] < 0.015
        assert 0.018 <= gaps[1] < 0.035
        assert 0.038 <= gaps[2] < 0.06
        assert all(0.078 <= g < 0.1 for g in gaps[3:]), gaps
        assert 6 <= len(fake.connects) <= 10
        assert hub.stats.requests == len(fake.connects)  # fail-fast requests do not count
        fake.down = False
        await asyncio.sleep(0.1)
        assert await hub.request(ok) == "ok"
        assert hub.available and hub.last_error is None

    run(body)


def test_one_log_line_per_change(caplog, monkeypatch):
    monkeypatch.setattr(hub_module, "_STABLE_S", 0.05)

    async def body() -> None:
        hub, fake = make_hub()
        assert await hub.request(ok) == "ok"
        fake.close()
        fake.down = True
        for _ in range(20):
            with pytest.raises(PlcConnectionError):
                await hub.request(ok)
            await asyncio.sleep(0.01)
        fake.down = False
        await asyncio.sleep(0.1)
        for _ in range(5):
            await hub.request(ok)
            await asyncio.sleep(0.02)

    with caplog.at_level(logging.INFO, logger="lane_controller.plc.hub"):
        run(body)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "PLC t (tcp 192.0.2.1:502) unavailable: refused"),
        ("INFO", "PLC t (tcp 192.0.2.1:502) available again"),
    ]


def test_a_line_failing_one_request_per_cycle_logs_once(caplog, monkeypatch):
    """One block times out every poll while the others go through: one warning, no recovery line per poll
    (the PLC counts as recovered only after requests have gone through for a while)."""
    monkeypatch.setattr(hub_module, "_STABLE_S", 0.5)

    async def body() -> None:
        hub, fake = make_hub()
        successes = 0
        for _ in range(15):
            with contextlib.suppress(PlcError):  # the backoff keeps growing: no reconnect storm either
                successes += await hub.request(ok) == "ok"
            fake.close()
            fake.down = True
            with pytest.raises(PlcError):
                await hub.request(ok)
            fake.down = False
            await asyncio.sleep(0.03)
        assert successes >= 3

    with caplog.at_level(logging.INFO, logger="lane_controller.plc.hub"):
        run(body)
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_lock_serialises_requests_and_exception_replies_keep_the_line():
    async def body() -> None:
        hub, fake = make_hub()
        inside = 0
        peak = 0

        async def slow(_t: object) -> None:
            nonlocal inside, peak
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.005)
            inside -= 1

        await asyncio.gather(*(hub.request(slow) for _ in range(10)))
        assert peak == 1

        async def refused(_t: object) -> None:
            raise PlcExceptionReply(2, point="state", table="input_register", address=0)

        with pytest.raises(PlcExceptionReply):
            await hub.request(refused)
        assert fake.connected and not hub.available  # the PLC answered: no reconnect
        assert hub.stats.connects == 1

        async def lost(_t: object) -> None:
            raise PlcTimeout("no reply", point="state")

        with pytest.raises(PlcTimeout):
            await hub.request(lost)
        assert not fake.connected  # a late reply must not be taken for the next request's
        await hub.request(ok)
        assert (hub.stats.connects, hub.stats.reconnects) == (2, 1)
        await hub.close()
        with pytest.raises(PlcConnectionError, match="hub closed"):
            await hub.request(ok)

    run(body)


def test_patience_waits_out_a_short_backoff():
    async def body() -> None:
        hub, fake = make_hub()
        fake.down = True
        for _ in range(2):
            with pytest.raises(PlcConnectionError):
                await hub.request(ok)
        fake.down = False
        with pytest.raises(PlcReconnecting, match="reconnect pending after: refused"):
            await hub.request(ok)
        assert await hub.request(ok, patience_s=0.1) == "ok"

    run(body)


class FakeClient:
    """A pymodbus client double whose replies the test sets."""

    def __init__(self, reply: object) -> None:
        self.reply = reply
        self.connected = False

    async def connect(self) -> bool:
        self.connected = True
        return True

    def close(self) -> None:
        self.connected = False

    async def _answer(self, *_a: object, **_k: object) -> object:
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply

    read_holding_registers = read_input_registers = read_coils = read_discrete_inputs = _answer
    write_register = write_coil = write_registers = write_coils = _answer


def transport_with(reply: object) -> ModbusTransport:
    return ModbusTransport(CONN, client_factory=lambda _c: FakeClient(reply))  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize(
    ("reply", "error", "text"),
    [
        (
            SimpleNamespace(isError=lambda: False, registers=[1, 2]),
            PlcMalformedReply,
            "expected 3 registers, got 2",
        ),
        (SimpleNamespace(isError=lambda: False), PlcMalformedReply, "expected 3 registers, got none"),
        (ExceptionResponse(3, 2), PlcExceptionReply, "Modbus exception 2 (illegal_data_address)"),
        (ModbusIOException("No response received after 0 retries"), PlcTimeout, "no reply within 50 ms"),
        (ModbusIOException("request uses device id=1 but received 7"), PlcMalformedReply, "device id"),
        (ConnectionException("gone"), PlcConnectionError, "connection lost"),
        (None, PlcMalformedReply, "empty reply"),
    ],
)
def test_transport_maps_replies_to_typed_errors(reply, error, text):
    async def body() -> None:
        t = transport_with(reply)
        await t.connect()
        with pytest.raises(error) as info:
            await t.read_registers("holding_register", 100, 3, point="state, position_pct")
        assert (info.value.point, info.value.table, info.value.address) == (
            "state, position_pct",
            "holding_register",
            100,
        )
        assert text in str(info.value)
        assert str(info.value).startswith("state, position_pct (holding_register 100): ")

    run(body)


def test_transport_checks_write_echo_and_connection():
    async def body() -> None:
        t = transport_with(SimpleNamespace(isError=lambda: False, address=5))
        with pytest.raises(PlcConnectionError, match="not connected"):
            await t.write_register(4, 1, point="cmd_seq")
        await t.connect()
        with pytest.raises(PlcMalformedReply, match="write echoed address 5"):
            await t.write_register(4, 1, point="cmd_seq")
        await t.write_register(5, 1, point="cmd_seq")
        bits = transport_with(SimpleNamespace(isError=lambda: False, bits=[True, False] + [False] * 6))
        await bits.connect()
        assert await bits.read_bits("discrete_input", 0, 2) == [True, False]

    run(body)


def test_transport_rejects_a_reply_to_another_function():
    async def body() -> None:
        late = SimpleNamespace(isError=lambda: False, function_code=5, address=1, registers=[0])
        t = transport_with(late)
        await t.connect()
        with pytest.raises(PlcMalformedReply, match="reply to function code 5, asked 6"):
            await t.write_register(1, 3000, point="watchdog_ms")

    run(body)
