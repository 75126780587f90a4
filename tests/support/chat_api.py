"""An OpenAI-compatible Chat Completions server on loopback: it checks the bearer key, answers the completions a test
scripts (text, JSON, tool calls, errors with Retry-After) in order, and records every request."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Completion:
    """One scripted answer. `status` other than 200 answers {"error": {"message": error}} with `headers`."""

    content: str | None = "Hello from the mock model."
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str = "stop"
    model: str = "mock-model-1"
    prompt_tokens: int = 12
    completion_tokens: int = 7
    status: int = 200
    error: str = "the mock was told to fail"
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        if self.status != 200:
            return {"error": {"message": self.error, "type": "mock_error"}}
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls is not None:
            message["tool_calls"] = self.tool_calls
        return {"id": "chatcmpl-mock", "object": "chat.completion", "model": self.model,
                "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}],
                "usage": {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                          "total_tokens": self.prompt_tokens + self.completion_tokens}}


def tool_call(name: str, arguments: dict[str, Any], call_id: str = "call_1") -> dict[str, Any]:
    """One entry of an assistant message's tool_calls, as OpenAI sends it (arguments as a JSON string)."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


@dataclass
class ChatRequestSeen:
    headers: dict[str, str]
    body: dict[str, Any]


class MockChatApi:
    """`api.script(Completion(...), ...)`: successive answers (the last repeats). `api.base_url` is what an llm
    step's `baseUrl` takes. A request without `Authorization: Bearer <api_key>` gets OpenAI's 401."""

    def __init__(self, api_key: str | None = "sk-test-key") -> None:
        self.api_key = api_key
        self.received: list[ChatRequestSeen] = []
        self.replies: list[Completion] = [Completion()]
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Completion) -> None:
        self.replies = list(replies)

    async def start(self) -> MockChatApi:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server) and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _complete(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(ChatRequestSeen(dict(request.headers), body))
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                                                "code": "invalid_api_key"}}, status=401)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return web.json_response(reply.body(), status=reply.status, headers=reply.headers)
