"""The simulated serial readers on their own: world rules, request parsing, fault knobs on a pty."""

from __future__ import annotations

import os
import select
import time
from pathlib import Path

import pytest

from simulator.serial_readers.checks import crc16_mcrf4xx
from simulator.serial_readers.peers import AsciiPeer, BinaryPeer, SimRequest
from simulator.serial_readers.reader import SimulatedReader
from simulator.serial_readers.world import ReaderWorld, Refused, SimSeal

SEAL = "TWSL00012345"


def test_seal_rules_and_append_only_log() -> None:
    world = ReaderWorld()
    world.vehicle_arrives([], [SimSeal(SEAL)])
    with pytest.raises(Refused, match="BAD_STATE"):
        world.do_unlock(SEAL, "CN1", "")
    world.do_lock(SEAL, "CN1")
    with pytest.raises(Refused, match="BAD_STATE"):
        world.do_lock(SEAL, "CN1")
    with pytest.raises(Refused, match="NOT_AUTHORISED"):
        world.do_unlock(SEAL, "CN2", "")
    world.do_unlock(SEAL, "CN1", "")
    world.tamper(SEAL)
    with pytest.raises(Refused, match="TAMPERED"):
        world.do_lock(SEAL, "CN1")
    assert [k for k, _ in world.seals[SEAL].events] == ["SEALED", "OPENED", "TAMPERED"]
    with pytest.raises(Refused, match="UNKNOWN_SEAL"):
        world.do_lock("NOPE0000", "CN1")
    world.vehicle_leaves()
    assert world.seals == {} and world.tags == []


def test_peers_resync_and_ignore_bad_requests() -> None:
    ascii_peer = AsciiPeer()
    line = AsciiPeer.line("CMD,3,LOCK,TWSL00012345,CN9")
    assert ascii_peer.feed(b"junk\r\n$CMD,1,STATUS,X*00\r\n" + line[:7]) == []
    assert ascii_peer.feed(line[7:]) == [SimRequest("LOCK", 3, SEAL, "CN9")]
    binary = BinaryPeer(2)
    frame = binary.frame(0x12, b"\x05\x0cTWSL00012345\x03CN9\x02OK")
    other = BinaryPeer(3).frame(0x10, b"\x01\x02AB")
    assert binary.feed(b"\x00\x09\xff" + other + frame) == [SimRequest("UNLOCK", 5, SEAL, "CN9", "OK")]
    corrupted = binary.corrupt(frame)
    assert corrupted != frame and crc16_mcrf4xx(corrupted[:-2]) == int.from_bytes(frame[-2:], "little")


def _exchange(fd: int, data: bytes, wait_s: float = 0.3) -> bytes:
    os.write(fd, data)
    got, deadline = b"", time.monotonic() + wait_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.02)
        if ready:
            got += os.read(fd, 4096)
    return got


def test_reader_on_a_pty_with_faults(tmp_path: Path) -> None:
    world = ReaderWorld()
    world.vehicle_arrives([], [SimSeal(SEAL, battery_pct=42)])
    sim = SimulatedReader(tmp_path / "ttySIM", "ascii", world)
    sim.start()
    fd = os.open(sim.path, os.O_RDWR | os.O_NOCTTY)
    try:
        request = AsciiPeer.line(f"CMD,1,STATUS,{SEAL}")
        assert _exchange(fd, request) == AsciiPeer.line(f"SEAL,1,STATUS,{SEAL},OPENED,42,-,-")
        sim.faults.duplicate, sim.faults.garbage = True, b"##"
        assert _exchange(fd, request) == (b"##" + AsciiPeer.line(f"SEAL,1,STATUS,{SEAL},OPENED,42,-,-")) * 2
        sim.faults.silent = True
        assert _exchange(fd, request, 0.15) == b""
    finally:
        os.close(fd)
        sim.vanish()
        assert not sim.path.exists()
        sim.come_back()
        assert sim.path.exists()
        sim.stop()
