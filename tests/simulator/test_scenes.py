"""Synthetic gate scenes: deterministic per seed, truth boxes around exactly the painted texts, every
layout, the nuisances, and the simulated camera that streams them."""

from __future__ import annotations

import itertools
import time

import cv2
import numpy as np
import pytest
from stdnum import iso6346

from simulator.cameras import (
    LAYOUTS,
    SceneOptions,
    SyntheticCamera,
    container_code,
    plate_text,
    render_scene,
)

SMALL = {"width": 640, "height": 360}


def _diff_mask(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


def _inside(mask: np.ndarray, boxes: list[tuple[int, int, int, int]], margin: int = 0) -> np.ndarray:
    region = np.zeros_like(mask)
    for x0, y0, x1, y1 in boxes:
        region[max(0, y0 - margin) : y1 + margin, max(0, x0 - margin) : x1 + margin] = True
    return region


def test_same_seed_same_scene_and_another_seed_another() -> None:
    a = render_scene(7, **SMALL)
    b = render_scene(7, **SMALL)
    assert np.array_equal(a.image, b.image)
    assert a.truth == b.truth
    assert a.effects == b.effects
    c = render_scene(8, **SMALL)
    assert not np.array_equal(a.image, c.image)
    assert {t.text for t in a.truth} != {t.text for t in c.truth}


def test_variants_are_frames_of_the_same_truck() -> None:
    first, second = (render_scene(11, variant=v, **SMALL) for v in (0, 1))
    assert [t.text for t in first.truth] == [t.text for t in second.truth]
    assert first.effects != second.effects
    assert not np.array_equal(first.image, second.image)


def test_scene_is_bgr_uint8_of_the_asked_size() -> None:
    scene = render_scene(3, width=800, height=450)
    assert scene.image.shape == (450, 800, 3)
    assert scene.image.dtype == np.uint8


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_renders_a_valid_container_code_and_a_plate(layout: str) -> None:
    scene = render_scene(5, SceneOptions.clean(layout=layout, **SMALL))
    (container,) = scene.of_kind("container")
    (plate,) = scene.of_kind("plate")
    assert container.layout == layout
    assert iso6346.is_valid(container.text)
    assert container.display.replace(" ", "").replace("\n", "") == container.text
    assert plate.text == plate.display.replace("-", "")
    x0, y0, x1, y1 = container.box
    width, height = x1 - x0, y1 - y0
    if layout == "horizontal":
        assert width > 5 * height
    elif layout == "vertical":
        assert height > 5 * width
    else:
        assert 1.2 < width / height < 5
    # the container stands right of the cab, the plate low in the frame
    assert plate.box[2] < container.box[0]
    assert plate.box[1] > scene.image.shape[0] // 2


@pytest.mark.parametrize("layout", LAYOUTS)
def test_truth_boxes_hold_exactly_the_painted_text(layout: str) -> None:
    options = SceneOptions.clean(layout=layout, **SMALL)
    painted = render_scene(21, options)
    bare = render_scene(21, options, draw_text=False)
    assert painted.truth == bare.truth
    diff = _diff_mask(painted.image, bare.image)
    boxes = [t.box for t in painted.truth]
    assert not np.any(diff & ~_inside(diff, boxes))
    for truth in painted.truth:
        x0, y0, x1, y1 = truth.box
        ys, xs = np.nonzero(diff[y0:y1, x0:x1])
        # the box is tight: the painted pixels reach its edges (anti-aliasing may leave one faint row)
        assert xs.min() <= 1
        assert ys.min() <= 1
        assert xs.max() >= x1 - x0 - 2
        assert ys.max() >= y1 - y0 - 2
        assert diff[y0:y1, x0:x1].mean() > 0.1


def test_given_texts_are_painted_and_reported() -> None:
    scene = render_scene(
        2, SceneOptions.clean(layout="horizontal", container_code="CSQU3054383", plate="KLA-1234")
    )
    assert {(t.kind, t.text, t.display) for t in scene.truth} == {
        ("container", "CSQU3054383", "CSQU 305438 3"),
        ("plate", "KLA1234", "KLA-1234"),
    }
    stacked = render_scene(2, SceneOptions.clean(layout="stacked", container_code="CSQU3054383"))
    assert stacked.of_kind("container")[0].display == "CSQU\n305438 3"
    with pytest.raises(ValueError, match="11 characters"):
        render_scene(2, container_code="CSQU305438")
    with pytest.raises(ValueError, match="non-negative"):
        render_scene(-1)


def test_parts_can_be_left_out() -> None:
    assert render_scene(4, show_plate=False, **SMALL).of_kind("plate") == ()
    assert render_scene(4, show_container=False, **SMALL).of_kind("container") == ()
    empty = render_scene(4, show_plate=False, show_container=False, **SMALL)
    assert empty.truth == ()


def test_rotation_and_perspective_move_the_boxes_with_the_text() -> None:
    straight = render_scene(9, SceneOptions.clean(layout="horizontal", **SMALL))
    options = SceneOptions.clean(layout="horizontal", angle_deg=3.0, perspective=0.02, shift_px=12.0, **SMALL)
    turned = render_scene(9, options)
    bare = render_scene(9, options, draw_text=False)
    diff = _diff_mask(turned.image, bare.image)
    boxes = [t.box for t in turned.truth]
    assert not np.any(diff & ~_inside(diff, boxes))
    for before, after in zip(straight.truth, turned.truth, strict=True):
        assert before.text == after.text
        assert before.box != after.box
        # the quad follows the warp: its bounding box holds the text box
        xs = [p[0] for p in after.quad]
        ys = [p[1] for p in after.quad]
        assert min(xs) - 2 <= after.box[0] and after.box[2] <= max(xs) + 2
        assert min(ys) - 2 <= after.box[1] and after.box[3] <= max(ys) + 2
    # a clockwise-positive OpenCV angle lifts the right end of a horizontal line
    (code,) = turned.of_kind("container")
    quad = np.array(code.quad)
    assert quad[1][1] < quad[0][1]


def test_blur_noise_light_and_dirt() -> None:
    base = SceneOptions.clean(layout="horizontal", **SMALL)
    sharp = render_scene(13, base)
    (code,) = sharp.of_kind("container")
    x0, y0, x1, y1 = code.box

    def sharpness(image: np.ndarray) -> float:
        grey = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
        return float(cv2.Laplacian(grey, cv2.CV_64F).var())

    blurred = render_scene(13, base, blur_sigma=2.0)
    moved = render_scene(13, base, motion_blur_px=9)
    assert sharpness(blurred.image) < 0.3 * sharpness(sharp.image)
    assert sharpness(moved.image) < 0.6 * sharpness(sharp.image)
    assert blurred.truth == sharp.truth

    noisy = render_scene(13, base, noise_sigma=8.0)
    residual = noisy.image.astype(np.int16) - sharp.image.astype(np.int16)
    assert 5.0 < residual.std() < 11.0
    assert abs(residual.mean()) < 1.0

    bright = render_scene(13, base, brightness=30.0)
    dark = render_scene(13, base, brightness=-30.0, shade=0.5)
    assert bright.image.mean() > sharp.image.mean() + 20
    assert dark.image.mean() < sharp.image.mean() - 30

    dirty = render_scene(13, base, dirt=12)
    changed = _diff_mask(dirty.image, sharp.image)
    assert changed.any()
    assert dirty.truth == sharp.truth


def test_random_texts_are_valid() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        assert iso6346.is_valid(container_code(rng))
        plate = plate_text(rng)
        assert "-" in plate
        assert 5 <= len(plate.replace("-", "")) <= 7


def test_synthetic_camera_streams_frames_of_the_truck_in_view() -> None:
    from lane_controller.vision.cameras import CameraSource

    camera = SyntheticCamera("rear", truck=3, options=SceneOptions(**SMALL), fps=50.0)
    assert isinstance(camera, CameraSource)
    assert camera.latest() is None
    camera.open()
    try:
        frames = camera.frames(3, interval_s=0.02, timeout_s=2.0)
        assert [f.seq for f in frames] == [0, 1, 2]
        assert all(b.monotonic - a.monotonic >= 0.02 for a, b in itertools.pairwise(frames))
        assert np.array_equal(frames[1].image, render_scene(3, SceneOptions(**SMALL), variant=1).image)
        assert frames[0].truth == render_scene(3, SceneOptions(**SMALL)).truth
        assert camera.latest(max_age_s=1.0) is not None
        assert camera.status().connected

        camera.show(None)
        empty = camera.frames(1, interval_s=0.0)
        assert empty[0].truth == ()
        camera.show(4)
        assert camera.truth() == render_scene(4, SceneOptions(**SMALL), variant=camera.status().frames).truth

        camera.stall()
        start = time.monotonic()
        assert camera.frames(2, timeout_s=60.0) == []
        assert time.monotonic() - start < 30.0  # a stalled camera answers at once, not at its time-out
        status = camera.status()
        assert status.stalled
        assert not status.connected
        assert status.last_error == "simulated stall"
        assert camera.latest(max_age_s=0.0) is None
        camera.stall(False)
        assert camera.latest(max_age_s=1.0) is not None
    finally:
        camera.close()
    assert camera.status().state == "closed"


def test_a_plates_characters_stand_apart_and_its_dash_is_short():
    """Hershey's bold capitals touch when painted as one string; a plate's characters do not, and its dash
    is a short bar (a wide one leaves a gap the plate reader would take for the end of a line)."""
    from simulator.cameras import drawing

    mask = np.zeros((80, 400), np.uint8)
    width, height = drawing.put_spaced(mask, "KLA-1234", x=10, y=20, height=30, thickness=4, spacing=0.12)
    n, _labels, stats, _centres = cv2.connectedComponentsWithStats((mask > 127).astype(np.uint8))
    blobs = sorted(stats[1:].tolist(), key=lambda s: s[0])
    assert n - 1 == 8  # seven characters and the dash
    dash = blobs[3]
    assert dash[2] <= 0.35 * height and dash[3] <= 0.2 * height
    assert 0.7 * height <= blobs[0][3] <= height  # capitals' ink: Hershey leaves room above it
    centre = blobs[0][1] + blobs[0][3] / 2
    assert abs(dash[1] + dash[3] / 2 - centre) <= 0.1 * height  # the dash at mid-height
    assert blobs[-1][0] + blobs[-1][2] <= 10 + width + 2
    assert drawing.spaced_width("KLA-1234", 30, 4, 0.12) == pytest.approx(width, abs=1)
    # painted as one string, the same characters touch
    joined = np.zeros_like(mask)
    drawing.put(joined, "KLA-1234", x=10, y=20, height=30, thickness=4)
    assert cv2.connectedComponents((joined > 127).astype(np.uint8))[0] - 1 < 8


def test_synthetic_camera_gives_every_frame_due_however_slowly_the_host_renders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The number of frames depends on the count, the spacing and the time-out only: a render slower
    than the whole time-out (a loaded host) still gives every frame due, and a time-out shorter than the
    spacing gives only the first."""
    camera = SyntheticCamera("rear", truck=3, options=SceneOptions(**SMALL), fps=100.0)
    render = camera._scene

    def slow_scene() -> object:
        time.sleep(0.3)
        return render()

    monkeypatch.setattr(camera, "_scene", slow_scene)
    camera.open()
    try:
        assert [f.seq for f in camera.frames(3, interval_s=0.01, timeout_s=0.2)] == [0, 1, 2]
        assert [f.seq for f in camera.frames(3, interval_s=0.5, timeout_s=0.2)] == [3]
        assert len(camera.frames(5, interval_s=0.1, timeout_s=0.25)) == 3  # due at 0, 0.1 and 0.2 s
    finally:
        camera.close()
