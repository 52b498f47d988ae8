"""The ISO 6346 container-number reader: cheap localisation, recogniser-only reads, check-digit assembly.

One frame costs one pass of :func:`~lane_controller.vision.text_lines.localise` on a downscaled copy
(tens of milliseconds) and one batched call of the engine's recogniser over crops cut at full resolution:

- a horizontal line is read as it is (collinear pieces of one line are merged first);
- a column of upright characters (door posts) is cut character by character and the characters are
  pasted side by side into one horizontal line;
- a turned line is read rotated both ways.

The texts go through :mod:`~lane_controller.vision.container_assembly` (11-character windows, stacked
owner/serial pairs, the domain's ``candidates()`` corrections). The CRAFT detector on a small copy of the
frame is a fallback, used only when nothing valid came out of the localised groups.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import cv2
import numpy as np

from lane_controller.vision.container_assembly import Assembled, Piece, assemble, stacked_pairs
from lane_controller.vision.engine import Image, OcrEngine, TextRead
from lane_controller.vision.reads import Box, FrameReads, Read, ReadKind, image_sha256
from lane_controller.vision.text_lines import GroupKind, TextGroup, localise

__all__ = ["ALNUM", "Alphabet", "ContainerReader", "Crop", "Segment", "build_crops"]

ALNUM: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_LINE_HEIGHT: Final = 64
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
    return Segment(_to_height(np.asarray(padded, dtype=np.uint8)), Alphabet.DIGITS)


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


def build_crops(image: Image, groups: list[TextGroup]) -> list[Crop]:
    """The readings to try for these groups: each group whole, and split into owner code and serial
    (letters and digits) where the layout shows the split; a framed check digit is read on its own."""
    grey = _grey(image)
    height, width = grey.shape[:2]
    crops: list[Crop] = []
    ordered = sorted(
        [*merge_lines(groups), *(g for g in groups if g.kind is not GroupKind.LINE)],
        key=lambda g: abs(len(g.chars) - 11) if len(g.chars) > 5 else 3 + abs(len(g.chars) - 4),
    )
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
        chars = sorted(g.chars, key=lambda c: c[1] if vertical else c[0])
        tail: tuple[Segment, ...] = ()
        if len(chars) > 3 and (chars[-1] in g.frames or is_frame(grey, chars[-1], dark_text=g.dark_text)):
            tail = (_frame_digit(grey, chars[-1]),)
            chars = chars[:-1]
        crops.append(Crop((make(grey, chars, h, Alphabet.ANY), *tail), g.box, h, g.kind))
        cut = _split(chars, vertical=vertical)
        if cut is not None:
            parts = (
                make(grey, chars[:cut], h, Alphabet.LETTERS),
                make(grey, chars[cut:], h, Alphabet.DIGITS),
            )
            crops.append(Crop((*parts, *tail), g.box, h, g.kind))
    return crops


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


class ContainerReader:
    """Reads ISO 6346 container numbers in a frame (a :class:`~lane_controller.vision.reads.FrameReader`).

    ``roi`` restricts the search to a region of the frame (from the lane layout); ``max_crops`` bounds
    the recogniser's work per frame; ``detector_fallback_px`` is the canvas size of the CRAFT fallback
    (0 disables it).
    """

    kind: ReadKind = ReadKind.CONTAINER

    def __init__(
        self,
        engine: OcrEngine,
        *,
        roi: Box | None = None,
        work_width: int = 960,
        max_crops: int = 28,
        detector_fallback_px: int = 0,
    ) -> None:
        self.engine = engine
        self.roi = roi
        self.work_width = work_width
        self.max_crops = max_crops
        self.detector_fallback_px = detector_fallback_px

    def read(self, image: Image, *, camera: str | None = None) -> FrameReads:
        """Every container-number read in the frame, valid ones first, best first."""
        started = time.perf_counter()
        sha = image_sha256(image)
        groups = localise(image, roi=self.roi, work_width=self.work_width)
        crops = build_crops(image, groups)[: self.max_crops]
        assembled = self._recognise(crops)
        if not any(a.valid for a in assembled) and self.detector_fallback_px:
            assembled += self._fallback(image)
        reads = _to_reads(assembled)
        return FrameReads(sha, camera, reads, time.perf_counter() - started)

    def _recognise(self, crops: list[Crop]) -> list[Assembled]:
        if not crops:
            return []
        reads: dict[tuple[int, int], TextRead] = {}
        for alphabet in Alphabet:
            keys = [
                (i, j)
                for i, c in enumerate(crops)
                for j, s in enumerate(c.segments)
                if s.alphabet is alphabet
            ]
            if not keys:
                continue
            canvas, boxes = _canvas([crops[i].segments[j].image for i, j in keys])
            texts = self.engine.recognize(canvas, boxes, allowlist=alphabet.value)
            reads.update(zip(keys, texts, strict=True))
        pieces = []
        for i, c in enumerate(crops):
            parts = [reads[i, j] for j in range(len(c.segments))]
            confidence = float(np.prod([max(p.confidence, 1e-6) for p in parts]) ** (1 / len(parts)))
            pieces.append(Piece("".join(p.text for p in parts), confidence, c.box, c.char_height))
        line_pieces = [p for p, c in zip(pieces, crops, strict=True) if c.kind is GroupKind.LINE]
        return assemble([*pieces, *stacked_pairs(line_pieces)])

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


def _to_reads(assembled: list[Assembled]) -> tuple[Read, ...]:
    """One read per distinct valid text (its best window), then the windows that gave nothing valid."""
    best: dict[str, tuple[float, Assembled]] = {}
    for a in assembled:
        for text, conf in a.valid[:1]:
            if text not in best or conf > best[text][0]:
                best[text] = (conf, a)
    reads: list[Read] = []
    for text, (conf, a) in sorted(best.items(), key=lambda kv: -kv[1][0]):
        alternatives = tuple((t, c) for t, c in a.valid[1:4])
        reads.append(Read(ReadKind.CONTAINER, text, conf, a.box, True, a.raw, alternatives))
    seen = set()
    for a in assembled:
        if not a.valid and a.raw not in seen and a.raw not in best:
            seen.add(a.raw)
            reads.append(Read(ReadKind.CONTAINER, a.raw, a.confidence, a.box, False, a.raw))
    return tuple(reads)
