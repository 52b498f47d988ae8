"""Cheap, classical text-line localisation for plates: rows of character-like blobs.

A plate's characters are blobs of one colour on a plate of another, of about the same height, standing side
by side on one (possibly tilted) line. :func:`find_text_lines` binarises a grey image in both polarities,
once more with thin ink opened away (characters touching the plate's border), keeps connected components
shaped like characters, links neighbours of similar height and baseline and returns each chain of at least
``min_chars`` blobs as a :class:`TextLine` with its tilt. :func:`with_slant` measures how far a line's
glyphs lean once it is level, :func:`without_small_print` drops the small print of a plate and its frame,
and :func:`line_crop` cuts a line out straightened, set upright and padded, ready for the recogniser. No
detector network is involved: a 1280-pixel frame costs a few tens of milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
import numpy.typing as npt

from lane_controller.vision.engine import Image
from lane_controller.vision.reads import Box

_MIN_ASPECT = 0.08  # w/h of a character blob: from a thin "1" ...
_MAX_ASPECT = 1.15  # ... to a wide "M" or "W"
_MIN_FILL = 0.12  # share of the blob's box that is ink
_MAX_FILL = 0.95
_HEIGHT_RATIO = 1.4  # neighbours differ in height at most this much
_BASELINE_SHIFT = 0.35  # centres differ vertically at most this share of the height
_MAX_GAP = 1.1  # horizontal gap between neighbours, in heights (a plate's dash gap included)
_SIDE_KEEP = 0.06  # image kept beside the first and last character, in heights (the rest is background)
_OUTLIER = 0.2  # a member whose height, top or bottom is off the line's by more (in heights) is dropped
_BRIDGE = 0.015  # ink thinner than this share of the image's larger side is also cut (by an opening)
_SLANTS = np.linspace(-0.5, 0.5, 21)  # shears tried by with_slant, horizontal pixels per vertical pixel
_SLANT_ROWS = 32  # with_slant measures on the character band scaled to this height


@dataclass(frozen=True, slots=True)
class TextLine:
    """A row of character blobs: its box (x0, y0, x1, y1), tilt in degrees (positive: rising to the right
    in image coordinates, i.e. y grows with x), median character height and width, blob count, centre
    and length along the line, and the slant :func:`line_crop` takes out of its glyphs once the line is
    level (a horizontal shear: ``x += slant * (y - centre)``; 0 leaves them as the levelling left them)."""

    box: Box
    angle: float
    char_height: float
    char_width: float
    chars: int
    centre: tuple[float, float]
    length: float
    slant: float = 0.0


def trim_uniform_border(grey: Image, *, tolerance: int = 12) -> Box:
    """The box of ``grey`` left after trimming rows and columns of one flat colour at its edges (a crop
    letterboxed on a canvas); the whole image when nothing is flat."""
    h, w = grey.shape[:2]
    box = (0, 0, w, h)
    if h < 8 or w < 8:
        return box
    corner = float(np.median([grey[0, 0], grey[0, -1], grey[-1, 0], grey[-1, -1]]))
    content = np.abs(grey.astype(np.int16) - int(corner)) > tolerance
    rows = np.flatnonzero(content.mean(axis=1) > 0.01)
    cols = np.flatnonzero(content.mean(axis=0) > 0.01)
    if rows.size == 0 or cols.size == 0:
        return box
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def _components(binary: Image, min_h: float, max_h: float) -> npt.NDArray[np.float64]:
    """Character-like components of a binary image as rows (x, y, w, h)."""
    _n, _labels, stats, _centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    s = stats[1:].astype(np.float64)
    if s.size == 0:
        return np.zeros((0, 4))
    x, y, w, h, area = s[:, 0], s[:, 1], s[:, 2], s[:, 3], s[:, 4]
    aspect = w / h
    fill = area / (w * h)
    keep = (
        (h >= min_h)
        & (h <= max_h)
        & (aspect >= _MIN_ASPECT)
        & (aspect <= _MAX_ASPECT)
        & (fill >= _MIN_FILL)
        & (fill <= _MAX_FILL)
    )
    return np.stack([x[keep], y[keep], w[keep], h[keep]], axis=1)


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _chains(comps: npt.NDArray[np.float64]) -> list[npt.NDArray[np.float64]]:
    """Groups of components linked to a neighbour of similar height on the same line."""
    n = len(comps)
    order = np.argsort(comps[:, 0])
    comps = comps[order]
    parent = list(range(n))
    cy = comps[:, 1] + comps[:, 3] / 2
    for i in range(n):
        xi, _yi, wi, hi = comps[i]
        right = xi + wi
        for j in range(i + 1, n):
            xj, _yj, _wj, hj = comps[j]
            tall = max(hi, hj)
            if xj - right > _MAX_GAP * tall:
                if xj - right > _MAX_GAP * hi * _HEIGHT_RATIO:
                    break
                continue
            if xj < xi + 0.5 * wi:  # stacked or nested, not side by side
                continue
            if tall / min(hi, hj) > _HEIGHT_RATIO or abs(cy[i] - cy[j]) > _BASELINE_SHIFT * tall:
                continue
            parent[_find(parent, i)] = _find(parent, j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(_find(parent, i), []).append(i)
    return [comps[idx] for idx in groups.values()]


def _consistent(members: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The members whose height and top and bottom agree with the line's (drops a plate edge or a bolt
    that chained on at an end)."""
    h = members[:, 3]
    med = float(np.median(h))
    keep = np.abs(h - med) <= _OUTLIER * med
    if keep.sum() >= 2:
        cx = members[:, 0] + members[:, 2] / 2
        for edge in (members[:, 1], members[:, 1] + members[:, 3]):
            if keep.sum() >= 2 and np.ptp(cx[keep]) > 0:
                fit = np.polyval(np.polyfit(cx[keep], edge[keep], 1), cx)
                keep &= np.abs(edge - fit) <= _OUTLIER * med
    return members[keep]


def _line(members: npt.NDArray[np.float64]) -> TextLine:
    x0 = float(members[:, 0].min())
    y0 = float(members[:, 1].min())
    x1 = float((members[:, 0] + members[:, 2]).max())
    y1 = float((members[:, 1] + members[:, 3]).max())
    cx = members[:, 0] + members[:, 2] / 2
    cy = members[:, 1] + members[:, 3] / 2
    slope = float(np.polyfit(cx, cy, 1)[0]) if np.ptp(cx) > 0 else 0.0
    angle = math.degrees(math.atan(slope))
    height = float(np.median(members[:, 3]))
    centre = (float(cx.mean()), float(cy.mean()))
    length = math.hypot(float(np.ptp(cx)), float(np.ptp(cy))) + float(np.median(members[:, 2]))
    box = (round(x0), round(y0), round(x1), round(y1))
    width = float(np.median(members[:, 2]))
    return TextLine(box, angle, height, width, len(members), centre, length)


def find_text_lines(
    grey: Image, *, min_char_h: float, max_char_h: float, min_chars: int = 3, max_chars: int = 12
) -> list[TextLine]:
    """Rows of ``min_chars`` to ``max_chars`` character blobs in ``grey``, both polarities, with and without
    ink bridges narrower than ``_BRIDGE`` of the image cut, duplicates removed, the largest first
    (characters, up to 7, times their height)."""
    block = max(11, int(max_char_h) | 1)
    binaries = []
    for polarity in (cv2.THRESH_BINARY_INV, cv2.THRESH_BINARY):
        binaries.append(
            cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, polarity, min(block, 101), 7)
        )
        _t, otsu = cv2.threshold(grey, 0, 255, polarity | cv2.THRESH_OTSU)
        binaries.append(otsu)
    # the same again with thin ink cut: characters joined to the plate's border or a bolt by a bridge
    k = max(3, round(_BRIDGE * max(grey.shape[:2]))) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    binaries += [cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel) for binary in binaries]
    lines: list[TextLine] = []
    for binary in binaries:
        comps = _components(np.asarray(binary, dtype=np.uint8), min_char_h, max_char_h)
        if len(comps) < min_chars:
            continue
        chains = (_consistent(c) for c in _chains(comps) if len(c) >= min_chars)
        lines.extend(_line(c) for c in chains if min_chars <= len(c) <= max_chars)
    lines.sort(key=lambda line: (-min(line.chars, 7) * line.char_height, line.box))
    kept: list[TextLine] = []
    for line in lines:
        if all(_overlap(line.box, other.box) < 0.5 for other in kept):
            kept.append(line)
    return kept


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0


def without_small_print(lines: list[TextLine], *, ratio: float) -> list[TextLine]:
    """``lines`` less those whose characters are under ``ratio`` times as tall as those of a line they lie
    on, above or below (within one of its character heights, overlapping it for at least half their own
    width): a plate's small print (a state's or a city's name, a dealer's name or phone number on its
    frame), which the grammar may take for a plate and which the recogniser reads more confidently than
    the worn plate itself."""
    return [line for line in lines if not any(_small_print(line, other, ratio) for other in lines)]


def _small_print(small: TextLine, big: TextLine, ratio: float) -> bool:
    if small.char_height >= ratio * big.char_height:
        return False
    sx0, sy0, sx1, sy1 = small.box
    bx0, by0, bx1, by1 = big.box
    overlap = min(sx1, bx1) - max(sx0, bx0)
    reach = big.char_height
    return overlap > 0.5 * (sx1 - sx0) and sy0 < by1 + reach and sy1 > by0 - reach


def line_crop(grey: Image, line: TextLine, *, pad: float = 0.2, stretch: float = 1.0) -> tuple[Image, Box]:
    """The line cut out of ``grey`` straightened (rotated by its tilt, then sheared by its slant), its width
    scaled by ``stretch``.

    Above and below, ``pad`` character heights of the image are kept; left and right of the first and last
    character the crop is padded with the plate's background colour instead, so that a plate edge, a bolt
    or a frame next to the text is not read as one more character. Also returns the padded box in
    ``grey``'s coordinates.
    """
    h_img, w_img = grey.shape[:2]
    margin = pad * line.char_height
    side = _SIDE_KEEP * line.char_height
    out_w = max(8, round(line.length + 2 * margin))
    out_h = max(8, round(line.char_height + 2 * margin))
    cx, cy = line.centre
    # rotate about the line's centre so that the line is level, then translate its centre to the output's
    rot = cv2.getRotationMatrix2D((cx, cy), line.angle, 1.0)
    rot[0, 2] += out_w / 2 - cx
    rot[1, 2] += out_h / 2 - cy
    if line.slant:  # then shear about the centre row, which keeps the characters' centres in place
        shear = np.array([[1.0, line.slant, -line.slant * out_h / 2], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        rot = (shear @ np.vstack([rot, [0.0, 0.0, 1.0]]))[:2]
    crop = np.asarray(
        cv2.warpAffine(grey, rot, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
        dtype=np.uint8,
    )
    blank = max(0, round(margin - side))
    if blank:
        background = int(
            np.median(np.concatenate([crop[: round(margin) or 1], crop[-(round(margin) or 1) :]]))
        )
        crop[:, :blank] = background
        crop[:, out_w - blank :] = background
    if stretch != 1.0:
        crop = np.asarray(
            cv2.resize(crop, (max(8, round(out_w * stretch)), out_h), interpolation=cv2.INTER_LINEAR),
            dtype=np.uint8,
        )
    x0, y0, x1, y1 = line.box
    m = round(margin)
    box = (max(0, x0 - m), max(0, y0 - m), min(w_img, x1 + m), min(h_img, y1 + m))
    return crop, box


def with_slant(grey: Image, line: TextLine, *, pad: float, min_slant: float) -> TextLine:
    """``line`` with the slant of its glyphs once it is level, where that is at least ``min_slant``.

    Levelling a tilted line is right for a plate turned in its own plane, but a plate seen from the side
    has its baseline tilted and its verticals still vertical, so levelling leans its glyphs; an italic
    font leans too. A leaning first or last glyph sticks out past the line's ends and is clipped, and the
    recogniser reads a leaning ``M`` as ``IN``. The slant is the shear under which the most ink stands in
    columns of one unbroken vertical run (upright strokes), measured on the binarised character band.
    """
    crop, _box = line_crop(grey, line, pad=pad)
    top = round(pad * line.char_height)
    band = crop[top : top + max(1, round(line.char_height))]
    scale = _SLANT_ROWS / band.shape[0]
    small = cv2.resize(
        band, (max(8, round(band.shape[1] * scale)), _SLANT_ROWS), interpolation=cv2.INTER_AREA
    )
    _t, binary = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    ink = binary if binary.mean() <= 0.5 else 1 - binary  # the characters are the smaller class
    h, w = ink.shape
    best, best_score = 0.0, 0.0
    for slant in _SLANTS:
        m = np.array([[1.0, slant, h - slant * h / 2], [0.0, 1.0, 0.0]])
        sheared = cv2.warpAffine(ink, m, (w + 2 * h, h), flags=cv2.INTER_NEAREST, borderValue=0) > 0
        counts = sheared.sum(axis=0)
        first = np.argmax(sheared, axis=0)
        last = h - 1 - np.argmax(sheared[::-1], axis=0)
        unbroken = (counts > 0) & (last - first + 1 == counts)
        score = float((counts[unbroken].astype(np.float64) ** 2).sum())
        if score > best_score:
            best, best_score = float(slant), score
    return replace(line, slant=best) if abs(best) >= min_slant else line
