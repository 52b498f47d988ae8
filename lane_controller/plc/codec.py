"""Register codec: which requests read a profile's status points, how to decode them, how to encode writes.

Pure: no I/O, so it is tested with plain lists. Values are ``bool`` (coils, inputs, register bits),
``int`` (uint16, int16, uint32) or ``str`` (enumeration names; an unmapped raw value decodes to
``"unknown(<raw>)"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lane_controller.plc.points import Point, Table
from lane_controller.plc.profile import PlcProfile

Value = bool | int | str
MAX_BITS = 2000
"""Modbus limit of one read of coils or discrete inputs."""
MAX_REGISTERS = 125
"""Modbus limit of one read of holding or input registers."""


@dataclass(frozen=True, slots=True)
class ReadBlock:
    """One read request: ``count`` bits or registers of ``table`` from ``address``, covering ``points``."""

    table: Table
    address: int
    count: int
    points: tuple[str, ...]

    @property
    def is_bits(self) -> bool:
        """Coils and discrete inputs."""
        return self.table in ("coil", "discrete_input")

    def label(self) -> str:
        """The points the block covers, for error messages."""
        return ", ".join(self.points)


@dataclass(frozen=True, slots=True)
class WriteOp:
    """One write request: a coil (``values`` one 0/1) or one or more holding registers."""

    point: str
    table: Table
    address: int
    values: tuple[int, ...]


class RegisterCodec:
    """Reads, decodes and encodes the named points of one profile.

    ``max_gap``: unmapped registers (bits: 16 per register) a read may span to save a request.
    0 (default) reads contiguous runs only, since some boards answer an exception for unmapped addresses.
    """

    def __init__(self, profile: PlcProfile, *, max_gap: int = 0) -> None:
        self.profile = profile
        self.points = profile.resolved_points
        self.status_points = tuple(p for p in self.points.values() if not p.writable)
        self.plan = plan_reads(self.status_points, max_gap=max_gap)

    def decode_block(self, block: ReadBlock, raw: Sequence[int | bool]) -> dict[str, Value]:
        """Decode the points of one block from its raw bits or registers (``len(raw) >= block.count``)."""
        if len(raw) < block.count:
            raise ValueError(f"{block.label()}: {len(raw)} values for a read of {block.count}")
        return {
            name: self.decode(self.points[name], raw[self.points[name].address - block.address :])
            for name in block.points
        }

    def decode(self, point: Point, raw: Sequence[int | bool]) -> Value:
        """Decode one point from the raw values starting at its address."""
        if point.is_bit_table:
            return bool(raw[0])
        word = int(raw[0])
        if point.bit is not None:
            return bool(word >> point.bit & 1)
        if point.type == "uint32":
            low, high = (int(raw[1]), word) if self.profile.word_order == "big" else (word, int(raw[1]))
            return high << 16 | low
        if point.type == "int16":
            return word - 0x10000 if word & 0x8000 else word
        if point.enum:
            return next((name for name, value in point.enum.items() if value == word), f"unknown({word})")
        return word

    def encode(self, name: str, value: Value) -> WriteOp:
        """The write of one writable point; ValueError for read-only points and values that do not fit."""
        point = self.points.get(name)
        if point is None:
            raise ValueError(f"{name}: the profile {self.profile.name!r} does not map this point")
        if not point.writable:
            raise ValueError(f"{name} ({point.where()}): read-only point")
        if point.table == "coil":
            if not isinstance(value, bool):
                raise ValueError(f"{name}: a coil takes True or False, not {value!r}")
            return WriteOp(name, point.table, point.address, (int(value),))
        if point.enum:
            if not isinstance(value, str) or value not in point.enum:
                raise ValueError(f"{name}: {value!r} is not one of {', '.join(point.enum)}")
            return WriteOp(name, point.table, point.address, (point.enum[value],))
        if isinstance(value, str | bool):
            raise ValueError(f"{name}: expects a number, not {value!r}")
        return WriteOp(name, point.table, point.address, _words(point, value, self.profile.word_order))


def _words(point: Point, value: int, word_order: str) -> tuple[int, ...]:
    limits = {"uint16": (0, 0xFFFF), "int16": (-0x8000, 0x7FFF), "uint32": (0, 0xFFFF_FFFF)}
    low, high = limits[point.type]
    if not low <= value <= high:
        raise ValueError(f"{point.name}: {value} does not fit {point.type}")
    if point.type == "int16":
        return (value & 0xFFFF,)
    if point.type == "uint32":
        hi, lo = value >> 16, value & 0xFFFF
        return (hi, lo) if word_order == "big" else (lo, hi)
    return (value,)


def plan_reads(points: Sequence[Point], *, max_gap: int = 0) -> tuple[ReadBlock, ...]:
    """Group points into as few reads as possible: per table, runs no longer than the Modbus maximum,
    bridging at most ``max_gap`` unmapped registers (``16 * max_gap`` bits)."""
    blocks: list[ReadBlock] = []
    tables: dict[Table, list[Point]] = {}
    for p in points:
        tables.setdefault(p.table, []).append(p)
    for table, members in tables.items():
        bits = table in ("coil", "discrete_input")
        limit, gap = (MAX_BITS, 16 * max_gap) if bits else (MAX_REGISTERS, max_gap)
        start = end = -1
        names: list[str] = []
        for p in sorted(members, key=lambda q: (q.address, q.bit or 0)):
            last = p.address + p.width
            if names and p.address <= end + gap and max(end, last) - start <= limit:
                end = max(end, last)
                names.append(p.name)
                continue
            if names:
                blocks.append(ReadBlock(table, start, end - start, tuple(names)))
            start, end, names = p.address, last, [p.name]
        if names:
            blocks.append(ReadBlock(table, start, end - start, tuple(names)))
    return tuple(blocks)


def decode_all(codec: RegisterCodec, raw: Mapping[ReadBlock, Sequence[int | bool]]) -> dict[str, Value]:
    """Decode every block of a plan from its raw values."""
    values: dict[str, Value] = {}
    for block, data in raw.items():
        values.update(codec.decode_block(block, data))
    return values
