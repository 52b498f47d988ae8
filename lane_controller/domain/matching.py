"""What the search for a truck's transport note asks and finds: the query (the lane and the voted reads)
and the result (one match, none, several, or a mismatch with its reasons).

The search itself runs on the store (``customs/matching.py``); the lane state machine speaks these values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from lane_controller.domain.enums import Direction
from lane_controller.domain.transport_note import TransportNote


class MatchKind(StrEnum):
    """What the search found."""

    MATCH = "match"
    NONE = "none"
    SEVERAL = "several"
    MISMATCH = "mismatch"


class MismatchReason(StrEnum):
    """Why a candidate note does not agree with the reads."""

    PLATE = "plate_mismatch"
    CONTAINERS = "container_mismatch"
    DEPARTED = "already_departed"


@dataclass(frozen=True, slots=True)
class MatchQuery:
    """The lane and the truck's voted reads (plates without the dash, compact container numbers)."""

    direction: Direction
    site_code: str
    plates: tuple[str, ...]
    containers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CandidateNote:
    """A note that shares something with the reads, and how far it agrees."""

    cn_number: str
    tractor_plate: str
    containers: tuple[str, ...]
    plate_agrees: bool
    containers_agree: bool
    departed_at: datetime | None = None
    """Exit lanes: when a truck already left through an exit on this note (then it does not agree)."""

    @property
    def agrees(self) -> bool:
        """Plate and containers both agree, and the note was not used for an exit already."""
        return self.plate_agrees and self.containers_agree and self.departed_at is None

    @property
    def reasons(self) -> tuple[MismatchReason, ...]:
        """What disagrees."""
        out = []
        if not self.plate_agrees:
            out.append(MismatchReason.PLATE)
        if not self.containers_agree:
            out.append(MismatchReason.CONTAINERS)
        if self.departed_at is not None:
            out.append(MismatchReason.DEPARTED)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class MatchedNote:
    """The note a truck travels on, with its current version and, for an entry, when it left the origin."""

    note_id: int
    cn_number: str
    version: int
    note: TransportNote
    departed_at: datetime | None = None
    """End of the exit session that let the truck out, when this store recorded it."""
    officer_confirmed_by: str | None = None


@dataclass(frozen=True, slots=True)
class MatchResult:
    """One match (``note``), none, several candidates, or a mismatch with its reasons."""

    kind: MatchKind
    note: MatchedNote | None = None
    candidates: tuple[CandidateNote, ...] = ()

    @property
    def reasons(self) -> tuple[MismatchReason, ...]:
        """Mismatch reasons over all candidates, each once."""
        seen: dict[MismatchReason, None] = {}
        for candidate in self.candidates:
            for reason in candidate.reasons:
                seen[reason] = None
        return tuple(seen)

    def summary(self) -> dict[str, object]:
        """JSON-ready form for the audit log."""
        return {
            "kind": self.kind.value,
            "cn_number": self.note.cn_number if self.note else None,
            "candidates": [c.cn_number for c in self.candidates],
            "reasons": [r.value for r in self.reasons] if self.kind is MatchKind.MISMATCH else [],
        }
