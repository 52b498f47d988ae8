"""The production clock: wall time in UTC and timers on the running event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

from lane_controller.fsm.protocols import TimerHandle


class SystemClock:
    """Real time; ``call_later`` schedules on the running asyncio loop."""

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Schedule ``callback`` on the running loop."""
        return asyncio.get_running_loop().call_later(delay, callback)
