"""``python -m simulator.plc``: help, a TCP lane and an RTU lane brought up without hardware."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from pymodbus.client import ModbusSerialClient, ModbusTcpClient


def test_help_names_every_option() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "simulator.plc", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in ("--profile", "--tcp", "--rtu", "--travel-s", "--auto-vehicle-every", "--watchdog-ms"):
        assert option in out


def test_unknown_profile_fails_clearly() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "simulator.plc", "--profile", "nope", "--tcp", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        check=False,
        timeout=20,
    )
    assert done.returncode == 2 and "no such PLC profile" in done.stderr


@pytest.mark.parametrize("mode", ["tcp", "rtu"])
def test_a_lane_without_hardware(mode: str) -> None:
    where = ["--tcp", "127.0.0.1:0"] if mode == "tcp" else ["--rtu"]
    with subprocess.Popen(
        [sys.executable, "-m", "simulator.plc", "--profile", "roger", *where, "--travel-s", "0"],
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            client: ModbusTcpClient | ModbusSerialClient
            if mode == "tcp":
                match = re.match(r"TCP (\S+):(\d+)", first)
                assert match, first
                client = ModbusTcpClient(match[1], port=int(match[2]), timeout=1, retries=1)
            else:
                match = re.match(r"RTU (\d+) 8([NEO])1 on (\S+)", first)
                assert match, first
                client = ModbusSerialClient(
                    match[3], baudrate=int(match[1]), parity=match[2], timeout=1, retries=1
                )
            assert client.connect()
            rsp = client.read_input_registers(0, count=1, device_id=1)
            assert rsp.registers == [0]  # roger: closed = 0
            client.close()
        finally:
            proc.terminate()
            proc.wait(10)


def _sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator.plc", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=20,
    )


def test_help_names_the_fault_knobs() -> None:
    out = _sim("--help").stdout
    for option in ("--delay-s", "--silent", "--exception-code", "--freeze-heartbeat", "--stuck-limit"):
        assert option in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--tcp", "localhost"), 2, "'localhost' is not HOST:PORT"),
        (("--tcp", "127.0.0.1:99999"), 2, "is not HOST:PORT with a port 0-65535"),
        (("--tcp", "127.0.0.1:0", "--travel-s", "-1"), 2, "'-1' is not a number of seconds from 0"),
        (("--tcp", "127.0.0.1:0", "--stuck-limit", "sideways"), 2, "invalid choice: 'sideways'"),
        (("--tcp", "127.0.0.1:0", "--travel-s", "inf"), 2, "'inf' is not a number of seconds from 0"),
        (("--tcp", "127.0.0.1:0", "--watchdog-ms", "-1"), 2, "'-1' is not a watchdog in ms"),
        (("--tcp", "127.0.0.1:0", "--auto-vehicle-every", "-1"), 2, "'-1' is not a number of seconds"),
        (("--tcp", "127.0.0.1:0", "--auto-vehicle-every", "0"), 2, "'0' is not a positive number"),
    ],
)
def test_bad_options_are_usage_errors_without_a_traceback(args, code, message) -> None:
    done = _sim("--profile", "generic", *args)
    assert done.returncode == code
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_port_in_use_is_said_plainly() -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = _sim("--profile", "generic", "--tcp", f"127.0.0.1:{port}")
    assert done.returncode == 3
    assert f"cannot serve on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr


STUCK = ("--stuck-limit", "up", "--travel-s", "0")


def test_fault_knobs_given_at_start_take_effect() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator.plc", "--profile", "generic", "--tcp", "127.0.0.1:0", *STUCK],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        match = re.search(r"TCP 127\.0\.0\.1:(\d+)", proc.stdout.readline())
        assert match is not None
        client = ModbusTcpClient("127.0.0.1", port=int(match.group(1)))
        assert client.connect()
        try:
            bits = client.read_discrete_inputs(0, count=2, device_id=1).bits[:2]
        finally:
            client.close()
        assert bits == [True, True]  # LIMIT_UP stuck on beside LIMIT_DOWN of the closed boom
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_profile_path_that_is_a_folder_is_said_plainly(tmp_path) -> None:
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    done = _sim("--profile", str(folder), "--tcp", "127.0.0.1:0")
    assert done.returncode == 2 and "cannot read" in done.stderr and "Traceback" not in done.stderr
