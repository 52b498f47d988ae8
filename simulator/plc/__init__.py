"""A simulated barrier PLC that is a real Modbus peer (TCP, or RTU on a pty), written from
hardware_profiles/plc/README.md independently of the controller's driver."""

from simulator.plc.faults import PlcFaults
from simulator.plc.model import CommandRecord, SimPlc
from simulator.plc.profile import SimPoint, SimProfile, load_sim_profile
from simulator.plc.server import PlcServer

__all__ = ["CommandRecord", "PlcFaults", "PlcServer", "SimPlc", "SimPoint", "SimProfile", "load_sim_profile"]
