"""The serial reader drivers as the lane's :class:`~lane_controller.fsm.protocols.TagReader` and
:class:`~lane_controller.fsm.protocols.SealReader`."""

from __future__ import annotations

from collections.abc import Sequence

from lane_controller.fsm.protocols import SealReport, SealState, TagRead, UnsealAuthorisation
from lane_controller.readers.eseal import SealReader as SealReaderDriver
from lane_controller.readers.eseal import SealReading
from lane_controller.readers.messages import SealStatus
from lane_controller.readers.rfid import TagReader as TagReaderDriver

_SEAL_STATES = {
    SealStatus.SEALED: SealState.SEALED,
    SealStatus.OPENED: SealState.OPENED,
    SealStatus.TAMPERED: SealState.TAMPERED,
}


def seal_report(reading: SealReading) -> SealReport:
    """A driver's seal reading as the lane sees it."""
    return SealReport(
        seal_id=reading.seal_id,
        state=_SEAL_STATES[reading.status],
        battery_pct=reading.battery_pct,
        sealed_at=reading.sealed_at,
        opened_at=reading.opened_at,
    )


class LaneTagReader:
    """One inventory round of the RFID driver per call."""

    def __init__(self, driver: TagReaderDriver) -> None:
        self.driver = driver

    async def read_tags(self) -> Sequence[TagRead]:
        """Tags heard during one inventory round."""
        return [TagRead(r.epc, r.antenna, float(r.rssi)) for r in await self.driver.read_tags()]


class LaneSealReader:
    """The e-seal driver: inventory, and the offline unseal with downloaded customs data."""

    def __init__(self, driver: SealReaderDriver) -> None:
        self.driver = driver

    async def inventory(self) -> Sequence[SealReport]:
        """Every seal heard on the truck now."""
        return [seal_report(r) for r in await self.driver.inventory()]

    async def unlock(self, seal_id: str, authorisation: UnsealAuthorisation) -> None:
        """Unlock one seal; raises when the seal refuses or reports it still sealed."""
        reading = await self.driver.unlock(seal_id, authorisation.cn_number, authorisation.token or None)
        if reading.status is SealStatus.SEALED:
            msg = f"seal {seal_id} still reports SEALED after the unlock was acknowledged"
            raise RuntimeError(msg)
