"""The ISO 6346 container-number reader: cheap localisation, recogniser-only reads, check-digit assembly.

One frame costs one pass of :func:`~lane_controller.vision.text_lines.localise` on a downscaled copy
(tens of milliseconds) and one pass of the engine's recogniser network over at most ``max_crops`` crops cut
at full resolution (batched by width, on one torch thread):

- a horizontal line is read as it is (collinear pieces of one line are merged first);
- a column of upright characters (door posts) is cut character by character and the characters are
  pasted side by side into one horizontal line;
- a turned line is read rotated both ways;
- a check digit in a painted box is cut out of its box (:func:`framed_digit`) and read digits-only, the
  line before it ending at the box;
- the best upright crops are read once more widened (:func:`widened`): a condensed stencil font at its own
  width loses characters.

Every alphabet is decoded from the same posteriors (:func:`ctc_decode`): a segment with its own alphabet,
an 11-character window re-read by position (letters, then digits: :func:`typed_windows`), a short line as
an owner code or a serial (:func:`typed_part`). The texts go through
:mod:`~lane_controller.vision.container_assembly` (11-character windows, stacked owner/serial pairs, a code
read without its check digit completed from the serial read elsewhere, the domain's ``candidates()``
corrections), and :func:`calibrate` sets each valid number's confidence against
:data:`AUTO_ACCEPT`: only a number read as it is, with no correction and no contradicting reading of the
same place, can reach it. The CRAFT detector on a small copy of the frame is a fallback, used only when
nothing valid came out of the localised groups.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from lane_controller.vision.container_assembly import (
    Assembled,
    Piece,
    assemble,
    completed_check_digits,
    stacked_pairs,
)
from lane_controller.vision.engine import RECOGNISER_HEIGHT, Image, OcrEngine, PosteriorSource
from lane_controller.vision.reads import Box, FrameReads, Read, ReadKind, image_sha256
from lane_controller.vision.text_lines import GroupKind, TextGroup, localise

__all__ = [
    "ALNUM",
    "AUTO_ACCEPT",
    "Alphabet",
    "ContainerReader",
    "Crop",
    "LineRead",
    "Segment",
    "build_crops",
    "calibrate",
    "ctc_decode",
    "framed_digit",
    "typed_part",
    "typed_windows",
]

ALNUM: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
AUTO_ACCEPT: Final = 0.8
"""A valid read at or above this confidence may be accepted from one frame without a person looking.

Only a reading the recogniser made with every character sure, that needed no correction and that no other
reading of the same text group contradicts can reach it (:func:`calibrate`); a check-digit-valid number
assembled with corrections, or from readings that disagree, stays below it and needs votes of other
frames (or a person) to be accepted."""
CORRECTED_CAP: Final = 0.45
"""The most a reading assembled with corrections (a character dropped, re-read by position or replaced
by a confusion) can score: below a disputed reading made as it is."""
DISPUTED_CAP: Final = 0.5
"""The most a reading can score when another reading of the same text group gave another 11-character
text in the same place."""
RIVAL_DISTANCE: Final = 2
"""A well-formed reading of the same place that differs in at most this many characters contradicts a read
(a farther one is another text: a shifted window, the other container)."""
_LINE_HEIGHT: Final = RECOGNISER_HEIGHT
"""The recogniser's input height: crops are scaled to it once, here."""
_MAX_LINE_WIDTH: Final = 1600


class Alphabet(StrEnum):
    """Which characters a segment may hold."""

    ANY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    DIGITS = "0123456789"


@dataclass(frozen=True, slots=True)
class Segment:
    """A line image (at the recogniser's height) to read with one alphabet."""

    image: Image
    alphabet: Alphabet
    one_char: bool = False
    """The segment holds exactly one character (a boxed check digit): its most probable one is kept."""


@dataclass(frozen=True, slots=True)
class Crop:
    """One reading of a text group: segments read in order and joined, and the frame box they stand for."""

    segments: tuple[Segment, ...]
    box: Box
    char_height: float
    kind: GroupKind


def _grey(image: Image) -> Image:
    if image.ndim == 2:
        return image
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def _clip(box: tuple[float, float, float, float], width: int, height: int) -> Box:
    return (
        max(0, int(box[0])),
        max(0, int(box[1])),
        min(width, int(np.ceil(box[2]))),
        min(height, int(np.ceil(box[3]))),
    )


def _pad(box: Box, dx: float, dy: float, width: int, height: int) -> Box:
    return _clip((box[0] - dx, box[1] - dy, box[2] + dx, box[3] + dy), width, height)


def _union(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _to_height(image: Image, height: int = _LINE_HEIGHT) -> Image:
    h, w = image.shape[:2]
    if h == 0 or w == 0:
        return np.zeros((height, height), dtype=np.uint8)
    width = max(1, min(_MAX_LINE_WIDTH, round(w * height / h)))
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), dtype=np.uint8)


def merge_lines(groups: list[TextGroup]) -> list[TextGroup]:
    """Join collinear line groups (pieces of one line split by a wide gap, a frame or a polarity change)."""
    lines = sorted((g for g in groups if g.kind is GroupKind.LINE), key=lambda g: g.box[0])
    merged: list[TextGroup] = []
    for g in lines:
        h, cy = g.char_height, (g.box[1] + g.box[3]) / 2
        for i, m in enumerate(merged):
            mh, mcy = m.char_height, (m.box[1] + m.box[3]) / 2
            gap = g.box[0] - m.box[2]
            if 0.7 * mh <= h <= 1.4 * mh and abs(cy - mcy) <= 0.35 * mh and -mh * 4 <= gap <= 2.5 * mh:
                chars = tuple(sorted({*m.chars, *g.chars}, key=lambda c: c[0]))
                merged[i] = TextGroup(GroupKind.LINE, chars, m.dark_text, (*m.frames, *g.frames))
                break
        else:
            merged.append(g)
    return merged


def _frame_digit(grey: Image, frame: Box) -> Segment:
    """The inside of a check-digit frame, its border cut away."""
    x0, y0, x1, y1 = frame
    dx, dy = 0.14 * (x1 - x0), 0.12 * (y1 - y0)
    inner = _clip((x0 + dx, y0 + dy, x1 - dx, y1 - dy), grey.shape[1], grey.shape[0])
    cell = grey[inner[1] : inner[3], inner[0] : inner[2]]
    margin = max(1, cell.shape[0] // 4)
    padded = cv2.copyMakeBorder(cell, margin, margin, margin, margin, cv2.BORDER_REPLICATE)
    return Segment(_to_height(np.asarray(padded, dtype=np.uint8)), Alphabet.DIGITS, one_char=True)


def framed_digit(grey: Image, cell: Box, h: float, *, dark_text: bool) -> Segment | None:
    """The character inside a frame around ``cell`` (a check digit in its box), the frame wiped out.

    At full resolution, around the cell: the ink (Otsu, in the text's polarity) is split in connected
    components; a component that encloses another one at least 40% its height is a frame. The frame's
    pixels are painted with the background and the enclosed character is cut with a margin, so the
    recogniser never sees the border (read as 0, 1, 7 or I otherwise).
    """
    height, width = grey.shape[:2]
    b = _pad(cell, 0.3 * h, 0.3 * h, width, height)
    region = np.array(grey[b[1] : b[3], b[0] : b[2]], dtype=np.uint8)
    if region.shape[0] < 12 or region.shape[1] < 8:
        return None
    _t, ink = cv2.threshold(
        region, 0, 255, (cv2.THRESH_BINARY_INV if dark_text else cv2.THRESH_BINARY) | cv2.THRESH_OTSU
    )
    count, labels, stats, _c = cv2.connectedComponentsWithStats(
        np.asarray(ink, dtype=np.uint8), connectivity=8
    )
    best: tuple[int, int] | None = None
    for a in range(1, count):
        ax, ay, aw, ah, _area = (int(v) for v in stats[a])
        if ah < 0.7 * h:
            continue
        for d in range(1, count):
            dx, dy, dw, dh, darea = (int(v) for v in stats[d])
            inside = ax < dx and ay < dy and dx + dw < ax + aw and dy + dh < ay + ah
            enclosed = d != a and inside and dh >= 0.4 * ah and darea >= 0.05 * dw * dh
            if enclosed and (best is None or dh > stats[best[1]][3]):
                best = (a, d)
    if best is None:
        return None
    frame, digit = best
    background = int(np.median(region[ink == 0])) if bool((ink == 0).any()) else 0
    region[labels == frame] = background
    dx, dy, dw, dh = (int(v) for v in stats[digit][:4])
    # what is left of the border (a side broken off the frame) lies beside the character: wiped too
    slack = max(1, dh // 10)
    for other in range(1, count):
        ox, oy, ow, oh = (int(v) for v in stats[other][:4])
        beside = ox < dx - slack or oy < dy - slack or ox + ow > dx + dw + slack or oy + oh > dy + dh + slack
        if other not in (frame, digit) and beside:
            region[labels == other] = background
    m = max(2, dh // 5)
    x0, y0 = max(0, dx - m), max(0, dy - m)
    x1, y1 = min(region.shape[1], dx + dw + m), min(region.shape[0], dy + dh + m)
    cut = np.asarray(region[y0:y1, x0:x1], dtype=np.uint8)
    padded = cv2.copyMakeBorder(cut, m, m, m, m, cv2.BORDER_CONSTANT, value=background)
    return Segment(_to_height(np.asarray(padded, dtype=np.uint8)), Alphabet.DIGITS, one_char=True)


def is_frame(grey: Image, box: Box, *, dark_text: bool) -> bool:
    """Whether the blob is a rectangular frame (around a check digit): ink along all four sides."""
    x0, y0, x1, y1 = box
    cell = grey[y0:y1, x0:x1]
    if cell.shape[0] < 8 or cell.shape[1] < 6 or cell.shape[1] < 0.45 * cell.shape[0]:
        return False
    _t, ink = cv2.threshold(
        cell, 0, 1, (cv2.THRESH_BINARY_INV if dark_text else cv2.THRESH_BINARY) | cv2.THRESH_OTSU
    )
    h, w = ink.shape
    by, bx = max(1, h // 6), max(1, w // 6)
    sides = (
        ink[:by, :].mean(axis=1).max(),
        ink[h - by :, :].mean(axis=1).max(),
        ink[:, :bx].mean(axis=0).max(),
        ink[:, w - bx :].mean(axis=0).max(),
    )
    inner = ink[by : h - by, bx : w - bx]
    corners = (
        ink[by : 2 * by, bx : 2 * bx],
        ink[by : 2 * by, w - 2 * bx : w - bx],
        ink[h - 2 * by : h - by, bx : 2 * bx],
        ink[h - 2 * by : h - by, w - 2 * bx : w - bx],
    )
    hollow_corners = sum(float(c.mean()) < 0.35 for c in corners if c.size)
    return min(sides) >= 0.85 and 0.05 < float(inner.mean()) < 0.5 and hollow_corners >= 3


def _split(chars: Sequence[Box], *, vertical: bool) -> int | None:
    """Where the owner code ends: the widest gap after 3 to 5 characters, if it stands out."""
    if len(chars) < 8:
        return None
    lo, hi = (1, 3) if vertical else (0, 2)
    gaps = [chars[i + 1][lo] - chars[i][hi] for i in range(len(chars) - 1)]
    typical = float(np.median(gaps))
    best = max(range(2, 5), key=lambda i: gaps[i])
    return best + 1 if gaps[best] > max(1.5 * typical, typical + 2) else None


def _line_segment(grey: Image, chars: Sequence[Box], h: float, alphabet: Alphabet) -> Segment:
    b = _pad(_union(chars), 0.3 * h, 0.25 * h, grey.shape[1], grey.shape[0])
    return Segment(_to_height(grey[b[1] : b[3], b[0] : b[2]]), alphabet)


def _column_segment(grey: Image, chars: Sequence[Box], h: float, alphabet: Alphabet) -> Segment:
    """Upright characters of a column pasted side by side; a gap the size of a character gets a cell."""
    height, width = grey.shape[:2]
    x0, y0, x1, y1 = _union(chars)
    background = int(np.median(grey[y0:y1, x0:x1])) if x1 > x0 and y1 > y0 else 0
    gap = np.full((_LINE_HEIGHT, _LINE_HEIGHT // 4), background, dtype=np.uint8)
    cells: list[Box] = []
    for i, c in enumerate(chars):
        if i and c[1] - chars[i - 1][3] > 0.9 * h:
            mid = (c[1] + chars[i - 1][3]) / 2
            cells.append((x0, int(mid - h / 2), x1, int(mid + h / 2)))
        cells.append(c)
    parts: list[Image] = [gap]
    for c in cells:
        p = _pad(c, 0.12 * h, 0.12 * h, width, height)
        parts += [_to_height(grey[p[1] : p[3], p[0] : p[2]]), gap]
    return Segment(np.asarray(np.hstack(parts), dtype=np.uint8), alphabet)


_STACKED_RANK: Final = 1  # a line of a stacked layout ranks with an 11-character line one blob off
_OWNER_BLOBS: Final = (3, 6)
_SERIAL_BLOBS: Final = (5, 9)
_MIN_BEFORE_FRAME: Final = 3  # characters before a frame that ends a line at its check digit


def _layout_rank(group: TextGroup) -> int:
    """How far a group's character count is from a container number's layouts (lower first): the whole
    number in one line (11), or one line of a stacked number: the serial with its check digit (7) or the
    owner code (4)."""
    n = len(group.chars)
    return min(abs(n - 11), 3 + abs(n - 7), 3 + abs(n - 4))


def stacked_lines(lines: Sequence[TextGroup]) -> set[int]:
    """Indexes of the line pairs laid out like a stacked container number: an owner-code-like line (3 to 6
    blobs) right over a longer serial-like line (5 to 9 blobs) of the same character height, left edges
    aligned. Blobs of a painted number are often merged or broken by corrugation, so the character
    counts of these lines alone do not rank them; a stack of labels (TARE, MAX GROSS) is not such a pair."""
    found: set[int] = set()
    for i, top in enumerate(lines):
        h = top.char_height
        if not _OWNER_BLOBS[0] <= len(top.chars) <= _OWNER_BLOBS[1]:
            continue
        for j, low in enumerate(lines):
            n = len(low.chars)
            if i == j or not (_SERIAL_BLOBS[0] <= n <= _SERIAL_BLOBS[1] and n > len(top.chars)):
                continue
            if not 0.8 * h <= low.char_height <= 1.25 * h:
                continue
            below = low.box[1] - top.box[3]
            if -0.4 * h <= below <= 1.0 * h and abs(low.box[0] - top.box[0]) <= 0.8 * h:
                found |= {i, j}
    return found


def _end_at_frame(chars: list[Box], frames: Sequence[Box]) -> list[Box]:
    """The characters up to the first framed check digit (the frame standing for its digit): the check
    digit ends a container number, so what follows it on the line (a latch, a groove) is not read with it."""
    for i, c in enumerate(chars):
        if i >= _MIN_BEFORE_FRAME and c in frames:
            return [k for k in chars[:i] if not _inside(k, c)] + [c]
    return chars


def _inside(inner: Box, outer: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def build_crops(image: Image, groups: list[TextGroup]) -> list[Crop]:
    """The readings to try for these groups: each group whole, and split into owner code and serial
    (letters and digits) where the layout shows the split; a framed check digit is read on its own.
    Groups whose character count is nearest a container number's layouts come first, lines of a stacked
    layout (:func:`stacked_lines`) among the first."""
    grey = _grey(image)
    height, width = grey.shape[:2]
    crops: list[Crop] = []
    lines = merge_lines(groups)
    stacked = stacked_lines(lines)
    ranked = [
        (min(_STACKED_RANK, _layout_rank(g)) if i in stacked else _layout_rank(g), g)
        for i, g in enumerate(lines)
    ]
    ranked += [(_layout_rank(g), g) for g in groups if g.kind is not GroupKind.LINE]
    ordered = [g for _rank, g in sorted(ranked, key=lambda item: item[0])]
    for g in ordered:
        h = g.char_height
        if g.kind is GroupKind.ROTATED:
            b = _pad(g.box, 0.25 * h, 0.5 * h, width, height)
            region = grey[b[1] : b[3], b[0] : b[2]]
            for turn in (cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_90_CLOCKWISE):
                turned = np.asarray(cv2.rotate(region, turn), dtype=np.uint8)
                crops.append(Crop((Segment(_to_height(turned), Alphabet.ANY),), g.box, h, g.kind))
            continue
        vertical = g.kind is GroupKind.COLUMN
        make = _column_segment if vertical else _line_segment
        chars = _end_at_frame(sorted(g.chars, key=lambda c: c[1] if vertical else c[0]), g.frames)
        tail: tuple[Segment, ...] = ()
        source = grey
        boxed = framed_digit(grey, chars[-1], h, dark_text=g.dark_text) if len(chars) >= 8 else None
        if (
            boxed is None
            and len(chars) > 3
            and (chars[-1] in g.frames or is_frame(grey, chars[-1], dark_text=g.dark_text))
        ):
            boxed = _frame_digit(grey, chars[-1])
        if boxed is not None:
            tail = (boxed,)
            # the rest of the line is cut short of the check digit's cell: its frame read as a 1 or an I
            cell = chars[-1]
            source = grey[: cell[1]] if vertical else grey[:, : cell[0]]
            chars = chars[:-1]
        crops.append(Crop((make(source, chars, h, Alphabet.ANY), *tail), g.box, h, g.kind))
        cut = _split(chars, vertical=vertical)
        if cut is not None:
            parts = (
                make(source, chars[:cut], h, Alphabet.LETTERS),
                make(source, chars[cut:], h, Alphabet.DIGITS),
            )
            crops.append(Crop((*parts, *tail), g.box, h, g.kind))
    return crops


def widened(crop: Crop, factor: float) -> Crop:
    """``crop`` with every segment ``factor`` times as wide: one more view of the same text."""
    segments = tuple(Segment(_stretch(s.image, factor), s.alphabet, s.one_char) for s in crop.segments)
    return Crop(segments, crop.box, crop.char_height, crop.kind)


def _stretch(image: Image, factor: float) -> Image:
    h, w = image.shape[:2]
    width = max(1, min(_MAX_LINE_WIDTH, round(w * factor)))
    return np.asarray(cv2.resize(image, (width, h), interpolation=cv2.INTER_LINEAR), dtype=np.uint8)


def _canvas(images: list[Image]) -> tuple[Image, list[Box]]:
    """Images stacked in one (one recogniser call), and each one's box in it."""
    width = max(i.shape[1] for i in images)
    canvas = np.zeros((len(images) * (_LINE_HEIGHT + 4), width), dtype=np.uint8)
    boxes: list[Box] = []
    y = 0
    for image in images:
        w = image.shape[1]
        canvas[y : y + _LINE_HEIGHT, :w] = image
        boxes.append((0, y, w, y + _LINE_HEIGHT))
        y += _LINE_HEIGHT + 4
    return canvas, boxes


@dataclass(frozen=True, slots=True)
class LineRead:
    """A decoded line: its text and each character's probability (under the alphabet it was decoded with)."""

    text: str
    probs: tuple[float, ...]
    spans: tuple[tuple[int, int], ...] = ()
    """The time steps (first, last + 1) that emitted each character."""

    @property
    def confidence(self) -> float:
        """EasyOCR's line confidence (a length-adjusted geometric mean of the character probabilities)."""
        if not self.probs:
            return 0.0
        return float(np.prod(self.probs) ** (2.0 / np.sqrt(len(self.probs))))


def ctc_decode(probs: npt.NDArray[np.float32], alphabet: str, characters: str) -> LineRead:
    """Greedy CTC decoding of one line's posteriors (time x (blank + ``characters``)) restricted to
    ``alphabet``: the other characters' probability is taken away and the rest renormalised, as EasyOCR's
    allowlist does. A character's probability is the highest over the time steps that emitted it."""
    allowed = [0, *(1 + characters.index(c) for c in alphabet if c in characters)]
    kept = probs[:, allowed]
    kept = kept / np.maximum(kept.sum(axis=1, keepdims=True), 1e-9)
    best = kept.argmax(axis=1)
    top = kept.max(axis=1)
    text: list[str] = []
    char_probs: list[float] = []
    spans: list[tuple[int, int]] = []
    previous = 0
    for t, (index, p) in enumerate(zip(best.tolist(), top.tolist(), strict=True)):
        if index and index == previous:
            char_probs[-1] = max(char_probs[-1], p)
            spans[-1] = (spans[-1][0], t + 1)
        elif index:
            text.append(characters[allowed[index] - 1])
            char_probs.append(p)
            spans.append((t, t + 1))
        previous = index
    return LineRead("".join(text), tuple(char_probs), tuple(spans))


OWNER_LETTERS: Final = 4
"""An ISO 6346 number is four letters (owner code and category) then seven digits."""
MAX_RETYPED: Final = 2
"""At most this many characters of a window may change class when it is re-read by position."""


def typed_windows(
    probs: npt.NDArray[np.float32], line: LineRead, characters: str
) -> list[tuple[LineRead, int]]:
    """Every 11-character window of a line read with any character, each character re-read within the
    class its position asks for (letters first, then digits) from the same posteriors; with the number of
    characters that changed. Windows needing more than :data:`MAX_RETYPED` changes are left out."""
    letters = [1 + characters.index(c) for c in Alphabet.LETTERS.value if c in characters]
    digits = [1 + characters.index(c) for c in Alphabet.DIGITS.value if c in characters]
    out: list[tuple[LineRead, int]] = []
    for start in range(len(line.text) - 10):
        text: list[str] = []
        char_probs: list[float] = []
        changed = 0
        for k in range(11):
            t0, t1 = line.spans[start + k]
            cls = letters if k < OWNER_LETTERS else digits
            span = probs[t0:t1]
            share = span[:, cls] / np.maximum(span[:, [0, *cls]].sum(axis=1, keepdims=True), 1e-9)
            step, choice = np.unravel_index(int(share.argmax()), share.shape)
            char = characters[cls[int(choice)] - 1]
            changed += char != line.text[start + k]
            text.append(char)
            char_probs.append(float(share[step, choice]))
        if 0 < changed <= MAX_RETYPED:
            out.append((LineRead("".join(text), tuple(char_probs)), changed))
    return out


def typed_part(
    probs: npt.NDArray[np.float32], line: LineRead, characters: str
) -> tuple[LineRead, int] | None:
    """A short line re-read as the part of a stacked number it may be: three to five characters as letters
    (owner code), six to eight as digits (serial and check digit), from the same posteriors; with the
    number of characters that changed. None when it is neither, nothing changed, the length changed or
    more than :data:`MAX_RETYPED` characters did."""
    n = len(line.text)
    alphabet = Alphabet.LETTERS if 3 <= n <= 5 else Alphabet.DIGITS if 6 <= n <= 8 else None
    if alphabet is None:
        return None
    typed = ctc_decode(probs, alphabet.value, characters)
    if len(typed.text) != n:
        return None
    changed = sum(a != b for a, b in zip(typed.text, line.text, strict=True))
    return (typed, changed) if 0 < changed <= MAX_RETYPED else None


def _one(line: LineRead) -> LineRead:
    """The most probable character of a read that must hold exactly one."""
    if len(line.text) <= 1:
        return line
    best = int(np.argmax(line.probs))
    return LineRead(line.text[best], (line.probs[best],), line.spans[best : best + 1])


class _Posteriors:
    """The engine's :meth:`~lane_controller.vision.engine.OcrEngine.posteriors` at this reader's thread
    count, where the engine is a :class:`~lane_controller.vision.engine.PosteriorSource` (another engine, a
    test double, may offer only ``recognize``)."""

    def __init__(self, engine: OcrEngine, threads: int) -> None:
        self.threads = threads
        self._source = engine if isinstance(engine, PosteriorSource) else None
        self.characters = self._source.characters if self._source is not None else ""

    @property
    def available(self) -> bool:
        return self._source is not None and bool(self.characters)

    def __call__(self, images: list[Image]) -> list[npt.NDArray[np.float32]]:
        assert self._source is not None, "no posteriors: check available first"
        return self._source.posteriors(images, threads=self.threads)


class ContainerReader:
    """Reads ISO 6346 container numbers in a frame (a :class:`~lane_controller.vision.reads.FrameReader`).

    ``roi`` restricts the search to a region of the frame (from the lane layout); ``max_crops`` bounds
    the recogniser's work per frame; ``detector_fallback_px`` is the canvas size of the CRAFT fallback
    (0 disables it). ``recogniser_threads`` is torch's intra-op thread count while this reader runs the
    network (0: the engine's): on the 2-core gate PC, shared with the plate reader, two threads spin against
    the other work (a batch of four 64x100 crops: 46 ms on one thread, 3.8 s on two under load).
    The first ``widened_crops`` upright crops are also read ``widths`` times as wide: at its own width the
    recogniser drops or merges characters of a condensed stencil font (``XINU`` read ``XI0``).
    """

    kind: ReadKind = ReadKind.CONTAINER

    def __init__(
        self,
        engine: OcrEngine,
        *,
        roi: Box | None = None,
        work_width: int = 960,
        max_crops: int = 14,
        detector_fallback_px: int = 0,
        recogniser_threads: int = 1,
        widths: tuple[float, ...] = (1.3,),
        widened_crops: int = 6,
    ) -> None:
        self.engine = engine
        self.widths = widths
        self.widened_crops = widened_crops
        self.roi = roi
        self.work_width = work_width
        self.max_crops = max_crops
        self.detector_fallback_px = detector_fallback_px
        self._posteriors = _Posteriors(engine, recogniser_threads)

    def read(self, image: Image, *, camera: str | None = None) -> FrameReads:
        """Every container-number read in the frame, valid ones first, best first."""
        started = time.perf_counter()
        sha = image_sha256(image)
        groups = localise(image, roi=self.roi, work_width=self.work_width)
        crops = build_crops(image, groups)[: self.max_crops]
        if self.widths:
            crops += [
                widened(c, f)
                for f in self.widths
                for c in crops[: self.widened_crops]
                if c.kind is not GroupKind.ROTATED
            ]
        assembled = self._recognise(crops)
        if not any(a.valid for a in assembled) and self.detector_fallback_px:
            assembled += self._fallback(image)
        reads = _to_reads(assembled)
        return FrameReads(sha, camera, reads, time.perf_counter() - started)

    def _recognise(self, crops: list[Crop]) -> list[Assembled]:
        if not crops:
            return []
        reads, typed = self._read_segments([s for c in crops for s in c.segments])
        short = {i: [t for t in found if len(t[0].text) < 11] for i, found in typed.items()}
        pieces: list[Piece] = []
        extra: list[Piece] = []
        starts: list[int] = []
        k = 0
        for c in crops:
            starts.append(k)
            parts = reads[k : k + len(c.segments)]
            confidence = float(np.prod([max(p.confidence, 1e-6) for p in parts]) ** (1 / len(parts)))
            pieces.append(Piece("".join(p.text for p in parts), confidence, c.box, c.char_height))
            if len(parts) == 1:
                extra += [
                    Piece(t.text, t.confidence, c.box, c.char_height, n)
                    for t, n in typed.get(k, [])
                    if len(t.text) == 11
                ]
            k += len(c.segments)
        line_pieces = [p for p, c in zip(pieces, crops, strict=True) if c.kind is GroupKind.LINE]
        line_pieces += [
            Piece(t.text, t.confidence, c.box, c.char_height, n)
            for i, c in enumerate(crops)
            if c.kind is GroupKind.LINE and len(c.segments) == 1
            for t, n in short.get(starts[i], [])
        ]
        return assemble([*pieces, *extra, *stacked_pairs(line_pieces), *completed_check_digits(pieces)])

    def _read_segments(
        self, segments: list[Segment]
    ) -> tuple[list[LineRead], dict[int, list[tuple[LineRead, int]]]]:
        """Each segment read with its alphabet, and the :func:`typed_windows` (or :func:`typed_part`) of
        those read with any character: one network pass per segment when the network is at hand, else one
        ``recognize`` call per alphabet (and no typed windows)."""
        if self._posteriors.available:
            probs = self._posteriors([s.image for s in segments])
            chars = self._posteriors.characters
            reads = [ctc_decode(p, s.alphabet.value, chars) for p, s in zip(probs, segments, strict=True)]
            reads = [_one(r) if s.one_char else r for r, s in zip(reads, segments, strict=True)]
            typed: dict[int, list[tuple[LineRead, int]]] = {}
            for i, (r, s) in enumerate(zip(reads, segments, strict=True)):
                if s.alphabet is not Alphabet.ANY:
                    continue
                if len(r.text) >= 11:
                    typed[i] = typed_windows(probs[i], r, chars)
                elif (part := typed_part(probs[i], r, chars)) is not None:
                    typed[i] = [part]
            return reads, typed
        out: dict[int, LineRead] = {}
        for alphabet in Alphabet:
            keys = [i for i, s in enumerate(segments) if s.alphabet is alphabet]
            if not keys:
                continue
            canvas, boxes = _canvas([segments[i].image for i in keys])
            texts = self.engine.recognize(canvas, boxes, allowlist=alphabet.value)
            for i, t in zip(keys, texts, strict=True):
                n = max(1, len(t.text))
                out[i] = LineRead(t.text, (t.confidence ** (np.sqrt(n) / 2 / n),) * n if t.text else ())
        return [out[i] for i in range(len(segments))], {}

    def _fallback(self, image: Image) -> list[Assembled]:
        grey = _grey(image)
        if self.roi is not None:
            x0, y0, x1, y1 = self.roi
            grey = grey[y0:y1, x0:x1]
        else:
            x0 = y0 = 0
        found = self.engine.detect(grey, canvas_size=self.detector_fallback_px)
        boxes = [(b.box[0], b.box[1], b.box[2], b.box[3]) for b in found]
        if not boxes:
            return []
        texts = self.engine.recognize(grey, boxes, allowlist=ALNUM)
        pieces = [
            Piece(
                t.text,
                t.confidence,
                (t.box[0] + x0, t.box[1] + y0, t.box[2] + x0, t.box[3] + y0),
                float(t.box[3] - t.box[1]),
            )
            for t in texts
        ]
        return assemble([*pieces, *stacked_pairs(pieces)])


_WELL_FORMED: Final = re.compile(r"[A-Z]{4}[0-9]{7}")


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / max(1, min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])))


def calibrate(assembled: list[Assembled]) -> dict[str, tuple[float, Assembled]]:
    """Each valid text's confidence, its best window, calibrated against :data:`AUTO_ACCEPT`.

    The recogniser's confidence stands only for a reading made as it is; a reading that needed corrections
    is capped at :data:`CORRECTED_CAP`, and one that another reading of the same place contradicts at
    :data:`DISPUTED_CAP` (a reading as made, no character dropped or re-read, of another well-formed
    11-character text, four letters and seven digits, within :data:`RIVAL_DISTANCE` characters of it).
    """
    best: dict[str, tuple[float, Assembled]] = {}
    for a in assembled:
        if not a.valid:
            continue
        text, conf = a.valid[0]
        cost = _cost(a)
        if cost:
            conf = min(conf, CORRECTED_CAP)
        rivals = [
            o.raw
            for o in assembled
            if o.raw != text
            and not o.derived
            and _WELL_FORMED.fullmatch(o.raw)
            and sum(x != y for x, y in zip(o.raw, text, strict=True)) <= RIVAL_DISTANCE
            and _overlap(o.box, a.box) > 0.5
        ]
        if rivals:
            conf = min(conf, DISPUTED_CAP)
        if text not in best or (conf, a.valid[0][1]) > (best[text][0], best[text][1].valid[0][1]):
            best[text] = (conf, a)
    return best


def _character_support(assembled: list[Assembled]) -> dict[str, float]:
    """Each valid text's support: the confidence of every valid reading in the frame (the whole line, its
    split parts, the re-typed windows, the widened views), weighted by the share of the eleven positions
    at which that reading agrees with the text. Two readings of the same place that differ in a digit or
    two are told apart by which one the other readings agree with more."""
    readings = [(a.valid[0][0], a.valid[0][1]) for a in assembled if a.valid]
    return {
        text: sum(
            conf * sum(x == y for x, y in zip(text, other, strict=True)) / len(text)
            for other, conf in readings
        )
        for text in {t for t, _c in readings}
    }


def _cost(a: Assembled) -> int:
    return a.costs[0] if a.costs else 0


def _to_reads(assembled: list[Assembled]) -> tuple[Read, ...]:
    """One read per distinct valid text (its best window), best first, then the windows that gave nothing
    valid."""
    best = calibrate(assembled)
    support = _character_support(assembled)
    reads: list[Read] = []
    # equal calibrated confidences (capped) are ordered by the fewest corrections, then by their character
    # support, then by the best reading's own confidence
    ranked = sorted(
        best.items(),
        key=lambda kv: (-kv[1][0], _cost(kv[1][1]), -support[kv[0]], -kv[1][1].valid[0][1]),
    )
    for text, (conf, a) in ranked:
        alternatives = tuple((t, c) for t, c in a.valid[1:4])
        reads.append(Read(ReadKind.CONTAINER, text, conf, a.box, True, a.raw, alternatives))
    seen = set()
    for a in assembled:
        if not a.valid and a.raw not in seen and a.raw not in best:
            seen.add(a.raw)
            reads.append(Read(ReadKind.CONTAINER, a.raw, a.confidence, a.box, False, a.raw))
    return tuple(reads)
