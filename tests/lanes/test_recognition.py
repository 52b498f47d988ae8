"""The lane recognizer: frames from every camera, readers per region of interest, votes, observations.

The readers here are scripted (the OCR readers have their own tests); the cameras are the simulator's
synthetic cameras, so capture, regions and hashing run for real.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from lane_controller.fsm.protocols import ReadKind as LaneReadKind
from lane_controller.lanes.recognition import CamerasUnavailable, CaptureSettings, LaneRecognizer
from lane_controller.vision.cameras import CameraRegions, RoiBox
from lane_controller.vision.engine import Image
from lane_controller.vision.reads import FrameReads, Read, ReadKind, image_sha256
from simulator.cameras import SyntheticCamera

FAST = CaptureSettings(frames=2, interval_s=0.0, timeout_s=1.0)


@dataclass
class ScriptedReader:
    """Reads ``texts`` (valid) in every image it is given, at box (1, 2, 11, 12) of that image."""

    kind: ReadKind
    texts: dict[str, list[tuple[str, float, bool]]]
    seen: list[tuple[str | None, tuple[int, ...]]] = field(default_factory=list)

    def read(self, image: Image, *, camera: str | None = None) -> FrameReads:
        self.seen.append((camera, image.shape))
        reads = tuple(
            Read(self.kind, text, conf, (1, 2, 11, 12), valid)
            for text, conf, valid in self.texts.get(camera or "", [])
        )
        return FrameReads(image_sha256(image), camera, reads)


def cameras() -> dict[str, SyntheticCamera]:
    cams = {
        name: SyntheticCamera(name, truck=truck, fps=100.0) for truck, name in enumerate(("rear", "side"))
    }
    for cam in cams.values():
        cam.open()
    return cams


def test_votes_across_cameras_and_frames_with_regions_and_evidence() -> None:
    cams = cameras()
    containers = ScriptedReader(
        ReadKind.CONTAINER,
        {
            "rear": [("CSQU3054383", 0.9, True)],
            "side": [("CSQU3054383", 0.8, True), ("CSQU3O54383", 0.3, False)],
        },
    )
    plates = ScriptedReader(ReadKind.PLATE, {"side": [("KLA1234", 0.95, True)]})
    regions = {
        "rear": CameraRegions(
            camera_id="rear", boxes=(RoiBox(kind="container", x0=100, y0=50, x1=400, y1=300),)
        )
    }
    recognizer = LaneRecognizer(cams, [plates, containers], regions, FAST)
    try:
        result = recognizer.recognize("X1", "s1")
    finally:
        for cam in cams.values():
            cam.close()
    (container,) = result.containers
    assert (container.kind, container.text, container.votes) == (LaneReadKind.CONTAINER, "CSQU3054383", 4)
    assert container.agreement == pytest.approx(1.0)
    assert [p.text for p in result.plates] == ["KLA1234"]
    # the rear camera's container reader saw only its region; the side camera's whole frames
    assert {shape for cam, shape in containers.seen if cam == "rear"} == {(250, 300, 3)}
    assert {shape[:2] for cam, shape in containers.seen if cam == "side"} == {(720, 1280)}
    rear = [o for o in result.observations if o.camera == "rear"]
    assert {o.box for o in rear} == {(101, 52, 111, 62)}  # mapped back into the frame
    assert len({o.image_sha256 for o in result.observations}) == 4  # 2 frames x 2 cameras, each its own hash
    invalid = [o for o in result.observations if not o.accepted]
    assert [(o.text, o.camera) for o in invalid] == [("CSQU3O54383", "side")] * 2


def test_a_stalled_camera_is_one_camera_less_and_all_stalled_is_an_error() -> None:
    cams = cameras()
    reader = ScriptedReader(ReadKind.CONTAINER, {"rear": [("CSQU3054383", 0.9, True)]})
    recognizer = LaneRecognizer(cams, [reader], settings=FAST)
    try:
        cams["side"].stall()
        result = recognizer.recognize("X1", "s1")
        assert [c.text for c in result.containers] == ["CSQU3054383"]
        assert {o.camera for o in result.observations} == {"rear"}
        cams["rear"].stall()
        with pytest.raises(CamerasUnavailable, match="no camera gave a frame"):
            recognizer.recognize("X1", "s2")
    finally:
        for cam in cams.values():
            cam.close()
