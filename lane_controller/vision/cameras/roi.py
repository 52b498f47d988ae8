"""Regions of interest: where plates and container codes appear in a camera's frames."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lane_controller.vision.cameras.base import Image


class RoiBox(BaseModel):
    """A box in the frame's pixels, ``x0 < x1``, ``y0 < y1``; ``kind`` says what is read in it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["plate", "container"]
    x0: int = Field(ge=0)
    y0: int = Field(ge=0)
    x1: int = Field(gt=0)
    y1: int = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> RoiBox:
        if self.x1 <= self.x0 or self.y1 <= self.y0:
            raise ValueError("an ROI box needs x0 < x1 and y0 < y1")
        return self

    @property
    def box(self) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)``."""
        return (self.x0, self.y0, self.x1, self.y1)

    def crop(self, image: Image) -> Image:
        """The part of ``image`` inside the box (a view; clipped to the image)."""
        return image[self.y0 : self.y1, self.x0 : self.x1]


class CameraRegions(BaseModel):
    """A camera of a lane and its ROI boxes; no boxes means the whole frame."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera_id: str = Field(min_length=1)
    boxes: tuple[RoiBox, ...] = ()

    def of_kind(self, kind: Literal["plate", "container"]) -> tuple[RoiBox, ...]:
        """The boxes for plates or for container codes."""
        return tuple(b for b in self.boxes if b.kind == kind)
