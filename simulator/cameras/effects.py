"""Nuisances of a gate camera: dirt on the container, a small rotation and perspective, light, blur,
noise and JPEG loss. Each is a pure function of its inputs (random draws come from the caller's rng)."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from simulator.cameras.drawing import Image, Mask

Homography = npt.NDArray[np.float64]


def dirt(image: Image, rng: np.random.Generator, count: int, region: tuple[int, int, int, int]) -> None:
    """Paint ``count`` translucent brown-grey blotches inside ``region`` (x0, y0, x1, y1), in place."""
    x0, y0, x1, y1 = region
    for _ in range(count):
        layer = image.copy()
        centre = (int(rng.integers(x0, max(x0 + 1, x1))), int(rng.integers(y0, max(y0 + 1, y1))))
        axes = (int(rng.integers(4, 28)), int(rng.integers(3, 18)))
        colour = tuple(int(v) for v in rng.integers(30, 90, 3) * np.array([0.7, 0.85, 1.0]))
        cv2.ellipse(layer, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
        alpha = float(rng.uniform(0.3, 0.75))
        cv2.addWeighted(layer, alpha, image, 1 - alpha, 0, dst=image)


def homography(
    size: tuple[int, int], rng: np.random.Generator, *, angle_deg: float, perspective: float, shift_px: float
) -> Homography:
    """Rotation by ``angle_deg`` about the centre, corners moved by up to ``perspective`` of the size, and a
    horizontal shift (the truck moving between frames)."""
    w, h = size
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    moved = cv2.transform(corners[None], rotation)[0]
    moved += rng.uniform(-perspective, perspective, (4, 2)).astype(np.float32) * np.array([w, h], np.float32)
    moved[:, 0] += shift_px
    return np.asarray(cv2.getPerspectiveTransform(corners, moved.astype(np.float32)), np.float64)


def warp(image: Image, matrix: Homography) -> Image:
    """The image seen through ``matrix`` (edges replicated)."""
    h, w = image.shape[:2]
    out = cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(out, np.uint8)


def warp_mask(mask: Mask, matrix: Homography) -> Mask:
    """A text mask seen through ``matrix`` (outside stays empty)."""
    h, w = mask.shape[:2]
    out = cv2.warpPerspective(mask, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    return np.asarray(out, np.uint8)


def warp_points(points: list[tuple[float, float]], matrix: Homography) -> list[tuple[float, float]]:
    """Points moved by ``matrix``."""
    moved = cv2.perspectiveTransform(np.array([points], np.float64), matrix)[0]
    return [(float(x), float(y)) for x, y in moved]


def light(image: Image, *, brightness: float, contrast: float, shade: float, shade_angle: float) -> Image:
    """Gain and offset around mid-grey, then a linear shade across the frame (``shade`` 0-1 darkening one
    side, as the sun or a canopy does)."""
    h, w = image.shape[:2]
    out = (image.astype(np.float32) - 128.0) * contrast + 128.0 + brightness
    if shade > 0:
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        direction = (xs / w - 0.5) * np.cos(shade_angle) + (ys / h - 0.5) * np.sin(shade_angle)
        out *= (1.0 - shade * (direction + 0.5).clip(0, 1))[..., None]
    return np.asarray(np.clip(out + 0.5, 0, 255), np.uint8)


def blur(image: Image, *, sigma: float, motion_px: int, motion_angle_deg: float) -> Image:
    """Defocus (gaussian ``sigma``) and motion blur along ``motion_angle_deg`` over ``motion_px`` pixels."""
    out = image
    if sigma > 0:
        out = np.asarray(cv2.GaussianBlur(out, (0, 0), sigma), np.uint8)
    if motion_px > 1:
        kernel = np.zeros((motion_px, motion_px), np.float32)
        kernel[motion_px // 2, :] = 1.0
        rotation = cv2.getRotationMatrix2D(((motion_px - 1) / 2, (motion_px - 1) / 2), motion_angle_deg, 1.0)
        kernel = np.asarray(cv2.warpAffine(kernel, rotation, (motion_px, motion_px)), np.float32)
        kernel /= max(float(kernel.sum()), 1e-6)
        out = np.asarray(cv2.filter2D(out, -1, kernel), np.uint8)
    return out


def noise(image: Image, rng: np.random.Generator, sigma: float) -> Image:
    """Gaussian sensor noise."""
    if sigma <= 0:
        return image
    noisy = image.astype(np.float32) + rng.normal(0.0, sigma, image.shape).astype(np.float32)
    return np.asarray(np.clip(noisy + 0.5, 0, 255), np.uint8)


def jpeg(image: Image, quality: int) -> Image:
    """The image after JPEG compression at ``quality``."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - encoding an 8-bit BGR image does not fail
        return image
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), np.uint8)
