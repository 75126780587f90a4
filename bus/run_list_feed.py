"""`RunListFeed`: every change of every run's summary, live, for the runs lists that are open (History).

A run's summary is republished on RUN_INDEX whenever its status changes (`bus/run_index.py`), so one ordered
consumer on `runs.index.>` per process, delivering only new messages, sees each change once; it is started when the
first list opens and stopped when the last one closes, so a gateway nobody watches holds no consumer. Each watcher
has a bounded queue: one that stops reading is dropped (and told so) instead of holding memory, and reloads the list
when it comes back, which is what a list does anyway after a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from schemas import RunSummary

from . import subjects

log = logging.getLogger(__name__)

WATCHER_QUEUE = 1024


@dataclass(eq=False)
class RunListWatch:
    queue: asyncio.Queue[RunSummary] = field(default_factory=lambda: asyncio.Queue(WATCHER_QUEUE))
    dropped: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, summary: RunSummary) -> None:
        try:
            self.queue.put_nowait(summary)
        except asyncio.QueueFull:
            self.dropped.set()


class RunListFeed:
    def __init__(self, js: JetStreamContext) -> None:
        self._js = js
        self._watchers: set[RunListWatch] = set()
        self._subscription: object | None = None
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def watch(self) -> AsyncIterator[RunListWatch]:
        """Every run summary published while inside, as it is published."""
        watcher = RunListWatch()
        async with self._lock:
            if self._subscription is None:
                self._subscription = await self._js.subscribe(
                    subjects.RUN_INDEX_ALL, stream=subjects.INDEX_STREAM, ordered_consumer=True,
                    deliver_policy=DeliverPolicy.NEW, cb=self._deliver)
            self._watchers.add(watcher)
        try:
            yield watcher
        finally:
            async with self._lock:
                self._watchers.discard(watcher)
                if not self._watchers:
                    await self.close()

    async def close(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(nats.errors.Error):
                await subscription.unsubscribe()  # type: ignore[attr-defined]

    async def _deliver(self, msg: Msg) -> None:
        if not self._watchers:
            return
        try:
            summary = RunSummary.model_validate_json(msg.data)
        except ValueError as error:
            log.warning("dropping a malformed run summary on %s: %s", msg.subject, error)
            return
        for watcher in list(self._watchers):
            watcher.offer(summary)
