"""Serial readers: frames decoded per second, and request-to-reply latency over a real pty.

    .venv/bin/python bench/bench_readers.py [--frames 100000] [--requests 2000]

1. **Decode**: a byte stream of seal-status replies and tag reports (both framings) fed in 4 KiB reads,
   through the frame decoder alone and through the whole stack (decoder + message parser).
2. **Request-reply**: the e-seal driver asks a simulated reader on a pty for a seal's status, one request
   at a time; latency from the call to the parsed reply.

Targets (issue 5): >= 20,000 frames/s decoded; p99 request-reply <= 10 ms on loopback ptys.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from lane_controller.readers.eseal import SealReader
from lane_controller.readers.framing_ascii import AsciiDecoder
from lane_controller.readers.framing_binary import BinaryDecoder
from lane_controller.readers.profile import ReaderProfile
from lane_controller.readers.proto_ascii import AsciiProtocol
from lane_controller.readers.proto_binary import BinaryProtocol
from simulator.serial_readers.peers import AsciiPeer, BinaryPeer, SimRequest
from simulator.serial_readers.reader import SimulatedReader
from simulator.serial_readers.world import ReaderWorld, SimSeal, SimTag

SEAL = "TWSL00012345"


def stream(framing: str, frames: int) -> bytes:
    peer = AsciiPeer() if framing == "ascii" else BinaryPeer(1)
    seal = SimSeal(SEAL, "SEALED", 88, datetime(2026, 11, 26, 8, 0, tzinfo=UTC), None, "CN1")
    status = peer.reply(SimRequest("STATUS", 7, SEAL), seal)[-1]
    tag = peer.tag_report(SimTag("E28011700000020F1A2B3C4D", 1, -55))
    return (status + tag) * (frames // 2)


def bench_decode(frames: int) -> None:
    for framing in ("ascii", "binary"):
        data = stream(framing, frames)
        reads = [data[i : i + 4096] for i in range(0, len(data), 4096)]
        decoder = AsciiDecoder() if framing == "ascii" else BinaryDecoder()
        started = time.perf_counter()
        count = sum(len(decoder.feed(r)) for r in reads)
        frames_s = count / (time.perf_counter() - started)
        proto = AsciiProtocol() if framing == "ascii" else BinaryProtocol(address=1)
        started = time.perf_counter()
        messages = sum(len(proto.feed(r)) for r in reads)
        stack_s = count / (time.perf_counter() - started)
        assert count == frames
        assert messages == frames // 2 * 3  # status + ack, tag
        print(
            f"decode {framing:6}: {frames_s:>10,.0f} frames/s (decoder)"
            f"  {stack_s:>10,.0f} frames/s (+ parser)"
        )


async def bench_latency(framing: Literal["ascii", "binary"], requests: int, tmp: Path) -> None:
    profile = ReaderProfile.model_validate(
        {"name": "bench", "kind": "eseal", "framing": framing, "address": 1, "port": {"url": "unused"}}
    )
    world = ReaderWorld(status_delay_s=0.0)  # the protocol path only, no simulated seal radio time
    world.vehicle_arrives([], [SimSeal(SEAL, "SEALED", 80)])
    sim = SimulatedReader(tmp / f"tty-{framing}", framing, world, address=1)
    sim.start()
    reader = SealReader.from_profile(profile, str(sim.path))
    await reader.start(2.0)
    try:
        for _ in range(50):
            await reader.status(SEAL)
        latencies = []
        for _ in range(requests):
            started = time.perf_counter()
            await reader.status(SEAL)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        await reader.close()
        sim.stop()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    snap = reader.status_snapshot()
    print(
        f"request-reply {framing:6}: n={requests} p50 {statistics.median(latencies):.2f} ms  p99 {p99:.2f} ms"
        f"  max {latencies[-1]:.2f} ms  (timeouts {snap.timeouts}, drops {sum(snap.drops.values())})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    bench_decode(args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        framings: tuple[Literal["ascii", "binary"], ...] = ("ascii", "binary")
        for framing in framings:
            asyncio.run(bench_latency(framing, args.requests, Path(tmp)))


if __name__ == "__main__":
    main()
