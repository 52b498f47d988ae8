"""The profile's tables as the wire sees them: model values <-> coil bits and register words.

Exact to the map: any address in a request that no point covers is an illegal data address.
"""

from __future__ import annotations

from simulator.plc.model import SimPlc, Value
from simulator.plc.profile import BIT_TABLES, SimPoint, SimProfile, Table

ILLEGAL_ADDRESS = 2
ILLEGAL_VALUE = 3


class MapError(Exception):
    """A request the map cannot serve; ``code`` is the Modbus exception code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class RegisterImage:
    """Reads and writes the PLC's points by table and protocol address."""

    def __init__(self, profile: SimProfile) -> None:
        self.profile = profile
        self._bits: dict[str, dict[int, SimPoint]] = {t: {} for t in BIT_TABLES}
        self._words: dict[str, dict[int, list[tuple[SimPoint, int]]]] = {
            "holding_register": {},
            "input_register": {},
        }
        for point in profile.points.values():
            if point.table in BIT_TABLES:
                self._bits[point.table][point.address] = point
                continue
            for index in range(point.width):
                slot = point.bit if point.bit is not None else index
                self._words[point.table].setdefault(point.address + index, []).append((point, slot))

    def read(self, plc: SimPlc, table: Table, address: int, count: int) -> list[bool] | list[int]:
        """``count`` bits or words from ``address``; MapError(2) if any of them is unmapped."""
        if table in BIT_TABLES:
            return [bool(plc.value(self._bit_point(table, a).name)) for a in range(address, address + count)]
        return [self._word(plc, table, a) for a in range(address, address + count)]

    def decode_write(self, table: Table, address: int, values: list[bool] | list[int]) -> dict[str, Value]:
        """The point values a write request carries; MapError for unmapped, read-only or bad values."""
        writes: dict[str, Value] = {}
        for offset, raw in enumerate(values):
            addr = address + offset
            if table in BIT_TABLES:
                point = self._bit_point(table, addr)
                self._check_writable(point, addr)
                writes[point.name] = bool(raw)
                continue
            for point, slot in self._cells(table, addr):
                self._check_writable(point, addr)
                writes[point.name] = self._decode(point, slot, int(raw))
        return writes

    def _bit_point(self, table: str, address: int) -> SimPoint:
        point = self._bits[table].get(address)
        if point is None:
            raise MapError(ILLEGAL_ADDRESS, f"no {table} at {address}")
        return point

    def _cells(self, table: str, address: int) -> list[tuple[SimPoint, int]]:
        cells = self._words[table].get(address)
        if not cells:
            raise MapError(ILLEGAL_ADDRESS, f"no {table} at {address}")
        return cells

    @staticmethod
    def _check_writable(point: SimPoint, address: int) -> None:
        if not point.writable or point.type == "uint32":
            raise MapError(ILLEGAL_ADDRESS, f"{point.name} at {address} is read-only")

    def _word(self, plc: SimPlc, table: str, address: int) -> int:
        word = 0
        for point, slot in self._cells(table, address):
            value = plc.value(point.name)
            if point.bit is not None:
                word |= int(bool(value)) << slot
            elif point.enum:
                word = point.enum.get(str(value), 0xFFFF)
            elif point.type == "uint32":
                high_first = self.profile.word_order == "big"
                shift = 16 if (slot == 0) == high_first else 0
                word = (int(value) >> shift) & 0xFFFF
            else:
                word = int(value) & 0xFFFF
        return word

    @staticmethod
    def _decode(point: SimPoint, slot: int, raw: int) -> Value:
        if point.bit is not None:
            return bool(raw >> slot & 1)
        if point.enum:
            for name, enum_raw in point.enum.items():
                if enum_raw == raw:
                    return name
            raise MapError(ILLEGAL_VALUE, f"{raw} is not a value of {point.name}")
        if point.type == "int16" and raw >= 0x8000:
            return raw - 0x10000
        return raw
