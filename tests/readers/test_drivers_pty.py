"""The drivers against the simulated readers over real ptys, for both framings and every fault knob:
each test ends in a good read or a typed error, within its time-out."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Literal

import pytest

from lane_controller.readers.errors import ReaderNak, ReaderTimeout, ReaderUnavailable
from lane_controller.readers.messages import NakCode, SealStatus
from simulator.serial_readers.peers import SimRequest
from simulator.serial_readers.world import ReaderWorld, SimSeal
from tests.readers.harness import EPC_A, EPC_B, FRAMINGS, SEAL, run, seal_pair, tag_pair

Framing = Literal["ascii", "binary"]
pytestmark = pytest.mark.parametrize("framing", FRAMINGS)


def test_status_lock_unlock_and_event_log(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (_, reader):
            first = await reader.status(SEAL)
            assert first.status is SealStatus.OPENED and first.battery_pct == 90
            locked = await reader.lock(SEAL, "CN2026000123")
            assert locked.status is SealStatus.SEALED and locked.sealed_at is not None
            with pytest.raises(ReaderNak) as wrong:
                await reader.unlock(SEAL, "CN-OTHER")
            assert wrong.value.code is NakCode.NOT_AUTHORISED
            assert SEAL in str(wrong.value) and "UNLOCK" in str(wrong.value)
            opened = await reader.unlock(SEAL, "CN2026000123")
            assert opened.status is SealStatus.OPENED and opened.opened_at is not None
            assert [e.kind for e in await reader.event_log(SEAL)] == ["SEALED", "OPENED"]
            with pytest.raises(ReaderNak) as unknown:
                await reader.status("TWSL99999999")
            assert unknown.value.code is NakCode.UNKNOWN_SEAL and unknown.value.seal_id == "TWSL99999999"
            assert reader.status_snapshot().naks == 2

    run(body)


def test_offline_unseal_needs_the_authorisation_token(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (sim, reader):
            sim.world.unseal_tokens[SEAL] = "T0K3N"
            await reader.lock(SEAL, "CN1")
            with pytest.raises(ReaderNak, match="NOT_AUTHORISED"):
                await reader.unlock(SEAL, "CN1")
            assert (await reader.unlock(SEAL, "CN1", token="T0K3N")).status is SealStatus.OPENED

    run(body)


def test_silence_times_out_then_recovers(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (sim, reader):
            sim.faults.silent = True
            started = time.monotonic()
            with pytest.raises(ReaderTimeout) as err:
                await reader.status(SEAL)
            assert time.monotonic() - started >= 0.55  # 2 tries x 0.3 s, each waited out
            assert err.value.request == "STATUS" and err.value.seal_id == SEAL
            sim.faults.silent = False
            assert (await reader.status(SEAL)).seal_id == SEAL
            snap = reader.status_snapshot()
            assert snap.timeouts == 2 and snap.retries == 1

    run(body)


def test_garbage_between_frames_is_skipped(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (sim, reader):
            sim.faults.garbage = b"\x00\xffjunk$$\x07\r\n"
            for _ in range(3):
                assert (await reader.status(SEAL)).status is SealStatus.OPENED
            snap = reader.status_snapshot()
            assert snap.garbage_bytes > 0 and snap.timeouts == 0

    run(body)


def test_bad_checksum_is_dropped_and_retried(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (sim, reader):
            sim.faults.corrupt_next = 1
            assert (await reader.status(SEAL)).seal_id == SEAL
            snap = reader.status_snapshot()
            assert snap.drops.get("bad_checksum") == 1 and snap.retries == 1

    run(body)


def test_bad_checksum_without_retries_is_a_timeout(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing, retries=0) as (sim, reader):
            sim.faults.corrupt_next = 1
            with pytest.raises(ReaderTimeout):
                await reader.lock(SEAL, "CN1")

    run(body)


def test_split_frames_are_reassembled(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (sim, reader):
            sim.faults.split = True
            assert (await reader.lock(SEAL, "CN1")).status is SealStatus.SEALED
            assert len(await reader.event_log(SEAL)) == 1
            assert reader.status_snapshot().timeouts == 0

    run(body)


def test_duplicated_replies_are_ignored(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (sim, reader):
            sim.faults.duplicate = True
            await reader.lock(SEAL, "CN1")
            assert (await reader.status(SEAL)).status is SealStatus.SEALED
            await asyncio.sleep(0.05)
            snap = reader.status_snapshot()
            assert snap.unmatched == 2 and snap.timeouts == 0
            assert len(sim.requests) == 2  # the lock was not sent twice

    run(body)


def test_late_reply_is_a_timeout_and_then_ignored(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing, retries=0) as (sim, reader):
            sim.faults.reply_delay_s = 0.45
            with pytest.raises(ReaderTimeout):
                await reader.status(SEAL)
            sim.faults.reply_delay_s = 0.0
            await asyncio.sleep(0.3)
            assert (await reader.status(SEAL)).seal_id == SEAL
            assert reader.status_snapshot().unmatched == 1

    run(body)


def test_tampered_seal(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (sim, reader):
            sim.world.tamper(SEAL)
            assert (await reader.status(SEAL)).status is SealStatus.TAMPERED
            with pytest.raises(ReaderNak) as err:
                await reader.lock(SEAL, "CN1")
            assert err.value.code is NakCode.TAMPERED and err.value.request == "LOCK"
            assert [e.kind for e in await reader.event_log(SEAL)] == ["TAMPERED"]

    run(body)


def test_flat_battery_refuses_to_lock(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (sim, reader):
            sim.world.flatten_battery(SEAL)
            assert (await reader.status(SEAL)).battery_pct == 0
            with pytest.raises(ReaderNak) as err:
                await reader.lock(SEAL, "CN1")
            assert err.value.code is NakCode.BATTERY_LOW
            assert [e.kind for e in await reader.event_log(SEAL)] == ["BATTERY_LOW", "LOCK_REFUSED"]

    run(body)


def test_port_vanishes_and_comes_back(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (sim, reader):
            assert (await reader.status(SEAL)).seal_id == SEAL
            sim.vanish()
            with pytest.raises((ReaderUnavailable, ReaderTimeout)):
                await asyncio.wait_for(reader.status(SEAL), 30.0)  # a typed error, not a hang
            await asyncio.sleep(0.1)
            assert not reader.status_snapshot().connected
            sim.come_back()
            assert (await reader.status(SEAL)).seal_id == SEAL
            snap = reader.status_snapshot()
            assert snap.connected and snap.reconnects == 1 and snap.last_error

    run(body)


def test_rs485_echo_is_dropped(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (sim, reader):
            sim.faults.echo = True
            for _ in range(3):
                assert (await reader.status(SEAL)).seal_id == SEAL
            snap = reader.status_snapshot()
            assert snap.drops.get("echo") == 3 and snap.timeouts == 0

    run(body)


def test_inventory_and_deduplicated_reports(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with tag_pair(tmp_path, framing, dedup_window_s=0.3) as (sim, reader):
            sim.announce_tags()
            sim.announce_tags()
            heard = [await reader.next_report(1.0), await reader.next_report(1.0)]
            assert {t.epc for t in heard if t} == {EPC_A, EPC_B}
            assert await reader.next_report(0.15) is None  # the second round is inside the window
            await asyncio.sleep(0.35)
            sim.announce_tags([sim.world.tags[0]])
            again = await reader.next_report(1.0)
            assert again is not None and again.epc == EPC_A and again.rssi == -50
            tags = await reader.read_tags()
            assert [(t.epc, t.antenna, t.rssi) for t in tags] == [(EPC_A, 1, -50), (EPC_B, 2, -70)]

    run(body)


def test_inventory_with_a_corrupt_frame_is_asked_again(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with tag_pair(tmp_path, framing) as (sim, reader):
            sim.faults.corrupt_next = 1
            assert len(await reader.read_tags()) == 2
            sim.world.vehicle_leaves()
            assert await reader.read_tags() == []

    run(body)


def test_seal_inventory(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (sim, reader):
            sim.world.vehicle_arrives([], [SimSeal("TWSL00054321", "SEALED", 12)])
            seen = await reader.inventory()
            assert sorted((s.seal_id, s.status, s.battery_pct) for s in seen) == [
                (SEAL, SealStatus.OPENED, 90),
                ("TWSL00054321", SealStatus.SEALED, 12),
            ]
            sim.world.vehicle_leaves()
            assert await reader.inventory() == []

    run(body)


def test_realistic_lock_delay_uses_the_lock_timeout(tmp_path: Path, framing: Framing) -> None:
    async def body() -> None:
        world = ReaderWorld()  # default delays: lock 0.4 s, longer than request_s
        world.vehicle_arrives([], [SimSeal(SEAL)])
        timeouts = {"request_s": 0.2, "lock_s": 1.5, "inter_byte_s": 0.03}
        async with seal_pair(tmp_path, framing, world, timeouts=timeouts) as (_, reader):
            started = time.monotonic()
            assert (await reader.lock(SEAL, "CN1")).status is SealStatus.SEALED
            assert time.monotonic() - started > 0.35  # the seal's 0.4 s lock delay was waited for
            assert reader.status_snapshot().timeouts == 0  # within lock_s, not request_s

    run(body)


def test_stale_reply_of_another_request_on_the_same_seq_is_ignored(
    tmp_path: Path, framing: Framing, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lane_controller.readers.link")

    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (sim, reader):
            link = reader.link
            link._seq = 0  # the next request gets seq 1
            stale = sim.peer.reply(SimRequest("EVENTS", 1, SEAL), sim.world.seals[SEAL])
            sim.faults.reply_delay_s = 0.05
            for (
                frame
            ) in stale:  # arrives before the real reply, carrying seq 1 but answering an event-log request
                sim._schedule(0.015, frame)
            assert (await reader.status(SEAL)).seal_id == SEAL
            assert reader.status_snapshot().unmatched == 1

    run(body)
    assert any("EVENTS reply on seq 1 of a STATUS ignored" in r.getMessage() for r in caplog.records)
