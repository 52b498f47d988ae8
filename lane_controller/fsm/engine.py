"""The one module that touches the ``transitions`` library (untyped at its edges): it builds an
``AsyncMachine`` with queued transitions and enum states from the rule table and calls back into typed
functions.

Callbacks of one step run one after another, in order (the library's default gathers them concurrently,
which would make the order of audit entries depend on scheduling). Each rule gives the library one
condition (all its guards, which are pure) and one ``before`` callback (accept, then its actions), so a
step costs few library callbacks.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Any

from transitions.extensions.asyncio import AsyncEventData, AsyncMachine

from lane_controller.fsm.events import LaneEvent
from lane_controller.fsm.states import LaneState
from lane_controller.fsm.table import Action, Guard, Rule

# The library logs every callback at INFO and every ignored trigger at WARNING; the machine audits what
# matters itself (``fsm.transition``, ``fsm.event_ignored``), so only its errors are worth a log line.
logging.getLogger("transitions").setLevel(logging.ERROR)

GuardFn = Callable[[Guard, LaneEvent], bool]
ActionFn = Callable[[Action, LaneEvent], Awaitable[None]]
AcceptFn = Callable[[LaneEvent, LaneState], Awaitable[None]]
EnterFn = Callable[[LaneState, LaneState, LaneEvent], Awaitable[None]]
FinishFn = Callable[[LaneEvent, LaneState, bool], Awaitable[None]]


class _SequentialAsyncMachine(AsyncMachine):
    @staticmethod
    async def await_all(callables: Sequence[Callable[[], Awaitable[Any]]]) -> list[Any]:
        return [await func() for func in callables]

    async def callbacks(self, funcs: Iterable[Any], event_data: AsyncEventData) -> None:  # type: ignore[override]
        # The library's version builds a partial per callback and gathers them; in order is what we need.
        for func in funcs:
            await self.callback(func, event_data)


class _Model:
    """The object ``transitions`` keeps the state on (and decorates with trigger methods)."""

    state: LaneState


class Engine:
    """A queued async state machine over :class:`LaneState`, driven by :class:`LaneEvent` objects.

    ``guard`` evaluates guards; ``action`` runs a rule's actions before the state changes; ``accept`` runs
    for every event a rule accepted (after guards, before actions); ``enter`` runs on entering a state
    (source, destination, event); ``finish`` runs after every event with whether a rule accepted it.
    """

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        initial: LaneState,
        guard: GuardFn,
        action: ActionFn,
        accept: AcceptFn,
        enter: EnterFn,
        finish: FinishFn,
        name: str,
    ) -> None:
        self._guard = guard
        self._action = action
        self._accept = accept
        self._enter = enter
        self._finish = finish
        self._model = _Model()
        self._source: LaneState = initial
        config = [
            {
                "trigger": rule.trigger.value,
                "source": list(rule.sources),
                "dest": rule.dest,
                "conditions": [partial(self._check, rule.guards)] if rule.guards else [],
                "before": [partial(self._before, rule.actions)],
            }
            for rule in rules
        ]
        self._machine = _SequentialAsyncMachine(
            model=self._model,
            states=LaneState,
            initial=initial,
            transitions=config,
            queued=True,
            send_event=True,
            auto_transitions=False,
            ignore_invalid_triggers=True,
            finalize_event=[self._finalized],
            name=f"{name} ",
        )
        for state in LaneState:
            self._machine.get_state(state).add_callback("enter", self._entered)

    @property
    def state(self) -> LaneState:
        """The current state."""
        return self._model.state

    async def fire(self, event: LaneEvent) -> None:
        """Process ``event`` (queued behind the one in progress when called from a callback)."""
        await self._machine.events[event.trigger.value].trigger(self._model, event)

    def force(self, state: LaneState) -> None:
        """Set the state without running any rule or callback (restart recovery, fail-safe)."""
        self._machine.set_state(state, self._model)

    # --------------------------------------------------------------------------- library callbacks

    @staticmethod
    def _event(event_data: AsyncEventData) -> LaneEvent:
        event = next(iter(event_data.args))
        assert isinstance(event, LaneEvent)
        return event

    def _check(self, guards: Sequence[Guard], event_data: AsyncEventData) -> bool:
        event = self._event(event_data)
        return all(self._guard(g, event) for g in guards)

    async def _before(self, actions: Sequence[Action], event_data: AsyncEventData) -> None:
        event = self._event(event_data)
        self._source = self._model.state
        await self._accept(event, self._source)
        for action in actions:
            await self._action(action, event)

    async def _entered(self, event_data: AsyncEventData) -> None:
        await self._enter(self._source, self._model.state, self._event(event_data))

    async def _finalized(self, event_data: AsyncEventData) -> None:
        # An event whose callbacks raised was not ignored: the error reaches the caller of fire().
        accepted = bool(event_data.result) or event_data.error is not None
        await self._finish(self._event(event_data), self._model.state, accepted)
