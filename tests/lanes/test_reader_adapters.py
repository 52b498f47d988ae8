"""The reader drivers behind the lane's TagReader/SealReader Protocols, against simulated readers on ptys."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lane_controller.fsm.protocols import SealState, UnsealAuthorisation
from lane_controller.lanes.readers import LaneSealReader, LaneTagReader
from lane_controller.readers.errors import ReaderNak
from tests.readers.harness import EPC_A, EPC_B, FRAMINGS, SEAL, run, seal_pair, tag_pair


@pytest.mark.parametrize("framing", FRAMINGS)
def test_tags_as_the_lane_sees_them(tmp_path: Path, framing: str) -> None:
    async def body() -> None:
        async with tag_pair(tmp_path, framing) as (_sim, driver):  # type: ignore[arg-type]
            tags = await LaneTagReader(driver).read_tags()
            assert {(t.epc, t.antenna, t.rssi) for t in tags} == {(EPC_A, 1, -50.0), (EPC_B, 2, -70.0)}

    run(body)


@pytest.mark.parametrize("framing", FRAMINGS)
def test_seal_inventory_and_offline_unseal(tmp_path: Path, framing: str) -> None:
    async def body() -> None:
        async with seal_pair(tmp_path, framing) as (sim, driver):  # type: ignore[arg-type]
            sim.world.unseal_tokens[SEAL] = "T0K3N"
            await driver.lock(SEAL, "CN1")
            reader = LaneSealReader(driver)
            (report,) = await reader.inventory()
            assert (report.seal_id, report.state) == (SEAL, SealState.SEALED)
            assert report.sealed_at is not None and report.opened_at is None
            now = datetime.now(UTC)
            with pytest.raises(ReaderNak, match="NOT_AUTHORISED"):
                await reader.unlock(SEAL, UnsealAuthorisation("CN1", (SEAL,), now, token="WRONG"))
            await reader.unlock(SEAL, UnsealAuthorisation("CN1", (SEAL,), now, token="T0K3N"))
            (opened,) = await reader.inventory()
            assert opened.state is SealState.OPENED and opened.opened_at is not None

    run(body)
