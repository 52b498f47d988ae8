"""The ring buffer a grabber thread fills and callers read: the newest frames, their rate, and selection
of frames captured after a call began, waiting at most the caller's time-out."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from lane_controller.vision.cameras.base import Frame, Image


class FrameRing:
    """The last ``size`` frames of one source (thread-safe; one writer, many readers)."""

    def __init__(self, camera_id: str, size: int) -> None:
        if size < 1:
            raise ValueError("a ring buffer holds at least one frame")
        self._camera_id = camera_id
        self._frames: deque[Frame] = deque(maxlen=size)
        self._times: deque[float] = deque(maxlen=32)
        self._cond = threading.Condition()
        self._seq = 0

    def push(self, image: Image, monotonic: float | None = None) -> Frame:
        """Add a captured image, stamped now unless ``monotonic`` is given."""
        now = time.monotonic() if monotonic is None else monotonic
        with self._cond:
            frame = Frame(image, self._camera_id, self._seq, now, datetime.now(UTC))
            self._seq += 1
            self._frames.append(frame)
            self._times.append(now)
            self._cond.notify_all()
        return frame

    def wake(self) -> None:
        """Wake waiting callers (the source stalled or closed) so they re-check their conditions."""
        with self._cond:
            self._cond.notify_all()

    @property
    def count(self) -> int:
        """Frames pushed so far."""
        with self._cond:
            return self._seq

    def newest(self) -> Frame | None:
        """The newest frame, if any."""
        with self._cond:
            return self._frames[-1] if self._frames else None

    def fps(self, now: float, stale_s: float) -> float:
        """Frames per second over the recent frames; 0 when the newest is older than ``stale_s``."""
        with self._cond:
            if len(self._times) < 2 or now - self._times[-1] > stale_s:
                return 0.0
            span = self._times[-1] - self._times[0]
            return (len(self._times) - 1) / span if span > 0 else 0.0

    def stalled_at(self, since: float, stall_s: float) -> float:
        """When the source counts as stalled: ``stall_s`` after its newest frame or ``since`` (when it was
        opened or reconnected), whichever is later."""
        with self._cond:
            newest = self._frames[-1].monotonic if self._frames else since
        return max(newest, since) + stall_s

    def select(
        self, n: int, *, interval_s: float, deadline: float, stalled_at: Callable[[], float]
    ) -> list[Frame]:
        """Up to ``n`` frames, the first captured no earlier than ``interval_s`` before the call, each next
        at least ``interval_s`` after the previous; returns at ``deadline`` (monotonic) or once
        ``stalled_at()`` has passed."""
        start = time.monotonic()
        chosen: list[Frame] = []
        with self._cond:
            while len(chosen) < n:
                pick = self._next(chosen[-1] if chosen else None, start - interval_s, interval_s)
                if pick is not None:
                    chosen.append(pick)
                    continue
                now = time.monotonic()
                wait = min(deadline, stalled_at()) - now
                if wait <= 0:
                    break
                self._cond.wait(wait)
        return chosen

    def _next(self, previous: Frame | None, not_before: float, interval_s: float) -> Frame | None:
        for frame in self._frames:
            if previous is None:
                if frame.monotonic >= not_before:
                    return frame
            elif frame.seq > previous.seq and frame.monotonic >= previous.monotonic + interval_s:
                return frame
        return None
