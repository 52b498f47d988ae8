"""Barrier driver: status polling, host heartbeat, PLC heartbeat watch, and confirmed commands.

Background tasks never raise: a failed request makes the status unavailable and names the error. Command
methods return a CommandOutcome (confirmed or why not) instead of raising for device errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, Literal

from lane_controller.plc.codec import RegisterCodec, Value, WriteOp
from lane_controller.plc.errors import PlcError, PlcExceptionReply, PlcReconnecting
from lane_controller.plc.explain import failure, refusals, report, unavailable
from lane_controller.plc.hub import ModbusHub
from lane_controller.plc.points import COMMANDS, Command
from lane_controller.plc.profile import PlcConnection, PlcProfile, connection_for
from lane_controller.plc.status import BarrierStatus, CommandOutcome, Outcome
from lane_controller.plc.transport import ModbusTransport

log = logging.getLogger(__name__)
Listener = Callable[[BarrierStatus], None]
COMMAND_RETRIES = 1
"""Extra tries of a command write that timed out or lost the connection (same sequence number)."""
_STATUS_FIELDS = frozenset(BarrierStatus.__dataclass_fields__)


class BarrierDriver:
    """Drives one barrier PLC as its profile describes. ``start()`` before commands; ``stop()`` at the end."""

    def __init__(
        self,
        profile: PlcProfile,
        connection: PlcConnection | None = None,
        *,
        name: str | None = None,
        hub: ModbusHub | None = None,
    ) -> None:
        self.profile = profile
        self.name = name or profile.name
        self.codec = RegisterCodec(profile)
        self.hub = hub or ModbusHub(connection or connection_for(profile), name=self.name)
        self.hub.on_connect = self._on_connect
        self._timing = profile.timing
        self._status = BarrierStatus(self.name)
        self._changed = asyncio.Event()
        self._listeners: list[Listener] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._releases: set[asyncio.Task[None]] = set()
        self._held_coils: dict[str, int] = {}
        """Host-released coils written 1 and not yet back to 0, by pulse number."""
        self._pulses = 0
        self._cmd_lock = asyncio.Lock()
        self._seq: int | None = None
        self._sent_seq: int | None = None
        self._host_beat = 0
        self._hb_value: int | None = None
        self._hb_changed_at: float | None = None
        self._settings: dict[str, int] = {}
        self._polls = 0
        self._uncoded_fault = False
        """The last poll read the fault bit set while the fault-code register read ``none``."""
        self._running = False

    # --- life cycle

    async def start(self) -> None:
        """Start polling (and the host heartbeat, where the profile has one); returns at once."""
        if self._tasks:
            return
        self.hub.reopen()
        self._running = True
        self._tasks.append(asyncio.create_task(self._poll_loop(), name=f"plc {self.name} poll"))
        if self.profile.has("host_heartbeat"):
            self._tasks.append(asyncio.create_task(self._heartbeat_loop(), name=f"plc {self.name} heartbeat"))

    async def stop(self) -> None:
        """Stop the tasks and close the connection; the PLC's watchdog then expires by design."""
        tasks = [*self._tasks, *self._releases]
        self._tasks = []
        self._running = False
        for task in tasks:
            # pymodbus waits with asyncio.wait_for, which on Python 3.11 can swallow a cancel that lands
            # as its reply arrives: cancel again until the task is really done
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=0.1)
        await self.hub.close()
        self._publish(
            replace(self._status, available=False, last_error="driver stopped", last_error_kind=None)
        )

    # --- status

    def status(self) -> BarrierStatus:
        """The latest snapshot."""
        return self._status

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback`` with every new status (each poll, and each change of availability or error);
        returns a function that unsubscribes."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    async def wait_for(
        self, predicate: Callable[[BarrierStatus], bool], timeout_s: float, *, since: float | None = None
    ) -> BarrierStatus | None:
        """The first available status (read after ``since``, a monotonic time) that satisfies ``predicate``,
        or None after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            st = self._status
            fresh = since is None or (st.read_at is not None and st.read_at >= since)
            if st.available and fresh and predicate(st):
                return st
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._changed.wait()

    async def _poll_until(
        self, predicate: Callable[[BarrierStatus], bool], timeout_s: float, *, since: float
    ) -> BarrierStatus | None:
        """Like :meth:`wait_for`, polling every ``confirm_poll_ms`` meanwhile instead of waiting for the
        background poll: a command is confirmed as soon as the PLC shows it, not up to a poll period later."""
        deadline = time.monotonic() + timeout_s
        period = self._timing.confirm_poll_ms / 1000
        while True:
            st = await self.poll()
            fresh = st.read_at is not None and st.read_at >= since
            if st.available and fresh and predicate(st):
                return st
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await asyncio.sleep(min(period, remaining))

    async def poll(self) -> BarrierStatus:
        """Read the status now (the poll task does this every ``poll_ms``)."""
        started = time.monotonic()
        values: dict[str, Value] = {}
        try:
            for block in self.codec.plan:
                raw = await self.hub.request(partial(ModbusTransport.read_block, block=block))
                values.update(self.codec.decode_block(block, raw))
        except PlcError as exc:
            self._failed(exc)
        else:
            self._publish(self._snapshot(values, started))
        return self._status

    # --- commands

    async def command(self, command: str, *, until: Literal["ack", "limit"] = "limit") -> CommandOutcome:
        """Send ``open``, ``close``, ``stop`` or ``reset``. ``until="ack"`` returns once the PLC acknowledged
        the sequence number (once written, on a board without one) and leaves the travel to the status;
        ``"limit"`` also waits for the limit switch, as :meth:`open` and :meth:`close` do."""
        if command not in COMMANDS:
            raise ValueError(f"unknown barrier command {command!r} (one of {', '.join(COMMANDS)})")
        return await self._command(command, until=until)

    async def open(self) -> CommandOutcome:
        """Raise the boom: confirmed by the PLC's acknowledgement, then ``limit_up``."""
        return await self._command("open")

    async def close(self) -> CommandOutcome:
        """Lower the boom: confirmed by the acknowledgement, then ``limit_down`` (the PLC refuses it while
        a vehicle is under the boom)."""
        return await self._command("close")

    async def stop_boom(self) -> CommandOutcome:
        """Stop the boom where it is (always obeyed)."""
        return await self._command("stop")

    async def reset(self) -> CommandOutcome:
        """Clear a latched fault whose cause is gone."""
        return await self._command("reset")

    async def set_auto_close(self, seconds: int) -> CommandOutcome:
        """Let the PLC close this long after the vehicle cleared (0: never); written again on reconnect."""
        return await self._setting("auto_close_s", seconds)

    async def set_lane_mode(self, mode: int) -> CommandOutcome:
        """0 automatic, 1 held closed, 2 held open; written again on reconnect."""
        return await self._setting("lane_mode", mode)

    # --- background tasks

    async def _poll_loop(self) -> None:
        period = self._timing.poll_ms / 1000
        next_at = time.monotonic()
        while self._running:
            try:
                await self.poll()
            except Exception:  # a bug must not stop the lane's barrier status
                log.exception("PLC %s: poll failed", self.name)
            next_at += period
            now = time.monotonic()
            next_at = max(next_at, now)  # late (a slow or timed-out request): do not catch up
            await asyncio.sleep(next_at - now)

    async def _heartbeat_loop(self) -> None:
        period = self._timing.heartbeat_ms / 1000
        while self._running:
            await asyncio.sleep(period)
            try:
                await self.hub.request(self._write_heartbeat)
            except PlcError:
                pass  # the hub logged it; the poll shows it
            except Exception:
                log.exception("PLC %s: heartbeat failed", self.name)

    async def _on_connect(self, transport: ModbusTransport) -> None:
        """After every (re)connect: the watchdog period, a fresh heartbeat, the lane's settings, and
        host-released command coils back to 0."""
        if self.profile.has("watchdog_ms"):
            await transport.write_op(self.codec.encode("watchdog_ms", self._timing.watchdog_ms), self._fcs)
        if self.profile.has("host_heartbeat"):
            await self._write_heartbeat(transport)
        for name, value in self._settings.items():
            await transport.write_op(self.codec.encode(name, value), self._fcs)
        cmd = self.profile.command
        if cmd.release == "host" and cmd.coils:
            # a coil left at 1 (a release lost with the line, an earlier run) would hide the next pulse
            for coil in cmd.coils.values():  # (a pulse under way writes its 1 after this)
                await transport.write_op(self.codec.encode(coil, False), self._fcs)

    async def _write_heartbeat(self, transport: ModbusTransport) -> None:
        self._host_beat = self._host_beat % 0xFFFF + 1
        await transport.write_op(self.codec.encode("host_heartbeat", self._host_beat), self._fcs)

    @property
    def _fcs(self) -> tuple[int, ...]:
        return self.profile.function_codes

    # --- status building

    def _snapshot(self, values: dict[str, Value], started: float) -> BarrierStatus:
        now = time.monotonic()
        frozen = False
        beat = values.get("plc_heartbeat")
        if isinstance(beat, int):
            if beat != self._hb_value or self._hb_changed_at is None:
                self._hb_value, self._hb_changed_at = beat, now
            frozen = (now - self._hb_changed_at) * 1000 >= self._timing.plc_frozen_ms
            if frozen != self._status.plc_frozen:
                if frozen:
                    log.warning(
                        "PLC %s: heartbeat frozen at %d for %d ms",
                        self.name,
                        beat,
                        self._timing.plc_frozen_ms,
                    )
                else:
                    log.info("PLC %s: heartbeat running again", self.name)
        ack = values.get("cmd_seq_ack")
        if self._seq is None and isinstance(ack, int):
            self._seq = ack  # carry on from the PLC's last sequence number: a restart must not repeat it
        fields: dict[str, Any] = {k: v for k, v in values.items() if k in _STATUS_FIELDS}
        plc_code = str(values.get("fault_code", "none"))
        fault_bit = bool(values.get("fault", False))
        uncoded = fault_bit and values.get("fault_code") == "none"
        if uncoded and not self._uncoded_fault:
            # the bit and the code come in separate requests: a reversal begun between the two reads as
            # the bit without its code; a real fault is still there at the next poll
            fault_bit = False
        self._uncoded_fault = uncoded
        plc_fault = fault_bit or plc_code != "none"
        stats = self.hub.stats
        self._polls += 1
        if frozen:
            plc_code = "plc_frozen"
        elif plc_fault and plc_code == "none":
            plc_code = "fault"  # the fault bit without a code (or a board without fault_code)
        fields.update(
            available=True,
            plc_frozen=frozen,
            fault=plc_fault or frozen,
            fault_code=plc_code,
            cmd_seq=self._sent_seq,
            last_error=None,
            last_error_kind=None,
            read_at=started,
            polls=self._polls,
            failures=stats.failures,
            reconnects=stats.reconnects,
        )
        return BarrierStatus(self.name, **fields)

    def _failed(self, exc: PlcError) -> None:
        self._hb_changed_at = None  # judge the heartbeat afresh once the PLC answers again
        if isinstance(exc, PlcReconnecting) and exc.last is not None:
            exc = exc.last  # the error that took the line down, not the wait for the reconnect
        old = self._status
        st = replace(
            old,
            available=False,
            last_error=str(exc),
            last_error_kind=type(exc).__name__,
            failures=self.hub.stats.failures,
            reconnects=self.hub.stats.reconnects,
        )
        self._status = st
        if (old.available, old.last_error) != (st.available, st.last_error):
            self._publish(st)

    def _publish(self, st: BarrierStatus) -> None:
        self._status = st
        self._changed.set()
        self._changed = asyncio.Event()
        for listener in list(self._listeners):
            try:
                listener(st)
            except Exception:
                log.exception("PLC %s: status listener failed", self.name)

    # --- commands

    async def _setting(self, name: str, value: int) -> CommandOutcome:
        t0 = time.monotonic()
        if not self.profile.has(name):
            return CommandOutcome(name, False, Outcome.UNAVAILABLE, f"the profile has no {name} point")
        op = self.codec.encode(name, value)  # ValueError for a value that does not fit: a caller's bug
        self._settings[name] = value
        try:
            await self.hub.request(partial(ModbusTransport.write_op, op=op, function_codes=self._fcs))
        except PlcError as exc:
            return failure(name, None, exc, t0)
        return CommandOutcome(name, True, Outcome.OK, f"{name} = {value}", None, time.monotonic() - t0)

    async def _command(self, command: Command, *, until: Literal["ack", "limit"] = "limit") -> CommandOutcome:
        t0 = time.monotonic()
        if not self._tasks:
            raise RuntimeError(f"PLC {self.name}: start() the driver before sending commands")
        async with self._cmd_lock:
            cmd = self.profile.command
            if cmd.seq_point and self._seq is None:
                await self.poll()  # the first sequence number follows the PLC's last acknowledged one
                if self._seq is None:
                    return unavailable(command, None, self._status.last_error or "no status yet", t0)
            seq = self._next_seq() if cmd.seq_point else None
            try:
                await self._send(command, seq)
            except PlcError as exc:
                return failure(command, seq, exc, t0)
            sent_at = time.monotonic()
            if cmd.ack_point and seq is not None:
                timeout_ms = self._timing.ack_timeout_ms
                if (
                    await self._poll_until(lambda s: s.cmd_seq_ack == seq, timeout_ms / 1000, since=sent_at)
                    is None
                ):
                    return self._unconfirmed(command, seq, t0, f"not acknowledged within {timeout_ms} ms")
                sent_at = time.monotonic()
            if until == "ack":
                elapsed = time.monotonic() - t0
                text = f"{command} acknowledged in {elapsed * 1000:.0f} ms" if seq else f"{command} written"
                return CommandOutcome(command, True, Outcome.OK, text, seq, elapsed)
        # The travel is awaited outside the command lock: a stop must not wait for the boom to arrive.
        return await self._confirm(command, seq, t0, sent_at)

    async def _confirm(self, command: Command, seq: int | None, t0: float, since: float) -> CommandOutcome:
        """Open and close: the target limit switch set and the other clear. Without an acknowledgement
        point, stop and reset are confirmed by the status (boom not moving, fault cleared)."""
        if command in ("open", "close"):
            limit, other = ("limit_up", "limit_down") if command == "open" else ("limit_down", "limit_up")
            timeout_ms = self._timing.travel_timeout_ms

            def arrived(s: BarrierStatus) -> bool:
                return bool(getattr(s, limit)) and not getattr(s, other)

            if await self._poll_until(arrived, timeout_ms / 1000, since=since) is None:
                both = f" ({other} still set)" if getattr(self._status, other) else ""
                what = f"{limit} not reached within {timeout_ms} ms{both}"
                return self._unconfirmed(command, seq, t0, what, travel=True)
        elif seq is None:
            timeout_ms = self._timing.ack_timeout_ms

            def took(s: BarrierStatus) -> bool:
                return s.state not in ("opening", "closing") if command == "stop" else not s.fault

            if await self._poll_until(took, timeout_ms / 1000, since=since) is None:
                what = "boom still moving" if command == "stop" else "fault still set"
                return self._unconfirmed(command, seq, t0, f"{what} after {timeout_ms} ms")
        elapsed = time.monotonic() - t0
        text = f"{command} confirmed in {elapsed * 1000:.0f} ms"
        return CommandOutcome(command, True, Outcome.OK, text, seq, elapsed)

    async def _send(self, command: Command, seq: int | None) -> None:
        """The sequence number, then the command; a write that timed out is tried again with the same seq
        (the PLC does not run a repeated seq twice)."""
        cmd = self.profile.command
        ops: list[WriteOp] = []
        if cmd.seq_point and seq is not None:
            ops.append(self.codec.encode(cmd.seq_point, seq))
        coil = cmd.coils[command] if cmd.style == "coil_pulse" and cmd.coils is not None else None
        host_release = coil is not None and cmd.release == "host"
        if coil is None:
            ops.append(self.codec.encode(cmd.point or "cmd_word", command))
        else:
            if coil in self._held_coils:  # a release that failed: the PLC acts on a rising edge only
                ops.append(self.codec.encode(coil, False))
            ops.append(self.codec.encode(coil, True))
            if host_release:
                self._pulses += 1
                self._held_coils[coil] = self._pulses  # before the write: its reply may be lost, not it
        self._sent_seq = seq
        patience_s = self._timing.ack_timeout_ms / 1000
        for attempt in range(COMMAND_RETRIES + 1):
            try:
                for op in ops:
                    await self.hub.request(
                        partial(ModbusTransport.write_op, op=op, function_codes=self._fcs),
                        patience_s=patience_s,
                    )
                break
            except PlcExceptionReply:
                raise
            except PlcError as exc:
                if attempt == COMMAND_RETRIES:
                    raise
                log.info("PLC %s: %s seq %s write failed (%s); trying again", self.name, command, seq, exc)
        if coil is not None and host_release:
            pulse_s = (cmd.pulse_ms or 0) / 1000
            task = asyncio.create_task(self._release_after(coil, self._pulses, pulse_s))
            self._releases.add(task)
            task.add_done_callback(self._releases.discard)

    async def _release_after(self, coil: str, pulse: int, delay_s: float) -> None:
        """Write a host-released coil back to 0, unless a newer pulse of it took over."""
        await asyncio.sleep(delay_s)
        for _ in range(COMMAND_RETRIES + 1):
            if self._held_coils.get(coil) != pulse:
                return
            try:
                await self.hub.request(
                    partial(
                        ModbusTransport.write_op, op=self.codec.encode(coil, False), function_codes=self._fcs
                    )
                )
            except PlcError as exc:
                log.info("PLC %s: releasing %s failed: %s", self.name, coil, exc)
                continue
            if self._held_coils.get(coil) == pulse:
                del self._held_coils[coil]
            return

    def _next_seq(self) -> int:
        seq = (self._seq or 0) % 0xFFFF + 1
        if seq == self._status.cmd_seq_ack:  # the PLC would take it for a repeat
            seq = seq % 0xFFFF + 1
        self._seq = seq
        return seq

    def _unconfirmed(
        self, command: Command, seq: int | None, t0: float, what: str, *, travel: bool = False
    ) -> CommandOutcome:
        st = self._status
        reasons = refusals(command, st)
        why = (
            f"PLC unavailable: {st.last_error}" if not st.available else f"PLC reports {report(st, reasons)}"
        )
        if not st.available:
            reason = Outcome.UNAVAILABLE
        elif travel:
            reason = Outcome.TRAVEL_TIMEOUT
        else:
            reason = Outcome.REFUSED if reasons else Outcome.NOT_ACKNOWLEDGED
        text = f"{command}: {what}; {why}"
        log.warning("PLC %s: %s (seq %s)", self.name, text, seq)
        return CommandOutcome(command, False, reason, text, seq, time.monotonic() - t0)
