"""The simulator's own checksums (bit-by-bit, written from the protocol description)."""

from __future__ import annotations

from functools import reduce


def crc16_mcrf4xx(data: bytes) -> int:
    """CRC-16/MCRF4XX: init 0xFFFF, reflected poly 0x8408, no final xor."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def nmea_xor(data: bytes) -> int:
    """XOR of the bytes between ``$`` and ``*``."""
    return reduce(lambda a, b: a ^ b, data, 0)
