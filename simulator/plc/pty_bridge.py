"""An RS-485 line on two ptys: pymodbus's serial server opens one slave, the client the other.

The relay copies bytes between the two masters on the event loop; it is where replies are damaged
(``PlcFaults.corrupt_rtu``) and where requests are dropped while the server is down (a dead line,
not a buffer that a restarted server would answer late).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import termios
import time
import tty

import serial

from simulator.plc.faults import PlcFaults

_REPLY_GAP_S = 0.002
"""Bytes from the server after a quieter gap than this start a new reply."""


class PtyBridge:
    """Two pty pairs and the relay between their masters."""

    def __init__(self, faults: PlcFaults) -> None:
        self.faults = faults
        self.forward_requests = True
        """False while the server is down: requests go nowhere."""
        self._server_master, self._server_slave = os.openpty()
        self._client_master, self._client_slave = os.openpty()
        for fd in (self._server_master, self._server_slave, self._client_master, self._client_slave):
            tty.setraw(fd)
        # Our own slave fds stay open so a master never reads EIO while its peer has the port closed.
        self.server_device = os.ttyname(self._server_slave)
        self.client_device = os.ttyname(self._client_slave)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._credit = 0.0
        self._last_reply_at = 0.0
        self._corrupting = False
        self.corrupted_replies = 0

    def start(self) -> None:
        """Relay on the running loop."""
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._client_master, self._from_client)
        self._loop.add_reader(self._server_master, self._from_server)

    def flush_requests(self) -> None:
        """Forget requests nobody has read on the server side."""
        with contextlib.suppress(termios.error):
            termios.tcflush(self._server_slave, termios.TCIFLUSH)

    def close(self) -> None:
        """Stop relaying and release the ptys."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._client_master)
            self._loop.remove_reader(self._server_master)
        self._loop = None
        for fd in (self._server_master, self._server_slave, self._client_master, self._client_slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _from_client(self) -> None:
        data = self._read(self._client_master)
        if data and self.forward_requests:
            self._write(self._server_master, data)

    def _from_server(self) -> None:
        data = self._read(self._server_master)
        if not data:
            return
        now = time.monotonic()
        if now - self._last_reply_at > _REPLY_GAP_S:
            self._corrupting = self._roll()
            self.corrupted_replies += self._corrupting
        self._last_reply_at = now
        if self._corrupting:
            data = data[:-1] + bytes([data[-1] ^ 0x5A])  # one damaged byte breaks the CRC-16
        self._write(self._client_master, data)

    def _roll(self) -> bool:
        # Deterministic: exactly the asked fraction of replies, no randomness in tests.
        self._credit += min(1.0, max(0.0, self.faults.corrupt_rtu))
        if self._credit >= 1.0:
            self._credit -= 1.0
            return True
        return False

    @staticmethod
    def _read(fd: int) -> bytes:
        try:
            return os.read(fd, 4096)
        except OSError:
            return b""

    @staticmethod
    def _write(fd: int, data: bytes) -> None:
        view = memoryview(data)
        with contextlib.suppress(OSError):
            while view:
                view = view[os.write(fd, view) :]


@functools.cache
def pty_accepts_parity(parity: str) -> bool:
    """Whether pyserial (hence pymodbus) can open a pty with this parity.

    Recent Linux kernels answer EINVAL to the termios pyserial asks for with parity E or O on a pty
    (libmodbus, which also sets INPCK, gets through). A pty carries bytes, not bits, so the parity
    is moot on it; callers fall back to "N".
    """
    master, slave = os.openpty()
    try:
        port = serial.serial_for_url(os.ttyname(slave), baudrate=38400, parity=parity, timeout=1)
        try:
            port.timeout = 0  # what pymodbus does next: a second termios write
        finally:
            port.close()
    except (termios.error, serial.SerialException, OSError, ValueError):
        return False
    finally:
        os.close(master)
        os.close(slave)
    return True
