"""The transport on pyserial URLs and device paths: loop://, socket://, and reopening with backoff."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from pathlib import Path

import pytest

from lane_controller.readers.errors import ReaderUnavailable
from lane_controller.readers.eseal import SealReader
from lane_controller.readers.transport import PortSettings, SerialTransport
from simulator.serial_readers.peers import AsciiPeer
from simulator.serial_readers.pty_port import PtyPort
from simulator.serial_readers.world import SimSeal
from tests.readers.harness import SEAL, profile, run


def _wait(predicate, limit_s: float = 2.0) -> bool:
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_loop_url_reads_back_what_is_written() -> None:
    got: list[bytes] = []
    idle = threading.Event()
    transport = SerialTransport(PortSettings("loop://", inter_byte_timeout_s=0.03), got.append, idle.set)
    transport.start()
    try:
        assert transport.connected.wait(2.0)
        transport.write(b"hello")
        assert _wait(lambda: b"".join(got) == b"hello")
        assert idle.wait(1.0)
    finally:
        transport.stop()
    with pytest.raises(OSError, match="not open"):
        transport.write(b"x")


def test_reopen_with_backoff_logs_once_and_recovers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "ttyGONE"
    settings = PortSettings(str(path), reopen_initial_s=0.01, reopen_max_s=0.05)
    transport = SerialTransport(settings, lambda _: None, lambda: None)
    caplog.set_level(logging.INFO, logger="lane_controller.readers.transport")
    transport.start()
    port = None
    try:
        time.sleep(0.4)  # several failed opens
        assert not transport.connected.is_set()
        port = PtyPort(path)
        assert transport.connected.wait(1.0)
        port.vanish()
        assert _wait(lambda: not transport.connected.is_set())
        port.restore()
        assert transport.connected.wait(1.0)
    finally:
        transport.stop()
        if port is not None:
            port.close()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("reopening with backoff" in m for m in messages) == 2  # once per outage, not per try
    assert sum("recovered" in m for m in messages) == 2
    assert transport.reconnects == 2


def test_unavailable_port_is_a_typed_error_within_the_timeout(tmp_path: Path) -> None:
    async def body() -> None:
        reader = SealReader.from_profile(profile("ascii"), str(tmp_path / "ttyNONE"))
        await reader.start()
        with pytest.raises(ReaderUnavailable) as err:
            await asyncio.wait_for(reader.status(SEAL), 30.0)
        assert "ttyNONE" in err.value.reason
        assert reader.status_snapshot().timeouts == 0  # refused at once, no request time-out waited out
        await reader.close()

    run(body)


def _ascii_seal_server(server: socket.socket, stop: threading.Event) -> None:
    conn, _ = server.accept()
    conn.settimeout(0.05)
    peer = AsciiPeer()
    with conn:
        while not stop.is_set():
            try:
                data = conn.recv(4096)
            except TimeoutError:
                continue
            if not data:
                return
            for request in peer.feed(data):
                for frame in peer.reply(request, SimSeal(request.seal_id, "SEALED", 50)):
                    conn.sendall(frame)


def test_socket_url(tmp_path: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    thread = threading.Thread(target=_ascii_seal_server, args=(server, stop), daemon=True)
    thread.start()
    url = f"socket://127.0.0.1:{server.getsockname()[1]}"

    async def body() -> None:
        reader = SealReader.from_profile(profile("ascii"), url)
        await reader.start(2.0)
        try:
            assert (await reader.status(SEAL)).battery_pct == 50
        finally:
            await reader.close()

    try:
        run(body)
    finally:
        stop.set()
        thread.join(2.0)
        server.close()
