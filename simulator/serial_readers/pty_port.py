"""A real pty whose slave the driver opens by a stable symlink path (like /dev/serial/by-id).

``vanish()`` closes the pty and removes the link (a USB adapter unplugged); ``restore()`` makes a new pty
behind the same link.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from pathlib import Path


class PtyPort:
    """The simulator's end of a pty; ``path`` is what the driver opens."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self.restore()

    @property
    def present(self) -> bool:
        """Whether the device is plugged in."""
        return self._master is not None

    def restore(self) -> None:
        """Plug the device (back) in: a fresh pty behind ``path``."""
        with self._lock:
            if self._master is not None:
                return
            master, slave = os.openpty()
            tty.setraw(slave)
            tty.setraw(master)
            tmp = self.path.with_suffix(".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(os.ttyname(slave))
            tmp.replace(self.path)
            self._master, self._slave = master, slave

    def vanish(self) -> None:
        """Unplug the device: the driver's reads fail and the path is gone until ``restore()``."""
        with self._lock:
            self.path.unlink(missing_ok=True)
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None

    def read(self, timeout_s: float) -> bytes | None:
        """Bytes from the driver, b'' on time-out, None while unplugged."""
        master = self._master
        if master is None:
            return None
        try:
            ready, _, _ = select.select([master], [], [], timeout_s)
            return os.read(master, 4096) if ready else b""
        except OSError:
            return b""

    def write(self, data: bytes) -> None:
        """Bytes to the driver (dropped while unplugged)."""
        with self._lock:
            if self._master is None:
                return
            view = memoryview(data)
            while view:
                written = os.write(self._master, view)
                view = view[written:]

    def close(self) -> None:
        """Release the pty and the link."""
        self.vanish()
