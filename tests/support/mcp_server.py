"""An MCP server on loopback, built with the official SDK's low-level server API and its streamable HTTP session
manager (stateless, JSON answers), behind a bearer-token check. Two tools: `add` answers structured content, `fail`
answers an isError result. It records the Authorization headers it saw and the calls it answered."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import mcp_types as types
import uvicorn
from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bus import free_port

ADD_SCHEMA = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}


class McpTestServer:
    def __init__(self, token: str = "mcp-test-token") -> None:
        self.token = token
        self.authorizations: list[str] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    async def _list_tools(self, ctx: ServerRequestContext, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[
            types.Tool(name="add", description="Adds a and b", input_schema=ADD_SCHEMA),
            types.Tool(name="fail", description="Always fails", input_schema={"type": "object"}),
        ])

    async def _call_tool(self, ctx: ServerRequestContext, params: types.CallToolRequestParams) -> types.CallToolResult:
        arguments = dict(params.arguments or {})
        self.calls.append((params.name, arguments))
        if params.name == "add":
            total = {"sum": arguments["a"] + arguments["b"]}
            return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(total))],
                                        structured_content=total)
        if params.name == "big":  # an answer larger than an engine reads (engine/outbound_httpx.py MAX_ANSWER_BYTES)
            return types.CallToolResult(content=[types.TextContent(type="text", text="x" * (6 * 1024 * 1024))])
        if params.name == "fail":
            return types.CallToolResult(content=[types.TextContent(type="text", text="the database is read-only")],
                                        is_error=True)
        return types.CallToolResult(content=[types.TextContent(type="text", text=f"unknown tool {params.name}")],
                                    is_error=True)

    def _app(self) -> Starlette:
        server = Server("automateos-test-mcp", version="1.0", on_list_tools=self._list_tools,
                        on_call_tool=self._call_tool)
        manager = StreamableHTTPSessionManager(app=server, stateless=True, json_response=True, security_settings=None)

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            async with manager.run():  # the manager serves nothing until it runs
                yield

        return Starlette(routes=[Route("/mcp", endpoint=_BearerCheck(StreamableHTTPASGIApp(manager), self))],
                         lifespan=lifespan)

    async def start(self) -> McpTestServer:
        self.port = free_port()
        self._server = uvicorn.Server(uvicorn.Config(self._app(), host="127.0.0.1", port=self.port, log_config=None,
                                                     lifespan="on"))
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task


class _BearerCheck:
    """401 before any MCP work for a request without the token, as a real server guards its tools."""

    def __init__(self, app: ASGIApp, owner: McpTestServer) -> None:
        self.app = app
        self.owner = owner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            authorization = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            self.owner.authorizations.append(authorization)
            if authorization != f"Bearer {self.owner.token}":
                await JSONResponse({"error": "invalid_token"}, status_code=401,
                                   headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})(scope, receive, send)
                return
            if scope["method"] == "GET":  # stateless: no stream for the server to push on
                await JSONResponse({}, status_code=405, headers={"Allow": "POST, DELETE"})(scope, receive, send)
                return
        await self.app(scope, receive, send)
