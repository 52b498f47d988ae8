"""Reader profiles: the shipped ones load; unknown keys and bad values fail with file, key and reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lane_controller.readers.profile import Framing, ProfileError, load_profile, load_profiles


def test_shipped_profiles_load() -> None:
    profiles = load_profiles()
    assert {"rfid-lane-ascii", "eseal-lane-binary", "eseal-lane-ascii", "rfid-lane-binary"} <= set(profiles)
    binary = profiles["eseal-lane-binary"]
    assert binary.framing is Framing.BINARY and binary.address == 1 and binary.port.parity == "E"
    settings = binary.port_settings("/tmp/x")
    assert settings.url == "/tmp/x" and settings.baudrate == 38400


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = 'name = "r"\nkind = "eseal"\nframing = "binary"\n[port]\nurl = "loop://"\n'


def test_unknown_key_names_file_key_and_reason(tmp_path: Path) -> None:
    path = _write(tmp_path, "typo.toml", GOOD + "[timeouts]\nrequest_ms = 5\n")
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert (
        err.value.path == path
        and err.value.key == "timeouts.request_ms"
        and err.value.reason == "unknown key"
    )
    assert "typo.toml: timeouts.request_ms: unknown key" in str(err.value)


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("address = 300\n", "address"),
        ("retries = -1\n", "retries"),
    ],
)
def test_bad_values_are_rejected(tmp_path: Path, extra: str, key: str) -> None:
    with pytest.raises(ProfileError) as err:
        load_profile(_write(tmp_path, "bad.toml", extra + GOOD))
    assert err.value.key == key


def test_bad_framing_and_stopbits(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="framing"):
        load_profile(_write(tmp_path, "f.toml", GOOD.replace('"binary"', '"hex"')))
    with pytest.raises(ProfileError, match=r"port\.stopbits"):
        load_profile(_write(tmp_path, "s.toml", GOOD + "stopbits = 3\n"))


def test_json_profile_and_no_yaml(tmp_path: Path) -> None:
    data = {"name": "j", "kind": "rfid", "framing": "ascii", "port": {"url": "socket://127.0.0.1:1"}}
    assert load_profile(_write(tmp_path, "j.json", json.dumps(data))).name == "j"
    with pytest.raises(ProfileError, match=r"unknown profile format '\.yaml' \(toml or json\)"):
        load_profile(_write(tmp_path, "y.yaml", "name: y\n"))


def test_unparseable_and_unknown_formats(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot parse"):
        load_profile(_write(tmp_path, "broken.toml", "name = \n"))
    with pytest.raises(ProfileError, match="unknown profile format"):
        load_profile(_write(tmp_path, "p.ini", "x"))


def test_duplicate_names_in_a_folder(tmp_path: Path) -> None:
    _write(tmp_path, "a.toml", GOOD)
    _write(tmp_path, "b.toml", GOOD)
    with pytest.raises(ProfileError, match="duplicate"):
        load_profiles(tmp_path)
