"""What the readers return: reads of one frame, and the per-truck votes over many frames.

Every read keeps the box it was found in and belongs to a frame identified by its image's SHA-256, so the
audit log and the web page can show the evidence behind a decision.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Protocol

from lane_controller.vision.engine import Image

Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 in the frame's pixels."""


class ReadKind(StrEnum):
    """What was read."""

    PLATE = "plate"
    CONTAINER = "container"


RAW_SEPARATOR: Final = " | "
"""Between the views' texts (and later notes) in :attr:`Read.raw`."""


@dataclass(frozen=True, slots=True)
class Read:
    """One plate or container number read in one frame.

    ``text`` is normalised (plates without spaces or dashes, container numbers as 11 compact characters);
    ``valid`` says it passes the plate grammar or the ISO 6346 check digit (only valid reads vote);
    ``raw`` is what the recogniser said before corrections (a reader that reads several views of the text
    joins their texts with `` | ``, the first view first; notes on later checks follow the same way);
    ``alternatives`` are other valid readings of the same text with their confidences, best first.
    """

    kind: ReadKind
    text: str
    confidence: float
    box: Box
    valid: bool
    raw: str = ""
    alternatives: tuple[tuple[str, float], ...] = ()

    @property
    def first_read(self) -> str:
        """The letters and digits the recogniser read in the first view, before any correction."""
        return "".join(c for c in self.raw.split(RAW_SEPARATOR)[0].upper() if c.isascii() and c.isalnum())


@dataclass(frozen=True, slots=True)
class FrameReads:
    """The reads of one frame of one camera."""

    image_sha256: str
    camera: str | None
    reads: tuple[Read, ...]
    elapsed_s: float = 0.0


def image_sha256(image: Image) -> str:
    """SHA-256 of the frame's pixels with its shape (the frame as captured, before any processing)."""
    digest = hashlib.sha256(f"{image.shape}|{image.dtype}|".encode())
    digest.update(memoryview(image.tobytes()))
    return digest.hexdigest()


class FrameReader(Protocol):
    """A plate or container reader: every read it finds in one frame."""

    kind: ReadKind

    def read(self, image: Image, *, camera: str | None = None) -> FrameReads:
        """Read the frame (blocking: call it off the event loop)."""
        ...


@dataclass(frozen=True, slots=True)
class Vote:
    """One voted text over a truck's frames: ``agreement`` is the share of the frames that read this kind
    of text at all which agreed on it (weighted by confidence); ``alternatives`` the texts it beat."""

    kind: ReadKind
    text: str
    agreement: float
    votes: int
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = field(default=())
