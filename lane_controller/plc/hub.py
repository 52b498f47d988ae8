"""One hub per PLC connection (after Home Assistant's ``ModbusHub``): one lock around every request,
reconnect with capped exponential backoff, ``available`` with one log line per change, counters.

A request that times out or gets a malformed or lost reply drops the connection: the next request
reconnects, which also throws away a late reply that could otherwise be taken for the next one
(RTU has no transaction id).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from lane_controller.plc.errors import PlcConnectionError, PlcError, PlcExceptionReply, PlcReconnecting
from lane_controller.plc.profile import PlcConnection
from lane_controller.plc.transport import ModbusTransport

log = logging.getLogger(__name__)
T = TypeVar("T")
OnConnect = Callable[[ModbusTransport], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class HubStats:
    """Counters of one hub."""

    requests: int
    failures: int
    connects: int
    reconnects: int


_STABLE_S = 1.0
"""Requests must go through this long after a line failure before the PLC counts as recovered (one log
line, backoff reset)."""


class ModbusHub:
    """Owns one Modbus connection; ``request(fn)`` runs ``fn(transport)`` under the lock, connecting first."""

    def __init__(
        self, conn: PlcConnection, *, name: str = "plc", transport: ModbusTransport | None = None
    ) -> None:
        self.conn = conn
        self.name = name
        self.transport = transport or ModbusTransport(conn)
        self.on_connect: OnConnect | None = None
        """Run (under the lock) after every connect, before the request that caused it."""
        self.available = False
        self.last_error: PlcError | None = None
        self._lock = asyncio.Lock()
        self._failures_in_row = 0
        self._next_connect_at = 0.0
        self._requests = self._failures = self._connects = 0
        self._warned = False
        self._closed = False
        self._last_failure_at = -_STABLE_S
        self._refusing = False

    @property
    def stats(self) -> HubStats:
        """Counters: requests, failed requests, connects, reconnects (connects after the first)."""
        return HubStats(self._requests, self._failures, self._connects, max(0, self._connects - 1))

    async def request(self, fn: Callable[[ModbusTransport], Awaitable[T]], *, patience_s: float = 0.0) -> T:
        """Run one request; raises a PlcError (the hub records it and schedules the reconnect).

        While a reconnect waits out its backoff, requests fail at once without touching the line, unless
        the backoff ends within ``patience_s`` (commands wait that long; polls do not).
        """
        wait = self._next_connect_at - time.monotonic()
        if not self.transport.connected and 0 < wait <= patience_s:
            await asyncio.sleep(wait)
        async with self._lock:
            if self._closed:
                raise PlcConnectionError("hub closed")
            connected = self.transport.connected
            wait = self._next_connect_at - time.monotonic()
            if not connected and wait > 0:
                raise PlcReconnecting(self.last_error)
            self._requests += 1
            try:
                if not connected:
                    await self._connect()
                result = await fn(self.transport)
            except PlcError as exc:
                self._failed(exc)
                raise
            self._succeeded()
            return result

    def reopen(self) -> None:
        """Allow requests again after ``close()`` (the next one connects)."""
        self._closed = False
        self._next_connect_at = 0.0

    async def close(self) -> None:
        """Close the connection; later requests fail with PlcConnectionError."""
        async with self._lock:
            self._closed = True
            self.transport.close()

    async def _connect(self) -> None:
        await self.transport.connect()
        self._connects += 1
        if self.on_connect is not None:
            await self.on_connect(self.transport)

    def _failed(self, exc: PlcError) -> None:
        self._failures += 1
        self.last_error = exc
        self.available = False
        if isinstance(exc, PlcExceptionReply):
            # The PLC answered: the line is fine. One line when it starts answering with exceptions (not one
            # per request), one when it stops.
            if not self._refusing:
                self._refusing = True
                log.warning("PLC %s (%s) answers with exceptions: %s", self.name, self.conn.describe(), exc)
            return
        self._last_failure_at = time.monotonic()
        self._next_connect_at = self._last_failure_at + self._backoff()
        self._failures_in_row += 1
        self.transport.close()
        if not self._warned:
            self._warned = True
            log.warning("PLC %s (%s) unavailable: %s", self.name, self.conn.describe(), exc)

    def _succeeded(self) -> None:
        self.available = True
        self.last_error = None
        # Recovered only once requests have gone through for a while: a line where one request in a
        # cycle keeps failing must not log (and reset its backoff) on every poll.
        if time.monotonic() - self._last_failure_at < _STABLE_S:
            return
        self._failures_in_row = 0
        if self._refusing:
            self._refusing = False
            log.info("PLC %s (%s) answers without exceptions again", self.name, self.conn.describe())
        if self._warned:
            self._warned = False
            log.info("PLC %s (%s) available again", self.name, self.conn.describe())

    def _backoff(self) -> float:
        """0 after the first failure (reconnect at once), then initial, 2x, 4x... up to the cap."""
        if self._failures_in_row == 0:
            return 0.0
        factor = 1 << min(self._failures_in_row - 1, 30)
        return min(self.conn.reconnect_max_s, self.conn.reconnect_initial_s * factor)
