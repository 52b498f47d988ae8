"""Lane layouts: the shipped ones load; every kind of mistake names the file, the key and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from lane_controller.domain.enums import Direction
from lane_controller.lanes.layout import LAYOUT_DIR, LayoutError, load_layout, load_layouts
from lane_controller.plc.profile import RtuTransport, TcpTransport

GOOD = """
[lane]
lane_id = "X9"
direction = "exit"
site_code = "KHC1"

[plc]
profile = "generic"
transport = { host = "127.0.0.1", port = 1502 }

[rfid]
profile = "rfid-lane-ascii"
url = "socket://127.0.0.1:7000"
"""


def write(tmp_path: Path, text: str, name: str = "lane.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_layouts_resolve_their_profiles() -> None:
    layouts = load_layouts(LAYOUT_DIR)
    assert set(layouts) == {"X1", "E1"}
    exit_lane, entry_lane = layouts["X1"], layouts["E1"]
    assert exit_lane.config.direction is Direction.EXIT
    assert exit_lane.plc_profile.name == "generic"
    assert isinstance(exit_lane.plc_connection.transport, TcpTransport)
    assert exit_lane.plc_connection.transport.host == "10.20.1.11"
    assert entry_lane.plc_profile.name == "came-gard"
    transport = entry_lane.plc_connection.transport
    assert isinstance(transport, RtuTransport)
    assert (transport.baudrate, transport.parity) == (38400, "E")  # from the profile, device from the layout
    assert transport.device.endswith("usb-lane-e1-rs485-if00")
    assert entry_lane.rfid is not None and entry_lane.rfid.profile.framing == "binary"
    assert entry_lane.seal_reader is not None and entry_lane.seal_reader.profile.kind == "eseal"
    assert set(exit_lane.cameras) == {"rear", "front"}
    front = exit_lane.cameras["front"]
    assert front.regions.of_kind("plate")[0].box == (480, 540, 1440, 1080)
    assert getattr(front.source, "type", None) == "rtsp"


def test_a_good_layout_with_overrides(tmp_path: Path) -> None:
    layout = load_layout(write(tmp_path, GOOD))
    assert layout.config.lane_id == "X9"
    assert layout.plc_connection.describe() == "tcp 127.0.0.1:1502"
    assert layout.rfid is not None and layout.rfid.url == "socket://127.0.0.1:7000"
    assert layout.seal_reader is None


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        (('site_code = "KHC1"', 'site_code = "KHC1"\nlane_speed = 3'), "lane.lane_speed", "unknown key"),
        (('direction = "exit"', 'direction = "sideways"'), "lane.direction", "exit"),
        (('profile = "generic"', 'profile = "generik"'), "plc.profile", "no such profile"),
        (("port = 1502", 'port = "x"'), "plc.transport.port", "integer"),
        (("port = 1502", "port = 1502, baud = 9600"), "plc.transport.baud", "unknown key"),
        (('profile = "rfid-lane-ascii"', 'profile = "rfid-lane-asci"'), "rfid.profile", "no reader profile"),
        (('profile = "rfid-lane-ascii"', 'profile = "eseal-lane-binary"'), "rfid.profile", "not rfid"),
        (("[rfid]", "[rfid_reader]"), "rfid_reader", "unknown key"),
        (
            ("[rfid]", '[cameras.cam]\nsource = { type = "rtsp" }\n[rfid]'),
            "cameras.cam.source.rtsp.url",
            "Field required",
        ),
        (("[rfid]", '[cameras.cam]\nsource = { type = "ftp" }\n[rfid]'), "cameras.cam.source.type", "ftp"),
        (
            ("[rfid]", '[cameras.cam]\nsource = { type = "synthetic", trucks = 2 }\n[rfid]'),
            "cameras.cam.source.trucks",
            "unknown key",
        ),
        (
            (
                "[rfid]",
                '[cameras.cam]\nsource = { type = "synthetic" }\n'
                'regions = [{ kind = "plate", x0 = 5, y0 = 0, x1 = 2, y1 = 9 }]\n[rfid]',
            ),
            "cameras.cam.regions.0",
            "x0 < x1",
        ),
    ],
)
def test_mistakes_name_file_key_and_reason(
    tmp_path: Path, change: tuple[str, str], key: str, reason: str
) -> None:
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(LayoutError) as info:
        load_layout(path)
    assert info.value.path == path
    assert info.value.key == key
    assert reason in str(info.value)


def test_missing_file_and_broken_toml(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="no such layout"):
        load_layout(tmp_path / "none.toml")
    with pytest.raises(LayoutError, match="cannot parse"):
        load_layout(write(tmp_path, "[lane\n"))


def test_two_files_for_one_lane(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.toml")
    write(tmp_path, GOOD, "b.toml")
    with pytest.raises(LayoutError, match="also laid out in") as info:
        load_layouts(tmp_path)
    assert info.value.key == "lane.lane_id"


def test_a_mistyped_key_is_named_as_unknown_with_the_key_it_left_missing(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('lane_id = "X9"', 'laneid = "X9"'))
    with pytest.raises(LayoutError) as info:
        load_layout(path)
    assert info.value.key == "lane.laneid"
    assert info.value.reason == "unknown key (did you mean 'lane_id'?); missing: lane.lane_id"


def test_a_reader_profile_that_is_not_utf8_is_a_layout_error(tmp_path: Path) -> None:
    from lane_controller.readers.profile import PROFILE_DIR, ProfileError, load_profile

    readers = tmp_path / "readers"
    readers.mkdir()
    for source in PROFILE_DIR.iterdir():
        (readers / source.name).write_bytes(source.read_bytes())
    (readers / "broken.toml").write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(ProfileError) as info:
        load_profile(readers / "broken.toml")
    assert (info.value.key, info.value.reason) == ("(file)", "not UTF-8 text (byte 0xe9 at offset 11)")
    with pytest.raises(ProfileError, match="no such file"):
        load_profile(readers / "missing.toml")
    with pytest.raises(LayoutError, match=r"broken\.toml: \(file\): not UTF-8 text"):
        load_layout(write(tmp_path, GOOD), reader_profile_dir=readers)
