"""The hash-chained audit log: append, verify, tamper detection, concurrent writers."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from lane_controller.store.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditLog,
    VerifyReport,
    append_audit,
    canonical_entry_json,
    canonical_json,
    compute_entry_hash,
    verify_chain,
)
from lane_controller.store.coltypes import JsonValue
from lane_controller.store.db import create_engine_for, make_session_factory
from lane_controller.store.migrate import upgrade
from lane_controller.store.models import AuditEntry, AuditHead, Lane

T0 = datetime(2025, 6, 1, 8, 0, 0, 123456, tzinfo=UTC)


def _event(i: int) -> AuditEvent:
    return AuditEvent(
        kind="plate.read" if i % 2 else "barrier.open",
        payload={"i": i, "plate": f"KLA-{1000 + i}", "note": "運送單", "score": 0.5 + i / 1000},
        lane_id=f"L{1 + i % 2}",
        session_id=f"00000000-0000-4000-8000-{i:012d}",
        actor=f"operator{i % 3}",
    )


def _fill(session_factory: sessionmaker[Session], n: int = 20) -> AuditLog:
    log = AuditLog(session_factory)
    for i in range(1, n + 1):
        log.append(_event(i), at=T0 + timedelta(seconds=i))
    return log


def _verify(session_factory: sessionmaker[Session]) -> VerifyReport:
    with session_factory() as session:
        return verify_chain(session)


def test_entries_chain_as_specified(session_factory: sessionmaker[Session]) -> None:
    log = AuditLog(session_factory)
    first = log.append(AuditEvent(kind="lane.start", payload={"b": 1, "a": [1, "二"]}), at=T0)
    second = log.append(AuditEvent(kind="lane.stop", payload={}, lane_id="L1", actor="op"), at=T0)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH == "0" * 64
    expected_text = (
        '{"actor":null,"kind":"lane.start","lane_id":null,"payload":{"a":[1,"二"],"b":1},'
        '"recorded_at":"2025-06-01T08:00:00.123456+00:00","seq":1,"session_id":null}'
    )
    assert first.entry_hash == hashlib.sha256((GENESIS_HASH + expected_text).encode()).hexdigest()
    assert second.prev_hash == first.entry_hash
    with session_factory() as session:
        stored = session.execute(select(AuditEntry).where(AuditEntry.seq == 1)).scalar_one()
        assert stored.payload == '{"a":[1,"二"],"b":1}'
        assert stored.recorded_at == T0
        head = session.execute(select(AuditHead)).scalar_one()
        assert (head.last_seq, head.last_hash) == (2, second.entry_hash)


def test_verify_ok(session_factory: sessionmaker[Session]) -> None:
    report = _verify(session_factory)
    assert str(report) == f"OK: 0 entries, chain head {GENESIS_HASH}"
    _fill(session_factory, 25)
    with session_factory() as session:
        head_hash = session.execute(select(AuditHead.last_hash)).scalar_one()
        report = verify_chain(session)
    assert report.ok
    assert report.entries == 25
    assert str(report) == f"OK: 25 entries, chain head {head_hash}"


def test_append_commits_and_rolls_back_with_the_callers_work(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        session.add(Lane(id="L1", name="Gate 1", direction="exit", site_code="KHH"))
        record = append_audit(session, AuditEvent(kind="lane.created", payload={"id": "L1"}, lane_id="L1"))
    assert record.seq == 1
    session = session_factory()
    session.add(Lane(id="L2", name="Gate 2", direction="entry", site_code="KHH"))
    append_audit(session, AuditEvent(kind="lane.created", payload={"id": "L2"}, lane_id="L2"))
    session.rollback()
    session.close()
    with session_factory() as session:
        assert session.scalars(select(Lane.id)).all() == ["L1"]
        assert session.scalars(select(AuditEntry.seq)).all() == [1]
        assert session.execute(select(AuditHead.last_seq)).scalar_one() == 1
    # several appends in one transaction chain to each other
    with session_factory.begin() as session:
        a = append_audit(session, AuditEvent(kind="x"))
        b = append_audit(session, AuditEvent(kind="y"))
    assert (a.seq, b.seq, b.prev_hash) == (2, 3, a.entry_hash)
    assert _verify(session_factory).ok


def test_event_validation() -> None:
    with pytest.raises(ValueError, match="kind"):
        AuditEvent(kind="")
    with pytest.raises(ValueError, match="actor"):
        AuditEvent(kind="k", actor="")
    with pytest.raises(ValueError, match="lane_id"):
        AuditEvent(kind="k", lane_id="")


def test_append_rejects_nan_and_naive_time(session_factory: sessionmaker[Session]) -> None:
    log = AuditLog(session_factory)
    with pytest.raises(ValueError, match="JSON"):
        log.append(AuditEvent(kind="k", payload={"x": float("nan")}))
    with pytest.raises(ValueError, match="naive"):
        log.append(AuditEvent(kind="k"), at=datetime(2025, 1, 1))
    assert _verify(session_factory).entries == 0


# ------------------------------------------------------------------------------------------ tampering


def _flip(value: str, index: int) -> str:
    """Change one character (XOR 1 keeps digits digits and hex hex)."""
    return value[:index] + chr(ord(value[index]) ^ 1) + value[index + 1 :]


def _tamper_string(column: str, index: int) -> Callable[[Session, int], None]:
    def tamper(session: Session, seq: int) -> None:
        attr = getattr(AuditEntry, column)
        current = session.execute(select(attr).where(AuditEntry.seq == seq)).scalar_one()
        session.execute(
            update(AuditEntry).where(AuditEntry.seq == seq).values({column: _flip(current, index)})
        )

    return tamper


def _tamper_recorded_at(session: Session, seq: int) -> None:
    current = session.execute(select(AuditEntry.recorded_at).where(AuditEntry.seq == seq)).scalar_one()
    iso = current.isoformat(timespec="microseconds")  # 2025-06-01T08:00:07.123456+00:00
    flipped = datetime.fromisoformat(_flip(iso, iso.index("+") - 1))
    assert flipped != current
    session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(recorded_at=flipped))


TAMPERS: dict[str, Callable[[Session, int], None]] = {
    "payload": _tamper_string("payload", 12),
    "payload-structure": _tamper_string("payload", 0),
    "kind": _tamper_string("kind", 2),
    "recorded_at": _tamper_recorded_at,
    "actor": _tamper_string("actor", 3),
    "lane_id": _tamper_string("lane_id", 1),
    "session_id": _tamper_string("session_id", 35),
    "prev_hash": _tamper_string("prev_hash", 40),
    "entry_hash": _tamper_string("entry_hash", 5),
}


@pytest.mark.parametrize("column", list(TAMPERS))
def test_tampering_any_column_is_found_at_that_seq(
    session_factory: sessionmaker[Session], column: str
) -> None:
    _fill(session_factory, 20)
    with session_factory.begin() as session:
        TAMPERS[column](session, 7)
    report = _verify(session_factory)
    assert report.problem is not None
    assert report.problem.seq == 7
    assert report.problem.kind == "altered entry"
    assert report.entries == 6
    assert str(report).startswith("FAIL at seq 7: altered entry (stored hash ")


@pytest.mark.parametrize("column", ["payload", "entry_hash"])
def test_tampering_the_last_entry_is_found(session_factory: sessionmaker[Session], column: str) -> None:
    _fill(session_factory, 5)
    with session_factory.begin() as session:
        TAMPERS[column](session, 5)
    report = _verify(session_factory)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (5, "altered entry")


def test_rehashed_entry_breaks_the_link(session_factory: sessionmaker[Session]) -> None:
    """An attacker who recomputes the altered entry's own hash still breaks the chain at it."""
    _fill(session_factory, 10)
    with session_factory.begin() as session:
        row = session.execute(select(AuditEntry).where(AuditEntry.seq == 4)).scalar_one()
        row.payload = canonical_json({"i": 4, "plate": "FORGED"})
        row.prev_hash = "f" * 64
        session.flush()
    with session_factory.begin() as session:
        row = session.execute(select(AuditEntry).where(AuditEntry.seq == 4)).scalar_one()
        text_ = canonical_entry_json(
            seq=4,
            recorded_at=row.recorded_at,
            lane_id=row.lane_id,
            session_id=row.session_id,
            kind=row.kind,
            actor=row.actor,
            payload=json.loads(row.payload),
        )
        row.entry_hash = compute_entry_hash(row.prev_hash, text_)
    report = _verify(session_factory)
    assert str(report).startswith("FAIL at seq 4: broken link (prev_hash ffff")


@pytest.mark.parametrize(
    ("deleted", "kind"), [(10, "missing entry"), (1, "missing entry"), (20, "truncated log")]
)
def test_deleted_entry_is_found(session_factory: sessionmaker[Session], deleted: int, kind: str) -> None:
    _fill(session_factory, 20)
    with session_factory.begin() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == deleted))
    report = _verify(session_factory)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (deleted, kind)
    assert str(report).startswith(f"FAIL at seq {deleted}: {kind}")


def _swap_seq(session: Session, a: int, b: int) -> None:
    session.execute(update(AuditEntry).where(AuditEntry.seq == a).values(seq=-1))
    session.execute(update(AuditEntry).where(AuditEntry.seq == b).values(seq=a))
    session.execute(update(AuditEntry).where(AuditEntry.seq == -1).values(seq=b))


@pytest.mark.parametrize(("a", "b"), [(5, 12), (8, 9), (3, 20), (19, 20), (1, 2)])
def test_swapped_entries_are_found_at_the_first(
    session_factory: sessionmaker[Session], a: int, b: int
) -> None:
    _fill(session_factory, 20)
    with session_factory.begin() as session:
        _swap_seq(session, a, b)
    report = _verify(session_factory)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (a, "reordered entry")
    assert f"fits seq {b}" in str(report)


def test_duplicated_entry_is_found(session_factory: sessionmaker[Session]) -> None:
    _fill(session_factory, 8)
    with session_factory.begin() as session:
        row = session.execute(select(AuditEntry).where(AuditEntry.seq == 4)).scalar_one()
        copy = AuditEntry(
            seq=9,
            recorded_at=row.recorded_at,
            lane_id=row.lane_id,
            session_id=row.session_id,
            kind=row.kind,
            actor=row.actor,
            payload=row.payload,
            prev_hash=row.prev_hash,
            entry_hash=row.entry_hash,
        )
        session.add(copy)
        session.execute(update(AuditHead).values(last_seq=9, last_hash=row.entry_hash))
    report = _verify(session_factory)
    assert str(report) == "FAIL at seq 9: duplicate entry (copy of the entry at seq 4)"


def test_head_out_of_step_is_found(session_factory: sessionmaker[Session]) -> None:
    _fill(session_factory, 5)
    with session_factory.begin() as session:
        session.execute(update(AuditHead).values(last_hash="e" * 64))
    report = _verify(session_factory)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (5, "head mismatch")


def test_unparseable_timestamp_is_an_altered_entry(tmp_path: Path) -> None:
    """SQLite only: PostgreSQL cannot store an invalid timestamp."""
    engine = create_engine_for(f"sqlite:///{tmp_path / 'lane.db'}")
    try:
        upgrade(engine)
        session_factory = make_session_factory(engine)
        _fill(session_factory, 5)
        with session_factory.begin() as session:
            session.execute(text("UPDATE audit_log SET recorded_at = 'yesterday' WHERE seq = 3"))
        report = _verify(session_factory)
        assert str(report).startswith("FAIL at seq 3: altered entry")
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------ concurrency


def test_concurrent_writers_keep_seq_gap_free(session_factory: sessionmaker[Session]) -> None:
    writers, per_writer = 8, 50
    log = AuditLog(session_factory)
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []
    seqs: list[int] = []
    lock = threading.Lock()

    def work(w: int) -> None:
        try:
            barrier.wait()
            for i in range(per_writer):
                record = log.append(AuditEvent(kind="load", payload={"w": w, "i": i}, lane_id=f"L{w}"))
                with lock:
                    seqs.append(record.seq)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    total = writers * per_writer
    assert sorted(seqs) == list(range(1, total + 1))
    with session_factory() as session:
        assert session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all() == list(
            range(1, total + 1)
        )
        report = verify_chain(session)
    assert report.ok, str(report)
    assert report.entries == total


def _process_writer(url: str, writer: int, count: int) -> None:
    engine = create_engine_for(url)
    try:
        log = AuditLog(make_session_factory(engine))
        for i in range(count):
            log.append(AuditEvent(kind="proc", payload={"w": writer, "i": i}))
    finally:
        engine.dispose()


def test_concurrent_processes_keep_seq_gap_free(db_url: str, migrated_engine: Engine) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_process_writer, args=(db_url, w, 25)) for w in range(4)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    with make_session_factory(migrated_engine)() as session:
        assert session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all() == list(range(1, 101))
        assert verify_chain(session).ok


# ------------------------------------------------------------------------------------------ canonical JSON

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), _json_values, max_size=6))
def test_canonical_payload_text_is_a_fixed_point(payload: dict[str, JsonValue]) -> None:
    """verify_chain re-parses the stored payload text: it must re-serialise to the same text."""
    first = canonical_json(payload)
    assert canonical_json(json.loads(first)) == first
