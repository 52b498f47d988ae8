"""The barrier PLC driver as the lane's :class:`~lane_controller.fsm.protocols.Barrier`, and its status
polls as the lane's input events.

The lane's barrier gate decides *whether* a command may go out (a recorded decision to open, nobody under
the boom to close); this adapter only carries it: :meth:`LaneBarrier.send` returns once the PLC has
acknowledged the command's sequence number, and the boom's travel reaches the lane through the status
polls, like every other input. A PLC that cannot be read, or whose heartbeat froze, reaches the lane as a
barrier fault (``PLC_UNREADABLE``, ``PLC_FROZEN``) on top of the last inputs read.
"""

from __future__ import annotations

from collections.abc import Callable

from lane_controller.fsm.protocols import (
    PLC_FROZEN,
    PLC_UNREADABLE,
    BarrierCommand,
    PlcInputs,
)
from lane_controller.plc import BarrierDriver, BarrierStatus

# The lane's PlcInputs carry DESIGN §5 codes; the driver reports the profile's enumeration by name.
_STATE_CODES = {"open": 16, "closed": 17, "stopped": 19, "opening": 32, "closing": 33}
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


class BarrierCommandFailed(RuntimeError):
    """The PLC did not acknowledge a command; the message says why (refusal, exception, no answer)."""


def plc_inputs(status: BarrierStatus, previous: PlcInputs | None = None) -> PlcInputs:
    """The lane's view of one status poll. An unavailable PLC keeps the last inputs read, flagged faulty."""
    if not status.available:
        base = previous if previous is not None else PlcInputs()
        return base.evolve(fault=True, fault_code=PLC_UNREADABLE)
    fault_code = PLC_FROZEN if status.plc_frozen else _FAULT_CODES.get(status.fault_code, _UNKNOWN_FAULT)
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
        fault=status.fault or status.plc_frozen,
        breakaway=status.boom_breakaway,
        on_battery=status.on_battery,
        state_code=_STATE_CODES.get(status.state),
        fault_code=fault_code,
    )


class LaneBarrier:
    """The lane's Barrier port on a :class:`~lane_controller.plc.BarrierDriver`."""

    def __init__(self, driver: BarrierDriver) -> None:
        self.driver = driver
        self._inputs: PlcInputs | None = None

    async def send(self, command: BarrierCommand) -> None:
        """Write the command and wait for the PLC's acknowledgement; raises when it does not come."""
        outcome = await self.driver.command(command.kind.value, until="ack")
        if not outcome.confirmed:
            msg = f"{command.kind.value} #{command.seq}: {outcome.text}"
            raise BarrierCommandFailed(msg)

    async def read_inputs(self) -> PlcInputs:
        """Poll the PLC now (start-up, recovery)."""
        self._inputs = plc_inputs(await self.driver.poll(), self._inputs)
        return self._inputs

    def feed(self, sink: Callable[[PlcInputs], None]) -> Callable[[], None]:
        """Hand every changed input snapshot to ``sink`` (the lane runner's ``feed_inputs``); returns the
        function that stops it."""

        def on_status(status: BarrierStatus) -> None:
            inputs = plc_inputs(status, self._inputs)
            if inputs != self._inputs:
                self._inputs = inputs
                sink(inputs)

        return self.driver.subscribe(on_status)
