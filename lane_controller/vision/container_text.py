"""Plate reads that are a container's own text, found by what the container reader read in the same frame.

A camera that sees a container's doors or side also sees the text around its number, and the plate reader
takes some of it for four- to seven-character plates: the size-and-type code beside the number (``22G1``
read as the plate ``22-GI``) and pieces of the number itself (``QU30``, ``SQU3054`` of ``CSQU3054383``).
They come back in every frame, so they would vote as a second truck plate and could push the trailer's
real plate out of the lane's two. :func:`without_container_text` marks them invalid, keeping them for the
record, where a valid container number was read in the same frame:

- a plate that is part of a container number read there, letters and digits (its text or its first
  view's characters as read), or
- a plate that reads as an ISO 6346 size-and-type code, as corrected or as read (:func:`~lane_controller.
  domain.size_type_code.reads_as_size_type_code`), and lies near that number's box (within ``_NEAR`` times the
  box's smaller side).

A frame without a container number read keeps its plates: an older four-character truck plate can look
like a size-and-type code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from lane_controller.domain.size_type_code import reads_as_size_type_code
from lane_controller.vision.reads import RAW_SEPARATOR, Box, Read, ReadKind

_NEAR: Final = 2.0  # gap between a size-and-type code and its number's box, in the box's smaller sides
_MIN_PIECE: Final = 4  # characters a plate must have to count as a piece of a container number


def without_container_text(reads: Sequence[Read]) -> tuple[Read, ...]:
    """``reads`` of one frame with the valid plate reads that are container text marked invalid (their
    ``raw`` says which container number they belong to); everything else unchanged, in order."""
    numbers = [r for r in reads if r.kind is ReadKind.CONTAINER and r.valid]
    if not numbers:
        return tuple(reads)
    out = []
    for read in reads:
        owner = _container_of(read, numbers) if read.kind is ReadKind.PLATE and read.valid else None
        out.append(
            read
            if owner is None
            else replace(read, valid=False, raw=f"{read.raw}{RAW_SEPARATOR}text of {owner}")
        )
    return tuple(out)


def _container_of(plate: Read, numbers: Sequence[Read]) -> str | None:
    """The container number whose text ``plate`` is, or None."""
    as_read = plate.first_read
    pieces = [p for p in (plate.text, as_read) if len(p) >= _MIN_PIECE and _mixed(p)]
    size_type = reads_as_size_type_code(plate.text) or reads_as_size_type_code(as_read)
    for number in numbers:
        if any(p in number.text for p in pieces):
            return number.text
        if size_type and _near(plate.box, number.box):
            return number.text
    return None


def _mixed(text: str) -> bool:
    """Letters and digits both: a piece of a container number that a plate could share by chance would
    be digits of its serial only; one that spans the owner code and the serial is that container's."""
    return any(c.isalpha() for c in text) and any(c.isdigit() for c in text)


def _near(box: Box, number: Box) -> bool:
    """``box`` lies within ``_NEAR`` times the number box's smaller side of it (a one-line number's text
    height; a stacked number's box is two lines tall, a vertical one's a character wide)."""
    reach = _NEAR * min(number[2] - number[0], number[3] - number[1])
    dx = max(number[0] - box[2], box[0] - number[2], 0)
    dy = max(number[1] - box[3], box[1] - number[3], 0)
    return max(dx, dy) <= reach
