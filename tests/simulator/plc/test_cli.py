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
