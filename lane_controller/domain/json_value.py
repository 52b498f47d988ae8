"""The type of a value that goes into JSON and back unchanged (audit payloads, outbox messages)."""

from __future__ import annotations

from typing import TypeAlias

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
"""Any value that :func:`json.dumps` writes and :func:`json.loads` gives back unchanged."""
