"""Matching a truck's voted reads to the active transport note (CN) it travels on.

Candidates are the active (not cancelled) notes for the lane's site and direction whose tractor plate or a
container is among the reads (a trailer plate alone is no evidence: a chassis pool carries many notes'
containers, so sharing only the trailer would make every note of the pool a candidate):

- exit lane: notes issued by this site (``origin_site_code``) for an exit move;
- entry lane: notes whose destination station (``destination_station_code``) is this site.

A candidate *agrees* when its tractor plate is among the plates read and its containers are exactly the
containers read, and, at an exit lane, no truck has already left through an exit on it (a CN covers one
trip: a second exit on it is a mismatch for a person to judge). The result is one match, none, several
candidates, or a mismatch (a note shares a plate or a container but not everything) with the reasons.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    Table,
    bindparam,
    func,
    select,
    union,
)
from sqlalchemy.orm import Session

from lane_controller.customs.cn_message import CNNote, parse_cn_message
from lane_controller.domain.cn_lifecycle import NoteStatus
from lane_controller.domain.enums import Direction
from lane_controller.domain.matching import (
    CandidateNote,
    MatchedNote,
    MatchKind,
    MatchQuery,
    MatchResult,
    MismatchReason,
)
from lane_controller.domain.transport_note import TransportNote
from lane_controller.store.fast_sql import fetch_all
from lane_controller.store.models import LaneSession, TransportNoteContainer, TransportNoteVersion
from lane_controller.store.models import TransportNote as NoteRow

__all__ = [
    "CandidateNote",
    "MatchKind",
    "MatchQuery",
    "MatchResult",
    "MatchedNote",
    "MismatchReason",
    "match_transport_note",
]

_notes: Table = NoteRow.__table__  # type: ignore[assignment]
_versions: Table = TransportNoteVersion.__table__  # type: ignore[assignment]
_containers: Table = TransportNoteContainer.__table__  # type: ignore[assignment]
_sessions: Table = LaneSession.__table__  # type: ignore[assignment]


def _candidate_statement(direction: Direction, with_containers: bool) -> Select[Any]:
    site = (
        (_notes.c.origin_site_code == bindparam("site")) & (_notes.c.direction == Direction.EXIT.value)
        if direction is Direction.EXIT
        else _notes.c.destination_station_code == bindparam("site")
    )
    # The notes sharing a plate or a container, found through their indexes (an OR of the two tests in
    # the outer WHERE would make the database scan every note ever stored).
    plates: BindParameter[str] = bindparam("plates", expanding=True)
    sharing: Select[Any] | CompoundSelect[Any] = select(_notes.c.id).where(_notes.c.tractor_plate.in_(plates))
    if with_containers:
        sharing = union(
            sharing,
            select(_versions.c.note_id)
            .join(_containers, _containers.c.version_id == _versions.c.id)
            .join(
                current := _notes.alias("current"),
                (current.c.id == _versions.c.note_id) & (current.c.current_version == _versions.c.version),
            )
            .where(_containers.c.container_number.in_(bindparam("containers", expanding=True))),
        )
    shares: ColumnElement[bool] = _notes.c.id.in_(sharing)
    return (
        select(
            _notes.c.id,
            _notes.c.cn_number,
            _notes.c.current_version,
            _notes.c.tractor_plate,
            _notes.c.officer_confirmed_by,
            _versions.c.id.label("version_id"),
        )
        .join(
            _versions,
            (_versions.c.note_id == _notes.c.id) & (_versions.c.version == _notes.c.current_version),
        )
        .where(_notes.c.status == NoteStatus.ACTIVE.value, site, shares)
        .order_by(_notes.c.cn_number)
    )


# Built once: matching runs for every truck.
_CANDIDATES = {(d, c): _candidate_statement(d, c) for d in Direction for c in (False, True)}
_CONTAINERS = (
    select(_containers.c.version_id, _containers.c.container_number)
    .where(_containers.c.version_id.in_(bindparam("ids", expanding=True)))
    .order_by(_containers.c.version_id, _containers.c.position)
)
_DOCUMENT = select(_versions.c.document).where(_versions.c.id == bindparam("id"))
_DEPARTED = select(func.max(_sessions.c.ended_at)).where(
    _sessions.c.transport_note_id == bindparam("note_id"),
    _sessions.c.direction == Direction.EXIT.value,
    _sessions.c.outcome == "passed",
)
_NOTE_CACHE_SIZE = 4096
_note_cache: OrderedDict[tuple[str, int], TransportNote] = OrderedDict()
_note_cache_lock = threading.Lock()


def _containers_of(conn: Connection | Session, version_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {v: [] for v in version_ids}
    for version_id, number in fetch_all(conn, _CONTAINERS, {"ids": list(version_ids)}):
        found[version_id].append(number)
    return {v: tuple(c) for v, c in found.items()}


def _database(conn: Connection | Session) -> str:
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    return bind.engine.url.render_as_string(hide_password=True)


def _load_note(conn: Connection | Session, version_id: int) -> TransportNote:
    """The domain note of a stored version; a version never changes, so parsed notes are cached (per
    database)."""
    key = (_database(conn), version_id)
    with _note_cache_lock:
        cached = _note_cache.get(key)
        if cached is not None:
            _note_cache.move_to_end(key)
            return cached
    document = conn.execute(_DOCUMENT, {"id": version_id}).scalar_one()
    message = parse_cn_message(json.loads(document))
    if not isinstance(message, CNNote):  # pragma: no cover - a current version of an active note
        raise TypeError(f"version {version_id} is not a note")
    note = message.to_domain()
    with _note_cache_lock:
        _note_cache[key] = note
        while len(_note_cache) > _NOTE_CACHE_SIZE:
            _note_cache.popitem(last=False)
    return note


def _departed_at(conn: Connection | Session, note_id: int) -> datetime | None:
    value: datetime | None = conn.execute(_DEPARTED, {"note_id": note_id}).scalar()
    if value is not None and value.tzinfo is None:  # an aggregate may come back without the column type
        value = value.replace(tzinfo=UTC)
    return value


def _candidate(
    conn: Connection | Session,
    query: MatchQuery,
    row: Any,
    *,
    containers: tuple[str, ...],
    read_plates: set[str],
    read_containers: set[str],
) -> CandidateNote:
    plate_agrees = row.tractor_plate in read_plates
    containers_agree = set(containers) == read_containers
    # Only a note that otherwise agrees costs the look-up: the normal truck pays one query.
    departed = (
        _departed_at(conn, row.id)
        if query.direction is Direction.EXIT and plate_agrees and containers_agree
        else None
    )
    return CandidateNote(
        cn_number=row.cn_number,
        tractor_plate=row.tractor_plate,
        containers=containers,
        plate_agrees=plate_agrees,
        containers_agree=containers_agree,
        departed_at=departed,
    )


def match_transport_note(conn: Connection | Session, query: MatchQuery) -> MatchResult:
    """Find the active note the reads belong to (see the module docstring for the rules)."""
    if not query.plates and not query.containers:
        return MatchResult(MatchKind.NONE)
    params = {"site": query.site_code, "plates": list(query.plates), "containers": list(query.containers)}
    rows = fetch_all(conn, _CANDIDATES[query.direction, bool(query.containers)], params)
    if not rows:
        return MatchResult(MatchKind.NONE)
    containers = _containers_of(conn, [r.version_id for r in rows])
    read_plates = set(query.plates)
    read_containers = set(query.containers)
    candidates = tuple(
        _candidate(
            conn,
            query,
            r,
            containers=containers[r.version_id],
            read_plates=read_plates,
            read_containers=read_containers,
        )
        for r in rows
    )
    agreeing = [(row, c) for row, c in zip(rows, candidates, strict=True) if c.agrees]
    if len(agreeing) > 1:
        return MatchResult(MatchKind.SEVERAL, candidates=tuple(c for _, c in agreeing))
    if not agreeing:
        return MatchResult(MatchKind.MISMATCH, candidates=candidates)
    row, _ = agreeing[0]
    matched = MatchedNote(
        note_id=row.id,
        cn_number=row.cn_number,
        version=row.current_version,
        note=_load_note(conn, row.version_id),
        departed_at=_departed_at(conn, row.id) if query.direction is Direction.ENTRY else None,
        officer_confirmed_by=row.officer_confirmed_by,
    )
    return MatchResult(MatchKind.MATCH, note=matched, candidates=candidates)
