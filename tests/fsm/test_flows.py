"""Scenario tests on fakes: every exception path, time-outs, faults, people's commands, entry variants.

The lane runs its real runner, machine and gate; devices, clock and store are in-memory fakes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from lane_controller.customs.matching import CandidateNote, MatchKind, MatchResult
from lane_controller.fsm.decisions import Reason
from lane_controller.fsm.events import (
    CloseLane,
    OfficerConfirmed,
    OverrideDecision,
    ReadsReady,
    ReopenLane,
    StaffOverride,
)
from lane_controller.fsm.fakes import FakeMatcher
from lane_controller.fsm.protocols import BarrierPosition, CommandKind, Device, SealState, UnsealAuthorisation
from lane_controller.fsm.states import LaneState
from tests.fsm.harness import (
    CONTAINER,
    SEAL,
    TRACTOR,
    Lane,
    entry_config,
    exit_config,
    matched,
    recognition,
    seal,
)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())


def kinds(lane: Lane) -> list[str]:
    return lane.memory.kinds()


def candidate(plate: bool, containers: bool) -> CandidateNote:
    return CandidateNote("CN0009", TRACTOR, (CONTAINER,), plate, containers)


EXCEPTIONS: list[tuple[str, Callable[[Lane], None], LaneState, str]] = [
    (
        "unreadable",
        lambda x: setattr(x.dev.recognizer, "result", recognition(plates=())),
        LaneState.MANUAL_REVIEW,
        "unreadable",
    ),
    (
        "low agreement",
        lambda x: setattr(x.dev.recognizer, "result", recognition(agreement=0.4)),
        LaneState.MANUAL_REVIEW,
        "low_agreement",
    ),
    (
        "no CN",
        lambda x: setattr(x.fake_matcher, "result", MatchResult(MatchKind.NONE)),
        LaneState.DENIED,
        "no_cn",
    ),
    (
        "several CNs",
        lambda x: setattr(
            x.fake_matcher, "result", MatchResult(MatchKind.SEVERAL, candidates=(candidate(True, True),) * 2)
        ),
        LaneState.MANUAL_REVIEW,
        "several_cns",
    ),
    (
        "plate mismatch",
        lambda x: setattr(
            x.fake_matcher, "result", MatchResult(MatchKind.MISMATCH, candidates=(candidate(False, True),))
        ),
        LaneState.MANUAL_REVIEW,
        "plate_mismatch",
    ),
    (
        "container mismatch",
        lambda x: setattr(
            x.fake_matcher, "result", MatchResult(MatchKind.MISMATCH, candidates=(candidate(True, False),))
        ),
        LaneState.MANUAL_REVIEW,
        "container_mismatch",
    ),
    ("seal missing", lambda x: x.dev.seal_reader.put(), LaneState.DENIED, "seal_missing"),
    (
        "seal id mismatch",
        lambda x: x.dev.seal_reader.put(seal("ES99999999")),
        LaneState.DENIED,
        "seal_id_mismatch",
    ),
    (
        "seal count mismatch",
        lambda x: x.dev.seal_reader.put(seal(), seal("ES99999999")),
        LaneState.DENIED,
        "seal_count_mismatch",
    ),
    (
        "seal not locked",
        lambda x: x.dev.seal_reader.put(seal(state=SealState.OPENED)),
        LaneState.DENIED,
        "seal_not_locked",
    ),
    (
        "seal tampered",
        lambda x: x.dev.seal_reader.put(seal(state=SealState.TAMPERED)),
        LaneState.DENIED,
        "seal_tampered",
    ),
    (
        "camera fault",
        lambda x: setattr(x.dev.recognizer, "error", OSError("rtsp timeout")),
        LaneState.MANUAL_REVIEW,
        "device_fault",
    ),
    (
        "seal reader fault",
        lambda x: setattr(x.dev.seal_reader, "error", TimeoutError("no reply")),
        LaneState.MANUAL_REVIEW,
        "device_fault",
    ),
]


@pytest.mark.parametrize(("name", "setup", "state", "reason"), EXCEPTIONS, ids=[e[0] for e in EXCEPTIONS])
def test_exit_exceptions_never_open(
    name: str, setup: Callable[[Lane], None], state: LaneState, reason: str
) -> None:
    async def scenario() -> None:
        lane = Lane()
        setup(lane)
        await lane.start()
        await lane.arrive()
        assert lane.state is state, lane.status
        assert lane.status.reason == reason
        assert lane.opens() == 0
        assert lane.status.message_zh
        assert lane.status.message_en
        decisions = lane.memory.of_kind("lane.decision")
        assert [d.event.payload["reason"] for d in decisions] == [reason]
        if state is LaneState.DENIED:  # the session ends when the truck leaves
            await lane.leave()
            assert lane.state is LaneState.IDLE
        else:  # a person decides
            await lane.command(StaffOverride("staff-1", "looked at the camera images", OverrideDecision.OPEN))
            assert lane.state is LaneState.PASSING
            assert lane.opens() == 1
        await lane.stop()

    run(scenario)


def test_matcher_failure_faults_the_lane_until_the_store_takes_a_write_again() -> None:
    async def scenario() -> None:
        lane = Lane()
        lane.fake_matcher.error = ConnectionError("database gone")
        await lane.start()
        await lane.arrive()
        path = [i.event.payload["to"] for i in lane.memory.of_kind("fsm.transition")]
        assert path[-2:] == ["fault", "manual_review"]  # the write that followed proved the store back
        assert lane.status.reason == "device_fault"
        assert lane.status.health == {}
        assert lane.opens() == 0
        await lane.stop()

    run(scenario)


def test_exit_audit_trail_is_complete_and_in_order() -> None:
    async def scenario() -> None:
        lane = Lane()
        lane.dev.barrier.witness = lambda: len(lane.memory.audit)
        await lane.start()
        await lane.arrive()
        await lane.drive_through()
        assert lane.state is LaneState.IDLE
        session_kinds = lane.memory.kinds("00000000-0000-4000-8000-000000000000") or None
        assert session_kinds is None
        sid = next(i.event.session_id for i in lane.memory.audit if i.event.kind == "lane.session_opened")
        assert lane.memory.kinds(sid) == [
            "lane.session_opened",
            "fsm.transition",
            "lane.read",
            "fsm.transition",
            "lane.match",
            "fsm.transition",
            "lane.seals",
            "lane.seal_event",
            "lane.decision",
            "fsm.transition",
            "barrier.command",
            "fsm.transition",
            "fsm.transition",
            "barrier.command",
            "fsm.transition",
            "lane.session_closed",
        ]
        path = [
            (i.event.payload["from"], i.event.payload["to"]) for i in lane.memory.of_kind("fsm.transition")
        ][1:]
        assert path == [
            ("idle", "identifying"),
            ("identifying", "matching"),
            ("matching", "sealing"),
            ("sealing", "opening"),
            ("opening", "passing"),
            ("passing", "closing"),
            ("closing", "idle"),
        ]
        # write-ahead: each command's audit entry existed before the command reached the barrier
        for sent in lane.dev.barrier.sent:
            entry = next(
                i
                for i in lane.memory.of_kind("barrier.command")
                if i.event.payload["seq"] == sent.command.seq
            )
            assert entry.seq is not None
            assert isinstance(sent.witness, int)
            assert entry.seq <= sent.witness
        await lane.stop()

    run(scenario)


def test_officer_confirmation_for_another_cn_is_ignored_and_audited() -> None:
    async def scenario() -> None:
        lane = Lane(matcher=FakeMatcher(matched(seals=[{"seal_id": SEAL, "seal_type": "vehicle_mounted"}])))
        await lane.start()
        await lane.arrive()
        assert lane.state is LaneState.AWAITING_STAFF
        await lane.command(OfficerConfirmed("officer-2", cn_number="CN9999"))
        assert lane.state is LaneState.AWAITING_STAFF
        ignored = lane.memory.of_kind("fsm.event_ignored")[-1]
        assert ignored.event.actor == "officer-2"
        await lane.command(OfficerConfirmed("officer-2"))
        assert lane.state is LaneState.PASSING
        await lane.stop()

    run(scenario)


def test_phase_2_needs_no_officer() -> None:
    async def scenario() -> None:
        cn = matched(seals=[{"seal_id": SEAL, "seal_type": "vehicle_mounted"}])
        lane = Lane(exit_config(phase="2"), matcher=FakeMatcher(cn))
        await lane.start()
        await lane.arrive()
        assert lane.state is LaneState.PASSING
        await lane.stop()

    run(scenario)


def test_cn_without_seals_or_release_code_opens_after_match() -> None:
    async def scenario() -> None:
        lane = Lane(matcher=FakeMatcher(matched(seals=[], release_instruction_code=None)))
        await lane.start()
        await lane.arrive()
        assert lane.state is LaneState.PASSING
        decision = lane.memory.of_kind("lane.decision")[0].event.payload
        assert (decision["seal_required"], decision["seal_confirmed"]) == (False, False)
        await lane.stop()

    run(scenario)


def test_lane_without_cn_identifies_logs_and_opens() -> None:
    async def scenario() -> None:
        lane = Lane(exit_config(cn_required=False))
        await lane.start()
        await lane.arrive()
        assert lane.state is LaneState.PASSING
        assert lane.fake_matcher.queries == []
        assert lane.memory.of_kind("lane.decision")[0].event.payload["basis"] == "no_cn_lane"
        await lane.stop()

    run(scenario)


# ----------------------------------------------------------------------------------------- time-outs


def _mute(lane: Lane, request: str) -> None:
    """The device behind ``request`` never answers."""
    setattr(lane.runner, request, lambda *args, **kwargs: None)


@pytest.mark.parametrize(
    ("request_name", "state", "seconds"),
    [
        ("identify", LaneState.IDENTIFYING, 20),
        ("match", LaneState.MATCHING, 10),
        ("read_seals", LaneState.SEALING, 30),
    ],
)
def test_silent_device_times_out_to_review(request_name: str, state: LaneState, seconds: float) -> None:
    async def scenario() -> None:
        lane = Lane()
        _mute(lane, request_name)
        await lane.start()
        await lane.arrive()
        assert lane.state is state
        await lane.advance(seconds - 1)
        assert lane.state is state
        await lane.advance(1)
        assert lane.state is LaneState.MANUAL_REVIEW
        assert lane.status.reason == "timeout"
        await lane.stop()

    run(scenario)


def test_every_waiting_state_times_out_somewhere_explicit() -> None:
    async def scenario() -> None:
        lane = Lane(matcher=FakeMatcher(matched(seals=[{"seal_id": SEAL, "seal_type": "vehicle_mounted"}])))
        await lane.start()
        await lane.arrive()
        assert lane.state is LaneState.AWAITING_STAFF
        await lane.advance(900)
        assert lane.state is LaneState.MANUAL_REVIEW
        await lane.advance(1800)
        assert lane.state is LaneState.MANUAL_REVIEW
        assert lane.memory.of_kind("lane.review_escalated")
        await lane.command(StaffOverride("staff-1", "refused", OverrideDecision.DENY))
        assert lane.state is LaneState.DENIED
        await lane.advance(300)  # the truck does not leave
        assert lane.state is LaneState.MANUAL_REVIEW
        await lane.command(StaffOverride("staff-1", "let it through", OverrideDecision.OPEN))
        assert lane.state is LaneState.PASSING
        await lane.advance(120)  # the truck does not move
        assert lane.state is LaneState.MANUAL_REVIEW
        assert lane.dev.barrier.commands[-1].kind is CommandKind.CLOSE
        await lane.stop()

    run(scenario)


def test_barrier_that_does_not_move_faults_the_lane_then_closes_it() -> None:
    async def scenario() -> None:
        lane = Lane()
        lane.dev.plant.auto_move = False
        await lane.start()
        await lane.arrive()
        assert lane.state is LaneState.OPENING
        await lane.advance(10)
        assert lane.state is LaneState.FAULT
        assert lane.dev.barrier.commands[-1].kind is CommandKind.CLOSE
        await lane.advance(600)
        assert lane.state is LaneState.CLOSED_LANE
        await lane.command(ReopenLane("tech-1", "barrier motor replaced"))
        assert lane.state is LaneState.OPENING  # the waiting truck is checked again at once
        assert len(lane.memory.of_kind("lane.session_opened")) == 2
        await lane.stop()

    run(scenario)


def test_closing_reverses_back_to_passing_and_recloses_when_clear() -> None:
    async def scenario() -> None:
        lane = Lane()
        await lane.start()
        await lane.arrive()
        lane.dev.plant.auto_move = False
        await lane.set(safety=True)
        await lane.set(arming=False)
        await lane.set(exit=True)
        await lane.set(safety=False)
        assert lane.state is LaneState.CLOSING
        lane.dev.plant.move(BarrierPosition.CLOSING)
        await lane.set(photocell=True)  # someone steps under the boom: the PLC reverses
        lane.dev.plant.move(BarrierPosition.OPENING)
        await lane.settle()
        assert lane.state is LaneState.PASSING
        closes = sum(1 for c in lane.dev.barrier.commands if c.kind is CommandKind.CLOSE)
        await lane.set(photocell=False)
        assert lane.state is LaneState.CLOSING
        assert sum(1 for c in lane.dev.barrier.commands if c.kind is CommandKind.CLOSE) == closes + 1
        assert all(
            not s.inputs.under_boom for s in lane.dev.barrier.sent if s.command.kind is CommandKind.CLOSE
        )
        lane.dev.plant.move(BarrierPosition.CLOSED)
        await lane.settle()
        assert lane.state is LaneState.IDLE
        await lane.stop()

    run(scenario)


# ------------------------------------------------------------------------------------------- faults


def test_plc_fault_with_truck_under_boom_closes_only_when_clear() -> None:
    async def scenario() -> None:
        lane = Lane()
        await lane.start()
        await lane.arrive()
        await lane.set(safety=True)
        closes = len(lane.dev.barrier.commands)
        await lane.set(fault=True, fault_code=2)
        assert lane.state is LaneState.FAULT
        assert len(lane.dev.barrier.commands) == closes  # never down onto the truck
        await lane.set(arming=False)
        await lane.set(safety=False)
        assert lane.dev.barrier.commands[-1].kind is CommandKind.CLOSE
        assert not lane.dev.barrier.sent[-1].inputs.under_boom
        await lane.set(fault=False)
        assert lane.state is LaneState.IDLE
        sessions = lane.memory.of_kind("lane.session_closed")
        assert sessions[-1].event.payload["outcome"] == "fault"
        await lane.stop()

    run(scenario)


def test_barrier_send_failure_faults_without_opening() -> None:
    async def scenario() -> None:
        lane = Lane()
        lane.dev.barrier.fail_sends = 1
        await lane.start()
        await lane.arrive()
        assert lane.state is LaneState.FAULT
        assert lane.status.health == {"barrier": "BarrierSendError"}
        assert lane.dev.barrier.commands[-1].kind is CommandKind.CLOSE  # the fail-safe close went out
        assert lane.memory.of_kind("barrier.send_failed")
        await lane.stop()

    run(scenario)


def test_a_close_the_plc_refuses_goes_out_again_once_the_boom_is_clear() -> None:
    """The lane saw the boom clear, but the PLC saw someone step under it and refused the close: the lane
    does not fault; the close goes out again on the next inputs that show the boom clear."""

    async def scenario() -> None:
        lane = Lane()
        await lane.start()
        await lane.arrive()
        await lane.set(safety=True)
        await lane.set(arming=False)
        await lane.set(exit=True)
        lane.dev.barrier.refuse_sends = 1
        await lane.set(safety=False)  # the close goes out and is refused
        assert lane.dev.barrier.refuse_sends == 0
        assert lane.memory.of_kind("barrier.refused_by_plc")
        assert lane.state is LaneState.CLOSING and lane.status.health == {}
        await lane.set(photocell=True)  # the person the PLC saw
        await lane.set(photocell=False)
        await lane.set(exit=False)
        assert lane.state is LaneState.IDLE
        (refused,) = lane.memory.of_kind("barrier.refused_by_plc")
        closes = [c for c in lane.dev.barrier.commands if c.kind is CommandKind.CLOSE]
        assert [c.seq for c in closes] == [refused.event.payload["seq"] + 1]  # sent again, new seq
        assert all(
            not s.inputs.under_boom for s in lane.dev.barrier.sent if s.command.kind is CommandKind.CLOSE
        )
        await lane.stop()

    run(scenario)


def test_an_open_the_plc_refuses_is_not_a_fault_but_a_refused_open() -> None:
    async def scenario() -> None:
        lane = Lane()
        lane.dev.barrier.refuse_sends = 1
        await lane.start()
        await lane.arrive()
        assert lane.state is not LaneState.PASSING
        assert lane.dev.plant.inputs.position is BarrierPosition.CLOSED
        assert lane.memory.of_kind("barrier.refused_by_plc")
        assert "barrier" not in lane.status.health
        await lane.stop()

    run(scenario)


def test_store_outage_faults_keeps_records_and_recovers() -> None:
    async def scenario() -> None:
        lane = Lane()
        await lane.start()
        lane.memory.fail_commits = 1
        await lane.arrive()
        assert lane.opens() == 0
        # the records of the failed step were kept and written with the next one; the lane recovered
        assert "lane.session_opened" in kinds(lane)
        assert "fsm.error" in kinds(lane)
        assert lane.memory.of_kind("device.recovered")[-1].event.payload["device"] == "store"
        assert lane.state is LaneState.MANUAL_REVIEW  # the truck's checks were cut short: a person looks
        assert lane.status.reason == "device_fault"
        await lane.command(StaffOverride("staff-1", "checked by hand", OverrideDecision.OPEN))
        assert lane.state is LaneState.PASSING
        await lane.stop()

    run(scenario)


def test_camera_fault_when_idle_only_marks_health() -> None:
    async def scenario() -> None:
        lane = Lane()
        await lane.start()
        from lane_controller.fsm.events import DeviceFault, DeviceRecovered

        lane.runner.post(DeviceFault(Device.CAMERAS, "no_frames"))
        await lane.settle()
        assert lane.state is LaneState.IDLE
        assert lane.status.health == {"cameras": "no_frames"}
        lane.runner.post(DeviceRecovered(Device.CAMERAS))
        await lane.settle()
        assert lane.status.health == {}
        await lane.stop()

    run(scenario)


# ------------------------------------------------------------------------------------------ people


def test_staff_close_and_reopen_lane_are_attributed() -> None:
    async def scenario() -> None:
        lane = await Lane().start()
        status = await lane.command(CloseLane("supervisor-1", "resurfacing"))
        assert status.state == LaneState.CLOSED_LANE.value
        await lane.arrive()
        assert lane.state is LaneState.CLOSED_LANE
        assert "其他車道" in lane.status.message_zh
        await lane.command(ReopenLane("supervisor-1", "done"))
        assert lane.state is LaneState.IDENTIFYING or lane.state is LaneState.PASSING
        closed = lane.memory.of_kind("lane.closed")[0]
        assert closed.event.actor == "supervisor-1"
        await lane.stop()

    run(scenario)


def test_human_commands_need_a_person_and_a_reason() -> None:
    with pytest.raises(ValueError, match="person"):
        StaffOverride("", "x", OverrideDecision.OPEN)
    with pytest.raises(ValueError, match="reason"):
        StaffOverride("staff-1", " ", OverrideDecision.OPEN)
    with pytest.raises(ValueError, match="officer"):
        OfficerConfirmed("")


def test_unexpected_and_stale_events_are_ignored_and_audited() -> None:
    async def scenario() -> None:
        lane = await Lane().start()
        await lane.command(OfficerConfirmed("officer-1"))
        lane.runner.post(ReadsReady("some-other-session", recognition()))
        await lane.settle()
        assert lane.state is LaneState.IDLE
        ignored = lane.memory.of_kind("fsm.event_ignored")
        assert [i.event.payload["why"] for i in ignored] == [
            "no rule for this event in this state",
            "reply for another session",
        ]
        assert ignored[0].event.actor == "officer-1"
        await lane.stop()

    run(scenario)


def test_next_truck_waiting_on_the_arming_loop_is_taken_when_the_boom_is_down() -> None:
    async def scenario() -> None:
        lane = await Lane().start()
        await lane.arrive()
        await lane.set(safety=True)
        await lane.set(exit=True)
        await lane.set(safety=False)  # first truck clear of the boom; the second is already on the loop
        await lane.settle()
        assert lane.state is LaneState.PASSING
        opened = lane.memory.of_kind("lane.session_opened")
        assert len(opened) == 2
        assert lane.opens() == 2
        await lane.stop()

    run(scenario)


# ------------------------------------------------------------------------------------------- entry


def _entry(**changes: Any) -> Lane:
    return Lane(entry_config(**changes))


def test_entry_fence_already_opened_the_seals() -> None:
    async def scenario() -> None:
        lane = _entry()
        lane.dev.seal_reader.put(seal(state=SealState.OPENED))
        await lane.start()
        await lane.arrive()
        assert lane.state is LaneState.PASSING
        assert lane.dev.seal_reader.unlocked == []
        event = lane.memory.of_kind("lane.seal_event")[0].event.payload
        assert (event["operation"], event["offline_unseal"]) == ("unsealed", False)
        await lane.stop()

    run(scenario)


def _auth(lane: Lane, minutes_ago: float, seals: tuple[str, ...] = (SEAL,)) -> None:
    lane.dev.uplink.authorisations["CN0001"] = UnsealAuthorisation(
        "CN0001", seals, lane.clock.now() - timedelta(minutes=minutes_ago)
    )


@pytest.mark.parametrize(
    ("minutes", "seals", "refuse", "state", "reason"),
    [
        (14.9, (SEAL,), False, LaneState.PASSING, None),
        (15.0, (SEAL,), False, LaneState.MANUAL_REVIEW, "unseal_data_expired"),
        (None, (SEAL,), False, LaneState.MANUAL_REVIEW, "unseal_data_missing"),
        (1.0, ("ES77777777",), False, LaneState.MANUAL_REVIEW, "unseal_data_missing"),
        (1.0, (SEAL,), True, LaneState.MANUAL_REVIEW, "seal_not_opened"),
    ],
    ids=["fresh", "expired", "none", "other-seals", "unlock-refused"],
)
def test_entry_offline_unseal(
    minutes: float | None, seals: tuple[str, ...], refuse: bool, state: LaneState, reason: str | None
) -> None:
    async def scenario() -> None:
        lane = _entry()
        if minutes is not None:
            _auth(lane, minutes, seals)
        lane.dev.seal_reader.refuse_unlock = refuse
        await lane.start()
        await lane.arrive()
        assert lane.state is state, lane.status
        assert lane.status.reason == reason
        assert lane.opens() == (1 if state is LaneState.PASSING else 0)
        await lane.stop()

    run(scenario)


def test_entry_tampered_seal_is_denied() -> None:
    async def scenario() -> None:
        lane = _entry()
        lane.dev.seal_reader.put(seal(state=SealState.TAMPERED))
        await lane.start()
        await lane.arrive()
        assert lane.state is LaneState.DENIED
        assert "查驗" in lane.status.message_zh
        await lane.stop()

    run(scenario)


@pytest.mark.parametrize(("holds", "state"), [(False, LaneState.PASSING), (True, LaneState.MANUAL_REVIEW)])
def test_entry_late_arrival_is_flagged_and_optionally_held(holds: bool, state: LaneState) -> None:
    async def scenario() -> None:
        lane = _entry(late_arrival_holds=holds)
        sealed_at = lane.clock.now() - timedelta(minutes=181)
        lane.dev.seal_reader.put(seal(state=SealState.OPENED, sealed_at=sealed_at))
        await lane.start()
        await lane.arrive()
        assert lane.state is state
        if holds:
            assert lane.status.reason == Reason.LATE_ARRIVAL.value
        else:
            flag = lane.memory.of_kind("lane.flag")[0].event.payload
            assert flag["flag"] == "late_arrival"
        await lane.stop()

    run(scenario)


# ------------------------------------------------------------------------------- journal durability


def test_default_journal_writes_at_durable_points_and_within_the_delay() -> None:
    async def scenario() -> None:
        lane = Lane(exit_config(journal_max_delay_s=2.0))
        _mute(lane, "read_seals")
        await lane.start()
        written = len(lane.memory.audit)
        await lane.arrive()
        assert lane.state is LaneState.SEALING
        assert len(lane.memory.audit) == written  # identify and match steps wait in the journal
        assert lane.runner.journal.pending > 0
        await lane.command(OfficerConfirmed("officer-1"))  # a person's command is written at once
        assert lane.runner.journal.pending == 0
        assert lane.memory.kinds()[-1] == "fsm.event_ignored"
        lane.runner.post(ReadsReady("stale", recognition()))
        await lane.settle()
        assert lane.runner.journal.pending == 1
        await lane.advance(1.9)
        assert lane.runner.journal.pending == 1
        await lane.advance(0.1)
        assert lane.runner.journal.pending == 0
        await lane.stop()

    run(scenario)


def test_default_journal_writes_everything_before_the_barrier_moves() -> None:
    async def scenario() -> None:
        lane = Lane(exit_config(journal_max_delay_s=2.0))
        lane.dev.barrier.witness = lambda: [i.event.kind for i in lane.memory.audit]
        await lane.start()
        await lane.arrive()
        assert lane.state is LaneState.PASSING
        before_open = lane.dev.barrier.sent[0].witness
        assert isinstance(before_open, list)
        for kind in (
            "lane.session_opened",
            "lane.read",
            "lane.match",
            "lane.seals",
            "lane.decision",
            "barrier.command",
        ):
            assert kind in before_open
        assert lane.runner.journal.pending > 0  # the passing transition waits
        await lane.stop()  # shutdown writes what is left
        assert lane.runner.journal.pending == 0
        assert lane.memory.kinds()[-1] == "fsm.transition"

    run(scenario)
