"""The customs outbox: every message is kept until the platform acknowledges it.

Enqueueing is idempotent on ``message_key``, so a step that is retried (after a crash, a lost reply)
never queues a second copy; the uplink sends ``due`` messages and records the outcome.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lane_controller.store.coltypes import JsonValue, to_utc, utcnow
from lane_controller.store.models import OutboxMessage

DEFAULT_ACK_TIMEOUT = timedelta(minutes=5)
"""How long a sent but unacknowledged message waits before it is due again."""


class OutboxConflictError(ValueError):
    """The message key is already queued with a different topic or payload."""


_outbox: Table = OutboxMessage.__table__  # type: ignore[assignment]
_INSERT_MESSAGE = insert(_outbox)


def _canonical(payload: Mapping[str, JsonValue]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def decode_payload(message: OutboxMessage) -> dict[str, JsonValue]:
    decoded: dict[str, JsonValue] = json.loads(message.payload)
    return decoded


def _by_key(session: Session, message_key: str) -> OutboxMessage | None:
    return session.execute(
        select(OutboxMessage).where(OutboxMessage.message_key == message_key)
    ).scalar_one_or_none()


def _check_same(existing: OutboxMessage, topic: str, payload_text: str) -> OutboxMessage:
    if existing.topic != topic or existing.payload != payload_text:
        msg = (
            f"outbox message key {existing.message_key!r} is already queued with a different "
            f"{'topic' if existing.topic != topic else 'payload'} (message id {existing.id})"
        )
        raise OutboxConflictError(msg)
    return existing


def enqueue_new(
    conn: Connection,
    topic: str,
    message_key: str,
    payload: Mapping[str, JsonValue],
    *,
    at: datetime | None = None,
) -> None:
    """Queue a message whose key is new by construction (e.g. it names a new version), in one INSERT.

    A key already taken raises `IntegrityError` and fails the caller's transaction; use `enqueue` where
    a retried step may queue the same message twice.
    """
    now = to_utc(at) if at is not None else utcnow()
    conn.execute(
        _INSERT_MESSAGE,
        {
            "topic": topic,
            "message_key": message_key,
            "payload": _canonical(payload),
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
        },
    )


def enqueue(
    session: Session,
    topic: str,
    message_key: str,
    payload: Mapping[str, JsonValue],
    *,
    at: datetime | None = None,
) -> OutboxMessage:
    """Queue a message in the caller's transaction, or return the one already queued under that key.

    Raises :class:`OutboxConflictError` when the key is taken by a different topic or payload.
    """
    payload_text = _canonical(payload)
    existing = _by_key(session, message_key)
    if existing is not None:
        return _check_same(existing, topic, payload_text)
    now = to_utc(at) if at is not None else utcnow()
    message = OutboxMessage(
        topic=topic,
        message_key=message_key,
        payload=payload_text,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        # Another writer queued the same key between our look-up and insert.
        existing = _by_key(session, message_key)
        if existing is None:
            raise
        return _check_same(existing, topic, payload_text)
    return message


def due(session: Session, now: datetime | None = None, limit: int = 100) -> Sequence[OutboxMessage]:
    """Unacknowledged messages whose next attempt is due, oldest first."""
    moment = to_utc(now) if now is not None else utcnow()
    return (
        session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.acked_at.is_(None), OutboxMessage.next_attempt_at <= moment)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def pending_count(session: Session) -> int:
    """Messages not yet acknowledged."""
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.acked_at.is_(None))
    return session.execute(query).scalar_one()


def _resolve(session: Session, message: OutboxMessage | int) -> OutboxMessage:
    if isinstance(message, OutboxMessage):
        return message
    found = session.get(OutboxMessage, message)
    if found is None:
        msg = f"no outbox message with id {message}"
        raise LookupError(msg)
    return found


def mark_sent(
    session: Session,
    message: OutboxMessage | int,
    *,
    at: datetime | None = None,
    resend_at: datetime | None = None,
) -> OutboxMessage:
    """Record a send. Unless acknowledged by ``resend_at`` (default ``at`` + 5 min), it is due again."""
    row = _resolve(session, message)
    now = to_utc(at) if at is not None else utcnow()
    row.sent_at = now
    row.attempts += 1
    row.last_error = None
    row.next_attempt_at = to_utc(resend_at) if resend_at is not None else now + DEFAULT_ACK_TIMEOUT
    return row


def mark_acked(
    session: Session, message: OutboxMessage | int, *, at: datetime | None = None
) -> OutboxMessage:
    """Record the platform's acknowledgement; the message is never due again."""
    row = _resolve(session, message)
    if row.acked_at is None:
        row.acked_at = to_utc(at) if at is not None else utcnow()
    return row


def mark_failed(
    session: Session,
    message: OutboxMessage | int,
    *,
    error: str,
    retry_at: datetime,
) -> OutboxMessage:
    """Record a failed attempt and when to try again."""
    row = _resolve(session, message)
    row.attempts += 1
    row.last_error = error
    row.next_attempt_at = to_utc(retry_at)
    return row
