"""/mcp (issue 21, item 4), driven by the official `mcp` client over streamable HTTP against a real gateway, nats-server,
orchestrator and engine: tools are the active workflows exposed as tools, with their schemas; a call runs the workflow
and answers its output, or an error naming the failed step, or its run id when it outlasts the wait; no token, or a
revoked one, is a 401."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.gateway.test_auth import new_token
from tests.gateway.test_rest_api import request
from tests.support.graphs import edge, graph, http, node
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack

FORECAST = {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}


async def exposed(stack: Stack, name: str, document: dict[str, Any], expose: bool = True, active: bool = True,
                  **fields: Any) -> str:
    status, body, _ = await request(stack, "POST", "/v1/workflows", json={
        "name": name, "graph": document, "exposeAsTool": expose, **fields})
    assert status == 201, body
    if active:
        status, activated, _ = await request(stack, "POST", f"/v1/workflows/{body['id']}/activate")
        assert status == 200, activated
    return str(body["id"])


@asynccontextmanager
async def mcp_client(stack: Stack, token: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(10.0, read=30.0), trust_env=False) as http_client:
        async with Client(streamable_http_client(f"{stack.base_url}/mcp", http_client=http_client), cache=None,
                          read_timeout_seconds=30) as client:
            yield client


def leaf(error: BaseException) -> BaseException:
    """The SDK raises inside task groups: the one error at the bottom of the groups."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


async def test_tools_are_the_exposed_active_workflows_and_a_call_runs_one(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/forecast", Reply(status=200, body={"sky": "clear"}))
    await exposed(stack, "Forecast for a city", graph(
        http("ask", mock_http.url("/forecast"), json_body={"city": "{{ city }}"}),
        node("answer", "set", values={"city": "{{ city }}", "sky": "{{ steps.ask.output.body.sky }}"}),
        edges=[edge("start", "ask"), edge("ask", "answer")]), description="Tomorrow's sky in a city",
        inputSchema=FORECAST)
    await exposed(stack, "Hidden", graph(node("x", "set", values={"a": 1}), edges=[edge("start", "x")]), expose=False)
    await exposed(stack, "Inactive", graph(node("x", "set", values={"a": 1}), edges=[edge("start", "x")]), active=False)
    token = await new_token(stack, "assistant", "runner")

    async with mcp_client(stack, token) as client:
        listed = await client.list_tools()
        [tool] = listed.tools
        assert tool.name == "forecast_for_a_city" and tool.description == "Tomorrow's sky in a city"
        assert tool.input_schema == FORECAST

        result = await client.call_tool("forecast_for_a_city", {"city": "Oslo"})
        assert result.is_error is False, result.content
        assert result.structured_content == {"city": "Oslo", "sky": "clear"}
        assert '"sky": "clear"' in result.content[0].text  # type: ignore[union-attr]
        assert [r.json() for r in mock_http.requests_to("/forecast")] == [{"city": "Oslo"}]

        refused = await client.call_tool("forecast_for_a_city", {"town": "Oslo"})
        assert refused.is_error is True and "inputs.city is required" in refused.content[0].text  # type: ignore[union-attr]
        unknown = await client.call_tool("hidden", {})
        assert unknown.is_error is True and "no tool 'hidden'" in unknown.content[0].text  # type: ignore[union-attr]

    status, runs, _ = await request(stack, "GET", "/v1/runs")
    assert [(r["trigger"], r["status"]) for r in runs["runs"]] == [("mcp", "succeeded")]


async def test_a_failed_run_is_an_error_result_naming_the_step_and_a_long_one_answers_its_run_id(
        stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/down", Reply(status=503, body="down"))
    mock_http.reply("/slow", Reply(status=200, body={}, delay_s=3))
    await exposed(stack, "Broken", graph(http("call_down", mock_http.url("/down")), edges=[edge("start", "call_down")]))
    await exposed(stack, "Slow", graph(http("call_slow", mock_http.url("/slow")), edges=[edge("start", "call_slow")]))
    token = await new_token(stack, "assistant", "runner")
    stack.app.state.mcp_call_timeout_s = 0.5
    async with mcp_client(stack, token) as client:
        failed = await client.call_tool("broken", {})
        text = failed.content[0].text  # type: ignore[union-attr]
        assert failed.is_error is True and "failed at step 'call_down'" in text and "503" in text, text
        going = await client.call_tool("slow", {})
        assert going.is_error is False and going.structured_content is not None
        assert going.structured_content["status"] == "running"
        run = await stack.finish(going.structured_content["runId"])
        assert run["status"] == "succeeded" and run["trigger"] == "mcp" and run["startedBy"] == "assistant"


async def test_no_token_a_revoked_one_or_a_session_cookie_alone_is_a_401(stack: Stack) -> None:
    await exposed(stack, "Anything", graph(node("x", "set", values={"a": 1}), edges=[edge("start", "x")]))
    for token in (None, "aos_not_a_token"):
        with pytest.raises(BaseException) as raised:
            async with mcp_client(stack, token) as client:
                await client.list_tools()
        error = leaf(raised.value)
        assert isinstance(error, MCPError) and "authentication required" in error.error.message, error
    token = await new_token(stack, "short-lived", "runner")
    async with mcp_client(stack, token) as client:
        assert len((await client.list_tools()).tools) == 1
    status, _, _ = await request(stack, "DELETE", "/v1/tokens/short-lived")
    assert status == 204
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/mcp", headers={"Authorization": f"Bearer {token}"},
                               json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}) as response:
        assert response.status == 401
        assert "authentication required" in (await response.json())["error"]["message"]
