"""The states of a lane (DESIGN §4) and the groups the rules refer to."""

from __future__ import annotations

from enum import StrEnum


class LaneState(StrEnum):
    """Where a lane is. The value is what the store and the status page show."""

    IDLE = "idle"
    """No truck; the barrier is down."""
    IDENTIFYING = "identifying"
    """A truck is on the arming loop: cameras, OCR and the RFID reader are at work."""
    MATCHING = "matching"
    """Looking up the transport note (CN) that agrees with the reads."""
    SEALING = "sealing"
    """Exit: reading every seal listed on the CN; all present, matching, locked and untampered."""
    UNSEALING = "unsealing"
    """Entry: seals intact and matching, then opened by the electronic fence or an offline unseal."""
    AWAITING_STAFF = "awaiting_staff"
    """Phase 1: a dedicated officer (專責人員) must confirm the sealing."""
    OPENING = "opening"
    """A recorded positive decision; the barrier is commanded open."""
    PASSING = "passing"
    """The barrier is up; waiting for the truck to cross the safety loop to the exit loop."""
    CLOSING = "closing"
    """The truck is through; the barrier is commanded down."""
    DENIED = "denied"
    """The barrier stays down; the display says why and where to go. Ends when the truck leaves."""
    MANUAL_REVIEW = "manual_review"
    """A person decides through the runner's command interface."""
    FAULT = "fault"
    """The barrier or its PLC is faulted; the barrier goes down as soon as nobody is under it."""
    CLOSED_LANE = "closed_lane"
    """Taken out of service by staff (or by a fault that persisted); arrivals are sent elsewhere."""


SESSION_STATES: frozenset[LaneState] = frozenset(
    {
        LaneState.IDENTIFYING,
        LaneState.MATCHING,
        LaneState.SEALING,
        LaneState.UNSEALING,
        LaneState.AWAITING_STAFF,
        LaneState.OPENING,
        LaneState.PASSING,
        LaneState.CLOSING,
        LaneState.DENIED,
        LaneState.MANUAL_REVIEW,
    }
)
"""States in which a truck's session is open."""

CHECKING_STATES: frozenset[LaneState] = frozenset(
    {
        LaneState.IDENTIFYING,
        LaneState.MATCHING,
        LaneState.SEALING,
        LaneState.UNSEALING,
        LaneState.AWAITING_STAFF,
    }
)
"""Session states before any decision: the checks are still running."""

DECIDABLE_STATES: frozenset[LaneState] = CHECKING_STATES | {LaneState.DENIED, LaneState.MANUAL_REVIEW}
"""States in which a staff override (open or deny) is accepted."""

BARRIER_UP_STATES: frozenset[LaneState] = frozenset({LaneState.OPENING, LaneState.PASSING})
"""The only states in which the barrier may be up on purpose; every other state asks for it down."""

WAITING_STATES: frozenset[LaneState] = frozenset(LaneState) - {LaneState.IDLE, LaneState.CLOSED_LANE}
"""States that wait for something and therefore have a time-out with an explicit destination."""

DURABLE_STATES: frozenset[LaneState] = frozenset(
    {
        LaneState.IDLE,
        LaneState.DENIED,
        LaneState.MANUAL_REVIEW,
        LaneState.AWAITING_STAFF,
        LaneState.FAULT,
        LaneState.CLOSED_LANE,
    }
)
"""States that may last long (they wait on people, or on nothing): entering one makes the journal durable
at once. The others last seconds and end in a barrier command, which is always written ahead."""
