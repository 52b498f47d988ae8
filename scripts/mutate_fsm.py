"""Mutation check of the lane state machine's guards and barrier rules: each mutant below is a small edit
that breaks one safety rule; the lane's tests must fail on every one. Run from the repository root:

    .venv/bin/python scripts/mutate_fsm.py [--tests PATH ...] [--only NAME ...]

By default each mutant runs the property tests (``tests/fsm/test_properties.py``, the test command's
``ci`` profile) and then, if they pass, the rest of ``tests/fsm``. Prints one line per mutant (killed by
which tests, or SURVIVED) and exits 1 when any mutant survived. The sources are restored after each run,
also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    why: str


MUTANTS = (
    Mutant(
        "fault-leaves-boom-up",
        "lane_controller/fsm/machine.py",
        "            await self._gate.request_close(sid, retry=dest in (LaneState.FAULT, LaneState.CLOSED_LANE))",  # noqa: E501
        "            if dest is not LaneState.FAULT:\n"
        "                await self._gate.request_close(sid, retry=dest is LaneState.CLOSED_LANE)",
        "entering fault no longer asks the barrier down (invariant 3)",
    ),
    Mutant(
        "close-onto-vehicle",
        "lane_controller/fsm/gate.py",
        "        if self._occupied():  # invariant 2: never down onto a vehicle\n            return",
        "        pass",
        "the gate closes whatever is under the boom (invariant 2)",
    ),
    Mutant(
        "close-on-stale-inputs",
        "lane_controller/fsm/gate.py",
        "        return self._inputs.under_boom or (self._reported is not None and self._reported().under_boom)",  # noqa: E501
        "        return self._inputs.under_boom",
        "a close ignores a loop that changed while the last command was on the wire (invariant 2)",
    ),
    Mutant(
        "reversal-forgotten",
        "lane_controller/fsm/gate.py",
        "            self._close_in_flight = False  # reversed or stopped: a wanted close must be sent again",
        "            pass",
        "a close the PLC reversed is never sent again (invariant 3)",
    ),
    Mutant(
        "stale-replies-accepted",
        "lane_controller/fsm/machine.py",
        "        return self._ctx is not None and event.reply_to == self._ctx.session_id",
        "        return self._ctx is not None",
        "a reply for an earlier truck is taken for the current one",
    ),
    Mutant(
        "passed-while-under-boom",
        "lane_controller/fsm/machine.py",
        "        return self._ctx is not None and self._ctx.exit_seen and not inputs.under_boom",
        "        return self._ctx is not None and self._ctx.exit_seen",
        "the truck counts as passed while it is still under the boom",
    ),
    Mutant(
        "seals-skipped",
        "lane_controller/fsm/machine.py",
        "            Guard.EXIT_SEALS: lambda e: exit_lane and self._seals_listed(e),",
        "            Guard.EXIT_SEALS: lambda e: False,",
        "an exit truck is released without its seals being locked",
    ),
    Mutant(
        "officer-skipped",
        "lane_controller/fsm/machine.py",
        "            Guard.OFFICER_NEEDED: lambda e: exit_lane and self._officer_needed(),",
        "            Guard.OFFICER_NEEDED: lambda e: False,",
        "a phase-1 vehicle seal is released without the dedicated officer",
    ),
    Mutant(
        "override-deny-opens",
        "lane_controller/fsm/machine.py",
        "                isinstance(e, StaffOverride) and e.decision is OverrideDecision.OPEN",
        "                isinstance(e, StaffOverride)",
        "a staff member's deny opens the barrier (invariant 1)",
    ),
    Mutant(
        "fail-safe-forgets-barrier",
        "lane_controller/fsm/machine.py",
        "                self._health[Device.BARRIER] = type(failed).__name__\n"
        "                self._gate.faulted = True",
        "                pass",
        "a close lost while failing safe leaves the barrier healthy, so the lane leaves fault",
    ),
    Mutant(
        "timer-of-another-state",
        "lane_controller/fsm/machine.py",
        "                isinstance(e, Timeout) and e.token == self._token and e.state is self.state",
        "                isinstance(e, Timeout)",
        "a stale timer fires in a later state",
    ),
)

_LAST_OUTPUT: list[str] = []

DEFAULT_TESTS = (("properties", ("tests/fsm/test_properties.py",)), ("fsm", ("tests/fsm",)))


def _run_tests(paths: tuple[str, ...]) -> str | None:
    """None when the tests passed, else the first failed test's name. Each run starts with an empty
    Hypothesis example database, so no failure saved by an earlier run kills a mutant for free."""
    with tempfile.TemporaryDirectory(prefix="mutate-fsm-") as storage:
        done = subprocess.run(  # noqa: S603 - our own interpreter running pytest on our own tests
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-rf", *paths],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": storage},
        )
    if done.returncode == 0:
        return None
    _LAST_OUTPUT[:] = done.stdout.splitlines()[-60:]
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+::\S+)", done.stdout, flags=re.MULTILINE)
    return failed[0] if failed else f"pytest exit {done.returncode}"


def _check(mutant: Mutant, suites: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    """Which suite and test killed the mutant, or None when it survived."""
    path = ROOT / mutant.path
    original = path.read_text(encoding="utf-8")
    if original.count(mutant.old) != 1:
        msg = f"{mutant.name}: the text to mutate is not in {mutant.path} exactly once"
        raise SystemExit(msg)
    try:
        path.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
        for name, paths in suites:
            if (failed := _run_tests(paths)) is not None:
                return f"{name}: {failed.split('::', 1)[-1]}"
        return None
    finally:
        path.write_text(original, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", nargs="+", default=None, help="run only these test paths per mutant")
    parser.add_argument("--only", nargs="+", default=None, help="only the mutants of these names")
    args = parser.parse_args()
    suites = (("given", tuple(args.tests)),) if args.tests else DEFAULT_TESTS
    if (failed := _run_tests(tuple(p for _, paths in suites for p in paths))) is not None:
        print("\n".join(_LAST_OUTPUT), file=sys.stderr)
        print(f"the tests fail before any mutation ({failed}): fix them first", file=sys.stderr)
        return 2
    survived = 0
    for mutant in MUTANTS:
        if args.only and mutant.name not in args.only:
            continue
        started = time.monotonic()
        killer = _check(mutant, suites)
        took = time.monotonic() - started
        survived += killer is None
        print(f"{mutant.name:<24} {took:4.0f} s  {mutant.why}", flush=True)
        print(f"{'':<24}         {'killed by ' + killer if killer else 'SURVIVED'}", flush=True)
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
