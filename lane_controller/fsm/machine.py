"""One lane's state machine: the rule table of :mod:`lane_controller.fsm.table` run by a queued
``transitions`` machine (:mod:`lane_controller.fsm.engine`), with the guards and actions it names.

The machine is a pure reaction to events. It never waits on a device: it asks the runner for work
through :class:`LaneEffects` (identify, match, read seals, unseal, arm a timer) and the answers come back
as events. Barrier commands go only through the :class:`~lane_controller.fsm.gate.BarrierGate`. Every
transition, read, decision, command and human action is journaled with the session id; the journal is
written ahead of every barrier command, after every human command, on entering a state that may last, and
otherwise within ``journal_max_delay_s``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from lane_controller.customs.seal_event import SEAL_TOPIC, SealEvent, SealLine
from lane_controller.domain.enums import Direction
from lane_controller.domain.json_value import JsonValue
from lane_controller.domain.lane_records import (
    OfficerConfirmationRow,
    OutboxRow,
    ReadRow,
    SealEventRow,
    SessionChanged,
    SessionClosed,
    SessionOpened,
)
from lane_controller.domain.matching import MatchedNote, MatchKind, MatchQuery, MatchResult, MismatchReason
from lane_controller.fsm.config import LaneConfig
from lane_controller.fsm.decisions import (
    PASS,
    Decision,
    DecisionBasis,
    Effect,
    EntrySeals,
    Reason,
    RouteCheck,
    Verdict,
    assess_reads,
    check_route_time,
    check_unseal_authorisation,
    effect_of,
    exception_message,
    state_message,
    verify_entry_seals,
    verify_exit_seals,
    verify_unsealed,
)
from lane_controller.fsm.engine import Engine
from lane_controller.fsm.events import (
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
    UnsealAuthorised,
    VehicleArrived,
    VehicleLeft,
)
from lane_controller.fsm.gate import BarrierGate, BarrierSendError, DecisionTicket
from lane_controller.fsm.journal import Journal
from lane_controller.fsm.protocols import (
    BarrierPosition,
    Clock,
    Device,
    DisplayMessage,
    PlcInputs,
    ReadKind,
    Recognition,
    SealReport,
    TagRead,
    UnsealAuthorisation,
    VotedRead,
)
from lane_controller.fsm.states import BARRIER_UP_STATES, DURABLE_STATES, LaneState
from lane_controller.fsm.table import RULES_BY_SOURCE, SILENT_TRIGGERS, TRANSITIONS, Action, Guard

_LOG = logging.getLogger(__name__)

_SESSION_DEVICES = frozenset({Device.CAMERAS, Device.SEAL_READER})
_LANE_DEVICES = frozenset({Device.BARRIER, Device.STORE})
"""Faults of these stop the lane (state fault); faults of others only affect the truck on it."""


class LaneEffects(Protocol):
    """Work the machine asks of its runner. Each call returns at once; results come back as events."""

    def identify(self, session_id: str) -> None:
        """Capture and recognise the truck, read RFID tags -> ReadsReady or DeviceFault."""
        ...

    def match(self, session_id: str, query: MatchQuery) -> None:
        """Search the CN -> CnMatched or DeviceFault."""
        ...

    def read_seals(self, session_id: str, *, after_unlock: bool) -> None:
        """Read every seal on the truck -> SealStatus or DeviceFault."""
        ...

    def fetch_authorisation(self, session_id: str, cn_number: str) -> None:
        """Get the downloaded unseal data -> UnsealAuthorised."""
        ...

    def unseal(self, session_id: str, seal_ids: tuple[str, ...], authorisation: UnsealAuthorisation) -> None:
        """Unseal offline, then read the seals back -> SealStatus(after_unlock=True) or DeviceFault."""
        ...

    def start_timer(self, state: LaneState, token: int, seconds: float) -> None:
        """Post Timeout(state, token) after ``seconds``, replacing any armed timer."""
        ...

    def cancel_timer(self) -> None:
        """Disarm the timer."""
        ...

    def show(self, message: DisplayMessage) -> None:
        """Put the message on the lane display."""
        ...

    def outbox_changed(self) -> None:
        """A customs message was queued."""
        ...

    def schedule_flush(self, seconds: float) -> None:
        """Call :meth:`LaneMachine.flush` within ``seconds`` (no effect if already scheduled)."""
        ...


@dataclass(slots=True)
class SessionContext:
    """What the lane knows about the truck in the current session."""

    session_id: str
    started_at: datetime
    recognition: Recognition | None = None
    tags: tuple[TagRead, ...] = ()
    match: MatchResult | None = None
    seal_reports: tuple[SealReport, ...] = ()
    seals_verified: bool = False
    """The last seal read passed its check."""
    still_sealed: tuple[str, ...] = ()
    authorisation: UnsealAuthorisation | None = None
    route: RouteCheck | None = None
    reason: Reason | None = None
    detail: str = ""
    ticket: DecisionTicket | None = None
    officer_id: str | None = None
    exit_seen: bool = False
    open_refused: bool = False
    outcome: str | None = None
    recovered: bool = False
    last_state: LaneState = LaneState.IDENTIFYING
    """The last session state the truck was in (stored with the closed session)."""

    @property
    def matched(self) -> MatchedNote | None:
        """The matched note, once found."""
        return self.match.note if self.match is not None and self.match.kind is MatchKind.MATCH else None


@dataclass(frozen=True, slots=True)
class Assessment:
    """The machine's judgement of one event in one state (computed once, read by guards and actions)."""

    verdict: Verdict = PASS
    entry: EntrySeals | None = None
    route: RouteCheck | None = None


@dataclass(slots=True)
class _Memo:
    event: LaneEvent | None = None
    state: LaneState | None = None
    assessment: Assessment = field(default_factory=Assessment)


_MISMATCH_REASONS = {
    MismatchReason.PLATE: Reason.PLATE_MISMATCH,
    MismatchReason.CONTAINERS: Reason.CONTAINER_MISMATCH,
    MismatchReason.DEPARTED: Reason.CN_ALREADY_USED,
}


class LaneMachine:
    """The state machine of one lane (exit or entry, per its config)."""

    def __init__(
        self,
        config: LaneConfig,
        *,
        gate: BarrierGate,
        journal: Journal,
        effects: LaneEffects,
        clock: Clock,
        new_session_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.config = config
        self._gate = gate
        self._journal = journal
        self._effects = effects
        self._clock = clock
        self._new_session_id = new_session_id
        self._ctx: SessionContext | None = None
        self._token = 0
        self._since = clock.now()
        self._health: dict[Device, str] = {}
        self._memo = _Memo()
        self._message: DisplayMessage | None = state_message(LaneState.IDLE)
        self._durable = False
        self.transitions = 0
        self.ignored = 0
        self._engine = Engine(
            TRANSITIONS,
            initial=LaneState.IDLE,
            guard=self._guard,
            action=self._act,
            accept=self._accept,
            enter=self._entered,
            finish=self._finished,
            name=config.lane_id,
        )
        self._guards: dict[Guard, Callable[[LaneEvent], bool]] = self._guard_table()
        self._actions: dict[Action, Callable[[LaneEvent], Awaitable[None] | None]] = self._action_table()

    # ------------------------------------------------------------------------------------ read side

    @property
    def state(self) -> LaneState:
        """The current state."""
        return self._engine.state

    @property
    def since(self) -> datetime:
        """When the current state was entered."""
        return self._since

    @property
    def session(self) -> SessionContext | None:
        """The current truck's session."""
        return self._ctx

    @property
    def health(self) -> dict[Device, str]:
        """Devices currently at fault, with the fault code."""
        return dict(self._health)

    @property
    def message(self) -> DisplayMessage | None:
        """What the lane display shows."""
        return self._message

    @property
    def gate(self) -> BarrierGate:
        """The barrier gate."""
        return self._gate

    def mark_fault(self, device: Device, code: str) -> None:
        """Note a device fault found outside the event flow (start-up)."""
        self._health[device] = code
        self._gate.faulted = Device.BARRIER in self._health

    def clock_now(self) -> datetime:
        """The lane clock's time."""
        return self._clock.now()

    @property
    def token(self) -> int:
        """Number of the current visit of the current state (time-outs carry it)."""
        return self._token

    # ------------------------------------------------------------------------------------ handling

    async def handle(self, event: LaneEvent) -> None:
        """React to one event, then make everything it produced durable. Never raises: an internal
        error puts the lane in ``fault`` with the barrier brought down as soon as it is clear."""
        try:
            await self._observe(event)
            if not self._only_observed(event):
                await self._engine.fire(event)
            wrote = await self._flush_if_due(event)
        except Exception as exc:
            await self._fail_safe(event, exc)
            return
        if wrote and Device.STORE in self._health:  # the store took a batch again: it has recovered
            await self.handle(DeviceRecovered(Device.STORE))

    def _only_observed(self, event: LaneEvent) -> bool:
        """The event (an input) changes nothing but what the lane knows: the rule that would win for it is
        an internal transition without actions. Such events skip the library's dispatch (guards are pure,
        so this is the same outcome, found without the machinery); everything else goes through it."""
        if event.trigger not in SILENT_TRIGGERS:
            return False
        for rule in RULES_BY_SOURCE[event.trigger, self.state]:
            if all(self._guards[g](event) for g in rule.guards):
                return rule.dest is None and not rule.actions
        return False

    async def _flush_if_due(self, event: LaneEvent) -> bool:
        delay = self.config.journal_max_delay_s
        if delay == 0 or self._durable or event.actor is not None:
            self._durable = False
            return await self._journal.flush()
        if self._journal.pending:
            self._effects.schedule_flush(delay)
        return False

    async def flush(self) -> None:
        """Write the journal now (the runner's flush timer, shutdown). Never raises."""
        try:
            wrote = await self._journal.flush()
            self._durable = False
        except Exception as exc:
            await self._fail_safe(Reevaluate(), exc)
            return
        if wrote and Device.STORE in self._health:
            await self.handle(DeviceRecovered(Device.STORE))

    async def _observe(self, event: LaneEvent) -> None:
        """Update what the lane knows of the world (PLC inputs, device health) before the rules run."""
        gate = self._gate
        inputs = gate.inputs
        if isinstance(event, VehicleArrived | VehicleLeft):
            await gate.update(_replace(inputs, arming=isinstance(event, VehicleArrived)))
        elif isinstance(event, SafetyLoopChanged):
            await gate.update(_replace(inputs, safety=event.occupied))
        elif isinstance(event, PhotocellChanged):
            await gate.update(_replace(inputs, photocell=event.blocked))
        elif isinstance(event, ExitLoopChanged):
            passage = (LaneState.OPENING, LaneState.PASSING, LaneState.CLOSING)
            if event.occupied and self._ctx is not None and self.state in passage:
                self._ctx.exit_seen = True
            await gate.update(_replace(inputs, exit=event.occupied))
        elif isinstance(event, BarrierReported):
            await gate.update(inputs.with_position(event.position))
        elif isinstance(event, DeviceFault):
            self._health[event.device] = event.code
            gate.faulted = Device.BARRIER in self._health
        elif isinstance(event, DeviceRecovered):
            self._health.pop(event.device, None)
            gate.faulted = Device.BARRIER in self._health
        elif isinstance(event, ReopenLane):
            self._health.pop(Device.STORE, None)  # a person vouches for the lane

    async def _fail_safe(self, event: LaneEvent, exc: Exception) -> None:
        _LOG.exception("lane %s: error handling %s in %s", self.config.lane_id, event, self.state)
        device = Device.BARRIER if isinstance(exc, BarrierSendError) else Device.STORE
        self._health[device] = type(exc).__name__
        self._gate.faulted = Device.BARRIER in self._health
        session_id = self._ctx.session_id if self._ctx else None
        source = self.state
        # A closed lane is already out of service; anything else stops in fault.
        target = LaneState.CLOSED_LANE if source is LaneState.CLOSED_LANE else LaneState.FAULT
        self._engine.force(target)
        try:
            self._journal.audit(
                "fsm.error",
                {"state": source.value, "event": event.summary(), "error": repr(exc)[:500]},
                session_id=session_id,
            )
            await self._enter_common(source, target, event)
        except Exception as failed:
            _LOG.exception("lane %s: fail-safe could not complete", self.config.lane_id)
            if isinstance(failed, BarrierSendError):
                # Its close was lost on the wire: the barrier is at fault too, so the store coming back
                # cannot take the lane out of fault while the boom may still be up.
                self._health[Device.BARRIER] = type(failed).__name__
                self._gate.faulted = True
        try:
            await self._journal.flush()
        except Exception:
            _LOG.exception("lane %s: store still failing", self.config.lane_id)

    # --------------------------------------------------------------------------------- assessment

    def _assess(self, event: LaneEvent) -> Assessment:
        memo = self._memo
        if memo.event is not event or memo.state is not self.state:
            memo.event, memo.state = event, self.state
            memo.assessment = self._judge(event)
        return memo.assessment

    def _judge(self, event: LaneEvent) -> Assessment:
        ctx = self._ctx
        now = self._clock.now()
        if isinstance(event, ReadsReady):
            return Assessment(assess_reads(event.recognition, self.config.agreement_threshold))
        if isinstance(event, CnMatched):
            return self._judge_match(event.result, now)
        if isinstance(event, SealStatus) and ctx is not None and ctx.matched is not None:
            return self._judge_seals(event, ctx, ctx.matched, now)
        if isinstance(event, UnsealAuthorised) and ctx is not None and ctx.matched is not None:
            verdict = check_unseal_authorisation(
                event.authorisation,
                cn_number=ctx.matched.cn_number,
                seal_ids=ctx.still_sealed,
                now=now,
                max_age=timedelta(seconds=self.config.unseal_max_age_s),
            )
            return Assessment(verdict)
        if isinstance(event, Timeout):
            return Assessment(Verdict(Reason.TIMEOUT, f"no progress in {event.state.value} in time"))
        if isinstance(event, DeviceFault):
            return Assessment(
                Verdict(Reason.DEVICE_FAULT, f"{event.device.value}: {event.code} {event.detail}")
            )
        if isinstance(event, DeviceRecovered):
            return Assessment(Verdict(Reason.DEVICE_FAULT, "the lane was faulted during this session"))
        if isinstance(event, StaffOverride) and event.decision is OverrideDecision.DENY:
            return Assessment(Verdict(Reason.STAFF_DENIED, event.reason))
        if isinstance(event, Reevaluate) and ctx is not None and ctx.open_refused:
            return Assessment(Verdict(Reason.OPEN_REFUSED, "the barrier gate refused the decision"))
        return Assessment()

    def _judge_match(self, result: MatchResult, now: datetime) -> Assessment:
        if result.kind is MatchKind.NONE:
            return Assessment(Verdict(Reason.NO_CN, "no active CN for these plates and containers"))
        if result.kind is MatchKind.SEVERAL:
            numbers = ", ".join(c.cn_number for c in result.candidates)
            return Assessment(Verdict(Reason.SEVERAL_CNS, f"several CNs agree: {numbers}"))
        if result.kind is MatchKind.MISMATCH:
            reason = _MISMATCH_REASONS[result.reasons[0]] if result.reasons else Reason.NO_CN
            detail = "; ".join(
                f"{c.cn_number}: {', '.join(r.value for r in c.reasons)}" for c in result.candidates
            )
            return Assessment(Verdict(reason, detail))
        matched = result.note
        assert matched is not None
        if self.config.direction is Direction.ENTRY and not matched.note.seals:
            return self._with_route(PASS, matched, now, None)
        return Assessment()

    def _judge_seals(
        self, event: SealStatus, ctx: SessionContext, matched: MatchedNote, now: datetime
    ) -> Assessment:
        listed = matched.note.seals
        if self.config.direction is Direction.EXIT:
            return Assessment(verify_exit_seals(listed, event.reports))
        if not event.after_unlock:
            entry = verify_entry_seals(listed, event.reports)
            if not entry.all_opened:
                return Assessment(entry.verdict, entry=entry)
            return self._with_route(entry.verdict, matched, now, entry, event.reports)
        verdict = verify_unsealed(listed, event.reports)
        if verdict.ok:  # the whole offline interaction must finish while the unseal data is valid
            verdict = check_unseal_authorisation(
                ctx.authorisation,
                cn_number=matched.cn_number,
                seal_ids=ctx.still_sealed,
                now=now,
                max_age=timedelta(seconds=self.config.unseal_max_age_s),
            )
        return self._with_route(verdict, matched, now, None, event.reports)

    def _with_route(
        self,
        verdict: Verdict,
        matched: MatchedNote,
        now: datetime,
        entry: EntrySeals | None,
        reports: tuple[SealReport, ...] = (),
    ) -> Assessment:
        if not verdict.ok:
            return Assessment(verdict, entry=entry)
        sealed_times = [r.sealed_at for r in reports if r.sealed_at is not None]
        departed = matched.departed_at or (min(sealed_times) if sealed_times else None)
        route = check_route_time(departed, now, matched.note.time_limit)
        if route.late and self.config.late_arrival_holds:
            detail = f"route {matched.note.route_code}: {route.payload()['elapsed_min']} min on the road"
            return Assessment(Verdict(Reason.LATE_ARRIVAL, detail), entry=entry, route=route)
        return Assessment(verdict, entry=entry, route=route)

    # ---------------------------------------------------------------------------------------- guards

    def _guard(self, guard: Guard, event: LaneEvent) -> bool:
        return self._guards[guard](event)

    def _guard_table(self) -> dict[Guard, Callable[[LaneEvent], bool]]:
        exit_lane = self.config.direction is Direction.EXIT

        def verdict_is(effect: Effect) -> Callable[[LaneEvent], bool]:
            def check(event: LaneEvent) -> bool:
                reason = self._assess(event).verdict.reason
                return reason is not None and effect_of(reason, self.config.effects) is effect

            return check

        return {
            Guard.CURRENT_REPLY: self._current_reply,
            Guard.CURRENT_TIMER: lambda e: (
                isinstance(e, Timeout) and e.token == self._token and e.state is self.state
            ),
            Guard.VERDICT_DENY: verdict_is(Effect.DENY),
            Guard.VERDICT_REVIEW: verdict_is(Effect.REVIEW),
            Guard.NO_CN_LANE: lambda e: not self.config.cn_required,
            Guard.EXIT_SEALS: lambda e: exit_lane and self._seals_listed(e),
            Guard.ENTRY_SEALS: lambda e: not exit_lane and self._seals_listed(e),
            Guard.OFFICER_NEEDED: lambda e: exit_lane and self._officer_needed(),
            Guard.NEEDS_UNSEAL: self._needs_unseal,
            Guard.OFFICER_FOR_CN: self._officer_for_cn,
            Guard.OVERRIDE_OPEN: lambda e: (
                isinstance(e, StaffOverride) and e.decision is OverrideDecision.OPEN
            ),
            Guard.OVERRIDE_DENY: lambda e: (
                isinstance(e, StaffOverride) and e.decision is OverrideDecision.DENY
            ),
            Guard.VEHICLE_PASSED: lambda e: self._vehicle_passed(),
            Guard.BARRIER_OPEN: lambda e: self._gate.inputs.position is BarrierPosition.OPEN,
            Guard.BARRIER_CLOSED: lambda e: self._gate.inputs.position is BarrierPosition.CLOSED,
            Guard.BARRIER_REOPENED: lambda e: (
                self._gate.inputs.position
                in (BarrierPosition.OPENING, BarrierPosition.OPEN, BarrierPosition.STOPPED)
            ),
            Guard.LANE_CLEAR: lambda e: not self._gate.inputs.arming and not self._gate.inputs.under_boom,
            Guard.NOTHING_UNDER_BOOM: lambda e: not self._gate.inputs.under_boom,
            Guard.VEHICLE_ON_ARMING: lambda e: self._gate.inputs.arming,
            Guard.BARRIER_FAULT: lambda e: isinstance(e, DeviceFault) and e.device in _LANE_DEVICES,
            Guard.SESSION_DEVICE_FAULT: self._session_device_fault,
            Guard.BARRIER_HEALTHY: lambda e: not (_LANE_DEVICES & self._health.keys()),
            Guard.SESSION_OPEN: lambda e: self._ctx is not None,
            Guard.OPEN_REFUSED: lambda e: self._ctx is not None and self._ctx.open_refused,
        }

    def _session_device_fault(self, event: LaneEvent) -> bool:
        """A fault of a device the checks need, not a late failure of an earlier session's request."""
        if not isinstance(event, DeviceFault) or event.device not in _SESSION_DEVICES:
            return False
        return event.session_id is None or (
            self._ctx is not None and event.session_id == self._ctx.session_id
        )

    def _current_reply(self, event: LaneEvent) -> bool:
        return self._ctx is not None and event.reply_to == self._ctx.session_id

    def _seals_listed(self, event: LaneEvent) -> bool:
        matched = event.result.note if isinstance(event, CnMatched) else None
        return matched is not None and bool(matched.note.seals)

    def _officer_needed(self) -> bool:
        matched = self._ctx.matched if self._ctx else None
        return matched is not None and matched.note.officer_confirmation_required(self.config.phase)

    def _needs_unseal(self, event: LaneEvent) -> bool:
        entry = self._assess(event).entry
        return (
            isinstance(event, SealStatus)
            and not event.after_unlock
            and entry is not None
            and bool(entry.still_sealed)
        )

    def _officer_for_cn(self, event: LaneEvent) -> bool:
        matched = self._ctx.matched if self._ctx else None
        return (
            isinstance(event, OfficerConfirmed)
            and matched is not None
            and event.cn_number in (None, matched.cn_number)
            and ((self._ctx is not None and self._ctx.seals_verified) or not matched.note.seals)
        )

    def _vehicle_passed(self) -> bool:
        inputs = self._gate.inputs
        return self._ctx is not None and self._ctx.exit_seen and not inputs.under_boom

    # --------------------------------------------------------------------------------------- actions

    async def _act(self, action: Action, event: LaneEvent) -> None:
        result = self._actions[action](event)
        if result is not None:
            await result

    def _action_table(self) -> dict[Action, Callable[[LaneEvent], Awaitable[None] | None]]:
        def outcome(value: str) -> Callable[[LaneEvent], None]:
            def mark(_: LaneEvent) -> None:
                if self._ctx is not None:
                    self._ctx.outcome = value

            return mark

        return {
            Action.OPEN_SESSION: self._open_session,
            Action.REFUSE: self._refuse,
            Action.APPROVE: self._approve,
            Action.APPROVE_OFFICER: self._approve_officer,
            Action.APPROVE_OVERRIDE: self._approve_override,
            Action.MARK_PASSED: outcome("passed"),
            Action.MARK_DENIED: outcome("denied"),
            Action.MARK_ABANDONED: outcome("abandoned"),
            Action.MARK_FAULT: outcome("fault"),
            Action.REQUEST_AUTHORISATION: self._request_authorisation,
            Action.UNSEAL: self._unseal,
            Action.ESCALATE: self._escalate,
        }

    def _open_session(self, _: LaneEvent) -> None:
        now = self._clock.now()
        ctx = SessionContext(self._new_session_id(), now)
        self._ctx = ctx
        direction = self.config.direction.value
        self._journal.add(
            SessionOpened(ctx.session_id, self.config.lane_id, direction, now, LaneState.IDENTIFYING.value)
        )
        self._journal.audit("lane.session_opened", {"direction": direction}, session_id=ctx.session_id)

    def _refuse(self, event: LaneEvent) -> None:
        ctx = self._ctx
        verdict = self._assess(event).verdict
        reason = verdict.reason or Reason.TIMEOUT
        if ctx is not None:
            ctx.reason, ctx.detail = reason, verdict.detail
        matched = ctx.matched if ctx else None
        decision = Decision(
            open=False,
            reason=reason,
            cn_number=matched.cn_number if matched else None,
            person_id=event.actor,
            note=verdict.detail,
        )
        self._gate.record_decision(decision, ctx.session_id if ctx else None)

    def _approve(self, event: LaneEvent) -> None:
        ctx = self._ctx
        assert ctx is not None
        if not self.config.cn_required:
            decision = Decision(open=True, basis=DecisionBasis.NO_CN_LANE)
        else:
            matched = ctx.matched
            assert matched is not None
            checked = bool(matched.note.seals) and isinstance(event, SealStatus)
            self._note_route(event, matched)
            if checked:
                self._record_seal_event(ctx, matched, None)
            decision = Decision(
                open=True,
                basis=DecisionBasis.AUTOMATIC,
                cn_number=matched.cn_number,
                seal_required=matched.note.seal_required or bool(matched.note.seals),
                seal_confirmed=checked,
            )
        ctx.ticket = self._gate.record_decision(decision, ctx.session_id)

    def _approve_officer(self, event: LaneEvent) -> None:
        ctx = self._ctx
        assert ctx is not None
        assert isinstance(event, OfficerConfirmed)
        matched = ctx.matched
        assert matched is not None
        ctx.officer_id = event.person_id
        now = self._clock.now()
        self._journal.add(OfficerConfirmationRow(matched.cn_number, event.person_id, now))
        self._record_seal_event(ctx, matched, event.person_id)
        decision = Decision(
            open=True,
            basis=DecisionBasis.OFFICER,
            cn_number=matched.cn_number,
            person_id=event.person_id,
            seal_required=True,
            seal_confirmed=ctx.seals_verified or not matched.note.seals,
        )
        ctx.ticket = self._gate.record_decision(decision, ctx.session_id)

    def _approve_override(self, event: LaneEvent) -> None:
        ctx = self._ctx
        assert ctx is not None
        assert isinstance(event, StaffOverride)
        matched = ctx.matched
        decision = Decision(
            open=True,
            basis=DecisionBasis.STAFF_OVERRIDE,
            cn_number=matched.cn_number if matched else None,
            person_id=event.person_id,
            note=event.reason,
        )
        ctx.ticket = self._gate.record_decision(decision, ctx.session_id)

    def _request_authorisation(self, event: LaneEvent) -> None:
        ctx = self._ctx
        entry = self._assess(event).entry
        assert ctx is not None
        assert ctx.matched is not None
        assert entry is not None
        ctx.still_sealed = entry.still_sealed
        self._effects.fetch_authorisation(ctx.session_id, ctx.matched.cn_number)

    def _unseal(self, event: LaneEvent) -> None:
        ctx = self._ctx
        assert ctx is not None
        assert isinstance(event, UnsealAuthorised)
        assert event.authorisation is not None
        ctx.authorisation = event.authorisation
        self._journal.audit(
            "lane.unseal_requested", {"seal_ids": list(ctx.still_sealed)}, session_id=ctx.session_id
        )
        self._effects.unseal(ctx.session_id, ctx.still_sealed, event.authorisation)

    def _escalate(self, _: LaneEvent) -> None:
        ctx = self._ctx
        self._journal.audit(
            "lane.review_escalated",
            {"reason": ctx.reason.value if ctx and ctx.reason else None},
            session_id=ctx.session_id if ctx else None,
        )

    def _note_route(self, event: LaneEvent, matched: MatchedNote) -> None:
        route = self._assess(event).route
        ctx = self._ctx
        if route is None or ctx is None:
            return
        ctx.route = route
        payload: dict[str, JsonValue] = {"route_code": matched.note.route_code, **route.payload()}
        self._journal.audit("lane.route_checked", payload, session_id=ctx.session_id)
        if route.late:
            self._journal.audit(
                "lane.flag", {"flag": Reason.LATE_ARRIVAL.value, **payload}, session_id=ctx.session_id
            )

    def _record_seal_event(self, ctx: SessionContext, matched: MatchedNote, officer_id: str | None) -> None:
        """The seal event for the customs uplink: one outbox message and its audit entry."""
        now = self._clock.now()
        note = matched.note
        event = SealEvent(
            direction=self.config.direction,
            lane_id=self.config.lane_id,
            site_code=self.config.site_code,
            session_id=ctx.session_id,
            cn_number=matched.cn_number,
            cn_version=matched.version,
            at=now,
            seals=tuple(
                SealLine(r.seal_id, r.state.value, r.battery_pct, r.sealed_at, r.opened_at)
                for r in ctx.seal_reports
            ),
            officer_id=officer_id,
            route_code=note.route_code,
            time_limit=note.time_limit,
            offline_unseal=ctx.authorisation is not None,
            late=bool(ctx.route and ctx.route.late),
        )
        message = event.message()
        self._journal.add(OutboxRow(SEAL_TOPIC, event.key(), message, now))
        self._journal.audit("lane.seal_event", message, session_id=ctx.session_id, actor=officer_id)
        self._effects.outbox_changed()

    # ------------------------------------------------------------------------------ accepted events

    async def _accept(self, event: LaneEvent, source: LaneState) -> None:
        """Record what an accepted event brought (reads, match, seals, human actions, faults)."""
        ctx = self._ctx
        sid = ctx.session_id if ctx else None
        journal = self._journal
        if isinstance(event, ReadsReady) and ctx is not None:
            ctx.recognition, ctx.tags = event.recognition, event.tags
            self._record_reads(ctx, event)
        elif isinstance(event, CnMatched) and ctx is not None:
            ctx.match = event.result
            journal.audit("lane.match", event.result.summary(), session_id=sid)  # type: ignore[arg-type]
        elif isinstance(event, SealStatus) and ctx is not None:
            ctx.seal_reports = event.reports
            ctx.seals_verified = self._assess(event).verdict.ok
            self._record_seal_reports(ctx, event)
        elif isinstance(event, UnsealAuthorised):
            journal.audit(
                "lane.unseal_data",
                {**event.summary(), **self._assess(event).verdict.payload()},
                session_id=sid,
            )
        elif isinstance(event, OfficerConfirmed):
            journal.audit("officer.confirmed", event.summary(), session_id=sid, actor=event.person_id)
        elif isinstance(event, StaffOverride):
            journal.audit("staff.override", event.summary(), session_id=sid, actor=event.person_id)
        elif isinstance(event, CloseLane):
            journal.audit("lane.closed", event.summary(), session_id=sid, actor=event.person_id)
            if ctx is not None:
                ctx.outcome = "lane_closed"
        elif isinstance(event, ReopenLane):
            journal.audit("lane.reopened", event.summary(), session_id=sid, actor=event.person_id)
        elif isinstance(event, DeviceFault):
            journal.audit("device.fault", event.summary(), session_id=sid)
        elif isinstance(event, DeviceRecovered):
            journal.audit("device.recovered", event.summary(), session_id=sid)

    def _record_reads(self, ctx: SessionContext, event: ReadsReady) -> None:
        now = self._clock.now()
        recognition = event.recognition
        for obs in recognition.observations:
            self._journal.add(
                ReadRow(
                    ctx.session_id,
                    obs.kind.value,
                    obs.text[:64],
                    obs.confidence,
                    obs.accepted,
                    now,
                    camera=obs.camera,
                    image_sha256=obs.image_sha256,
                    box=obs.box,
                )
            )
        for tag in event.tags:
            self._journal.add(ReadRow(ctx.session_id, ReadKind.RFID.value, tag.epc[:64], 1.0, True, now))
        verdict = self._assess(event).verdict
        payload: dict[str, JsonValue] = {
            "plates": [_voted(r) for r in recognition.plates],
            "containers": [_voted(r) for r in recognition.containers],
            "tags": [t.epc for t in event.tags],
            "observations": len(recognition.observations),
            **verdict.payload(),
        }
        self._journal.audit("lane.read", payload, session_id=ctx.session_id)

    def _record_seal_reports(self, ctx: SessionContext, event: SealStatus) -> None:
        now = self._clock.now()
        cn = ctx.matched.cn_number if ctx.matched else None
        for report in event.reports:
            self._journal.add(
                SealEventRow(
                    ctx.session_id,
                    report.seal_id,
                    "status",
                    report.state.value,
                    now,
                    battery_pct=report.battery_pct,
                    cn_number=cn,
                    device_time=report.opened_at or report.sealed_at,
                )
            )
        verdict = self._assess(event).verdict
        payload: dict[str, JsonValue] = {
            "after_unlock": event.after_unlock,
            "seals": [{"seal_id": r.seal_id, "state": r.state.value} for r in event.reports],
            **verdict.payload(),
        }
        self._journal.audit("lane.seals", payload, session_id=ctx.session_id)

    async def _finished(self, event: LaneEvent, state: LaneState, accepted: bool) -> None:
        if accepted:
            return
        self.ignored += 1
        ctx = self._ctx
        why = "no rule for this event in this state"
        if event.reply_to is not None and (ctx is None or event.reply_to != ctx.session_id):
            why = "reply for another session"
        elif isinstance(event, Timeout) and (event.token != self._token or event.state is not state):
            why = "time-out of an earlier state"
        self._journal.audit(
            "fsm.event_ignored",
            {"state": state.value, "why": why, **event.summary()},
            session_id=ctx.session_id if ctx else None,
            actor=event.actor,
        )

    # ---------------------------------------------------------------------------------- state entry

    async def _entered(self, source: LaneState, dest: LaneState, event: LaneEvent) -> None:
        await self._enter_common(source, dest, event)
        await self._enter_specific(dest)

    async def _enter_common(self, source: LaneState, dest: LaneState, event: LaneEvent) -> None:
        self.transitions += 1
        self._token += 1
        if dest in DURABLE_STATES:
            self._durable = True
        self._since = self._clock.now()
        ctx = self._ctx
        sid = ctx.session_id if ctx else None
        reason = (
            ctx.reason.value
            if ctx and ctx.reason and dest in (LaneState.DENIED, LaneState.MANUAL_REVIEW)
            else None
        )
        self._journal.audit(
            "fsm.transition",
            {
                "from": source.value,
                "to": dest.value,
                "trigger": event.trigger.value,
                "reason": reason,
                "event": event.summary(),
            },
            session_id=sid,
            actor=event.actor,
        )
        if ctx is not None and dest not in (LaneState.IDLE, LaneState.CLOSED_LANE):
            ctx.last_state = dest
            matched = ctx.matched
            self._journal.add(
                SessionChanged(
                    sid or "",
                    dest.value,
                    reason=reason,
                    transport_note_id=matched.note_id if matched else None,
                )
            )
        seconds = self.config.timeouts.for_state(dest)
        if seconds is None:
            self._effects.cancel_timer()
        else:
            self._effects.start_timer(dest, self._token, seconds)
        self._show(dest)
        if dest in BARRIER_UP_STATES:
            self._gate.withdraw_close()
        else:
            await self._gate.request_close(sid, retry=dest in (LaneState.FAULT, LaneState.CLOSED_LANE))

    def _show(self, state: LaneState) -> None:
        ctx = self._ctx
        message = state_message(state)
        if message is None and ctx is not None and ctx.reason is not None:
            effect = Effect.DENY if state is LaneState.DENIED else Effect.REVIEW
            message = exception_message(ctx.reason, effect, self._clock.now())
        if message is None:
            message = DisplayMessage("請稍候", "Please wait")
        if message != self._message:
            self._message = message
            self._effects.show(message)

    async def _enter_specific(self, dest: LaneState) -> None:
        ctx = self._ctx
        if dest is LaneState.IDLE:
            self._close_session("abandoned")
            if self._gate.inputs.arming:
                await self._engine.fire(Reevaluate())
        elif dest is LaneState.CLOSED_LANE:
            self._close_session("lane_closed")
        elif ctx is None:
            return
        elif dest is LaneState.IDENTIFYING:
            self._effects.identify(ctx.session_id)
        elif dest is LaneState.MATCHING:
            self._effects.match(ctx.session_id, self._match_query(ctx))
        elif dest in (LaneState.SEALING, LaneState.UNSEALING):
            self._effects.read_seals(ctx.session_id, after_unlock=False)
        elif dest is LaneState.OPENING:
            if not await self._gate.open(ctx.ticket, ctx.session_id):
                ctx.open_refused = True
                await self._engine.fire(Reevaluate())
        elif dest is LaneState.PASSING:
            if self._vehicle_passed():
                await self._engine.fire(Reevaluate())
        elif dest is LaneState.CLOSING:
            if self._gate.inputs.position is BarrierPosition.CLOSED:
                await self._engine.fire(Reevaluate())
        elif dest is LaneState.DENIED and not self._gate.inputs.arming and not self._gate.inputs.under_boom:
            await self._engine.fire(Reevaluate())

    def _match_query(self, ctx: SessionContext) -> MatchQuery:
        recognition = ctx.recognition or Recognition()
        return MatchQuery(
            direction=self.config.direction,
            site_code=self.config.site_code,
            plates=tuple(r.text for r in recognition.plates),
            containers=tuple(r.text for r in recognition.containers),
        )

    def _close_session(self, default_outcome: str) -> None:
        ctx = self._ctx
        if ctx is None:
            return
        outcome = ctx.outcome or default_outcome
        now = self._clock.now()
        reason = ctx.reason.value if ctx.reason else None
        self._journal.add(SessionClosed(ctx.session_id, ctx.last_state.value, now, outcome, reason))
        self._journal.audit(
            "lane.session_closed",
            {
                "outcome": outcome,
                "reason": reason,
                "cn_number": ctx.matched.cn_number if ctx.matched else None,
            },
            session_id=ctx.session_id,
        )
        self._ctx = None

    # -------------------------------------------------------------------------------------- restore

    async def restore(
        self,
        state: LaneState,
        *,
        session: SessionContext | None,
        payload: dict[str, JsonValue],
    ) -> None:
        """Put the lane in ``state`` after a restart (the gate already holds the PLC's inputs), audit it
        as ``lane.recovered``, and run the state's entry as if it had just been entered."""
        self._ctx = session
        source = self.state
        self._engine.force(state)
        self._journal.audit("lane.recovered", payload, session_id=session.session_id if session else None)
        event = Reevaluate()
        try:
            await self._enter_common(source, state, event)
            await self._enter_specific(state)
            await self._journal.flush()
            self._durable = False
        except Exception as exc:
            await self._fail_safe(event, exc)

    def open_recovered_session(self, started_at: datetime, state: LaneState) -> SessionContext:
        """A new session for a truck found on the lane at start-up with no session in the store."""
        ctx = SessionContext(self._new_session_id(), started_at, recovered=True)
        self._journal.add(
            SessionOpened(
                ctx.session_id, self.config.lane_id, self.config.direction.value, started_at, state.value
            )
        )
        self._journal.audit(
            "lane.session_opened",
            {"direction": self.config.direction.value, "recovered": True},
            session_id=ctx.session_id,
        )
        return ctx

    def close_stale_session(self, session_id: str, state: str, outcome: str) -> None:
        """Close a session a crash left open that the lane does not continue."""
        now = self._clock.now()
        self._journal.add(SessionClosed(session_id, state, now, outcome, Reason.RECOVERED.value))
        self._journal.audit(
            "lane.session_closed",
            {"outcome": outcome, "reason": Reason.RECOVERED.value},
            session_id=session_id,
        )


def _replace(inputs: PlcInputs, **changes: bool) -> PlcInputs:
    return inputs.evolve(**changes)


def _voted(read: VotedRead) -> dict[str, JsonValue]:
    """A voted read for the audit log; the alternatives only when there were any."""
    entry: dict[str, JsonValue] = {"text": read.text, "agreement": read.agreement, "votes": read.votes}
    if read.alternatives:
        entry["alternatives"] = [[text, share] for text, share in read.alternatives]
    return entry
