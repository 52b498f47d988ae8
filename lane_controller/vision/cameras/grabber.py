"""Live sources: a grabber thread reads an OpenCV capture into a ring buffer, reopening with capped
backoff after a failure. Callers never wait on the device: they read the buffer under their own time-outs,
and a stall (no frame for ``stall_s``) shows in the status even while the thread is stuck in a read."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod

import cv2

from lane_controller.vision.cameras.base import CameraState, CameraStatus, Frame, as_bgr8
from lane_controller.vision.cameras.ring import FrameRing

_LOG = logging.getLogger(__name__)


class GrabberCamera(ABC):
    """A live camera read by a background thread; subclasses say how to open the capture."""

    def __init__(
        self,
        camera_id: str,
        *,
        stall_s: float,
        buffer: int,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 10.0,
        join_s: float = 2.0,
    ) -> None:
        self._camera_id = camera_id
        self._stall_s = stall_s
        self._ring = FrameRing(camera_id, buffer)
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._join_s = join_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = CameraState.CLOSED
        self._connected = False
        self._since = time.monotonic()
        self._last_error: str | None = None
        self._reconnects = 0

    @property
    def camera_id(self) -> str:
        """The camera's name in the lane layout."""
        return self._camera_id

    @abstractmethod
    def _open_capture(self) -> cv2.VideoCapture:
        """Open the device (may block up to the source's open time-out); the result may be unopened."""

    @abstractmethod
    def _describe(self) -> str:
        """The device for messages (no credentials)."""

    def open(self) -> None:
        """Start the grabber thread (returns at once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._since = time.monotonic()
        self._state = CameraState.CONNECTING
        self._thread = threading.Thread(target=self._run, name=f"camera-{self._camera_id}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the grabber; waits for it at most ``join_s`` (a read stuck in the device is left to time
        out in its daemon thread, which then releases the capture)."""
        self._stop.set()
        self._ring.wake()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(self._join_s)
            if thread.is_alive():
                _LOG.warning("camera %s: grabber still blocked in the device after close", self._camera_id)
        self._state = CameraState.CLOSED
        self._connected = False

    def __enter__(self) -> GrabberCamera:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def latest(self, max_age_s: float | None = None) -> Frame | None:
        """The newest buffered frame, None if there is none or it is older than ``max_age_s``."""
        frame = self._ring.newest()
        if frame is None or (max_age_s is not None and frame.age(time.monotonic()) > max_age_s):
            return None
        return frame

    def frames(self, n: int, *, interval_s: float = 0.2, timeout_s: float = 2.0) -> list[Frame]:
        """Up to ``n`` frames from now on, ``interval_s`` apart; returns at ``timeout_s`` or on a stall."""
        if self._state is CameraState.CLOSED:
            return []
        deadline = time.monotonic() + timeout_s
        return self._ring.select(n, interval_s=interval_s, deadline=deadline, stalled_at=self._stalled_at)

    def status(self) -> CameraStatus:
        """A snapshot: state, stall, capture rate, the last error."""
        now = time.monotonic()
        newest = self._ring.newest()
        state = self._state
        return CameraStatus(
            camera_id=self._camera_id,
            state=state,
            connected=self._connected,
            stalled=state is not CameraState.CLOSED and now >= self._stalled_at(),
            frames=self._ring.count,
            fps=self._ring.fps(now, self._stall_s),
            last_frame_monotonic=None if newest is None else newest.monotonic,
            last_frame_wall=None if newest is None else newest.wall,
            last_error=self._last_error,
            reconnects=self._reconnects,
        )

    def _stalled_at(self) -> float:
        return self._ring.stalled_at(self._since, self._stall_s)

    def _fail(self, message: str) -> None:
        if message != self._last_error:
            _LOG.warning("camera %s: %s", self._camera_id, message)
        self._last_error = message
        self._connected = False

    def _run(self) -> None:
        backoff = self._backoff_initial_s
        while not self._stop.is_set():
            self._state = CameraState.CONNECTING
            started = time.monotonic()
            try:
                capture = self._open_capture()
            except cv2.error as exc:
                capture = None
                self._fail(f"could not open {self._describe()}: {exc}")
            if capture is not None and not capture.isOpened():
                capture.release()
                capture = None
                self._fail(
                    f"could not open {self._describe()} (no stream after {time.monotonic() - started:.1f} s)"
                )
            if capture is not None:
                if self._grab_until_failure(capture):
                    backoff = self._backoff_initial_s
                capture.release()
            if self._stop.is_set():
                break
            self._state = CameraState.BACKOFF
            if self._stop.wait(backoff):
                break
            backoff = min(backoff * 2, self._backoff_max_s)
            self._reconnects += 1
            self._since = time.monotonic()
        self._connected = False

    def _grab_until_failure(self, capture: cv2.VideoCapture) -> bool:
        """Read until the stream fails or the camera closes; True when at least one frame came."""
        got_one = False
        self._connected = True
        self._state = CameraState.STREAMING
        self._since = time.monotonic()
        while not self._stop.is_set():
            error: str | None = None
            try:
                ok, image = capture.read()
            except cv2.error as exc:
                ok, image, error = False, None, f"read error from {self._describe()}: {exc}"
            if not ok or image is None:
                if not self._stop.is_set():
                    self._fail(error or f"no frame from {self._describe()} (read timed out or stream ended)")
                break
            self._ring.push(as_bgr8(image))
            got_one = True
        return got_one
