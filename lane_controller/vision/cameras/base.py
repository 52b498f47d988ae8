"""What every camera source gives: frames with their capture times, and a status snapshot.

``CameraSource`` is structural and returns read-only views (``FrameLike``, ``CameraStatusLike``), so a peer
that cannot import this package (the simulator's ``SyntheticCamera``) satisfies it with its own types.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
"""A BGR (H, W, 3) 8-bit image, as OpenCV gives it."""


def as_bgr8(image: npt.NDArray[Any]) -> Image:
    """A decoded image as 3-channel 8-bit BGR (grey and BGRA converted; deeper samples scaled down)."""
    if image.dtype != np.uint8:
        top = float(np.iinfo(image.dtype).max) if np.issubdtype(image.dtype, np.integer) else 1.0
        image = cv2.convertScaleAbs(image, alpha=255.0 / top)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.asarray(image, dtype=np.uint8)


class CameraError(RuntimeError):
    """A camera source cannot be used as configured (a replay's folder or file is missing or empty)."""


class CameraState(enum.StrEnum):
    """Where a source stands; ``stalled`` is reported beside it (a connected stream can stall)."""

    CLOSED = "closed"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    BACKOFF = "backoff"
    """Waiting before the next reconnect attempt."""
    ENDED = "ended"
    """A replay that reached its end without looping."""


class FrameLike(Protocol):
    """A read-only view of a frame."""

    @property
    def image(self) -> Image: ...
    @property
    def camera_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def monotonic(self) -> float: ...
    @property
    def wall(self) -> datetime: ...


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One captured image: ``seq`` counts frames of the source from 0 (a replay: the frame's index,
    continued over loops); ``monotonic`` is ``time.monotonic()`` and ``wall`` the UTC time at capture."""

    image: Image
    camera_id: str
    seq: int
    monotonic: float
    wall: datetime

    def age(self, now: float) -> float:
        """Seconds since capture, ``now`` on the monotonic clock."""
        return now - self.monotonic


class CameraStatusLike(Protocol):
    """A read-only view of a status snapshot."""

    @property
    def camera_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def connected(self) -> bool: ...
    @property
    def stalled(self) -> bool: ...
    @property
    def frames(self) -> int: ...
    @property
    def fps(self) -> float: ...
    @property
    def last_frame_monotonic(self) -> float | None: ...
    @property
    def last_frame_wall(self) -> datetime | None: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def reconnects(self) -> int: ...


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """A snapshot of a source (Klipper's ``get_status()`` convention: plain data the web layer reads).

    ``stalled``: open, yet no frame for the source's ``stall_s`` (or none since it was opened);
    ``frames``: frames captured since open; ``fps``: the recent capture rate; ``last_error``: the last
    failure (kept while the source recovers); ``reconnects``: reopen attempts after a failure.
    """

    camera_id: str
    state: CameraState
    connected: bool
    stalled: bool
    frames: int
    fps: float
    last_frame_monotonic: float | None
    last_frame_wall: datetime | None
    last_error: str | None
    reconnects: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (times as ISO 8601)."""
        data = asdict(self)
        data["state"] = str(self.state)
        if self.last_frame_wall is not None:
            data["last_frame_wall"] = self.last_frame_wall.isoformat()
        return data


@runtime_checkable
class CameraSource(Protocol):
    """A camera: ``open`` starts it without blocking on the device; nothing blocks a caller beyond its
    own time-out (a stalled stream shows in ``status()`` and gives no frames)."""

    @property
    def camera_id(self) -> str: ...

    def open(self) -> None:
        """Start capturing (returns at once; failures show in ``status()``)."""
        ...

    def close(self) -> None:
        """Stop capturing and release the device."""
        ...

    def latest(self, max_age_s: float | None = None) -> FrameLike | None:
        """The newest frame, or None when there is none or it is older than ``max_age_s``."""
        ...

    def frames(self, n: int, *, interval_s: float = 0.2, timeout_s: float = 2.0) -> Sequence[FrameLike]:
        """Up to ``n`` frames captured from now on, at least ``interval_s`` apart; fewer (maybe none)
        when ``timeout_s`` runs out or the source is stalled."""
        ...

    def status(self) -> CameraStatusLike:
        """A snapshot of the source."""
        ...
