"""Full exit and entry flows, exceptions and a restart against the real store (SQLite file and PostgreSQL).

The CN comes in through the real ingestion, matching runs its SQL, and every lane record goes through the
store writer; the audit chain must verify afterwards.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from lane_controller.customs.cn_ingest import CNIngestor
from lane_controller.customs.cn_records import RawRecord
from lane_controller.domain.stations import StationTable
from lane_controller.fsm.events import OfficerConfirmed, OverrideDecision, StaffOverride
from lane_controller.fsm.fakes import FakeDevices, ManualClock
from lane_controller.fsm.protocols import (
    CommandKind,
    Observation,
    ReadKind,
    SealState,
    UnsealAuthorisation,
)
from lane_controller.fsm.states import LaneState
from lane_controller.lanes.store import StoreMatcher, StoreRecorder
from lane_controller.store.audit import verify_chain
from lane_controller.store.db import make_session_factory
from lane_controller.store.models import (
    AuditEntry,
    BarrierCommand,
    LaneSession,
    OutboxMessage,
    Read,
    SealEvent,
    TransportNote,
)
from tests.customs.cn_samples import cn_record
from tests.fsm.harness import ENTRY_SITE, SEAL, Lane, entry_config, exit_config, recognition, seal


@pytest.fixture
def store(migrated_engine: Engine) -> Iterator[tuple[StoreRecorder, StoreMatcher]]:
    recorder = StoreRecorder(migrated_engine)
    try:
        yield recorder, StoreMatcher(migrated_engine)
    finally:
        recorder.close()


def ingest(engine: Engine, *records: dict[str, Any]) -> None:
    ingestor = CNIngestor(engine, StationTable.packaged())
    for record in records:
        outcome = ingestor.ingest(RawRecord("test", record))
        assert outcome.accepted, outcome.errors


def run(coro: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(coro())


def rows(engine: Engine, model: Any) -> list[Any]:
    with make_session_factory(engine)() as session:
        return list(session.scalars(select(model)))


def audit(engine: Engine) -> list[AuditEntry]:
    with make_session_factory(engine)() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def assert_chain_ok(engine: Engine) -> None:
    with make_session_factory(engine)() as session:
        report = verify_chain(session)
    assert report.ok, str(report)


# The store flows run with the default journal policy (written ahead of barrier commands, on entering a
# lasting state, after people's commands, otherwise within 2 s); the in-memory flows write every event.
EXIT = exit_config(journal_max_delay_s=2.0)
ENTRY = entry_config(journal_max_delay_s=2.0)


def lane(store: tuple[StoreRecorder, StoreMatcher], config: Any = None, **kw: Any) -> Lane:
    recorder, matcher = store
    return Lane(config or EXIT, recorder=recorder, matcher=matcher, **kw)


def test_exit_flow_seals_confirmed_opens_and_closes(migrated_engine, store):
    ingest(migrated_engine, cn_record("CN0001"))

    async def scenario() -> None:
        x = await lane(store).start()
        await x.arrive()
        assert x.state is LaneState.PASSING
        assert x.status.cn_number == "CN0001"
        await x.drive_through()
        assert x.state is LaneState.IDLE
        await x.stop()
        sent = x.dev.barrier.sent
        assert [s.command.kind for s in sent] == [CommandKind.OPEN, CommandKind.CLOSE]
        assert not sent[1].inputs.under_boom

    run(scenario)
    entries = audit(migrated_engine)
    by_seq = {e.seq: e for e in entries}
    commands = sorted(rows(migrated_engine, BarrierCommand), key=lambda c: c.seq)
    assert [(c.command, c.seq, c.result) for c in commands] == [("open", 1, "open"), ("close", 2, "closed")]
    decision = by_seq[commands[0].decision_audit_seq]
    assert decision.kind == "lane.decision"
    assert json.loads(decision.payload)["decision"] == "open"
    assert json.loads(decision.payload)["basis"] == "automatic"
    (session,) = rows(migrated_engine, LaneSession)
    assert (session.outcome, session.state) == ("passed", "closing")
    assert session.ended_at is not None
    assert session.transport_note_id is not None
    start = next(e.seq for e in entries if e.kind == "lane.session_opened")
    assert [e.kind for e in entries if e.seq >= start and e.session_id != session.id] == []
    assert all(e.lane_id == "X1" for e in entries if e.kind != "cn.created")
    (seal_event,) = rows(migrated_engine, SealEvent)
    assert (seal_event.seal_id, seal_event.status, seal_event.cn_number) == (SEAL, "sealed", "CN0001")
    seal_messages = [m for m in rows(migrated_engine, OutboxMessage) if m.topic == "customs.seal"]
    assert len(seal_messages) == 1
    body = json.loads(seal_messages[0].payload)
    assert body["operation"] == "seal_confirmed"
    assert (body["route_code"], body["time_limit_minutes"]) == ("R01", 180)
    kinds = [e.kind for e in entries]
    assert kinds.index("lane.decision") < kinds.index("barrier.command")
    assert_chain_ok(migrated_engine)


def test_exit_phase1_vehicle_seal_waits_for_the_named_officer(migrated_engine, store):
    record = cn_record("CN0002", seals=[{"seal_id": "VS00000001", "seal_type": "vehicle_mounted"}])
    ingest(migrated_engine, record)

    async def scenario() -> None:
        x = lane(store)
        x.dev.seal_reader.put(seal("VS00000001"))
        await x.start()
        await x.arrive()
        assert x.state is LaneState.AWAITING_STAFF
        assert x.opens() == 0
        status = await x.command(OfficerConfirmed("officer-7", cn_number="CN0002"))
        assert status.state == LaneState.PASSING.value
        await x.drive_through()
        assert x.state is LaneState.IDLE
        await x.stop()

    run(scenario)
    (note,) = rows(migrated_engine, TransportNote)
    assert note.officer_confirmed_by == "officer-7"
    decision = next(e for e in audit(migrated_engine) if e.kind == "lane.decision")
    assert decision.actor == "officer-7"
    assert json.loads(decision.payload)["basis"] == "officer"
    assert_chain_ok(migrated_engine)


def _entry_record(cn: str = "CN0100", **changes: Any) -> dict[str, Any]:
    return cn_record(cn, **changes)


def test_exit_then_entry_offline_unseal_and_late_arrival_flag(migrated_engine, store):
    """One process, two lanes on one store: the exit records the trip, the entry checks its time limit."""
    ingest(migrated_engine, _entry_record())
    clock = ManualClock()

    async def scenario() -> None:
        out = await lane(store, EXIT, clock=clock).start()
        await out.arrive()
        await out.drive_through()
        assert out.state is LaneState.IDLE
        clock.advance(200 * 60)  # 200 min on the road, limit 180
        entry = lane(store, ENTRY, clock=clock)
        entry.dev.uplink.authorisations["CN0100"] = UnsealAuthorisation(
            "CN0100", (SEAL,), downloaded_at=clock.now() - timedelta(minutes=5), token="t"
        )
        await entry.start()
        await entry.arrive()
        assert entry.state is LaneState.PASSING, entry.status
        assert entry.dev.seal_reader.unlocked[0][0] == SEAL
        await entry.drive_through()
        await out.stop()
        await entry.stop()

    run(scenario)
    entries = audit(migrated_engine)
    flags = [json.loads(e.payload) for e in entries if e.kind == "lane.flag"]
    assert len(flags) == 1
    assert flags[0]["flag"] == "late_arrival"
    assert flags[0]["elapsed_min"] == pytest.approx(200, abs=1)
    ops = [
        json.loads(m.payload)["operation"]
        for m in rows(migrated_engine, OutboxMessage)
        if m.topic == "customs.seal"
    ]
    assert sorted(ops) == ["seal_confirmed", "unsealed"]
    events = {(e.operation, e.status) for e in rows(migrated_engine, SealEvent)}
    assert ("status", "opened") in events
    outcomes = sorted(s.outcome for s in rows(migrated_engine, LaneSession))
    assert outcomes == ["passed", "passed"]
    assert_chain_ok(migrated_engine)


def test_entry_expired_unseal_data_goes_to_review_with_that_reason(migrated_engine, store):
    ingest(migrated_engine, _entry_record())

    async def scenario() -> None:
        entry = lane(store, ENTRY)
        entry.dev.uplink.authorisations["CN0100"] = UnsealAuthorisation(
            "CN0100", (SEAL,), downloaded_at=entry.clock.now() - timedelta(minutes=16)
        )
        await entry.start()
        await entry.arrive()
        assert entry.state is LaneState.MANUAL_REVIEW
        assert entry.status.reason == "unseal_data_expired"
        assert entry.opens() == 0
        assert not entry.dev.seal_reader.unlocked
        await entry.stop()

    run(scenario)
    (session,) = rows(migrated_engine, LaneSession)
    assert (session.state, session.reason) == ("manual_review", "unseal_data_expired")
    assert_chain_ok(migrated_engine)


def test_no_cn_is_denied_until_the_truck_leaves(migrated_engine, store):
    async def scenario() -> None:
        x = await lane(store).start()
        await x.arrive()
        assert x.state is LaneState.DENIED
        assert "服務台" in x.status.message_zh
        assert "service counter" in x.status.message_en
        await x.leave()
        assert x.state is LaneState.IDLE
        assert x.dev.barrier.commands == []
        await x.stop()

    run(scenario)
    (session,) = rows(migrated_engine, LaneSession)
    assert (session.outcome, session.reason) == ("denied", "no_cn")
    assert_chain_ok(migrated_engine)


def test_several_candidates_then_staff_override_opens_with_person_and_reason(migrated_engine, store):
    ingest(migrated_engine, cn_record("CN0001"), cn_record("CN0002"))

    async def scenario() -> None:
        x = await lane(store).start()
        await x.arrive()
        assert x.state is LaneState.MANUAL_REVIEW
        assert x.status.reason == "several_cns"
        await x.command(StaffOverride("staff-3", "checked paperwork: CN0001", OverrideDecision.OPEN))
        assert x.state is LaneState.PASSING
        await x.drive_through()
        await x.stop()

    run(scenario)
    entries = audit(migrated_engine)
    override = [e for e in entries if e.kind == "staff.override"]
    assert len(override) == 1
    assert override[0].actor == "staff-3"
    decision = [
        e for e in entries if e.kind == "lane.decision" and json.loads(e.payload)["decision"] == "open"
    ]
    assert decision[0].actor == "staff-3"
    assert json.loads(decision[0].payload)["note"] == "checked paperwork: CN0001"
    assert_chain_ok(migrated_engine)


def test_container_mismatch_reviewed_then_denied_by_staff(migrated_engine, store):
    ingest(migrated_engine, cn_record("CN0001"))

    async def scenario() -> None:
        x = lane(store)
        x.dev.recognizer.result = recognition(containers=("TGHU0000008",))
        await x.start()
        await x.arrive()
        assert x.state is LaneState.MANUAL_REVIEW
        assert x.status.reason == "container_mismatch"
        await x.command(StaffOverride("staff-3", "wrong container", OverrideDecision.DENY))
        assert x.state is LaneState.DENIED
        await x.leave()
        assert x.state is LaneState.IDLE
        assert x.opens() == 0
        await x.stop()

    run(scenario)
    (session,) = rows(migrated_engine, LaneSession)
    assert (session.outcome, session.reason) == ("denied", "staff_denied")
    reads = rows(migrated_engine, Read)
    assert reads == []  # no per-frame observations from the fake recognizer; the voted reads are audited
    assert_chain_ok(migrated_engine)


def test_restart_with_truck_under_open_boom_resumes_and_closes_when_clear(migrated_engine, store):
    ingest(migrated_engine, cn_record("CN0001"))
    devices = FakeDevices()

    async def scenario() -> None:
        first = await lane(store, devices=devices).start()
        await first.arrive()
        await first.set(safety=True)
        assert first.state is LaneState.PASSING
        session_id = first.session_id
        await first.stop()  # crash: the process dies with the truck under the boom

        second = lane(store, devices=devices)
        second.dev.plant.feed = second.runner.feed_inputs
        await second.start()
        assert second.state is LaneState.PASSING
        assert second.session_id == session_id
        closes_before = sum(1 for c in devices.barrier.commands if c.kind is CommandKind.CLOSE)
        assert closes_before == 0  # never down onto the truck
        await second.set(arming=False)
        await second.set(exit=True)
        await second.set(safety=False)
        assert second.state is LaneState.IDLE
        await second.stop()

    run(scenario)
    entries = audit(migrated_engine)
    recovered = [json.loads(e.payload) for e in entries if e.kind == "lane.recovered"]
    assert recovered[-1]["session_action"] == "resumed"
    assert recovered[-1]["state"] == "passing"
    (session,) = rows(migrated_engine, LaneSession)
    assert session.outcome == "passed"
    seqs = [c.seq for c in sorted(rows(migrated_engine, BarrierCommand), key=lambda c: c.id)]
    assert seqs == sorted(set(seqs))  # sequence numbers continue across the restart
    assert_chain_ok(migrated_engine)


def test_restart_closes_a_half_done_session_when_the_truck_is_gone(migrated_engine, store):
    ingest(migrated_engine, cn_record("CN0001"))
    devices = FakeDevices()

    async def scenario() -> None:
        first = lane(store, devices=devices)
        first.dev.seal_reader.error = TimeoutError("reader silent")
        await first.start()
        await first.arrive()
        assert first.state is LaneState.MANUAL_REVIEW
        await first.stop()
        devices.plant.inputs = devices.plant.inputs.__class__()  # the truck drove off while we were down
        second = await lane(store, devices=devices).start()
        assert second.state is LaneState.IDLE
        await second.stop()

    run(scenario)
    (session,) = rows(migrated_engine, LaneSession)
    assert session.outcome == "interrupted"
    recovered = [json.loads(e.payload) for e in audit(migrated_engine) if e.kind == "lane.recovered"]
    assert recovered[-1]["session_action"] == "closed"
    assert_chain_ok(migrated_engine)


def test_entry_lane_matches_on_destination(migrated_engine, store):
    ingest(migrated_engine, cn_record("CN0100", time_limit_minutes=None, route_code=None))

    async def scenario() -> None:
        entry = lane(store, ENTRY)
        entry.dev.seal_reader.put(seal(state=SealState.OPENED))
        await entry.start()
        await entry.arrive()
        assert entry.state is LaneState.PASSING
        assert entry.status.cn_number == "CN0100"
        assert entry.config.site_code == ENTRY_SITE
        await entry.stop()

    run(scenario)
    assert_chain_ok(migrated_engine)


def test_reads_keep_their_frame_box_and_the_vote_its_alternatives(migrated_engine, store):
    """Every OCR read lands in `reads` with its frame's SHA-256 and box; the voted texts' alternatives are in
    the lane.read audit entry."""
    ingest(migrated_engine, cn_record("CN0001"))
    base = recognition()
    frame = "ab" * 32
    voted = dataclasses.replace(base.containers[0], alternatives=(("CSQU3054388", 0.1),))
    observations = (
        Observation(
            ReadKind.CONTAINER, "CSQU3054383", 0.93, camera="rear", image_sha256=frame, box=(10, 20, 300, 60)
        ),
        Observation(
            ReadKind.CONTAINER, "CSQU3O54383", 0.41, camera="rear", image_sha256=frame, accepted=False
        ),
    )

    async def scenario() -> None:
        x = lane(store)
        x.dev.recognizer.result = dataclasses.replace(base, containers=(voted,), observations=observations)
        await x.start()
        await x.arrive()
        await x.drive_through()
        await x.stop()

    run(scenario)
    reads = sorted(rows(migrated_engine, Read), key=lambda r: r.confidence, reverse=True)
    assert [(r.text, r.image_sha256, r.box, r.accepted) for r in reads] == [
        ("CSQU3054383", frame, [10, 20, 300, 60], True),
        ("CSQU3O54383", frame, None, False),
    ]
    (entry,) = [e for e in audit(migrated_engine) if e.kind == "lane.read"]
    containers = json.loads(entry.payload)["containers"]
    assert containers == [
        {"text": "CSQU3054383", "agreement": 0.95, "votes": 5, "alternatives": [["CSQU3054388", 0.1]]}
    ]
