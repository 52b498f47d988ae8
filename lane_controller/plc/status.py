"""Plain snapshots the barrier driver hands out: the barrier's status and the outcome of a command."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class BarrierStatus:
    """The barrier at one poll. While ``available`` is False the other values are the last ones read.

    ``fault_code`` is the PLC's, or ``plc_frozen`` when its heartbeat stopped; ``fault`` is set with
    either. ``read_at`` is the ``time.monotonic()`` at which the poll began (every value is newer).
    """

    name: str
    available: bool = False
    state: str = "unknown"
    position_pct: int | None = None
    limit_up: bool = False
    limit_down: bool = False
    loop_arming: bool = False
    loop_safety: bool = False
    loop_exit: bool = False
    photocell_blocked: bool = False
    manual_mode: bool = False
    estop: bool = False
    motor_running: bool = False
    fault: bool = False
    fault_code: str = "none"
    boom_breakaway: bool = False
    on_battery: bool = False
    plc_heartbeat: int | None = None
    plc_frozen: bool = False
    cmd_seq: int | None = None
    """The sequence number of the last command the driver sent."""
    cmd_seq_ack: int | None = None
    cycle_count: int | None = None
    fw_version: int | None = None
    last_error: str | None = None
    """The error that made the PLC unavailable (or the last failed request), with point and address."""
    last_error_kind: str | None = None
    """``PlcTimeout``, ``PlcConnectionError``, ``PlcExceptionReply`` or ``PlcMalformedReply``."""
    read_at: float | None = None
    polls: int = 0
    """Successful polls since start."""
    failures: int = 0
    """Failed requests since start."""
    reconnects: int = 0


class Outcome(StrEnum):
    """Why a command was or was not confirmed."""

    OK = "ok"
    UNAVAILABLE = "unavailable"
    """The PLC could not be reached; nothing may have been sent."""
    EXCEPTION = "exception"
    """The PLC answered the write with a Modbus exception."""
    REFUSED = "refused"
    """Not acknowledged, and the status says why (e-stop, manual mode, fault, vehicle under the boom)."""
    NOT_ACKNOWLEDGED = "not_acknowledged"
    TRAVEL_TIMEOUT = "travel_timeout"
    """Acknowledged, but the limit switch was not reached in time."""


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """What became of one command; ``text`` says why in words (for the lane log and the operator)."""

    command: str
    confirmed: bool
    reason: Outcome
    text: str
    seq: int | None = None
    elapsed_s: float = 0.0
