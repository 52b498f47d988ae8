"""Synthetic gate scenes: a container's door end with its ISO 6346 number painted horizontally, stacked or
vertically, a truck cab with its licence plate, background clutter, and the nuisances of a real camera.

``render_scene(seed)`` is deterministic: the truck (texts, layout, colours, places, dirt) follows from
``seed``; light, blur, angle, noise and a small shift follow from ``(seed, variant)``, so the variants of
one seed are successive frames of the same truck. An option left ``None`` is drawn from the seed;
``SceneOptions.clean()`` turns every nuisance off. Drawing uses OpenCV only (Hershey fonts, no assets).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from simulator.cameras import codes, drawing, effects
from simulator.cameras.drawing import Image, Layout, Mask

LAYOUTS: tuple[Layout, ...] = ("horizontal", "vertical", "stacked")
Kind = Literal["plate", "container"]
Box = tuple[int, int, int, int]

_CONTAINER_COLOURS = (  # BGR
    (40, 45, 165),
    (140, 75, 30),
    (60, 115, 45),
    (140, 140, 135),
    (30, 115, 215),
    (220, 222, 218),
    (45, 35, 110),
    (120, 120, 40),
    (35, 35, 35),
)
_CAB_COLOURS = ((210, 210, 210), (40, 40, 170), (160, 90, 30), (30, 30, 30), (40, 160, 200), (90, 130, 60))
_PLATE_SPACING = 0.12  # character heights between a plate's characters


@dataclass(frozen=True, slots=True)
class SceneOptions:
    """What to draw and how the camera sees it; ``None`` draws a value from the seed (ranges in brackets).

    ``container_code``: 11 characters (a valid check digit is not required: tests may want a wrong one);
    ``plate``: as displayed (``KLA-1234``); ``draw_text=False`` leaves the truth texts out of the image
    (their boxes are still reported), for masks and tests.
    """

    width: int = 1280
    height: int = 720
    layout: Layout | None = None
    container_code: str | None = None
    plate: str | None = None
    show_container: bool = True
    show_plate: bool = True
    draw_text: bool = True
    brightness: float | None = None  # added to every level [-40, 40]
    contrast: float | None = None  # gain about mid-grey [0.75, 1.25]
    shade: float | None = None  # darkening across the frame, 0-1 [0, 0.4]
    blur_sigma: float | None = None  # defocus in pixels [0, 1.2]
    motion_blur_px: int | None = None  # motion blur length [0, 7]
    angle_deg: float | None = None  # rotation [-4, 4]
    perspective: float | None = None  # corner displacement, share of the size [0, 0.025]
    shift_px: float | None = None  # horizontal shift between frames [-20, 20]
    noise_sigma: float | None = None  # sensor noise [0, 6]
    dirt: int | None = None  # blotches on the truck [0, 12]
    jpeg_quality: int | None = None  # 0 or None: no JPEG loss (drawn [60, 95] only when None)

    @classmethod
    def clean(cls, **changes: Any) -> SceneOptions:
        """Every nuisance off (then ``changes``): the texts exactly where they were drawn."""
        base = cls(
            brightness=0.0, contrast=1.0, shade=0.0, blur_sigma=0.0, motion_blur_px=0, angle_deg=0.0,
            perspective=0.0, shift_px=0.0, noise_sigma=0.0, dirt=0, jpeg_quality=0,
        )  # fmt: skip
        return dataclasses.replace(base, **changes)


@dataclass(frozen=True, slots=True)
class Effects:
    """The nuisances a scene was rendered with (the options' values or those drawn)."""

    brightness: float
    contrast: float
    shade: float
    blur_sigma: float
    motion_blur_px: int
    angle_deg: float
    perspective: float
    shift_px: float
    noise_sigma: float
    dirt: int
    jpeg_quality: int


@dataclass(frozen=True, slots=True)
class TextTruth:
    """A text in the scene: ``text`` normalised (``KLA1234``, ``CSQU3054383``), ``display`` as painted,
    ``box`` the tight box of its pixels (x0, y0, x1, y1, ends exclusive; the check digit's frame included),
    ``quad`` the corners of that box before rotation and perspective (top-left, top-right, bottom-right,
    bottom-left), moved by them: the text's slant."""

    text: str
    display: str
    kind: Kind
    layout: Layout
    box: Box
    quad: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True, eq=False)
class Scene:
    """A rendered frame (BGR uint8) and what is in it."""

    image: Image
    truth: tuple[TextTruth, ...]
    seed: int
    variant: int
    effects: Effects

    def of_kind(self, kind: Kind) -> tuple[TextTruth, ...]:
        """The truth texts of one kind."""
        return tuple(t for t in self.truth if t.kind == kind)


@dataclass(frozen=True, slots=True)
class _Text:
    mask: Mask
    text: str
    display: str
    kind: Kind
    layout: Layout
    colour: tuple[int, int, int]


def _u(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _pick(given: float | None, drawn: float) -> float:
    return drawn if given is None else float(given)


def _effects(options: SceneOptions, rng: np.random.Generator) -> tuple[Effects, float, float, float]:
    """Nuisance values (always drawn in the same order) and the shade and motion angles."""
    drawn = [
        _u(rng, -40, 40), _u(rng, 0.75, 1.25), _u(rng, 0, 0.4), _u(rng, 0, 1.2), float(rng.integers(0, 8)),
        _u(rng, -4, 4), _u(rng, 0, 0.025), _u(rng, -20, 20), _u(rng, 0, 6), float(rng.integers(60, 96)),
    ]  # fmt: skip
    shade_angle, motion_angle, dirt = _u(rng, 0, 2 * np.pi), _u(rng, -10, 10), int(rng.integers(0, 13))
    o = options
    chosen = Effects(
        brightness=_pick(o.brightness, drawn[0]),
        contrast=_pick(o.contrast, drawn[1]),
        shade=_pick(o.shade, drawn[2]),
        blur_sigma=_pick(o.blur_sigma, drawn[3]),
        motion_blur_px=int(_pick(o.motion_blur_px, drawn[4])),
        angle_deg=_pick(o.angle_deg, drawn[5]),
        perspective=_pick(o.perspective, drawn[6]),
        shift_px=_pick(o.shift_px, drawn[7]),
        noise_sigma=_pick(o.noise_sigma, drawn[8]),
        dirt=dirt if o.dirt is None else o.dirt,
        jpeg_quality=int(_pick(o.jpeg_quality, drawn[9])),
    )
    return chosen, shade_angle, motion_angle, _u(rng, 0, 1)


def _background(image: Image, rng: np.random.Generator) -> int:
    """Sky, ground, lane marks, buildings, poles and a lane sign; returns the horizon's row."""
    h, w = image.shape[:2]
    horizon = int(h * _u(rng, 0.38, 0.5))
    top = np.array([_u(rng, 170, 230), _u(rng, 160, 210), _u(rng, 140, 190)], np.float32)
    rows = np.linspace(0.0, 1.0, horizon, dtype=np.float32)[:, None]
    image[:horizon] = np.clip(top * (0.85 + 0.25 * rows), 0, 255).astype(np.uint8)[:, None, :]
    image[horizon:] = int(rng.integers(80, 125))
    for _ in range(int(rng.integers(3, 7))):
        x0 = int(rng.integers(0, w))
        bw, bh = int(rng.integers(60, 260)), int(rng.integers(30, max(31, horizon - 10)))
        colour = tuple(int(v) for v in rng.integers(70, 190, 3))
        cv2.rectangle(image, (x0, horizon - bh), (x0 + bw, horizon), colour, -1)
    for _ in range(int(rng.integers(1, 3))):
        x = int(rng.integers(0, w))
        cv2.rectangle(
            image, (x, int(h * 0.05)), (x + int(rng.integers(6, 14)), horizon + 40), (95, 95, 100), -1
        )
    mark = (200, 200, 200) if rng.random() < 0.5 else (40, 200, 230)
    for x in range(int(rng.integers(0, 80)), w, 160):
        cv2.rectangle(image, (x, h - 30), (x + 80, h - 20), mark, -1)
    sign_x, sign_y = int(rng.integers(10, w // 3)), int(h * 0.04)
    cv2.rectangle(image, (sign_x, sign_y), (sign_x + 150, sign_y + 46), (40, 120, 20), -1)
    lane = f"LANE {int(rng.integers(1, 9))}"
    cv2.putText(image, lane, (sign_x + 12, sign_y + 34), drawing.FONT, 0.9, (240, 240, 240), 2, cv2.LINE_AA)
    return horizon


def _container(image: Image, rng: np.random.Generator, layout: Layout, code: str) -> tuple[_Text, Box]:
    """The door end of a container and its painted number; returns the text and the container's box."""
    h, w = image.shape[:2]
    x0, y0 = int(w * _u(rng, 0.37, 0.42)), int(h * _u(rng, 0.05, 0.1))
    x1, y1 = min(int(x0 + w * _u(rng, 0.5, 0.56)), int(w * 0.98)), int(y0 + h * _u(rng, 0.62, 0.68))
    colour = _CONTAINER_COLOURS[int(rng.integers(0, len(_CONTAINER_COLOURS)))]
    dark = tuple(int(c * 0.7) for c in colour)
    cv2.rectangle(image, (x0, y0), (x1, y1), colour, -1)
    step = int(rng.integers(12, 22))
    for x in range(x0 + step // 2, x1, step):
        cv2.line(image, (x, y0 + 10), (x, y1 - 10), dark, 2)
    cv2.rectangle(image, (x0, y0), (x1, y0 + 10), dark, -1)
    cv2.rectangle(image, (x0, y1 - 10), (x1, y1), dark, -1)
    cv2.line(image, ((x0 + x1) // 2, y0), ((x0 + x1) // 2, y1), (20, 20, 20), 3)
    for share in (0.12, 0.3, 0.7, 0.88):
        bx = int(x0 + (x1 - x0) * share)
        cv2.line(image, (bx, y0 + 12), (bx, y1 - 12), (150, 150, 150), 5)
        cv2.rectangle(image, (bx - 4, (y0 + y1) // 2), (bx + 22, (y0 + y1) // 2 + 10), (150, 150, 150), -1)

    luma = 0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2]
    ink = (25, 25, 25) if luma > 140 else (245, 245, 245)
    margin = (x1 - x0) * 0.05
    if layout == "vertical":
        room = (y1 - y0 - 2 * margin) / (1.35 * 11 + 0.4)
        height = min(h * _u(rng, 0.03, 0.04), room)
    else:
        height = h * _u(rng, 0.045, 0.06)
    tw, th = drawing.container_code_size(code, layout, height)
    tx = x1 - margin - tw - _u(rng, 0, (x1 - x0) * 0.08)
    ty = y0 + margin + (0 if layout == "vertical" else _u(rng, 0, (y1 - y0) * 0.1))
    # a clean panel behind the paint, as the bars are not painted over
    pad = height * 0.4
    cv2.rectangle(image, (int(tx - pad), int(ty - pad)), (int(tx + tw + pad), int(ty + th + pad)), colour, -1)
    mask = np.zeros((h, w), np.uint8)
    drawing.container_code(mask, code, layout, x=tx, y=ty, height=height)
    if layout == "horizontal":  # the size and type code under the number (not a truth text)
        size_type = ("22G1", "42G1", "45G1", "22R1", "45R1")[int(rng.integers(0, 5))]
        small = np.zeros((h, w), np.uint8)
        small_h = height * 0.8
        drawing.put(
            small,
            size_type,
            x=tx,
            y=ty + height * 1.8,
            height=small_h,
            thickness=drawing.thickness_for(small_h),
        )
        drawing.blend(image, small, ink)
    display = f"{code[:4]} {code[4:10]} {code[10]}" if layout != "vertical" else "\n".join(code)
    if layout == "stacked":
        display = f"{code[:4]}\n{code[4:10]} {code[10]}"
    return _Text(mask, code, display, "container", layout, ink), (x0, y0, x1, y1)


def _cab(image: Image, rng: np.random.Generator, plate: str) -> tuple[_Text, Box]:
    """A truck cab from the front, its plate on the bumper; returns the plate text and the cab's box."""
    h, w = image.shape[:2]
    x0, y0 = int(w * _u(rng, 0.03, 0.07)), int(h * _u(rng, 0.26, 0.32))
    x1, y1 = int(x0 + w * _u(rng, 0.27, 0.3)), int(h * _u(rng, 0.86, 0.9))
    body = _CAB_COLOURS[int(rng.integers(0, len(_CAB_COLOURS)))]
    for cx in (x0 + (x1 - x0) // 6, x1 - (x1 - x0) // 6):
        cv2.circle(image, (cx, y1), int((x1 - x0) * 0.12), (25, 25, 25), -1)
    cv2.rectangle(image, (x0, y0), (x1, y1 - 10), body, -1)
    glass = (int(rng.integers(60, 110)), int(rng.integers(50, 90)), int(rng.integers(30, 70)))
    cv2.rectangle(image, (x0 + 14, y0 + 14), (x1 - 14, y0 + int((y1 - y0) * 0.38)), glass, -1)
    gy0, gy1 = y0 + int((y1 - y0) * 0.45), y0 + int((y1 - y0) * 0.68)
    cv2.rectangle(image, (x0 + 40, gy0), (x1 - 40, gy1), (45, 45, 45), -1)
    for gy in range(gy0 + 6, gy1, 9):
        cv2.line(image, (x0 + 44, gy), (x1 - 44, gy), (95, 95, 95), 2)
    for hx in (x0 + 8, x1 - 38):
        cv2.rectangle(image, (hx, gy0 + 4), (hx + 30, gy0 + 22), (190, 235, 245), -1)
    by0 = y0 + int((y1 - y0) * 0.74)
    cv2.rectangle(image, (x0 - 4, by0), (x1 + 4, y1 - 10), (70, 70, 75), -1)

    pw = int(w * _u(rng, 0.16, 0.19))
    ph = int(pw * 0.42)
    px, py = (x0 + x1 - pw) // 2 + int(rng.integers(-12, 13)), by0 + max(4, (y1 - 10 - by0 - ph) // 2)
    border = max(2, ph // 14)
    white = tuple(int(v) for v in rng.integers(228, 252, 3))
    cv2.rectangle(image, (px, py), (px + pw, py + ph), white, -1)
    cv2.rectangle(image, (px, py), (px + pw, py + ph), (20, 20, 20), border)
    for sx in (px + pw // 5, px + 4 * pw // 5):
        cv2.circle(image, (sx, py + border + 4), 3, (150, 150, 150), -1)
    thickness = drawing.thickness_for(ph * 0.55)
    natural = drawing.spaced_width(plate, ph * 0.55, thickness, _PLATE_SPACING)
    height = min(ph * 0.55, ph * 0.55 * (pw * 0.86) / natural)
    tw = drawing.spaced_width(plate, height, thickness, _PLATE_SPACING)
    tx, ty = px + (pw - tw) / 2, py + (ph - height) / 2 + border / 2
    mask = np.zeros((h, w), np.uint8)
    drawing.put_spaced(mask, plate, x=tx, y=ty, height=height, thickness=thickness, spacing=_PLATE_SPACING)
    text = plate.replace("-", "")
    return _Text(mask, text, plate, "plate", "horizontal", (20, 20, 20)), (x0, y0, x1, y1)


def _corners(mask: Mask) -> list[tuple[float, float]]:
    box = drawing.mask_box(mask)
    if box is None:
        return []
    x0, y0, x1, y1 = (float(v) for v in box)
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def render_scene(
    seed: int, options: SceneOptions | None = None, *, variant: int = 0, **changes: Any
) -> Scene:
    """Render frame ``variant`` of the truck ``seed``; ``changes`` override fields of ``options``.
    Deterministic for the same arguments."""
    if seed < 0 or variant < 0:
        raise ValueError("seed and variant are non-negative")
    opts = dataclasses.replace(options or SceneOptions(), **changes)
    # one generator per part, so an option that skips a part leaves the others as they were
    texts_rng = np.random.default_rng([seed, 1])
    layout = opts.layout or LAYOUTS[int(texts_rng.integers(0, 3))]
    code = codes.container_code(texts_rng)
    plate = codes.plate_text(texts_rng)
    code, plate = opts.container_code or code, opts.plate or plate
    if len(code) != 11:
        raise ValueError(f"a container code has 11 characters, not {code!r}")
    chosen, shade_angle, motion_angle, _ = _effects(opts, np.random.default_rng([seed, variant, 9]))

    image = np.zeros((opts.height, opts.width, 3), np.uint8)
    _background(image, np.random.default_rng([seed, 2]))
    texts: list[_Text] = []
    dirty: list[Box] = []
    if opts.show_container:
        text, box = _container(image, np.random.default_rng([seed, 3]), layout, code)
        texts.append(text)
        dirty.append(box)
    if opts.show_plate:
        text, box = _cab(image, np.random.default_rng([seed, 4]), plate)
        texts.append(text)
        dirty.append(box)
    if opts.draw_text:
        for text in texts:
            drawing.blend(image, text.mask, text.colour)
    dirt_rng = np.random.default_rng([seed, 5])
    for box in dirty:
        effects.dirt(image, dirt_rng, chosen.dirt, box)

    matrix = effects.homography(
        (opts.width, opts.height),
        np.random.default_rng([seed, variant, 10]),
        angle_deg=chosen.angle_deg,
        perspective=chosen.perspective,
        shift_px=chosen.shift_px,
    )
    identity = bool(np.allclose(matrix, np.eye(3)))
    if not identity:
        image = effects.warp(image, matrix)
    image = effects.light(
        image,
        brightness=chosen.brightness,
        contrast=chosen.contrast,
        shade=chosen.shade,
        shade_angle=shade_angle,
    )
    image = effects.blur(
        image, sigma=chosen.blur_sigma, motion_px=chosen.motion_blur_px, motion_angle_deg=motion_angle
    )
    image = effects.noise(image, np.random.default_rng([seed, variant, 11]), chosen.noise_sigma)
    if chosen.jpeg_quality > 0:
        image = effects.jpeg(image, chosen.jpeg_quality)

    truth = []
    for text in texts:
        mask = text.mask if identity else effects.warp_mask(text.mask, matrix)
        found = drawing.mask_box(mask)
        if found is None:  # warped out of the frame
            continue
        corners = _corners(text.mask)
        quad = corners if identity else effects.warp_points(corners, matrix)
        truth.append(TextTruth(text.text, text.display, text.kind, text.layout, found, tuple(quad)))
    return Scene(image, tuple(truth), seed, variant, chosen)
