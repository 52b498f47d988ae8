"""Electronic-seal reader driver: status, lock with a CN number, unlock, event log (ISO 18185 ideas)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lane_controller.domain.transport_note import SealId
from lane_controller.readers.errors import ReaderNak, SealReaderError
from lane_controller.readers.link import ReaderLink
from lane_controller.readers.messages import (
    AckMsg,
    EventMsg,
    Message,
    NakMsg,
    Op,
    Request,
    SealStatus,
    SealStatusMsg,
)
from lane_controller.readers.profile import ReaderProfile
from lane_controller.readers.status import ReaderStatus


@dataclass(frozen=True, slots=True)
class SealReading:
    """A seal as the reader reports it."""

    seal_id: str
    status: SealStatus
    battery_pct: int
    sealed_at: datetime | None
    opened_at: datetime | None


@dataclass(frozen=True, slots=True)
class SealEvent:
    """One entry of the seal's append-only event log."""

    index: int
    kind: str
    at: datetime | None


class SealReader:
    """The lane's e-seal reader. Errors: ReaderTimeout, ReaderUnavailable, ReaderNak, SealReaderError,
    each naming the request and the seal."""

    def __init__(self, link: ReaderLink) -> None:
        self.link = link

    @classmethod
    def from_profile(cls, profile: ReaderProfile, url: str | None = None) -> SealReader:
        """A reader on the profile's port (or ``url``)."""
        return cls(ReaderLink(profile, url))

    async def start(self, connect_timeout_s: float = 0.0) -> None:
        """Open the port (in the background; optionally wait)."""
        await self.link.start(connect_timeout_s)

    async def close(self) -> None:
        """Close the port."""
        await self.link.close()

    async def inventory(self) -> list[SealReading]:
        """Every seal in range of the reader now."""
        reply = await self._ask(Request(Op.SEALS))
        seals = [m for m in reply if isinstance(m, SealStatusMsg)]
        ack = reply[-1]
        if not isinstance(ack, AckMsg) or ack.count != len(seals):
            raise SealReaderError(f"seal inventory lists {ack} but {len(seals)} seals arrived", "SEALS")
        return [SealReading(m.seal_id, m.status, m.battery_pct, m.sealed_at, m.opened_at) for m in seals]

    async def status(self, seal_id: str) -> SealReading:
        """The seal's state, battery and time stamps."""
        return self._reading(await self._ask(Request(Op.STATUS, _sid(seal_id))), seal_id, "STATUS")

    async def lock(self, seal_id: str, cn_number: str) -> SealReading:
        """Seal with a CN number; returns the seal as sealed."""
        reply = await self._ask(Request(Op.LOCK, _sid(seal_id), cn_number))
        return self._reading(reply, seal_id, "LOCK")

    async def unlock(self, seal_id: str, cn_number: str, token: str | None = None) -> SealReading:
        """Open the seal; ``token`` is the offline-unseal authorisation when there is one."""
        reply = await self._ask(Request(Op.UNLOCK, _sid(seal_id), cn_number, token))
        return self._reading(reply, seal_id, "UNLOCK")

    async def event_log(self, seal_id: str) -> list[SealEvent]:
        """The seal's event log, oldest first."""
        reply = await self._ask(Request(Op.EVENTS, _sid(seal_id)))
        events = [m for m in reply if isinstance(m, EventMsg)]
        ack = reply[-1]
        if not isinstance(ack, AckMsg) or ack.count != len(events):
            raise SealReaderError(
                f"event log lists {ack} but {len(events)} events arrived", "EVENTS", seal_id
            )
        if any(e.seal_id != _sid(seal_id) for e in events):
            raise SealReaderError("event log of another seal", "EVENTS", seal_id)
        return [SealEvent(e.index, e.kind, e.at) for e in events]

    def status_snapshot(self) -> ReaderStatus:
        """The link's counters."""
        return self.link.status()

    async def _ask(self, request: Request) -> list[Message]:
        reply = await self.link.request(request)
        last = reply[-1]
        if isinstance(last, NakMsg):
            raise ReaderNak(last.code, request.op.value, request.seal_id, last.detail)
        if not isinstance(last, AckMsg) or last.op is not request.op:
            raise SealReaderError(f"reply to another request ({last})", request.op.value, request.seal_id)
        return reply

    @staticmethod
    def _reading(reply: list[Message], seal_id: str, request: str) -> SealReading:
        found = [m for m in reply if isinstance(m, SealStatusMsg)]
        if len(found) != 1 or found[0].seal_id != _sid(seal_id):
            raise SealReaderError("reply without this seal's status", request, seal_id)
        m = found[0]
        return SealReading(m.seal_id, m.status, m.battery_pct, m.sealed_at, m.opened_at)


def _sid(seal_id: str) -> str:
    return SealId.parse(seal_id).value
