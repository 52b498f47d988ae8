"""Local cameras (V4L2 and the like) by index or device path, read by the same grabber as network ones."""

from __future__ import annotations

from typing import Literal

import cv2
from pydantic import BaseModel, ConfigDict, Field

from lane_controller.vision.cameras.grabber import GrabberCamera


class UsbConfig(BaseModel):
    """``{type="usb", device=0 or "/dev/video0", width=1920, height=1080, fps=25, stall_s=3, buffer=16}``;
    width, height and fps are requests the driver may round."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["usb"] = "usb"
    device: int | str = 0
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)
    fps: float | None = Field(default=None, gt=0)
    stall_s: float = Field(default=3.0, gt=0, le=600)
    buffer: int = Field(default=16, ge=1, le=512)
    backoff_max_s: float = Field(default=10.0, gt=0, le=600)


class UsbCamera(GrabberCamera):
    """A local capture device; a read stuck in the driver still shows as a stall in the status."""

    def __init__(self, camera_id: str, config: UsbConfig) -> None:
        super().__init__(
            camera_id, stall_s=config.stall_s, buffer=config.buffer, backoff_max_s=config.backoff_max_s
        )
        self.config = config

    def _open_capture(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(self.config.device, cv2.CAP_ANY)
        if capture.isOpened():
            for prop, value in (
                (cv2.CAP_PROP_FRAME_WIDTH, self.config.width),
                (cv2.CAP_PROP_FRAME_HEIGHT, self.config.height),
                (cv2.CAP_PROP_FPS, self.config.fps),
            ):
                if value is not None:
                    capture.set(prop, float(value))
        return capture

    def _describe(self) -> str:
        return f"device {self.config.device}"
