"""Restart: rebuild a lane's state from what the PLC reports and the store holds, never from memory.

:func:`plan_recovery` is a pure function of the PLC inputs read at start-up and the lane's stored state
(its open sessions and whether staff had closed it). The plan names the state to resume in, which session
continues (resumed, or a new one for a truck found under an open boom), and which sessions are closed and
why; :func:`apply_recovery` carries it out and audits it as ``lane.recovered``.

The rules, safest first:

- a lane closed by staff stays closed; a faulted PLC puts the lane in ``fault``;
- a boom that is not down with something under it: ``passing`` (the boom goes down once the vehicle is
  clear), continuing the open session or a new recovery session;
- a boom that is not down with nothing under it: ``closing`` if the session had been decided, otherwise
  the boom is brought down and the session re-checked from ``identifying`` (truck still on the arming loop)
  or closed;
- a boom that is down: a truck in ``denied``/``manual_review`` stays there; a truck still being checked
  (or approved but not yet through) is checked again from ``identifying``; otherwise the session closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lane_controller.domain.json_value import JsonValue
from lane_controller.domain.lane_records import OpenSessionRow
from lane_controller.fsm.decisions import Reason
from lane_controller.fsm.machine import LaneMachine, SessionContext
from lane_controller.fsm.protocols import BarrierPosition, Device, PlcInputs, StoredLane
from lane_controller.fsm.states import CHECKING_STATES, LaneState

_DECIDED = frozenset({LaneState.OPENING, LaneState.PASSING, LaneState.CLOSING})
_HELD = frozenset({LaneState.DENIED, LaneState.MANUAL_REVIEW})


class SessionAction(StrEnum):
    """What became of the session a crash left open."""

    NONE = "none"
    RESUMED = "resumed"
    CLOSED = "closed"
    OPENED = "opened"
    """No session was open but a vehicle is under the open boom: a recovery session is opened."""


@dataclass(frozen=True, slots=True)
class RecoveryPlan:
    """Where the lane resumes and what happens to its open sessions."""

    state: LaneState
    action: SessionAction
    why: str
    resume: OpenSessionRow | None = None
    close: tuple[tuple[OpenSessionRow, str], ...] = ()
    reason: Reason | None = None
    exit_seen: bool = False

    def payload(self, inputs: PlcInputs) -> dict[str, JsonValue]:
        """The ``lane.recovered`` audit payload."""
        return {
            "state": self.state.value,
            "session_action": self.action.value,
            "why": self.why,
            "resumed_session": self.resume.session_id if self.resume else None,
            "resumed_from": self.resume.state if self.resume else None,
            "closed_sessions": [{"session_id": row.session_id, "outcome": o} for row, o in self.close],
            "barrier": inputs.position.value,
            "arming": inputs.arming,
            "safety": inputs.safety,
            "photocell": inputs.photocell,
            "plc_faulted": inputs.faulted,
        }


def _stored_state(row: OpenSessionRow) -> LaneState | None:
    try:
        return LaneState(row.state)
    except ValueError:
        return None


def _stored_reason(row: OpenSessionRow) -> Reason:
    try:
        return Reason(row.reason) if row.reason else Reason.RECOVERED
    except ValueError:
        return Reason.RECOVERED


def plan_recovery(inputs: PlcInputs, stored: StoredLane) -> RecoveryPlan:
    """Decide how a lane resumes (see the module docstring)."""
    sessions = stored.open_sessions
    current = sessions[0] if sessions else None
    stale = tuple((row, "interrupted") for row in sessions[1:])
    up = inputs.position is not BarrierPosition.CLOSED
    under, arming = inputs.under_boom, inputs.arming

    def closing_all(why: str, state: LaneState, outcome: str = "interrupted") -> RecoveryPlan:
        closed = (*stale, (current, outcome)) if current else stale
        return RecoveryPlan(state, SessionAction.CLOSED if current else SessionAction.NONE, why, close=closed)

    def resume(
        state: LaneState, why: str, reason: Reason | None = None, exit_seen: bool = False
    ) -> RecoveryPlan:
        return RecoveryPlan(state, SessionAction.RESUMED, why, current, stale, reason, exit_seen)

    if stored.closed_by_staff:
        return closing_all("the lane had been closed by staff", LaneState.CLOSED_LANE)
    if inputs.faulted:
        if current is not None and (under or arming):
            return resume(LaneState.FAULT, "PLC faulted, a vehicle is on the lane")
        return closing_all("PLC faulted", LaneState.FAULT)
    if current is None:
        if up and under:
            return RecoveryPlan(
                LaneState.PASSING,
                SessionAction.OPENED,
                "boom up with a vehicle under it and no open session",
                close=stale,
                reason=Reason.RECOVERED,
                exit_seen=True,
            )
        return RecoveryPlan(LaneState.IDLE, SessionAction.NONE, "no open session", close=stale)

    previous = _stored_state(current)
    decided = previous in _DECIDED
    if up:
        if under:
            if decided:
                return resume(
                    LaneState.PASSING, "decided session, vehicle under the open boom", exit_seen=True
                )
            return resume(
                LaneState.MANUAL_REVIEW, "boom up without a decision, vehicle under it", Reason.RECOVERED
            )
        if decided:
            return resume(LaneState.CLOSING, "decided session, boom up and clear")
        if arming:
            return resume(
                LaneState.IDENTIFYING, "boom up without a decision: brought down, truck checked again"
            )
        return closing_all("boom up without a decision and no vehicle: brought down", LaneState.IDLE)
    if previous in _HELD and (arming or under):
        return resume(previous, "truck still held on the lane", _stored_reason(current))
    if (previous in CHECKING_STATES or previous is LaneState.OPENING) and arming:
        return resume(LaneState.IDENTIFYING, "truck still on the arming loop: checked again")
    if under:
        return resume(LaneState.MANUAL_REVIEW, "vehicle under the closed boom", Reason.RECOVERED)
    outcome = "passed" if previous in (LaneState.PASSING, LaneState.CLOSING) else "interrupted"
    return closing_all("no vehicle on the lane", LaneState.IDLE, outcome)


async def apply_recovery(machine: LaneMachine, plan: RecoveryPlan, inputs: PlcInputs) -> None:
    """Close the sessions the plan closes, set up the continuing one, and enter the plan's state."""
    for row, outcome in plan.close:
        machine.close_stale_session(row.session_id, row.state, outcome)
    session: SessionContext | None = None
    if plan.action is SessionAction.RESUMED and plan.resume is not None:
        session = SessionContext(
            plan.resume.session_id,
            plan.resume.started_at,
            reason=plan.reason,
            exit_seen=plan.exit_seen,
            recovered=True,
        )
    elif plan.action is SessionAction.OPENED:
        session = machine.open_recovered_session(machine.clock_now(), plan.state)
        session.reason = plan.reason
        session.exit_seen = plan.exit_seen
    machine.gate.reset_inputs(inputs)
    if inputs.faulted:
        machine.mark_fault(Device.BARRIER, "plc_faulted_at_start")
    await machine.restore(plan.state, session=session, payload=plan.payload(inputs))
