"""Hypothesis stateful test: random trucks, loops, device behaviour, faults, people, time-outs and
restarts against a real runner on fakes. After every step the invariants of DESIGN §4 must hold:

1. the barrier is commanded open only with a recorded positive decision (each used once);
2. it is never commanded down while the safety loop or the photocell reports something;
3. outside opening/passing, with nothing under the boom, the boom is down or the last command sent was a
   close (or that close failed on the wire and the lane is in fault);
4. every transition, command and human action is in the audit log, in order; commands are written
   before they are sent.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from lane_controller.customs.matching import CandidateNote, MatchKind, MatchResult
from lane_controller.fsm.config import LaneConfig
from lane_controller.fsm.events import (
    CloseLane,
    DeviceFault,
    DeviceRecovered,
    OfficerConfirmed,
    OverrideDecision,
    ReadsReady,
    ReopenLane,
    SealStatus,
    StaffOverride,
)
from lane_controller.fsm.fakes import FakeDevices, FakeMatcher, InMemoryRecorder, ManualClock
from lane_controller.fsm.protocols import BarrierPosition, CommandKind, Device, SealState, UnsealAuthorisation
from lane_controller.fsm.runner import LaneRunner
from lane_controller.fsm.states import BARRIER_UP_STATES
from tests.fsm.harness import CONTAINER, SEAL, TRACTOR, entry_config, exit_config, matched, recognition, seal

HUMAN_KINDS = frozenset(
    {"staff.override", "officer.confirmed", "lane.closed", "lane.reopened", "fsm.event_ignored"}
)


class LaneProperties(RuleBasedStateMachine):
    """One lane under random stimuli."""

    config: ClassVar[LaneConfig] = exit_config()

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = ManualClock()
        self.recorder = InMemoryRecorder()
        self.matcher = FakeMatcher(matched())
        self.dev = FakeDevices()
        self.dev.seal_reader.clock = self.clock.now
        self.dev.recognizer.result = recognition()
        self.dev.seal_reader.put(seal())
        self.dev.barrier.witness = lambda: len(self.recorder.audit)
        self.humans = 0
        self.outages = 0
        self.runner = self._new_runner()
        self._run(self.runner.start())

    def _new_runner(self) -> LaneRunner:
        runner = LaneRunner(
            self.config,
            self.dev.lane_devices(),
            recorder=self.recorder,
            matcher=self.matcher,
            clock=self.clock,
        )
        self.dev.plant.feed = None if self.dev.barrier.fail_reads else runner.feed_inputs
        return runner

    def _run(self, coro: Any) -> None:
        self.loop.run_until_complete(coro)
        self.loop.run_until_complete(self.runner.settle())

    def teardown(self) -> None:
        self.loop.run_until_complete(self.runner.stop())
        self.loop.close()

    # ------------------------------------------------------------------------------------ stimuli

    @rule(loop=st.sampled_from(["arming", "safety", "exit", "photocell"]), on=st.booleans())
    def loop_changes(self, loop: str, on: bool) -> None:
        self.dev.plant.set(**{loop: on})
        self._run(self.runner.settle())

    @rule(on=st.booleans())
    def plc_fault(self, on: bool) -> None:
        self.dev.plant.set(fault=on, fault_code=2 if on else 0)
        self._run(self.runner.settle())

    @rule(stuck=st.booleans())
    def barrier_stuck(self, stuck: bool) -> None:
        self.dev.plant.auto_move = not stuck

    @rule(position=st.sampled_from(list(BarrierPosition)))
    def barrier_moves_by_itself(self, position: BarrierPosition) -> None:
        self.dev.plant.move(position)
        self._run(self.runner.settle())

    @rule(kind=st.sampled_from(["good", "low", "unreadable", "error", "other-container"]))
    def recognizer_behaves(self, kind: str) -> None:
        rec = self.dev.recognizer
        rec.error = OSError("camera") if kind == "error" else None
        rec.result = {
            "good": recognition(),
            "low": recognition(agreement=0.3),
            "unreadable": recognition(plates=()),
            "error": recognition(),
            "other-container": recognition(containers=("TGHU0000008",)),
        }[kind]

    @rule(kind=st.sampled_from(["match", "officer", "none", "several", "mismatch", "error", "no-seal"]))
    def matcher_behaves(self, kind: str) -> None:
        cand = CandidateNote("CN0009", TRACTOR, (CONTAINER,), True, False)
        self.matcher.error = ConnectionError("db") if kind == "error" else None
        self.matcher.result = {
            "match": matched(),
            "officer": matched(seals=[{"seal_id": SEAL, "seal_type": "vehicle_mounted"}]),
            "none": MatchResult(MatchKind.NONE),
            "several": MatchResult(MatchKind.SEVERAL, candidates=(cand, cand)),
            "mismatch": MatchResult(MatchKind.MISMATCH, candidates=(cand,)),
            "error": matched(),
            "no-seal": matched(seals=[], release_instruction_code=None),
        }[kind]

    @rule(kind=st.sampled_from(["sealed", "opened", "tampered", "missing", "extra", "error", "refuse"]))
    def seals_behave(self, kind: str) -> None:
        reader = self.dev.seal_reader
        reader.error = TimeoutError("reader") if kind == "error" else None
        reader.refuse_unlock = kind == "refuse"
        states = {"opened": SealState.OPENED, "tampered": SealState.TAMPERED}
        if kind == "missing":
            reader.put()
        elif kind == "extra":
            reader.put(seal(), seal("ES99999999"))
        else:
            reader.put(seal(state=states.get(kind, SealState.SEALED)))

    @rule(minutes=st.sampled_from([None, 1.0, 14.0, 16.0]))
    def unseal_data(self, minutes: float | None) -> None:
        auths = self.dev.uplink.authorisations
        auths.clear()
        if minutes is not None:
            auths["CN0001"] = UnsealAuthorisation(
                "CN0001", (SEAL,), self.clock.now() - timedelta(minutes=minutes)
            )

    @rule(open_=st.booleans())
    def staff_override(self, open_: bool) -> None:
        decision = OverrideDecision.OPEN if open_ else OverrideDecision.DENY
        self.humans += 1
        self._run(self.runner.command(StaffOverride("staff-1", "checked", decision)))

    @rule()
    def officer_confirms(self) -> None:
        self.humans += 1
        self._run(self.runner.command(OfficerConfirmed("officer-1")))

    @rule(close=st.booleans())
    def lane_mode(self, close: bool) -> None:
        self.humans += 1
        command = CloseLane("sup-1", "works") if close else ReopenLane("sup-1", "done")
        self._run(self.runner.command(command))

    @rule(
        device=st.sampled_from([Device.CAMERAS, Device.SEAL_READER, Device.UPLINK, Device.BARRIER]),
        on=st.booleans(),
    )
    def device_health(self, device: Device, on: bool) -> None:
        self.runner.post(DeviceFault(device, "injected") if on else DeviceRecovered(device))
        self._run(self.runner.settle())

    @rule()
    def barrier_send_fails(self) -> None:
        self.dev.barrier.fail_sends = 1

    @rule()
    def barrier_refuses(self) -> None:
        """The PLC refuses the next command because its photocell sees something the host had not
        heard of yet; the host then sees the photocell block and clear."""
        self.dev.barrier.refuse_sends = 1
        plant = self.dev.plant

        def reason() -> None:
            if not plant.inputs.photocell:
                plant.set(photocell=True)
                plant.set(photocell=False)

        self.dev.barrier.on_refuse = reason

    @rule(failing=st.booleans())
    def plc_reads_fail(self, failing: bool) -> None:
        """The PLC stops answering (no reads, no commands, no reports of its inputs), or answers again,
        its first report being its inputs as they are now (as the driver's next poll gives them)."""
        self.dev.barrier.fail_reads = failing
        self.dev.plant.feed = None if failing else self.runner.feed_inputs
        if not failing:
            self.dev.plant.set()
            self._run(self.runner.settle())

    @rule(loop=st.sampled_from(["arming", "safety", "exit", "photocell"]), on=st.booleans())
    def loop_changes_while_a_command_is_in_flight(self, loop: str, on: bool) -> None:
        """The next command's request is on the wire when the loop changes (a vehicle rolls onto the
        safety loop while a close goes out): the runner hears of it before the PLC acts."""
        self.dev.barrier.in_flight = lambda: self.dev.plant.set(**{loop: on})

    @rule()
    def store_outage(self) -> None:
        self.outages += 1
        self.recorder.fail_commits = 1

    @rule(seconds=st.sampled_from([0.5, 5, 11, 16, 31, 121, 181, 301, 601, 901, 1801]))
    def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self._run(self.runner.settle())

    @rule(kind=st.sampled_from(["reads", "seals"]))
    def stale_reply(self, kind: str) -> None:
        session = self.runner.machine.session
        sid = "stale" if session is None else session.session_id + "x"
        event = ReadsReady(sid, recognition()) if kind == "reads" else SealStatus(sid, (seal(),))
        self.runner.post(event)
        self._run(self.runner.settle())

    @rule()
    def restart(self) -> None:
        self.loop.run_until_complete(self.runner.stop())
        self.runner = self._new_runner()
        self._run(self.runner.start())

    # --------------------------------------------------------------------------------- invariants

    @invariant()
    def opens_only_with_a_recorded_positive_decision(self) -> None:
        decisions = {i.seq: i for i in self.recorder.of_kind("lane.decision")}
        commands = {i.event.payload["seq"]: i for i in self.recorder.of_kind("barrier.command")}
        used: set[int] = set()
        for sent in self.dev.barrier.sent:
            if sent.command.kind is not CommandKind.OPEN:
                continue
            seq = sent.command.decision_audit_seq
            assert seq is not None
            assert seq not in used
            used.add(seq)
            decision = decisions[seq]
            assert decision.event.payload["decision"] == "open"
            assert decision.event.session_id == commands[sent.command.seq].event.session_id
            assert decision.event.session_id is not None

    @invariant()
    def never_down_onto_a_vehicle(self) -> None:
        for sent in self.dev.barrier.sent:
            if sent.command.kind is CommandKind.CLOSE:
                assert not sent.inputs.under_boom, sent

    @invariant()
    def down_when_nobody_passes(self) -> None:
        machine = self.runner.machine
        inputs = self.dev.plant.inputs
        if (
            machine.state in BARRIER_UP_STATES
            or inputs.under_boom
            or inputs.position is BarrierPosition.CLOSED
            # a PLC that does not answer reports nothing: the lane cannot know nobody is under the
            # boom (its last report may show a vehicle); once it answers, its report settles it
            or self.dev.barrier.fail_reads
        ):
            return
        sent = self.dev.barrier.sent
        if not sent or sent[-1].command.kind is CommandKind.CLOSE:
            return
        # the boom is up with nobody passing: only a close asked for after the last command the PLC
        # took, and lost on the wire, excuses it, and then the lane is in fault, or closed (a fault that
        # persisted for its time-out, or a lane staff closed while it was faulted: both take no truck)
        failed_closes = [
            i.event.payload["seq"]
            for i in self.recorder.of_kind("barrier.send_failed")
            if i.event.payload["command"] == CommandKind.CLOSE.value
        ]
        assert any(seq > sent[-1].command.seq for seq in failed_closes), (machine.state, sent[-1])
        assert machine.state.value in ("fault", "closed_lane"), machine.state

    @invariant()
    def everything_audited_in_order(self) -> None:
        audit = self.recorder.audit
        assert [i.seq for i in audit] == list(range(1, len(audit) + 1))
        previous: str | None = None
        for item in audit:
            if item.event.kind == "lane.recovered":
                previous = None
            elif item.event.kind == "fsm.transition":
                if previous is not None:
                    assert item.event.payload["from"] == previous, item
                previous = str(item.event.payload["to"])
        if previous is not None and not self.runner.journal.pending:
            assert previous == self.runner.machine.state.value
        commands = {i.event.payload["seq"]: i for i in self.recorder.of_kind("barrier.command")}
        for sent in self.dev.barrier.sent:
            entry = commands[sent.command.seq]
            assert entry.seq is not None
            # write-ahead; a close goes out even while the store is down (its record follows)
            if sent.command.kind is CommandKind.OPEN or not self.outages:
                assert isinstance(sent.witness, int)
                assert entry.seq <= sent.witness
        humans = [i for i in audit if i.event.actor and i.event.kind in HUMAN_KINDS]
        assert len(humans) == self.humans


PROFILES = {"quick": (40, 35), "ci": (500, 40), "nightly": (5000, 60)}
"""Examples and steps per example. The test command runs ``ci`` (about half a minute here), enough that
every mutant of ``scripts/mutate_fsm.py`` fails; ``LANE_FSM_PROFILE=nightly`` is the long run for a
machine with time to spare; ``quick`` is for editing. ``LANE_FSM_EXAMPLES=N`` overrides the count."""
_EXAMPLES, _STEPS = PROFILES[os.environ.get("LANE_FSM_PROFILE", "ci")]
SETTINGS = settings(
    max_examples=int(os.environ.get("LANE_FSM_EXAMPLES", str(_EXAMPLES))),
    stateful_step_count=_STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class ExitLaneProperties(LaneProperties):
    config = exit_config()


class EntryLaneProperties(LaneProperties):
    """Entry lane with the default journal policy (records may wait up to 2 s between durable points)."""

    config = entry_config(late_arrival_holds=True, journal_max_delay_s=2.0)


TestExitLane = ExitLaneProperties.TestCase
TestExitLane.settings = SETTINGS
TestEntryLane = EntryLaneProperties.TestCase
TestEntryLane.settings = SETTINGS
