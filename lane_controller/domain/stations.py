"""Destination station codes (運往站代碼) and their Chinese names.

The packaged table is a working list for development and the simulator: its codes are placeholders
chosen by this project, not the official customs codes. A deployment loads the customs authority's
code list with `StationTable.from_csv(path)` (columns `code,name_zh,name_en`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

STATION_CODE_PATTERN = r"^[A-Z0-9]{2,8}$"


class UnknownStation(KeyError):
    """A station code that is not in the table."""

    def __str__(self) -> str:
        return f"unknown destination station code {self.args[0]!r}"


@dataclass(frozen=True, slots=True)
class Station:
    """One destination station: its code and names."""

    code: str
    name_zh: str
    name_en: str

    def display(self) -> str:
        """Code with its Chinese name, as staff see it: `KELC 基隆關`."""
        return f"{self.code} {self.name_zh}"


class StationTable:
    """Lookup from station code to its names."""

    def __init__(self, stations: Iterable[Station]) -> None:
        self._by_code: dict[str, Station] = {}
        for station in stations:
            if station.code in self._by_code:
                raise ValueError(f"station code {station.code!r} appears twice in the table")
            self._by_code[station.code] = station

    @classmethod
    def from_csv_text(cls, text: str, *, source: str = "<text>") -> StationTable:
        """Parse `code,name_zh,name_en` rows; errors name the source and line."""
        reader = csv.DictReader(io.StringIO(text))
        expected = ["code", "name_zh", "name_en"]
        if reader.fieldnames != expected:
            raise ValueError(f"{source}: header must be {','.join(expected)}, got {reader.fieldnames}")
        stations = []
        for line_no, row in enumerate(reader, start=2):
            code = (row["code"] or "").strip().upper()
            name_zh = (row["name_zh"] or "").strip()
            if not code or not name_zh:
                raise ValueError(f"{source}:{line_no}: code and name_zh are required")
            stations.append(Station(code, name_zh, (row["name_en"] or "").strip()))
        return cls(stations)

    @classmethod
    def from_csv(cls, path: Path) -> StationTable:
        """Load a station table from a CSV file."""
        return cls.from_csv_text(path.read_text(encoding="utf-8"), source=str(path))

    @classmethod
    def packaged(cls) -> StationTable:
        """The table shipped with the package."""
        text = resources.files("lane_controller.domain").joinpath("data/stations.csv").read_text("utf-8")
        return cls.from_csv_text(text, source="packaged stations.csv")

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.upper() in self._by_code

    def __iter__(self) -> Iterator[Station]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Station:
        """The station for a code; raises `UnknownStation`."""
        try:
            return self._by_code[code.strip().upper()]
        except KeyError:
            raise UnknownStation(code) from None
