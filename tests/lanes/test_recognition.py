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
    boxes: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    """Where a text is read, if not at (1, 2, 11, 12)."""

    def read(self, image: Image, *, camera: str | None = None) -> FrameReads:
        self.seen.append((camera, image.shape))
        reads = tuple(
            Read(self.kind, text, conf, self.boxes.get(text, (1, 2, 11, 12)), valid)
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


def test_a_containers_size_type_code_read_as_a_plate_does_not_vote() -> None:
    """The plate reader takes the size-and-type code beside the container's number for a plate (22G1 as
    22-GI); in frames where that number was read it is set aside and kept as an observation only."""
    cams = cameras()
    containers = ScriptedReader(
        ReadKind.CONTAINER,
        {"rear": [("CSQU3054383", 0.9, True)]},
        boxes={"CSQU3054383": (800, 120, 1120, 170)},
    )
    plates = ScriptedReader(
        ReadKind.PLATE,
        {"rear": [("22GI", 0.8, True), ("KLA1234", 0.6, True)], "side": [("KLA1234", 0.7, True)]},
        boxes={"22GI": (822, 180, 918, 220), "KLA1234": (140, 540, 320, 580)},
    )
    recognizer = LaneRecognizer(cams, [plates, containers], settings=FAST)
    try:
        result = recognizer.recognize("X1", "s1")
    finally:
        for cam in cams.values():
            cam.close()
    # the truck's plate, read beside the code in the rear camera's frames, still votes there
    assert [p.text for p in result.plates] == ["KLA1234"]
    assert (result.plates[0].votes, result.plates[0].agreement) == (4, pytest.approx(1.0))
    rear = [
        (o.text, o.accepted) for o in result.observations if o.camera == "rear" and o.kind.value == "plate"
    ]
    assert rear == [("22GI", False), ("KLA1234", True)] * 2


def test_real_readers_on_a_synthetic_gate_scene_vote_only_the_trucks_plate() -> None:
    """The real OCR readers on the simulator's scene (seed 8): its first frame shows the size-and-type code
    22R1 under the container's number, which the plate reader reads as the plate 22-RI."""
    from lane_controller.vision.containers import ContainerReader
    from lane_controller.vision.engine import OcrEngine, OcrUnavailable
    from lane_controller.vision.plates import PlateReader
    from simulator.cameras import SceneOptions

    try:
        engine = OcrEngine.shared()
    except OcrUnavailable as exc:  # pragma: no cover - depends on the installation
        pytest.skip(f"OCR engine unavailable: {exc}")
    options = SceneOptions(container_code="CSQU3054383", plate="KLA-1234", layout="horizontal")
    camera = SyntheticCamera("gate", truck=8, options=options, fps=100.0)
    camera.open()
    recognizer = LaneRecognizer(
        {"gate": camera}, [PlateReader(engine), ContainerReader(engine)], settings=FAST
    )
    try:
        result = recognizer.recognize("X1", "s1")
    finally:
        camera.close()
    assert [p.text for p in result.plates] == ["KLA1234"]
    assert [c.text for c in result.containers] == ["CSQU3054383"]
    set_aside = [o.text for o in result.observations if o.kind.value == "plate" and not o.accepted]
    assert "22RI" in set_aside
