"""Bring a simulated barrier PLC up without hardware.

python -m simulator.plc --profile generic --tcp 127.0.0.1:1502
python -m simulator.plc --profile came-gard --rtu          # prints the serial device to open
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from simulator.plc.model import SimPlc
from simulator.plc.profile import load_sim_profile
from simulator.plc.server import PlcServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator.plc",
        description="A simulated barrier PLC answering Modbus TCP or RTU as a hardware profile maps it.",
    )
    parser.add_argument(
        "--profile",
        required=True,
        help="a name in hardware_profiles/plc (generic, came-gard, roger, register-only) or a .toml path",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp", metavar="HOST:PORT", help="serve Modbus TCP here (port 0: any free port)")
    where.add_argument(
        "--rtu",
        action="store_true",
        help="serve Modbus RTU on a pty pair and print the device a master opens",
    )
    parser.add_argument("--baudrate", type=int, default=38400, help="RTU baud rate (default 38400)")
    parser.add_argument(
        "--parity",
        choices=("N", "E", "O"),
        default="E",
        help="RTU parity (default E; N where the pty refuses it)",
    )
    parser.add_argument(
        "--travel-s", type=float, default=3.0, help="seconds per full boom stroke (default 3)"
    )
    parser.add_argument(
        "--watchdog-ms",
        type=int,
        default=None,
        help="initial host watchdog in ms, 0 off (default: the profile's [timing] watchdog_ms)",
    )
    parser.add_argument(
        "--auto-vehicle-every",
        type=float,
        metavar="S",
        default=None,
        help="drive a vehicle over the loops every S seconds (it waits up to S for the boom to open)",
    )
    return parser


async def _serve(args: argparse.Namespace) -> None:
    plc = SimPlc(load_sim_profile(args.profile), travel_s=args.travel_s, watchdog_ms=args.watchdog_ms)
    if args.rtu:
        server = await PlcServer.start_rtu(plc, baudrate=args.baudrate, parity=args.parity)
        print(f"RTU {args.baudrate} 8{server.client_parity}1 on {server.client_device}", flush=True)
    else:
        host, _, port = str(args.tcp).rpartition(":")
        server = await PlcServer.start_tcp(plc, host=host or "127.0.0.1", port=int(port))
        print(f"TCP {server.host}:{server.port}", flush=True)
    print(f"profile {plc.profile.name}, unit {plc.profile.unit_id}; Ctrl-C stops", flush=True)
    try:
        while True:
            if args.auto_vehicle_every:
                await asyncio.sleep(args.auto_vehicle_every)
                passed = await plc.drive_through(step_s=0.5, open_timeout_s=args.auto_vehicle_every)
                print("vehicle passed" if passed else "vehicle backed off: the boom stayed down", flush=True)
            else:
                await asyncio.sleep(3600)
    finally:
        await server.close()


def main(argv: list[str] | None = None) -> int:
    """Run until interrupted."""
    args = _parser().parse_args(argv)
    try:
        load_sim_profile(args.profile)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
