"""A real HTTP server on loopback that records what it receives and answers as each test says."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 204
    body: Any = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class MockHttp:
    """`mock.reply(path, Reply(...), ...)` sets the answers to successive calls (the last one repeats);
    `mock.received` lists requests in arrival order."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.replies: dict[str, list[Reply]] = {}
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0
        # Requests being answered right now, and the most there ever were at once (a bound on concurrency).
        self.in_flight = 0
        self.max_in_flight = 0

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def reply(self, path: str, *replies: Reply) -> None:
        self.replies[path] = list(replies)

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> MockHttp:
        self.host = host
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # Slow replies are cut at shutdown: a test's 30 s delay must not hold up its teardown.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server) and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.received.append(Received(request.method, request.path, dict(request.headers), await request.read()))
        queue = self.replies.get(request.path) or [Reply()]
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if reply.delay_s:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(reply.delay_s)
            finally:
                self.in_flight -= 1
        if reply.body is None:
            return web.Response(status=reply.status, headers=reply.headers)
        if isinstance(reply.body, (dict, list)):
            return web.json_response(reply.body, status=reply.status, headers=reply.headers)
        return web.Response(status=reply.status, text=str(reply.body), headers=reply.headers)
