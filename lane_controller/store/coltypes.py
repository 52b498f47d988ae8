"""Column types shared by the models: UTC-aware timestamps and JSON value typing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Dialect, Integer
from sqlalchemy.types import TypeDecorator, TypeEngine

from lane_controller.domain.json_value import JsonValue

__all__ = ["BigIntPK", "JsonValue", "UTCDateTime", "to_utc", "utcnow"]


BigIntPK: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit surrogate key; plain INTEGER on SQLite so that it aliases the rowid and autoincrements."""


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """Normalise an aware datetime to UTC; a naive one is refused rather than guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        msg = f"naive datetime {value.isoformat()} given where a timezone-aware one is required"
        raise ValueError(msg)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that always hands back aware UTC datetimes.

    PostgreSQL stores the instant; SQLite stores the UTC wall time as text and returns it naive, so
    results without a zone are read as UTC. Naive values are rejected on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = to_utc(value)
        if dialect.name == "sqlite":
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
