"""Database fixtures: every database test runs on a SQLite file and on a fresh PostgreSQL schema.

PostgreSQL: ``$LANE_CONTROLLER_TEST_PG_URL``, else ``postgresql+psycopg://postgres@127.0.0.1:5432/test``
(then user ``root``). An unreachable server fails the PostgreSQL tests unless
``LANE_CONTROLLER_SKIP_PG=1``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from lane_controller.store.db import create_engine_for, make_session_factory
from lane_controller.store.migrate import upgrade

PG_URL_ENV = "LANE_CONTROLLER_TEST_PG_URL"
SKIP_PG_ENV = "LANE_CONTROLLER_SKIP_PG"
PG_DEFAULT_URLS = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)


def _reachable(url: str) -> str | None:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    finally:
        engine.dispose()
    return None


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    if os.environ.get(SKIP_PG_ENV) == "1":
        pytest.skip(f"{SKIP_PG_ENV}=1")
    override = os.environ.get(PG_URL_ENV)
    candidates = (override,) if override else PG_DEFAULT_URLS
    failures = []
    for url in candidates:
        error = _reachable(url)
        if error is None:
            return url
        failures.append(f"{make_url(url).render_as_string(hide_password=True)}: {error}")
    pytest.fail(
        "PostgreSQL unreachable (set " + PG_URL_ENV + " or " + SKIP_PG_ENV + "=1):\n" + "\n".join(failures)
    )


@pytest.fixture
def pg_schema_url(pg_base_url: str) -> Iterator[str]:
    """A URL whose connections use a fresh schema (``options=-csearch_path=...``), dropped afterwards."""
    schema = f"lc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(pg_base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        (tmp_path / "store").mkdir()
        return sqlite_url(tmp_path / "store" / "lane.db")
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database."""
    eng = create_engine_for(db_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def migrated_engine(engine: Engine) -> Engine:
    upgrade(engine)
    return engine


@pytest.fixture
def session_factory(migrated_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(migrated_engine)
