"""In-memory fakes of every lane port and a manual clock, for tests, benchmarks and demos.

:class:`FakeLane` bundles them with a simulated PLC (:class:`LanePlant`) that moves the boom when
commanded and reports loops, so a whole truck can be driven through a real :class:`LaneRunner`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from lane_controller.domain.lane_records import (
    AuditItem,
    BarrierCommandRow,
    LaneRecord,
    OpenSessionRow,
    SessionChanged,
    SessionClosed,
    SessionOpened,
)
from lane_controller.domain.matching import MatchKind, MatchQuery, MatchResult
from lane_controller.fsm.protocols import (
    BarrierCommand,
    BarrierPosition,
    BarrierRefused,
    CommandKind,
    DisplayMessage,
    PlcInputs,
    Recognition,
    SealReport,
    SealState,
    StoredLane,
    TagRead,
    TimerHandle,
    UnsealAuthorisation,
)
from lane_controller.fsm.runner import LaneDevices

# ---------------------------------------------------------------------------------------------- clock


@dataclass(eq=False)
class _ManualTimer:
    due: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """Frozen time that moves only when told; due timers run (in order) during :meth:`advance`."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
        self._elapsed = 0.0
        self._timers: list[tuple[float, int, _ManualTimer]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        """Start time plus the time advanced."""
        return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        """Seconds advanced so far."""
        return self._elapsed

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Schedule ``callback`` ``delay`` seconds from now (manual time)."""
        timer = _ManualTimer(self._elapsed + max(0.0, delay), callback)
        heapq.heappush(self._timers, (timer.due, next(self._order), timer))
        return timer

    def advance(self, seconds: float) -> int:
        """Move time on, running every timer that falls due; returns how many ran."""
        target = self._elapsed + seconds
        ran = 0
        while self._timers and self._timers[0][0] <= target:
            due, _, timer = heapq.heappop(self._timers)
            self._elapsed = max(self._elapsed, due)
            if not timer.cancelled:
                timer.callback()
                ran += 1
        self._elapsed = target
        return ran

    @property
    def pending(self) -> int:
        """Timers armed and not cancelled."""
        return sum(1 for _, _, t in self._timers if not t.cancelled)


# -------------------------------------------------------------------------------------------- devices


@dataclass(frozen=True, slots=True)
class SentCommand:
    """A command the fake barrier received, with the PLC inputs and the ``witness`` value at that moment."""

    command: BarrierCommand
    inputs: PlcInputs
    witness: object = None


class LanePlant:
    """The simulated physical lane: loops, photocell and a boom that moves when commanded.

    ``feed`` is called with every new input snapshot (the runner's ``feed_inputs``). With ``auto_move``
    the boom completes a command at once (opening -> open, closing -> closed); a close while something is
    under the boom is reversed, as a real PLC's photocell would.
    """

    def __init__(self, *, auto_move: bool = True) -> None:
        self.inputs = PlcInputs()
        self.auto_move = auto_move
        self.feed: Callable[[PlcInputs], None] | None = None

    def set(self, **changes: object) -> None:
        """Change inputs and report them."""
        self.inputs = self.inputs.evolve(**changes)  # type: ignore[arg-type]
        if self.feed is not None:
            self.feed(self.inputs)

    def move(self, position: BarrierPosition) -> None:
        """The boom reaches ``position``."""
        self.inputs = self.inputs.with_position(position)
        if self.feed is not None:
            self.feed(self.inputs)

    def command(self, command: BarrierCommand) -> None:
        """React to a barrier command like a PLC would."""
        if not self.auto_move or self.inputs.faulted:
            return
        if command.kind is CommandKind.OPEN:
            self.move(BarrierPosition.OPENING)
            self.move(BarrierPosition.OPEN)
        elif command.kind is CommandKind.CLOSE:
            self.move(BarrierPosition.CLOSING)
            if self.inputs.under_boom:
                self.move(BarrierPosition.OPENING)
                self.move(BarrierPosition.OPEN)
            else:
                self.move(BarrierPosition.CLOSED)


class FakeBarrier:
    """Records commands with the inputs at that moment; drives a :class:`LanePlant`."""

    def __init__(self, plant: LanePlant | None = None) -> None:
        self.plant = plant or LanePlant()
        self.sent: list[SentCommand] = []
        self.fail_sends = 0
        self.refuse_sends = 0
        """The next this many commands are refused by the PLC (BarrierRefused; nothing moves)."""
        self.on_refuse: Callable[[], None] | None = None
        """Run at each refusal, before it is answered: where the PLC's reason shows in its inputs."""
        self.fail_reads = False
        """The PLC does not answer: its inputs cannot be read and no command reaches it."""
        self.witness: Callable[[], object] | None = None
        """Called at each send; its value is kept with the command (e.g. how many audit entries exist)."""
        self.in_flight: Callable[[], None] | None = None
        """Run once, while the next command is on the wire: after the host sent it (and its inputs were
        recorded), before the PLC acts on it; the lane's inputs may change there, as they do on a road."""

    async def send(self, command: BarrierCommand) -> None:
        """Record (or fail) a command and let the plant react."""
        if self.fail_reads:
            raise ConnectionError("simulated PLC unreachable")
        if self.fail_sends > 0:
            self.fail_sends -= 1
            raise ConnectionError("simulated Modbus timeout")
        if self.refuse_sends > 0:
            self.refuse_sends -= 1
            if self.on_refuse is not None:
                self.on_refuse()
            raise BarrierRefused(f"{command.kind.value}: PLC reports photocell blocked")
        witness = self.witness() if self.witness is not None else None
        self.sent.append(SentCommand(command, self.plant.inputs, witness))
        if self.in_flight is not None:
            hook, self.in_flight = self.in_flight, None
            await asyncio.sleep(0)  # the request is on the wire: other tasks run
            hook()
            await asyncio.sleep(0)
        self.plant.command(command)

    async def read_inputs(self) -> PlcInputs:
        """The plant's inputs."""
        if self.fail_reads:
            raise ConnectionError("simulated PLC unreachable")
        return self.plant.inputs

    @property
    def commands(self) -> list[BarrierCommand]:
        """Commands sent, in order."""
        return [s.command for s in self.sent]


class FakeRecognizer:
    """Returns ``result`` (or raises ``error``) for every truck."""

    def __init__(self, result: Recognition | None = None) -> None:
        self.result = result or Recognition()
        self.error: Exception | None = None
        self.calls: list[str] = []

    def recognize(self, lane_id: str, session_id: str) -> Recognition:
        """The configured recognition."""
        self.calls.append(session_id)
        if self.error is not None:
            raise self.error
        return self.result


class FakeTagReader:
    """Returns ``tags`` (or raises ``error``)."""

    def __init__(self, tags: Sequence[TagRead] = ()) -> None:
        self.tags = list(tags)
        self.error: Exception | None = None

    async def read_tags(self) -> Sequence[TagRead]:
        """The configured tags."""
        if self.error is not None:
            raise self.error
        return list(self.tags)


class FakeSealReader:
    """Seals on the truck now (``seals``); ``unlock`` opens one unless ``refuse_unlock``."""

    def __init__(self, seals: Sequence[SealReport] = ()) -> None:
        self.seals: dict[str, SealReport] = {s.seal_id: s for s in seals}
        self.error: Exception | None = None
        self.refuse_unlock = False
        self.unlocked: list[tuple[str, UnsealAuthorisation]] = []
        self.clock: Callable[[], datetime] | None = None

    def put(self, *seals: SealReport) -> None:
        """Replace the seals on the truck."""
        self.seals = {s.seal_id: s for s in seals}

    async def inventory(self) -> Sequence[SealReport]:
        """Every seal on the truck."""
        if self.error is not None:
            raise self.error
        return list(self.seals.values())

    async def unlock(self, seal_id: str, authorisation: UnsealAuthorisation) -> None:
        """Open the seal."""
        if self.error is not None:
            raise self.error
        self.unlocked.append((seal_id, authorisation))
        if self.refuse_unlock or seal_id not in self.seals:
            return
        opened_at = self.clock() if self.clock else None
        self.seals[seal_id] = dataclasses.replace(
            self.seals[seal_id], state=SealState.OPENED, opened_at=opened_at
        )


class FakeUplink:
    """Holds downloaded unseal data per CN; counts outbox notifications."""

    def __init__(self) -> None:
        self.authorisations: dict[str, UnsealAuthorisation] = {}
        self.error: Exception | None = None
        self.notified = 0

    async def unseal_authorisation(self, cn_number: str) -> UnsealAuthorisation | None:
        """The downloaded data for the CN."""
        if self.error is not None:
            raise self.error
        return self.authorisations.get(cn_number)

    def outbox_changed(self) -> None:
        """Count the notification."""
        self.notified += 1


class FakeDisplay:
    """Keeps every message shown."""

    def __init__(self) -> None:
        self.messages: list[DisplayMessage] = []

    async def show(self, message: DisplayMessage) -> None:
        """Record the message."""
        self.messages.append(message)

    @property
    def current(self) -> DisplayMessage | None:
        """The message on the display now."""
        return self.messages[-1] if self.messages else None


# ---------------------------------------------------------------------------------------------- store


class InMemoryRecorder:
    """A :class:`LaneRecorder` in memory: audit entries get consecutive seqs; ``fail_commits`` makes the
    next commits raise (store outage)."""

    def __init__(self, stored: StoredLane | None = None) -> None:
        self.stored = stored or StoredLane()
        self.records: list[LaneRecord] = []
        self.audit: list[AuditItem] = []
        self.fail_commits = 0
        self.commits = 0

    async def commit(self, records: Sequence[LaneRecord]) -> None:
        """Keep the records; number the audit entries."""
        if self.fail_commits > 0:
            self.fail_commits -= 1
            raise ConnectionError("simulated store outage")
        for record in records:
            if isinstance(record, AuditItem):
                record.seq = len(self.audit) + 1
                record.resolve()
                self.audit.append(record)
            self.records.append(record)
        self.commits += 1

    async def prepare_lane(self, lane_id: str, *, name: str, direction: str, site_code: str) -> StoredLane:
        """What the records say: open sessions, last barrier seq, staff mode (else ``stored``)."""
        if not self.records:
            return self.stored
        opened: dict[str, OpenSessionRow] = {}
        last_seq = 0
        mode: str | None = None
        for record in self.records:
            if isinstance(record, SessionOpened) and record.lane_id == lane_id:
                opened[record.session_id] = OpenSessionRow(
                    record.session_id, lane_id, record.direction, record.started_at, record.state, None, None
                )
            elif isinstance(record, SessionChanged) and record.session_id in opened:
                row = opened[record.session_id]
                opened[record.session_id] = dataclasses.replace(
                    row, state=record.state, reason=record.reason or row.reason
                )
            elif isinstance(record, SessionClosed):
                opened.pop(record.session_id, None)
            elif isinstance(record, BarrierCommandRow) and record.lane_id == lane_id:
                last_seq = max(last_seq, record.seq)
            elif isinstance(record, AuditItem) and record.event.kind in ("lane.closed", "lane.reopened"):
                mode = record.event.kind
        rows = sorted(opened.values(), key=lambda r: r.started_at, reverse=True)
        return StoredLane(tuple(rows), last_seq, mode == "lane.closed")

    def kinds(self, session_id: str | None = None) -> list[str]:
        """Audit kinds in order (of one session if given)."""
        return [i.event.kind for i in self.audit if session_id is None or i.event.session_id == session_id]

    def of_kind(self, kind: str) -> list[AuditItem]:
        """Audit entries of one kind."""
        return [i for i in self.audit if i.event.kind == kind]


@dataclass
class FakeMatcher:
    """Answers every query with ``result``; keeps the queries."""

    result: MatchResult = field(default_factory=lambda: MatchResult(MatchKind.NONE))
    queries: list[MatchQuery] = field(default_factory=list)
    error: Exception | None = None

    async def match(self, query: MatchQuery) -> MatchResult:
        """The configured result."""
        self.queries.append(query)
        if self.error is not None:
            raise self.error
        return self.result


# ----------------------------------------------------------------------------------------------- lane


class FakeDevices:
    """Every device of one lane as a fake, around one simulated plant."""

    def __init__(self, *, auto_move: bool = True) -> None:
        self.plant = LanePlant(auto_move=auto_move)
        self.barrier = FakeBarrier(self.plant)
        self.recognizer = FakeRecognizer()
        self.tag_reader = FakeTagReader()
        self.seal_reader = FakeSealReader()
        self.uplink = FakeUplink()
        self.display = FakeDisplay()

    def lane_devices(self) -> LaneDevices:
        """The bundle a :class:`LaneRunner` takes."""
        return LaneDevices(
            barrier=self.barrier,
            recognizer=self.recognizer,
            tag_reader=self.tag_reader,
            seal_reader=self.seal_reader,
            uplink=self.uplink,
            display=self.display,
        )
