"""Barrier PLC over Modbus: transport, profile-driven register codec, barrier driver (a library)."""
