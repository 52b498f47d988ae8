"""Camera sources: folder and video replays written by the tests, a stream that stalls and one that never
answers its open, served by a local HTTP MJPEG peer that OpenCV's FFMPEG backend reads."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pydantic
import pytest

from lane_controller.vision.cameras import (
    CameraError,
    CameraRegions,
    CameraSource,
    CameraState,
    FolderConfig,
    FolderReplay,
    RoiBox,
    RtspCamera,
    RtspConfig,
    UsbCamera,
    UsbConfig,
    VideoConfig,
    VideoFileReplay,
    make_camera,
    open_camera,
    parse_camera_config,
    redact_url,
)


def _pattern(i: int, shape: tuple[int, int] = (48, 64)) -> np.ndarray:
    """A frame that says its index: grey level 20*i and a white square at column 4*i."""
    image = np.full((*shape, 3), 20 * i, np.uint8)
    image[8:16, 4 * i : 4 * i + 8] = 255
    return image


def _wait_for(predicate: Callable[[], bool], timeout_s: float) -> float:
    """Seconds until ``predicate()`` held; fails the test at the deadline."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout_s:
            pytest.fail(f"condition not met within {timeout_s} s")
        time.sleep(0.01)
    return time.monotonic() - start


# --- replays ---------------------------------------------------------------------------------------


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    for i in range(5):
        cv2.imwrite(str(tmp_path / f"frame_{i:03d}.png"), _pattern(i))
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def test_folder_replay_steps_through_every_image_in_name_order(image_folder: Path) -> None:
    with FolderReplay("cam1", FolderConfig(path=image_folder)) as camera:
        first = camera.latest()
        assert first is not None
        rest = camera.frames(10)
        frames = [first, *rest]
        assert [f.seq for f in frames] == [0, 1, 2, 3, 4]
        for i, frame in enumerate(frames):
            assert np.array_equal(frame.image, _pattern(i))
            assert frame.camera_id == "cam1"
            assert frame.image.dtype == np.uint8
        assert camera.latest() is None
        status = camera.status()
        assert status.state is CameraState.ENDED
        assert status.frames == 5
        assert not status.connected
        assert not status.stalled


def test_folder_replay_loops(image_folder: Path) -> None:
    with FolderReplay("cam1", FolderConfig(path=image_folder, loop=True)) as camera:
        frames = camera.frames(12)
    assert [f.seq for f in frames] == list(range(12))
    for frame in frames:
        assert np.array_equal(frame.image, _pattern(frame.seq % 5))


def test_folder_replay_in_real_time(image_folder: Path) -> None:
    with FolderReplay("cam1", FolderConfig(path=image_folder, fps=50, loop=True)) as camera:
        start = time.monotonic()
        frames = camera.frames(3, interval_s=0.04, timeout_s=2.0)
        assert time.monotonic() - start < 2.0
        latest = camera.latest(max_age_s=0.5)
        status = camera.status()
    assert len(frames) == 3
    for a, b in itertools.pairwise(frames):
        assert b.seq > a.seq
        assert b.monotonic - a.monotonic >= 0.04 - 1e-9
    for frame in frames:
        assert np.array_equal(frame.image, _pattern(frame.seq % 5))
    assert latest is not None
    assert status.fps == 50
    assert status.state is CameraState.STREAMING


def test_replays_refuse_missing_or_empty_recordings(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="does not exist"):
        FolderReplay("c", FolderConfig(path=tmp_path / "nope")).open()
    with pytest.raises(CameraError, match="no images"):
        FolderReplay("c", FolderConfig(path=tmp_path)).open()
    with pytest.raises(CameraError, match="does not exist"):
        VideoFileReplay("c", VideoConfig(path=tmp_path / "nope.avi")).open()
    (tmp_path / "bad.avi").write_bytes(b"not a video")
    with pytest.raises(CameraError, match="cannot decode"):
        VideoFileReplay("c", VideoConfig(path=tmp_path / "bad.avi")).open()


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    path = tmp_path / "lane.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 48))
    assert writer.isOpened()
    for i in range(12):
        writer.write(_pattern(i))
    writer.release()
    return path


def _close_to(image: np.ndarray, expected: np.ndarray) -> bool:
    """Equal up to JPEG loss: a mean difference under 4 levels."""
    diff = np.abs(image.astype(np.int16) - expected.astype(np.int16))
    return bool(diff.mean() < 4.0)


def test_video_replay_gives_every_frame_once(video_file: Path) -> None:
    with VideoFileReplay("cam2", VideoConfig(path=video_file)) as camera:
        frames = camera.frames(100)
        assert camera.latest() is None
        assert camera.status().state is CameraState.ENDED
    assert len(frames) == 12
    assert [f.seq for f in frames] == list(range(12))
    for i, frame in enumerate(frames):
        assert frame.image.shape == (48, 64, 3)
        assert _close_to(frame.image, _pattern(i)), i
        # and not to its neighbour
        assert not _close_to(frame.image, _pattern((i + 1) % 12))


def test_video_replay_loops_and_rewinds(video_file: Path) -> None:
    camera = make_camera("cam2", VideoConfig(path=video_file, loop=True))
    camera.open()
    try:
        frames = camera.frames(15)
    finally:
        camera.close()
    assert [f.seq for f in frames] == list(range(15))
    assert _close_to(frames[12].image, _pattern(0))
    assert _close_to(frames[14].image, _pattern(2))
    assert camera.status().state is CameraState.CLOSED


# --- a local HTTP MJPEG peer -----------------------------------------------------------------------


class MjpegPeer:
    """Serves ``frames_per_connection`` JPEG frames as multipart/x-mixed-replace on every connection, then
    keeps the connection open in silence (a stalled camera); ``answer=False``: accepts and never replies."""

    def __init__(
        self, *, frames_per_connection: int = 5, period_s: float = 0.02, answer: bool = True
    ) -> None:
        self.frames_per_connection = frames_per_connection
        self.period_s = period_s
        self.answer = answer
        self.connections = 0
        self.last_sent: float | None = None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._clients: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._clients.append(client)
            self.connections += 1
            threading.Thread(target=self._serve, args=(client, self.connections), daemon=True).start()

    def _serve(self, client: socket.socket, connection: int) -> None:
        try:
            client.recv(4096)
            if not self.answer:
                self._stop.wait()
                return
            client.sendall(
                b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=frame\r\n\r\n"
            )
            for i in range(self.frames_per_connection):
                ok, jpeg = cv2.imencode(".jpg", _pattern(i % 12))
                assert ok
                data = jpeg.tobytes()
                client.sendall(
                    b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
                    + data
                    + b"\r\n"
                )
                self.last_sent = time.monotonic()
                if self._stop.wait(self.period_s):
                    return
            self._stop.wait()  # silence: the stream stalls with the connection still open
        except OSError:
            return

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for client in self._clients:
            client.close()


@pytest.fixture
def peer_factory() -> Iterator[Callable[..., MjpegPeer]]:
    peers: list[MjpegPeer] = []

    def make(**kwargs: object) -> MjpegPeer:
        peer = MjpegPeer(**kwargs)  # type: ignore[arg-type]
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        peer.close()


def test_stream_that_stalls_is_reported_within_its_time_out(peer_factory: Callable[..., MjpegPeer]) -> None:
    peer = peer_factory(frames_per_connection=6)
    config = RtspConfig(url=peer.url, open_timeout_s=3, read_timeout_s=1.0, stall_s=0.5, buffer=4)
    camera = RtspCamera("gate", config)
    camera.open()
    try:
        frames = camera.frames(3, interval_s=0.0, timeout_s=5.0)
        assert len(frames) == 3
        assert [b.seq - a.seq for a, b in itertools.pairwise(frames)] == [1, 1]
        assert frames[0].image.shape == (48, 64, 3)
        assert camera.status().connected

        # the peer goes silent after its frames: the stall shows after stall_s, before FFMPEG's own read
        # time-out would end the read
        _wait_for(lambda: camera.status().stalled, timeout_s=5.0)
        status = camera.status()
        assert status.last_frame_monotonic is not None
        assert config.stall_s <= time.monotonic() - status.last_frame_monotonic < config.read_timeout_s
        assert status.frames == 6
        assert status.fps == 0.0

        # callers are not held by the stalled stream
        start = time.monotonic()
        assert camera.frames(2, interval_s=0.1, timeout_s=5.0) == []
        assert camera.latest(max_age_s=0.2) is None
        last = camera.latest()
        assert last is not None
        assert last.seq == 5
        assert time.monotonic() - start < 2.5  # not the 5 s that frames() was allowed to wait

        # FFMPEG's read time-out ends the read; the grabber reports it and reconnects after its backoff
        _wait_for(lambda: camera.status().last_error is not None, timeout_s=config.read_timeout_s + 1.0)
        assert "no frame" in (camera.status().last_error or "")
        _wait_for(lambda: camera.status().frames > 6, timeout_s=5.0)
        status = camera.status()
        assert status.reconnects >= 1
        assert peer.connections >= 2
        assert not status.stalled
    finally:
        start = time.monotonic()
        camera.close()
        assert time.monotonic() - start < config.read_timeout_s + 5.0  # close ends the grabber's read
    assert camera.status().state is CameraState.CLOSED
    assert camera.frames(1, timeout_s=1.0) == []


def test_stream_that_never_answers_is_reported_within_its_open_time_out(
    peer_factory: Callable[..., MjpegPeer],
) -> None:
    peer = peer_factory(answer=False)
    config = RtspConfig(url=peer.url, open_timeout_s=1.0, read_timeout_s=1.0, stall_s=0.5)
    camera = RtspCamera("gate", config)
    camera.open()  # returns at once: the grabber thread opens the stream
    try:
        status = camera.status()
        assert status.state is CameraState.CONNECTING
        assert not status.connected
        # a caller waits for frames at most until the source counts as stalled, not its own 30 s
        start = time.monotonic()
        assert camera.frames(1, timeout_s=30.0) == []
        assert time.monotonic() - start < 15.0
        assert camera.status().stalled
        _wait_for(lambda: camera.status().last_error is not None, timeout_s=10.0)
        status = camera.status()
        assert "could not open" in (status.last_error or "")
        assert not status.connected
        assert status.frames == 0
        assert camera.latest() is None
    finally:
        camera.close()


def test_refused_connection_is_reported_quickly() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    camera = RtspCamera(
        "gate", RtspConfig(url=f"http://127.0.0.1:{port}/x.mjpg", open_timeout_s=2, stall_s=1)
    )
    with camera:
        _wait_for(lambda: camera.status().last_error is not None, timeout_s=2.5)
        assert "could not open" in (camera.status().last_error or "")


def test_missing_usb_device_is_reported() -> None:
    camera = UsbCamera("usb", UsbConfig(device="/dev/video-missing-for-tests", stall_s=0.5))
    with camera:
        _wait_for(lambda: camera.status().last_error is not None, timeout_s=3.0)
        assert "could not open device /dev/video-missing-for-tests" in (camera.status().last_error or "")
        assert camera.frames(1, timeout_s=5.0) == []


# --- config, factory, protocol, regions ------------------------------------------------------------


def test_config_is_chosen_by_type_and_strict(image_folder: Path) -> None:
    rtsp = parse_camera_config({"type": "rtsp", "url": "rtsp://u:p@10.0.0.5/stream1", "read_timeout_s": 2})
    assert isinstance(rtsp, RtspConfig)
    assert rtsp.read_timeout_s == 2
    assert isinstance(parse_camera_config({"type": "usb", "device": 1}), UsbConfig)
    assert isinstance(parse_camera_config({"type": "video", "path": "x.mp4", "fps": 25}), VideoConfig)
    with pytest.raises(pydantic.ValidationError):
        parse_camera_config({"type": "rtsp", "url": "rtsp://x", "read_timout_s": 2})
    with pytest.raises(pydantic.ValidationError):
        parse_camera_config({"type": "ftp", "url": "x"})
    with pytest.raises(pydantic.ValidationError):
        parse_camera_config({"type": "rtsp", "url": "rtsp://x", "stall_s": 0})
    assert redact_url(rtsp.url) == "rtsp://***@10.0.0.5/stream1"

    camera = open_camera("cam", {"type": "folder", "path": str(image_folder)})
    try:
        assert isinstance(camera, FolderReplay)
        assert camera.status().state is CameraState.STREAMING
    finally:
        camera.close()


def test_every_source_is_a_camera_source(tmp_path: Path) -> None:
    sources = [
        RtspCamera("a", RtspConfig(url="rtsp://x")),
        UsbCamera("b", UsbConfig()),
        FolderReplay("c", FolderConfig(path=tmp_path)),
        VideoFileReplay("d", VideoConfig(path=tmp_path / "v.avi")),
    ]
    for source in sources:
        assert isinstance(source, CameraSource)
        assert source.status().state is CameraState.CLOSED
        assert source.latest() is None


def test_regions_crop_and_validate() -> None:
    regions = CameraRegions(
        camera_id="rear",
        boxes=(
            RoiBox(kind="plate", x0=10, y0=20, x1=30, y1=25),
            RoiBox(kind="container", x0=0, y0=0, x1=5, y1=5),
        ),
    )
    image = np.zeros((40, 40, 3), np.uint8)
    (plate,) = regions.of_kind("plate")
    assert plate.crop(image).shape == (5, 20, 3)
    assert plate.box == (10, 20, 30, 25)
    with pytest.raises(pydantic.ValidationError):
        RoiBox(kind="plate", x0=10, y0=0, x1=10, y1=5)
    with pytest.raises(pydantic.ValidationError):
        CameraRegions.model_validate({"camera_id": "x", "boxes": [], "zoom": 2})
