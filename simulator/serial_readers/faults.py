"""Fault knobs of a simulated reader; flip them at run time from a test or a scenario."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FaultKnobs:
    """What the simulated line does wrong. Read by the reader thread at every reply."""

    silent: bool = False
    """Answer nothing."""
    garbage: bytes = b""
    """Bytes written before every reply frame."""
    corrupt_next: int = 0
    """Corrupt the checksum of this many next reply frames (counts down)."""
    split: bool = False
    """Write each frame in three pieces with short pauses."""
    split_pause_s: float = 0.003
    duplicate: bool = False
    """Send every reply frame twice."""
    reply_delay_s: float = 0.0
    """Extra delay of every reply (beyond the driver's time-out: late replies)."""
    echo: bool = False
    """Echo every received byte back, as a 2-wire RS-485 adapter does."""
