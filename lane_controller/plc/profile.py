"""Barrier PLC profiles (``hardware_profiles/plc/*.toml``): strict models, checked whole on load.

Field-level problems come from pydantic; the profile-wide checks (numbering, overlaps, required points,
writable tables, function codes, command section) raise ``_Invalid`` with the key path, so every error
names the file, the key and the reason. ``hardware_profiles/plc/README.md`` is the format's reference.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from lane_controller.config_errors import first_error
from lane_controller.plc.points import (
    BOOL_POINTS,
    COMMANDS,
    ENUM_NAMES,
    NUMERIC_POINTS,
    REQUIRED_POINTS,
    WRITABLE_POINTS,
    Command,
    Point,
    Table,
    ValueType,
)

PROFILE_DIR = Path(__file__).resolve().parents[2] / "hardware_profiles" / "plc"

Numbering = Literal["zero_based", "one_based", "modicon"]
DEFAULT_FUNCTION_CODES = (1, 2, 3, 4, 5, 6, 15, 16)
_PLC_HEARTBEAT_MAX_MS = 200
"""The PLC increments its heartbeat at least this often (README)."""
_MODICON_TABLES: dict[int, Table] = {
    0: "coil",
    1: "discrete_input",
    3: "input_register",
    4: "holding_register",
}
READ_FC: dict[Table, int] = {"coil": 1, "discrete_input": 2, "holding_register": 3, "input_register": 4}
WRITABLE_TABLES: frozenset[Table] = frozenset({"coil", "holding_register"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Invalid(ValueError):
    """A profile-wide check failed at ``key``."""

    def __init__(self, key: str, reason: str) -> None:
        self.key, self.reason = key, reason
        super().__init__(f"{key}: {reason}")


class TcpTransport(_Strict):
    """Modbus TCP."""

    kind: Literal["tcp"] = "tcp"
    host: str = Field(min_length=1)
    port: int = Field(default=502, ge=1, le=65535)


class RtuTransport(_Strict):
    """Modbus RTU over a serial line (RS-485)."""

    kind: Literal["rtu"]
    device: str = Field(min_length=1)
    baudrate: int = Field(default=19200, gt=0)
    bytesize: Literal[7, 8] = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1


TransportConfig = Annotated[TcpTransport | RtuTransport, Field(discriminator="kind")]


class Timing(_Strict):
    """Periods and time-outs in milliseconds."""

    poll_ms: int = Field(default=50, ge=1, le=60_000)
    request_timeout_ms: int = Field(default=300, ge=1, le=60_000)
    heartbeat_ms: int = Field(default=500, ge=1, le=60_000)
    watchdog_ms: int = Field(default=3000, ge=0, le=65_535)
    plc_frozen_ms: int = Field(default=1500, ge=1, le=600_000)
    ack_timeout_ms: int = Field(default=500, ge=1, le=60_000)
    travel_timeout_ms: int = Field(default=8000, ge=1, le=600_000)
    confirm_poll_ms: int = Field(default=10, ge=1, le=60_000)
    """While a command awaits its acknowledgement or limit switch, the driver polls this often itself."""

    @model_validator(mode="after")
    def _consistent(self) -> Timing:
        if self.watchdog_ms and 2 * self.heartbeat_ms > self.watchdog_ms:
            raise _Invalid(
                "heartbeat_ms", "must be at most half of watchdog_ms (one slow write would trip the watchdog)"
            )
        if self.plc_frozen_ms < max(3 * self.poll_ms, _PLC_HEARTBEAT_MAX_MS * 2):
            raise _Invalid(
                "plc_frozen_ms",
                f"must be at least 3 poll periods and {_PLC_HEARTBEAT_MAX_MS * 2} ms (the PLC's heartbeat "
                f"may take {_PLC_HEARTBEAT_MAX_MS} ms to change)",
            )
        return self


class CommandSection(_Strict):
    """How the board takes commands (README *Commands*)."""

    style: Literal["coil_pulse", "command_word"]
    release: Literal["plc", "host"] | None = None
    pulse_ms: int | None = Field(default=None, ge=1, le=10_000)
    seq_point: str | None = None
    ack_point: str | None = None
    coils: dict[Command, str] | None = None
    point: str | None = None


class PointSpec(_Strict):
    """One ``[points.<name>]`` entry as written in the file."""

    table: Table | None = None
    address: int
    bit: int | None = Field(default=None, ge=0, le=15)
    type: ValueType | None = None
    enum: dict[str, Annotated[int, Field(ge=0, le=65_535)]] | None = None


class PlcProfile(_Strict):
    """A validated PLC profile; ``point(name)`` gives a point with its protocol address resolved."""

    name: str = Field(min_length=1)
    description: str = ""
    numbering: Numbering
    word_order: Literal["big", "little"] = "big"
    unit_id: int = Field(default=1, ge=0, le=247)
    function_codes: tuple[Annotated[int, Field(ge=1, le=127)], ...] = DEFAULT_FUNCTION_CODES
    transport: TransportConfig
    timing: Timing = Timing()
    command: CommandSection
    points: dict[str, PointSpec]

    _resolved: dict[str, Point] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> PlcProfile:
        resolved = {name: _resolve(name, spec, self.numbering) for name, spec in self.points.items()}
        for name in REQUIRED_POINTS:
            if name not in resolved:
                raise _Invalid(f"points.{name}", "required point missing")
        _check_overlaps(resolved)
        _check_function_codes(resolved, set(self.function_codes))
        _check_command(self.command, resolved)
        if "watchdog_ms" in resolved and self.timing.watchdog_ms and "host_heartbeat" not in resolved:
            raise _Invalid(
                "points.host_heartbeat",
                "required with a watchdog (timing.watchdog_ms > 0): the PLC would refuse every open",
            )
        if self.transport.kind == "rtu" and self.unit_id == 0:
            raise _Invalid("unit_id", "0 is the RTU broadcast address: the board would never reply")
        self._resolved.update(resolved)
        return self

    def point(self, name: str) -> Point:
        """The resolved point; KeyError if the profile does not map it."""
        return self._resolved[name]

    def has(self, name: str) -> bool:
        """Whether the profile maps the point."""
        return name in self._resolved

    @property
    def resolved_points(self) -> Mapping[str, Point]:
        """Every point by name, protocol addresses resolved."""
        return dict(self._resolved)

    def with_timing(self, **changes: int) -> PlcProfile:
        """The same profile with some timings changed (validated again)."""
        data = self.model_dump()
        data["timing"] = {**data["timing"], **changes}
        return PlcProfile.model_validate(data)


class PlcProfileError(ValueError):
    """A profile (or transport override) that cannot be used: names the file, the key and the reason."""

    def __init__(self, path: Path | str, key: str, reason: str) -> None:
        self.path, self.key, self.reason = path, key, reason
        super().__init__(f"{path}: {key}: {reason}")


@dataclass(frozen=True, slots=True)
class PlcConnection:
    """Where and how to reach one PLC: the transport plus the request settings the hub needs."""

    transport: TcpTransport | RtuTransport
    unit_id: int = 1
    request_timeout_s: float = 0.3
    connect_timeout_s: float = 1.0
    reconnect_initial_s: float = 0.05
    reconnect_max_s: float = 2.0

    def describe(self) -> str:
        """``tcp 10.0.0.5:502`` / ``rtu /dev/ttyUSB0 38400 8E1``."""
        t = self.transport
        if isinstance(t, TcpTransport):
            return f"tcp {t.host}:{t.port}"
        return f"rtu {t.device} {t.baudrate} {t.bytesize}{t.parity}{t.stopbits}"


def connection_for(
    profile: PlcProfile, override: Mapping[str, Any] | None = None, *, source: str = "lane layout"
) -> PlcConnection:
    """The connection a lane uses: the profile's ``[transport]`` with a lane layout's keys on top.

    Keys of ``override`` replace the profile's; an override naming another ``kind`` replaces the
    transport whole. Problems raise PlcProfileError naming ``source`` and ``transport.<key>``.
    """
    base = profile.transport.model_dump()
    data = dict(override or {})
    if data.get("kind", base["kind"]) != base["kind"]:
        base = {}
    merged = {**base, **data}
    try:
        transport: TcpTransport | RtuTransport = (
            RtuTransport.model_validate(merged)
            if merged.get("kind") == "rtu"
            else TcpTransport.model_validate(merged)
        )
    except ValidationError as exc:
        key, reason = _first_error(exc)
        raise PlcProfileError(source, f"transport.{key}", reason) from exc
    if isinstance(transport, RtuTransport) and profile.unit_id == 0:
        raise PlcProfileError(
            source, "transport.kind", "rtu with unit_id 0 (the broadcast address never answers)"
        )
    return PlcConnection(
        transport=transport,
        unit_id=profile.unit_id,
        request_timeout_s=profile.timing.request_timeout_ms / 1000,
    )


def load_plc_profile(name_or_path: str | Path, directory: Path = PROFILE_DIR) -> PlcProfile:
    """Load a profile by name (from ``directory``) or by path; raises PlcProfileError on any problem."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and len(path.parts) == 1:
        path = directory / f"{name_or_path}.toml"
    if not path.is_file():
        raise PlcProfileError(path, "(file)", "no such profile")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PlcProfileError(path, "(file)", f"cannot parse: {exc}") from exc
    try:
        profile = PlcProfile.model_validate(data)
    except ValidationError as exc:
        key, reason = _first_error(exc)
        raise PlcProfileError(path, key, reason) from exc
    if profile.name != path.stem:
        raise PlcProfileError(path, "name", f"{profile.name!r} must equal the file's stem {path.stem!r}")
    return profile


def _first_error(exc: ValidationError) -> tuple[str, str]:
    """:func:`first_error`, with the key and reason of a cross-field check (``_Invalid``) as it gave them."""
    err = exc.errors()[0]
    invalid = err.get("ctx", {}).get("error")
    if isinstance(invalid, _Invalid):
        loc = ".".join(str(p) for p in err["loc"])
        return ".".join(p for p in (loc, invalid.key) if p), invalid.reason
    return first_error(exc)


# --- resolution of one point


def _protocol_address(key: str, spec: PointSpec, numbering: Numbering) -> tuple[Table, int]:
    address = spec.address
    if numbering == "modicon":
        digit, number = divmod(address, 10_000)
        table = _MODICON_TABLES.get(digit)
        if table is None or not 1 <= number <= 9999 or address > 49_999:
            raise _Invalid(
                f"{key}.address", f"{address} is not a Modicon number (00001-09999, 10001-19999, ...)"
            )
        if spec.table is not None and spec.table != table:
            raise _Invalid(f"{key}.table", f"{spec.table} disagrees with Modicon number {address} ({table})")
        return table, number - 1
    if spec.table is None:
        raise _Invalid(f"{key}.table", f"required with {numbering} numbering")
    protocol = address - 1 if numbering == "one_based" else address
    if not 0 <= protocol <= 65_535:
        low, high = (1, 65_536) if numbering == "one_based" else (0, 65_535)
        raise _Invalid(f"{key}.address", f"{address} is outside {low}-{high} ({numbering})")
    return spec.table, protocol


def _resolve(name: str, spec: PointSpec, numbering: Numbering) -> Point:
    key = f"points.{name}"
    if name not in BOOL_POINTS and name not in NUMERIC_POINTS and name not in ENUM_NAMES:
        raise _Invalid(key, "unknown point name")
    table, address = _protocol_address(key, spec, numbering)
    is_bits = table in ("coil", "discrete_input")
    if spec.bit is not None and is_bits:
        raise _Invalid(f"{key}.bit", f"only registers have bits ({table})")
    if is_bits or spec.bit is not None:
        if spec.type not in (None, "bool"):
            raise _Invalid(f"{key}.type", f"a {'bit' if spec.bit is not None else table} is bool")
        if spec.enum is not None:
            raise _Invalid(f"{key}.enum", "only whole registers have enumerations")
        vtype: ValueType = "bool"
    else:
        vtype = spec.type or "uint16"
        if vtype == "bool":
            raise _Invalid(f"{key}.type", "a bool in a register needs `bit`")
    if vtype == "uint32" and address > 65_534:
        raise _Invalid(f"{key}.address", "uint32 needs two registers: the second is past 65535")
    _check_kind(key, name, vtype, spec)
    writable = name in WRITABLE_POINTS
    if writable and table not in WRITABLE_TABLES:
        raise _Invalid(f"{key}.table", f"{name} is written by the host: {table} is read-only")
    if writable and spec.bit is not None:
        raise _Invalid(f"{key}.bit", "a register bit cannot be written on its own")
    return Point(name, table, address, vtype, bit=spec.bit, enum=dict(spec.enum or {}), writable=writable)


def _check_kind(key: str, name: str, vtype: ValueType, spec: PointSpec) -> None:
    if name in BOOL_POINTS and vtype != "bool":
        raise _Invalid(key, f"{name} is a bool: a coil, a discrete input or a register bit")
    if name in ENUM_NAMES:
        if spec.enum is None:
            raise _Invalid(f"{key}.enum", f"{name} needs an enumeration")
        if vtype != "uint16":
            raise _Invalid(f"{key}.type", "an enumeration is one uint16 register")
        allowed = ENUM_NAMES[name]
        for label in spec.enum:
            if label not in allowed:
                raise _Invalid(f"{key}.enum.{label}", f"unknown name (one of {', '.join(sorted(allowed))})")
        required = {"state": allowed, "fault_code": {"none"}, "cmd_word": allowed}[name]
        if missing := sorted(required - set(spec.enum)):
            raise _Invalid(f"{key}.enum", f"missing {', '.join(missing)}")
        if len(set(spec.enum.values())) != len(spec.enum):
            raise _Invalid(f"{key}.enum", "two names share one raw value")
        if name == "cmd_word" and spec.enum["none"] != 0:
            raise _Invalid(f"{key}.enum.none", "must be 0: the PLC clears the command register to 0")
    elif spec.enum is not None:
        raise _Invalid(f"{key}.enum", f"{name} is not an enumeration")
    if name in NUMERIC_POINTS and vtype == "bool":
        raise _Invalid(key, f"{name} is a number: a register, not a coil, discrete input or register bit")
    if name in NUMERIC_POINTS and name in WRITABLE_POINTS and vtype != "uint16":
        raise _Invalid(f"{key}.type", f"{name} is written as one uint16 register")


# --- profile-wide checks


def _check_overlaps(points: Mapping[str, Point]) -> None:
    used: dict[tuple[Table, int], tuple[str, int | None]] = {}
    bits: dict[tuple[Table, int, int], str] = {}
    for name, p in points.items():
        for address in p.addresses:
            slot = (p.table, address)
            other = used.get(slot)
            if p.bit is not None:
                if other is not None and other[1] is None:
                    raise _Invalid(f"points.{name}", f"overlaps {other[0]} ({p.table} {address})")
                if (p.table, address, p.bit) in bits:
                    raise _Invalid(
                        f"points.{name}.bit",
                        f"bit {p.bit} of {p.table} {address} is {bits[p.table, address, p.bit]}",
                    )
                bits[p.table, address, p.bit] = name
                used.setdefault(slot, (name, p.bit))
            elif other is not None:
                raise _Invalid(f"points.{name}", f"overlaps {other[0]} ({p.table} {address})")
            else:
                used[slot] = (name, None)


def _check_function_codes(points: Mapping[str, Point], codes: set[int]) -> None:
    for name, p in points.items():
        if p.writable:
            need = {5, 15} if p.table == "coil" else {6, 16}
            if not need & codes:
                fcs = " or ".join(map(str, sorted(need)))
                raise _Invalid(
                    f"points.{name}",
                    f"written with function code {fcs}: not in function_codes",
                )
        elif READ_FC[p.table] not in codes:
            raise _Invalid(
                f"points.{name}", f"read with function code {READ_FC[p.table]}: not in function_codes"
            )


def _check_command(cmd: CommandSection, points: Mapping[str, Point]) -> None:
    def need(key: str, name: str) -> Point:
        if name not in points:
            raise _Invalid(f"command.{key}", f"no point {name!r}")
        return points[name]

    if (cmd.seq_point is None) != (cmd.ack_point is None):
        raise _Invalid(
            "command.seq_point" if cmd.seq_point is None else "command.ack_point",
            "seq_point and ack_point go together",
        )
    if cmd.seq_point is not None and cmd.ack_point is not None:
        if cmd.seq_point != "cmd_seq":
            raise _Invalid("command.seq_point", "must be the cmd_seq point")
        if cmd.ack_point != "cmd_seq_ack":
            raise _Invalid("command.ack_point", "must be the cmd_seq_ack point")
        seq = need("seq_point", cmd.seq_point)
        if not seq.writable or seq.type != "uint16":
            raise _Invalid("command.seq_point", f"{seq.name} must be a writable uint16 register")
        ack = need("ack_point", cmd.ack_point)
        if ack.writable or ack.type != "uint16":
            raise _Invalid("command.ack_point", f"{ack.name} must be a read-only uint16 register")
    if cmd.style == "coil_pulse":
        for key in ("point",):
            if getattr(cmd, key) is not None:
                raise _Invalid(f"command.{key}", "only with style command_word")
        if cmd.release is None:
            raise _Invalid("command.release", "required with style coil_pulse (plc or host)")
        if (cmd.pulse_ms is None) != (cmd.release == "plc"):
            raise _Invalid("command.pulse_ms", "required with release host, not allowed with release plc")
        coils = cmd.coils or {}
        for command in COMMANDS:
            if command not in coils:
                raise _Invalid(f"command.coils.{command}", "missing")
            coil = need(f"coils.{command}", coils[command])
            if coil.table != "coil" or not coil.writable:
                raise _Invalid(f"command.coils.{command}", f"{coil.name} is not a writable coil")
            if coil.name != f"coil_{command}":  # one coil per command: open can never run as close
                raise _Invalid(f"command.coils.{command}", f"must be the coil_{command} point")
        return
    for key in ("release", "pulse_ms", "coils"):
        if getattr(cmd, key) is not None:
            raise _Invalid(f"command.{key}", "only with style coil_pulse")
    if cmd.point is None:
        raise _Invalid("command.point", "required with style command_word")
    word = need("point", cmd.point)
    if word.name != "cmd_word":
        raise _Invalid("command.point", "must be the cmd_word point")
