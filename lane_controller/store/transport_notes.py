"""Repository of transport notes (CN) and their version history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
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


@dataclass(frozen=True, slots=True)
class StoredNote:
    """A stored note's row, its lifecycle state and its current version's document."""

    row: NoteRow
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


def load_note(session: Session, cn_number: str, *, for_update: bool = True) -> StoredNote | None:
    """The stored note with this number, row-locked for the rest of the transaction (PostgreSQL)."""
    query = select(NoteRow).where(NoteRow.cn_number == cn_number)
    if for_update:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        return None
    document = session.scalars(
        select(TransportNoteVersion.document).where(
            TransportNoteVersion.note_id == row.id, TransportNoteVersion.version == row.current_version
        )
    ).one()
    state = StoredNoteState(
        current_version=row.current_version,
        status=NoteStatus(row.status),
        officer_confirmed_by=row.officer_confirmed_by,
        officer_confirmed_at=row.officer_confirmed_at,
    )
    return StoredNote(row, state, document)


def _add_version(
    session: Session, row: NoteRow, *, version: int, function: str, document: str, at: datetime
) -> TransportNoteVersion:
    previous = session.scalars(
        select(TransportNoteVersion).where(
            TransportNoteVersion.note_id == row.id, TransportNoteVersion.version == row.current_version
        )
    ).one_or_none()
    if previous is not None and previous.version != version:
        previous.superseded_at = at
    added = TransportNoteVersion(
        note_id=row.id, version=version, message_function=function, document=document, received_at=at
    )
    session.add(added)
    row.current_version = version
    row.updated_at = at
    session.flush()
    return added


def save_note_version(
    session: Session,
    stored: StoredNote | None,
    note: TransportNote,
    *,
    version: int,
    document: str,
    at: datetime,
) -> NoteRow:
    """Store `note` as `version` (1 creates the note; later versions supersede the current one)."""
    if stored is None:
        row = NoteRow(
            cn_number=note.cn_number, status=NoteStatus.ACTIVE.value, current_version=0, created_at=at
        )
        session.add(row)
    else:
        row = stored.row
    row.direction = note.direction.value
    row.origin_site_code = note.origin_site_code
    row.destination_station_code = note.destination_station_code
    row.tractor_plate = str(note.tractor_plate)
    row.trailer_plate = str(note.trailer_plate) if note.trailer_plate else None
    session.flush()
    added = _add_version(
        session, row, version=version, function=note.function.value, document=document, at=at
    )
    for position, container in enumerate(note.containers):
        session.add(
            TransportNoteContainer(version_id=added.id, position=position, container_number=str(container))
        )
    for position, seal in enumerate(note.seals):
        session.add(
            TransportNoteSeal(
                version_id=added.id,
                position=position,
                seal_id=seal.seal_id.value,
                seal_type=seal.seal_type.value,
            )
        )
    return row


def save_cancel(
    session: Session, stored: StoredNote, *, version: int, document: str, at: datetime
) -> NoteRow:
    """Cancel the note: a version recording the cancel message, status `cancelled`."""
    row = stored.row
    _add_version(session, row, version=version, function="1", document=document, at=at)
    row.status = NoteStatus.CANCELLED.value
    return row


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


def record_officer_confirmation(session: Session, cn_number: str, officer_id: str, at: datetime) -> NoteRow:
    """Mark the note's vehicle seal as confirmed by a dedicated officer; the note is then frozen."""
    stored = load_note(session, cn_number)
    if stored is None:
        raise LookupError(f"CN {cn_number} is unknown")
    if stored.row.status != NoteStatus.ACTIVE.value:
        raise ValueError(f"CN {cn_number} is {stored.row.status}; its seal cannot be confirmed")
    stored.row.officer_confirmed_by = officer_id
    stored.row.officer_confirmed_at = at
    return stored.row
