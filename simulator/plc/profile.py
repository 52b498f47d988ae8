"""The simulator's own reading of hardware_profiles/plc/*.toml (independent of the controller's driver).

Addresses are converted to 0-based protocol addresses here. The simulator checks the keys as strictly as
the driver does (an unknown key such as ``poll_msec`` or ``wordorder``, an unknown transport kind, is an
error naming it), so a profile that one side refuses is refused by the other too; the checks themselves
are its own, not the driver's.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

PROFILE_DIR = Path(__file__).resolve().parents[2] / "hardware_profiles" / "plc"

Table = Literal["coil", "discrete_input", "holding_register", "input_register"]
TABLES: tuple[Table, ...] = ("coil", "discrete_input", "holding_register", "input_register")
BIT_TABLES: frozenset[str] = frozenset({"coil", "discrete_input"})
PointType = Literal["bool", "uint16", "int16", "uint32"]

_MODICON_TABLES: dict[int, Table] = {
    0: "coil",
    1: "discrete_input",
    3: "input_register",
    4: "holding_register",
}
DEFAULT_FUNCTION_CODES = (1, 2, 3, 4, 5, 6, 15, 16)
COMMANDS = ("open", "close", "stop", "reset")
STATES = frozenset({"open", "closed", "stopped", "opening", "closing"})
FAULT_CODES = frozenset(
    {"none", "watchdog", "overcurrent", "obstacle", "both_limits", "travel_timeout", "photocell_self_test"}
)
_ENUM_NAMES: dict[str, frozenset[str]] = {
    "state": STATES,
    "fault_code": FAULT_CODES,
    "cmd_word": frozenset({"none", *COMMANDS}),
}
WRITABLE = frozenset(
    {"host_heartbeat", "watchdog_ms", "cmd_seq", "cmd_word", "auto_close_s", "lane_mode"}
    | {f"coil_{c}" for c in ("open", "close", "stop", "reset", "hold_open", "green_light")}
)
REQUIRED = ("limit_up", "limit_down", "loop_arming", "loop_safety", "loop_exit", "photocell_blocked", "state")


@dataclass(frozen=True)
class SimPoint:
    """One named point at its 0-based protocol address."""

    name: str
    table: Table
    address: int
    type: PointType
    bit: int | None = None
    enum: dict[str, int] = field(default_factory=dict)

    @property
    def width(self) -> int:
        """Registers (or bits) the point occupies."""
        return 2 if self.type == "uint32" else 1

    @property
    def writable(self) -> bool:
        """Whether the host may write the point."""
        return self.name in WRITABLE


@dataclass(frozen=True)
class SimCommand:
    """How the board takes commands."""

    style: Literal["coil_pulse", "command_word"]
    release: Literal["plc", "host"] = "plc"
    coils: dict[str, str] = field(default_factory=dict)
    """command -> coil point name"""
    point: str | None = None
    seq_point: str | None = None
    ack_point: str | None = None


@dataclass(frozen=True)
class SimProfile:
    """What the simulated PLC serves."""

    name: str
    points: dict[str, SimPoint]
    command: SimCommand
    word_order: Literal["big", "little"] = "big"
    unit_id: int = 1
    function_codes: frozenset[int] = frozenset(DEFAULT_FUNCTION_CODES)
    transport: dict[str, Any] = field(default_factory=dict)
    watchdog_ms: int = 3000


def load_sim_profile(name_or_path: str | Path) -> SimProfile:
    """Load ``hardware_profiles/plc/<name>.toml`` or a TOML file by path; ValueError on nonsense."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = PROFILE_DIR / f"{name_or_path}.toml"
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: no such PLC profile") from exc
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    try:
        return parse_profile(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


_KEYS: dict[str, frozenset[str]] = {
    "": frozenset(
        {"name", "description", "numbering", "word_order", "unit_id", "function_codes"}
        | {"transport", "timing", "command", "points"}
    ),
    "transport.tcp": frozenset({"kind", "host", "port"}),
    "transport.rtu": frozenset({"kind", "device", "baudrate", "bytesize", "parity", "stopbits"}),
    "timing": frozenset(
        {"poll_ms", "request_timeout_ms", "heartbeat_ms", "watchdog_ms", "plc_frozen_ms"}
        | {"ack_timeout_ms", "travel_timeout_ms", "confirm_poll_ms"}
    ),
    "command": frozenset({"style", "release", "pulse_ms", "seq_point", "ack_point", "coils", "point"}),
    "point": frozenset({"table", "address", "bit", "type", "enum"}),
}


def _only_known(where: str, table: Any, keys: frozenset[str]) -> None:
    if not isinstance(table, dict):
        raise TypeError(f"{where or '(root)'}: not a table")
    unknown = sorted(set(table) - keys)
    if unknown:
        prefix = f"{where}." if where else ""
        raise ValueError(f"{prefix}{unknown[0]}: unknown key (known: {', '.join(sorted(keys))})")


def _check_keys(data: dict[str, Any]) -> None:
    _only_known("", data, _KEYS[""])
    transport = data.get("transport", {})
    _only_known("transport", transport, _KEYS["transport.tcp"] | _KEYS["transport.rtu"])
    kind = transport.get("kind", "tcp")
    if kind not in ("tcp", "rtu"):
        raise ValueError(f"transport.kind: unknown {kind!r} (tcp or rtu)")
    _only_known("transport", transport, _KEYS[f"transport.{kind}"])
    _only_known("timing", data.get("timing", {}), _KEYS["timing"])
    if "command" in data:
        _only_known("command", data["command"], _KEYS["command"])
    for name, spec in (data.get("points") or {}).items():
        _only_known(f"points.{name}", spec, _KEYS["point"])


def parse_profile(data: dict[str, Any]) -> SimProfile:
    """Build a profile from the parsed TOML table; ValueError (or TypeError) names the first bad key."""
    _check_keys(data)
    numbering = data.get("numbering", "zero_based")
    if numbering not in ("zero_based", "one_based", "modicon"):
        raise ValueError(f"numbering: unknown {numbering!r}")
    word_order = data.get("word_order", "big")
    if word_order not in ("big", "little"):
        raise ValueError(f"word_order: unknown {word_order!r}")
    unit_id = data.get("unit_id", 1)
    if not isinstance(unit_id, int) or not 0 <= unit_id <= 247:
        raise ValueError(f"unit_id: {unit_id!r} is not 0-247")
    codes = data.get("function_codes", list(DEFAULT_FUNCTION_CODES))
    if not isinstance(codes, list) or not all(isinstance(c, int) and 0 < c < 128 for c in codes):
        raise ValueError(f"function_codes: {codes!r} is not a list of function codes")
    raw_points = data.get("points")
    if not isinstance(raw_points, dict) or not raw_points:
        raise ValueError("points: missing")
    points = {name: _point(name, spec, numbering) for name, spec in raw_points.items()}
    _check_points(points)
    command = _command(data.get("command"), points)
    timing = data.get("timing", {})
    return SimProfile(
        name=str(data.get("name", "")),
        points=points,
        command=command,
        word_order=word_order,
        unit_id=unit_id,
        function_codes=frozenset(codes),
        transport=dict(data.get("transport", {})),
        watchdog_ms=int(timing.get("watchdog_ms", 3000)),
    )


def _point(name: str, spec: Any, numbering: str) -> SimPoint:
    if not isinstance(spec, dict):
        raise TypeError(f"points.{name}: not a table")
    number = spec.get("address")
    if not isinstance(number, int) or isinstance(number, bool):
        raise ValueError(f"points.{name}.address: missing or not an integer")
    table = spec.get("table")
    if numbering == "modicon":
        given, address = table, _modicon(name, number)
        table = _MODICON_TABLES[number // 10000]
        if given is not None and given != table:
            raise ValueError(f"points.{name}.table: {given!r} disagrees with Modicon number {number}")
    else:
        address = number - 1 if numbering == "one_based" else number
    if table not in TABLES:
        raise ValueError(f"points.{name}.table: {table!r} is not one of {', '.join(TABLES)}")
    if not 0 <= address <= 65535:
        raise ValueError(f"points.{name}.address: {number} is outside the address space")
    bit = spec.get("bit")
    if bit is not None and (table in BIT_TABLES or not isinstance(bit, int) or not 0 <= bit <= 15):
        raise ValueError(f"points.{name}.bit: {bit!r} (0-15, registers only)")
    default_type = "bool" if table in BIT_TABLES or bit is not None else "uint16"
    ptype = spec.get("type", default_type)
    if ptype not in ("bool", "uint16", "int16", "uint32"):
        raise ValueError(f"points.{name}.type: unknown {ptype!r}")
    if (ptype == "bool") != (default_type == "bool"):
        raise ValueError(
            f"points.{name}.type: {ptype} does not fit a {table} {'bit' if bit is not None else ''}"
        )
    enum = spec.get("enum", {})
    if not isinstance(enum, dict) or not all(isinstance(v, int) for v in enum.values()):
        raise ValueError(f"points.{name}.enum: not a table of integers")
    if name in _ENUM_NAMES and not enum:
        raise ValueError(f"points.{name}.enum: required")
    if unknown := set(enum) - _ENUM_NAMES.get(name, frozenset()):
        raise ValueError(f"points.{name}.enum: unknown names {sorted(unknown)}")
    if name in WRITABLE and table not in ("coil", "holding_register"):
        raise ValueError(f"points.{name}: writable points must be coils or holding registers")
    return SimPoint(name, table, address, ptype, bit, dict(enum))


def _modicon(name: str, number: int) -> int:
    base = number // 10000
    if base not in _MODICON_TABLES or not 1 <= number % 10000 <= 9999:
        raise ValueError(f"points.{name}.address: {number} is not a Modicon number")
    return number - base * 10000 - 1


def _check_points(points: dict[str, SimPoint]) -> None:
    for required in REQUIRED:
        if required not in points:
            raise ValueError(f"points.{required}: required")
    whole: dict[tuple[str, int], str] = {}
    bits: dict[tuple[str, int, int], str] = {}
    bit_regs: dict[tuple[str, int], str] = {}
    for point in points.values():
        for offset in range(point.width):
            cell = (point.table, point.address + offset)
            if point.bit is None:
                other = whole.get(cell) or bit_regs.get(cell)
                whole[cell] = point.name
            else:
                other = whole.get(cell) or bits.get((*cell, point.bit))
                bits[(*cell, point.bit)] = bit_regs[cell] = point.name
            if other is not None:
                raise ValueError(f"points.{point.name}: overlaps points.{other}")


def _command(spec: Any, points: dict[str, SimPoint]) -> SimCommand:
    if not isinstance(spec, dict):
        raise ValueError("command: missing")
    style = spec.get("style")
    release = spec.get("release", "plc")
    if release not in ("plc", "host"):
        raise ValueError(f"command.release: unknown {release!r}")
    for key in ("seq_point", "ack_point", "point"):
        if (ref := spec.get(key)) is not None and ref not in points:
            raise ValueError(f"command.{key}: no point {ref!r}")
    if style == "coil_pulse":
        coils = spec.get("coils", {})
        if not isinstance(coils, dict) or set(coils) - set(COMMANDS):
            raise ValueError(f"command.coils: {coils!r}")
        for cmd, coil in coils.items():
            if coil not in points or points[coil].type != "bool":
                raise ValueError(f"command.coils.{cmd}: no bool point {coil!r}")
        return SimCommand(
            style="coil_pulse",
            release=release,
            coils=dict(coils),
            seq_point=spec.get("seq_point"),
            ack_point=spec.get("ack_point"),
        )
    if style == "command_word":
        point = spec.get("point")
        if point is None or not points[point].enum:
            raise ValueError("command.point: must name an enumerated register")
        return SimCommand(
            style="command_word",
            point=point,
            seq_point=spec.get("seq_point"),
            ack_point=spec.get("ack_point"),
        )
    raise ValueError(f"command.style: unknown {style!r}")
