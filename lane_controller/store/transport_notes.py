"""Repository of transport notes (CN) and their version history.

The write path runs Core statements on a connection: CN ingestion commits one transaction per record,
and the ORM unit of work would cost several times the database work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from lane_controller.domain.cn_lifecycle import NoteStatus, StoredNoteState
from lane_controller.domain.transport_note import TransportNote
from lane_controller.store.models import (
    TransportNote as NoteRow,
)
from lane_controller.store.models import (
    TransportNoteContainer,
    TransportNoteSeal,
    TransportNoteVersion,
)

_notes: Table = NoteRow.__table__  # type: ignore[assignment]
_versions: Table = TransportNoteVersion.__table__  # type: ignore[assignment]
_containers: Table = TransportNoteContainer.__table__  # type: ignore[assignment]
_seals: Table = TransportNoteSeal.__table__  # type: ignore[assignment]

_SELECT_NOTE_FOR_UPDATE = (
    select(
        _notes.c.id,
        _notes.c.current_version,
        _notes.c.status,
        _notes.c.officer_confirmed_by,
        _notes.c.officer_confirmed_at,
        _versions.c.document,
    )
    .join(_versions, (_versions.c.note_id == _notes.c.id) & (_versions.c.version == _notes.c.current_version))
    .where(_notes.c.cn_number == bindparam("cn_number"))
    .with_for_update(of=_notes)
)
_INSERT_NOTE = insert(_notes).returning(_notes.c.id)
_INSERT_VERSION = insert(_versions).returning(_versions.c.id)
_INSERT_CONTAINER = insert(_containers)
_INSERT_SEAL = insert(_seals)
_SUPERSEDE = (
    update(_versions)
    .where(_versions.c.note_id == bindparam("b_note_id"), _versions.c.version == bindparam("b_version"))
    .values(superseded_at=bindparam("b_at"))
)


@dataclass(frozen=True, slots=True)
class StoredNote:
    """A stored note: its id, lifecycle state and its current version's document."""

    note_id: int
    cn_number: str
    state: StoredNoteState
    current_document: str


def _document_body(document: str) -> object:
    body = json.loads(document)
    if isinstance(body, dict):
        body.pop("function", None)
    return body


def same_content(document_a: str, document_b: str) -> bool:
    """True when two CN documents differ at most in their message function."""
    return _document_body(document_a) == _document_body(document_b)


def load_note(conn: Connection | Session, cn_number: str) -> StoredNote | None:
    """The stored note with this number, row-locked for the rest of the transaction (PostgreSQL)."""
    row = conn.execute(_SELECT_NOTE_FOR_UPDATE, {"cn_number": cn_number}).one_or_none()
    if row is None:
        return None
    state = StoredNoteState(
        current_version=row.current_version,
        status=NoteStatus(row.status),
        officer_confirmed_by=row.officer_confirmed_by,
        officer_confirmed_at=row.officer_confirmed_at,
    )
    return StoredNote(row.id, cn_number, state, row.document)


def _add_version(
    conn: Connection,
    note_id: int,
    previous: int | None,
    *,
    version: int,
    function: str,
    document: str,
    at: datetime,
) -> int:
    if previous is not None:
        conn.execute(_SUPERSEDE, {"b_note_id": note_id, "b_version": previous, "b_at": at})
    version_id: int = conn.execute(
        _INSERT_VERSION,
        {
            "note_id": note_id,
            "version": version,
            "message_function": function,
            "document": document,
            "received_at": at,
        },
    ).scalar_one()
    return version_id


def save_note_version(
    conn: Connection,
    stored: StoredNote | None,
    note: TransportNote,
    *,
    version: int,
    document: str,
    at: datetime,
) -> int:
    """Store `note` as `version` (1 creates the note; later ones supersede the current version)."""
    values: dict[str, Any] = {
        "direction": note.direction.value,
        "origin_site_code": note.origin_site_code,
        "destination_station_code": note.destination_station_code,
        "tractor_plate": str(note.tractor_plate),
        "trailer_plate": str(note.trailer_plate) if note.trailer_plate else None,
        "current_version": version,
        "updated_at": at,
    }
    if stored is None:
        note_id: int = conn.execute(
            _INSERT_NOTE,
            {**values, "cn_number": note.cn_number, "status": NoteStatus.ACTIVE.value, "created_at": at},
        ).scalar_one()
        previous = None
    else:
        note_id, previous = stored.note_id, stored.state.current_version
        conn.execute(update(_notes).where(_notes.c.id == note_id).values(**values))
    version_id = _add_version(
        conn, note_id, previous, version=version, function=note.function.value, document=document, at=at
    )
    if note.containers:
        conn.execute(
            _INSERT_CONTAINER,
            [
                {"version_id": version_id, "position": i, "container_number": str(c)}
                for i, c in enumerate(note.containers)
            ],
        )
    if note.seals:
        conn.execute(
            _INSERT_SEAL,
            [
                {
                    "version_id": version_id,
                    "position": i,
                    "seal_id": s.seal_id.value,
                    "seal_type": s.seal_type.value,
                }
                for i, s in enumerate(note.seals)
            ],
        )
    return note_id


def save_cancel(conn: Connection, stored: StoredNote, *, version: int, document: str, at: datetime) -> None:
    """Cancel the note: a version recording the cancel message, and status `cancelled`."""
    _add_version(
        conn,
        stored.note_id,
        stored.state.current_version,
        version=version,
        function="1",
        document=document,
        at=at,
    )
    conn.execute(
        update(_notes)
        .where(_notes.c.id == stored.note_id)
        .values(status=NoteStatus.CANCELLED.value, current_version=version, updated_at=at)
    )


def note_history(session: Session, cn_number: str) -> list[TransportNoteVersion]:
    """Every version of a note, oldest first."""
    return list(
        session.scalars(
            select(TransportNoteVersion)
            .join(NoteRow, NoteRow.id == TransportNoteVersion.note_id)
            .where(NoteRow.cn_number == cn_number)
            .order_by(TransportNoteVersion.version)
        )
    )


def record_officer_confirmation(session: Session, cn_number: str, officer_id: str, at: datetime) -> None:
    """Mark the note's vehicle seal as confirmed by a dedicated officer; the note is then frozen."""
    row = session.scalars(
        select(NoteRow).where(NoteRow.cn_number == cn_number).with_for_update()
    ).one_or_none()
    if row is None:
        raise LookupError(f"CN {cn_number} is unknown")
    if row.status != NoteStatus.ACTIVE.value:
        raise ValueError(f"CN {cn_number} is {row.status}; its seal cannot be confirmed")
    row.officer_confirmed_by = officer_id
    row.officer_confirmed_at = at
