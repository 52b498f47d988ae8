"""Reader profiles: which framing a reader speaks and how its port is set, strict on load.

Profiles live in ``hardware_profiles/readers/`` as TOML or JSON; an unknown key, a wrong type or
a bad value fails the load with the file, the key and the reason.
"""

from __future__ import annotations

import json
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lane_controller.config_errors import first_error
from lane_controller.readers.transport import PortSettings

PROFILE_DIR = Path(__file__).resolve().parents[2] / "hardware_profiles" / "readers"


class Framing(StrEnum):
    """The two framings of DESIGN §5."""

    ASCII = "ascii"
    BINARY = "binary"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortConfig(_Strict):
    """Serial settings: a device path or a pyserial URL (``socket://host:port``, ``loop://``)."""

    url: str = Field(min_length=1)
    baudrate: int = Field(default=115200, gt=0)
    bytesize: Literal[5, 6, 7, 8] = 8
    parity: Literal["N", "E", "O", "M", "S"] = "N"
    stopbits: float = 1

    @field_validator("stopbits")
    @classmethod
    def _stopbits(cls, value: float) -> float:
        if value not in (1, 1.5, 2):
            raise ValueError("must be 1, 1.5 or 2")
        return value


class Timeouts(_Strict):
    """Time-outs in seconds."""

    request_s: float = Field(default=0.5, gt=0, le=30)
    lock_s: float = Field(default=3.0, gt=0, le=60)
    """Lock and unlock requests: the seal drives its bolt before it answers."""
    read_s: float = Field(default=0.02, gt=0, le=1)
    inter_byte_s: float = Field(default=0.05, gt=0, le=1)
    write_s: float = Field(default=0.5, gt=0, le=5)
    reopen_initial_s: float = Field(default=0.05, gt=0, le=10)
    reopen_max_s: float = Field(default=2.0, gt=0, le=60)


class ReaderProfile(_Strict):
    """One serial reader: RFID tag reader or e-seal reader, its framing, port, address and time-outs."""

    name: str = Field(min_length=1)
    kind: Literal["rfid", "eseal"]
    framing: Framing
    port: PortConfig
    address: int = Field(default=0, ge=0, le=254)
    """Binary framing only: the reader's bus address."""
    timeouts: Timeouts = Timeouts()
    retries: int = Field(default=1, ge=0, le=5)
    """Extra tries of a request that timed out (each with a new sequence number)."""
    echo_window_s: float = Field(default=0.5, ge=0, le=5)
    """Drop a received frame identical to the last sent one within this window (RS-485 echo)."""
    dedup_window_s: float = Field(default=2.0, ge=0, le=600)
    """RFID: report a tag again only after this long without hearing it."""

    def port_settings(self, url: str | None = None) -> PortSettings:
        """Transport settings, optionally with another port URL (tests, simulator ptys)."""
        t = self.timeouts
        return PortSettings(
            url=url or self.port.url,
            baudrate=self.port.baudrate,
            bytesize=self.port.bytesize,
            parity=self.port.parity,
            stopbits=self.port.stopbits,
            read_timeout_s=t.read_s,
            inter_byte_timeout_s=t.inter_byte_s,
            write_timeout_s=t.write_s,
            reopen_initial_s=t.reopen_initial_s,
            reopen_max_s=t.reopen_max_s,
        )


class ProfileError(ValueError):
    """A profile file that cannot be used: names the file, the key and the reason."""

    def __init__(self, path: Path, key: str, reason: str) -> None:
        self.path, self.key, self.reason = path, key, reason
        super().__init__(f"{path}: {key}: {reason}")


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ProfileError(path, "(file)", "no such file") from exc
    except UnicodeDecodeError as exc:
        raise ProfileError(
            path, "(file)", f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
        ) from exc
    except OSError as exc:
        raise ProfileError(path, "(file)", f"cannot read: {exc.strerror or exc}") from exc
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix == ".json":
            return json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ProfileError(path, "(file)", f"cannot parse: {exc}") from exc
    raise ProfileError(path, "(file)", f"unknown profile format {suffix!r} (toml or json)")


def load_profile(path: Path | str) -> ReaderProfile:
    """Load and validate one reader profile; raises ProfileError on the first problem."""
    path = Path(path)
    data = _read(path)
    try:
        return ReaderProfile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(path, *first_error(exc)) from exc


def load_profiles(directory: Path = PROFILE_DIR) -> dict[str, ReaderProfile]:
    """Every profile in a folder, by name (duplicate names are an error)."""
    profiles: dict[str, ReaderProfile] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in (".toml", ".json"):
            continue
        profile = load_profile(path)
        if profile.name in profiles:
            raise ProfileError(path, "name", f"duplicate profile name {profile.name!r}")
        profiles[profile.name] = profile
    return profiles
