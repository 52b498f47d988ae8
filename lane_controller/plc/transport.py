"""Modbus transport: the pymodbus async client built from a PlcConnection, a small request API, and the
translation of everything pymodbus can raise or answer into the typed errors of ``errors.py``.

The client is made without its own reconnect (``reconnect_delay=0``) and retries (``retries=0``): the hub
decides when to reconnect and the driver when to retry, so a request costs at most one time-out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType

from lane_controller.plc.codec import ReadBlock, WriteOp
from lane_controller.plc.errors import (
    PlcConnectionError,
    PlcExceptionReply,
    PlcMalformedReply,
    PlcTimeout,
)
from lane_controller.plc.points import Table
from lane_controller.plc.profile import PlcConnection, TcpTransport

Client = AsyncModbusTcpClient | AsyncModbusSerialClient
_SLACK_S = 0.2
"""Our own time-out beyond pymodbus's, in case a request hangs outside its wait (connect, lock).
``asyncio.timeout``, not ``wait_for``: on Python 3.11 ``wait_for`` can swallow a cancellation."""


def quiet_pymodbus() -> None:
    """pymodbus logs an ERROR per unanswered request and a WARNING per failed connect: the hub logs
    transitions instead. Leave it alone where the application set a level itself."""
    logger = logging.getLogger("pymodbus")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.CRITICAL)


def make_client(conn: PlcConnection) -> Client:
    """A pymodbus async client for the connection, without automatic reconnect or retries."""
    t = conn.transport
    common: dict[str, Any] = {"timeout": conn.request_timeout_s, "retries": 0, "reconnect_delay": 0}
    if isinstance(t, TcpTransport):
        return AsyncModbusTcpClient(t.host, port=t.port, **common)
    return AsyncModbusSerialClient(
        t.device,
        framer=FramerType.RTU,
        baudrate=t.baudrate,
        bytesize=t.bytesize,
        parity=t.parity,
        stopbits=t.stopbits,
        **common,
    )


class ModbusTransport:
    """One Modbus client: connect, close, and typed reads and writes (no locking: the hub serialises)."""

    def __init__(
        self, conn: PlcConnection, client_factory: Callable[[PlcConnection], Client] = make_client
    ) -> None:
        self.conn = conn
        self._factory = client_factory
        self._client: Client | None = None
        quiet_pymodbus()

    @property
    def connected(self) -> bool:
        """The client holds an open socket or serial port."""
        return self._client is not None and self._client.connected

    async def connect(self) -> None:
        """Open a fresh client; PlcConnectionError when it cannot."""
        self.close()
        client = self._factory(self.conn)
        try:
            async with asyncio.timeout(self.conn.connect_timeout_s + _SLACK_S):
                ok = await client.connect()
        except Exception as exc:  # also termios.error: a serial port that rejects the profile's settings
            client.close()
            raise PlcConnectionError(f"cannot connect to {self.conn.describe()}: {exc!r}") from exc
        if not ok:
            client.close()
            raise PlcConnectionError(f"cannot connect to {self.conn.describe()}")
        self._client = client

    def close(self) -> None:
        """Close the client (idempotent)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def read_bits(
        self, table: Table, address: int, count: int, *, point: str | None = None
    ) -> list[bool]:
        """Read ``count`` coils or discrete inputs."""
        client = self._live(point, table, address)
        call = client.read_coils if table == "coil" else client.read_discrete_inputs
        aw = call(address, count=count, device_id=self.conn.unit_id)
        reply = await self._execute(aw, point, table, address, fc=1 if table == "coil" else 2)
        bits = getattr(reply, "bits", None)
        if not isinstance(bits, list) or len(bits) < count:
            raise PlcMalformedReply(
                f"expected {count} bits, got {_size(bits)}", point=point, table=table, address=address
            )
        return [bool(b) for b in bits[:count]]

    async def read_registers(
        self, table: Table, address: int, count: int, *, point: str | None = None
    ) -> list[int]:
        """Read ``count`` holding or input registers."""
        client = self._live(point, table, address)
        call = client.read_holding_registers if table == "holding_register" else client.read_input_registers
        aw = call(address, count=count, device_id=self.conn.unit_id)
        reply = await self._execute(aw, point, table, address, fc=3 if table == "holding_register" else 4)
        registers = getattr(reply, "registers", None)
        if not isinstance(registers, list) or len(registers) != count:
            raise PlcMalformedReply(
                f"expected {count} registers, got {_size(registers)}",
                point=point,
                table=table,
                address=address,
            )
        return [int(r) for r in registers]

    async def write_coil(self, address: int, value: bool, *, point: str | None = None) -> None:
        """Write one coil (function code 5)."""
        client = self._live(point, "coil", address)
        aw = client.write_coil(address, value, device_id=self.conn.unit_id)
        reply = await self._execute(aw, point, "coil", address, fc=5)
        self._check_echo(reply, address, point, "coil")

    async def write_coils(self, address: int, values: list[bool], *, point: str | None = None) -> None:
        """Write consecutive coils (function code 15)."""
        client = self._live(point, "coil", address)
        aw = client.write_coils(address, values, device_id=self.conn.unit_id)
        reply = await self._execute(aw, point, "coil", address, fc=15)
        self._check_echo(reply, address, point, "coil")

    async def write_register(self, address: int, value: int, *, point: str | None = None) -> None:
        """Write one holding register (function code 6)."""
        client = self._live(point, "holding_register", address)
        aw = client.write_register(address, value, device_id=self.conn.unit_id)
        reply = await self._execute(aw, point, "holding_register", address, fc=6)
        self._check_echo(reply, address, point, "holding_register")

    async def write_registers(self, address: int, values: list[int], *, point: str | None = None) -> None:
        """Write consecutive holding registers (function code 16)."""
        client = self._live(point, "holding_register", address)
        aw = client.write_registers(address, values, device_id=self.conn.unit_id)
        reply = await self._execute(aw, point, "holding_register", address, fc=16)
        self._check_echo(reply, address, point, "holding_register")

    async def read_block(self, block: ReadBlock) -> list[int] | list[bool]:
        """One read of a codec plan's block."""
        if block.is_bits:
            return await self.read_bits(block.table, block.address, block.count, point=block.label())
        return await self.read_registers(block.table, block.address, block.count, point=block.label())

    async def write_op(self, op: WriteOp, function_codes: tuple[int, ...]) -> None:
        """One encoded write, with a function code the board accepts (5/6 where it can, else 15/16)."""
        if op.table == "coil":
            if 5 in function_codes:
                await self.write_coil(op.address, bool(op.values[0]), point=op.point)
            else:
                await self.write_coils(op.address, [bool(v) for v in op.values], point=op.point)
        elif len(op.values) == 1 and 6 in function_codes:
            await self.write_register(op.address, op.values[0], point=op.point)
        else:
            await self.write_registers(op.address, list(op.values), point=op.point)

    def _live(self, point: str | None, table: Table, address: int) -> Client:
        if self._client is None or not self._client.connected:
            raise PlcConnectionError("not connected", point=point, table=table, address=address)
        return self._client

    async def _execute(
        self, request: Awaitable[Any], point: str | None, table: Table, address: int, *, fc: int
    ) -> Any:
        """Await one request; its reply, or the typed error. A reply to another function (a late reply
        to an earlier request, on RTU) is malformed."""
        where: dict[str, Any] = {"point": point, "table": table, "address": address}
        timeout_ms = round(self.conn.request_timeout_s * 1000)
        try:
            async with asyncio.timeout(self.conn.request_timeout_s + _SLACK_S):
                reply = await request
        except TimeoutError as exc:
            raise PlcTimeout(f"no reply within {timeout_ms} ms", **where) from exc
        except ConnectionException as exc:
            raise PlcConnectionError(f"connection lost: {exc}", **where) from exc
        except ModbusIOException as exc:
            if "No response" in str(exc):
                raise PlcTimeout(f"no reply within {timeout_ms} ms", **where) from exc
            raise PlcMalformedReply(str(exc), **where) from exc
        except ModbusException as exc:
            raise PlcMalformedReply(str(exc), **where) from exc
        except (OSError, ValueError, IndexError, TypeError) as exc:  # a broken frame pymodbus did not catch
            raise PlcMalformedReply(f"{type(exc).__name__}: {exc}", **where) from exc
        if reply is None:
            raise PlcMalformedReply("empty reply", **where)
        if reply.isError():
            code = getattr(reply, "exception_code", None)
            if isinstance(code, int):
                raise PlcExceptionReply(code, **where)
            raise PlcMalformedReply(f"error reply {reply}", **where)
        if (got := getattr(reply, "function_code", fc)) != fc:
            raise PlcMalformedReply(f"reply to function code {got}, asked {fc}", **where)
        return reply

    @staticmethod
    def _check_echo(reply: Any, address: int, point: str | None, table: Table) -> None:
        echoed = getattr(reply, "address", address)
        if echoed != address:
            raise PlcMalformedReply(
                f"write echoed address {echoed}", point=point, table=table, address=address
            )


def _size(values: object) -> str:
    return str(len(values)) if isinstance(values, list) else "none"
