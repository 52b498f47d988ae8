"""Checksums of the two framings: CRC-16/MCRF4XX (binary frames) and the NMEA XOR (ASCII lines)."""

from __future__ import annotations


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _make_table()


def crc16_mcrf4xx(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/MCRF4XX: init 0xFFFF, reflected polynomial 0x8408, no final xor (check "123456789" = 0x6F91)."""
    table = _TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def xor_checksum(data: bytes) -> int:
    """XOR of all bytes (the NMEA checksum of the bytes between ``$`` and ``*``)."""
    value = int.from_bytes(data, "little")
    width = max(len(data), 1) * 8
    while width > 8:  # fold the halves onto each other: XOR is associative
        width = (width + 15) // 16 * 8
        value = (value >> width) ^ (value & ((1 << width) - 1))
    return value
