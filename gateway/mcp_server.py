"""/mcp: the Model Context Protocol's streamable HTTP transport, through the official `mcp` SDK (issue 21, item 4).

Assistants (Claude Desktop, Cursor, any MCP client) list and call workflows as tools: every active workflow marked
`exposeAsTool`, named from its name, described by its description, its parameters its `inputSchema`. A call runs the
workflow's active version (trigger `mcp`) and waits for it up to AUTOMATEOS_MCP_CALL_TIMEOUT_S.

Decided (docs/ARCHITECTURE.md, "MCP"):
- The SDK's low-level `Server`, not `MCPServer`: the tools change while the gateway runs, and are read from the
  workflows' stored summaries at each `tools/list` (no graph is parsed).
- Stateless, with JSON answers: any gateway process answers any request, and nothing is kept between them.
- An API token (`Authorization: Bearer …`), never the browser's session cookie: an MCP client is not a browser, and a
  cookie here would let any page the user visits call tools. Runner may list and call; none is a 401 before any MCP
  work, with a JSON-RPC error body so clients show why.
- A tool is described by the workflow's latest version; a call runs its active one, whose own schema checks the
  arguments.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from bus import Bus
from schemas.input_schema import input_issues
from schemas.runs import RunRecord, new_run_id
from schemas.tool_names import tool_names as named_tools
from schemas.workflows import StoredWorkflowSummary

from .auth import Authenticator, Principal, bearer_token
from .errors import MAX_BODY_BYTES, ApiException
from .run_outcome import last_output, run_end
from .runs import start_compiled_run
from .saved_versions import SavedVersions

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"
DEFAULT_CALL_TIMEOUT_S = 60.0
# Summaries read per tools/list: a page at a time, and no more than this many workflows in all.
_PAGE = 200
_MAX_WORKFLOWS = 5_000
_SCOPE_KEY = "automateos.mcp_principal"


def tool_names(workflows: list[StoredWorkflowSummary]) -> dict[str, StoredWorkflowSummary]:
    """Each workflow's tool name (schemas/tool_names.py: the rule an agent step names its tools by too)."""
    by_id = {w.id: w for w in workflows}
    return {name: by_id[key] for name, key in named_tools((w.id, w.name) for w in workflows).items()}


async def exposed_tools(bus: Bus) -> dict[str, StoredWorkflowSummary]:
    """The workflows offered as tools now, by tool name: active and marked exposeAsTool."""
    exposed: list[StoredWorkflowSummary] = []
    before: int | None = None
    for _ in range(_MAX_WORKFLOWS // _PAGE):
        page, before = await bus.workflows.summaries(before, _PAGE)
        exposed += [w for w in page if w.exposeAsTool and w.active and w.activeVersion is not None]
        if before is None:
            break
    return tool_names(exposed)


def _text(text: str) -> list[types.TextContent | types.ImageContent | types.AudioContent | types.ResourceLink
                          | types.EmbeddedResource]:
    return [types.TextContent(type="text", text=text)]


def _failed(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=_text(text), is_error=True)


def _request_of(ctx: ServerRequestContext[Any, Any]) -> Request:
    request = ctx.request
    assert isinstance(request, Request), "the streamable HTTP transport hands every message its HTTP request"
    return request


async def _listed_tools(ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    bus: Bus = _request_of(ctx).app.state.bus
    tools = [types.Tool(name=name, description=w.description or f"Runs the workflow “{w.name}”.",
                        input_schema=w.inputSchema or {"type": "object"})
             for name, w in (await exposed_tools(bus)).items()]
    return types.ListToolsResult(tools=tools)


async def _called_tool(ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams) -> types.CallToolResult:
    request = _request_of(ctx)
    state = request.app.state
    bus: Bus = state.bus
    principal = request.scope.get(_SCOPE_KEY)
    workflow = (await exposed_tools(bus)).get(params.name)
    if workflow is None or workflow.activeVersion is None:
        return _failed(f"there is no tool {params.name!r}: it names no active workflow exposed as a tool")
    saved: SavedVersions = state.saved_versions
    compiled = await saved.compiled(workflow.id, workflow.activeVersion)
    if compiled is None:
        return _failed(f"the workflow {workflow.name!r} has no version {workflow.activeVersion}")
    arguments = dict(params.arguments or {})
    if issues := input_issues(compiled.saved.inputSchema, arguments):
        return _failed("the arguments do not satisfy the tool's input schema: "
                       + "; ".join(f"{issue.field} {issue.reason}" for issue in issues))
    run_id = new_run_id()
    timeout_s: float = state.mcp_call_timeout_s
    try:
        async with bus.follow_run(run_id) as follow:
            record = await start_compiled_run(bus, run_id, compiled, arguments, "mcp",
                                              by=principal.name if isinstance(principal, Principal) else None)
            ended = await run_end(bus, follow, record, timeout_s)
    except ApiException as refused:
        return _failed(f"the run could not be started: {refused.body.error.message}")
    if ended is None:
        still = {"runId": run_id, "status": "running"}
        return types.CallToolResult(content=_text(f"Run {run_id} of {workflow.name!r} is still going after "
                                                  f"{timeout_s:g} s; follow it at /v1/runs/{run_id}"),
                                    structured_content=still)
    if ended.status != "succeeded":
        return _failed(_why_not(ended, workflow.name))
    output = await last_output(bus, ended)
    structured = output if isinstance(output, dict) else {"result": output}
    return types.CallToolResult(content=_text(json.dumps(output, default=str)), structured_content=structured)


def _why_not(record: RunRecord, name: str) -> str:
    if record.status == "cancelled":
        return f"run {record.id} of {name!r} was cancelled"
    failed = [s for s in record.steps if s.status == "failed" and not s.errorHandled]
    where = f" at step {failed[0].name or failed[0].id!r}" if failed else ""
    return f"run {record.id} of {name!r} failed{where}: {record.error or (failed[0].error if failed else 'no reason given')}"


async def _list_tools(ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    try:
        return await _listed_tools(ctx, params)
    except Exception:
        # The SDK would send an exception's own text to the client: log it here, say nothing of it there.
        log.exception("MCP tools/list failed")
        raise MCPError(types.INTERNAL_ERROR, "internal error listing the tools; the gateway's log says why") from None


async def _call_tool(ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams) -> types.CallToolResult:
    try:
        return await _called_tool(ctx, params)
    except Exception:
        log.exception("MCP tools/call of %r failed", params.name)
        return _failed("internal error calling the tool; the gateway's log says why")


class _BearerOnly:
    """The MCP endpoint, for requests with a valid API token only (see the module's docstring for why)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authenticator: Authenticator = scope["app"].state.authenticator
        token = bearer_token(scope)
        principal = await authenticator.by_token(token) if token is not None else None
        if principal is None:
            reason = "authentication required: send Authorization: Bearer <API token> (a runner token or above)"
            await JSONResponse({"jsonrpc": "2.0", "id": None, "error": {"code": -32030, "message": reason}},
                               status_code=401, headers={"WWW-Authenticate": 'Bearer realm="automateos"'})(
                scope, receive, send)
            return
        if scope["method"] == "GET":
            # Stateless: there is no stream of server-sent messages to open.
            await JSONResponse({"error": {"code": "method_not_allowed", "message": "POST MCP messages to /mcp"}},
                               status_code=405, headers={"Allow": "POST, DELETE"})(scope, receive, send)
            return
        scope[_SCOPE_KEY] = principal
        await self.app(scope, receive, send)


class McpEndpoint:
    """The session manager (one per app: it runs inside the app's lifespan) and the ASGI endpoint for /mcp."""

    def __init__(self) -> None:
        server: Server[Any] = Server("automateos", version="1", on_list_tools=_list_tools, on_call_tool=_call_tool)
        # Host and Origin are the gateway's to check (gateway/same_origin.py, on every route); a body is bounded as
        # every REST body is.
        self._manager = StreamableHTTPSessionManager(app=server, stateless=True, json_response=True,
                                                     security_settings=None, max_request_body_size=MAX_BODY_BYTES)
        self.asgi: ASGIApp = _BearerOnly(StreamableHTTPASGIApp(self._manager))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self._manager.run():
            yield
