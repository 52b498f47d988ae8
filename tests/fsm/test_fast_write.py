"""The lane writer's DBAPI fast path stores exactly what SQLAlchemy's own execution stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from lane_controller.customs.cn_ingest import CNIngestor
from lane_controller.customs.cn_records import RawRecord
from lane_controller.customs.matching import MatchKind, MatchQuery, match_transport_note
from lane_controller.domain.enums import Direction
from lane_controller.domain.stations import StationTable
from lane_controller.store import fast_sql
from lane_controller.store.audit import AuditEvent, canonical_json, verify_chain
from lane_controller.store.db import make_session_factory
from lane_controller.store.lane_records import (
    AuditItem,
    BarrierAckRow,
    BarrierCommandRow,
    LaneRecord,
    ReadRow,
    SealEventRow,
    SessionChanged,
    SessionClosed,
    SessionOpened,
    _canonical_payload,
    ensure_lane,
    write_records,
)
from lane_controller.store.models import BarrierCommand, LaneSession, Read, SealEvent

T0 = datetime(2026, 11, 26, 2, 0, 0, 123456, tzinfo=UTC)
TAIPEI = timezone(timedelta(hours=8))


def _records(sid: str) -> list[LaneRecord]:
    decision = AuditItem(AuditEvent("lane.decision", {"d": "open"}, lane_id="L1", session_id=sid), T0)
    return [
        SessionOpened(sid, "L1", "exit", T0.astimezone(TAIPEI), "identifying"),
        ReadRow(sid, "plate", "KLA1000", 0.9, True, T0),
        ReadRow(sid, "container", "BNCU0000001", 0.8, False, T0, camera="c1"),
        SessionChanged(sid, "matching"),
        SessionChanged(sid, "sealing", reason="r"),
        SealEventRow(sid, "ES1", "status", "sealed", T0, battery_pct=90, device_time=T0.astimezone(TAIPEI)),
        decision,
        BarrierCommandRow("L1", sid, "open", 1, T0, decision),
        BarrierAckRow("L1", 1, T0 + timedelta(seconds=1), "open"),
        SessionClosed(sid, "passing", T0 + timedelta(seconds=2), "passed"),
        AuditItem(AuditEvent("lane.session_closed", {}, lane_id="L1", session_id=sid), T0),
    ]


def test_fast_path_rows_read_back_as_given(migrated_engine: Engine) -> None:
    with migrated_engine.begin() as conn:
        ensure_lane(conn, "L1", name="L1", direction="exit", site_code="KHC1")
        write_records(conn, _records("s-1"))
    with make_session_factory(migrated_engine)() as session:
        assert verify_chain(session).ok
        lane_session = session.get(LaneSession, "s-1")
        assert lane_session is not None
        assert lane_session.started_at == T0
        assert lane_session.ended_at == T0 + timedelta(seconds=2)
        assert (lane_session.state, lane_session.reason, lane_session.outcome) == ("passing", "r", "passed")
        reads = session.scalars(select(Read).order_by(Read.id)).all()
        assert [(r.kind, r.accepted, r.camera, r.created_at) for r in reads] == [
            ("plate", True, None, T0),
            ("container", False, "c1", T0),
        ]
        seal = session.scalars(select(SealEvent)).one()
        assert (seal.device_time, seal.recorded_at, seal.battery_pct) == (T0, T0, 90)
        command = session.scalars(select(BarrierCommand)).one()
        assert command.issued_at == T0
        assert command.acked_at == T0 + timedelta(seconds=1)
        assert command.result == "open"
        assert command.decision_audit_seq is not None


def test_fast_path_errors_are_sqlalchemy_errors(migrated_engine: Engine) -> None:
    with migrated_engine.begin() as conn:
        ensure_lane(conn, "L1", name="L1", direction="exit", site_code="KHC1")
        write_records(conn, [SessionOpened("s-1", "L1", "exit", T0, "identifying")])
    with pytest.raises(IntegrityError), migrated_engine.begin() as conn:
        write_records(conn, [SessionOpened("s-1", "L1", "exit", T0, "identifying")])


def test_write_records_begins_like_autobegin(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as conn:
        ensure_lane(conn, "L1", name="L1", direction="exit", site_code="KHC1")
        conn.commit()
        write_records(conn, [SessionOpened("s-2", "L1", "exit", T0, "identifying")])
        assert conn.in_transaction()
        conn.rollback()
    with migrated_engine.connect() as conn:
        assert conn.scalar(select(LaneSession.id).where(LaneSession.id == "s-2")) is None


@pytest.mark.parametrize(
    "payload",
    [{}, {"b": 1, "a": [1.5, None, True]}, {"中": "文", "z": {"y": "x\u2028"}}, {"n": -0.0, "e": 1e100}],
)
def test_batch_payload_encoder_is_canonical_json(payload: dict[str, object]) -> None:
    assert _canonical_payload(payload) == canonical_json(payload)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Out of range"):
        _canonical_payload({"x": float("nan")})


def test_sqlalchemy_path_when_not_compiled(migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_sql, "_compiled", lambda *_: None)
    test_fast_path_rows_read_back_as_given(migrated_engine)


def test_matching_fast_path_equals_sqlalchemy_path(migrated_engine: Engine) -> None:
    cn: dict[str, Any] = {
        "function": "9",
        "cn_number": "CNL000001",
        "direction": "exit",
        "origin_site_code": "KHC1",
        "destination_station_code": "KELC",
        "containers": ["BNCU0000012"],
        "tractor_plate": "KLA1001",
        "trailer_plate": "AB-1234",
        "transport_tool_category": "1",
        "seals": [{"seal_id": "ES00000001", "seal_type": "electronic"}],
        "release_instruction_code": "1",
        "route_code": "R01",
        "time_limit_minutes": 180,
        "issued_at": "2026-11-26T09:30:00+08:00",
    }
    ingestor = CNIngestor(migrated_engine, StationTable.packaged())
    for record in (cn, {**cn, "cn_number": "CNL000002", "tractor_plate": "KLA1002"}):
        assert ingestor.ingest(RawRecord("test", record)).accepted
    queries = [
        MatchQuery(Direction.EXIT, "KHC1", ("KLA1001", "AB1234"), ("BNCU0000012",)),
        MatchQuery(Direction.EXIT, "KHC1", ("KLA1001",), ()),
        MatchQuery(Direction.EXIT, "KHC1", ("KLA9999",), ()),
        MatchQuery(Direction.ENTRY, "KELC", ("KLA1002",), ("BNCU0000012",)),
    ]
    with migrated_engine.connect() as conn:  # the DBAPI path
        fast = [match_transport_note(conn, q) for q in queries]
    with make_session_factory(migrated_engine)() as session:  # SQLAlchemy's own execution
        slow = [match_transport_note(session, q) for q in queries]
    assert fast == slow
    assert [r.kind for r in fast] == [MatchKind.MATCH, MatchKind.MISMATCH, MatchKind.NONE, MatchKind.MATCH]
