"""Taiwan licence plates: normalisation, the plate grammar and OCR correction.

Plates are stored without the dash (``KLA-1234`` is ``KLA1234``). A plate is valid when its sequence of
letters and digits matches one of ``PLATE_FORMATS``. Letters I and O occur on older plates (``BLI-686``)
and are allowed.

``plate_candidates`` corrects only characters of the wrong class for a format's position (a digit read
where a letter belongs, or the reverse) using the ``ocr_confusions`` table. Plates carry no check digit,
so a letter-for-letter or digit-for-digit change could never be confirmed and is not proposed.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from typing import Final, Self

from lane_controller.domain.ocr_confusions import (
    DIGITS,
    LETTERS,
    Candidate,
    CandidateResult,
    CharClass,
    cheap_combinations,
    clean_read,
    corrections,
    edits_between,
)

__all__ = [
    "DEFAULT_PLATE_MAX_COST",
    "PLATE_FORMATS",
    "CandidateResult",
    "InvalidPlate",
    "Plate",
    "PlateFormat",
    "VehicleKind",
    "normalise_plate",
    "parse_written_plate",
    "plate_candidates",
]

DEFAULT_PLATE_MAX_COST: Final = 4
_SEPARATORS: Final = frozenset("- ")


class VehicleKind(enum.StrEnum):
    """Vehicle kinds a plate series is issued to."""

    CAR = "car"
    TRUCK = "truck"
    TRACTOR = "tractor"
    TRAILER = "trailer"
    MOTORCYCLE = "motorcycle"
    HEAVY_MOTORCYCLE = "heavy_motorcycle"


class InvalidPlate(ValueError):
    """The text is not a Taiwan licence plate."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"invalid plate {text!r}: {reason}")


@dataclass(frozen=True, slots=True)
class PlateFormat:
    """A plate layout: ``pattern`` uses L for a letter, D for a digit and ``-`` where the dash is shown."""

    pattern: str
    name: str
    kinds: tuple[VehicleKind, ...]

    @property
    def shape(self) -> str:
        """The pattern without the dash, e.g. ``LLLDDDD``."""
        return self.pattern.replace("-", "")

    def display(self, plate: str) -> str:
        """``plate`` (normalised, of this shape) with the dash put back."""
        dash = self.pattern.index("-")
        return f"{plate[:dash]}-{plate[dash:]}"


_CARS: Final = (VehicleKind.CAR, VehicleKind.TRUCK, VehicleKind.TRACTOR)
_COMMERCIAL: Final = (VehicleKind.TRUCK, VehicleKind.TRAILER)
_MOTORCYCLES: Final = (VehicleKind.MOTORCYCLE,)

# A working list to extend, derived from the MoTC plate series (including the older truck and trailer
# series); the first format of a shape decides how a plate is displayed.
PLATE_FORMATS: Final[tuple[PlateFormat, ...]] = (
    PlateFormat(
        "LLL-DDDD",
        "2012+ series",
        (*_CARS, VehicleKind.TRAILER, VehicleKind.HEAVY_MOTORCYCLE),
    ),
    PlateFormat("LL-DDDD", "1992-2012 series", _CARS),
    PlateFormat("DDDD-LL", "1992-2012 series", _CARS),
    PlateFormat("LD-DDDD", "1992-2012 series", _CARS),
    PlateFormat("DL-DDDD", "1992-2012 series", _CARS),
    PlateFormat("LLD-DDD", "older series", _MOTORCYCLES),
    PlateFormat("LDL-DDD", "older series", _MOTORCYCLES),
    PlateFormat("DLL-DDD", "older series", _MOTORCYCLES),
    PlateFormat("DDD-LLL", "motorcycle series", _MOTORCYCLES),
    PlateFormat("LLL-DDD", "motorcycle series", _MOTORCYCLES),
    PlateFormat("DDDD-LD", "older truck and trailer series", _COMMERCIAL),
    PlateFormat("DDD-LD", "older truck and trailer series", _COMMERCIAL),
    PlateFormat("DDD-LL", "older truck and trailer series", _COMMERCIAL),
    PlateFormat("DD-LL", "older truck and trailer series", _COMMERCIAL),
    PlateFormat("LL-DD", "older truck and trailer series", _COMMERCIAL),
)

_BY_SHAPE: Final[dict[str, tuple[PlateFormat, ...]]] = {
    shape: tuple(f for f in PLATE_FORMATS if f.shape == shape)
    for shape in dict.fromkeys(f.shape for f in PLATE_FORMATS)
}
_LENGTHS: Final = sorted({len(shape) for shape in _BY_SHAPE})


def normalise_plate(text: str) -> str:
    """Upper-case and drop dashes, spaces, dots and middle dots: ``kla-1234`` -> ``KLA1234``."""
    return clean_read(text)


def parse_written_plate(text: str) -> Plate:
    """A plate as a person or a yard system writes it (a CN's field): Unicode compatibility forms folded
    (NFKC: full-width ``ＫＬＡ－１２３４`` is ``KLA-1234``), upper-cased, outer spaces dropped, and at
    most one separator, a ``-`` or a space, standing where a plate format shows its dash (``KLA-1234``,
    ``KLA 1234``, ``KLA1234``). A leading, trailing or second separator, one out of place, another dash
    character (an en dash) or any other mark is refused: in a transport note such a text is a typing
    error, not a variant of the plate."""
    folded = unicodedata.normalize("NFKC", text).strip().upper()
    if not folded:
        raise InvalidPlate(text, "empty")
    foreign = sorted({c for c in folded if c not in LETTERS and c not in DIGITS and c not in _SEPARATORS})
    if foreign:
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in foreign)
        raise InvalidPlate(text, f"only letters, digits and one '-' are allowed, got {shown}")
    cut = [i for i, c in enumerate(folded) if c in _SEPARATORS]
    if len(cut) > 1:
        raise InvalidPlate(text, f"{len(cut)} separators; a plate has at most one dash")
    plate = "".join(c for c in folded if c not in _SEPARATORS)
    if (reason := _reason(plate)) is not None:
        raise InvalidPlate(text, reason)
    formats = _BY_SHAPE[_shape(plate)]
    if cut and all(f.pattern.index("-") != cut[0] for f in formats):
        shown = " or ".join(f.display(plate) for f in formats)
        raise InvalidPlate(text, f"the dash is out of place (written {shown})")
    return Plate(plate)


def _shape(text: str) -> str:
    return "".join("L" if c in LETTERS else "D" for c in text)


def _reason(plate: str) -> str | None:
    if not plate:
        return "empty"
    bad = [f"{c!r} at position {i + 1}" for i, c in enumerate(plate) if c not in LETTERS and c not in DIGITS]
    if bad:
        return "only letters A-Z and digits are allowed, got " + ", ".join(bad)
    if len(plate) not in _LENGTHS:
        return f"Taiwan plates have {_LENGTHS[0]} to {_LENGTHS[-1]} characters, got {len(plate)}"
    if _shape(plate) not in _BY_SHAPE:
        return f"letter/digit layout {_shape(plate)} (L letter, D digit) matches no known Taiwan plate format"
    return None


@dataclass(frozen=True, slots=True)
class Plate:
    """A Taiwan licence plate, normalised (``KLA1234``); ``str()`` gives that stored form."""

    text: str

    def __post_init__(self) -> None:
        if (reason := _reason(self.text)) is not None:
            raise InvalidPlate(self.text, reason)

    @classmethod
    def parse(cls, text: str) -> Self:
        """Normalise ``text`` and check it against the plate formats."""
        plate = normalise_plate(text)
        if (reason := _reason(plate)) is not None:
            raise InvalidPlate(text, reason)
        return cls(plate)

    @property
    def formats(self) -> tuple[PlateFormat, ...]:
        """Every format the plate matches, in table order."""
        return _BY_SHAPE[_shape(self.text)]

    @property
    def kinds(self) -> frozenset[VehicleKind]:
        """Vehicle kinds any matching format is issued to."""
        return frozenset(kind for f in self.formats for kind in f.kinds)

    def display(self) -> str:
        """The plate with its dash, per the first matching format: ``KLA-1234``."""
        return self.formats[0].display(self.text)

    def __str__(self) -> str:
        return self.text


def plate_candidates(text: str, max_cost: int = DEFAULT_PLATE_MAX_COST) -> CandidateResult[Plate]:
    """Plates matching the grammar within ``max_cost`` of class corrections, ranked by cost then text."""
    read = normalise_plate(text)
    cheapest: dict[str, Candidate[Plate]] = {}
    for shape in _BY_SHAPE:
        if len(shape) != len(read):
            continue
        wanted: list[CharClass] = ["letter" if k == "L" else "digit" for k in shape]
        options = tuple(corrections(c, w, cross_class_only=True) for c, w in zip(read, wanted, strict=True))
        for chosen, cost in cheap_combinations(options, max_cost):
            plate = "".join(c for c, _ in chosen)
            if plate not in cheapest or cost < cheapest[plate].cost:
                cheapest[plate] = Candidate(Plate(plate), cost, edits_between(read, chosen))
    ranked = sorted(cheapest.values(), key=lambda candidate: (candidate.cost, candidate.value.text))
    return CandidateResult(read, tuple(ranked))
