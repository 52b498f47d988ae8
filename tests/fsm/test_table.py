"""Every state against every event: the machine follows its table, ignores (and audits) the rest, never
crashes, and never breaks the barrier invariants."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from lane_controller.customs.matching import MatchQuery
from lane_controller.fsm.config import LaneConfig, Timeouts
from lane_controller.fsm.decisions import Decision, DecisionBasis, Reason
from lane_controller.fsm.events import (
    EVENT_TYPES,
    BarrierReported,
    CloseLane,
    CnMatched,
    DeviceFault,
    DeviceRecovered,
    ExitLoopChanged,
    LaneEvent,
    OfficerConfirmed,
    OverrideDecision,
    PhotocellChanged,
    ReadsReady,
    Reevaluate,
    ReopenLane,
    SafetyLoopChanged,
    SealStatus,
    StaffOverride,
    Timeout,
    Trigger,
    UnsealAuthorised,
    VehicleArrived,
    VehicleLeft,
)
from lane_controller.fsm.fakes import FakeBarrier, InMemoryRecorder, LanePlant, ManualClock
from lane_controller.fsm.gate import BarrierGate
from lane_controller.fsm.journal import Journal
from lane_controller.fsm.machine import LaneMachine, SessionContext
from lane_controller.fsm.protocols import (
    BarrierPosition,
    CommandKind,
    Device,
    DisplayMessage,
    PlcInputs,
    SealState,
    UnsealAuthorisation,
)
from lane_controller.fsm.states import WAITING_STATES, LaneState
from lane_controller.fsm.table import TRANSITIONS, timeout_destination
from tests.fsm.harness import SEAL, entry_config, exit_config, matched, recognition, seal

SID = "00000000-0000-4000-8000-00000000aaaa"


class RecordingEffects:
    """LaneEffects that only remember what was asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def identify(self, session_id: str) -> None:
        self.calls.append("identify")

    def match(self, session_id: str, query: MatchQuery) -> None:
        self.calls.append("match")

    def read_seals(self, session_id: str, *, after_unlock: bool) -> None:
        self.calls.append("read_seals")

    def fetch_authorisation(self, session_id: str, cn_number: str) -> None:
        self.calls.append("fetch_authorisation")

    def unseal(self, session_id: str, seal_ids: tuple[str, ...], authorisation: UnsealAuthorisation) -> None:
        self.calls.append("unseal")

    def start_timer(self, state: LaneState, token: int, seconds: float) -> None:
        self.calls.append(f"timer:{state.value}")

    def cancel_timer(self) -> None:
        self.calls.append("cancel_timer")

    def show(self, message: DisplayMessage) -> None:
        self.calls.append("show")

    def outbox_changed(self) -> None:
        self.calls.append("outbox")

    def schedule_flush(self, seconds: float) -> None:
        self.calls.append("schedule_flush")


def _world(state: LaneState) -> PlcInputs:
    up = state in (LaneState.PASSING, LaneState.CLOSING)
    inputs = PlcInputs(arming=state not in (LaneState.IDLE, LaneState.CLOSED_LANE, LaneState.FAULT))
    return inputs.with_position(BarrierPosition.OPEN if up else BarrierPosition.CLOSED)


def _config(state: LaneState) -> LaneConfig:
    return entry_config() if state is LaneState.UNSEALING else exit_config()


async def _machine(state: LaneState) -> tuple[LaneMachine, InMemoryRecorder, FakeBarrier]:
    config = _config(state)
    clock = ManualClock()
    recorder = InMemoryRecorder()
    journal = Journal(recorder, config.lane_id, clock)
    barrier = FakeBarrier(LanePlant(auto_move=False))
    gate = BarrierGate(barrier, journal)
    barrier.witness = lambda: gate.inputs
    machine = LaneMachine(config, gate=gate, journal=journal, effects=RecordingEffects(), clock=clock)
    gate.reset_inputs(_world(state))
    if state is LaneState.FAULT:
        machine.mark_fault(Device.BARRIER, "test")
    ctx = None
    if state not in (LaneState.IDLE, LaneState.CLOSED_LANE, LaneState.FAULT):
        ctx = SessionContext(SID, clock.now(), recognition=recognition())
        vehicle_seal = [{"seal_id": SEAL, "seal_type": "vehicle_mounted"}]
        ctx.match = matched(seals=vehicle_seal) if state is LaneState.AWAITING_STAFF else matched()
        ctx.seals_verified = state is LaneState.AWAITING_STAFF
        if state in (LaneState.DENIED, LaneState.MANUAL_REVIEW):
            ctx.reason = Reason.NO_CN
        if state is LaneState.OPENING:
            decision = Decision(open=True, basis=DecisionBasis.STAFF_OVERRIDE, person_id="p", note="n")
            ctx.ticket = gate.record_decision(decision, SID)
        if state is LaneState.UNSEALING:
            ctx.still_sealed = (SEAL,)
    await machine.restore(state, session=ctx, payload={"test": True})
    assert machine.state is state
    return machine, recorder, barrier


def _events(machine: LaneMachine) -> list[LaneEvent]:
    now = machine.clock_now()
    auth = UnsealAuthorisation("CN0001", (SEAL,), now - timedelta(minutes=1))
    return [
        VehicleArrived(),
        VehicleLeft(),
        SafetyLoopChanged(occupied=True),
        SafetyLoopChanged(occupied=False),
        ExitLoopChanged(occupied=True),
        PhotocellChanged(blocked=True),
        BarrierReported(BarrierPosition.OPEN),
        BarrierReported(BarrierPosition.CLOSED),
        BarrierReported(BarrierPosition.OPENING),
        ReadsReady(SID, recognition()),
        ReadsReady("stale", recognition()),
        CnMatched(SID, matched()),
        SealStatus(SID, (seal(),)),
        SealStatus(SID, (seal(state=SealState.TAMPERED),)),
        SealStatus(SID, (seal(state=SealState.OPENED),), after_unlock=True),
        UnsealAuthorised(SID, auth),
        UnsealAuthorised(SID, None),
        OfficerConfirmed("officer-1"),
        StaffOverride("staff-1", "because", OverrideDecision.OPEN),
        StaffOverride("staff-1", "because", OverrideDecision.DENY),
        CloseLane("staff-1", "works"),
        ReopenLane("staff-1", "done"),
        DeviceFault(Device.BARRIER, "overcurrent"),
        DeviceFault(Device.CAMERAS, "no_frames"),
        DeviceFault(Device.UPLINK, "offline"),
        DeviceRecovered(Device.BARRIER),
        Timeout(machine.state, machine.token),
        Timeout(machine.state, machine.token - 1),
        Reevaluate(),
    ]


def _event_ids() -> list[str]:
    return [
        "arrived", "left", "safety-on", "safety-off", "exit-on", "photocell", "reported-open",
        "reported-closed", "reported-opening", "reads", "reads-stale", "matched", "seals", "seals-tampered",
        "seals-unlocked", "auth", "auth-none", "officer", "override-open", "override-deny", "close-lane",
        "reopen-lane", "fault-barrier", "fault-cameras", "fault-uplink", "recovered-barrier", "timeout",
        "timeout-stale", "reevaluate",
    ]  # fmt: skip


@pytest.mark.parametrize("state", list(LaneState), ids=[s.value for s in LaneState])
def test_every_event_in_every_state(state: LaneState) -> None:
    async def check_all() -> None:
        probe, _, _ = await _machine(state)
        events = _events(probe)
        assert len(events) == len(_event_ids())
        for index, name in enumerate(_event_ids()):
            machine, recorder, barrier = await _machine(state)
            event = _events(machine)[index]
            start = len(recorder.audit)
            commands_before = len(barrier.sent)
            await machine.handle(event)
            new = recorder.audit[start:]
            kinds = [i.event.kind for i in new]
            where = f"{state.value} x {name}"
            assert "fsm.error" not in kinds, where
            rules = [r for r in TRANSITIONS if r.trigger is event.trigger and state in r.sources]
            transitions = [i for i in new if i.event.kind == "fsm.transition"]
            if not rules:
                assert machine.state is state, where
                assert kinds.count("fsm.event_ignored") == 1, where
            elif transitions:
                first = transitions[0].event.payload
                assert first["from"] == state.value, where
                assert first["to"] in {r.dest.value for r in rules if r.dest is not None}, where
            else:
                internal = any(r.dest is None for r in rules)
                assert internal or "fsm.event_ignored" in kinds, where
            for sent in barrier.sent[commands_before:]:
                inputs = sent.witness
                assert isinstance(inputs, PlcInputs)
                if sent.command.kind is CommandKind.CLOSE:
                    assert not inputs.under_boom, where
                if sent.command.kind is CommandKind.OPEN:
                    decisions = {i.seq: i for i in recorder.of_kind("lane.decision")}
                    decision = decisions[sent.command.decision_audit_seq]
                    assert decision.event.payload["decision"] == "open", where

    asyncio.run(check_all())


def test_every_trigger_has_an_event_class_and_every_event_a_rule() -> None:
    assert {cls.trigger for cls in EVENT_TYPES} == set(Trigger)
    assert {r.trigger for r in TRANSITIONS} == set(Trigger)


def test_every_waiting_state_has_a_timeout_with_an_explicit_destination() -> None:
    for state in LaneState:
        destination = timeout_destination(state)
        if state in WAITING_STATES:
            assert destination is not None, state
            assert Timeouts().for_state(state) is not None
        else:
            assert destination is None, state
            assert Timeouts().for_state(state) is None
    assert set(Timeouts.model_fields) == {s.value for s in WAITING_STATES}


def test_rules_never_open_except_through_a_decision_action() -> None:
    for rule in TRANSITIONS:
        if rule.dest is LaneState.OPENING:
            assert any(a.value.startswith("approve") for a in rule.actions), rule


def test_config_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="extra"):
        LaneConfig.load({"lane_id": "X1", "direction": "exit", "site_code": "KHC1", "barier": 1})
    with pytest.raises(ValueError, match="extra"):
        LaneConfig.load({"lane_id": "X1", "direction": "exit", "site_code": "KHC1", "timeouts": {"idle": 3}})


def _stale(machine: LaneMachine) -> list[tuple[str, LaneEvent]]:
    """Replies meant for another truck and timers of an earlier state or arming: each must change
    nothing in any state (the catch-all table check above allows any rule's destination)."""
    other = next(s for s in LaneState if s is not machine.state)
    return [
        ("reads", ReadsReady("another-session", recognition(plates=()))),
        ("matched", CnMatched("another-session", matched())),
        ("seals", SealStatus("another-session", (seal(state=SealState.TAMPERED),))),
        ("timer-of-an-earlier-arming", Timeout(machine.state, machine.token - 1)),
        ("timer-of-another-state", Timeout(other, machine.token)),
    ]


@pytest.mark.parametrize("state", list(LaneState), ids=[s.value for s in LaneState])
def test_stale_replies_and_timers_change_nothing(state: LaneState) -> None:
    async def check_all() -> None:
        probe, _, _ = await _machine(state)
        for index in range(len(_stale(probe))):
            machine, recorder, barrier = await _machine(state)
            name, event = _stale(machine)[index]
            start, sent = len(recorder.audit), len(barrier.sent)
            await machine.handle(event)
            kinds = [i.event.kind for i in recorder.audit[start:]]
            where = f"{state.value} x {name}"
            assert machine.state is state, where
            assert "fsm.transition" not in kinds and "lane.decision" not in kinds, where
            assert len(barrier.sent) == sent, where

    asyncio.run(check_all())
