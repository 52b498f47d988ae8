"""Camera sources behind one structural interface (``CameraSource``): network streams and USB devices read
by a grabber thread into a ring buffer, folder and video replays, their typed configs and a factory."""

from lane_controller.vision.cameras.base import (
    CameraError,
    CameraSource,
    CameraState,
    CameraStatus,
    CameraStatusLike,
    Frame,
    FrameLike,
    Image,
)
from lane_controller.vision.cameras.config import (
    Camera,
    CameraConfig,
    make_camera,
    open_camera,
    parse_camera_config,
)
from lane_controller.vision.cameras.grabber import GrabberCamera
from lane_controller.vision.cameras.replay import FolderConfig, FolderReplay, VideoConfig, VideoFileReplay
from lane_controller.vision.cameras.roi import CameraRegions, RoiBox
from lane_controller.vision.cameras.rtsp import RtspCamera, RtspConfig, redact_url
from lane_controller.vision.cameras.usb import UsbCamera, UsbConfig

__all__ = [
    "Camera",
    "CameraConfig",
    "CameraError",
    "CameraRegions",
    "CameraSource",
    "CameraState",
    "CameraStatus",
    "CameraStatusLike",
    "FolderConfig",
    "FolderReplay",
    "Frame",
    "FrameLike",
    "GrabberCamera",
    "Image",
    "RoiBox",
    "RtspCamera",
    "RtspConfig",
    "UsbCamera",
    "UsbConfig",
    "VideoConfig",
    "VideoFileReplay",
    "make_camera",
    "open_camera",
    "parse_camera_config",
    "redact_url",
]
