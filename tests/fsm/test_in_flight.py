"""Regressions found by the property tests once loops could change while a command was on the wire."""

from __future__ import annotations

import time

from lane_controller.fsm.protocols import BarrierPosition, CommandKind, Recognition
from tests.fsm.test_properties import EntryLaneProperties, ExitLaneProperties


def test_a_vehicle_that_arrives_while_a_close_is_on_the_wire_holds_the_next_close() -> None:
    """The store is down, so a close goes out anyway and the lane faults; while it is on the wire a
    vehicle rolls onto the safety loop and the PLC reverses. The fault's own close must wait for the
    vehicle, whose report reached the runner before its event was handled."""
    lane = EntryLaneProperties()
    try:
        lane.store_outage()
        lane.loop_changes_while_a_command_is_in_flight(loop="safety", on=True)
        lane.barrier_moves_by_itself(position=BarrierPosition.OPEN)
        closes = [s for s in lane.dev.barrier.sent if s.command.kind is CommandKind.CLOSE]
        assert len(closes) == 1 and not closes[0].inputs.under_boom  # the first, before the vehicle
        assert lane.dev.plant.inputs.safety and lane.dev.plant.inputs.position is BarrierPosition.OPEN
        lane.never_down_onto_a_vehicle()
        lane.loop_changes(loop="safety", on=False)  # the vehicle leaves: now the boom comes down
        closes = [s for s in lane.dev.barrier.sent if s.command.kind is CommandKind.CLOSE]
        assert len(closes) == 2 and not closes[1].inputs.under_boom
        assert lane.dev.plant.inputs.position is BarrierPosition.CLOSED
    finally:
        lane.teardown()


def test_a_plc_that_does_not_answer_takes_no_command() -> None:
    """Unreadable at start-up, unreachable for commands too: the boom left up by the last truck is asked
    down, the close fails on the wire, and the lane is in fault."""
    lane = EntryLaneProperties()
    try:
        lane.plc_reads_fail(failing=True)
        lane.restart()
        assert lane.runner.machine.state.value == "fault"
        assert lane.recorder.of_kind("barrier.send_failed") or not lane.recorder.of_kind("barrier.command")
        assert lane.dev.barrier.sent == []
    finally:
        lane.teardown()


def test_a_close_lost_while_failing_safe_keeps_the_lane_in_fault_when_the_store_returns() -> None:
    """Found under CPU load, when recognition ran slow: a store outage puts the passing lane in fault;
    the fault's close is lost because the PLC does not answer. The store coming back must not take the
    lane out of fault (to manual review) while the boom is still up: the barrier is at fault too."""
    lane = ExitLaneProperties()
    recognize = lane.dev.recognizer.recognize

    def slow(lane_id: str, session_id: str) -> Recognition:
        time.sleep(0.2)  # recognition in its worker thread takes a while, as on a loaded host
        return recognize(lane_id, session_id)

    lane.dev.recognizer.recognize = slow  # type: ignore[method-assign]
    try:
        lane.loop_changes(loop="arming", on=True)
        lane.store_outage()
        lane.barrier_moves_by_itself(position=BarrierPosition.CLOSING)
        lane.plc_reads_fail(failing=True)
        lane.staff_override(open_=False)
        lane.officer_confirms()
        assert lane.recorder.of_kind("barrier.send_failed")
        assert lane.runner.machine.state.value == "fault"
        lane.down_when_nobody_passes()
    finally:
        lane.teardown()
