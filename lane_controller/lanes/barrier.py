"""The barrier PLC driver as the lane's :class:`~lane_controller.fsm.protocols.Barrier`, and its status
polls as the lane's input events.

The lane's barrier gate decides *whether* a command may go out (a recorded decision to open, nobody under
the boom to close); this adapter only carries it: :meth:`LaneBarrier.send` returns once the PLC has
acknowledged the command's sequence number, and the boom's travel reaches the lane through the status
polls, like every other input. A PLC that cannot be read, or whose heartbeat froze, reaches the lane as a
barrier fault (``PLC_UNREADABLE``, ``PLC_FROZEN``) on top of the last inputs read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from lane_controller.fsm.protocols import (
    PLC_FROZEN,
    PLC_UNREADABLE,
    POSITION_CODES,
    BarrierCommand,
    BarrierRefused,
    PlcInputs,
)
from lane_controller.plc import BarrierDriver, BarrierStatus, Outcome

# The lane's PlcInputs carry DESIGN §5 codes; the driver reports the profile's enumerations by name (its
# state names are the BarrierPosition values).
_FAULT_CODES = {
    "none": 0,
    "watchdog": 1,
    "overcurrent": 2,
    "obstacle": 3,
    "both_limits": 4,
    "travel_timeout": 5,
    "photocell_self_test": 6,
}
_UNKNOWN_FAULT = 99
_STATE_CODES = {position.value: code for position, code in POSITION_CODES.items()}


_NEVER_READ = PlcInputs(limit_down=False)
"""Before the first good poll nothing is known, the boom's position included."""


class BarrierCommandFailed(RuntimeError):
    """A command did not reach the PLC (unreachable, or it answered with a Modbus exception)."""


def plc_inputs(status: BarrierStatus, previous: PlcInputs | None = None) -> PlcInputs:
    """The lane's view of one status poll. An unavailable PLC keeps the last inputs read, flagged faulty.
    An ``obstacle`` (the PLC reversed a closing boom for a vehicle) is not a fault of the lane: the
    reversal reaches the lane as the boom going up again."""
    if not status.available:
        base = previous if previous is not None else _NEVER_READ
        return base.evolve(fault=True, fault_code=PLC_UNREADABLE)
    fault_code = PLC_FROZEN if status.plc_frozen else _FAULT_CODES.get(status.fault_code, _UNKNOWN_FAULT)
    fault = status.plc_frozen or (status.fault and status.fault_code != "obstacle")
    return PlcInputs(
        limit_up=status.limit_up,
        limit_down=status.limit_down,
        arming=status.loop_arming,
        safety=status.loop_safety,
        exit=status.loop_exit,
        photocell=status.photocell_blocked,
        manual_mode=status.manual_mode,
        estop=status.estop,
        motor_running=status.motor_running,
        fault=fault,
        breakaway=status.boom_breakaway,
        on_battery=status.on_battery,
        state_code=_STATE_CODES.get(status.state),
        fault_code=fault_code,
    )


class LaneBarrier:
    """The lane's Barrier port on a :class:`~lane_controller.plc.BarrierDriver`.

    A PLC that stops answering becomes a barrier fault only after ``unreadable_after_s`` without a good
    poll (default: three poll periods, at least 0.5 s): one lost reply on a busy line must not send a
    passing truck to manual review. Until then the lane keeps the last inputs read.
    """

    def __init__(self, driver: BarrierDriver, *, unreadable_after_s: float | None = None) -> None:
        self.driver = driver
        poll_s = driver.profile.timing.poll_ms / 1000
        self.unreadable_after_s = (
            unreadable_after_s if unreadable_after_s is not None else max(0.5, 3 * poll_s)
        )
        self._inputs: PlcInputs | None = None

    async def send(self, command: BarrierCommand) -> None:
        """Write the command and wait for the PLC's acknowledgement. Raises :class:`BarrierRefused` when the
        PLC answered but did not take it, :class:`BarrierCommandFailed` when it could not be reached."""
        outcome = await self.driver.command(command.kind.value, until="ack")
        if outcome.confirmed:
            return
        msg = f"{command.kind.value} #{command.seq}: {outcome.text}"
        if outcome.reason in (Outcome.REFUSED, Outcome.NOT_ACKNOWLEDGED):
            raise BarrierRefused(msg)
        raise BarrierCommandFailed(msg)

    async def read_inputs(self) -> PlcInputs:
        """Poll the PLC now (start-up, recovery)."""
        self._inputs = plc_inputs(await self.driver.poll(), self._inputs)
        return self._inputs

    def feed(self, sink: Callable[[PlcInputs], None]) -> Callable[[], None]:
        """Hand every changed input snapshot to ``sink`` (the lane runner's ``feed_inputs``); returns the
        function that stops it. Call on the event loop."""
        loop = asyncio.get_running_loop()
        pending: list[asyncio.TimerHandle] = []

        def deliver(status: BarrierStatus) -> None:
            inputs = plc_inputs(status, self._inputs)
            if inputs != self._inputs:
                self._inputs = inputs
                sink(inputs)

        def still_unreadable() -> None:
            pending.clear()
            status = self.driver.status()
            if not status.available:
                deliver(status)

        def on_status(status: BarrierStatus) -> None:
            if status.available:
                for handle in pending:
                    handle.cancel()
                pending.clear()
                deliver(status)
            elif self._inputs is None:
                deliver(status)  # nothing read yet: nothing to hold on to
            elif not pending:
                pending.append(loop.call_later(self.unreadable_after_s, still_unreadable))

        unsubscribe = self.driver.subscribe(on_status)

        def stop() -> None:
            unsubscribe()
            for handle in pending:
                handle.cancel()

        return stop
