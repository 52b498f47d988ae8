"""The lane's transition table, as data.

Each :class:`Rule` reads: on ``trigger`` in any of ``sources``, if every guard holds, run the actions
and go to ``dest`` (None: stay, an internal transition). Rules of the same trigger and source are tried
in table order; the first whose guards hold wins. An event with no winning rule is ignored and audited
(``fsm.event_ignored``): a stale device reply, a stale timer, a command that does not apply now.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from lane_controller.fsm.events import Trigger
from lane_controller.fsm.states import CHECKING_STATES, DECIDABLE_STATES, LaneState

S = LaneState
T = Trigger


class Guard(StrEnum):
    """Conditions a rule may require (evaluated by the machine, without side effects)."""

    CURRENT_REPLY = "current_reply"
    """A device reply for the session in progress."""
    CURRENT_TIMER = "current_timer"
    """The time-out of this visit of this state."""
    VERDICT_DENY = "verdict_deny"
    """The event's assessment is an exception whose effect is to deny."""
    VERDICT_REVIEW = "verdict_review"
    """The event's assessment is an exception whose effect is manual review."""
    NO_CN_LANE = "no_cn_lane"
    EXIT_SEALS = "exit_seals"
    """Exit lane and the matched CN lists seals (or requires one)."""
    ENTRY_SEALS = "entry_seals"
    """Entry lane and the matched CN lists seals."""
    OFFICER_NEEDED = "officer_needed"
    """Phase 1 and the CN's vehicle seal replaces the passive e-seal (release code 1/B)."""
    NEEDS_UNSEAL = "needs_unseal"
    """Entry: seals intact and matching, some still locked: unseal offline."""
    OFFICER_FOR_CN = "officer_for_cn"
    """The officer's confirmation names no CN or the matched one."""
    OVERRIDE_OPEN = "override_open"
    OVERRIDE_DENY = "override_deny"
    VEHICLE_PASSED = "vehicle_passed"
    """The exit loop saw the truck and nothing is under the boom."""
    BARRIER_OPEN = "barrier_open"
    BARRIER_CLOSED = "barrier_closed"
    BARRIER_REOPENED = "barrier_reopened"
    """While closing, the PLC reversed (obstacle) or stopped the boom."""
    LANE_CLEAR = "lane_clear"
    """Nothing on the arming loop, the safety loop or the photocell."""
    NOTHING_UNDER_BOOM = "nothing_under_boom"
    VEHICLE_ON_ARMING = "vehicle_on_arming"
    BARRIER_FAULT = "barrier_fault"
    """The fault is the barrier's (or its PLC's)."""
    SESSION_DEVICE_FAULT = "session_device_fault"
    """The fault is of a device the checks need (cameras, seal reader); the RFID tag is a supporting read."""
    BARRIER_HEALTHY = "barrier_healthy"
    SESSION_OPEN = "session_open"
    OPEN_REFUSED = "open_refused"
    """The gate refused to open (no valid decision): a person must look."""


class Action(StrEnum):
    """Steps a rule runs before the state changes."""

    OPEN_SESSION = "open_session"
    REFUSE = "refuse"
    """Record a negative decision with the event's reason (deny or review)."""
    APPROVE = "approve"
    """Record the automatic positive decision (and the seal event for customs)."""
    APPROVE_OFFICER = "approve_officer"
    APPROVE_OVERRIDE = "approve_override"
    MARK_PASSED = "mark_passed"
    MARK_DENIED = "mark_denied"
    MARK_ABANDONED = "mark_abandoned"
    MARK_FAULT = "mark_fault"
    REQUEST_AUTHORISATION = "request_authorisation"
    UNSEAL = "unseal"
    ESCALATE = "escalate"


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the table."""

    trigger: Trigger
    sources: tuple[LaneState, ...]
    dest: LaneState | None
    guards: tuple[Guard, ...] = ()
    actions: tuple[Action, ...] = ()


def _rule(
    trigger: Trigger,
    sources: LaneState | Iterable[LaneState],
    dest: LaneState | None,
    guards: Iterable[Guard] = (),
    actions: Iterable[Action] = (),
) -> Rule:
    src = (sources,) if isinstance(sources, LaneState) else tuple(sorted(sources, key=list(LaneState).index))
    return Rule(trigger, src, dest, tuple(guards), tuple(actions))


ALL = tuple(LaneState)
CHECKING = tuple(sorted(CHECKING_STATES, key=ALL.index))
DECIDABLE = tuple(sorted(DECIDABLE_STATES, key=ALL.index))
_REPLY = (Guard.CURRENT_REPLY,)
_TIMER = (Guard.CURRENT_TIMER,)
_INPUTS = (T.SAFETY_LOOP, T.PHOTOCELL, T.EXIT_LOOP)


def _exceptions(trigger: Trigger, source: LaneState, extra: tuple[Guard, ...] = _REPLY) -> list[Rule]:
    """The two exception rows of a judged event: deny or manual review, per the reason's effect."""
    return [
        _rule(trigger, source, S.DENIED, (*extra, Guard.VERDICT_DENY), (Action.REFUSE,)),
        _rule(trigger, source, S.MANUAL_REVIEW, (*extra, Guard.VERDICT_REVIEW), (Action.REFUSE,)),
    ]


TRANSITIONS: tuple[Rule, ...] = (
    # --- arrival and departure on the arming loop
    _rule(T.VEHICLE_ARRIVED, S.IDLE, S.IDENTIFYING, actions=(Action.OPEN_SESSION,)),
    _rule(T.VEHICLE_ARRIVED, (*ALL[1:],), None),
    _rule(
        T.VEHICLE_LEFT,
        (*CHECKING, S.MANUAL_REVIEW),
        S.IDLE,
        (Guard.NOTHING_UNDER_BOOM,),
        (Action.MARK_ABANDONED,),
    ),
    _rule(T.VEHICLE_LEFT, S.DENIED, S.IDLE, (Guard.NOTHING_UNDER_BOOM,), (Action.MARK_DENIED,)),
    _rule(T.VEHICLE_LEFT, (S.IDLE, S.OPENING, S.PASSING, S.CLOSING, S.FAULT, S.CLOSED_LANE), None),
    # --- identification
    *_exceptions(T.READS_READY, S.IDENTIFYING),
    _rule(T.READS_READY, S.IDENTIFYING, S.OPENING, (*_REPLY, Guard.NO_CN_LANE), (Action.APPROVE,)),
    _rule(T.READS_READY, S.IDENTIFYING, S.MATCHING, _REPLY),
    # --- CN match
    *_exceptions(T.CN_MATCHED, S.MATCHING),
    _rule(T.CN_MATCHED, S.MATCHING, S.SEALING, (*_REPLY, Guard.EXIT_SEALS)),
    _rule(T.CN_MATCHED, S.MATCHING, S.UNSEALING, (*_REPLY, Guard.ENTRY_SEALS)),
    _rule(T.CN_MATCHED, S.MATCHING, S.AWAITING_STAFF, (*_REPLY, Guard.OFFICER_NEEDED)),
    _rule(T.CN_MATCHED, S.MATCHING, S.OPENING, _REPLY, (Action.APPROVE,)),
    # --- exit: seals
    *_exceptions(T.SEAL_STATUS, S.SEALING),
    _rule(T.SEAL_STATUS, S.SEALING, S.AWAITING_STAFF, (*_REPLY, Guard.OFFICER_NEEDED)),
    _rule(T.SEAL_STATUS, S.SEALING, S.OPENING, _REPLY, (Action.APPROVE,)),
    _rule(
        T.OFFICER_CONFIRMED, S.AWAITING_STAFF, S.OPENING, (Guard.OFFICER_FOR_CN,), (Action.APPROVE_OFFICER,)
    ),
    # --- entry: seals and unsealing
    *_exceptions(T.SEAL_STATUS, S.UNSEALING),
    _rule(T.SEAL_STATUS, S.UNSEALING, None, (*_REPLY, Guard.NEEDS_UNSEAL), (Action.REQUEST_AUTHORISATION,)),
    _rule(T.SEAL_STATUS, S.UNSEALING, S.OPENING, _REPLY, (Action.APPROVE,)),
    *_exceptions(T.UNSEAL_AUTHORISED, S.UNSEALING),
    _rule(T.UNSEAL_AUTHORISED, S.UNSEALING, None, _REPLY, (Action.UNSEAL,)),
    # --- people
    _rule(T.STAFF_OVERRIDE, DECIDABLE, S.OPENING, (Guard.OVERRIDE_OPEN,), (Action.APPROVE_OVERRIDE,)),
    _rule(T.STAFF_OVERRIDE, DECIDABLE, S.DENIED, (Guard.OVERRIDE_DENY,), (Action.REFUSE,)),
    _rule(T.CLOSE_LANE, (S.IDLE, S.FAULT), S.CLOSED_LANE),
    _rule(T.REOPEN_LANE, S.CLOSED_LANE, S.IDLE, (Guard.BARRIER_HEALTHY,)),
    _rule(T.REOPEN_LANE, S.CLOSED_LANE, S.FAULT),
    # --- barrier and passage
    _rule(T.BARRIER_REPORTED, S.OPENING, S.PASSING, (Guard.BARRIER_OPEN,)),
    _rule(T.BARRIER_REPORTED, S.CLOSING, S.IDLE, (Guard.BARRIER_CLOSED,), (Action.MARK_PASSED,)),
    _rule(T.BARRIER_REPORTED, S.CLOSING, S.PASSING, (Guard.BARRIER_REOPENED,)),
    _rule(T.BARRIER_REPORTED, ALL, None),
    *(_rule(t, S.PASSING, S.CLOSING, (Guard.VEHICLE_PASSED,)) for t in _INPUTS),
    *(_rule(t, (S.OPENING, S.PASSING, S.CLOSING, S.DENIED, S.MANUAL_REVIEW, S.FAULT), None) for t in _INPUTS),
    _rule(T.EXIT_LOOP, ALL, None),  # the exit loop is past the boom: a truck leaving it is never a concern
    # --- devices
    _rule(
        T.DEVICE_FAULT,
        tuple(s for s in ALL if s not in (S.FAULT, S.CLOSED_LANE)),
        S.FAULT,
        (Guard.BARRIER_FAULT,),
    ),
    *_exceptions(T.DEVICE_FAULT, S.IDENTIFYING, (Guard.SESSION_DEVICE_FAULT,)),
    *_exceptions(T.DEVICE_FAULT, S.MATCHING, (Guard.SESSION_DEVICE_FAULT,)),
    *_exceptions(T.DEVICE_FAULT, S.SEALING, (Guard.SESSION_DEVICE_FAULT,)),
    *_exceptions(T.DEVICE_FAULT, S.UNSEALING, (Guard.SESSION_DEVICE_FAULT,)),
    _rule(T.DEVICE_FAULT, ALL, None),
    _rule(
        T.DEVICE_RECOVERED,
        S.FAULT,
        S.MANUAL_REVIEW,
        (Guard.BARRIER_HEALTHY, Guard.SESSION_OPEN, Guard.VEHICLE_ON_ARMING),
        (Action.REFUSE,),
    ),
    _rule(T.DEVICE_RECOVERED, S.FAULT, S.IDLE, (Guard.BARRIER_HEALTHY,), (Action.MARK_FAULT,)),
    _rule(T.DEVICE_RECOVERED, ALL, None),
    # --- time-outs: every waiting state has one, with an explicit destination
    *(
        _rule(T.TIMEOUT, s, S.MANUAL_REVIEW, _TIMER, (Action.REFUSE,))
        for s in (*CHECKING, S.PASSING, S.DENIED)
    ),
    _rule(T.TIMEOUT, S.MANUAL_REVIEW, S.MANUAL_REVIEW, _TIMER, (Action.ESCALATE,)),
    _rule(T.TIMEOUT, (S.OPENING, S.CLOSING), S.FAULT, _TIMER),
    _rule(T.TIMEOUT, S.FAULT, S.CLOSED_LANE, _TIMER, (Action.MARK_FAULT,)),
    # --- re-checks posted on entering a state whose exit condition may already hold
    _rule(T.REEVALUATE, S.IDLE, S.IDENTIFYING, (Guard.VEHICLE_ON_ARMING,), (Action.OPEN_SESSION,)),
    _rule(T.REEVALUATE, S.OPENING, S.MANUAL_REVIEW, (Guard.OPEN_REFUSED,), (Action.REFUSE,)),
    _rule(T.REEVALUATE, S.PASSING, S.CLOSING, (Guard.VEHICLE_PASSED,)),
    _rule(T.REEVALUATE, S.CLOSING, S.IDLE, (Guard.BARRIER_CLOSED,), (Action.MARK_PASSED,)),
    _rule(T.REEVALUATE, S.DENIED, S.IDLE, (Guard.LANE_CLEAR,), (Action.MARK_DENIED,)),
    _rule(T.REEVALUATE, ALL, None),
)


def destinations(trigger: Trigger, source: LaneState) -> frozenset[LaneState | None]:
    """Every destination the table allows for ``trigger`` in ``source`` (None: an internal transition)."""
    return frozenset(r.dest for r in TRANSITIONS if r.trigger is trigger and source in r.sources)


def timeout_destination(state: LaneState) -> LaneState | None:
    """Where the time-out of ``state`` leads (None: the state has no time-out)."""
    dests = [r.dest for r in TRANSITIONS if r.trigger is T.TIMEOUT and state in r.sources]
    return dests[0] if dests else None


RULES_BY_SOURCE: dict[tuple[Trigger, LaneState], tuple[Rule, ...]] = {
    (trigger, state): tuple(r for r in TRANSITIONS if r.trigger is trigger and state in r.sources)
    for trigger in Trigger
    for state in LaneState
}
"""The rules of each (trigger, source state), in table order."""

SILENT_TRIGGERS = frozenset(
    {
        T.VEHICLE_ARRIVED,
        T.VEHICLE_LEFT,
        T.SAFETY_LOOP,
        T.EXIT_LOOP,
        T.PHOTOCELL,
        T.BARRIER_REPORTED,
        T.REEVALUATE,
    }
)
"""Triggers whose events record nothing when accepted (PLC inputs, re-checks): when the rule that wins
for one of them is an internal transition without actions, the event only updated what the lane knows."""
