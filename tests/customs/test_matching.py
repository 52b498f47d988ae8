"""CN matching against the real store on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from lane_controller.customs.cn_ingest import CNIngestor
from lane_controller.customs.cn_records import RawRecord
from lane_controller.customs.matching import (
    _CANDIDATES,
    MatchKind,
    MatchQuery,
    MismatchReason,
    match_transport_note,
)
from lane_controller.domain.enums import Direction
from lane_controller.domain.stations import StationTable
from lane_controller.store.db import create_engine_for
from lane_controller.store.migrate import upgrade
from tests.customs.cn_samples import cn_record

PLATES = ("KLA1234", "AB1234")
CONTAINER = "CSQU3054383"


def ingest(engine: Engine, *records: dict[str, Any]) -> None:
    ingestor = CNIngestor(engine, StationTable.packaged())
    for record in records:
        assert ingestor.ingest(RawRecord("t", record)).accepted


def match(
    engine: Engine, plates: tuple[str, ...] = PLATES, containers: tuple[str, ...] = (CONTAINER,), **kw: Any
):
    query = MatchQuery(kw.get("direction", Direction.EXIT), kw.get("site", "KHC1"), plates, containers)
    with engine.connect() as conn:
        return match_transport_note(conn, query)


def test_one_match_carries_the_note(migrated_engine: Engine) -> None:
    ingest(
        migrated_engine,
        cn_record("CN0001"),
        cn_record("CN0002", tractor_plate="KLB-5678", containers=["TGHU0000008"]),
    )
    result = match(migrated_engine)
    assert result.kind is MatchKind.MATCH
    assert result.note is not None
    assert result.note.cn_number == "CN0001"
    assert result.note.note.seals[0].seal_id.value == "ES00012345"
    assert result.note.note.release_instruction_code == "1"
    assert result.summary()["cn_number"] == "CN0001"


def test_none_several_and_mismatches(migrated_engine: Engine) -> None:
    assert match(migrated_engine).kind is MatchKind.NONE
    assert match(migrated_engine, plates=(), containers=()).kind is MatchKind.NONE
    ingest(migrated_engine, cn_record("CN0001"))
    plate = match(migrated_engine, plates=("KLZ9999",))
    assert plate.kind is MatchKind.MISMATCH
    assert plate.reasons == (MismatchReason.PLATE,)
    container = match(migrated_engine, containers=("TGHU0000008",))
    assert container.kind is MatchKind.MISMATCH
    assert container.reasons == (MismatchReason.CONTAINERS,)
    extra = match(migrated_engine, containers=(CONTAINER, "TGHU0000008"))
    assert extra.kind is MatchKind.MISMATCH
    ingest(migrated_engine, cn_record("CN0002"))
    several = match(migrated_engine)
    assert several.kind is MatchKind.SEVERAL
    assert [c.cn_number for c in several.candidates] == ["CN0001", "CN0002"]


def test_cancelled_other_site_and_direction_are_not_candidates(migrated_engine: Engine) -> None:
    ingest(
        migrated_engine,
        cn_record("CN0001"),
        {"function": "1", "cn_number": "CN0001", "issued_at": "2026-11-26T10:00:00+08:00"},
        cn_record("CN0002", origin_site_code="TPE1"),
        cn_record("CN0003", direction="entry"),
    )
    assert match(migrated_engine).kind is MatchKind.NONE


def test_entry_lane_matches_by_destination(migrated_engine: Engine) -> None:
    ingest(migrated_engine, cn_record("CN0001"))
    assert match(migrated_engine, direction=Direction.ENTRY, site="KELC").kind is MatchKind.MATCH
    assert match(migrated_engine, direction=Direction.ENTRY, site="TPEC").kind is MatchKind.NONE
    result = match(migrated_engine, direction=Direction.ENTRY, site="KELC")
    assert result.note is not None
    assert result.note.departed_at is None  # no exit recorded in this store


def test_replaced_note_matches_its_current_version(migrated_engine: Engine) -> None:
    ingest(
        migrated_engine, cn_record("CN0001"), cn_record("CN0001", function="5", containers=["TGHU0000008"])
    )
    assert match(migrated_engine).kind is MatchKind.MISMATCH
    current = match(migrated_engine, containers=("TGHU0000008",))
    assert current.kind is MatchKind.MATCH
    assert current.note is not None
    assert current.note.version == 2


def test_a_shared_trailer_plate_alone_makes_no_candidate(migrated_engine: Engine) -> None:
    """A chassis pool carries many notes' containers: notes that share only the trailer are not candidates,
    so the truck on its own note still matches, and a truck whose tractor and containers match nothing finds
    nothing (it is not a mismatch with every note of the pool)."""
    ingest(
        migrated_engine,
        cn_record("CN0001"),
        cn_record("CN0002", tractor_plate="KLB-5678", containers=["TGHU0000008"]),
        cn_record("CN0003", tractor_plate="KLC-9012", containers=["MSKU0000006"]),
    )
    result = match(migrated_engine)
    assert result.kind is MatchKind.MATCH
    assert [c.cn_number for c in result.candidates] == ["CN0001"]
    stranger = match(migrated_engine, plates=("KLZ9999", "AB1234"), containers=("HLXU0000002",))
    assert stranger.kind is MatchKind.NONE


def test_a_container_only_on_a_replaced_version_makes_no_candidate(migrated_engine: Engine) -> None:
    ingest(
        migrated_engine,
        cn_record("CN0001"),
        cn_record("CN0001", function="5", tractor_plate="KLB-5678", containers=["TGHU0000008"]),
    )
    assert match(migrated_engine, plates=("KLZ9999",)).kind is MatchKind.NONE


def test_candidates_are_found_through_indexes_not_a_scan_of_every_note(tmp_path: Path) -> None:
    """The search must not read every note ever stored: its cost stays flat as the notes pile up."""
    engine = create_engine_for(f"sqlite:///{tmp_path / 'plan.db'}")
    upgrade(engine)
    for (direction, with_containers), stmt in _CANDIDATES.items():
        compiled = stmt.compile(dialect=engine.dialect)
        params = {"site": "KHC1", "plates": list(PLATES), "containers": [CONTAINER]}
        state = compiled.construct_expanded_state(params)
        assert state.positiontup is not None
        args = tuple(state.parameters[k] for k in state.positiontup)
        with engine.connect() as conn:
            plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + state.statement, args)]
        scans = [step for step in plan if step.startswith("SCAN")]
        assert not scans, (direction, with_containers, plan)
    engine.dispose()
