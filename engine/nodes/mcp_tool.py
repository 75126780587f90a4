"""mcp_tool: one `tools/call` on an external MCP server over streamable HTTP, with the official SDK's client.

The SDK talks through an httpx2 client of ours (engine/outbound_httpx.py), so every request and connection, each
redirect hop included, passes the worker's outbound guard and the step's credential fences; the token goes in that
client's headers only. The SDK reports failures as (nested) exception groups; they are unwrapped and said in words.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from schemas import LogEntry, StepRequest
from bus import CredentialMissing, DecryptionError
from schemas.mcp_tools import MAX_LISTED_TOOLS, McpToolInfo, McpToolsList, McpToolsRequest
from schemas.masking import Scrubber, loggable_url, mask_fields, mask_headers, mask_query, mask_urls
from schemas.node_types import DEFAULT_MCP_TIMEOUT_MS, McpToolConfig
from schemas.runs import human_duration

from ..chat_api import quoted
from ..errors import OutboundRefused, StepFailed
from ..limits import size_in_bytes
from ..outbound_guard import guard_of, sending_credentials
from ..outbound_httpx import AnswerTooLarge, guarded_client
from .base import Credentials, NodeOutcome, StepContext
from .http import connection_failure, retry_after_ms, retryable_status

# As an llm step's answer and a code step's return value: what a run keeps of one step.
MAX_TOOL_OUTPUT_BYTES = 1024 * 1024
# Listing a server's tools for the builder: someone is waiting for the form.
LIST_TIMEOUT_S = 10.0
T = TypeVar("T")
# JSON-RPC's "request timed out" in the MCP SDK (mcp_types.REQUEST_TIMEOUT).
_REQUEST_TIMEOUT = -32001


class _RefusedStatus(Exception):
    """The server answered an HTTP status that no retry of the protocol will change (raised by a response hook:
    the SDK itself reports most of them as a bare -32603 "Server returned an error response", losing the status)."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


async def _raise_for_status(response: httpx2.Response) -> None:
    # DELETE ends a session when the client closes; its answer does not change the call's outcome.
    if response.request.method != "DELETE" and (response.status_code in (401, 403) or retryable_status(response.status_code)):
        raise _RefusedStatus(response.status_code, retry_after_ms(response.headers.get("Retry-After")))


async def run_mcp_tool(config: McpToolConfig, context: StepContext) -> NodeOutcome:
    token = context.secrets[config.credentialName] if config.credentialName else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout_s = (config.timeoutMs or DEFAULT_MCP_TIMEOUT_MS) / 1000
    request = StepRequest(
        method="POST", url=context.scrub.text(mask_query(config.serverUrl)), headers=mask_headers(headers),
        body={"method": "tools/call", "params": {"name": config.tool, "arguments": config.arguments}})
    shown = f"MCP tool {config.tool!r} at {loggable_url(config.serverUrl)}"

    def failed(reason: str, **extra: Any) -> StepFailed:
        return StepFailed(f"{shown} {reason}", request=request, **extra)

    started = time.perf_counter()
    result = await with_client(context, config.serverUrl, headers, timeout_s, failed, token is not None,
                               lambda client: client.call_tool(config.tool, config.arguments))
    elapsed_ms = (time.perf_counter() - started) * 1000

    texts = [block.text for block in result.content if block.type == "text"]
    if result.is_error:
        message = "\n".join(texts) or "no message"
        raise failed(f"failed: {quoted(message, context.scrub)}")
    output: Any
    if result.structured_content is not None:
        # As an HTTP step's JSON body: fields named like secrets are masked before the run keeps them.
        output = mask_fields(result.structured_content)
    else:
        output = texts[0] if len(texts) == 1 else texts
    if size_in_bytes(output, MAX_TOOL_OUTPUT_BYTES) > MAX_TOOL_OUTPUT_BYTES:
        raise failed(f"answered more than {MAX_TOOL_OUTPUT_BYTES // 1024} KiB")
    line = f"{shown} answered in {human_duration(elapsed_ms)}"
    return NodeOutcome(output=output, request=request,
                       logs=[LogEntry(ts=datetime.now(UTC), msg=line, stepId=context.dispatch.stepId)])


@contextlib.asynccontextmanager
async def connected(session: aiohttp.ClientSession, server_url: str, headers: dict[str, str],
                    timeout_s: float) -> AsyncIterator[Client]:
    """A client of the server, through the worker's outbound guard (and the credential fences in force), within one
    budget for everything: connecting, the SDK's discovery or handshake, and what is asked of it."""
    async with guarded_client(guard_of(session), headers, timeout_s) as http:
        http.event_hooks["response"] = [_raise_for_status]
        with anyio.fail_after(timeout_s):
            async with Client(streamable_http_client(server_url, http_client=http), read_timeout_seconds=timeout_s,
                              cache=None) as client:
                yield client


async def list_tools(data: bytes, session: aiohttp.ClientSession, credentials: Credentials | None) -> McpToolsList:
    """The answer to one `mcp.tools.list` question (the builder's mcp_tool form); never raises. The token is read,
    fenced and sent as a step's would be; what comes back is names, descriptions and schemas."""
    try:
        request = McpToolsRequest.model_validate_json(data)
    except ValidationError as error:
        problem = error.errors(include_url=False, include_input=False)[0]
        return McpToolsList(error=f"malformed request: {'.'.join(map(str, problem['loc']))}: {problem['msg']}")
    headers: dict[str, str] = {}
    fences: dict[str, list[str]] = {}
    secrets: list[str] = []
    timeout_s = LIST_TIMEOUT_S
    shown = f"MCP server {loggable_url(request.serverUrl)}"
    try:
        if request.credentialName is not None:
            if credentials is None:
                return McpToolsList(error="this engine has no master key, so it cannot use credentials")
            token, allowed = await credentials.reveal_fenced(request.credentialName)
            headers["Authorization"] = f"Bearer {token}"
            secrets.append(token)
            if allowed:
                fences[request.credentialName] = allowed
        with sending_credentials(fences):
            async with connected(session, request.serverUrl, headers, timeout_s) as client:
                listed = await client.list_tools()
    except (CredentialMissing, DecryptionError) as error:
        return McpToolsList(error=str(error))
    except Exception as error:  # noqa: BLE001 - said in words; the worker goes on whatever one question does
        failure = _failure(_leaf(error), request.serverUrl, timeout_s, lambda reason, **_: StepFailed(f"{shown} {reason}"),
                           has_token=bool(headers))
        # A server may quote what it was sent in its error: scrubbed as a step's error is.
        return McpToolsList(error=Scrubber(secrets).text(failure.message))
    return McpToolsList(tools=[McpToolInfo(name=tool.name, description=tool.description,
                                           inputSchema=dict(tool.input_schema or {}))
                               for tool in listed.tools[:MAX_LISTED_TOOLS]])


async def with_client(context: StepContext, server_url: str, headers: dict[str, str], timeout_s: float,
                      failed: Callable[..., StepFailed], has_token: bool,
                      action: Callable[[Client], Awaitable[T]]) -> T:
    """`action` on a client of the server, every failure said in words (an agent step lists and calls tools this way
    too)."""
    try:
        async with connected(context.session, server_url, headers, timeout_s) as client:
            return await action(client)
    except Exception as error:  # noqa: BLE001 - every failure is said in words below; cancellation passes
        raise _failure(_leaf(error), server_url, timeout_s, failed, has_token=has_token) from None


def _leaf(error: BaseException) -> BaseException:
    """The SDK's task groups wrap a failure in exception groups, nested; the first leaf is what happened."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _failure(error: BaseException, server_url: str, timeout_s: float, failed: Callable[..., StepFailed],
             has_token: bool) -> StepFailed:
    if isinstance(error, AnswerTooLarge):
        return failed(f"failed: {error}")
    if isinstance(error, (OutboundRefused, TimeoutError)):
        reason, retryable = connection_failure(error, server_url, timeout_s)
        return failed(reason, retryable=retryable)
    if isinstance(error, _RefusedStatus):
        if error.status in (401, 403):
            said = "refused the token" if has_token else "needs a token: choose the credential that holds it"
            return failed(f"failed: the server {said} (HTTP {error.status})")
        return failed(f"failed: HTTP {error.status} from the server", retryable=True, retry_after_ms=error.retry_after)
    if isinstance(error, MCPError):
        if error.code == _REQUEST_TIMEOUT:
            return failed(f"timed out after {human_duration(timeout_s * 1000)}", retryable=True)
        return failed(f"failed: the server answered error {error.code}: {mask_urls(error.message)[:200]}")
    if isinstance(error, httpx2.TimeoutException):
        return failed(f"timed out after {human_duration(timeout_s * 1000)}", retryable=True)
    if isinstance(error, httpx2.ConnectError):
        where = httpx2.URL(server_url)
        return failed(f"failed: cannot connect to {where.host}:{where.port or ('443' if where.scheme == 'https' else '80')} "
                      f"({mask_urls(str(error))[:200]})", retryable=True)
    if isinstance(error, (httpx2.TransportError, OSError)):
        # A reset connection, a server that hung up, a name that did not resolve: another attempt may do better.
        return failed(f"failed: {type(error).__name__}: {mask_urls(str(error))[:200]}", retryable=True)
    return failed(f"failed: {type(error).__name__}: {mask_urls(str(error))[:200]}")
