"""RFID tag reader driver: inventory rounds, unsolicited tag reports, de-duplication within a window.

Which truck a tag belongs to is the store's table, applied by the lane runner; the driver only hears tags.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from lane_controller.readers.errors import ReaderError
from lane_controller.readers.link import ReaderLink
from lane_controller.readers.messages import AckMsg, Message, Op, Request, TagMsg
from lane_controller.readers.profile import ReaderProfile
from lane_controller.readers.status import ReaderStatus


@dataclass(frozen=True, slots=True)
class TagReport:
    """A tag heard: EPC (upper-case hex), antenna port and RSSI in dBm."""

    epc: str
    antenna: int
    rssi: int


class TagDeduplicator:
    """Passes a tag once, then again only after ``window_s`` without hearing it."""

    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s, self._clock = window_s, clock
        self._last: dict[str, float] = {}

    def fresh(self, epc: str) -> bool:
        """Whether this hearing of ``epc`` should be reported."""
        now = self._clock()
        last = self._last.get(epc)
        self._last[epc] = now
        if len(self._last) > 4096:
            self._last = {e: t for e, t in self._last.items() if now - t <= self.window_s}
        return last is None or now - last > self.window_s


def merge_tags(tags: list[TagMsg]) -> list[TagReport]:
    """One report per EPC (the strongest hearing), in first-heard order."""
    best: dict[str, TagMsg] = {}
    for tag in tags:
        if tag.epc not in best or tag.rssi > best[tag.epc].rssi:
            best[tag.epc] = tag
    return [TagReport(t.epc, t.antenna, t.rssi) for t in best.values()]


class TagReader:
    """The lane's UHF reader. ``read_tags()`` runs one inventory; ``next_report()`` yields de-duplicated
    unsolicited tag reports."""

    def __init__(self, link: ReaderLink, clock: Callable[[], float] = time.monotonic) -> None:
        self.link = link
        self.dedup = TagDeduplicator(link.profile.dedup_window_s, clock)
        self._reports: asyncio.Queue[TagReport] = asyncio.Queue(maxsize=1024)
        link.on_unsolicited = self._unsolicited

    @classmethod
    def from_profile(cls, profile: ReaderProfile, url: str | None = None) -> TagReader:
        """A reader on the profile's port (or ``url``)."""
        return cls(ReaderLink(profile, url))

    async def start(self, connect_timeout_s: float = 0.0) -> None:
        """Open the port (in the background; optionally wait)."""
        await self.link.start(connect_timeout_s)

    async def close(self) -> None:
        """Close the port."""
        await self.link.close()

    async def read_tags(self) -> list[TagReport]:
        """One inventory round: every tag heard, once each. A reply whose tag count does not match
        what arrived (a TAG line lost on the wire) is asked again once."""
        for _ in range(2):
            messages = await self.link.request(Request(Op.INVENTORY))
            tags = [m for m in messages if isinstance(m, TagMsg)]
            ack = messages[-1]
            if isinstance(ack, AckMsg) and ack.count == len(tags):
                for tag in tags:
                    self.dedup.fresh(tag.epc)
                return merge_tags(tags)
            if not isinstance(ack, AckMsg):
                raise ReaderError(f"refused: {ack}", "INVENTORY")
        raise ReaderError("inventory reply incomplete twice", "INVENTORY")

    async def next_report(self, timeout_s: float) -> TagReport | None:
        """The next de-duplicated tag report, or None after ``timeout_s``."""
        try:
            return await asyncio.wait_for(self._reports.get(), timeout_s)
        except TimeoutError:
            return None

    def status(self) -> ReaderStatus:
        """The link's counters."""
        return self.link.status()

    def _unsolicited(self, msg: Message) -> None:
        if isinstance(msg, TagMsg) and self.dedup.fresh(msg.epc) and not self._reports.full():
            self._reports.put_nowait(TagReport(msg.epc, msg.antenna, msg.rssi))
