"""`RunEventsHub`: one live feed of every run's events per process, fanned out in memory to whoever follows a run.

Following a run used to cost a JetStream consumer per WebSocket (created, then deleted: much of the gateway's
and nats-server's CPU per run). Now a process holds one ordered consumer on `runs.events.>`, started on first
use; a follower gets the run's stored events with one batched direct get, then the live ones from memory.

Why nothing is lost or repeated: a follower registers *before* it reads what is stored, and the ordered consumer
only delivers what the stream already holds, so every event is either in the stored read or in the live queue
(or both: the caller's sequencer drops repeats by `seq`). The ordered consumer re-creates itself after a gap or a
reconnect, from the last stream sequence it saw.

Why memory stays bounded: a follower that does not keep up (a socket that never reads) is dropped once it holds
FOLLOWER_BUFFER_BYTES, and told so through `dropped`; it can reconnect with `?after=`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from schemas import LogEvent, RunEvents, RunStatusEvent, StepEvent

from . import subjects
from .run_log import read_changes

log = logging.getLogger(__name__)

RunEventModel = RunStatusEvent | StepEvent | LogEvent

FOLLOWER_BUFFER_BYTES = 8 * 1024 * 1024
_START_PATIENCE_S = 20.0
_PREFIX = subjects.run_events("")


class FollowerDropped(Exception):
    """The follower fell FOLLOWER_BUFFER_BYTES behind the live feed and was dropped."""


@dataclass(eq=False)
class RunFollow:
    """One follower of one run: the live batches the hub hands it, and whether it was dropped."""

    run_id: str
    read_stored: Callable[[str], Awaitable[list[RunEventModel]]]
    queue: asyncio.Queue[tuple[list[RunEventModel], int]] = field(default_factory=asyncio.Queue)
    buffered_bytes: int = 0
    dropped: asyncio.Event = field(default_factory=asyncio.Event)
    stored: list[RunEventModel] = field(default_factory=list)

    async def load_stored(self) -> None:
        """Reads what the stream already holds for the run; `events()` yields it first. A caller that knows
        nothing was stored before it registered (the run record's eventSeq, read after, says so) may skip it."""
        self.stored = await self.read_stored(self.run_id)

    def offer(self, events: list[RunEventModel], size: int) -> bool:
        if self.buffered_bytes + size > FOLLOWER_BUFFER_BYTES:
            self.dropped.set()
            return False
        self.buffered_bytes += size
        self.queue.put_nowait((events, size))
        return True

    async def events(self, tick: float) -> AsyncIterator[RunEventModel | None]:
        """The stored events, then live ones; None after each `tick` seconds of silence."""
        for event in self.stored:
            yield event
        self.stored = []
        while True:
            if self.dropped.is_set():
                raise FollowerDropped(f"fell {FOLLOWER_BUFFER_BYTES} bytes behind run {self.run_id}'s events")
            try:
                events, size = await asyncio.wait_for(self.queue.get(), tick)
            except TimeoutError:
                yield None
                continue
            self.buffered_bytes -= size
            for event in events:
                yield event


class RunEventsHub:
    def __init__(self, nc: NATS, js: JetStreamContext) -> None:
        self._nc = nc
        self._js = js
        self._followers: dict[str, set[RunFollow]] = {}
        self._subscription: object | None = None
        self._starting = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def follow(self, run_id: str) -> AsyncIterator[RunFollow]:
        """Registers a follower of `run_id` for the live feed, and unregisters it on exit. What was published
        before it registered comes from `load_stored()`."""
        await self._start()
        follow = RunFollow(run_id, self._stored)
        self._followers.setdefault(run_id, set()).add(follow)
        try:
            yield follow
        finally:
            followers = self._followers.get(run_id)
            if followers is not None:
                followers.discard(follow)
                if not followers:
                    del self._followers[run_id]

    def followed_runs(self) -> set[str]:
        """The runs someone in this process follows right now."""
        return set(self._followers)

    async def close(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(nats.errors.Error):
                await subscription.unsubscribe()  # type: ignore[attr-defined]

    async def _start(self) -> None:
        if self._subscription is not None:
            return
        async with self._starting:
            give_up_at = time.monotonic() + _START_PATIENCE_S
            while self._subscription is None:
                try:
                    self._subscription = await self._js.subscribe(
                        subjects.RUN_EVENTS_ALL,
                        stream=subjects.EVENTS_STREAM,
                        ordered_consumer=True,
                        deliver_policy=DeliverPolicy.NEW,
                        cb=self._deliver,
                    )
                except (nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError) as error:
                    # The stream is electing a leader (a node died): that takes seconds, worth waiting out.
                    if time.monotonic() > give_up_at:
                        raise
                    log.info("live feed: the events stream did not answer (%s); trying again", type(error).__name__)
                    await asyncio.sleep(0.5)

    async def _deliver(self, msg: Msg) -> None:
        run_id = msg.subject[len(_PREFIX):]
        followers = self._followers.get(run_id)
        if not followers:
            return  # nobody here follows that run: not even parsed
        try:
            batch = RunEvents.model_validate_json(msg.data)
        except ValueError as error:
            log.warning("dropping malformed events on %s: %s", msg.subject, error)
            return
        if batch.runId != run_id:
            log.warning("dropping events of run %s published on %s", batch.runId, msg.subject)
            return
        events = batch.events
        for follow in list(followers):
            if not follow.offer(events, len(msg.data)):
                log.warning("dropping a follower of run %s: it fell %d bytes behind", follow.run_id, FOLLOWER_BUFFER_BYTES)
                followers.discard(follow)

    async def _stored(self, run_id: str) -> list[RunEventModel]:
        """Every event the stream holds for a run, oldest first."""
        return [event for _, change in (await read_changes(self._nc, run_id)).changes for event in change.events]
