"""The dedicated officer's (專責人員) confirmation of a CN's vehicle seal, phase 1 (DESIGN §2), from the
command line: the photo is kept as evidence named by its SHA-256, the note is marked confirmed (and can
no longer be replaced) and the confirmation is audited under the officer's name, in one transaction."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from sqlalchemy import Engine

from lane_controller.customs.cn_message import CNNote, parse_cn_message
from lane_controller.domain.enums import MonitoringPhase
from lane_controller.store.audit import AuditEvent, append_audit
from lane_controller.store.coltypes import JsonValue, utcnow
from lane_controller.store.db import make_session_factory
from lane_controller.store.transport_notes import load_note, record_officer_confirmation

OFFICER_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
"""An officer's id as it is audited: letters, digits and ``. _ @ -``, at most 64 (the audit's actor)."""
PHOTO_KINDS: Final = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}
"""The photo formats taken, by their leading bytes."""
MAX_PHOTO_BYTES: Final = 20 << 20


class ConfirmationRefused(ValueError):
    """The confirmation cannot be recorded; the message says why (unknown CN, no seal to confirm, ...)."""


@dataclass(frozen=True, slots=True)
class Photo:
    """A photo read and checked once: its bytes and the file extension of its format."""

    data: bytes
    ext: str


@dataclass(frozen=True, slots=True)
class SealConfirmation:
    """What was recorded: the CN, the officer, the photo's hash and where the photo is kept."""

    cn_number: str
    officer_id: str
    photo_sha256: str
    photo_path: Path
    at: datetime


def check_officer_id(officer_id: str) -> str:
    """The id as given, or ConfirmationRefused naming what is wrong with it (empty, too long, a
    character that could forge a line of output or of the log)."""
    if not OFFICER_ID.fullmatch(officer_id):
        shown = officer_id[:64].encode("unicode_escape").decode()
        raise ConfirmationRefused(
            f"officer id {shown!r}: 1-64 letters, digits or . _ @ -, starting with a letter or digit"
        )
    return officer_id


def read_photo(path: Path) -> Photo:
    """The photo at ``path``; refuses a missing, empty, oversized or non-image file."""
    if not path.is_file():
        raise ConfirmationRefused(f"photo {path}: no such file")
    data = path.read_bytes()
    if not data or len(data) > MAX_PHOTO_BYTES:
        raise ConfirmationRefused(f"photo {path}: {len(data)} bytes (1 to {MAX_PHOTO_BYTES} expected)")
    for magic, ext in PHOTO_KINDS.items():
        if data.startswith(magic):
            return Photo(data, ext)
    raise ConfirmationRefused(f"photo {path}: not a JPEG or PNG image")


def confirm_seal(
    engine: Engine,
    cn_number: str,
    officer_id: str,
    photo: Photo,
    evidence_dir: Path,
    *,
    phase: MonitoringPhase = MonitoringPhase.PHASE_1,
    at: datetime | None = None,
) -> SealConfirmation:
    """Record the officer's confirmation of ``cn_number``'s vehicle seal with ``photo`` as evidence."""
    officer = check_officer_id(officer_id)
    data, ext = photo.data, photo.ext
    digest = hashlib.sha256(data).hexdigest()
    when = at or utcnow()
    number = cn_number.strip().upper()
    with make_session_factory(engine).begin() as session:
        stored = load_note(session, number)
        if stored is None:
            raise ConfirmationRefused(f"CN {number} is unknown")
        if stored.state.officer_confirmed_by is not None:
            raise ConfirmationRefused(
                f"CN {number} was already confirmed by officer {stored.state.officer_confirmed_by}"
            )
        message = parse_cn_message(json.loads(stored.current_document))
        if not isinstance(message, CNNote) or not message.to_domain().officer_confirmation_required(phase):
            raise ConfirmationRefused(
                f"CN {number} needs no officer confirmation in phase {phase.value} (only a vehicle seal that "
                "replaces the electronic seal, release code 1 or B, does)"
            )
        try:
            record_officer_confirmation(session, number, officer, when)
        except (LookupError, ValueError) as exc:
            raise ConfirmationRefused(str(exc)) from exc
        kept = evidence_dir / f"{digest}.{ext}"
        payload: dict[str, JsonValue] = {
            "cn_number": number,
            "photo_sha256": digest,
            "photo_bytes": len(data),
            "photo": kept.name,
        }
        append_audit(session, AuditEvent("cn.seal_confirmed", payload, actor=officer), at=when)
        # The evidence is written before the transaction commits: a confirmation never lacks its photo.
        try:
            evidence_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfirmationRefused(f"evidence folder {evidence_dir}: {exc.strerror or exc}") from exc
        if not kept.exists():
            partial = kept.with_suffix(".part")
            partial.write_bytes(data)
            shutil.move(partial, kept)
    return SealConfirmation(number, officer, digest, kept, when)
