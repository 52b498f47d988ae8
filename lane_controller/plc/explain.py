"""Why a command was not confirmed, in words the lane log and the operator can use."""

from __future__ import annotations

import time

from lane_controller.plc.errors import PlcError, PlcExceptionReply
from lane_controller.plc.points import Command
from lane_controller.plc.status import BarrierStatus, CommandOutcome, Outcome


def refusals(command: Command, st: BarrierStatus) -> list[str]:
    """What in the status makes the PLC refuse ``command`` (README *What the PLC does*)."""
    reasons: list[str] = []
    if command == "stop":
        return reasons
    if st.estop:
        reasons.append("e-stop")
    if st.manual_mode:
        reasons.append("manual mode")
    if command == "open" and st.fault:
        reasons.append(f"fault {st.fault_code}")
    if command == "close" and st.loop_safety:
        reasons.append("vehicle on the safety loop")
    if command == "close" and st.photocell_blocked:
        reasons.append("photocell blocked")
    return reasons


def report(st: BarrierStatus, reasons: list[str]) -> str:
    """``vehicle on the safety loop, fault obstacle, state opening at 40%``."""
    parts = list(reasons)
    if st.fault and not any(p.startswith("fault") for p in parts):
        parts.append(f"fault {st.fault_code}")
    pos = f" at {st.position_pct}%" if st.position_pct is not None else ""
    parts.append(f"state {st.state}{pos}")
    return ", ".join(parts)


def failure(command: str, seq: int | None, exc: PlcError, t0: float) -> CommandOutcome:
    """The outcome of a command whose write failed (``t0``: when the command began, monotonic)."""
    if isinstance(exc, PlcExceptionReply):
        text = f"{command}: PLC answered {exc}"
        return CommandOutcome(command, False, Outcome.EXCEPTION, text, seq, time.monotonic() - t0)
    return unavailable(command, seq, str(exc), t0)


def unavailable(command: str, seq: int | None, error: str, t0: float) -> CommandOutcome:
    """The outcome of a command that could not reach the PLC."""
    text = f"{command}: PLC unavailable: {error}"
    return CommandOutcome(command, False, Outcome.UNAVAILABLE, text, seq, time.monotonic() - t0)
