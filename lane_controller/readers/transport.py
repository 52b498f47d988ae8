"""Serial transport on pyserial: device paths and ``socket://`` / ``loop://`` URLs, a reader thread,
read and inter-byte time-outs, and reopening with capped exponential backoff when the device goes away."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PortSettings:
    """Where and how to open the port (pyserial names and values)."""

    url: str
    baudrate: int = 115200
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    read_timeout_s: float = 0.02
    """How long one blocking read waits; also the reader thread's stop latency."""
    inter_byte_timeout_s: float = 0.05
    """Silence after which a partial frame is flushed."""
    write_timeout_s: float = 0.5
    reopen_initial_s: float = 0.05
    reopen_max_s: float = 2.0


class SerialTransport:
    """Owns one pyserial port: a daemon thread reads and hands bytes to ``on_data``; ``on_idle`` is
    called when the line has been quiet for the inter-byte time-out. Writes come from any thread."""

    def __init__(
        self, settings: PortSettings, on_data: Callable[[bytes], None], on_idle: Callable[[], None]
    ) -> None:
        self.settings = settings
        self._on_data, self._on_idle = on_data, on_idle
        self._port: serial.Serial | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        self.reconnects = 0
        self.last_error: str | None = None
        self.connected = threading.Event()

    def start(self) -> None:
        """Start the reader thread (it opens the port, retrying in the background)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"serial {self.settings.url}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and close the port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._close()

    def write(self, data: bytes) -> None:
        """Send bytes; raises OSError when the port is not open or the write fails."""
        with self._lock:
            port = self._port
            if port is None:
                raise OSError(f"{self.settings.url} is not open ({self.last_error or 'opening'})")
            try:
                port.write(data)
            except (serial.SerialException, OSError) as exc:
                self._failed(exc)
                raise OSError(str(exc)) from exc

    def _open(self) -> serial.Serial:
        s = self.settings
        port = serial.serial_for_url(s.url, do_not_open=True)
        port.baudrate, port.bytesize, port.parity, port.stopbits = (
            s.baudrate,
            s.bytesize,
            s.parity,
            s.stopbits,
        )
        port.timeout, port.write_timeout = s.read_timeout_s, s.write_timeout_s
        port.open()
        return port

    def _run(self) -> None:
        delay = self.settings.reopen_initial_s
        quiet_since: float | None = None
        while not self._stop.is_set():
            port = self._port
            if port is None:
                try:
                    port = self._open()
                except (serial.SerialException, OSError, ValueError) as exc:
                    self._failed(exc)
                    self._stop.wait(delay)
                    delay = min(delay * 2, self.settings.reopen_max_s)
                    continue
                with self._lock:
                    self._port = port
                delay = self.settings.reopen_initial_s
                if self._failing:
                    log.info("serial %s: recovered", self.settings.url)
                    self.reconnects += 1
                self._failing = False
                self.connected.set()
            try:
                data = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                self._failed(exc)
                continue
            if data:
                quiet_since = None
                self._on_data(data)
            else:
                quiet_since = quiet_since or time.monotonic()
                if (
                    time.monotonic() - quiet_since
                    >= self.settings.inter_byte_timeout_s - self.settings.read_timeout_s
                ):
                    quiet_since = None
                    self._on_idle()

    def _failed(self, exc: BaseException) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        if not self._failing:
            log.warning("serial %s: %s; reopening with backoff", self.settings.url, self.last_error)
        self._failing = True
        self.connected.clear()
        self._close()

    def _close(self) -> None:
        with self._lock:
            port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()
