"""A shape check for the plate characters a text recogniser confuses: ``H``, ``M``, ``N`` and ``W``, and a
``1`` drawn as a plain bar.

EasyOCR's English recogniser was trained on book and scene text; a plate's bold, condensed ``M`` or ``W``
reaches it as something close to an ``H`` and it says ``H`` (or ``N``) with a fair confidence at every width.
What tells these four letters apart is where the ink lies *between* the two outer strokes:

- ``H``: nothing above or below the bar;
- ``M``: the V hangs from the top, so the upper half is inked inside and the lower half barely;
- ``W``: the same upside down;
- ``N``: one diagonal, on the left side in the upper half and on the right side in the lower half.

:func:`check_letters` cuts a plate's line crop into glyphs (connected components between the crop's
padding rows; where a dash is found the groups left and right of it are matched to the plate from the
dash outwards, so a plate edge or bolt beside the text costs nothing), measures those two properties for
each of the four letters in the read and replaces a letter only where the shape says clearly that it is
another of the four. Anything unclear (a glyph that could not be cut out, a shape between two classes)
keeps the recogniser's letter. The margins between the classes were set on the glyphs of the Taiwan and
Brazilian evaluation photographs (about 120 H, M, N and W), leaving a band between each two classes
where the recogniser's letter stands.

A digit whose glyph is under ``_NARROW`` times as wide as the plate's median glyph is a ``1``: only the 1
is a bar (Taiwan's plain-bar 1 reaches the recogniser as a ``7`` or a ``0``). On the evaluation
photographs (Taiwan) a 1 is at most 0.55 of the median glyph in 95 cases of 100, another digit at least 0.86;
thresholds from 0.4 to 0.7 change the same read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from lane_controller.vision.engine import Image

CONFUSABLE: Final = frozenset("HMNW")
_WIDE_DIGITS: Final = frozenset("023456789")  # every digit but the bar-shaped 1
_NARROW: Final = 0.5  # of the plate's median glyph width: a glyph this narrow is a bar

_BAND_MARGIN: Final = 0.06  # of the crop's height, kept above and below the characters' rows
_GLYPH_MIN_HEIGHT: Final = 0.5  # of the band
_GLYPH_MAX_ASPECT: Final = 1.2  # width / height
_GLYPH_HEIGHT_SPREAD: Final = (0.75, 1.3)  # of the median glyph height
_DASH_HEIGHT: Final = (0.08, 0.45)  # of the median glyph height
_DASH_CENTRE: Final = (0.3, 0.7)  # of the glyph rows, from the top
_DASH_CLEAR: Final = 0.2  # share of a glyph's box width at each side a dash may overlap
_UPPER: Final = (0.12, 0.4)  # rows of a glyph, as shares of its height
_LOWER: Final = (0.6, 0.88)
_SPAN_MIN: Final = 0.6  # a row narrower than this share of the glyph's width has no two outer strokes

# decision margins between the classes (see check_letters' measurements in the module docstring)
_EMPTY: Final = 0.2  # inner ink below this in both halves: an H
_INKED: Final = 0.28  # inner ink above this in one half: not an H
_DIAGONAL: Final = 1.0  # side shift from upper to lower half above this: an N
_SYMMETRIC: Final = 0.3  # side shift below this: M or W
_LOWER_HEAVY: Final = 0.35  # lower minus upper inner ink above this: a W
_NOT_LOWER_HEAVY: Final = 0.15  # ... below this: an M
_UPPER_HEAVY: Final = 0.2  # upper minus lower inner ink above this, with a side shift below
_NOT_DIAGONAL: Final = 0.7  # ... this: an M too


@dataclass(frozen=True, slots=True)
class GlyphShape:
    """How much of the space between a glyph's outer strokes is inked in its upper and lower half (0-1),
    and how far that inner ink moves from the left side to the right side going down (-2 to 2)."""

    upper: float
    lower: float
    shift: float

    def letter(self) -> str | None:
        """``H``, ``M``, ``N`` or ``W`` when the shape is clearly one of them, else None."""
        inked = max(self.upper, self.lower)
        if inked < _EMPTY:
            return "H"
        if inked < _INKED:
            return None
        if self.shift > _DIAGONAL:
            return "N"
        if self.lower - self.upper >= _LOWER_HEAVY:
            return "W"
        if self.shift < _SYMMETRIC and self.lower - self.upper < _NOT_LOWER_HEAVY:
            return "M"
        # a slanted M's V leans to one side; an N's single diagonal never inks its upper half much more
        if self.shift < _NOT_DIAGONAL and self.upper - self.lower >= _UPPER_HEAVY:
            return "M"
        return None


GlyphBox = tuple[int, int, int, int]
"""x, y, width, height of a glyph in a line's ink mask."""


@dataclass(frozen=True, slots=True)
class _Glyphs:
    mask: npt.NDArray[np.bool_]  # ink of the character rows
    boxes: list[GlyphBox]  # left to right
    dash_x: float | None


def check_letters(line_image: Image, plate: str, *, pad: float, splits: Iterable[int]) -> str:
    """``plate`` with each ``H``/``M``/``N``/``W`` replaced by the one of them its glyph's shape clearly
    shows, and each digit on a bar-narrow glyph by a ``1``; unchanged where the glyphs cannot be matched
    to the plate's characters.

    ``line_image``: the grey line crop the plate was read from, ``pad`` character heights of image kept
    above and below the characters. ``splits``: where the plate's dash may stand (characters before it).
    """
    if not CONFUSABLE.intersection(plate) and not _WIDE_DIGITS.intersection(plate):
        return plate
    glyphs = _line_glyphs(line_image, pad)
    if glyphs is None:
        return plate
    boxes = _match(glyphs, len(plate), frozenset(splits))
    if boxes is None:
        return plate
    stroke = _stroke_width(glyphs.mask, boxes)
    median_width = float(np.median([b[2] for b in boxes]))
    letters = list(plate)
    for i, char in enumerate(plate):
        if char in _WIDE_DIGITS and boxes[i][2] < _NARROW * median_width:
            letters[i] = "1"
        elif char in CONFUSABLE:
            shape = glyph_shape(glyphs.mask, boxes[i], stroke)
            letters[i] = (shape.letter() if shape else None) or char
    return "".join(letters)


def glyph_shape(mask: npt.NDArray[np.bool_], box: GlyphBox, stroke: float) -> GlyphShape | None:
    """The :class:`GlyphShape` of the glyph at ``box`` in ``mask``; ``stroke``: the font's stroke width in
    pixels (what an outer stroke takes of a row). None when too few rows span the glyph."""
    x, y, w, h = box
    inner_ink: list[float] = []
    side: list[float] = []
    for row in mask[y : y + h, x : x + w]:
        ink = np.flatnonzero(row)
        if ink.size == 0 or ink[-1] - ink[0] + 1 < _SPAN_MIN * w:
            inner_ink.append(np.nan)
            side.append(np.nan)
            continue
        span = ink[-1] - ink[0] + 1
        inner_ink.append(max(0.0, (ink.size - 2 * stroke) / max(1.0, span - 2 * stroke)))
        lo, hi = ink[0] + stroke, ink[-1] - stroke
        inner = ink[(ink >= lo) & (ink <= hi)]
        if hi - lo < 2 or inner.size == 0:
            side.append(0.0)
            continue
        mid = (lo + hi) / 2
        side.append(float((inner > mid).sum() - (inner < mid).sum()) / inner.size)
    fill, sides = np.array(inner_ink), np.array(side)
    upper, lower = _band_mean(fill, _UPPER), _band_mean(fill, _LOWER)
    shift = _band_mean(sides, _LOWER) - _band_mean(sides, _UPPER)
    if np.isnan(upper) or np.isnan(lower) or np.isnan(shift):
        return None
    return GlyphShape(round(upper, 3), round(lower, 3), round(shift, 3))


def _band_mean(values: npt.NDArray[np.float64], band: tuple[float, float]) -> float:
    n = values.size
    part = values[int(band[0] * n) : int(band[1] * n)]
    part = part[~np.isnan(part)]
    return float(part.mean()) if part.size else float("nan")


def _line_glyphs(line_image: Image, pad: float) -> _Glyphs | None:
    """The character rows of a line crop binarised (ink true), their glyph boxes and the dash's centre."""
    h = line_image.shape[0]
    top = max(0, int((pad / (1 + 2 * pad) - _BAND_MARGIN) * h))
    bottom = min(h, int(((1 + pad) / (1 + 2 * pad) + _BAND_MARGIN) * h) + 1)
    band = np.ascontiguousarray(line_image[top:bottom])
    if band.shape[0] < 8:
        return None
    _t, binary = cv2.threshold(band, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    rows = binary.shape[0]
    if binary[rows // 4 : 3 * rows // 4].mean() > 127:  # light characters on a dark plate
        binary = 255 - binary
    _n, _labels, stats, _centres = cv2.connectedComponentsWithStats(binary, connectivity=8)
    comps = np.asarray(stats[1:, :4], dtype=np.int32)
    tall = comps[(comps[:, 3] >= _GLYPH_MIN_HEIGHT * rows) & (comps[:, 2] <= _GLYPH_MAX_ASPECT * comps[:, 3])]
    if len(tall) == 0:
        return None
    median_h = float(np.median(tall[:, 3]))
    lo, hi = _GLYPH_HEIGHT_SPREAD
    tall = tall[(tall[:, 3] >= lo * median_h) & (tall[:, 3] <= hi * median_h)]
    tall = tall[np.argsort(tall[:, 0])]
    boxes = [(int(x), int(y), int(w), int(hh)) for x, y, w, hh in tall]
    return _Glyphs(binary > 0, boxes, _dash_centre(comps, boxes, median_h))


def _dash_centre(comps: npt.NDArray[np.int32], glyphs: list[GlyphBox], height: float) -> float | None:
    """The x centre of the first small blob at mid-height standing in a gap between two glyphs."""
    if not glyphs:
        return None
    top = float(np.median([g[1] for g in glyphs]))
    bottom = float(np.median([g[1] + g[3] for g in glyphs]))
    for x, y, w, h in comps:
        if not (_DASH_HEIGHT[0] * height <= h < _DASH_HEIGHT[1] * height and w <= 0.8 * height):
            continue
        centre_y = y + h / 2
        if not top + _DASH_CENTRE[0] * (bottom - top) <= centre_y <= top + _DASH_CENTRE[1] * (bottom - top):
            continue
        centre_x = x + w / 2
        # italic glyphs' boxes reach over the gap: only their middle must stay clear of the dash
        if any(gx + _DASH_CLEAR * gw < centre_x < gx + (1 - _DASH_CLEAR) * gw for gx, _gy, gw, _gh in glyphs):
            continue
        before = sum(gx + gw / 2 < centre_x for gx, _gy, gw, _gh in glyphs)
        if 0 < before < len(glyphs):
            return float(centre_x)
    return None


def _match(glyphs: _Glyphs, n: int, splits: frozenset[int]) -> list[GlyphBox] | None:
    """One glyph box per plate character, or None. Without a dash the glyph count must equal the plate's
    length; with one, the glyphs nearest the dash on each side are taken (extra ones at the outer ends are
    an edge or a bolt) at the dash position that fits the plate exactly, or the only one that fits; where
    none fits, the glyph count must equal the plate's length again."""
    boxes = glyphs.boxes
    whole = boxes if len(boxes) == n else None
    if glyphs.dash_x is None:
        return whole
    dash = glyphs.dash_x
    left = [b for b in boxes if b[0] + b[2] / 2 < dash]
    right = [b for b in boxes if b[0] + b[2] / 2 >= dash]
    fits = sorted(k for k in splits if len(left) >= k and len(right) >= n - k)
    exact = [k for k in fits if len(left) == k and len(right) == n - k]
    if exact:
        k = exact[0]
    elif len(fits) == 1:
        k = fits[0]
    else:
        return whole
    return left[len(left) - k :] + right[: n - k]


def _stroke_width(mask: npt.NDArray[np.bool_], boxes: list[GlyphBox]) -> float:
    """The median length of the ink runs across the middle rows of the plate's glyphs."""
    runs: list[npt.NDArray[np.int64]] = []
    for x, y, w, h in boxes:
        part = mask[y + int(0.2 * h) : y + int(0.8 * h), x : x + w].astype(np.int8)
        edges = np.diff(np.pad(part, ((0, 0), (1, 1))), axis=1)
        starts, ends = np.nonzero(edges == 1)[1], np.nonzero(edges == -1)[1]
        runs.append(ends - starts)
    lengths = np.concatenate(runs) if runs else np.zeros(0)
    return float(np.median(lengths)) if lengths.size else 1.0
