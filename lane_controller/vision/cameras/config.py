"""Camera configuration chosen by its ``type`` field, and the factory that builds the source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from lane_controller.vision.cameras.replay import FolderConfig, FolderReplay, VideoConfig, VideoFileReplay
from lane_controller.vision.cameras.rtsp import RtspCamera, RtspConfig
from lane_controller.vision.cameras.usb import UsbCamera, UsbConfig

CameraConfig = Annotated[RtspConfig | UsbConfig | FolderConfig | VideoConfig, Field(discriminator="type")]
"""One camera's settings; unknown keys and types fail at load."""

Camera = RtspCamera | UsbCamera | FolderReplay | VideoFileReplay

_ADAPTER: TypeAdapter[RtspConfig | UsbConfig | FolderConfig | VideoConfig] = TypeAdapter(CameraConfig)


def parse_camera_config(data: Mapping[str, Any]) -> RtspConfig | UsbConfig | FolderConfig | VideoConfig:
    """Validate one camera's settings (raises pydantic.ValidationError)."""
    return _ADAPTER.validate_python(dict(data))


def make_camera(camera_id: str, config: RtspConfig | UsbConfig | FolderConfig | VideoConfig) -> Camera:
    """The source a config describes, not yet opened."""
    match config:
        case RtspConfig():
            return RtspCamera(camera_id, config)
        case UsbConfig():
            return UsbCamera(camera_id, config)
        case FolderConfig():
            return FolderReplay(camera_id, config)
        case VideoConfig():
            return VideoFileReplay(camera_id, config)


def open_camera(
    camera_id: str, config: RtspConfig | UsbConfig | FolderConfig | VideoConfig | Mapping[str, Any]
) -> Camera:
    """Build and open a source (live sources connect in the background; replays raise CameraError when
    their recording is unusable)."""
    if isinstance(config, Mapping):
        config = parse_camera_config(config)
    camera = make_camera(camera_id, config)
    camera.open()
    return camera
