"""Cheap text localisation: character-sized blobs on a downscaled frame, grouped into text lines.

No neural detector: the frame is scaled to ``work_width`` pixels, thresholded against its local mean in
both polarities (light paint on a dark wall and dark paint on a light one), and the connected components
of character size and shape are grouped three ways:

- ``LINE``: upright characters side by side (``CSQU 305438 3``);
- ``COLUMN``: upright characters one per row, as painted on door posts;
- ``ROTATED``: a line of characters turned by 90 degrees (the same line grouping on the transposed frame).

Groups come back in full-frame pixels with their character boxes, so a reader can cut crops at full
resolution and read the characters one by one or as a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from lane_controller.vision.engine import Image
from lane_controller.vision.reads import Box

__all__ = ["GroupKind", "TextGroup", "char_blobs", "localise"]

_MIN_CHARS: Final = 3
_MAX_GROUPS: Final = 24


class GroupKind(StrEnum):
    """How the characters of a group are laid out."""

    LINE = "line"
    COLUMN = "column"
    ROTATED = "rotated"


@dataclass(frozen=True, slots=True)
class TextGroup:
    """Characters that belong together, in reading order, in full-frame pixels."""

    kind: GroupKind
    chars: tuple[Box, ...]
    dark_text: bool
    frames: tuple[Box, ...] = ()
    """Characters that are frames around another blob: the boxed check digit."""

    @property
    def box(self) -> Box:
        """The box around every character."""
        return (
            min(c[0] for c in self.chars),
            min(c[1] for c in self.chars),
            max(c[2] for c in self.chars),
            max(c[3] for c in self.chars),
        )

    @property
    def char_height(self) -> float:
        """Median character height (its extent across the line for a rotated group)."""
        if self.kind is GroupKind.ROTATED:
            return float(np.median([c[2] - c[0] for c in self.chars]))
        return float(np.median([c[3] - c[1] for c in self.chars]))


def _grey(image: Image) -> Image:
    if image.ndim == 2:
        return image
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def char_blobs(grey: Image, *, dark_text: bool, min_height: int, max_height: int) -> list[Box]:
    """Boxes of connected components of character size in one polarity of a (small) grey image.

    The boxes are returned whatever their orientation: a component is kept when one side is between
    ``min_height`` and ``max_height`` and the other side is not longer than 1.3 times that one.
    """
    block = max(15, (min_height * 3) | 1)
    mask = cv2.adaptiveThreshold(
        grey,
        255,
        cv2.ADAPTIVE_THRESH_MEAN_C,
        cv2.THRESH_BINARY_INV if dark_text else cv2.THRESH_BINARY,
        block,
        8 if dark_text else -8,
    )
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    boxes: list[Box] = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        long_side, short_side = max(w, h), min(w, h)
        if not min_height <= long_side <= max_height:
            continue
        if area < 0.12 * w * h or area < 6:
            continue
        if short_side < 0.08 * long_side:
            continue
        boxes.append((x, y, x + w, y + h))
    return boxes


def _chains(boxes: list[Box], *, max_gap: float, min_chars: int) -> list[list[Box]]:
    """Horizontal chains: boxes of similar height whose vertical centres agree and whose gaps are small.

    Greedy: each box, left to right, joins the chain whose last box it continues best.
    """
    chains: list[list[Box]] = []
    active: list[tuple[list[Box], float]] = []
    for box in sorted(boxes, key=lambda b: b[0]):
        h = box[3] - box[1]
        cy = (box[1] + box[3]) / 2
        best: list[Box] | None = None
        best_gap = float("inf")
        active = [(c, lh) for c, lh in active if c[-1][2] + max_gap * lh >= box[0]]
        for chain, lh in active:
            last = chain[-1]
            if not 0.7 * lh <= h <= 1.4 * lh:
                continue
            lcy = (last[1] + last[3]) / 2
            if abs(cy - lcy) > 0.3 * lh:
                continue
            gap = box[0] - last[2]
            if -0.2 * lh <= gap <= max_gap * lh and gap < best_gap:
                best, best_gap = chain, gap
        if best is None:
            best = [box]
            chains.append(best)
        else:
            best.append(box)
            active = [(c, lh) for c, lh in active if c is not best]
        active.append((best, float(np.median([b[3] - b[1] for b in best[-3:]]))))
    return [c for c in chains if len(c) >= min_chars]


def _columns(boxes: list[Box], *, max_gap: float, min_chars: int) -> list[list[Box]]:
    """Vertical chains of upright characters: similar heights, centres aligned, small vertical gaps."""
    upright = [b for b in boxes if (b[3] - b[1]) >= (b[2] - b[0]) * 0.7]
    columns: list[list[Box]] = []
    active: list[tuple[list[Box], float]] = []
    for box in sorted(upright, key=lambda b: b[1]):
        h = box[3] - box[1]
        cx = (box[0] + box[2]) / 2
        best: list[Box] | None = None
        best_gap = float("inf")
        active = [(c, lh) for c, lh in active if c[-1][3] + max_gap * lh >= box[1]]
        for column, lh in active:
            last = column[-1]
            if not 0.75 * lh <= h <= 1.6 * lh:
                continue
            lcx = (last[0] + last[2]) / 2
            if abs(cx - lcx) > 0.35 * lh:
                continue
            gap = box[1] - last[3]
            if -0.1 * lh <= gap <= max_gap * lh and gap < best_gap:
                best, best_gap = column, gap
        if best is None:
            best = [box]
            columns.append(best)
        else:
            best.append(box)
            active = [(c, lh) for c, lh in active if c is not best]
        active.append((best, float(np.median([b[3] - b[1] for b in best[-3:]]))))
    return [c for c in columns if len(c) >= min_chars]


def _dedupe(chars: list[Box]) -> list[Box]:
    """Drop boxes inside another box of the group (a digit inside its check-digit frame)."""
    kept = []
    for b in chars:
        inside = any(
            o is not b and o[0] <= b[0] and o[1] <= b[1] and o[2] >= b[2] and o[3] >= b[3] for o in chars
        )
        if not inside:
            kept.append(b)
    return kept


def _frames(chars: list[Box], blobs: npt.NDArray[np.int32]) -> list[Box]:
    """The characters that hold another sizeable blob inside them (a frame around a digit)."""
    found = []
    for c in chars:
        if len(blobs) == 0:
            break
        inside = (
            (blobs[:, 0] > c[0])
            & (blobs[:, 1] > c[1])
            & (blobs[:, 2] < c[2])
            & (blobs[:, 3] < c[3])
            & ((blobs[:, 3] - blobs[:, 1]) >= 0.4 * (c[3] - c[1]))
        )
        if bool(inside.any()):
            found.append(c)
    return found


def _transpose(box: Box) -> Box:
    return (box[1], box[0], box[3], box[2])


def _regularity(chars: list[Box], *, vertical: bool) -> float:
    """How much the group looks like printed text: many characters of equal height."""
    heights = np.array([(c[3] - c[1]) if not vertical else (c[2] - c[0]) for c in chars], dtype=float)
    spread = float(np.std(heights) / max(1.0, float(np.mean(heights))))
    return len(chars) * (1.0 - min(0.9, spread))


def localise(
    image: Image,
    *,
    roi: Box | None = None,
    work_width: int = 960,
    min_char_px: int = 14,
    max_char_px: int = 160,
    max_groups: int = _MAX_GROUPS,
) -> list[TextGroup]:
    """Candidate text groups in ``image`` (or in its ``roi``), best looking first, in frame pixels.

    ``min_char_px`` and ``max_char_px`` bound the character height in full-frame pixels.
    """
    ox, oy = 0, 0
    if roi is not None:
        ox, oy = max(0, roi[0]), max(0, roi[1])
        image = image[oy : roi[3], ox : roi[2]]
    grey = _grey(image)
    h, w = grey.shape[:2]
    scale = min(1.0, work_width / w) if w else 1.0
    small = (
        grey
        if scale == 1.0
        else cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    )
    small = np.asarray(small, dtype=np.uint8)
    lo, hi = max(4, round(min_char_px * scale)), max(8, round(max_char_px * scale))

    scored: list[tuple[float, TextGroup]] = []
    for dark in (False, True):
        blobs = char_blobs(small, dark_text=dark, min_height=max(3, lo // 2), max_height=hi)
        every = to_array(blobs)
        blobs = [b for b in blobs if max(b[2] - b[0], b[3] - b[1]) >= lo]
        found: list[tuple[GroupKind, list[Box]]] = []
        found += [(GroupKind.LINE, c) for c in _chains(blobs, max_gap=1.6, min_chars=_MIN_CHARS)]
        found += [(GroupKind.COLUMN, c) for c in _columns(blobs, max_gap=0.9, min_chars=4)]
        turned = [_transpose(b) for b in blobs]
        found += [
            (GroupKind.ROTATED, [_transpose(b) for b in c]) for c in _chains(turned, max_gap=1.6, min_chars=6)
        ]
        for kind, group_chars in found:
            chars = _dedupe(group_chars)
            if len(chars) < _MIN_CHARS:
                continue

            def frame_box(c: Box) -> Box:
                return (
                    ox + int(c[0] / scale),
                    oy + int(c[1] / scale),
                    ox + int(np.ceil(c[2] / scale)),
                    oy + int(np.ceil(c[3] / scale)),
                )

            full = tuple(frame_box(c) for c in chars)
            frames = tuple(frame_box(c) for c in _frames(chars, every))
            score = _regularity(chars, vertical=kind is GroupKind.ROTATED)
            scored.append((score, TextGroup(kind, full, dark, frames)))
    scored.sort(key=lambda s: -s[0])
    kept: list[TextGroup] = []
    for _, g in scored:
        if not any(k.kind is g.kind and _overlap(k.box, g.box) > 0.6 for k in kept):
            kept.append(g)
    return kept[:max_groups]


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / max(1, smaller)


def to_array(boxes: list[Box]) -> npt.NDArray[np.int32]:
    """Boxes as an (N, 4) integer array."""
    return np.asarray(boxes, dtype=np.int32).reshape(-1, 4)
