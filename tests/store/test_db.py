"""Engine set-up: URL resolution, SQLite pragmas and BEGIN IMMEDIATE, UTC timestamps."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from lane_controller.store.db import (
    DB_URL_ENV,
    DEFAULT_DB_URL,
    DatabaseUnavailable,
    create_engine_for,
    make_session_factory,
    read_only_engine,
    resolve_db_url,
)
from lane_controller.store.migrate import upgrade
from lane_controller.store.models import (
    Lane,
    LaneSession,
    Read,
    TransportNote,
    TransportNoteContainer,
    TransportNoteSeal,
    TransportNoteVersion,
)


def test_resolve_db_url_prefers_argument_then_env_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_URL_ENV, raising=False)
    assert resolve_db_url(None) == DEFAULT_DB_URL == "sqlite:///var/lane-controller.db"
    monkeypatch.setenv(DB_URL_ENV, "sqlite:///from-env.db")
    assert resolve_db_url(None) == "sqlite:///from-env.db"
    assert resolve_db_url("sqlite:///arg.db") == "sqlite:///arg.db"


def test_no_engine_at_import() -> None:
    import lane_controller.store.audit as audit_module
    import lane_controller.store.db as db_module

    assert not any(isinstance(v, Engine) for v in vars(db_module).values())
    assert not any(isinstance(v, Engine) for v in vars(audit_module).values())


def test_sqlite_creates_parent_directory_only_when_asked_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "lane.db"
    with pytest.raises(DatabaseUnavailable, match=r"no folder .*a/b for the SQLite database"):
        create_engine_for(f"sqlite:///{path}")
    assert not (tmp_path / "a").exists()
    engine = create_engine_for(f"sqlite:///{path}", busy_timeout_ms=1234, create_folder=True)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
        assert path.exists()
    finally:
        engine.dispose()
    engine = create_engine_for(f"sqlite:///{path}", sqlite_synchronous="NORMAL")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    finally:
        engine.dispose()
    with pytest.raises(ValueError, match="sqlite_synchronous"):
        create_engine_for(f"sqlite:///{path}", sqlite_synchronous="SOMETIMES")  # type: ignore[arg-type]


def _write_lock_free(path: Path) -> bool:
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return False
    else:
        probe.execute("ROLLBACK")
        return True
    finally:
        probe.close()


def test_sqlite_transactions_begin_immediate(tmp_path: Path) -> None:
    path = tmp_path / "lane.db"
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        upgrade(engine)
        assert _write_lock_free(path)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))  # a mere read already holds the write lock
            assert not _write_lock_free(path)
        assert _write_lock_free(path)
        with Session(read_only_engine(engine)) as session:
            session.execute(text("SELECT last_seq FROM audit_head"))
            assert session.in_transaction()
            assert _write_lock_free(path)  # readers for verify/export do not stall the lanes
    finally:
        engine.dispose()


def test_sqlite_savepoints_roll_back_inside_transaction(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'lane.db'}")
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        with factory.begin() as session:
            session.add(Lane(id="L1", name="Gate 1", direction="exit", site_code="KHH"))
            with pytest.raises(IntegrityError), session.begin_nested():
                session.add(Lane(id="L1", name="dup", direction="exit", site_code="KHH"))
        with factory() as session:
            assert session.scalars(select(Lane.name)).all() == ["Gate 1"]
    finally:
        engine.dispose()


def test_timestamps_come_back_aware_utc(session_factory: sessionmaker[Session]) -> None:
    taipei = timezone(timedelta(hours=8))
    local = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=taipei)
    with session_factory.begin() as session:
        session.add(Lane(id="L1", name="Gate 1", direction="exit", site_code="KHH", created_at=local))
    with session_factory() as session:
        lane = session.execute(select(Lane)).scalar_one()
        assert lane.created_at.tzinfo is UTC
        assert lane.created_at == local
        assert lane.created_at.hour == 1
    naive = datetime(2025, 1, 1)
    with pytest.raises(StatementError, match="naive"), session_factory.begin() as session:
        session.add(Lane(id="L2", name="Gate 2", direction="entry", site_code="KHH", created_at=naive))


def test_model_graph_round_trip_and_foreign_keys(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        session.add(Lane(id="L1", name="Gate 1", direction="exit", site_code="KHH"))
        note = TransportNote(
            cn_number="CN1234567890",
            status="active",
            direction="exit",
            current_version=1,
            origin_site_code="KHH01",
            destination_station_code="2A",
            tractor_plate="KLA-1234",
            trailer_plate=None,
        )
        session.add(note)
        session.flush()
        version = TransportNoteVersion(note_id=note.id, version=1, message_function="9", document="{}")
        session.add(version)
        session.flush()
        session.add(TransportNoteContainer(version_id=version.id, position=1, container_number="CSQU3054383"))
        session.add(
            TransportNoteSeal(version_id=version.id, position=1, seal_id="ES0001", seal_type="e-seal")
        )
        lane_session = LaneSession(lane_id="L1", direction="exit", state="idle", transport_note_id=note.id)
        session.add(lane_session)
        session.flush()
        session.add(
            Read(
                session_id=lane_session.id,
                kind="plate",
                text="KLA-1234",
                confidence=0.97,
                box=[[1.0, 2.0], [3.0, 4.0]],
                accepted=True,
            )
        )
    with session_factory() as session:
        read = session.execute(select(Read)).scalar_one()
        assert read.box == [[1.0, 2.0], [3.0, 4.0]]
        assert len(read.session_id) == 36
        assert read.created_at.tzinfo is UTC
    with pytest.raises(IntegrityError), session_factory.begin() as session:
        session.add(
            Read(session_id="no-such-session", kind="plate", text="X", confidence=0.5, accepted=False)
        )
    with pytest.raises(IntegrityError), session_factory.begin() as session:
        session.add(Lane(id="L9", name="bad", direction="sideways", site_code="KHH"))
