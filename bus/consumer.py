"""The one pull loop every actor uses, and the one place a handler's outcome becomes ack/nak/term.

Why not nats-py's `fetch`: a fetch leaves its pull request on the server after it returns (until it expires), so
messages keep arriving for it while the caller is busy, and they wait in the client, unhandled, while another worker
sits idle: measured as steps waiting 0.3-1 s between dispatch and start at p99. Here the loop asks for exactly the
handler slots it has free (credit), hands each message to a handler the moment it arrives, and asks again as slots
free up, so a message is never held by a process that cannot start it, and a busy stream costs a pull request per
many messages rather than one per fetch. Requests expire and carry idle heartbeats: a loop that hears nothing for
three heartbeats (its server died, or the request was lost in a reconnect) forgets its credit and asks again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

log = logging.getLogger(__name__)

# A pull request lives this long on the server; while it waits it gets an idle heartbeat this often.
PULL_EXPIRES_S = 20.0
PULL_HEARTBEAT_S = 5.0
_MISSED_HEARTBEATS = 3


@dataclass(frozen=True)
class Delivery:
    """One message from a durable consumer, as handlers see it (no NATS types outside bus/)."""

    subject: str
    data: bytes
    delivered: int  # how often JetStream has delivered it (above 1: a redelivery)
    stream_seq: int
    timestamp: datetime | None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Delivery], Awaitable[None]]


class Retry(Exception):
    """Raise from a handler to have the message redelivered after `delay` seconds."""

    def __init__(self, reason: str, delay: float = 1.0) -> None:
        super().__init__(reason)
        self.delay = delay


class Defer(Exception):
    """Raise from a handler for a message that is not due yet: handed back, unlogged, for `delay` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"not due for {delay:.1f} s")
        self.delay = delay


class Reject(Exception):
    """Raise from a handler for a message that can never succeed: it is terminated, with the reason logged."""


@dataclass(frozen=True)
class PullSource:
    """A durable pull consumer to read from: made by `Bus.pull`."""

    nc: NATS
    stream: str
    durable: str

    @property
    def next_subject(self) -> str:
        return f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self.durable}"


class PullLoop:
    """Pulls from a durable consumer and runs `handler` on up to `concurrency` messages at once.

    A handler that returns normally gets its message acked; Retry naks it with a delay; Reject
    terminates it; any other exception is logged and the message naked for redelivery (the
    consumer's max_deliver bounds a poison message). With `heartbeat_s`, long handlers keep
    their message with in-progress acks so JetStream does not redeliver it to another worker.
    """

    def __init__(
        self,
        source: PullSource,
        handler: Handler,
        *,
        name: str,
        concurrency: int = 64,
        batch: int = 256,
        heartbeat_s: float | None = None,
    ) -> None:
        self.source = source
        self.handler = handler
        self.name = name
        self.concurrency = concurrency
        self.batch = max(1, min(batch, concurrency))
        self.heartbeat_s = heartbeat_s
        self.tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._credit = 0  # messages asked for and not yet arrived (nor released by an expiry)
        self._last_heard = time.monotonic()
        self._reconnects = 0
        self._inbox = ""
        self._subscription: Subscription | None = None
        self._asks: set[asyncio.Task[None]] = set()
        self._leaderless = False

    async def run(self) -> None:
        nc = self.source.nc
        self._inbox = nc.new_inbox()
        self._subscription = await nc.subscribe(self._inbox, cb=self._on_message)
        self._reconnects = nc.stats["reconnects"]
        try:
            await self._ask()
            while not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 1.0)
                if self._stopping.is_set():
                    break
                if nc.stats["reconnects"] != self._reconnects:
                    # Requests parked on the server before a reconnect may be gone with it (nats.py issue 504).
                    self._reconnects = nc.stats["reconnects"]
                    self._credit = 0
                elif self._credit > 0 and time.monotonic() - self._last_heard > PULL_HEARTBEAT_S * _MISSED_HEARTBEATS:
                    log.warning("%s: no word from the server for %.0f s; pulling again", self.name,
                                time.monotonic() - self._last_heard)
                    self._credit = 0
                await self._ask()
        finally:
            # Kept subscribed until close: what still arrives for an old request is handed straight back.
            self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()

    async def drain(self, timeout: float) -> None:
        """Stop pulling and wait up to `timeout` for handlers in flight; cancel the rest (they are redelivered)."""
        self.stop()
        if self.tasks:
            _, pending = await asyncio.wait(set(self.tasks), timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("%s: %d handlers still running after %.0f s; left for redelivery", self.name, len(pending),
                            timeout)
                await asyncio.gather(*pending, return_exceptions=True)
        if self._subscription is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._subscription.unsubscribe()
            self._subscription = None

    async def _ask(self) -> None:
        """Ask for as many messages as there are free slots, once enough are free to be worth a request."""
        if self._stopping.is_set() or self.source.nc.is_closed:
            return
        free = self.concurrency - len(self.tasks) - self._credit
        # Batched asks, but never wait for a batch while idle: an idle loop always has a request out.
        if free <= 0 or (free < self.batch // 4 and self._credit > 0):
            return
        wanted = min(free, self.batch)
        # Counted before the await, so asks running at once do not each claim the same free slots.
        self._credit += wanted
        self._last_heard = time.monotonic()
        request = {"batch": wanted, "expires": int(PULL_EXPIRES_S * 1e9), "idle_heartbeat": int(PULL_HEARTBEAT_S * 1e9)}
        try:
            await self.source.nc.publish(self.source.next_subject, json.dumps(request).encode(), reply=self._inbox)
        except nats.errors.Error as error:
            self._credit = max(0, self._credit - wanted)
            log.warning("%s: could not ask for messages (%s); asking again shortly", self.name, error)

    async def _on_message(self, msg: Msg) -> None:
        self._last_heard = time.monotonic()
        headers = msg.headers or {}
        status = headers.get("Status")
        if status is not None:
            if status == "100":
                return  # idle heartbeat: the request is alive
            # 408: a request expired, 409: it was cut short (max waiting, leader change, consumer deleted). The
            # server says how much of its credit it did not use; without that, all of it is forgotten.
            unused = headers.get("Nats-Pending-Messages")
            self._credit = max(0, self._credit - int(unused)) if unused is not None else 0
            if status == "503":
                # No responders: the consumer has no leader (a node died; an election is under way). Asking
                # again at once would spin; the loop above asks again within a second.
                if not self._leaderless:
                    log.info("%s: the consumer has no leader right now; pulling again each second", self.name)
                self._leaderless = True
                return
            if status not in ("408", "404"):
                log.info("%s: pull request ended: %s %s", self.name, status, headers.get("Description", ""))
            await self._ask()
            return
        self._leaderless = False
        self._credit = max(0, self._credit - 1)
        if self._stopping.is_set():
            # Delivered while stopping: hand it straight back rather than start work we would abandon.
            await _settle(msg.nak())
            return
        task = asyncio.create_task(self._handle(msg))
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not self._stopping.is_set():
            ask = asyncio.create_task(self._ask())
            self._asks.add(ask)
            ask.add_done_callback(self._asks.discard)

    async def _handle(self, msg: Msg) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(msg)) if self.heartbeat_s else None
        try:
            await self.handler(_delivery(msg))
        except Defer as defer:
            await _settle(msg.nak(delay=defer.delay))
        except Retry as retry:
            log.info("%s: will retry message on %s in %.1f s: %s", self.name, msg.subject, retry.delay, retry)
            await _settle(msg.nak(delay=retry.delay))
        except Reject as reject:
            log.warning("%s: dropped message on %s: %s", self.name, msg.subject, reject)
            await _settle(msg.term())
        except asyncio.CancelledError:
            raise  # not acked: JetStream redelivers it
        except Exception:
            log.exception("%s: handler failed on %s; message will be redelivered", self.name, msg.subject)
            await _settle(msg.nak(delay=1.0))
        else:
            await _settle(msg.ack())
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat

    async def _heartbeat(self, msg: Msg) -> None:
        assert self.heartbeat_s is not None
        while True:
            await asyncio.sleep(self.heartbeat_s)
            await _settle(msg.in_progress())


def _delivery(msg: Msg) -> Delivery:
    meta = msg.metadata
    return Delivery(subject=msg.subject, data=msg.data, delivered=meta.num_delivered or 1,
                    stream_seq=meta.sequence.stream, timestamp=meta.timestamp, headers=dict(msg.headers or {}))


async def _settle(ack: Awaitable[None]) -> None:
    try:
        await ack
    except nats.errors.Error as error:
        # The connection dropped: the server will redeliver after ack_wait, which is the safe outcome.
        log.warning("could not acknowledge a message (%s); it will be redelivered", error)
