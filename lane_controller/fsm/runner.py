"""The lane runner: one asyncio task per lane that wires a :class:`LaneMachine` to its devices.

It turns PLC input snapshots into events, feeds events to the machine one at a time from the lane's
queue, does the work the machine asks for (OCR in a worker thread, CN search, seal reads, offline unseal)
and posts the results back as events, arms time-outs through the :class:`Clock`, and publishes a
:class:`LaneStatus` snapshot (Klipper ``get_status()`` style) for the web layer. Many lanes share one
process and one event loop (:class:`LaneHost`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lane_controller.domain.json_value import JsonValue
from lane_controller.domain.matching import MatchQuery
from lane_controller.fsm.config import LaneConfig
from lane_controller.fsm.events import (
    BarrierReported,
    CloseLane,
    CnMatched,
    DeviceFault,
    DeviceRecovered,
    ExitLoopChanged,
    LaneEvent,
    OfficerConfirmed,
    PhotocellChanged,
    ReadsReady,
    ReopenLane,
    SafetyLoopChanged,
    SealStatus,
    StaffOverride,
    Timeout,
    UnsealAuthorised,
    VehicleArrived,
    VehicleLeft,
)
from lane_controller.fsm.gate import BarrierGate
from lane_controller.fsm.journal import Journal
from lane_controller.fsm.machine import LaneMachine
from lane_controller.fsm.protocols import (
    PLC_FROZEN,
    PLC_UNREADABLE,
    Barrier,
    Clock,
    CnMatcher,
    Device,
    Display,
    DisplayMessage,
    LaneRecorder,
    PlcInputs,
    Recognition,
    Recognizer,
    SealReader,
    TagRead,
    TagReader,
    TimerHandle,
    UnsealAuthorisation,
    Uplink,
)
from lane_controller.fsm.recovery import apply_recovery, plan_recovery
from lane_controller.fsm.states import LaneState

_LOG = logging.getLogger(__name__)

HumanCommand = StaffOverride | OfficerConfirmed | CloseLane | ReopenLane
"""Commands people give a lane through the runner (the web layer exposes them)."""


@dataclass(frozen=True, slots=True)
class LaneDevices:
    """The devices of one lane, each behind its Protocol."""

    barrier: Barrier
    recognizer: Recognizer
    tag_reader: TagReader
    seal_reader: SealReader
    uplink: Uplink
    display: Display | None = None


@dataclass(frozen=True, slots=True)
class LaneStatus:
    """A plain snapshot of one lane for the API and the status page."""

    lane_id: str
    name: str
    direction: str
    state: str
    since: datetime
    session_id: str | None
    plates: tuple[str, ...]
    containers: tuple[str, ...]
    tags: tuple[str, ...]
    cn_number: str | None
    reason: str | None
    message_zh: str
    message_en: str
    barrier: str
    loops: dict[str, bool]
    health: dict[str, str]
    queue_depth: int

    def as_dict(self) -> dict[str, JsonValue]:
        """JSON-ready form."""
        return {
            "lane_id": self.lane_id,
            "name": self.name,
            "direction": self.direction,
            "state": self.state,
            "since": self.since.isoformat(),
            "session_id": self.session_id,
            "plates": list(self.plates),
            "containers": list(self.containers),
            "tags": list(self.tags),
            "cn_number": self.cn_number,
            "reason": self.reason,
            "message": {"zh": self.message_zh, "en": self.message_en},
            "barrier": self.barrier,
            "loops": dict(self.loops),
            "health": dict(self.health),
            "queue_depth": self.queue_depth,
        }


@dataclass(slots=True)
class _Queued:
    event: LaneEvent | None
    """None: the journal's flush time came."""
    posted_at: float
    done: asyncio.Future[None] | None = None


HandledHook = Callable[[LaneEvent, float], None]
"""Called after each event with the seconds from post to handled."""


_HOST_FAULTS = {PLC_UNREADABLE: "plc_unreadable", PLC_FROZEN: "plc_frozen"}


def _plc_code(inputs: PlcInputs) -> str:
    for name in ("estop", "breakaway", "manual_mode"):
        if getattr(inputs, name):
            return name
    return _HOST_FAULTS.get(inputs.fault_code, f"plc_fault_{inputs.fault_code}")


def input_events(previous: PlcInputs, current: PlcInputs) -> list[LaneEvent]:
    """Events for the change between two PLC snapshots, ordered so the lane never believes the boom is
    clear before the snapshot says so: new occupancy first, faults, boom position, arming and exit loops,
    recoveries, and occupancy that cleared last."""
    events: list[LaneEvent] = []
    if current.safety and not previous.safety:
        events.append(SafetyLoopChanged(occupied=True))
    if current.photocell and not previous.photocell:
        events.append(PhotocellChanged(blocked=True))
    if current.faulted and not previous.faulted:
        events.append(DeviceFault(Device.BARRIER, _plc_code(current), "reported by the PLC"))
    if current.position is not previous.position:
        events.append(BarrierReported(current.position))
    if current.arming != previous.arming:
        events.append(VehicleArrived() if current.arming else VehicleLeft())
    if current.exit != previous.exit:
        events.append(ExitLoopChanged(occupied=current.exit))
    if previous.faulted and not current.faulted:
        events.append(DeviceRecovered(Device.BARRIER))
    if previous.photocell and not current.photocell:
        events.append(PhotocellChanged(blocked=False))
    if previous.safety and not current.safety:
        events.append(SafetyLoopChanged(occupied=False))
    return events


class LaneRunner:
    """Runs one lane: its machine, its queue, its device requests and its timer."""

    def __init__(
        self,
        config: LaneConfig,
        devices: LaneDevices,
        *,
        recorder: LaneRecorder,
        matcher: CnMatcher,
        clock: Clock,
        on_handled: HandledHook | None = None,
        new_session_id: Callable[[], str] | None = None,
    ) -> None:
        self.config = config
        self._devices = devices
        self._recorder = recorder
        self._matcher = matcher
        self._clock = clock
        self._on_handled = on_handled
        self._journal = Journal(recorder, config.lane_id, clock)
        self._plc = PlcInputs()
        """The PLC's latest report (``feed_inputs``), ahead of the events queued from it."""
        self._gate = BarrierGate(devices.barrier, self._journal, reported=lambda: self._plc)
        extra: dict[str, Any] = {"new_session_id": new_session_id} if new_session_id else {}
        self._machine = LaneMachine(
            config, gate=self._gate, journal=self._journal, effects=self, clock=clock, **extra
        )
        self._queue: asyncio.Queue[_Queued] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer: TimerHandle | None = None
        self._flush_timer: TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._faulted_devices: set[Device] = set()
        self.handled = 0

    # ------------------------------------------------------------------------------------- lifecycle

    @property
    def machine(self) -> LaneMachine:
        """The lane's state machine (read-only use: status, tests)."""
        return self._machine

    @property
    def journal(self) -> Journal:
        """The lane's journal."""
        return self._journal

    async def start(self) -> None:
        """Rebuild the lane's state from the PLC and the store, then start taking events."""
        config = self.config
        stored = await self._recorder.prepare_lane(
            config.lane_id,
            name=config.display_name(),
            direction=config.direction.value,
            site_code=config.site_code,
        )
        try:
            inputs = await self._devices.barrier.read_inputs()
        except Exception:
            _LOG.exception("lane %s: PLC inputs unreadable at start-up", config.lane_id)
            inputs = PlcInputs(limit_down=False, fault=True, fault_code=PLC_UNREADABLE)  # position unknown
        self._plc = inputs
        self._gate.restore_seq(stored.last_barrier_seq)
        plan = plan_recovery(inputs, stored)
        await apply_recovery(self._machine, plan, inputs)
        self._task = asyncio.create_task(self._run(), name=f"lane-{config.lane_id}")

    async def stop(self) -> None:
        """Stop taking events; cancel the timers and outstanding device requests; write the journal."""
        self.cancel_timer()
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        for task in list(self._tasks):
            task.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._machine.flush()

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            event = item.event
            try:
                if event is None:
                    await self._machine.flush()
                else:
                    await self._machine.handle(event)
            finally:
                if event is not None:
                    self.handled += 1
                    if self._on_handled is not None:
                        self._on_handled(event, self._clock.monotonic() - item.posted_at)
                if item.done is not None and not item.done.done():
                    item.done.set_result(None)
                self._queue.task_done()

    # ----------------------------------------------------------------------------------------- input

    def post(self, event: LaneEvent) -> None:
        """Queue an event for the lane (call on the event loop)."""
        self._queue.put_nowait(_Queued(event, self._clock.monotonic()))

    def post_threadsafe(self, loop: asyncio.AbstractEventLoop, event: LaneEvent) -> None:
        """Queue an event from another thread."""
        loop.call_soon_threadsafe(self.post, event)

    def feed_inputs(self, inputs: PlcInputs) -> None:
        """A new PLC input snapshot: queue the events for what changed."""
        previous, self._plc = self._plc, inputs
        for event in input_events(previous, inputs):
            self.post(event)

    async def command(self, command: HumanCommand) -> LaneStatus:
        """A person's command: queued like any event; returns the lane's status once it is handled."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Queued(command, self._clock.monotonic(), done))
        await done
        return self.status()

    async def settle(self) -> None:
        """Wait until the queue is empty and no device request is outstanding (tests, benchmarks)."""
        while True:
            await self._queue.join()
            if not self._tasks:
                if self._queue.empty():
                    return
                continue
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ---------------------------------------------------------------------------------------- status

    def status(self) -> LaneStatus:
        """The lane's current status snapshot."""
        machine = self._machine
        ctx = machine.session
        recognition = ctx.recognition if ctx and ctx.recognition else Recognition()
        matched = ctx.matched if ctx else None
        message = machine.message or DisplayMessage("", "")
        inputs = self._gate.inputs
        return LaneStatus(
            lane_id=self.config.lane_id,
            name=self.config.display_name(),
            direction=self.config.direction.value,
            state=machine.state.value,
            since=machine.since,
            session_id=ctx.session_id if ctx else None,
            plates=tuple(r.text for r in recognition.plates),
            containers=tuple(r.text for r in recognition.containers),
            tags=tuple(t.epc for t in ctx.tags) if ctx else (),
            cn_number=matched.cn_number if matched else None,
            reason=ctx.reason.value if ctx and ctx.reason else None,
            message_zh=message.zh,
            message_en=message.en,
            barrier=inputs.position.value,
            loops={
                "arming": inputs.arming,
                "safety": inputs.safety,
                "exit": inputs.exit,
                "photocell": inputs.photocell,
            },
            health={d.value: code for d, code in machine.health.items()},
            queue_depth=self._queue.qsize(),
        )

    # ------------------------------------------------------------------ LaneEffects (machine requests)

    def _spawn(self, work: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(work)
        task.set_name(f"lane-{self.config.lane_id}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _ok(self, device: Device) -> None:
        if device in self._faulted_devices:
            self._faulted_devices.discard(device)
            self.post(DeviceRecovered(device))

    def _fault(self, device: Device, code: str, exc: BaseException, session_id: str | None) -> None:
        _LOG.warning("lane %s: %s %s: %r", self.config.lane_id, device.value, code, exc)
        self._faulted_devices.add(device)
        self.post(DeviceFault(device, code, repr(exc)[:200], session_id=session_id))

    def identify(self, session_id: str) -> None:
        """Recognise the truck in a worker thread and read RFID tags at the same time."""

        async def job() -> None:
            lane_id = self.config.lane_id
            recognition, tags = await asyncio.gather(
                asyncio.to_thread(self._devices.recognizer.recognize, lane_id, session_id),
                self._devices.tag_reader.read_tags(),
                return_exceptions=True,
            )
            tag_reads: tuple[TagRead, ...] = ()
            if isinstance(tags, BaseException):
                self._fault(Device.TAG_READER, "read_failed", tags, None)
            else:
                self._ok(Device.TAG_READER)
                tag_reads = tuple(tags)
            if isinstance(recognition, BaseException):
                self._fault(Device.CAMERAS, "recognize_failed", recognition, session_id)
                return
            self._ok(Device.CAMERAS)
            self.post(ReadsReady(session_id, recognition, tag_reads))

        self._spawn(job(), "identify")

    def match(self, session_id: str, query: MatchQuery) -> None:
        """Search the CN."""

        async def job() -> None:
            try:
                result = await self._matcher.match(query)
            except Exception as exc:
                self._fault(Device.STORE, "match_failed", exc, session_id)
                return
            self.post(CnMatched(session_id, result))

        self._spawn(job(), "match")

    def read_seals(self, session_id: str, *, after_unlock: bool) -> None:
        """Read every seal on the truck."""

        async def job() -> None:
            try:
                reports = await self._devices.seal_reader.inventory()
            except Exception as exc:
                self._fault(Device.SEAL_READER, "read_failed", exc, session_id)
                return
            self._ok(Device.SEAL_READER)
            self.post(SealStatus(session_id, tuple(reports), after_unlock=after_unlock))

        self._spawn(job(), "seals")

    def fetch_authorisation(self, session_id: str, cn_number: str) -> None:
        """Ask the uplink for downloaded unseal data (none if it cannot say)."""

        async def job() -> None:
            try:
                authorisation = await self._devices.uplink.unseal_authorisation(cn_number)
            except Exception as exc:
                self._fault(Device.UPLINK, "unseal_data_failed", exc, None)
                authorisation = None
            else:
                self._ok(Device.UPLINK)
            self.post(UnsealAuthorised(session_id, authorisation))

        self._spawn(job(), "authorisation")

    def unseal(self, session_id: str, seal_ids: tuple[str, ...], authorisation: UnsealAuthorisation) -> None:
        """Unseal each seal offline, then read them all back."""

        async def job() -> None:
            reader = self._devices.seal_reader
            try:
                for seal_id in seal_ids:
                    await reader.unlock(seal_id, authorisation)
                reports = await reader.inventory()
            except Exception as exc:
                self._fault(Device.SEAL_READER, "unseal_failed", exc, session_id)
                return
            self._ok(Device.SEAL_READER)
            self.post(SealStatus(session_id, tuple(reports), after_unlock=True))

        self._spawn(job(), "unseal")

    def start_timer(self, state: LaneState, token: int, seconds: float) -> None:
        """Arm the lane's one timer."""
        self.cancel_timer()
        self._timer = self._clock.call_later(seconds, lambda: self.post(Timeout(state, token)))

    def cancel_timer(self) -> None:
        """Disarm the timer."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def show(self, message: DisplayMessage) -> None:
        """Update the lane display (a display fault never stops the lane)."""
        display = self._devices.display
        if display is None:
            return

        async def job() -> None:
            try:
                await display.show(message)
            except Exception as exc:
                self._fault(Device.DISPLAY, "show_failed", exc, None)
            else:
                self._ok(Device.DISPLAY)

        self._spawn(job(), "display")

    def schedule_flush(self, seconds: float) -> None:
        """Queue a journal flush in ``seconds`` unless one is already scheduled."""
        if self._flush_timer is not None:
            return

        def due() -> None:
            self._flush_timer = None
            self._queue.put_nowait(_Queued(None, self._clock.monotonic()))

        self._flush_timer = self._clock.call_later(seconds, due)

    def outbox_changed(self) -> None:
        """Tell the uplink a customs message is waiting."""
        try:
            self._devices.uplink.outbox_changed()
        except Exception:
            _LOG.exception("lane %s: uplink notification failed", self.config.lane_id)


@dataclass(slots=True)
class LaneHost:
    """Many lanes in one process on one event loop."""

    runners: dict[str, LaneRunner] = field(default_factory=dict)

    @classmethod
    def of(cls, runners: Iterable[LaneRunner]) -> LaneHost:
        """A host for the given runners (lane ids must be unique)."""
        host = cls()
        for runner in runners:
            if runner.config.lane_id in host.runners:
                raise ValueError(f"lane {runner.config.lane_id} configured twice")
            host.runners[runner.config.lane_id] = runner
        return host

    async def start(self) -> None:
        """Recover and start every lane."""
        await asyncio.gather(*(r.start() for r in self.runners.values()))

    async def stop(self) -> None:
        """Stop every lane."""
        await asyncio.gather(*(r.stop() for r in self.runners.values()))

    def status(self) -> dict[str, LaneStatus]:
        """Every lane's snapshot."""
        return {lane_id: r.status() for lane_id, r in self.runners.items()}

    def lane(self, lane_id: str) -> LaneRunner:
        """The runner of one lane (KeyError if unknown)."""
        return self.runners[lane_id]
