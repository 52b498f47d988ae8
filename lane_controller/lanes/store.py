"""The lane's store port on the real database: a :class:`LaneRecorder` and a :class:`CnMatcher`.

All lanes of a process share one writer thread and one connection: SQLite has a single writer anyway, and
one thread keeps each lane's batches in order. Batches that are waiting when the writer becomes free are
written in one transaction (group commit), so many lanes cost one commit (one fsync) instead of one each;
if such a group fails, its batches are retried one by one so that only the bad one fails. The event loop
never waits on the database: it awaits a future the writer resolves.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from lane_controller.customs.matching import MatchQuery, MatchResult, match_transport_note
from lane_controller.fsm.protocols import StoredLane
from lane_controller.store.db import read_only_engine
from lane_controller.store.lane_records import (
    LANE_MODE_KINDS,
    LaneRecord,
    ensure_lane,
    last_barrier_seq,
    last_lane_mode,
    open_sessions,
    write_records,
)

_LOG = logging.getLogger(__name__)
_MAX_GROUP = 64


@dataclass(slots=True)
class _Job:
    work: Callable[[Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    groupable: bool


def _resolve(job: _Job, result: Any = None, error: BaseException | None = None) -> None:
    def settle() -> None:
        if job.future.done():
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)

    job.loop.call_soon_threadsafe(settle)


class StoreRecorder:
    """Writes lane batches through one writer thread with group commit."""

    def __init__(self, engine: Engine, *, group_commit: bool = True) -> None:
        self._engine = engine
        self._group_commit = group_commit
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="lane-store-writer", daemon=True)
        self._thread.start()
        self.transactions = 0
        self.batches = 0

    async def _submit(self, work: Callable[[Connection], Any], *, groupable: bool = False) -> Any:
        if not self._thread.is_alive():
            raise RuntimeError("the store writer is closed")
        loop = asyncio.get_running_loop()
        job = _Job(work, loop.create_future(), loop, groupable)
        self._jobs.put(job)
        return await job.future

    async def commit(self, records: Sequence[LaneRecord]) -> None:
        """Write ``records`` in order in one transaction (possibly shared with other lanes' batches)."""
        batch = list(records)
        await self._submit(lambda conn: write_records(conn, batch), groupable=True)

    async def prepare_lane(self, lane_id: str, *, name: str, direction: str, site_code: str) -> StoredLane:
        """Create or check the lane row; read its open sessions, last barrier seq and staff mode."""

        def work(conn: Connection) -> StoredLane:
            ensure_lane(conn, lane_id, name=name, direction=direction, site_code=site_code)
            return StoredLane(
                open_sessions=tuple(open_sessions(conn, lane_id)),
                last_barrier_seq=last_barrier_seq(conn, lane_id),
                closed_by_staff=last_lane_mode(conn, lane_id) == LANE_MODE_KINDS[0],
            )

        result: StoredLane = await self._submit(work)
        return result

    def close(self) -> None:
        """Finish the queued work and stop the writer thread."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    # ------------------------------------------------------------------------------- writer thread

    def _run(self) -> None:
        with self._engine.connect() as conn:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                if not (job.groupable and self._group_commit):
                    self._execute(conn, [job])
                    continue
                group, after, stop = [job], None, False
                while len(group) < _MAX_GROUP:
                    try:
                        nxt = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stop = True
                        break
                    if not nxt.groupable:
                        after = nxt
                        break
                    group.append(nxt)
                self._execute(conn, group)
                if after is not None:
                    self._execute(conn, [after])
                if stop:
                    return

    def _execute(self, conn: Connection, group: list[_Job]) -> None:
        if not group:
            return
        try:
            results = self._transaction(conn, group)
        except Exception as exc:
            if len(group) == 1:
                _resolve(group[0], error=exc)
                return
            _LOG.warning("group commit of %d batches failed (%r); retrying one by one", len(group), exc)
            for job in group:
                self._execute(conn, [job])
            return
        for job, result in zip(group, results, strict=True):
            _resolve(job, result)

    def _transaction(self, conn: Connection, group: list[_Job]) -> list[Any]:
        with conn.begin():
            results = [job.work(conn) for job in group]
        self.transactions += 1
        self.batches += len(group)
        return results


class StoreMatcher:
    """CN matching on the real database, in a worker thread, on a read-only (deferred) connection."""

    def __init__(self, engine: Engine) -> None:
        self._engine = read_only_engine(engine)

    def match_now(self, query: MatchQuery) -> MatchResult:
        """Match in the calling thread."""
        with self._engine.begin() as conn:
            return match_transport_note(conn, query)

    async def match(self, query: MatchQuery) -> MatchResult:
        """Match without blocking the event loop."""
        return await asyncio.to_thread(self.match_now, query)
