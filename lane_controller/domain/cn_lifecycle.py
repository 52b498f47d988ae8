"""CN lifecycle: which original, replace and cancel messages a stored note accepts (DESIGN §2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from lane_controller.domain.enums import MessageFunction


class NoteStatus(StrEnum):
    """Whether a stored note can still be used at a lane."""

    ACTIVE = "active"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class StoredNoteState:
    """What the lifecycle rules need to know about the stored note with the same CN number."""

    current_version: int
    status: NoteStatus
    officer_confirmed_by: str | None
    officer_confirmed_at: datetime | None


class LifecycleOutcome(StrEnum):
    """What storing an incoming message does to the note's history."""

    CREATE = "create"
    SUPERSEDE = "supersede"
    CANCEL = "cancel"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class LifecycleDecision:
    """Accepted (with the outcome and the version it creates) or rejected with a reason."""

    accepted: bool
    outcome: LifecycleOutcome | None
    new_version: int | None
    reason: str | None = None

    @classmethod
    def reject(cls, reason: str) -> LifecycleDecision:
        """A rejection naming why."""
        return cls(False, None, None, reason)


def decide(
    cn_number: str,
    function: MessageFunction,
    stored: StoredNoteState | None,
    *,
    same_as_current: bool = False,
) -> LifecycleDecision:
    """Apply the lifecycle rules to an incoming message for `cn_number`.

    `same_as_current` marks a re-sent original identical to the stored current version: accepted
    without a new version, so a yard system may retry safely.
    """
    if function is MessageFunction.ORIGINAL:
        if stored is None:
            return LifecycleDecision(True, LifecycleOutcome.CREATE, 1)
        if same_as_current and stored.status is NoteStatus.ACTIVE:
            return LifecycleDecision(True, LifecycleOutcome.UNCHANGED, stored.current_version)
        return LifecycleDecision.reject(
            f"CN {cn_number} already exists (version {stored.current_version}, {stored.status}); "
            "send function 5 to replace it or 1 to cancel it"
        )
    verb = "replaced" if function is MessageFunction.REPLACE else "cancelled"
    if stored is None:
        return LifecycleDecision.reject(f"CN {cn_number} is unknown, so it cannot be {verb}")
    if stored.status is NoteStatus.CANCELLED:
        return LifecycleDecision.reject(f"CN {cn_number} was cancelled and cannot be {verb}")
    if stored.officer_confirmed_by is not None:
        when = stored.officer_confirmed_at.isoformat() if stored.officer_confirmed_at else "an unknown time"
        return LifecycleDecision.reject(
            f"CN {cn_number}: its vehicle seal was confirmed by officer {stored.officer_confirmed_by} "
            f"at {when}, so it can no longer be {verb}"
        )
    if function is MessageFunction.REPLACE:
        if same_as_current:
            return LifecycleDecision(True, LifecycleOutcome.UNCHANGED, stored.current_version)
        return LifecycleDecision(True, LifecycleOutcome.SUPERSEDE, stored.current_version + 1)
    return LifecycleDecision(True, LifecycleOutcome.CANCEL, stored.current_version + 1)
