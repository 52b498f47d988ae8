"""A lane on fakes, a manual clock and a recorder (in memory or the real store), driven step by step."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from lane_controller.customs.cn_message import parse_cn_message
from lane_controller.customs.matching import MatchedNote, MatchKind, MatchResult
from lane_controller.fsm.config import LaneConfig, Timeouts
from lane_controller.fsm.fakes import FakeDevices, FakeMatcher, InMemoryRecorder, ManualClock
from lane_controller.fsm.protocols import (
    CnMatcher,
    CommandKind,
    LaneRecorder,
    ReadKind,
    Recognition,
    SealReport,
    SealState,
    VotedRead,
)
from lane_controller.fsm.runner import HumanCommand, LaneRunner, LaneStatus
from lane_controller.fsm.states import LaneState
from tests.customs.cn_samples import cn_record

EXIT_SITE = "KHC1"
ENTRY_SITE = "KELC"
TRACTOR, TRAILER = "KLA1234", "AB1234"
CONTAINER = "CSQU3054383"
SEAL = "ES00012345"


def exit_config(**changes: Any) -> LaneConfig:
    """An exit lane; written after every event unless ``journal_max_delay_s`` says otherwise."""
    base = {"lane_id": "X1", "direction": "exit", "site_code": EXIT_SITE, "journal_max_delay_s": 0}
    return LaneConfig.load({**base, **changes})


def entry_config(**changes: Any) -> LaneConfig:
    """An entry lane; written after every event unless ``journal_max_delay_s`` says otherwise."""
    base = {"lane_id": "N1", "direction": "entry", "site_code": ENTRY_SITE, "journal_max_delay_s": 0}
    return LaneConfig.load({**base, **changes})


def recognition(
    plates: tuple[str, ...] = (TRACTOR, TRAILER),
    containers: tuple[str, ...] = (CONTAINER,),
    agreement: float = 0.95,
) -> Recognition:
    return Recognition(
        plates=tuple(VotedRead(ReadKind.PLATE, p, agreement, votes=5) for p in plates),
        containers=tuple(VotedRead(ReadKind.CONTAINER, c, agreement, votes=5) for c in containers),
    )


def seal(seal_id: str = SEAL, state: SealState = SealState.SEALED, **kw: Any) -> SealReport:
    return SealReport(seal_id, state, battery_pct=87, **kw)


def matched(cn_number: str = "CN0001", **changes: Any) -> MatchResult:
    """A match on the sample CN (for lanes on the in-memory recorder)."""
    note = parse_cn_message(cn_record(cn_number, **changes)).to_domain()
    return MatchResult(MatchKind.MATCH, MatchedNote(1, cn_number, 1, note))


_SESSION_NUMBERS = itertools.count(1)


def _session_ids() -> Iterator[str]:
    while True:
        yield f"00000000-0000-4000-8000-{next(_SESSION_NUMBERS):012d}"


class Lane:
    """One lane: runner, fakes, manual clock. Every step settles the lane before returning."""

    def __init__(
        self,
        config: LaneConfig | None = None,
        *,
        recorder: LaneRecorder | None = None,
        matcher: CnMatcher | None = None,
        clock: ManualClock | None = None,
        devices: FakeDevices | None = None,
    ) -> None:
        self.config = config or exit_config()
        self.clock = clock or ManualClock()
        self.recorder: LaneRecorder = recorder or InMemoryRecorder()
        self.matcher: CnMatcher = matcher or FakeMatcher(matched())
        self.dev = devices or FakeDevices()
        self.dev.seal_reader.clock = self.clock.now
        ids = _session_ids()
        self.runner = LaneRunner(
            self.config,
            self.dev.lane_devices(),
            recorder=self.recorder,
            matcher=self.matcher,
            clock=self.clock,
            new_session_id=lambda: next(ids),
        )
        self.dev.plant.feed = self.runner.feed_inputs
        self.dev.recognizer.result = recognition()
        self.dev.seal_reader.put(seal())

    @property
    def memory(self) -> InMemoryRecorder:
        assert isinstance(self.recorder, InMemoryRecorder)
        return self.recorder

    @property
    def fake_matcher(self) -> FakeMatcher:
        assert isinstance(self.matcher, FakeMatcher)
        return self.matcher

    @property
    def state(self) -> LaneState:
        return self.runner.machine.state

    @property
    def status(self) -> LaneStatus:
        return self.runner.status()

    @property
    def session_id(self) -> str | None:
        session = self.runner.machine.session
        return session.session_id if session else None

    async def start(self) -> Lane:
        await self.runner.start()
        await self.runner.settle()
        return self

    async def stop(self) -> None:
        await self.runner.stop()

    async def settle(self) -> None:
        await self.runner.settle()

    async def set(self, **inputs: Any) -> None:
        self.dev.plant.set(**inputs)
        await self.settle()

    async def arrive(self) -> None:
        await self.set(arming=True)

    async def leave(self) -> None:
        await self.set(arming=False)

    async def drive_through(self) -> None:
        """The truck rolls under the boom onto the exit loop and away."""
        for change in (
            {"safety": True},
            {"arming": False},
            {"exit": True},
            {"safety": False},
            {"exit": False},
        ):
            await self.set(**change)

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await self.settle()

    async def command(self, command: HumanCommand) -> LaneStatus:
        status = await self.runner.command(command)
        await self.settle()
        return status

    def opens(self) -> int:
        return sum(1 for c in self.dev.barrier.commands if c.kind is CommandKind.OPEN)


__all__ = [
    "CONTAINER",
    "ENTRY_SITE",
    "EXIT_SITE",
    "SEAL",
    "TRACTOR",
    "TRAILER",
    "Lane",
    "Timeouts",
    "entry_config",
    "exit_config",
    "matched",
    "recognition",
    "seal",
]
