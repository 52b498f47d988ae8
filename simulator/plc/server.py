"""A real Modbus server (pymodbus) for a ``SimPlc``: TCP, or RTU on a pty pair, with stop/restart.

server = await PlcServer.start_tcp(plc, host="127.0.0.1", port=0)      # server.port
server = await PlcServer.start_rtu(plc, baudrate=38400, parity="E")   # server.client_device
await server.drop_connections(); await server.stop(); await server.restart(); await server.close()
"""

from __future__ import annotations

import logging
import socket
from typing import Literal

from pymodbus.framer import FramerType
from pymodbus.server import ModbusBaseServer, ModbusSerialServer, ModbusTcpServer

from simulator.plc.datastore import PlcDatastore, function_code_gate
from simulator.plc.model import SimPlc
from simulator.plc.pty_bridge import PtyBridge, pty_accepts_parity

Parity = Literal["N", "E", "O"]


class PlcServer:
    """Serves one ``SimPlc`` over one transport; the PLC keeps running while the server is stopped."""

    def __init__(self, plc: SimPlc, kind: Literal["tcp", "rtu"]) -> None:
        self.plc = plc
        self.kind = kind
        self.host = "127.0.0.1"
        self.port = 0
        """The TCP port (the one picked when asked for 0); kept across ``restart()``."""
        self.bridge: PtyBridge | None = None
        self.serial: dict[str, int | str] = {}
        self._datastore = PlcDatastore(plc)
        self._server: ModbusBaseServer | None = None

    @classmethod
    async def start_tcp(cls, plc: SimPlc, host: str = "127.0.0.1", port: int = 0) -> PlcServer:
        """Serve Modbus TCP on ``host:port`` (0: a free port, see ``.port``); starts the PLC's clock."""
        server = cls(plc, "tcp")
        server.host, server.port = host, port
        await server.restart()
        return server

    @classmethod
    async def start_rtu(
        cls,
        plc: SimPlc,
        *,
        baudrate: int = 38400,
        bytesize: int = 8,
        parity: Parity = "E",
        stopbits: int = 1,
    ) -> PlcServer:
        """Serve Modbus RTU on a pty; the client opens ``.client_device`` with ``.client_parity``.

        Starts the PLC's clock.
        """
        server = cls(plc, "rtu")
        server.bridge = PtyBridge(plc.faults)
        server.bridge.start()
        pty_parity = parity if pty_accepts_parity(parity) else "N"
        server.serial = {
            "baudrate": baudrate,
            "bytesize": bytesize,
            "parity": pty_parity,
            "stopbits": stopbits,
        }
        await server.restart()
        return server

    @property
    def client_device(self) -> str:
        """The serial device a Modbus RTU master opens (``/dev/pts/N``)."""
        if self.bridge is None:
            raise AttributeError("a TCP server has no client device")
        return self.bridge.client_device

    @property
    def client_parity(self) -> str:
        """The parity a pymodbus (pyserial) client can open ``client_device`` with on this kernel.

        The asked parity where the pty takes it, else "N" (see ``pty_accepts_parity``); libmodbus
        clients such as mbpoll may use the asked parity either way.
        """
        return str(self.serial.get("parity", "N"))

    @property
    def running(self) -> bool:
        """Whether the server is answering."""
        return self._server is not None

    async def restart(self) -> None:
        """(Re)start serving on the same port or pty; a no-op while running."""
        if self._server is not None:
            return
        quiet_pymodbus()
        self.plc.start()
        gate = function_code_gate(self.plc.profile.function_codes)
        server: ModbusBaseServer
        if self.bridge is not None:
            self.bridge.flush_requests()
            server = ModbusSerialServer(
                self._datastore,
                framer=FramerType.RTU,
                port=self.bridge.server_device,
                baudrate=int(self.serial["baudrate"]),
                bytesize=int(self.serial["bytesize"]),
                parity=str(self.serial["parity"]),
                stopbits=int(self.serial["stopbits"]),
                ignore_missing_devices=True,
                trace_pdu=gate,
            )
        else:
            server = ModbusTcpServer(
                self._datastore, address=(self.host, self.port), ignore_missing_devices=True, trace_pdu=gate
            )
        await server.serve_forever(background=True)
        if self.bridge is None:
            sockets: list[socket.socket] = list(getattr(server.transport, "sockets", None) or [])
            self.port = int(sockets[0].getsockname()[1])
        else:
            self.bridge.forward_requests = True
        self._server = server

    async def stop(self) -> None:
        """Stop answering: TCP refuses connections, the RTU line goes dead. The PLC keeps running."""
        server, self._server = self._server, None
        if self.bridge is not None:
            self.bridge.forward_requests = False
        if server is not None:
            await server.shutdown()  # type: ignore[no-untyped-call]  # pymodbus leaves it unannotated

    async def drop_connections(self) -> None:
        """Close the open TCP client connections (the listener stays); a no-op on RTU."""
        if self._server is None or self.bridge is not None:
            return
        for connection in list(self._server.active_connections.values()):
            connection.close()

    async def close(self) -> None:
        """Stop serving, release the ptys and stop the PLC's clock."""
        await self.stop()
        if self.bridge is not None:
            self.bridge.close()
        await self.plc.stop()


def quiet_pymodbus(level: int = logging.CRITICAL) -> None:
    """pymodbus logs every dropped connection and bad frame as an error: the simulator causes them.

    Leaves a level someone already set alone.
    """
    logger = logging.getLogger("pymodbus")
    if logger.level == logging.NOTSET:
        logger.setLevel(level)
