"""Hot statements on the DBAPI cursor of a Core connection, compiled once per dialect by SQLAlchemy.

The lane writer and CN matching run for every step of every truck; SQLAlchemy's per-call execution
machinery costs ~90 us a statement on the lane PC, the driver ~16 us. Statements are compiled by
SQLAlchemy itself (same SQL text, same bind and result processing), so what is stored and read is
identical; anything these helpers cannot reproduce exactly falls back to ``conn.execute``.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement, Executable

__all__ = ["DbapiCursor", "fetch_all"]


def _open_cursor(conn: Connection) -> Any:
    """A DBAPI cursor in the connection's transaction, begun as ``conn.execute`` would (BEGIN IMMEDIATE
    on SQLite)."""
    if not conn.in_transaction():
        conn.begin()
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


@contextmanager
def _as_sqlalchemy_error(dialect: Dialect, sql: str, params: Any, *, ismulti: bool = False) -> Iterator[None]:
    """Re-raise a driver error as SQLAlchemy's (IntegrityError, OperationalError, ...)."""
    dbapi: Any = dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        raise DBAPIError.instance(sql, params, exc, dbapi.Error, dialect=dialect, ismulti=ismulti) from exc


# Hot statements run on the DBAPI cursor: each is compiled once per dialect by SQLAlchemy (same SQL text,
# same bind processors, so stored values are identical) and its rows are converted without the per-call
# execution machinery (~90 us a statement). A statement SQLAlchemy would add defaults or RETURNING to
# takes the ordinary ``conn.execute`` path instead.

_Processor = Callable[[Any], Any]
_NO_VALUE = object()


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement compiled for one dialect: its SQL and, per bind, (name, constant, processor)."""

    sql: str
    binds: tuple[tuple[str, Any, _Processor | None], ...]
    positional: bool

    def convert(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The DBAPI parameters for one row of ``params``, as SQLAlchemy would bind them."""
        values = [
            (params[name] if const is _NO_VALUE else const)
            if proc is None
            else proc(params[name] if const is _NO_VALUE else const)
            for name, const, proc in self.binds
        ]
        if self.positional:
            return values
        return {name: value for (name, _, _), value in zip(self.binds, values, strict=True)}


_COMPILED: weakref.WeakKeyDictionary[Dialect, dict[tuple[int, tuple[str, ...]], _Compiled | None]] = (
    weakref.WeakKeyDictionary()
)


def _compile(dialect: Dialect, stmt: Executable, keys: tuple[str, ...]) -> _Compiled | None:
    compiled: Any = cast(ClauseElement, stmt).compile(
        dialect=dialect, column_keys=list(keys), for_executemany=True
    )
    if compiled.insert_prefetch or compiled.update_prefetch or compiled.effective_returning:
        return None
    positional = bool(compiled.positional)
    names = compiled.positiontup if positional else list(compiled.binds)
    escaped = compiled.escaped_bind_names or {}
    binds = []
    for name in names:
        bind = compiled.binds[name]
        const = _NO_VALUE if name in keys else bind.effective_value
        proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
        binds.append((name if positional else escaped.get(name, name), const, proc))
        if const is _NO_VALUE and escaped.get(name, name) != name:
            return None
    return _Compiled(compiled.string, tuple(binds), positional)


def _compiled(dialect: Dialect, stmt: Executable, keys: tuple[str, ...]) -> _Compiled | None:
    cache = _COMPILED.setdefault(dialect, {})
    key = (id(stmt), keys)
    if key not in cache:
        cache[key] = _compile(dialect, stmt, keys)
    return cache[key]


class DbapiCursor:
    """Runs module-level statements of this batch on the connection's DBAPI cursor, in its transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._dialect = conn.dialect
        self._cursor = _open_cursor(conn)

    def close(self) -> None:
        """Close the DBAPI cursor."""
        self._cursor.close()

    def run(self, stmt: Executable, rows: Sequence[Mapping[str, Any]]) -> Any:
        """Execute ``stmt`` for every row (one executemany); returns something with ``fetchone``."""
        compiled = _compiled(self._dialect, stmt, tuple(rows[0]))
        if compiled is None:
            return self._conn.execute(stmt, list(rows) if len(rows) > 1 else rows[0])
        params = [compiled.convert(row) for row in rows]
        with _as_sqlalchemy_error(self._dialect, compiled.sql, params, ismulti=len(params) > 1):
            if len(params) == 1:
                self._cursor.execute(compiled.sql, params[0])
            else:
                self._cursor.executemany(compiled.sql, params)
        return self._cursor


# Reads: the searches of every truck run on the DBAPI cursor of a Core connection: SQLAlchemy compiles each
# once per dialect and expands its IN lists (``construct_expanded_state``, with its bind processors), which
# skips the per-call execution machinery. Only for columns read back without a result processor (ints and
# strings); anything else, and ORM sessions, take ``conn.execute``.
_RawPlan = tuple[Any, Any] | None
_RAW_PLANS: weakref.WeakKeyDictionary[Dialect, dict[int, _RawPlan]] = weakref.WeakKeyDictionary()


def _raw_plan(dialect: Dialect, stmt: Select[Any]) -> _RawPlan:
    plans = _RAW_PLANS.setdefault(dialect, {})
    if id(stmt) not in plans:
        columns = list(stmt.selected_columns)
        plain = all(c.type.dialect_impl(dialect).result_processor(dialect, None) is None for c in columns)
        row_type = namedtuple("_Row", [c.key for c in columns])  # type: ignore[misc]
        plans[id(stmt)] = (stmt.compile(dialect=dialect), row_type) if plain else None
    return plans[id(stmt)]


def fetch_all(conn: Connection | Session, stmt: Select[Any], params: Mapping[str, Any]) -> Sequence[Any]:
    """``conn.execute(stmt, params).all()``: rows with attribute access."""
    plan = _raw_plan(conn.dialect, stmt) if isinstance(conn, Connection) else None
    if plan is None or not isinstance(conn, Connection):
        return conn.execute(stmt, params).all()
    compiled, row_type = plan
    cursor = _open_cursor(conn)
    state = compiled.construct_expanded_state(params)
    values = {
        k: (state.processors[k](v) if k in state.processors else v) for k, v in state.parameters.items()
    }
    args: Any = values if state.positiontup is None else tuple(values[k] for k in state.positiontup)
    try:
        with _as_sqlalchemy_error(conn.dialect, state.statement, args):
            cursor.execute(state.statement, args)
            return [row_type(*r) for r in cursor.fetchall()]
    finally:
        cursor.close()
