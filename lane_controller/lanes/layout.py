"""Lane layouts: one file per lane naming its hardware by profile, strict on load.

A layout (``hardware_profiles/lanes/<lane>.toml``) holds the lane's configuration (``[lane]``, the state
machine's :class:`~lane_controller.fsm.config.LaneConfig`), its barrier PLC (``[plc]``: a profile of
``hardware_profiles/plc/`` and where to reach it), its serial readers (``[rfid]``, ``[seal_reader]``:
profiles of ``hardware_profiles/readers/`` and their ports) and its cameras (``[cameras.<id>]``: the
source and the regions of interest where plates and container codes appear). Loading resolves every
profile it names, so a typo in a profile name, an unknown key or a bad value fails at start-up with the
file, the key and the reason, never when the first truck arrives.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lane_controller.config_errors import first_error
from lane_controller.fsm.config import LaneConfig
from lane_controller.plc.profile import (
    PlcConnection,
    PlcProfile,
    PlcProfileError,
    connection_for,
    load_plc_profile,
)
from lane_controller.readers.profile import PROFILE_DIR as READER_PROFILE_DIR
from lane_controller.readers.profile import ProfileError, ReaderProfile, load_profiles
from lane_controller.vision.cameras import CameraConfig, CameraRegions, RoiBox, parse_camera_config

LAYOUT_DIR = Path(__file__).resolve().parents[2] / "hardware_profiles" / "lanes"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlcSection(_Strict):
    """The lane's barrier PLC: a profile name and the transport keys that differ from the profile's."""

    profile: str = Field(min_length=1)
    transport: dict[str, Any] = Field(default_factory=dict)
    """E.g. ``{ host = "10.20.0.11", port = 502 }`` or ``{ device = "/dev/ttyUSB0" }``."""


class ReaderSection(_Strict):
    """A serial reader: a profile name and, when it differs from the profile's, the port."""

    profile: str = Field(min_length=1)
    url: str | None = Field(default=None, min_length=1)


class CameraSection(_Strict):
    """One camera: its source (``type`` rtsp, usb, folder, video, or synthetic for the simulator's scenes)
    and where in its frames plates and container codes appear (none: the whole frame)."""

    source: dict[str, Any]
    regions: tuple[RoiBox, ...] = ()


class LayoutFile(_Strict):
    """The file as written."""

    lane: LaneConfig
    plc: PlcSection
    rfid: ReaderSection | None = None
    seal_reader: ReaderSection | None = None
    cameras: dict[str, CameraSection] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReaderPlan:
    """A reader profile and the port the lane opens it on."""

    profile: ReaderProfile
    url: str


@dataclass(frozen=True, slots=True)
class SyntheticSource:
    """A camera showing the simulator's synthetic gate scenes (integration without cameras)."""

    truck: int | None = 0


@dataclass(frozen=True, slots=True)
class CameraPlan:
    """A camera's validated source and its regions of interest."""

    source: CameraConfig | SyntheticSource
    regions: CameraRegions


@dataclass(frozen=True, slots=True)
class LaneLayout:
    """One lane with every profile it names resolved."""

    path: Path
    config: LaneConfig
    plc_profile: PlcProfile
    plc_connection: PlcConnection
    rfid: ReaderPlan | None
    seal_reader: ReaderPlan | None
    cameras: dict[str, CameraPlan] = field(default_factory=dict)


class LayoutError(ValueError):
    """A layout that cannot be used: names the file, the key and the reason."""

    def __init__(self, path: Path, key: str, reason: str) -> None:
        self.path, self.key, self.reason = path, key, reason
        super().__init__(f"{path}: {key}: {reason}")


def _reader(
    path: Path, key: str, section: ReaderSection | None, profiles: dict[str, ReaderProfile], kind: str
) -> ReaderPlan | None:
    if section is None:
        return None
    profile = profiles.get(section.profile)
    if profile is None:
        known = ", ".join(sorted(p for p, v in profiles.items() if v.kind == kind)) or "none"
        raise LayoutError(path, f"{key}.profile", f"no reader profile {section.profile!r} (known: {known})")
    if profile.kind != kind:
        raise LayoutError(
            path, f"{key}.profile", f"{section.profile!r} is an {profile.kind} reader, not {kind}"
        )
    return ReaderPlan(profile, section.url or profile.port.url)


def _camera(path: Path, name: str, section: CameraSection) -> CameraPlan:
    regions = CameraRegions(camera_id=name, boxes=section.regions)
    data = dict(section.source)
    if data.get("type") == "synthetic":
        unknown = sorted(set(data) - {"type", "truck"})
        if unknown:
            raise LayoutError(path, f"cameras.{name}.source.{unknown[0]}", "unknown key")
        truck = data.get("truck", 0)
        if truck is not None and not isinstance(truck, int):
            raise LayoutError(path, f"cameras.{name}.source.truck", "an integer (the scene's seed)")
        return CameraPlan(SyntheticSource(truck), regions)
    try:
        return CameraPlan(parse_camera_config(data), regions)
    except ValidationError as exc:
        key, reason = first_error(exc, root="type")
        raise LayoutError(path, f"cameras.{name}.source.{key}", reason) from exc


def load_layout(
    path: Path | str,
    *,
    plc_profile_dir: Path | None = None,
    reader_profile_dir: Path = READER_PROFILE_DIR,
) -> LaneLayout:
    """Load a lane layout and the profiles it names; raises :class:`LayoutError` on the first problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise LayoutError(path, "(file)", "no such layout") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise LayoutError(path, "(file)", f"cannot parse: {exc}") from exc
    try:
        layout = LayoutFile.model_validate(data)
    except ValidationError as exc:
        raise LayoutError(path, *first_error(exc)) from exc
    try:
        plc_profile = (
            load_plc_profile(layout.plc.profile, plc_profile_dir)
            if plc_profile_dir is not None
            else load_plc_profile(layout.plc.profile)
        )
        connection = connection_for(plc_profile, layout.plc.transport, source=str(path))
    except PlcProfileError as exc:
        key = "plc.profile" if exc.key == "(file)" else f"plc.{exc.key}"
        where = "" if str(exc.path) == str(path) else f" ({exc.path})"
        raise LayoutError(path, key, exc.reason + where) from exc
    try:
        readers = load_profiles(reader_profile_dir)
    except ProfileError as exc:
        raise LayoutError(path, "(reader profiles)", str(exc)) from exc
    cameras = {name: _camera(path, name, section) for name, section in layout.cameras.items()}
    return LaneLayout(
        cameras=cameras,
        path=path,
        config=layout.lane,
        plc_profile=plc_profile,
        plc_connection=connection,
        rfid=_reader(path, "rfid", layout.rfid, readers, "rfid"),
        seal_reader=_reader(path, "seal_reader", layout.seal_reader, readers, "eseal"),
    )


def load_layouts(directory: Path = LAYOUT_DIR) -> dict[str, LaneLayout]:
    """Every layout in a folder, by lane id (two files for one lane id are an error)."""
    layouts: dict[str, LaneLayout] = {}
    for path in sorted(directory.glob("*.toml")):
        layout = load_layout(path)
        lane_id = layout.config.lane_id
        if lane_id in layouts:
            raise LayoutError(
                path, "lane.lane_id", f"lane {lane_id!r} is also laid out in {layouts[lane_id].path}"
            )
        layouts[lane_id] = layout
    return layouts
