"""Bring a simulated barrier PLC up without hardware.

python -m simulator.plc --profile generic --tcp 127.0.0.1:1502
python -m simulator.plc --profile came-gard --rtu          # prints the serial device to open
python -m simulator.plc --profile generic --tcp :1502 --freeze-heartbeat --stuck-limit up

Exit status: 0 stopped by Ctrl-C; 2 a bad option or profile; 3 the address or pty cannot be had.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys
from dataclasses import dataclass

from simulator.plc.model import SimPlc
from simulator.plc.profile import load_sim_profile
from simulator.plc.server import PlcServer


@dataclass(frozen=True)
class _Address:
    host: str
    port: int


def _address(text: str) -> _Address:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT with a port 0-65535")
    return _Address(host or "127.0.0.1", int(port))


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0")
    return value


def _period(text: str) -> float:
    value = _seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _watchdog(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a watchdog in ms from 0 to 65535")
    return int(text)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction from 0 to 1")
    return value


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
    where.add_argument(
        "--tcp", type=_address, metavar="HOST:PORT", help="serve Modbus TCP here (port 0: any free port)"
    )
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
        "--travel-s", type=_seconds, default=3.0, help="seconds per full boom stroke (default 3, 0 at once)"
    )
    parser.add_argument(
        "--watchdog-ms",
        type=_watchdog,
        default=None,
        help="initial host watchdog in ms, 0 off (default: the profile's [timing] watchdog_ms)",
    )
    parser.add_argument(
        "--auto-vehicle-every",
        type=_period,
        metavar="S",
        default=None,
        help="drive a vehicle over the loops every S seconds (it waits up to S for the boom to open)",
    )
    faults = parser.add_argument_group("fault knobs (set from the start; tests flip them at run time)")
    faults.add_argument(
        "--delay-s", type=_seconds, default=0.0, metavar="S", help="answer every request S late"
    )
    faults.add_argument("--silent", action="store_true", help="answer nothing (and execute nothing)")
    faults.add_argument(
        "--exception-code",
        type=int,
        choices=range(1, 12),
        default=None,
        metavar="CODE",
        help="answer every request with this Modbus exception (e.g. 4 device failure, 6 busy)",
    )
    faults.add_argument(
        "--freeze-heartbeat", action="store_true", help="the PLC's heartbeat stops changing (a frozen PLC)"
    )
    faults.add_argument(
        "--stuck-limit", choices=("up", "down"), default=None, help="that limit switch always reads 1"
    )
    faults.add_argument(
        "--corrupt-rtu", type=_fraction, default=0.0, metavar="F", help="damage this fraction of RTU replies"
    )
    return parser


async def _serve(args: argparse.Namespace) -> None:
    plc = SimPlc(load_sim_profile(args.profile), travel_s=args.travel_s, watchdog_ms=args.watchdog_ms)
    faults = plc.faults
    faults.delay_s, faults.silent, faults.exception_code = args.delay_s, args.silent, args.exception_code
    faults.freeze_heartbeat, faults.stuck_limit = args.freeze_heartbeat, args.stuck_limit
    faults.corrupt_rtu = args.corrupt_rtu
    if args.rtu:
        server = await PlcServer.start_rtu(plc, baudrate=args.baudrate, parity=args.parity)
        print(f"RTU {args.baudrate} 8{server.client_parity}1 on {server.client_device}", flush=True)
    else:
        try:
            server = await PlcServer.start_tcp(plc, host=args.tcp.host, port=args.tcp.port)
        except RuntimeError as exc:  # pymodbus's word for a listen that failed (address in use)
            raise OSError(f"{exc} (in use, or not an address of this host)") from exc
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
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(args))
    except OSError as exc:
        where = "RTU pty" if args.rtu else f"{args.tcp.host}:{args.tcp.port}"
        print(f"simulator.plc: cannot serve on {where}: {exc.strerror or exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
