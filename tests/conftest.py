"""Shared fixtures: a migrated store on a real SQLite file and on the real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from lane_controller.store.db import create_engine_for, make_session_factory
from lane_controller.store.migrate import upgrade

PG_URL = os.environ.get("LANE_CONTROLLER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SKIP_PG = os.environ.get("LANE_CONTROLLER_SKIP_PG") == "1"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL; parametrise with `backend` ("sqlite" or "postgres")."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'lane.db'}"
        return
    if SKIP_PG:
        pytest.skip("LANE_CONTROLLER_SKIP_PG=1")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store_engine(db_url: str) -> Iterator[Engine]:
    """A migrated store on the backend `db_url` names."""
    engine = create_engine_for(db_url)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sessions(store_engine: Engine) -> sessionmaker[Session]:
    """A session factory on the migrated store."""
    return make_session_factory(store_engine)
