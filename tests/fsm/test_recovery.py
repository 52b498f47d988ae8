"""Restart planning: what the PLC reports and what the store holds decide where a lane resumes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lane_controller.fsm.protocols import BarrierPosition, PlcInputs, StoredLane
from lane_controller.fsm.recovery import SessionAction, plan_recovery
from lane_controller.fsm.states import LaneState
from lane_controller.store.lane_records import OpenSessionRow

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def row(state: str, sid: str = "s1", reason: str | None = None, minute: int = 0) -> OpenSessionRow:
    return OpenSessionRow(sid, "X1", "exit", T0.replace(minute=minute), state, reason, None)


def inputs(position: BarrierPosition = BarrierPosition.CLOSED, **flags: bool) -> PlcInputs:
    return PlcInputs(**flags).with_position(position)


UP, DOWN = BarrierPosition.OPEN, BarrierPosition.CLOSED

CASES = [
    # (stored session state, boom, PLC flags, expected state, session action)
    (None, DOWN, {}, LaneState.IDLE, SessionAction.NONE),
    (None, UP, {"safety": True}, LaneState.PASSING, SessionAction.OPENED),
    (None, UP, {}, LaneState.IDLE, SessionAction.NONE),
    ("passing", UP, {"safety": True}, LaneState.PASSING, SessionAction.RESUMED),
    ("opening", UP, {"photocell": True}, LaneState.PASSING, SessionAction.RESUMED),
    ("closing", UP, {}, LaneState.CLOSING, SessionAction.RESUMED),
    ("sealing", UP, {"safety": True}, LaneState.MANUAL_REVIEW, SessionAction.RESUMED),
    ("sealing", UP, {"arming": True}, LaneState.IDENTIFYING, SessionAction.RESUMED),
    ("sealing", UP, {}, LaneState.IDLE, SessionAction.CLOSED),
    ("denied", DOWN, {"arming": True}, LaneState.DENIED, SessionAction.RESUMED),
    ("manual_review", DOWN, {"arming": True}, LaneState.MANUAL_REVIEW, SessionAction.RESUMED),
    ("awaiting_staff", DOWN, {"arming": True}, LaneState.IDENTIFYING, SessionAction.RESUMED),
    ("opening", DOWN, {"arming": True}, LaneState.IDENTIFYING, SessionAction.RESUMED),
    ("identifying", DOWN, {}, LaneState.IDLE, SessionAction.CLOSED),
    ("passing", DOWN, {}, LaneState.IDLE, SessionAction.CLOSED),
    ("denied", DOWN, {"safety": True}, LaneState.DENIED, SessionAction.RESUMED),
    ("matching", DOWN, {"safety": True}, LaneState.MANUAL_REVIEW, SessionAction.RESUMED),
    ("passing", UP, {"fault": True, "safety": True}, LaneState.FAULT, SessionAction.RESUMED),
    ("passing", UP, {"estop": True}, LaneState.FAULT, SessionAction.CLOSED),
]


@pytest.mark.parametrize(("stored", "boom", "flags", "state", "action"), CASES)
def test_plan(
    stored: str | None, boom: BarrierPosition, flags: dict[str, bool], state: LaneState, action: SessionAction
):
    sessions = (row(stored),) if stored else ()
    plan = plan_recovery(inputs(boom, **flags), StoredLane(sessions))
    assert (plan.state, plan.action) == (state, action)
    if action is SessionAction.RESUMED:
        assert plan.resume is not None
    if state in (LaneState.PASSING, LaneState.CLOSING) or not (flags.get("safety") or flags.get("photocell")):
        return
    assert state not in (LaneState.CLOSING, LaneState.IDLE)  # never plans to close onto a vehicle


def test_staff_closed_lane_stays_closed_and_closes_sessions():
    plan = plan_recovery(inputs(DOWN, arming=True), StoredLane((row("denied"),), closed_by_staff=True))
    assert plan.state is LaneState.CLOSED_LANE
    assert [(r.session_id, o) for r, o in plan.close] == [("s1", "interrupted")]


def test_stale_extra_sessions_are_closed_and_the_newest_continues():
    sessions = (row("manual_review", "new", "no_cn", minute=5), row("identifying", "old", minute=1))
    plan = plan_recovery(inputs(DOWN, arming=True), StoredLane(sessions))
    assert plan.resume is not None
    assert plan.resume.session_id == "new"
    assert plan.reason is not None
    assert plan.reason.value == "no_cn"
    assert [r.session_id for r, _ in plan.close] == ["old"]
    assert plan.payload(inputs(DOWN))["closed_sessions"] == [{"session_id": "old", "outcome": "interrupted"}]


def test_passed_truck_closes_its_session_as_passed():
    plan = plan_recovery(inputs(DOWN), StoredLane((row("closing"),)))
    assert plan.close[0][1] == "passed"
