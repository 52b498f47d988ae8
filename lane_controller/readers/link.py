"""One reader connection: transport + wire protocol + request/reply matching by sequence number.

The transport's thread decodes; messages are handed to the event loop, where each reply is matched to
its waiting request by ``seq``. Late, duplicated or unmatched replies are logged, counted and ignored.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from lane_controller.readers.errors import ReaderTimeout, ReaderUnavailable
from lane_controller.readers.frames import DropReason
from lane_controller.readers.messages import AckMsg, Message, NakMsg, Op, Request
from lane_controller.readers.profile import Framing, ReaderProfile
from lane_controller.readers.proto_ascii import AsciiProtocol
from lane_controller.readers.proto_binary import BinaryProtocol
from lane_controller.readers.status import ReaderStatus
from lane_controller.readers.transport import SerialTransport
from lane_controller.readers.wire import WireProtocol

log = logging.getLogger(__name__)


def make_protocol(profile: ReaderProfile) -> WireProtocol:
    """The wire protocol a profile names; every dropped frame is logged (debug) with its reason."""

    def dropped(reason: DropReason, raw: bytes) -> None:
        log.debug("reader %s: dropped %s: %r", profile.name, reason.value, raw[:64])

    if profile.framing is Framing.ASCII:
        return AsciiProtocol(profile.echo_window_s, dropped)
    return BinaryProtocol(profile.address, profile.echo_window_s, dropped)


@dataclass
class _Pending:
    op: Op
    future: asyncio.Future[list[Message]]
    messages: list[Message] = field(default_factory=list)


class ReaderLink:
    """Owns one reader's port. ``request()`` sends and awaits the matching reply; unsolicited messages
    (seq 0) go to ``on_unsolicited``."""

    def __init__(self, profile: ReaderProfile, url: str | None = None) -> None:
        self.profile = profile
        self.protocol = make_protocol(profile)
        self.transport = SerialTransport(profile.port_settings(url), self._on_data, self._on_idle)
        self.on_unsolicited: Callable[[Message], None] | None = None
        self._decode_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[int, _Pending] = {}
        self._seq = 0
        self._counts: Counter[str] = Counter()

    async def start(self, connect_timeout_s: float = 0.0) -> None:
        """Start the transport; optionally wait until the port is open (no error if it is not)."""
        self._loop = asyncio.get_running_loop()
        self.transport.start()
        if connect_timeout_s > 0:
            await self._wait_connected(connect_timeout_s)

    async def close(self) -> None:
        """Stop the transport and fail waiting requests."""
        await asyncio.to_thread(self.transport.stop)
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.cancel()

    async def request(self, request: Request, timeout_s: float | None = None) -> list[Message]:
        """Send a request and return the reply's messages, the last an AckMsg or NakMsg.

        Raises ReaderUnavailable (port not open within the time-out) or ReaderTimeout (after retries).
        """
        loop = asyncio.get_running_loop()
        timeouts = self.profile.timeouts
        slow = request.op in (Op.LOCK, Op.UNLOCK)
        timeout = timeout_s if timeout_s is not None else timeouts.lock_s if slow else timeouts.request_s
        name = request.op.value
        for attempt in range(self.profile.retries + 1):
            if not self.transport.connected.is_set() and not await self._wait_connected(timeout):
                raise ReaderUnavailable(self.transport.last_error or "port not open", name, request.seal_id)
            seq = self._next_seq()
            raw = self.protocol.encode(seq, request)
            pending = _Pending(request.op, loop.create_future())
            self._pending[seq] = pending
            self._counts["requests"] += 1
            if attempt:
                self._counts["retries"] += 1
            try:
                with self._decode_lock:
                    self.protocol.note_sent(raw)
                self.transport.write(raw)
                return await asyncio.wait_for(pending.future, timeout)
            except TimeoutError:  # before OSError: TimeoutError is one
                self._counts["timeouts"] += 1
                log.info("reader %s: %s seq %d timed out (try %d)", self.profile.name, name, seq, attempt + 1)
            except OSError as exc:
                raise ReaderUnavailable(str(exc), name, request.seal_id) from exc
            finally:
                self._pending.pop(seq, None)
        raise ReaderTimeout(f"no reply within {timeout:g} s", name, request.seal_id)

    def status(self) -> ReaderStatus:
        """A snapshot of the link's counters."""
        stats = self.protocol.stats
        return ReaderStatus(
            name=self.profile.name,
            connected=self.transport.connected.is_set(),
            port=self.transport.settings.url,
            reconnects=self.transport.reconnects,
            last_error=self.transport.last_error,
            frames=stats.frames,
            garbage_bytes=stats.garbage_bytes,
            drops={reason.value: n for reason, n in stats.drops.items()},
            requests=self._counts["requests"],
            retries=self._counts["retries"],
            timeouts=self._counts["timeouts"],
            naks=self._counts["naks"],
            unmatched=self._counts["unmatched"],
        )

    def drops(self, reason: DropReason) -> int:
        """How many frames were dropped for one reason."""
        return self.protocol.stats.drops[reason]

    async def _wait_connected(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.transport.connected.is_set():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    def _next_seq(self) -> int:
        modulus = self.protocol.seq_modulus
        for _ in range(modulus):
            self._seq = self._seq % (modulus - 1) + 1
            if self._seq not in self._pending:
                return self._seq
        raise RuntimeError("no free sequence number")  # pragma: no cover - needs 255 requests in flight

    # --- transport thread
    def _on_data(self, data: bytes) -> None:
        with self._decode_lock:
            messages = self.protocol.feed(data)
        self._hand_over(messages)

    def _on_idle(self) -> None:
        with self._decode_lock:
            messages = self.protocol.flush()
        self._hand_over(messages)

    def _hand_over(self, messages: list[Message]) -> None:
        if messages and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._dispatch, messages)

    # --- event loop
    def _dispatch(self, messages: list[Message]) -> None:
        for msg in messages:
            if msg.seq == 0 and self.on_unsolicited is not None:
                self.on_unsolicited(msg)
                continue
            pending = self._pending.get(msg.seq)
            if pending is None or pending.future.done():
                if isinstance(msg, AckMsg | NakMsg):
                    self._counts["unmatched"] += 1
                    log.info("reader %s: late or unmatched reply seq %d ignored", self.profile.name, msg.seq)
                continue
            if isinstance(msg, AckMsg) and msg.op is not pending.op:
                self._counts["unmatched"] += 1  # a stale reply to an older request that had this seq
                log.info(
                    "reader %s: %s reply on seq %d of a %s ignored",
                    self.profile.name,
                    msg.op,
                    msg.seq,
                    pending.op,
                )
                pending.messages.clear()
                continue
            pending.messages.append(msg)
            if isinstance(msg, NakMsg):
                self._counts["naks"] += 1
            if isinstance(msg, AckMsg | NakMsg):
                pending.future.set_result(pending.messages)
