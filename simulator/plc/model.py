"""The simulated barrier: boom travel, limit switches, refusals, watchdog, commands (no Modbus here).

Values are logical: bools, ints, enum *names*; ``simulator.plc.image`` turns them into table words.
Time is the PLC's own clock: ``advance(dt)`` in unit tests, an asyncio task (``start()``) when served.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from simulator.plc.faults import PlcFaults
from simulator.plc.profile import SimProfile

Value = bool | int | str
INPUTS = (
    "loop_arming",
    "loop_safety",
    "loop_exit",
    "photocell_blocked",
    "manual_mode",
    "estop",
    "boom_breakaway",
    "on_battery",
)
HOST_REGISTERS = ("host_heartbeat", "watchdog_ms", "cmd_seq", "auto_close_s", "lane_mode")
HEARTBEAT_PERIOD_S = 0.1
WATCHDOG_CLOSE_S = 3.0
"""With the host watchdog expired, the boom comes down this long after the lane is clear."""
LANE_HELD_CLOSED, LANE_HELD_OPEN = 1, 2


@dataclass(frozen=True)
class CommandRecord:
    """One command the PLC received, and what it did with it."""

    at: float
    command: str
    seq: int
    outcome: Literal["executed", "refused", "duplicate"]
    reason: str = ""


class SimPlc:
    """A barrier PLC behaving as hardware_profiles/plc/README.md says ("What the PLC does")."""

    def __init__(
        self,
        profile: SimProfile,
        *,
        travel_s: float = 3.0,
        watchdog_ms: int | None = None,
        auto_close_s: int = 0,
        fw_version: int = 0x0103,
        tick_s: float = 0.01,
        faults: PlcFaults | None = None,
    ) -> None:
        if travel_s < 0 or tick_s <= 0:
            raise ValueError("travel_s must be >= 0 and tick_s > 0")
        self.profile = profile
        self.travel_s = travel_s
        self.tick_s = tick_s
        self.fw_version = fw_version
        self.faults = faults or PlcFaults()
        self.now = 0.0
        self.position = 0.0
        """Boom position in percent, 0 down, 100 up."""
        self.direction = 0
        """+1 opening, -1 closing, 0 motor off."""
        self.inputs: dict[str, bool] = dict.fromkeys(INPUTS, False)
        self.held: dict[str, int] = dict.fromkeys(HOST_REGISTERS, 0)
        """Host-written registers."""
        self.held["watchdog_ms"] = profile.watchdog_ms if watchdog_ms is None else watchdog_ms
        self.held["auto_close_s"] = auto_close_s
        self.coils: dict[str, bool] = {n: False for n in profile.points if n.startswith("coil_")}
        self.latched: str | None = None
        """Latched fault code, cleared by ``reset`` once its cause is gone."""
        self.obstacle = False
        self.plc_heartbeat = 0
        self.cmd_seq_ack = 0
        self.cycle_count = 0
        self.history: list[CommandRecord] = []
        self._last_seq = 0
        self._hb_accum = 0.0
        self._hb_changed_at = 0.0
        self._clear_since = 0.0
        self._up_since = 0.0
        self._been_up = False
        self._task: asyncio.Task[None] | None = None
        self._coil_commands = {coil: cmd for cmd, coil in profile.command.coils.items()}

    # ---- what the host reads ----

    @property
    def limit_up(self) -> bool:
        """The up limit switch as read (a stuck switch reads 1)."""
        return self.position >= 100.0 or self.faults.stuck_limit == "up"

    @property
    def limit_down(self) -> bool:
        """The down limit switch as read (a stuck switch reads 1)."""
        return self.position <= 0.0 or self.faults.stuck_limit == "down"

    @property
    def state(self) -> str:
        """``open``, ``closed``, ``stopped``, ``opening`` or ``closing``."""
        if self.direction > 0:
            return "opening"
        if self.direction < 0:
            return "closing"
        if self.position >= 100.0:
            return "open"
        return "closed" if self.position <= 0.0 else "stopped"

    @property
    def fault_code(self) -> str:
        """The reported fault: the latched one, else ``obstacle`` after a reversal, else ``none``."""
        return self.latched or ("obstacle" if self.obstacle else "none")

    def value(self, name: str) -> Value:
        """The logical value of a point (bool, int, or enum name)."""
        if name in self.inputs:
            return self.inputs[name]
        if name in self.held:
            return self.held[name]
        if name in self.coils:
            return self.coils[name]
        computed: dict[str, Value] = {
            "limit_up": self.limit_up,
            "limit_down": self.limit_down,
            "motor_running": self.direction != 0,
            "fault": self.fault_code != "none",
            "state": self.state,
            "position_pct": round(self.position),
            "fault_code": self.fault_code,
            "plc_heartbeat": self.plc_heartbeat,
            "cmd_seq_ack": self.cmd_seq_ack,
            "cycle_count": self.cycle_count,
            "fw_version": self.fw_version,
            "cmd_word": "none",
        }
        return computed[name]

    def snapshot(self) -> dict[str, Value]:
        """Every point of the profile with its current logical value."""
        return {name: self.value(name) for name in self.profile.points}

    # ---- what the host writes ----

    def write_points(self, writes: Mapping[str, Value]) -> None:
        """Apply one host write request: plain values first, then the commands it triggers."""
        triggered: list[str] = []
        for name, value in writes.items():
            if name == "cmd_word":
                if value != "none":
                    triggered.append(str(value))
            elif name in self._coil_commands:
                before, now = self.coils[name], bool(value)
                if self.profile.command.release == "host":
                    self.coils[name] = now
                if now and not (before and self.profile.command.release == "host"):
                    triggered.append(self._coil_commands[name])
            elif name in self.coils:
                self.coils[name] = bool(value)
            elif name in self.held:
                self._write_held(name, int(value))
            else:
                raise KeyError(f"{name} is not writable")
        for command in triggered:
            self._on_command(command)

    def _write_held(self, name: str, value: int) -> None:
        if name == "host_heartbeat" and value != self.held[name]:
            self._hb_changed_at = self.now
            if self.latched == "watchdog":
                self.latched = None
        if name == "watchdog_ms":
            self._hb_changed_at = self.now
        self.held[name] = value

    def command(self, command: str, seq: int | None = None) -> CommandRecord:
        """Give a command as the host would (for unit tests): optional seq write, then the command."""
        if seq is not None and self.profile.command.seq_point:
            self.write_points({self.profile.command.seq_point: seq})
        self._on_command(command)
        return self.history[-1]

    def _on_command(self, command: str) -> None:
        seq_point = self.profile.command.seq_point
        seq = int(self.value(seq_point)) if seq_point else 0
        if seq and seq == self._last_seq:
            self.cmd_seq_ack = seq
            self._record(command, seq, "duplicate")
            return
        if reason := self._refusal(command):
            self._record(command, seq, "refused", reason)
            return
        self._execute(command)
        if seq:
            self._last_seq = self.cmd_seq_ack = seq
        self._record(command, seq, "executed")

    def _record(
        self, command: str, seq: int, outcome: Literal["executed", "refused", "duplicate"], reason: str = ""
    ) -> None:
        self.history.append(CommandRecord(self.now, command, seq, outcome, reason))
        del self.history[:-1000]

    def _refusal(self, command: str) -> str:
        if command == "stop":
            return ""
        if self.inputs["estop"]:
            return "estop"
        if self.inputs["manual_mode"]:
            return "manual_mode"
        if command == "open":
            if self.latched:
                return f"fault {self.latched}"
            if self._watchdog_expired():
                return "watchdog"
            if self.held["lane_mode"] == LANE_HELD_CLOSED:
                return "lane held closed"
        if command == "close":
            if self._vehicle_under_boom():
                return "vehicle under the boom"
            if self.held["lane_mode"] == LANE_HELD_OPEN:
                return "lane held open"
        return ""

    def _execute(self, command: str) -> None:
        self.obstacle = False
        if command == "open":
            self.direction = 1 if self.position < 100.0 else 0
        elif command == "close":
            self.direction = -1 if self.position > 0.0 else 0
        elif command == "stop":
            self.direction = 0
        elif command == "reset" and self.latched and not self._cause_present(self.latched):
            self.latched = None
        self._move(0.0)

    # ---- the world ----

    def set_inputs(self, **inputs: bool) -> None:
        """Set field inputs: the loops, ``photocell_blocked``, ``manual_mode``, ``estop``, ``boom_breakaway``,
        ``on_battery``."""
        for name, value in inputs.items():
            if name not in self.inputs:
                raise KeyError(f"{name} is not a PLC input ({', '.join(INPUTS)})")
            self.inputs[name] = bool(value)
        self._safety(self.now)

    def inject_fault(self, code: str) -> None:
        """Latch a fault code (``overcurrent``, ``travel_timeout``...) as the board would; the motor stops."""
        self.latched = code
        self.direction = 0

    def advance(self, dt: float) -> None:
        """Run the PLC for ``dt`` seconds of its own time, in steps of at most ``tick_s``."""
        while dt > 1e-12:
            step = min(dt, self.tick_s)
            dt -= step
            self._step(step)

    def _step(self, dt: float) -> None:
        self.now += dt
        if not self.faults.freeze_heartbeat:
            self._hb_accum += dt
            while self._hb_accum >= HEARTBEAT_PERIOD_S - 1e-9:
                self._hb_accum -= HEARTBEAT_PERIOD_S
                self.plc_heartbeat = (self.plc_heartbeat + 1) & 0xFFFF
        if self._watchdog_expired() and self.latched is None:
            self.latched = "watchdog"
        self._safety(self.now)
        self._move(dt)
        if self.limit_up and self.limit_down and self.latched is None:
            self.latched = "both_limits"
            self.direction = 0
        self._auto_close()
        self._watchdog_close()

    def _safety(self, now: float) -> None:
        if self.inputs["estop"]:
            self.direction = 0
        if self.direction < 0 and self._vehicle_under_boom():
            self.direction = 1
            self.obstacle = True
        if self._vehicle_under_boom() or self.inputs["loop_exit"]:
            self._clear_since = now

    def _move(self, dt: float) -> None:
        if not self.direction:
            return
        delta = 100.0 if self.travel_s == 0 else 100.0 * dt / self.travel_s
        self.position = min(100.0, max(0.0, self.position + self.direction * delta))
        if self.direction > 0 and self.position >= 100.0:
            self.direction = 0
            self._been_up = True
            self._up_since = self.now
            self.obstacle = False  # a reversal ends with the boom up: the obstacle code is not latched
        elif self.direction < 0 and self.position <= 0.0:
            self.direction = 0
            if self._been_up:
                self._been_up = False
                self.cycle_count = (self.cycle_count + 1) & 0xFFFFFFFF

    def _auto_close(self) -> None:
        delay = self.held["auto_close_s"]
        if (
            delay <= 0
            or self.held["lane_mode"] != 0
            or self.coils.get("coil_hold_open", False)
            or self.direction
            or self.position < 100.0
            or self.inputs["estop"]
            or self.inputs["manual_mode"]
            or self._vehicle_under_boom()
            or self.inputs["loop_exit"]
        ):
            return
        if self.now - max(self._clear_since, self._up_since) >= delay:
            self.direction = -1

    def _watchdog_close(self) -> None:
        """The host is gone: bring the boom down once the lane has been clear for a while (a boom left up
        with nobody passing is a lane open without a decision)."""
        if (
            not self._watchdog_expired()
            or self.direction
            or self.position <= 0.0
            or self.inputs["estop"]
            or self.inputs["manual_mode"]
            or self._vehicle_under_boom()
            or self.inputs["loop_exit"]
        ):
            return
        if self.now - self._clear_since >= WATCHDOG_CLOSE_S:
            self.direction = -1

    def _vehicle_under_boom(self) -> bool:
        return self.inputs["loop_safety"] or self.inputs["photocell_blocked"]

    def _watchdog_expired(self) -> bool:
        limit_ms = self.held["watchdog_ms"]
        return limit_ms > 0 and (self.now - self._hb_changed_at) * 1000.0 >= limit_ms

    def _cause_present(self, code: str) -> bool:
        if code == "watchdog":
            return self._watchdog_expired()
        if code == "both_limits":
            return self.limit_up and self.limit_down
        return False

    # ---- running on its own ----

    def start(self) -> None:
        """Advance on real time on an asyncio task of the running loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sim plc")

    async def stop(self) -> None:
        """Stop advancing on real time."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.tick_s)
            now = loop.time()
            self.advance(now - last)
            last = now

    async def drive_through(self, step_s: float = 0.1, open_timeout_s: float = 10.0) -> bool:
        """One vehicle: arming loop, wait for the boom to be up, safety loop + photocell, exit loop, gone.

        Returns False (the vehicle backed off the arming loop) when the boom did not open in time.
        """
        self.set_inputs(loop_arming=True)
        await asyncio.sleep(step_s)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + open_timeout_s
        while not (self.limit_up and self.position >= 100.0):
            if loop.time() >= deadline:
                self.set_inputs(loop_arming=False)
                return False
            await asyncio.sleep(min(step_s, 0.02))
        steps = (
            {"loop_safety": True, "photocell_blocked": True},
            {"loop_arming": False, "loop_exit": True},
            {"loop_safety": False, "photocell_blocked": False},
            {"loop_exit": False},
        )
        for change in steps:
            self.set_inputs(**change)
            await asyncio.sleep(step_s)
        return True
