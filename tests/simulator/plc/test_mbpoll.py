"""An independent master: Debian's mbpoll (libmodbus) against the simulated PLC, over TCP and RTU."""

from __future__ import annotations

import asyncio
import re
import shutil

import pytest

from simulator.plc import PlcServer, SimPlc

from .harness import make_plc, run, wait_for

pytestmark = pytest.mark.skipif(
    shutil.which("mbpoll") is None, reason="mbpoll is not on PATH (apt install mbpoll)"
)


async def mbpoll(*args: str) -> tuple[int, str]:
    """Run mbpoll once (0-based references, 1 s time-out); its exit status and output."""
    proc = await asyncio.create_subprocess_exec(
        "mbpoll", "-0", "-1", "-o", "1", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


def values(output: str) -> dict[int, int]:
    """``[ref]: value`` lines of mbpoll's output."""
    return {int(ref): int(val) for ref, val in re.findall(r"^\[(\d+)\]:\s+(-?\d+)", output, re.MULTILINE)}


def test_mbpoll_over_tcp_reads_tables_and_writes_coils() -> None:
    async def body() -> None:
        plc: SimPlc = make_plc("generic")
        plc.set_inputs(loop_arming=True, estop=False)
        server = await PlcServer.start_tcp(plc)
        tcp = ("-m", "tcp", "-p", str(server.port))
        try:
            rc, out = await mbpoll(*tcp, "-t", "1", "-r", "0", "-c", "12", "127.0.0.1")
            assert rc == 0, out
            assert values(out) == {i: int(i in (1, 2)) for i in range(12)}  # limit_down, loop_arming
            rc, out = await mbpoll(*tcp, "-t", "3", "-r", "0", "-c", "8", "127.0.0.1")
            got = values(out)
            assert (got[0], got[1], got[2], got[7]) == (17, 0, 0, 0x0103), out
            rc, out = await mbpoll(*tcp, "-t", "4", "-r", "3", "127.0.0.1", "77")  # cmd_seq
            assert rc == 0, out
            rc, out = await mbpoll(*tcp, "-t", "0", "-r", "0", "127.0.0.1", "1")  # coil_open
            assert rc == 0, out
            await wait_for(lambda: plc.state == "open")
            rc, out = await mbpoll(*tcp, "-t", "1", "-r", "0", "-c", "2", "127.0.0.1")
            assert values(out) == {0: 1, 1: 0}
            rc, out = await mbpoll(*tcp, "-t", "3", "-r", "4", "127.0.0.1")
            assert values(out) == {4: 77}  # cmd_seq_ack
            rc, out = await mbpoll(*tcp, "-t", "0", "-r", "0", "-c", "6", "127.0.0.1")
            assert values(out) == dict.fromkeys(range(6), 0)  # the PLC cleared the coil
            await mbpoll(*tcp, "-t", "4", "-r", "3", "127.0.0.1", "78")
            await mbpoll(*tcp, "-t", "0", "-r", "1", "127.0.0.1", "1")  # coil_close
            await wait_for(lambda: plc.cycle_count == 1)
            rc, out = await mbpoll(*tcp, "-t", "3:int", "-B", "-r", "5", "127.0.0.1")
            assert values(out) == {5: 1}, out  # cycle_count, high word first
            rc, out = await mbpoll(*tcp, "-t", "1", "-r", "12", "127.0.0.1")
            assert rc != 0 and "Illegal data address" in out
        finally:
            await server.close()

    run(body, 20)


def test_mbpoll_over_rtu_on_the_pty_even_parity() -> None:
    async def body() -> None:
        plc = make_plc("came-gard")
        plc.set_inputs(loop_safety=True)
        server = await PlcServer.start_rtu(plc, baudrate=38400, parity="E")
        rtu = ("-m", "rtu", "-b", "38400", "-P", "even")
        dev = server.client_device
        try:
            rc, out = await mbpoll(*rtu, "-t", "4", "-r", "100", "-c", "9", dev)
            assert rc == 0, out
            got = values(out)
            assert (got[100], got[104], got[107]) == (1, 0b1010, 0x0103), out  # closed; limit_down, safety
            await mbpoll(*rtu, "-t", "4", "-r", "202", dev, "5")  # cmd_seq
            rc, out = await mbpoll(*rtu, "-t", "0", "-r", "1", dev, "1")  # coil_open (00002)
            assert rc == 0, out
            await wait_for(lambda: plc.state == "open")
            await mbpoll(*rtu, "-t", "0", "-r", "1", dev, "0")  # the host releases the coil
            rc, out = await mbpoll(*rtu, "-t", "4", "-r", "100", "-c", "2", dev)
            assert values(out) == {100: 3, 101: 100}
            rc, out = await mbpoll(*rtu, "-t", "4", "-r", "108", dev)
            assert values(out) == {108: 5}
            await mbpoll(*rtu, "-t", "4", "-r", "202", dev, "6")
            await mbpoll(*rtu, "-t", "0", "-r", "3", dev, "1")  # coil_close: a vehicle is under the boom
            await asyncio.sleep(0.3)
            assert plc.state == "open" and plc.history[-1].outcome == "refused"
            rc, out = await mbpoll(*rtu, "-t", "3", "-r", "0", dev)
            assert rc != 0 and "Illegal data address" in out  # came-gard has no input registers
        finally:
            await server.close()

    run(body, 20)
