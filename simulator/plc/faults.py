"""Fault knobs of the simulated PLC; flip them at run time from a test or a scenario."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass
class PlcFaults:
    """What the simulated PLC does wrong. Read at every request (server knobs) or tick (PLC knobs)."""

    delay_s: float = 0.0
    """Answer every request this late."""
    silent: bool = False
    """Answer nothing (the request is not executed either)."""
    exception_code: int | None = None
    """Answer every request with this Modbus exception code (e.g. 4 device failure, 6 busy); not executed."""
    freeze_heartbeat: bool = False
    """``plc_heartbeat`` stops changing (a frozen PLC)."""
    stuck_limit: Literal["up", "down"] | None = None
    """That limit switch reads 1 whatever the boom does (both set -> fault ``both_limits``)."""
    corrupt_rtu: float = 0.0
    """Fraction (0-1) of RTU replies whose bytes are damaged on the line (bad CRC)."""
