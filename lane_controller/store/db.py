"""Engine and session factory for the lane store (SQLite file by default, PostgreSQL by URL)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DB_URL = "sqlite:///var/lane-controller.db"
"""A SQLite file in ``var/`` under the working folder (a relative path: not ``/var``)."""
DB_URL_ENV = "LANE_CONTROLLER_DB"

SqliteSynchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]
SqliteBegin = Literal["IMMEDIATE", "DEFERRED", "EXCLUSIVE"]

DEFAULT_SQLITE_SYNCHRONOUS: SqliteSynchronous = "FULL"
DEFAULT_BUSY_TIMEOUT_MS = 30_000

SQLITE_BEGIN_OPTION = "lane_controller_sqlite_begin"
"""Execution option naming the BEGIN mode on SQLite; IMMEDIATE unless a read-only engine asks otherwise."""

_SYNCHRONOUS_VALUES: frozenset[str] = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})
_BEGIN_VALUES: frozenset[str] = frozenset({"IMMEDIATE", "DEFERRED", "EXCLUSIVE"})


class DatabaseUnavailable(RuntimeError):
    """The database cannot be used: its URL is wrong, its server does not answer, its file's folder is
    missing. The message is one line meant for a person."""


def database_problem(exc: BaseException, url: str) -> str | None:
    """One line saying why the database at ``url`` cannot be used, when ``exc`` is such a failure
    (a refused or failed connection, a malformed URL, an unknown dialect); None for anything else."""
    if isinstance(exc, DatabaseUnavailable):
        return str(exc)
    shown = _display_url(url)
    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return f"database URL {shown!r} is not usable: {exc}"
    # OperationalError: refused, locked, unreachable; a bare DatabaseError: not a database at all (a
    # SQLite URL naming some other file). Integrity and programming errors are bugs, not the database's.
    if isinstance(exc, OperationalError | InterfaceError) or type(exc) is DatabaseError:
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        return f"database {shown} cannot be used: {_first_line(cause)}"
    if isinstance(exc, sqlite3.OperationalError | sqlite3.InterfaceError) or (
        type(exc) is sqlite3.DatabaseError
    ):
        return f"database {shown} cannot be used: {_first_line(exc)}"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _display_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def resolve_db_url(url: str | None) -> str:
    """The URL given, else ``$LANE_CONTROLLER_DB``, else :data:`DEFAULT_DB_URL`."""
    if url:
        return url
    return os.environ.get(DB_URL_ENV) or DEFAULT_DB_URL


def _normalise_url(url: str | URL) -> URL:
    parsed = make_url(url)
    # Only psycopg 3 is installed: plain postgresql:// URLs would otherwise pick psycopg2.
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine_for(
    url: str | URL,
    *,
    sqlite_synchronous: SqliteSynchronous = DEFAULT_SQLITE_SYNCHRONOUS,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    create_folder: bool = False,
    **engine_kwargs: Any,
) -> Engine:
    """Create an engine configured for the lane store.

    SQLite: the file's folder must exist (``create_folder`` makes it); every connection runs in WAL mode
    with foreign keys on, ``busy_timeout`` and the given ``synchronous`` level; pysqlite's own
    transaction handling is turned off and every transaction starts with ``BEGIN IMMEDIATE`` so that
    concurrent writers queue for the write lock instead of failing on a lock upgrade. PostgreSQL goes
    through psycopg 3.
    """
    parsed = _normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine_kwargs.setdefault("pool_pre_ping", True)
        try:
            return create_engine(parsed, **engine_kwargs)
        except ModuleNotFoundError as exc:
            msg = (
                f"database URL {_display_url(str(url))!r} needs the driver {exc.name}, which is not "
                "installed (SQLite, and PostgreSQL through psycopg 3, are)"
            )
            raise DatabaseUnavailable(msg) from exc

    if sqlite_synchronous not in _SYNCHRONOUS_VALUES:
        msg = f"sqlite_synchronous must be one of {sorted(_SYNCHRONOUS_VALUES)}, not {sqlite_synchronous!r}"
        raise ValueError(msg)
    database = parsed.database
    in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
    if not in_memory and database is not None:
        folder = Path(database).expanduser().parent
        if create_folder:
            folder.mkdir(parents=True, exist_ok=True)
        elif not folder.is_dir():
            msg = f"no folder {folder} for the SQLite database {database} (check the path, or create it)"
            raise DatabaseUnavailable(msg)

    engine = create_engine(parsed, **engine_kwargs)
    _install_sqlite_hooks(engine, sqlite_synchronous=sqlite_synchronous, busy_timeout_ms=busy_timeout_ms)
    return engine


def _install_sqlite_hooks(engine: Engine, *, sqlite_synchronous: str, busy_timeout_ms: int) -> None:
    # The recipe from SQLAlchemy's SQLite dialect documentation ("Enabling Non-Legacy SQLite
    # Transactional Modes"): pysqlite never emits BEGIN itself, SQLAlchemy's "begin" event does.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA synchronous = {sqlite_synchronous}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = str(conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")).upper()
        if mode not in _BEGIN_VALUES:
            msg = f"{SQLITE_BEGIN_OPTION} must be one of {sorted(_BEGIN_VALUES)}, not {mode!r}"
            raise ValueError(msg)
        # Straight to the driver: this runs once per transaction, and the statement needs no compiling.
        conn.connection.driver_connection.execute(f"BEGIN {mode}")  # type: ignore[union-attr]


def read_only_engine(engine: Engine) -> Engine:
    """The same engine and pool, but SQLite transactions start ``BEGIN DEFERRED``.

    For long reads (audit verify/export) that must not hold SQLite's write lock and stall the lanes;
    in WAL mode such a reader sees one consistent snapshot. No effect on PostgreSQL.
    """
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)
