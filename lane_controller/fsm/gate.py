"""The barrier gate: the only object that commands the barrier, and where invariants 1 and 2 live.

- **Open** takes a :class:`DecisionTicket`, which only :meth:`BarrierGate.record_decision` issues for a
  positive :class:`~lane_controller.fsm.decisions.Decision` (whose rules are checked when it is built).
  The decision's audit entry and the command's record are flushed to the store before the command goes
  out, and the command carries the decision's audit seq. A ticket opens once, for its own session.
- **Close** is a request: the command is sent only while neither the safety loop nor the photocell
  reports anything; otherwise it waits and goes out on the first input update that shows the boom clear.

The gate's picture of the PLC inputs is updated from the events before the state machine sees them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lane_controller.domain.lane_records import AuditItem, BarrierAckRow, BarrierCommandRow
from lane_controller.fsm.decisions import Decision
from lane_controller.fsm.journal import Journal
from lane_controller.fsm.protocols import (
    Barrier,
    BarrierCommand,
    BarrierPosition,
    BarrierRefused,
    CommandKind,
    PlcInputs,
)

_LOG = logging.getLogger(__name__)


class BarrierSendError(RuntimeError):
    """The barrier did not take a command (transport error)."""


@dataclass(eq=False, slots=True)
class DecisionTicket:
    """A decision recorded through the gate; a positive one may open the barrier once."""

    decision: Decision
    session_id: str | None
    item: AuditItem
    used: bool = False

    @property
    def audit_seq(self) -> int | None:
        """Seq of the decision's audit entry, once written."""
        return self.item.seq


class BarrierGate:
    """Issues barrier commands for one lane, enforcing the decision and safety-loop invariants."""

    def __init__(
        self,
        barrier: Barrier,
        journal: Journal,
        *,
        last_seq: int = 0,
        reported: Callable[[], PlcInputs] | None = None,
    ) -> None:
        self._barrier = barrier
        self._journal = journal
        self._reported = reported
        """The PLC's latest report, which may be ahead of the inputs whose events were handled so far (a
        loop that changed while a command was on the wire): a close waits for both to show clear."""
        self._seq = last_seq
        self._inputs = PlcInputs()
        self._issued: set[int] = set()
        self._close_wanted = False
        self._close_in_flight = False
        self._last_command: CommandKind | None = None
        self._last_command_seq: int | None = None
        self._session_id: str | None = None
        self.faulted = False
        """The barrier or its PLC is at fault: opens are refused."""

    # ---------------------------------------------------------------------------------------- state

    @property
    def inputs(self) -> PlcInputs:
        """The latest PLC inputs the gate knows of."""
        return self._inputs

    @property
    def last_command(self) -> CommandKind | None:
        """The last command sent."""
        return self._last_command

    @property
    def wants_down(self) -> bool:
        """The lane wants the boom down (every state but opening and passing)."""
        return self._close_wanted

    @property
    def seq(self) -> int:
        """The last sequence number used."""
        return self._seq

    def restore_seq(self, last_seq: int) -> None:
        """Continue numbering after ``last_seq`` (the highest seq in the store) on start-up."""
        self._seq = max(self._seq, last_seq)

    def reset_inputs(self, inputs: PlcInputs) -> None:
        """Take a full snapshot (start-up), without acting on it."""
        self._inputs = inputs

    # ------------------------------------------------------------------------------------- decisions

    def record_decision(self, decision: Decision, session_id: str | None) -> DecisionTicket:
        """Journal the decision (``lane.decision``) and return its ticket; only a positive one can open."""
        item = self._journal.audit(
            "lane.decision", decision.payload(), session_id=session_id, actor=decision.person_id
        )
        ticket = DecisionTicket(decision, session_id, item)
        if decision.open:
            self._issued.add(id(ticket))
        return ticket

    # ----------------------------------------------------------------------------------------- open

    async def open(self, ticket: DecisionTicket | None, session_id: str | None) -> bool:
        """Open for ``ticket``'s decision; refuses (audited, False) without a valid unused positive ticket
        for this session, or while the PLC is faulted."""
        problem = self._open_problem(ticket, session_id)
        if problem is not None:
            self._journal.audit("barrier.refused", {"command": "open", "why": problem}, session_id=session_id)
            _LOG.warning("lane %s: barrier open refused: %s", self._journal.lane_id, problem)
            return False
        assert ticket is not None
        ticket.used = True
        self._issued.discard(id(ticket))
        self._close_wanted = False
        self._close_in_flight = False
        return await self._send(CommandKind.OPEN, session_id, decision=ticket.item)

    def _open_problem(self, ticket: DecisionTicket | None, session_id: str | None) -> str | None:
        if ticket is None:
            return "no decision"
        if id(ticket) not in self._issued or ticket.used:
            return "decision not issued by this gate or already used"
        if not ticket.decision.open:
            return "decision is not positive"
        if ticket.session_id != session_id:
            return "decision belongs to another session"
        if self.faulted or self._inputs.faulted:
            return "barrier faulted"
        return None

    # ---------------------------------------------------------------------------------------- close

    async def request_close(self, session_id: str | None, *, retry: bool = False) -> None:
        """Bring the barrier down as soon as nobody is under it (now, if clear). A close already sent and
        not yet answered is not repeated unless ``retry`` (the barrier did not react in time)."""
        self._session_id = session_id
        self._close_wanted = True
        if retry:
            self._close_in_flight = False
        await self._try_close()

    def withdraw_close(self) -> None:
        """The lane wants the barrier up again (the PLC reversed for an obstacle and the truck is still
        passing): forget a close that has not gone out."""
        self._close_wanted = False

    async def update(self, inputs: PlcInputs) -> None:
        """New PLC inputs: note command results and send a waiting close once the boom is clear."""
        previous = self._inputs
        self._inputs = inputs
        position = inputs.position
        if position is not previous.position:
            self._note_position(position)
        await self._try_close()

    def _note_position(self, position: BarrierPosition) -> None:
        seq = self._last_command_seq
        if position in (BarrierPosition.OPENING, BarrierPosition.OPEN, BarrierPosition.STOPPED):
            self._close_in_flight = False  # reversed or stopped: a wanted close must be sent again
            if self._last_command is not CommandKind.OPEN and position is not BarrierPosition.STOPPED:
                self._journal.audit(
                    "barrier.unexpected_motion",
                    {"position": position.value, "last_command": self._last_command},
                    session_id=self._session_id,
                )
        if seq is None:
            return
        done = (self._last_command is CommandKind.OPEN and position is BarrierPosition.OPEN) or (
            self._last_command is CommandKind.CLOSE and position is BarrierPosition.CLOSED
        )
        if done:
            self._journal.add(
                BarrierAckRow(self._journal.lane_id, seq, at=self._journal_now(), result=position.value)
            )
            self._last_command_seq = None

    def _journal_now(self) -> datetime:
        return self._journal.now()

    async def _try_close(self) -> None:
        if not self._close_wanted:
            return
        position = self._inputs.position
        if self._last_command is not CommandKind.OPEN and position is BarrierPosition.CLOSED:
            # Down. The wish stays: should the boom rise without a command (manual operation, a PLC
            # glitch), it is brought down again.
            self._close_in_flight = False
            return
        if self._close_in_flight:
            return
        if self._last_command is CommandKind.CLOSE and position is BarrierPosition.CLOSING:
            return
        if self._occupied():  # invariant 2: never down onto a vehicle
            return
        # A close the PLC refused (a vehicle it sees under the boom) goes out again on the next input
        # update that shows the boom clear.
        self._close_in_flight = await self._send(CommandKind.CLOSE, self._session_id)

    def _occupied(self) -> bool:
        return self._inputs.under_boom or (self._reported is not None and self._reported().under_boom)

    # ----------------------------------------------------------------------------------------- send

    async def _send(
        self,
        kind: CommandKind,
        session_id: str | None,
        *,
        decision: AuditItem | None = None,
    ) -> bool:
        """Journal the command (citing its decision), make it durable, then send it. False when the PLC
        refused it (audited; nothing moved)."""
        if kind is CommandKind.OPEN and decision is None:
            raise AssertionError("open without a decision")
        if kind is CommandKind.CLOSE and self._occupied():
            raise AssertionError("close while the boom is occupied")
        self._seq += 1
        seq = self._seq
        now = self._journal_now()
        self._journal.add(
            BarrierCommandRow(self._journal.lane_id, session_id, kind.value, seq, now, decision)
        )
        self._journal.audit(
            "barrier.command",
            {"command": kind.value, "seq": seq, "decision_audit_seq": None},
            session_id=session_id,
            refs={"decision_audit_seq": decision} if decision is not None else None,
        )
        store_error: Exception | None = None
        try:
            await self._journal.flush()  # write-ahead: decision and command are durable before it moves
        except Exception as exc:
            if kind is not CommandKind.CLOSE:
                raise
            # A close is always safe: it goes out even while the store is down (its record stays in the
            # journal), and the store failure is raised once the command is sent.
            _LOG.warning("lane %s: store unavailable, closing the barrier anyway", self._journal.lane_id)
            store_error = exc
        decision_seq = decision.seq if decision is not None else None
        if kind is CommandKind.OPEN and decision_seq is None:  # pragma: no cover - flush numbers entries
            raise AssertionError("open before its decision was recorded")
        previous = self._last_command, self._last_command_seq
        self._last_command = kind
        self._last_command_seq = seq
        try:
            await self._barrier.send(BarrierCommand(kind, seq, decision_seq))
        except BarrierRefused as exc:
            self._journal.audit(
                "barrier.refused_by_plc",
                {"command": kind.value, "seq": seq, "why": str(exc)[:300]},
                session_id=session_id,
            )
            _LOG.warning("lane %s: the PLC refused %s #%d: %s", self._journal.lane_id, kind.value, seq, exc)
            self._last_command, self._last_command_seq = previous  # it never happened on the boom
            if store_error is not None:
                raise store_error from exc
            return False
        except Exception as exc:
            self._journal.audit(
                "barrier.send_failed",
                {"command": kind.value, "seq": seq, "error": repr(exc)},
                session_id=session_id,
            )
            raise BarrierSendError(f"barrier did not take {kind.value} #{seq}: {exc!r}") from exc
        if store_error is not None:
            raise store_error
        return True
