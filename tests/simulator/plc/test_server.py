"""The simulated PLC through pymodbus masters: every profile over TCP and RTU, exceptions, fault knobs."""

from __future__ import annotations

import asyncio

import pytest
from pymodbus.client import AsyncModbusTcpClient

from .harness import (
    PROFILES,
    give_command,
    make_plc,
    read_point,
    read_raw,
    request_fails,
    run,
    start,
    wait_for,
    wait_point,
)


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
@pytest.mark.parametrize("profile", PROFILES)
def test_every_point_reads_and_a_command_moves_the_boom(profile: str, transport: str) -> None:
    async def body() -> None:
        plc = make_plc(profile)
        plc.set_inputs(loop_arming=True, on_battery=True)
        server, client = await start(plc, transport)
        try:
            order = plc.profile.word_order
            snap = plc.snapshot()
            for name, point in plc.profile.points.items():
                if name not in ("plc_heartbeat",):
                    assert await read_point(client, point, order) == snap[name], name
            await give_command(client, plc, "open", seq=41)
            if "cmd_seq_ack" in plc.profile.points:
                await wait_point(client, plc, "cmd_seq_ack", 41)
            await wait_point(client, plc, "state", "opening")
            await wait_point(client, plc, "limit_up", True)
            await give_command(client, plc, "close", seq=42)
            await wait_point(client, plc, "limit_down", True)
            await wait_point(client, plc, "cycle_count", 1)
            await wait_point(client, plc, "loop_arming", True)
        finally:
            client.close()
            await server.close()

    run(body)


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
def test_exception_codes(transport: str) -> None:
    async def body() -> None:
        plc = make_plc("generic")
        server, client = await start(plc, transport)
        try:
            rsp = await client.read_discrete_inputs(0, count=13, device_id=1)  # 12 is unmapped
            assert rsp.isError() and rsp.exception_code == 2
            rsp = await client.read_input_registers(8, count=1, device_id=1)
            assert rsp.exception_code == 2
            rsp = await client.write_register(2, 9, device_id=1)  # not a cmd_word value
            assert rsp.exception_code == 3
            rsp = await client.write_coil(6, True, device_id=1)
            assert rsp.exception_code == 2
            rsp = await client.read_coils(0, count=6, device_id=1)
            assert rsp.bits[:6] == [False] * 6
            rsp = await client.mask_write_register(
                address=0, and_mask=1, or_mask=0, device_id=1
            )  # FC 22: not in function_codes
            assert rsp.exception_code == 1
        finally:
            client.close()
            await server.close()

    run(body)


def test_register_only_board_refuses_other_function_codes() -> None:
    async def body() -> None:
        plc = make_plc("register-only")
        server, client = await start(plc, "tcp")
        try:
            for call in (
                client.read_coils(0, count=1, device_id=1),
                client.read_discrete_inputs(0, count=1, device_id=1),
                client.write_coil(0, True, device_id=1),
                client.write_registers(0, [1, 0], device_id=1),
                client.diag_read_diagnostic_register(device_id=1),
            ):
                rsp = await call
                assert rsp.isError() and rsp.exception_code == 1, rsp
            rsp = await client.read_input_registers(0, count=10, device_id=1)
            assert rsp.exception_code == 2  # 0-8 are mapped, 9 is not
            rsp = await client.write_register(2, 0x10, device_id=1)
            assert rsp.exception_code == 3
            rsp = await client.read_input_registers(0, count=9, device_id=1)
            assert rsp.registers[0] == 0b10 and rsp.registers[1] == 17  # limit_down; state closed
        finally:
            client.close()
            await server.close()

    run(body)


def test_came_gard_state_registers_are_read_only() -> None:
    async def body() -> None:
        plc = make_plc("came-gard")
        server, client = await start(plc, "rtu")
        try:
            rsp = await client.write_register(100, 3, device_id=1)
            assert rsp.exception_code == 2 and plc.state == "closed"
            rsp = await client.write_registers(200, [5, 0, 9], device_id=1)
            assert not rsp.isError() and plc.held["host_heartbeat"] == 5 and plc.held["cmd_seq"] == 9
            assert await request_fails(client.read_holding_registers(100, count=1, device_id=2))
        finally:
            client.close()
            await server.close()

    run(body)


def test_delay_silence_and_exception_knobs() -> None:
    async def body() -> None:
        plc = make_plc("generic")
        server, client = await start(plc, "tcp")
        point = plc.profile.points["state"]
        try:
            plc.faults.delay_s = 0.15
            loop = asyncio.get_running_loop()
            began = loop.time()
            rsp = await read_raw(client, point)
            assert not rsp.isError() and loop.time() - began >= 0.15
            plc.faults.delay_s = 0.0
            plc.faults.exception_code = 6
            rsp = await read_raw(client, point)
            assert rsp.isError() and rsp.exception_code == 6
            rsp = await client.write_coil(0, True, device_id=1)
            assert rsp.exception_code == 6 and plc.state == "closed"  # not executed
            plc.faults.exception_code = None
            plc.faults.silent = True
            assert await request_fails(read_raw(client, point))
            plc.faults.silent = False
            fresh = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=0.5, retries=0)
            await fresh.connect()
            assert await read_point(fresh, point) == "closed"
            fresh.close()
        finally:
            client.close()
            await server.close()

    run(body)


def test_frozen_heartbeat_and_stuck_limit_on_the_wire() -> None:
    async def body() -> None:
        plc = make_plc("roger")
        server, client = await start(plc, "tcp")
        points = plc.profile.points
        try:
            first = await read_point(client, points["plc_heartbeat"])
            await wait_for(lambda: plc.plc_heartbeat != first)
            assert await read_point(client, points["plc_heartbeat"]) != first
            plc.faults.freeze_heartbeat = True
            frozen = await read_point(client, points["plc_heartbeat"])
            await asyncio.sleep(0.3)
            assert await read_point(client, points["plc_heartbeat"]) == frozen
            plc.faults.freeze_heartbeat = False
            plc.faults.stuck_limit = "up"
            await wait_point(client, plc, "fault_code", "both_limits")
            assert await read_point(client, points["limit_up"]) is True
            assert await read_point(client, points["limit_down"]) is True
            assert await read_point(client, points["fault"]) is True
            await give_command(client, plc, "open", seq=1)
            await asyncio.sleep(0.1)
            assert plc.state == "closed" and plc.history[-1].outcome == "refused"
        finally:
            client.close()
            await server.close()

    run(body)


def test_corrupted_rtu_replies() -> None:
    async def body() -> None:
        plc = make_plc("came-gard")
        server, client = await start(plc, "rtu")
        point = plc.profile.points["state"]
        try:
            plc.faults.corrupt_rtu = 1.0
            assert await request_fails(read_raw(client, point))
            assert server.bridge is not None and server.bridge.corrupted_replies >= 1
            plc.faults.corrupt_rtu = 0.0
            await asyncio.sleep(0.1)
            for _ in range(3):  # the master may still be resynchronising after the bad frame
                if not await request_fails(read_raw(client, point)):
                    break
            assert await read_point(client, point) == "closed"
        finally:
            client.close()
            await server.close()

    run(body)


def test_dropped_connection_stop_and_restart_on_the_same_port() -> None:
    async def body() -> None:
        plc = make_plc("generic")
        server, client = await start(plc, "tcp")
        point = plc.profile.points["state"]
        port = server.port
        once = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=0.5, retries=0, reconnect_delay=0)
        try:
            assert await once.connect()
            await server.drop_connections()
            await wait_for(lambda: not once.connected)
            assert await request_fails(read_raw(client, point))
            await server.stop()
            refused = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=0.3, retries=0, reconnect_delay=0)
            assert not await refused.connect()
            refused.close()
            plc.command("open", seq=5)  # the PLC keeps running while its network is down
            await server.restart()
            assert server.port == port
            again = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=0.5, retries=0)
            assert await again.connect()
            await wait_point(again, plc, "state", "open")
            assert await read_point(again, point) == "open"
            again.close()
        finally:
            once.close()
            client.close()
            await server.close()

    run(body)


def test_rtu_stop_and_restart_keep_the_device() -> None:
    async def body() -> None:
        plc = make_plc("came-gard")
        server, client = await start(plc, "rtu")
        point = plc.profile.points["position_pct"]
        device = server.client_device
        try:
            await server.stop()
            assert await request_fails(read_raw(client, point))
            await server.restart()
            assert server.client_device == device
            await asyncio.sleep(0.05)
            assert await read_point(client, point) == 0
        finally:
            client.close()
            await server.close()

    run(body)
