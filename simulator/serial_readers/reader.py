"""A simulated RFID / e-seal reader: a thread answering on a real pty, with fault knobs.

sim = SimulatedReader(Path(tmp) / "ttyESEAL", framing="binary", world=world)
sim.start(); ...; sim.faults.garbage = b"\\x00junk"; ...; sim.stop()
"""

from __future__ import annotations

import copy
import heapq
import itertools
import threading
import time
from collections import deque
from pathlib import Path
from typing import Literal

from simulator.serial_readers.faults import FaultKnobs
from simulator.serial_readers.peers import AsciiPeer, BinaryPeer, Peer, Result, SimRequest
from simulator.serial_readers.pty_port import PtyPort
from simulator.serial_readers.world import ReaderWorld, Refused, SimTag


class SimulatedReader:
    """Answers requests from the world model; ``faults`` are read at every reply."""

    def __init__(
        self,
        path: Path,
        framing: Literal["ascii", "binary"],
        world: ReaderWorld | None = None,
        address: int = 0,
        faults: FaultKnobs | None = None,
    ) -> None:
        self.world = world or ReaderWorld()
        self.faults = faults or FaultKnobs()
        self.peer: Peer = AsciiPeer() if framing == "ascii" else BinaryPeer(address)
        self.port = PtyPort(path)
        self.requests: deque[SimRequest] = deque(maxlen=1000)
        """The last requests received, for tests and scenarios."""
        self._queue: list[tuple[float, int, bytes]] = []
        self._order = itertools.count()
        self._qlock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sim reader {path.name}", daemon=True)

    @property
    def path(self) -> Path:
        """The device path the driver opens."""
        return self.port.path

    def start(self) -> None:
        """Start answering."""
        self._thread.start()

    def stop(self) -> None:
        """Stop and unplug."""
        self._stop.set()
        self._thread.join(2.0)
        self.port.close()

    def vanish(self) -> None:
        """The port disappears (USB adapter unplugged)."""
        self.port.vanish()

    def come_back(self) -> None:
        """The port is back under the same path."""
        self.port.restore()

    def announce_tags(self, tags: list[SimTag] | None = None) -> None:
        """Send unsolicited tag reports (seq 0) for the given tags, or every tag in range."""
        for tag in self.world.tags if tags is None else tags:
            self._schedule(0.0, self.peer.tag_report(tag))

    def _schedule(self, delay_s: float, frame: bytes) -> None:
        with self._qlock:
            heapq.heappush(self._queue, (time.monotonic() + delay_s, next(self._order), frame))

    def _run(self) -> None:
        while not self._stop.is_set():
            data = self.port.read(self._wait())
            if data is None:
                self._stop.wait(0.01)
                continue
            if data:
                if self.faults.echo:
                    self.port.write(data)
                for request in self.peer.feed(data):
                    self._answer(request)
            self._send_due()

    def _wait(self) -> float:
        with self._qlock:
            if not self._queue:
                return 0.05
            return max(0.0, min(0.05, self._queue[0][0] - time.monotonic()))

    def _answer(self, request: SimRequest) -> None:
        self.requests.append(request)
        w = self.world
        result: Result
        delay = w.status_delay_s
        try:
            if request.op == "INVENTORY":
                with w.lock:
                    result = list(w.tags)
            elif request.op == "SEALS":
                with w.lock:
                    result = copy.deepcopy(list(w.seals.values()))
            elif request.op in ("STATUS", "EVENTS"):
                with w.lock:
                    result = copy.deepcopy(w.seal(request.seal_id))
            elif request.op == "LOCK":
                result, delay = copy.deepcopy(w.do_lock(request.seal_id, request.cn_number)), w.lock_delay_s
            elif request.op == "UNLOCK":
                delay = w.unlock_delay_s
                result = copy.deepcopy(w.do_unlock(request.seal_id, request.cn_number, request.token))
            else:
                result = "BAD_REQUEST"
        except Refused as refused:
            result = refused.code
        for frame in self.peer.reply(request, result):
            self._schedule(delay + self.faults.reply_delay_s, frame)

    def _send_due(self) -> None:
        now = time.monotonic()
        while True:
            with self._qlock:
                if not self._queue or self._queue[0][0] > now:
                    return
                _, _, frame = heapq.heappop(self._queue)
            self._send(frame)

    def _send(self, frame: bytes) -> None:
        f = self.faults
        if f.silent:
            return
        if f.corrupt_next > 0:
            f.corrupt_next -= 1
            frame = self.peer.corrupt(frame)
        for _ in range(2 if f.duplicate else 1):
            if f.garbage:
                self.port.write(f.garbage)
            if f.split and len(frame) >= 3:
                third = len(frame) // 3
                for piece in (frame[:third], frame[third : 2 * third], frame[2 * third :]):
                    self.port.write(piece)
                    time.sleep(f.split_pause_s)
            else:
                self.port.write(frame)
