"""A simulated gate camera: the frames of ``render_scene`` through the same methods as the controller's
camera sources (structurally: this package does not import the controller's vision code), with a stall
fault knob. Frame ``k`` of the truck in view is ``render_scene(truck, options, variant=k)``."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from simulator.cameras.drawing import Image
from simulator.cameras.scene import Scene, SceneOptions, TextTruth, render_scene


@dataclass(frozen=True, slots=True, eq=False)
class SyntheticFrame:
    """A rendered frame and the texts in it."""

    image: Image
    camera_id: str
    seq: int
    monotonic: float
    wall: datetime
    truth: tuple[TextTruth, ...]


@dataclass(frozen=True, slots=True)
class SyntheticCameraStatus:
    """A status snapshot with the fields of the controller's camera status."""

    camera_id: str
    state: str
    connected: bool
    stalled: bool
    frames: int
    fps: float
    last_frame_monotonic: float | None
    last_frame_wall: datetime | None
    last_error: str | None
    reconnects: int = 0


class SyntheticCamera:
    """Renders the truck in view on demand: ``latest()`` gives a new frame at most every ``1/fps`` s;
    ``frames()`` renders frames ``interval_s`` apart in real time, as many as fall due in its time-out.
    ``show(seed)`` puts a truck in view (None: the lane is empty); ``stall()`` freezes the stream as a
    dead camera does."""

    def __init__(
        self, camera_id: str, *, truck: int | None = 0, options: SceneOptions | None = None, fps: float = 10.0
    ) -> None:
        self._camera_id = camera_id
        self._options = options or SceneOptions()
        self._fps = fps
        self._truck = truck
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._closed.set()
        self._stalled = False
        self._seq = 0
        self._last: SyntheticFrame | None = None

    @property
    def camera_id(self) -> str:
        """The camera's name."""
        return self._camera_id

    def show(self, truck: int | None) -> None:
        """Put truck ``truck`` (a scene seed) in view, or empty the lane."""
        with self._lock:
            self._truck = truck
            self._last = None

    def truth(self) -> tuple[TextTruth, ...]:
        """The texts of the truck in view as the next frame shows them."""
        with self._lock:
            return self._scene().truth

    def stall(self, stalled: bool = True) -> None:
        """Fault knob: a stalled camera gives no new frames and reports it."""
        self._stalled = stalled

    def open(self) -> None:
        """Start the camera."""
        self._closed.clear()

    def close(self) -> None:
        """Stop the camera."""
        self._closed.set()

    def latest(self, max_age_s: float | None = None) -> SyntheticFrame | None:
        """The current frame (a new one once the previous is ``1/fps`` old)."""
        if self._closed.is_set():
            return None
        now = time.monotonic()
        with self._lock:
            last = self._last
            if not self._stalled and (last is None or now - last.monotonic >= 1.0 / self._fps):
                last = self._capture()
        if last is None or (max_age_s is not None and now - last.monotonic > max_age_s):
            return None
        return last

    def frames(self, n: int, *, interval_s: float = 0.2, timeout_s: float = 2.0) -> list[SyntheticFrame]:
        """``n`` new frames ``interval_s`` apart (none from a stalled camera), as many as fall due within
        ``timeout_s``. Frames are rendered on demand and rendering is not counted against ``timeout_s``:
        a real camera delivers at its frame rate however busy the host is, so the count depends only on
        ``n``, the spacing and the time-out, never on how fast this machine renders."""
        spacing = max(interval_s, 1.0 / self._fps)
        due = n if spacing <= 0 else min(n, 1 + int(timeout_s / spacing + 1e-9))
        out: list[SyntheticFrame] = []
        while len(out) < due and not self._closed.is_set() and not self._stalled:
            if out:
                wait = out[-1].monotonic + spacing - time.monotonic()
                if wait > 0 and self._closed.wait(wait):
                    break
            with self._lock:
                out.append(self._capture())
        return out

    def status(self) -> SyntheticCameraStatus:
        """A snapshot."""
        last = self._last
        closed = self._closed.is_set()
        return SyntheticCameraStatus(
            camera_id=self._camera_id,
            state="closed" if closed else "streaming",
            connected=not closed and not self._stalled,
            stalled=not closed and self._stalled,
            frames=self._seq,
            fps=0.0 if closed or self._stalled else self._fps,
            last_frame_monotonic=None if last is None else last.monotonic,
            last_frame_wall=None if last is None else last.wall,
            last_error="simulated stall" if self._stalled else None,
        )

    def _scene(self) -> Scene:
        if self._truck is None:
            return render_scene(0, self._options, variant=self._seq, show_container=False, show_plate=False)
        return render_scene(self._truck, self._options, variant=self._seq)

    def _capture(self) -> SyntheticFrame:
        scene = self._scene()
        frame = SyntheticFrame(
            scene.image, self._camera_id, self._seq, time.monotonic(), datetime.now(UTC), scene.truth
        )
        self._seq += 1
        self._last = frame
        return frame
