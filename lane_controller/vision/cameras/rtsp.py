"""Network cameras (RTSP, also HTTP MJPEG) through OpenCV's FFMPEG backend with open and read time-outs."""

from __future__ import annotations

import re
from typing import Literal

import cv2
from pydantic import BaseModel, ConfigDict, Field

from lane_controller.vision.cameras.grabber import GrabberCamera

_CREDENTIALS = re.compile(r"//[^/@]*@")


class RtspConfig(BaseModel):
    """``{type="rtsp", url="rtsp://...", open_timeout_s=5, read_timeout_s=5, stall_s=3, buffer=16}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["rtsp"] = "rtsp"
    url: str = Field(min_length=1)
    open_timeout_s: float = Field(default=5.0, gt=0, le=120)
    read_timeout_s: float = Field(default=5.0, gt=0, le=120)
    stall_s: float = Field(default=3.0, gt=0, le=600)
    buffer: int = Field(default=16, ge=1, le=512)
    backoff_max_s: float = Field(default=10.0, gt=0, le=600)


def redact_url(url: str) -> str:
    """The URL without its user and password (for logs and status)."""
    return _CREDENTIALS.sub("//***@", url)


class RtspCamera(GrabberCamera):
    """A network stream opened with ``cv2.CAP_FFMPEG``; FFMPEG aborts an open or a read that takes
    longer than its time-out, then the grabber reopens with capped backoff."""

    def __init__(self, camera_id: str, config: RtspConfig) -> None:
        super().__init__(
            camera_id,
            stall_s=config.stall_s,
            buffer=config.buffer,
            backoff_max_s=config.backoff_max_s,
            join_s=max(config.open_timeout_s, config.read_timeout_s) + 1.0,
        )
        self.config = config

    def _open_capture(self) -> cv2.VideoCapture:
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            round(self.config.open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            round(self.config.read_timeout_s * 1000),
        ]
        return cv2.VideoCapture(self.config.url, cv2.CAP_FFMPEG, params)

    def _describe(self) -> str:
        return redact_url(self.config.url)
