"""Declarative models of the lane store. Schema changes go through ``store/migrations``."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CHAR,
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lane_controller.store.coltypes import BigIntPK, JsonValue, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first audit entry."""


def _new_uuid() -> str:
    return str(uuid.uuid4())


def _in(column: str, *values: str) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012


class Lane(Base):
    __tablename__ = "lanes"
    __table_args__ = (CheckConstraint(_in("direction", "exit", "entry"), name="direction"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    direction: Mapped[str] = mapped_column(String(8))
    site_code: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TransportNote(Base):
    """A customs transport note (CN); its content lives in versions, amendments add a version."""

    __tablename__ = "transport_notes"
    __table_args__ = (
        CheckConstraint(_in("status", "active", "cancelled"), name="status"),
        CheckConstraint(_in("direction", "exit", "entry"), name="direction"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cn_number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    current_version: Mapped[int] = mapped_column(Integer)
    origin_site_code: Mapped[str] = mapped_column(String(16))
    destination_station_code: Mapped[str] = mapped_column(String(16))
    tractor_plate: Mapped[str] = mapped_column(String(16), index=True)
    trailer_plate: Mapped[str | None] = mapped_column(String(16), index=True)
    officer_confirmed_by: Mapped[str | None] = mapped_column(String(64))
    officer_confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TransportNoteVersion(Base):
    __tablename__ = "transport_note_versions"
    __table_args__ = (
        UniqueConstraint("note_id", "version"),
        CheckConstraint(_in("message_function", "9", "5", "1"), name="message_function"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("transport_notes.id"))
    version: Mapped[int] = mapped_column(Integer)
    message_function: Mapped[str] = mapped_column(String(1))
    document: Mapped[str] = mapped_column(Text)
    """The whole CN message as JSON text."""
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None]


class TransportNoteContainer(Base):
    __tablename__ = "transport_note_containers"
    __table_args__ = (UniqueConstraint("version_id", "position"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("transport_note_versions.id"))
    position: Mapped[int] = mapped_column(Integer)
    container_number: Mapped[str] = mapped_column(String(11), index=True)


class TransportNoteSeal(Base):
    __tablename__ = "transport_note_seals"
    __table_args__ = (UniqueConstraint("version_id", "position"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("transport_note_versions.id"))
    position: Mapped[int] = mapped_column(Integer)
    seal_id: Mapped[str] = mapped_column(String(32), index=True)
    seal_type: Mapped[str] = mapped_column(String(16))


class LaneSession(Base):
    """One truck passage through a lane."""

    __tablename__ = "lane_sessions"
    __table_args__ = (
        CheckConstraint(_in("direction", "exit", "entry"), name="direction"),
        Index(None, "lane_id", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_new_uuid)
    lane_id: Mapped[str] = mapped_column(ForeignKey("lanes.id"))
    direction: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    transport_note_id: Mapped[int | None] = mapped_column(ForeignKey("transport_notes.id"), index=True)


class Read(Base):
    """A plate, container-number or RFID read taken during a session."""

    __tablename__ = "reads"
    __table_args__ = (CheckConstraint(_in("kind", "plate", "container", "rfid"), name="kind"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("lane_sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    camera: Mapped[str | None] = mapped_column(String(64))
    image_sha256: Mapped[str | None] = mapped_column(CHAR(64))
    box: Mapped[JsonValue] = mapped_column(JSON, nullable=True)
    accepted: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SealEvent(Base):
    __tablename__ = "seal_events"
    __table_args__ = (
        CheckConstraint(_in("operation", "status", "lock", "unlock"), name="operation"),
        CheckConstraint(f"status IS NULL OR {_in('status', 'sealed', 'opened', 'tampered')}", name="status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("lane_sessions.id"), index=True)
    seal_id: Mapped[str] = mapped_column(String(32), index=True)
    operation: Mapped[str] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(16))
    battery_pct: Mapped[int | None] = mapped_column(Integer)
    cn_number: Mapped[str | None] = mapped_column(String(32))
    device_time: Mapped[datetime | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class BarrierCommand(Base):
    __tablename__ = "barrier_commands"
    __table_args__ = (
        CheckConstraint(_in("command", "open", "close", "stop", "reset"), name="command"),
        Index(None, "lane_id", "seq"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    lane_id: Mapped[str] = mapped_column(ForeignKey("lanes.id"))
    session_id: Mapped[str | None] = mapped_column(ForeignKey("lane_sessions.id"), index=True)
    command: Mapped[str] = mapped_column(String(8))
    seq: Mapped[int] = mapped_column(Integer)
    decision_audit_seq: Mapped[int | None] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    acked_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """One hash-chained audit entry. Append only through :func:`lane_controller.store.audit.append_audit`.

    ``lane_id`` and ``session_id`` are deliberately not foreign keys: the log must outlive and stand
    apart from the operational tables.
    """

    __tablename__ = "audit_log"

    # On SQLite an INTEGER PRIMARY KEY is the rowid itself: one b-tree less to write per append.
    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime] = mapped_column(index=True)
    lane_id: Mapped[str | None] = mapped_column(String(32), index=True)
    session_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    """Canonical JSON of the event payload."""
    prev_hash: Mapped[str] = mapped_column(CHAR(64))
    entry_hash: Mapped[str] = mapped_column(CHAR(64))


class AuditHead(Base):
    """The single row naming the last audit entry; locked by every append."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(CHAR(64))


class OutboxMessage(Base):
    """A message for the customs platform, kept until acknowledged."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "acked_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    message_key: Mapped[str] = mapped_column(String(128), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    """Canonical JSON of the message body."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
