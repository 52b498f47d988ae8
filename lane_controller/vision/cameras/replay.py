"""Replay of recorded frames: the images of a folder (sorted by name) or a video file.

Without ``fps`` a replay steps: every frame asked for is the next one of the recording (``latest`` gives
the next frame, ``frames(n)`` the next n), for benches and tests that must see each frame once. With
``fps`` it plays in real time from ``open()`` as a live camera would, frames stamped at their place in the
recording. Without ``loop`` a replay ends (state ``ended``, no more frames).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import cv2
from pydantic import BaseModel, ConfigDict, Field

from lane_controller.vision.cameras.base import CameraError, CameraState, CameraStatus, Frame, Image, as_bgr8

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})


class FolderConfig(BaseModel):
    """``{type="folder", path="recordings/lane1", fps=5, loop=true}`` (``fps`` left out: step mode)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["folder"] = "folder"
    path: Path
    fps: float | None = Field(default=None, gt=0, le=240)
    loop: bool = False


class VideoConfig(BaseModel):
    """``{type="video", path="recordings/lane1.mp4", fps=25, loop=false}`` (``fps`` left out: step mode)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["video"] = "video"
    path: Path
    fps: float | None = Field(default=None, gt=0, le=240)
    loop: bool = False


class _Replay(ABC):
    def __init__(self, camera_id: str, *, fps: float | None, loop: bool) -> None:
        self._camera_id = camera_id
        self._fps = fps
        self._loop = loop
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._closed.set()
        self._state = CameraState.CLOSED
        self._cycle_start = 0.0  # monotonic time of index 0 of the current pass (real-time mode)
        self._seq_base = 0  # frames of the passes before the current one
        self._next_index = 0  # step mode
        self._last: Frame | None = None
        self._count = 0
        self._times: deque[float] = deque(maxlen=32)
        self._last_error: str | None = None

    @property
    def camera_id(self) -> str:
        """The camera's name in the lane layout."""
        return self._camera_id

    @abstractmethod
    def _start(self) -> None:
        """Check the recording and get ready to read index 0; raise CameraError if unusable."""

    @abstractmethod
    def _read(self, index: int) -> Image | None:
        """The image at ``index`` of the recording, None past its end."""

    def _stop(self) -> None:  # noqa: B027 - only some replays hold a resource
        """Release what ``_start`` took."""

    def open(self) -> None:
        """Start the replay from its first frame; raises CameraError when the recording is unusable."""
        with self._lock:
            self._start()
            self._closed.clear()
            self._state = CameraState.STREAMING
            self._cycle_start = time.monotonic()
            self._seq_base = self._next_index = self._count = 0
            self._last = None
            self._last_error = None
            self._times.clear()

    def close(self) -> None:
        """Stop the replay."""
        self._closed.set()
        with self._lock:
            self._stop()
            self._state = CameraState.CLOSED

    def __enter__(self) -> _Replay:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def latest(self, max_age_s: float | None = None) -> Frame | None:
        """Step mode: the next frame. Real time: the frame showing now (None if older than ``max_age_s``,
        which a frame shown for longer than that is)."""
        with self._lock:
            frame = self._step() if self._fps is None else self._current()
        if frame is None or (max_age_s is not None and frame.age(time.monotonic()) > max_age_s):
            return None
        return frame

    def frames(self, n: int, *, interval_s: float = 0.2, timeout_s: float = 2.0) -> list[Frame]:
        """Step mode: the next ``n`` frames (fewer at the end). Real time: frames from now on at least
        ``interval_s`` apart, until ``n`` or ``timeout_s``."""
        if self._fps is None:
            with self._lock:
                out: list[Frame] = []
                while len(out) < n and (frame := self._step()) is not None:
                    out.append(frame)
                return out
        deadline = time.monotonic() + timeout_s
        start = time.monotonic()
        chosen: list[Frame] = []
        while len(chosen) < n and not self._closed.is_set():
            with self._lock:
                frame = self._current()
                wait = self._until_next_frame()
            if frame is None:
                break
            previous = chosen[-1] if chosen else None
            if (previous is None and frame.monotonic >= start - interval_s) or (
                previous is not None
                and frame.seq > previous.seq
                and frame.monotonic >= previous.monotonic + interval_s
            ):
                chosen.append(frame)
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._closed.wait(min(wait, remaining))
        return chosen

    def status(self) -> CameraStatus:
        """A snapshot; a replay never stalls, it ends."""
        with self._lock:
            last = self._last
            fps = 0.0
            if self._fps is not None:
                fps = self._fps if self._state is CameraState.STREAMING else 0.0
            elif len(self._times) >= 2 and self._times[-1] > self._times[0]:
                fps = (len(self._times) - 1) / (self._times[-1] - self._times[0])
            return CameraStatus(
                camera_id=self._camera_id,
                state=self._state,
                connected=self._state is CameraState.STREAMING,
                stalled=False,
                frames=self._count,
                fps=fps,
                last_frame_monotonic=None if last is None else last.monotonic,
                last_frame_wall=None if last is None else last.wall,
                last_error=self._last_error,
            )

    def _deliver(self, image: Image, seq: int, monotonic: float) -> Frame:
        now = time.monotonic()
        wall = datetime.now(UTC) - timedelta(seconds=now - monotonic)
        frame = Frame(image, self._camera_id, seq, monotonic, wall)
        self._last = frame
        self._count += 1
        self._times.append(now)
        return frame

    def _end(self) -> None:
        self._state = CameraState.ENDED

    def _step(self) -> Frame | None:
        if self._state is not CameraState.STREAMING:
            return None
        image = self._read(self._next_index)
        if image is None and self._loop and self._next_index > 0:
            self._seq_base += self._next_index
            self._next_index = 0
            image = self._read(0)
        if image is None:
            self._end()
            return None
        frame = self._deliver(image, self._seq_base + self._next_index, time.monotonic())
        self._next_index += 1
        return frame

    def _index_now(self) -> int:
        assert self._fps is not None
        return int((time.monotonic() - self._cycle_start) * self._fps)

    def _until_next_frame(self) -> float:
        assert self._fps is not None
        return max(0.001, self._cycle_start + (self._index_now() + 1) / self._fps - time.monotonic())

    def _current(self) -> Frame | None:
        assert self._fps is not None
        if self._state is not CameraState.STREAMING:
            return None
        index = self._index_now()
        if self._last is not None and self._last.seq == self._seq_base + index:
            return self._last
        image = self._read(index)
        if image is None and self._loop and index > 0:
            # a new pass starts now: its index 0 is the frame showing
            self._seq_base += index
            self._cycle_start = time.monotonic()
            index = 0
            image = self._read(0)
        if image is None:
            self._end()
            return None
        return self._deliver(image, self._seq_base + index, self._cycle_start + index / self._fps)


class FolderReplay(_Replay):
    """The images of a folder (``IMAGE_SUFFIXES``), in name order, read when shown."""

    def __init__(self, camera_id: str, config: FolderConfig) -> None:
        super().__init__(camera_id, fps=config.fps, loop=config.loop)
        self.config = config
        self._files: list[Path] = []

    def _start(self) -> None:
        folder = self.config.path
        if not folder.is_dir():
            raise CameraError(f"replay folder {folder} does not exist")
        self._files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._files:
            raise CameraError(f"replay folder {folder} holds no images")

    def _read(self, index: int) -> Image | None:
        while index < len(self._files):
            image = cv2.imread(str(self._files[index]), cv2.IMREAD_COLOR)
            if image is not None:
                return as_bgr8(image)
            # an unreadable file is reported and dropped from the replay
            self._last_error = f"unreadable image {self._files[index]}"
            del self._files[index]
        return None


class VideoFileReplay(_Replay):
    """The frames of a video file, decoded in order (a jump back reopens the file)."""

    def __init__(self, camera_id: str, config: VideoConfig) -> None:
        super().__init__(camera_id, fps=config.fps, loop=config.loop)
        self.config = config
        self._capture: cv2.VideoCapture | None = None
        self._position = 0  # index of the frame the next read returns

    def _start(self) -> None:
        if not self.config.path.is_file():
            raise CameraError(f"replay video {self.config.path} does not exist")
        self._rewind()
        if self._capture is None or not self._capture.isOpened():
            raise CameraError(f"cannot decode replay video {self.config.path}")

    def _rewind(self) -> None:
        if self._capture is not None:
            self._capture.release()
        self._capture = cv2.VideoCapture(str(self.config.path), cv2.CAP_FFMPEG)
        self._position = 0

    def _stop(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def _read(self, index: int) -> Image | None:
        if self._capture is None:
            return None
        if index < self._position:
            self._rewind()
        while self._position < index:
            if not self._capture.grab():
                return None
            self._position += 1
        ok, image = self._capture.read()
        if not ok or image is None:
            return None
        self._position += 1
        return as_bgr8(image)
