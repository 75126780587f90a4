"""Batched direct gets (one request, many answers) over one standing subscription per connection.

A batch's answers all come to one reply subject, so nats-py's `request()` (first answer only) does not fit. Each read
used to subscribe to an inbox of its own and unsubscribe after: a SUB and an UNSUB that nats-server handles on every
followed run's stored events and every page of runs (issue 19's profile of the WebSocket path). Here a connection
subscribes once, to `<inbox>.*`, and each read's answers come to `<inbox>.<token>`.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.nuid import NUID

_BY_CONNECTION: weakref.WeakKeyDictionary[NATS, BatchGets] = weakref.WeakKeyDictionary()


class BatchGets:
    def __init__(self, nc: NATS) -> None:
        self._nc = nc
        self._ids = NUID()
        self._base = ""
        self._subscription: Subscription | None = None
        self._starting = asyncio.Lock()
        self._waiting: dict[str, asyncio.Queue[Msg]] = {}

    @classmethod
    def of(cls, nc: NATS) -> BatchGets:
        """The connection's one reader (created on first use)."""
        found = _BY_CONNECTION.get(nc)
        if found is None:
            found = _BY_CONNECTION[nc] = cls(nc)
        return found

    async def get(self, stream: str, request: dict[str, Any], timeout: float) -> tuple[list[Msg], Msg]:
        """One batched direct get: the messages, and the status message that ended the batch (204: its end;
        404: nothing matched). TimeoutError when the batch does not end within `timeout`."""
        await self._subscribe()
        token = self._ids.next().decode()
        answers: asyncio.Queue[Msg] = asyncio.Queue()
        self._waiting[token] = answers
        found: list[Msg] = []
        try:
            await self._nc.publish(f"$JS.API.DIRECT.GET.{stream}", json.dumps(request).encode(),
                                   reply=f"{self._base}.{token}")
            async with asyncio.timeout(timeout):
                while True:
                    msg = await answers.get()
                    if (msg.headers or {}).get("Status"):
                        return found, msg
                    found.append(msg)
        finally:
            del self._waiting[token]  # a late answer to a read given up on is dropped

    async def _subscribe(self) -> None:
        if self._subscription is not None:
            return
        async with self._starting:
            if self._subscription is None:
                self._base = self._nc.new_inbox()
                self._subscription = await self._nc.subscribe(f"{self._base}.*", cb=self._answer)

    async def _answer(self, msg: Msg) -> None:
        waiting = self._waiting.get(msg.subject.rsplit(".", 1)[1])
        if waiting is not None:
            waiting.put_nowait(msg)
