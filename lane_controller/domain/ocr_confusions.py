"""OCR confusion table and the ranked-candidate result shared by the container and plate correctors.

Costs are small integers so that equal totals compare exactly (ties decide ambiguity):

- 1: glyphs that are near-identical in stencil and plate fonts (O/0, I/1);
- 2: common OCR confusions (D/0, Q/0, L/1, Z/2, S/5, B/8, G/6, U/V, O/Q, O/D, C/G, I/L, I/J, E/F, P/R);
- 3: plausible but rarer ones (A/4, T/7, J/1, B/3, Z/7, M/N, M/W, K/X, V/Y and the digit pairs
  0/8, 3/8, 6/8, 8/9, 5/6, 1/7).

Every pair is symmetric. Cross-class pairs (a letter and a digit) fix a character of the wrong class for its
position; same-class pairs are only worth trying where a check digit can confirm them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Generic, Literal, TypeVar

CharClass = Literal["letter", "digit"]

LETTERS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS: Final = "0123456789"

CONFUSION_PAIRS: Final[tuple[tuple[str, str, int], ...]] = (
    # letter <-> digit
    ("O", "0", 1),
    ("I", "1", 1),
    ("D", "0", 2),
    ("Q", "0", 2),
    ("L", "1", 2),
    ("Z", "2", 2),
    ("S", "5", 2),
    ("B", "8", 2),
    ("G", "6", 2),
    ("A", "4", 3),
    ("T", "7", 3),
    ("J", "1", 3),
    ("B", "3", 3),
    ("Z", "7", 3),
    # letter <-> letter
    ("U", "V", 2),
    ("O", "Q", 2),
    ("O", "D", 2),
    ("C", "G", 2),
    ("I", "L", 2),
    ("I", "J", 2),
    ("E", "F", 2),
    ("P", "R", 2),
    ("M", "N", 3),
    ("M", "W", 3),
    ("K", "X", 3),
    ("V", "Y", 3),
    # digit <-> digit
    ("0", "8", 3),
    ("3", "8", 3),
    ("6", "8", 3),
    ("8", "9", 3),
    ("5", "6", 3),
    ("1", "7", 3),
)


def _build_table() -> Mapping[str, Mapping[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for a, b, cost in CONFUSION_PAIRS:
        table.setdefault(a, {})[b] = cost
        table.setdefault(b, {})[a] = cost
    return MappingProxyType({k: MappingProxyType(v) for k, v in table.items()})


CONFUSIONS: Final[Mapping[str, Mapping[str, int]]] = _build_table()
"""Read character -> {character it may stand for: cost}."""

_SEPARATORS: Final = re.compile(r"[\s\-._·\u2010-\u2015\u2212\u30fb]")


def clean_read(text: str) -> str:
    """Upper-case OCR or typed text and drop separators (spaces, dashes, dots, middle dots).

    NFKC first, so full-width input such as ``ＫＬＡ－１２３４`` becomes ``KLA1234``.
    """
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def char_class(char: str) -> CharClass | None:
    """``letter`` for A-Z, ``digit`` for 0-9, None for anything else."""
    if len(char) == 1 and char in LETTERS:
        return "letter"
    if len(char) == 1 and char in DIGITS:
        return "digit"
    return None


def corrections(
    char: str, wanted: CharClass, *, cross_class_only: bool = False
) -> tuple[tuple[str, int], ...]:
    """Characters of class ``wanted`` that a read ``char`` may stand for, with costs, cheapest first.

    The character itself comes first at cost 0 when it is of the wanted class. With ``cross_class_only``
    a character of the wanted class is kept as read; only a character of the other class is corrected.
    """
    own = char_class(char)
    if own == wanted and cross_class_only:
        return ((char, 0),)
    options = [
        (other, cost) for other, cost in CONFUSIONS.get(char, {}).items() if char_class(other) == wanted
    ]
    options.sort(key=lambda option: (option[1], option[0]))
    return ((char, 0), *options) if own == wanted else tuple(options)


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Edit:
    """One corrected character: 1-based position in the cleaned read, what was read, what it became."""

    position: int
    read: str
    corrected: str
    cost: int


@dataclass(frozen=True, slots=True)
class Candidate(Generic[T]):
    """A grammar-valid reading with the total cost of the edits that produce it."""

    value: T
    cost: int
    edits: tuple[Edit, ...]


@dataclass(frozen=True, slots=True)
class CandidateResult(Generic[T]):
    """Candidates ranked by cost, then text; ``read`` is the cleaned input."""

    read: str
    candidates: tuple[Candidate[T], ...]

    @property
    def best(self) -> T | None:
        """The cheapest candidate, or None when nothing valid is within the cost limit."""
        return self.candidates[0].value if self.candidates else None

    @property
    def best_cost(self) -> int | None:
        """Cost of the cheapest candidate."""
        return self.candidates[0].cost if self.candidates else None

    @property
    def ambiguous(self) -> bool:
        """True when two distinct candidates share the lowest cost."""
        return len(self.candidates) > 1 and self.candidates[0].cost == self.candidates[1].cost


def edits_between(read: str, chosen: tuple[tuple[str, int], ...]) -> tuple[Edit, ...]:
    """The edits turning ``read`` into the chosen characters (each with its cost)."""
    return tuple(
        Edit(position=i + 1, read=r, corrected=c, cost=cost)
        for i, (r, (c, cost)) in enumerate(zip(read, chosen, strict=True))
        if r != c
    )


def cheap_combinations(
    options: tuple[tuple[tuple[str, int], ...], ...], max_cost: int
) -> Iterator[tuple[tuple[tuple[str, int], ...], int]]:
    """Every choice of one option per position whose total cost is at most ``max_cost``, with that cost.

    Branches that cannot stay within the limit are cut using the cheapest cost of the remaining positions.
    """
    rest = [0] * (len(options) + 1)
    for i in range(len(options) - 1, -1, -1):
        if not options[i]:
            return
        rest[i] = rest[i + 1] + min(cost for _, cost in options[i])
    chosen: list[tuple[str, int]] = []

    def walk(i: int, cost: int) -> Iterator[tuple[tuple[tuple[str, int], ...], int]]:
        if i == len(options):
            yield tuple(chosen), cost
            return
        for option in options[i]:
            total = cost + option[1]
            if total + rest[i + 1] <= max_cost:
                chosen.append(option)
                yield from walk(i + 1, total)
                chosen.pop()

    yield from walk(0, 0)
