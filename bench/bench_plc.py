"""Barrier PLC driver on loopback: command-to-confirmed latency and status polls per second per connection.

    .venv/bin/python bench/bench_plc.py [--cycles 200] [--seconds 3] [--profiles generic,roger,...]

The driver (``lane_controller.plc``) talks to the simulated PLC (``simulator.plc``, a pymodbus server) over
Modbus TCP on 127.0.0.1, and over RTU on the simulator's pty pair. The simulated boom travels in no time
(``travel_s=0``), so the latency is the driver's and the wire's: sequence number and command written, the
PLC's acknowledgement read back, then the limit switch read back. Polls per second: back-to-back status
polls (every status point of the profile) on one connection. A pty is not paced at the baud rate: on a real
RS-485 line at 38400 8E1 each byte takes 0.29 ms, so one poll request and reply (about 8 + 30 bytes) add
roughly 11 ms of wire time that this loopback figure does not include.

Targets (issue 4): p99 <= 20 ms command-to-confirmed-open; >= 200 polls/s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time

from lane_controller.plc import BarrierDriver, connection_for, load_plc_profile
from simulator.plc import PlcServer, SimPlc, load_sim_profile

TARGET_P99_MS = 20.0
TARGET_POLLS = 200.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def run_one(profile_name: str, transport: str, cycles: int, seconds: float) -> None:
    plc = SimPlc(load_sim_profile(profile_name), travel_s=0.0)
    if transport == "tcp":
        server = await PlcServer.start_tcp(plc, host="127.0.0.1", port=0)
        override: dict[str, object] = {"kind": "tcp", "host": "127.0.0.1", "port": server.port}
    else:
        server = await PlcServer.start_rtu(plc, baudrate=115200, parity="N")
        override = {"kind": "rtu", "device": server.client_device, "baudrate": 115200, "parity": "N"}
    profile = load_plc_profile(profile_name)
    driver = BarrierDriver(profile, connection_for(profile, override))
    await driver.start()
    try:
        if await driver.wait_for(lambda s: s.available, 5.0) is None:
            raise SystemExit(f"{profile_name}/{transport}: PLC never available: {driver.status().last_error}")
        opens: list[float] = []
        for _ in range(cycles):
            outcome = await driver.open()
            if not outcome.confirmed:
                raise SystemExit(f"{profile_name}/{transport}: open not confirmed: {outcome.text}")
            opens.append(outcome.elapsed_s * 1000)
            closed = await driver.close()
            if not closed.confirmed:
                raise SystemExit(f"{profile_name}/{transport}: close not confirmed: {closed.text}")
        await driver.stop()  # no background polls while counting back-to-back ones
        driver = BarrierDriver(profile, connection_for(profile, override))
        driver.hub.reopen()
        await driver.poll()
        polls, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            status = await driver.poll()
            if not status.available:
                raise SystemExit(f"{profile_name}/{transport}: poll failed: {status.last_error}")
            polls += 1
        rate = polls / (time.perf_counter() - t0)
        requests = len(driver.codec.plan)
    finally:
        await driver.stop()
        await server.close()
        await plc.stop()
    p99 = _pct(opens, 0.99)
    ok = "ok" if p99 <= TARGET_P99_MS and rate >= TARGET_POLLS else "MISSED"
    print(
        f"  {profile_name:<14} {transport:<3}: open confirmed p50 {statistics.median(opens):5.1f} ms  "
        f"p99 {p99:5.1f} ms  max {max(opens):5.1f} ms   {rate:6.0f} polls/s ({requests} requests each)  {ok}",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200, help="open/close cycles per profile and transport")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of back-to-back polling")
    parser.add_argument("--profiles", default="generic,came-gard,roger,register-only")
    parser.add_argument("--transports", default="tcp,rtu")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(
        f"barrier PLC on loopback, simulated travel 0 s (targets: p99 <= {TARGET_P99_MS:.0f} ms, "
        f">= {TARGET_POLLS:.0f} polls/s):"
    )
    for transport in args.transports.split(","):
        for name in args.profiles.split(","):
            await run_one(name, transport, args.cycles, args.seconds)


if __name__ == "__main__":
    asyncio.run(main())
