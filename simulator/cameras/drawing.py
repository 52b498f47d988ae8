"""Painting text with OpenCV's Hershey fonts into a mask: the mask is blended into the scene in the
text's colour, and its non-zero pixels give the truth box exactly (also after the scene is warped)."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.uint8]
Layout = Literal["horizontal", "vertical", "stacked"]

FONT = cv2.FONT_HERSHEY_DUPLEX
_DASH_WIDTH = 0.3  # a plate dash, in character heights
_DASH_HEIGHT = 0.12
_CAP_INK = 21 / 27  # a capital's ink of the height getTextSize gives (the rest is room above it)


def _scale_for_height(text: str, height: float, thickness: int) -> float:
    (_, h), _ = cv2.getTextSize(text, FONT, 1.0, thickness)
    return height / max(h, 1)


def _size(text: str, scale: float, thickness: int) -> tuple[int, int]:
    (w, h), _ = cv2.getTextSize(text, FONT, scale, thickness)
    return w, h


def thickness_for(height: float) -> int:
    """Stroke width for characters ``height`` pixels tall (thick, as painted)."""
    return max(2, round(height / 9))


def put(mask: Mask, text: str, *, x: float, y: float, height: float, thickness: int) -> tuple[int, int]:
    """Paint ``text`` with its top-left at (x, y), capitals ``height`` tall; returns its width and height."""
    scale = _scale_for_height(text, height, thickness)
    w, h = _size(text, scale, thickness)
    cv2.putText(mask, text, (round(x), round(y + h)), FONT, scale, 255, thickness, cv2.LINE_AA)
    return w, h


def text_width(text: str, height: float, thickness: int) -> int:
    """Width of ``text`` painted ``height`` tall."""
    return _size(text, _scale_for_height(text, height, thickness), thickness)[0]


def put_spaced(
    mask: Mask, text: str, *, x: float, y: float, height: float, thickness: int, spacing: float
) -> tuple[int, int]:
    """Paint ``text`` one character at a time, ``spacing`` character heights apart, a dash as a short bar
    (a plate's characters stand apart, Hershey's bold capitals touch, and its dash is a wide one); returns
    its width and height."""
    scale = _scale_for_height(text, height, thickness)
    cursor = x
    for char in text:
        if char == "-":
            top = y + height * (1 - _CAP_INK / 2 - _DASH_HEIGHT / 2)  # mid-height of the capitals' ink
            bar = (
                (round(cursor), round(top)),
                (round(cursor + _DASH_WIDTH * height), round(top + _DASH_HEIGHT * height)),
            )
            cv2.rectangle(mask, *bar, 255, -1, cv2.LINE_AA)
        else:
            cv2.putText(
                mask, char, (round(cursor), round(y + height)), FONT, scale, 255, thickness, cv2.LINE_AA
            )
        cursor += _advance(char, scale, thickness, height) + spacing * height
    return round(spaced_width(text, height, thickness, spacing)), round(height)


def spaced_width(text: str, height: float, thickness: int, spacing: float) -> float:
    """Width of ``text`` painted by :func:`put_spaced`."""
    scale = _scale_for_height(text, height, thickness)
    widths = [_advance(char, scale, thickness, height) for char in text]
    return sum(widths) + spacing * height * (len(text) - 1)


def _advance(char: str, scale: float, thickness: int, height: float) -> float:
    return _DASH_WIDTH * height if char == "-" else _size(char, scale, thickness)[0]


def boxed(mask: Mask, text: str, *, x: float, y: float, height: float, thickness: int) -> tuple[int, int]:
    """Paint ``text`` inside a rectangle (the check digit, as on containers); returns the outer size."""
    pad = max(3, round(height * 0.22))
    w, h = put(mask, text, x=x + pad, y=y + pad, height=height, thickness=thickness)
    line = max(1, thickness - 1)
    cv2.rectangle(mask, (round(x), round(y)), (round(x + w + 2 * pad), round(y + h + 2 * pad)), 255, line)
    return w + 2 * pad, h + 2 * pad


def container_code(mask: Mask, code: str, layout: Layout, *, x: float, y: float, height: float) -> None:
    """Paint an 11-character container number at (x, y): one line, stacked (owner code above the serial
    and boxed check digit) or vertical (one upright character per row, check digit boxed)."""
    t = thickness_for(height)
    gap = height * 0.6
    if layout == "horizontal":
        w, _ = put(mask, code[:4], x=x, y=y, height=height, thickness=t)
        w2, _ = put(mask, code[4:10], x=x + w + gap, y=y, height=height, thickness=t)
        boxed(
            mask,
            code[10],
            x=x + w + w2 + 2 * gap - height * 0.22,
            y=y - height * 0.22,
            height=height,
            thickness=t,
        )
    elif layout == "stacked":
        put(mask, code[:4], x=x, y=y, height=height, thickness=t)
        y2 = y + height * 1.6
        w2, _ = put(mask, code[4:10], x=x, y=y2, height=height, thickness=t)
        boxed(
            mask, code[10], x=x + w2 + gap - height * 0.22, y=y2 - height * 0.22, height=height, thickness=t
        )
    else:
        pitch = height * 1.35
        column = max(text_width(c, height, t) for c in code)
        for i, c in enumerate(code):
            cx = x + (column - text_width(c, height, t)) / 2
            if i == 10:
                boxed(
                    mask, c, x=cx - height * 0.22, y=y + i * pitch + height * 0.1, height=height, thickness=t
                )
            else:
                put(mask, c, x=cx, y=y + i * pitch, height=height, thickness=t)


def container_code_size(code: str, layout: Layout, height: float) -> tuple[float, float]:
    """The room (width, height) ``container_code`` takes."""
    t = thickness_for(height)
    gap = height * 0.6
    check = text_width(code[10], height, t) + 2 * max(3, round(height * 0.22))
    if layout == "horizontal":
        return text_width(code[:4], height, t) + text_width(code[4:10], height, t) + 2 * gap + check, height
    if layout == "stacked":
        width = max(text_width(code[:4], height, t), text_width(code[4:10], height, t) + gap + check)
        return width, height * 2.6
    return max(text_width(c, height, t) for c in code) + height * 0.5, height * 1.35 * 11 + height * 0.4


def blend(image: Image, mask: Mask, colour: tuple[int, int, int]) -> None:
    """Blend ``colour`` into ``image`` in place, ``mask`` as the alpha (0-255)."""
    alpha = mask.astype(np.float32)[..., None] / 255.0
    mixed = image.astype(np.float32) * (1.0 - alpha) + np.array(colour, np.float32) * alpha
    image[:] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def mask_box(mask: Mask) -> tuple[int, int, int, int] | None:
    """The tight box (x0, y0, x1, y1; ends exclusive) of the mask's visible pixels, None if none."""
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
