"""The lane's cameras and OCR readers as its :class:`~lane_controller.fsm.protocols.Recognizer`.

When a truck arrives the runner calls :meth:`LaneRecognizer.recognize` in a worker thread: every camera of
the lane gives several frames (captured at once, a camera at a time being no faster than its frame
interval), each frame goes through the readers for the regions of interest its camera has for them (the
whole frame where it has none), plate reads that are a container's own text in that frame (its
size-and-type code, pieces of its number) are set aside (:mod:`~lane_controller.vision.container_text`),
only reads that pass the plate grammar or the ISO 6346 check digit vote, and the votes become the lane's
voted plates and containers with their agreement and alternatives. Every read is kept as an observation
with its camera, its frame's SHA-256 and its box in the frame.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from lane_controller.fsm.protocols import Observation, Recognition, VotedRead
from lane_controller.fsm.protocols import ReadKind as LaneReadKind
from lane_controller.vision.cameras import CameraRegions, CameraSource, FrameLike
from lane_controller.vision.container_text import without_container_text
from lane_controller.vision.reads import FrameReader, FrameReads, Read, ReadKind, Vote, image_sha256
from lane_controller.vision.voting import vote

_LOG = logging.getLogger(__name__)
_LANE_KINDS = {ReadKind.PLATE: LaneReadKind.PLATE, ReadKind.CONTAINER: LaneReadKind.CONTAINER}


class CamerasUnavailable(RuntimeError):
    """No camera of the lane gave a frame; the message names each camera and why."""


@dataclass(frozen=True, slots=True)
class CaptureSettings:
    """How many frames each camera gives per truck, how far apart, and how long to wait for them."""

    frames: int = 3
    interval_s: float = 0.2
    timeout_s: float = 2.0
    max_plates: int = 2
    """Tractor and trailer."""
    max_containers: int = 2
    """Two 20-foot boxes on one chassis."""


@dataclass(slots=True)
class LaneRecognizer:
    """Cameras, their regions of interest and the readers of one lane."""

    cameras: Mapping[str, CameraSource]
    readers: Sequence[FrameReader]
    regions: Mapping[str, CameraRegions] = field(default_factory=dict)
    settings: CaptureSettings = field(default_factory=CaptureSettings)
    last_frames: list[FrameReads] = field(default_factory=list)
    """The reads of the last truck, frame by frame (for the status page and tests)."""

    def recognize(self, lane_id: str, session_id: str) -> Recognition:
        """Capture, read and vote for one truck (blocking: the runner calls it in a worker thread)."""
        started = time.monotonic()
        captured = self._capture()
        if not any(captured.values()):
            problems = "; ".join(
                f"{cam}: {self.cameras[cam].status().last_error or 'no frame'}" for cam in captured
            )
            raise CamerasUnavailable(f"lane {lane_id}: no camera gave a frame ({problems})")
        frames = [self._read(camera, frame) for camera, got in captured.items() for frame in got]
        self.last_frames = frames
        s = self.settings
        plates = vote(frames, ReadKind.PLATE, max_texts=s.max_plates)
        containers = vote(frames, ReadKind.CONTAINER, max_texts=s.max_containers)
        _LOG.info(
            "lane %s session %s: %d frames read in %.2f s: plates %s, containers %s",
            lane_id,
            session_id,
            len(frames),
            time.monotonic() - started,
            [v.text for v in plates],
            [v.text for v in containers],
        )
        return Recognition(
            plates=tuple(_voted(v) for v in plates),
            containers=tuple(_voted(v) for v in containers),
            observations=tuple(_observation(f, r) for f in frames for r in f.reads),
        )

    def _capture(self) -> dict[str, Sequence[FrameLike]]:
        s = self.settings

        def grab(camera: CameraSource) -> Sequence[FrameLike]:
            try:
                return camera.frames(s.frames, interval_s=s.interval_s, timeout_s=s.timeout_s)
            except Exception:  # a camera that fails is one camera less, not a failed truck
                _LOG.exception("camera %s: capture failed", camera.camera_id)
                return ()

        with ThreadPoolExecutor(max_workers=max(1, len(self.cameras)), thread_name_prefix="capture") as pool:
            futures = {cam: pool.submit(grab, source) for cam, source in self.cameras.items()}
            return {cam: future.result() for cam, future in futures.items()}

    def _read(self, camera: str, frame: FrameLike) -> FrameReads:
        image = frame.image
        sha = image_sha256(image)
        regions = self.regions.get(camera)
        reads: list[Read] = []
        started = time.monotonic()
        for reader in self.readers:
            boxes = regions.of_kind(reader.kind.value) if regions is not None else ()
            if not boxes:
                reads.extend(reader.read(image, camera=camera).reads)
                continue
            for roi in boxes:
                x0, y0 = roi.x0, roi.y0
                for read in reader.read(roi.crop(image), camera=camera).reads:
                    bx0, by0, bx1, by1 = read.box
                    reads.append(replace(read, box=(bx0 + x0, by0 + y0, bx1 + x0, by1 + y0)))
        return FrameReads(sha, camera, without_container_text(reads), time.monotonic() - started)


def _voted(v: Vote) -> VotedRead:
    return VotedRead(
        _LANE_KINDS[v.kind],
        v.text,
        v.agreement,
        votes=v.votes,
        confidence=v.confidence,
        alternatives=v.alternatives,
    )


def _observation(frame: FrameReads, read: Read) -> Observation:
    return Observation(
        _LANE_KINDS[read.kind],
        read.text,
        read.confidence,
        camera=frame.camera,
        image_sha256=frame.image_sha256,
        accepted=read.valid,
        box=read.box,
    )
