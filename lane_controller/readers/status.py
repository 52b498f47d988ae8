"""Plain status snapshots of a reader (what the web layer reads), Klipper ``get_status()`` style."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ReaderStatus:
    """Counters of one reader link at one moment."""

    name: str
    connected: bool
    port: str
    reconnects: int = 0
    last_error: str | None = None
    frames: int = 0
    garbage_bytes: int = 0
    drops: dict[str, int] = field(default_factory=dict)
    """Dropped frames by reason (bad_checksum, truncated, echo, ...)."""
    requests: int = 0
    retries: int = 0
    timeouts: int = 0
    naks: int = 0
    unmatched: int = 0
    """Replies whose seq matched no waiting request (late or duplicated)."""
