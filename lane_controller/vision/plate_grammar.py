"""Plate grammars: which texts are valid plates of a country, and how a raw read is corrected into them.

A grammar turns the recogniser's raw text into valid plates, each with a correction cost (0: read as is).

- :data:`TAIWAN` (the default): the domain's ``PLATE_FORMATS`` and ``plate_candidates`` (letter/digit
  corrections where the format wants the other class).
- :data:`BRAZIL`: ``LLLDDDD`` (the old grey plates, shaped like Taiwan's ``ABC-1234``) and the Mercosur
  ``LLLDLDD``, with the same class corrections.
- :data:`PERMISSIVE`: any 4 to 8 letters and digits, as read (for European and US plates, whose formats
  vary by region; without a format there is nothing to correct against).

A read is also tried with one or two characters dropped at either end (a frame edge or a bolt read as ``I``),
each dropped character costing 1; a dash read where the plate's format has none costs 1 (Taiwan).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from lane_controller.domain.ocr_confusions import (
    DIGITS,
    LETTERS,
    CharClass,
    cheap_combinations,
    clean_read,
    corrections,
)
from lane_controller.domain.plate import DEFAULT_PLATE_MAX_COST, PLATE_FORMATS, Plate, plate_candidates

PLATE_ALLOWLIST: Final = LETTERS + DIGITS + "-"
"""What the recogniser may read on a plate (the dash helps it keep the two groups apart)."""

_MAX_TRIM: Final = 2


class PlateGrammar(Protocol):
    """Valid plates of one country or region: its ``name`` and shortest and longest plate (``lengths``)."""

    @property
    def name(self) -> str:
        """The grammar's name."""
        ...

    @property
    def lengths(self) -> tuple[int, int]:
        """Shortest and longest plate."""
        ...

    @property
    def positional(self) -> bool:
        """True when every position of a plate must hold a letter or a digit (a read can be checked
        against the format; a permissive grammar takes any text, junk beside a plate included)."""
        ...

    def exact(self, text: str) -> list[tuple[str, int]]:
        """Valid plates for a cleaned read of a plausible length, with correction costs, cheapest first."""
        ...

    def dash_positions(self, plate: str) -> frozenset[int]:
        """Where a valid plate may show its dash (characters before it); empty when the grammar has no
        dash rule."""
        ...


@dataclass(frozen=True, slots=True)
class TaiwanGrammar:
    """Taiwan plates per the domain's ``PLATE_FORMATS`` and ``plate_candidates``."""

    name: str = "taiwan"
    lengths: tuple[int, int] = (
        min(len(f.shape) for f in PLATE_FORMATS),
        max(len(f.shape) for f in PLATE_FORMATS),
    )
    max_cost: int = DEFAULT_PLATE_MAX_COST
    positional: bool = True

    def exact(self, text: str) -> list[tuple[str, int]]:
        """See :class:`PlateGrammar`."""
        return [(c.value.text, c.cost) for c in plate_candidates(text, self.max_cost).candidates]

    def dash_positions(self, plate: str) -> frozenset[int]:
        """See :class:`PlateGrammar`."""
        return frozenset(f.pattern.index("-") for f in Plate(plate).formats)


@dataclass(frozen=True, slots=True)
class ShapeGrammar:
    """Plates given as letter/digit shapes (``L`` letter, ``D`` digit), corrected like Taiwan's."""

    name: str
    shapes: tuple[str, ...]
    max_cost: int = DEFAULT_PLATE_MAX_COST
    positional: bool = True

    @property
    def lengths(self) -> tuple[int, int]:
        """Shortest and longest plate."""
        return min(map(len, self.shapes)), max(map(len, self.shapes))

    def exact(self, text: str) -> list[tuple[str, int]]:
        """See :class:`PlateGrammar`."""
        best: dict[str, int] = {}
        for shape in self.shapes:
            if len(shape) != len(text):
                continue
            wanted: list[CharClass] = ["letter" if k == "L" else "digit" for k in shape]
            options = tuple(
                corrections(c, w, cross_class_only=True) for c, w in zip(text, wanted, strict=True)
            )
            for chosen, cost in cheap_combinations(options, self.max_cost):
                plate = "".join(c for c, _ in chosen)
                best[plate] = min(cost, best.get(plate, cost))
        return sorted(best.items(), key=lambda item: (item[1], item[0]))

    def dash_positions(self, plate: str) -> frozenset[int]:
        """See :class:`PlateGrammar` (no dash rule)."""
        return frozenset()


@dataclass(frozen=True, slots=True)
class PermissiveGrammar:
    """Any ``lengths[0]`` to ``lengths[1]`` letters and digits, taken as read."""

    name: str = "permissive"
    lengths: tuple[int, int] = (4, 8)
    positional: bool = False

    def exact(self, text: str) -> list[tuple[str, int]]:
        """See :class:`PlateGrammar`."""
        ok = self.lengths[0] <= len(text) <= self.lengths[1] and all(
            c in LETTERS or c in DIGITS for c in text
        )
        return [(text, 0)] if ok else []

    def dash_positions(self, plate: str) -> frozenset[int]:
        """See :class:`PlateGrammar` (no dash rule)."""
        return frozenset()


TAIWAN: Final = TaiwanGrammar()
BRAZIL: Final = ShapeGrammar("brazil", ("LLLDDDD", "LLLDLDD"))
PERMISSIVE: Final = PermissiveGrammar()

GRAMMARS: Final[dict[str, PlateGrammar]] = {g.name: g for g in (TAIWAN, BRAZIL, PERMISSIVE)}
"""Grammars by name (``taiwan``, ``brazil``, ``permissive``)."""


def _trims(text: str, shortest: int) -> Iterable[tuple[str, int, int]]:
    """``text`` less 1 to ``_MAX_TRIM`` characters at its ends: (part, dropped at the left, dropped)."""
    for cut in range(1, min(_MAX_TRIM, len(text) - shortest) + 1):
        for left in range(cut + 1):
            yield text[left : len(text) - (cut - left)], left, cut


def plate_readings(grammar: PlateGrammar, raw: str) -> list[tuple[str, int]]:
    """Valid plates for a raw read under ``grammar``, with costs, cheapest first (then the longest, then by
    text).

    Besides the read itself, the read with one or two characters dropped at its ends is tried (a plate
    edge or bolt read as a character), each dropped character costing 1. Where the raw read shows one
    dash and the grammar places dashes, a plate whose dash would be elsewhere costs 1 more.
    """
    text = clean_read(raw)
    dash = _dash_index(raw)
    best: dict[str, int] = {}
    for part, left, cut in ((text, 0, 0), *_trims(text, grammar.lengths[0])):
        for plate, cost in grammar.exact(part):
            total = cost + cut
            if dash is not None:
                allowed = grammar.dash_positions(plate)
                total += 1 if allowed and dash - left not in allowed else 0
            best[plate] = min(total, best.get(plate, total))
    return sorted(best.items(), key=lambda item: (item[1], -len(item[0]), item[0]))


def _dash_index(raw: str) -> int | None:
    """How many letters and digits stand before the raw read's only dash (None: no dash, or several)."""
    if raw.count("-") != 1:
        return None
    return len(clean_read(raw[: raw.index("-")]))
