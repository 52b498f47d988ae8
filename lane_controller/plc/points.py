"""The fixed point names of a barrier PLC and one resolved point (table, protocol address, type)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

Table = Literal["coil", "discrete_input", "holding_register", "input_register"]
ValueType = Literal["bool", "uint16", "int16", "uint32"]
Command = Literal["open", "close", "stop", "reset"]
COMMANDS: tuple[Command, ...] = get_args(Command)

BOOL_POINTS = frozenset(
    {
        "limit_up", "limit_down", "loop_arming", "loop_safety", "loop_exit", "photocell_blocked",
        "manual_mode", "estop", "motor_running", "fault", "boom_breakaway", "on_battery",
        "coil_open", "coil_close", "coil_stop", "coil_reset", "coil_hold_open", "coil_green_light",
    }
)  # fmt: skip
NUMERIC_POINTS = frozenset(
    {
        "position_pct", "plc_heartbeat", "cmd_seq_ack", "cycle_count", "fw_version",
        "host_heartbeat", "watchdog_ms", "cmd_seq", "auto_close_s", "lane_mode",
    }
)  # fmt: skip
STATES = frozenset({"open", "closed", "stopped", "opening", "closing"})
FAULT_CODES = frozenset(
    {"none", "watchdog", "overcurrent", "obstacle", "both_limits", "travel_timeout", "photocell_self_test"}
)
ENUM_NAMES: dict[str, frozenset[str]] = {
    "state": STATES,
    "fault_code": FAULT_CODES,
    "cmd_word": frozenset({"none", *COMMANDS}),
}
REQUIRED_POINTS = (
    "limit_up", "limit_down", "loop_arming", "loop_safety", "loop_exit", "photocell_blocked", "state",
)  # fmt: skip
WRITABLE_POINTS = frozenset(
    {
        "host_heartbeat", "watchdog_ms", "cmd_seq", "cmd_word", "auto_close_s", "lane_mode",
        "coil_open", "coil_close", "coil_stop", "coil_reset", "coil_hold_open", "coil_green_light",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Point:
    """One named point: its table, protocol (0-based) address, value type and, for registers, bit/enum."""

    name: str
    table: Table
    address: int
    type: ValueType
    bit: int | None = None
    enum: dict[str, int] = field(default_factory=dict)
    writable: bool = False

    @property
    def is_bit_table(self) -> bool:
        """Coils and discrete inputs (read as bits, not registers)."""
        return self.table in ("coil", "discrete_input")

    @property
    def width(self) -> int:
        """Registers (or bits) the point occupies."""
        return 2 if self.type == "uint32" else 1

    @property
    def addresses(self) -> range:
        """Protocol addresses the point occupies."""
        return range(self.address, self.address + self.width)

    def where(self) -> str:
        """``holding_register 100 bit 3``."""
        return f"{self.table} {self.address}" + (f" bit {self.bit}" if self.bit is not None else "")
