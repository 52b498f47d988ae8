"""CN message records used by the customs tests and the benchmark."""

from __future__ import annotations

from typing import Any


def cn_record(cn_number: str = "CN20261126001", **changes: Any) -> dict[str, Any]:
    """A valid original exit CN for a bonded tractor-trailer with one electronic seal."""
    record: dict[str, Any] = {
        "function": "9",
        "cn_number": cn_number,
        "direction": "exit",
        "origin_site_code": "KHC1",
        "destination_station_code": "KELC",
        "containers": ["CSQU 305438 3"],
        "tractor_plate": "KLA-1234",
        "trailer_plate": "AB-1234",
        "transport_tool_category": "1",
        "seals": [{"seal_id": "ES00012345", "seal_type": "electronic"}],
        "release_instruction_code": "1",
        "route_code": "R01",
        "time_limit_minutes": 180,
        "issued_at": "2026-11-26T09:30:00+08:00",
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}
