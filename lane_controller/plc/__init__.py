"""Barrier PLC over Modbus: transport, profile-driven register codec, barrier driver (a library).

Only this package imports pymodbus. Typical use::

    profile = load_plc_profile("came-gard")
    driver = BarrierDriver(profile, connection_for(profile, {"device": "/dev/ttyUSB1"}))
    await driver.start()
    outcome = await driver.open()      # CommandOutcome: confirmed, or why not
    driver.status()                    # BarrierStatus snapshot
"""

from lane_controller.plc.barrier import BarrierDriver
from lane_controller.plc.codec import ReadBlock, RegisterCodec, WriteOp
from lane_controller.plc.errors import (
    PlcConnectionError,
    PlcError,
    PlcExceptionReply,
    PlcMalformedReply,
    PlcReconnecting,
    PlcTimeout,
)
from lane_controller.plc.hub import HubStats, ModbusHub
from lane_controller.plc.profile import (
    PROFILE_DIR,
    PlcConnection,
    PlcProfile,
    PlcProfileError,
    RtuTransport,
    TcpTransport,
    Timing,
    connection_for,
    load_plc_profile,
)
from lane_controller.plc.status import BarrierStatus, CommandOutcome, Outcome

__all__ = [
    "PROFILE_DIR",
    "BarrierDriver",
    "BarrierStatus",
    "CommandOutcome",
    "HubStats",
    "ModbusHub",
    "Outcome",
    "PlcConnection",
    "PlcConnectionError",
    "PlcError",
    "PlcExceptionReply",
    "PlcMalformedReply",
    "PlcProfile",
    "PlcProfileError",
    "PlcReconnecting",
    "PlcTimeout",
    "ReadBlock",
    "RegisterCodec",
    "RtuTransport",
    "TcpTransport",
    "Timing",
    "WriteOp",
    "connection_for",
    "load_plc_profile",
]
