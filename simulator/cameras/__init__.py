"""Simulated gate cameras: deterministic synthetic scenes (containers with ISO 6346 numbers painted
horizontally, vertically or stacked, truck cabs with plates, nuisances of light, blur, angle and dirt)
with their ground truth, and a camera that streams them. Drawn with OpenCV only."""

from simulator.cameras.camera import SyntheticCamera, SyntheticCameraStatus, SyntheticFrame
from simulator.cameras.codes import container_code, is_valid_container_code, plate_text
from simulator.cameras.scene import LAYOUTS, Effects, Scene, SceneOptions, TextTruth, render_scene

__all__ = [
    "LAYOUTS",
    "Effects",
    "Scene",
    "SceneOptions",
    "SyntheticCamera",
    "SyntheticCameraStatus",
    "SyntheticFrame",
    "TextTruth",
    "container_code",
    "is_valid_container_code",
    "plate_text",
    "render_scene",
]
