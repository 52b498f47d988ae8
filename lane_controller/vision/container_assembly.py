"""From recognised text pieces to ISO 6346 container-number candidates.

A piece is what the recogniser read in one region (a line, a column of upright characters, a turned
line). A code may be one piece (``CSQU3054383``), a piece with more text around it
(``CSQU3054383 22G1``), or two stacked pieces (``CSQU`` over ``3054383``). Every 11-character window of a
piece or of a stacked pair goes through the domain's ``candidates()`` corrections; a candidate's
confidence is the recogniser's, lowered by the cost of the corrections it needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from lane_controller.domain.container_number import candidates
from lane_controller.domain.ocr_confusions import clean_read
from lane_controller.vision.reads import Box

__all__ = ["Assembled", "Piece", "assemble", "cost_factor", "stacked_pairs"]

LENGTH: Final = 11
MAX_COST: Final = 3
"""Correction budget per window: below the domain's check-digit substitution (4), so a misread body is
never "validated" by replacing the check digit it was read with."""
DELETION_COST: Final = 2
"""Cost of dropping one character the recogniser inserted (a gap or a frame border read as a letter)."""
COST_PENALTY: Final = 0.12
"""Confidence lost per unit of correction cost."""


@dataclass(frozen=True, slots=True)
class Piece:
    """What the recogniser read in one region of the frame."""

    text: str
    confidence: float
    box: Box
    char_height: float = 0.0
    corrections: int = 0
    """Characters already changed before assembly (re-read within their position's class)."""


@dataclass(frozen=True, slots=True)
class Assembled:
    """One 11-character window and its corrections: ``valid`` the check-digit-valid readings, best first."""

    raw: str
    box: Box
    confidence: float
    valid: tuple[tuple[str, float], ...]
    costs: tuple[int, ...] = ()
    """The correction cost of each valid reading (0: read as it is)."""
    derived: bool = False
    """The window is not what the recogniser read: a character was dropped or re-read by position."""


def cost_factor(cost: int) -> float:
    """The share of the recogniser's confidence a reading keeps after corrections of this cost."""
    return max(0.0, 1.0 - COST_PENALTY * cost)


def _alnum(text: str) -> str:
    return "".join(c for c in clean_read(text) if c.isascii() and c.isalnum())


def _windows(text: str) -> list[tuple[str, int]]:
    """Every 11-character window, and every 12-character window less one character (at a cost)."""
    found: dict[str, int] = {}
    for i in range(len(text) - LENGTH + 1):
        found.setdefault(text[i : i + LENGTH], 0)
    for i in range(len(text) - LENGTH):
        window = text[i : i + LENGTH + 1]
        for j in range(1, LENGTH):
            found.setdefault(window[:j] + window[j + 1 :], DELETION_COST)
    return list(found.items())


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def stacked_pairs(pieces: list[Piece]) -> list[Piece]:
    """Owner-code pieces joined with the serial piece stacked under them.

    A pair is kept when the lower piece starts within two character heights below the upper one, their
    left edges are within two character heights, and their character heights agree within 40%.
    """
    joined: list[Piece] = []
    for top in pieces:
        t = _alnum(top.text)
        if not 3 <= len(t) <= 6 or top.char_height <= 0:
            continue
        h = top.char_height
        for low in pieces:
            if low is top or low.char_height <= 0:
                continue
            if not 0.6 * h <= low.char_height <= 1.4 * h:
                continue
            below = low.box[1] - top.box[3]
            if not -0.3 * h <= below <= 2.0 * h or abs(low.box[0] - top.box[0]) > 2.0 * h:
                continue
            text = t + _alnum(low.text)
            if len(text) >= LENGTH:
                confidence = min(top.confidence, low.confidence)
                corrections = top.corrections + low.corrections
                joined.append(Piece(text, confidence, _union(top.box, low.box), h, corrections))
    return joined


def completed_check_digits(pieces: list[Piece]) -> list[Piece]:
    """Owner code and serial read without their check digit (ten characters: a roof marking cut at the
    frame's edge, a check digit lost to a rod) joined with the check digit that follows the same six-digit
    serial in another piece of the frame (the door's serial line). Counted as one correction: the number
    was read in two places, so it stays below auto-accept and a person looks."""
    joined: list[Piece] = []
    for head in pieces:
        text = _alnum(head.text)
        if len(text) != LENGTH - 1 or not text[4:].isdigit():
            continue
        serial = text[4:]
        for tail in pieces:
            other = _alnum(tail.text)
            at = other.find(serial) if tail is not head else -1
            if at < 0 or at + len(serial) >= len(other) or not other[at + len(serial)].isdigit():
                continue
            joined.append(
                Piece(
                    text + other[at + len(serial)],
                    min(head.confidence, tail.confidence),
                    _union(head.box, tail.box),
                    head.char_height,
                    head.corrections + tail.corrections + 1,
                )
            )
    return joined


def assemble(pieces: Iterable[Piece], *, max_cost: int = MAX_COST) -> list[Assembled]:
    """Every 11-character window of every piece, with its check-digit-valid corrections."""
    out: list[Assembled] = []
    for piece in pieces:
        text = _alnum(piece.text)
        for window, dropped in _windows(text):
            extra = dropped + piece.corrections
            if dropped > max_cost:
                continue
            result = candidates(window, max(0, max_cost - extra))
            valid = tuple(
                (str(c.value), piece.confidence * cost_factor(c.cost + extra)) for c in result.candidates
            )
            costs = tuple(c.cost + extra for c in result.candidates)
            out.append(Assembled(window, piece.box, piece.confidence, valid, costs, extra > 0))
    return out
