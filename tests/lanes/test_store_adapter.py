"""The store port: batches of lane records, group commit, isolation of a bad batch, the chain intact."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from lane_controller.lanes.store import StoreRecorder
from lane_controller.store.audit import AuditEvent, canonical_entry_json, canonical_json, verify_chain
from lane_controller.store.db import make_session_factory
from lane_controller.store.lane_records import (
    AuditItem,
    BarrierCommandRow,
    LaneRecord,
    SessionOpened,
    entry_json,
    last_barrier_seq,
    open_sessions,
)
from lane_controller.store.models import AuditEntry, BarrierCommand, LaneSession

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def batch(lane: str, i: int) -> list[LaneRecord]:
    sid = f"{lane}-{i:06d}"
    decision = AuditItem(AuditEvent("lane.decision", {"decision": "open"}, lane_id=lane, session_id=sid), T0)
    return [
        SessionOpened(sid, lane, "exit", T0, "identifying"),
        AuditItem(AuditEvent("fsm.transition", {"i": i}, lane_id=lane, session_id=sid), T0),
        decision,
        BarrierCommandRow(lane, sid, "open", i, T0, decision),
    ]


def test_many_lanes_group_commit_keeps_order_and_chain(migrated_engine: Engine) -> None:
    recorder = StoreRecorder(migrated_engine)

    async def lane(name: str) -> None:
        await recorder.prepare_lane(name, name=name, direction="exit", site_code="KHC1")
        for i in range(1, 21):
            await recorder.commit(batch(name, i))

    async def scenario() -> None:
        await asyncio.gather(*(lane(f"L{n}") for n in range(8)))

    try:
        asyncio.run(scenario())
    finally:
        recorder.close()
    assert recorder.batches == 8 * 20 + 8
    assert recorder.transactions < recorder.batches  # some batches shared a commit
    factory = make_session_factory(migrated_engine)
    with factory() as session:
        assert verify_chain(session).ok
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 8 * 20 * 2
        for command in session.scalars(select(BarrierCommand)):
            entry = session.get(AuditEntry, command.decision_audit_seq)
            assert entry is not None
            assert entry.kind == "lane.decision"
            assert entry.session_id == command.session_id
    with migrated_engine.connect() as conn:
        assert last_barrier_seq(conn, "L3") == 20
        assert len(open_sessions(conn, "L3")) == 20


def test_a_bad_batch_fails_alone(migrated_engine: Engine) -> None:
    recorder = StoreRecorder(migrated_engine)

    async def scenario() -> list[BaseException | None]:
        await recorder.prepare_lane("L1", name="L1", direction="exit", site_code="KHC1")
        bad = [SessionOpened("x-1", "NO-SUCH-LANE", "exit", T0, "identifying")]
        results = await asyncio.gather(
            recorder.commit(batch("L1", 1)),
            recorder.commit(bad),
            recorder.commit(batch("L1", 2)),
            return_exceptions=True,
        )
        return list(results)

    try:
        results = asyncio.run(scenario())
    finally:
        recorder.close()
    assert results[0] is None
    assert isinstance(results[1], Exception)
    assert results[2] is None
    with make_session_factory(migrated_engine)() as session:
        assert verify_chain(session).ok
        assert session.scalar(select(func.count()).select_from(LaneSession)) == 2


def test_lane_direction_is_checked(migrated_engine: Engine) -> None:
    recorder = StoreRecorder(migrated_engine)

    async def scenario() -> None:
        await recorder.prepare_lane("L1", name="L1", direction="exit", site_code="KHC1")
        with pytest.raises(ValueError, match="exit lane"):
            await recorder.prepare_lane("L1", name="L1", direction="entry", site_code="KHC1")

    try:
        asyncio.run(scenario())
    finally:
        recorder.close()


_TEXT = st.one_of(st.none(), st.text(min_size=1, max_size=20))
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    kind=st.text(min_size=1, max_size=20),
    lane=_TEXT,
    session=_TEXT,
    actor=_TEXT,
    payload=st.dictionaries(st.text(max_size=8), _JSON, max_size=4),
    seq=st.integers(min_value=1, max_value=2**53),
    micros=st.integers(min_value=0, max_value=10**12),
)
def test_spliced_entry_json_is_the_canonical_entry_json(
    kind, lane, session, actor, payload, seq, micros
) -> None:
    at = T0 + timedelta(microseconds=micros)
    event = AuditEvent(kind, payload, lane_id=lane or None, session_id=session or None, actor=actor or None)
    expected = canonical_entry_json(
        seq=seq,
        recorded_at=at,
        lane_id=event.lane_id,
        session_id=event.session_id,
        kind=event.kind,
        actor=event.actor,
        payload=json.loads(canonical_json(payload)),
    )
    assert entry_json(seq, at, event, canonical_json(payload)) == expected
