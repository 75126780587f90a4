"""The mcp_tool step end to end against a local MCP server built with the official SDK: structured content, an
isError result, a wrong token, and a canary token found nowhere but in the server's Authorization header."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import pytest

from bus import Bus, EmbeddedNats, free_port
from tests.support.graphs import edge, graph, node, steps_by_id
from tests.support.mcp_server import McpTestServer
from tests.support.canary import add_credential, leaks, places
from tests.support.stack import Stack



def tool_graph(server: McpTestServer, tool: str, settings: dict[str, Any] | None = None, **config: Any) -> dict[str, Any]:
    fields = {"serverUrl": server.url, "credentialName": "mcpToken", "tool": tool, **config}
    return graph(node("tool", "mcp_tool", settings=settings, **fields), edges=[edge("start", "tool")])


async def test_a_tool_answers_its_structured_content(stack: Stack, mcp_server: McpTestServer) -> None:
    await add_credential(stack, "mcpToken", mcp_server.token)
    document = tool_graph(mcp_server, "add", arguments={"a": "{{ a }}", "b": 3})
    record = await stack.finish(await stack.start_run(document, inputs={"a": 2}))
    step = steps_by_id(record)["tool"]
    assert record["status"] == "succeeded", step
    assert step["output"] == {"sum": 5}
    assert mcp_server.calls == [("add", {"a": 2, "b": 3})], "a value template keeps the number a number"
    assert step["request"]["headers"] == {"Authorization": "••••••"}
    assert step["request"]["body"] == {"method": "tools/call", "params": {"name": "add", "arguments": {"a": 2, "b": 3}}}
    assert any(f"MCP tool 'add' at {mcp_server.url} answered in" in e["msg"] for e in record["logs"])


async def test_an_error_result_fails_the_step_with_the_tools_message(stack: Stack, mcp_server: McpTestServer) -> None:
    await add_credential(stack, "mcpToken", mcp_server.token)
    record = await stack.finish(await stack.start_run(tool_graph(mcp_server, "fail")))
    step = steps_by_id(record)["tool"]
    assert record["status"] == "failed"
    assert step["error"] == f"MCP tool 'fail' at {mcp_server.url} failed: the database is read-only"


async def test_a_wrong_token_fails_the_step_saying_so_without_retrying(stack: Stack, mcp_server: McpTestServer) -> None:
    await add_credential(stack, "mcpToken", "not-the-token")
    document = tool_graph(mcp_server, "add", settings={"retry": {"maxAttempts": 3, "initialIntervalMs": 100}},
                          arguments={"a": 1, "b": 1})
    record = await stack.finish(await stack.start_run(document))
    step = steps_by_id(record)["tool"]
    assert record["status"] == "failed" and step["attempt"] == 1
    assert step["error"] == f"MCP tool 'add' at {mcp_server.url} failed: the server refused the token (HTTP 401)"
    assert mcp_server.calls == []


async def test_an_unreachable_server_is_retried_and_said_in_words(stack: Stack) -> None:
    server = McpTestServer()  # never started: nothing listens on its port
    server.port = free_port()
    document = graph(node("tool", "mcp_tool", settings={"retry": {"maxAttempts": 2, "initialIntervalMs": 100}},
                          serverUrl=server.url, tool="add"), edges=[edge("start", "tool")])
    record = await stack.finish(await stack.start_run(document))
    step = steps_by_id(record)["tool"]
    assert record["status"] == "failed" and step["attempt"] == 2, "a refused connection may work next time"
    assert f"failed: cannot connect to 127.0.0.1:{server.port}" in step["error"]


async def test_canary_token_appears_nowhere_but_the_servers_authorization_header(
    stack: Stack, mcp_server: McpTestServer, bus: Bus, nats_server: EmbeddedNats, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = "mcp-canary-" + secrets.token_hex(16)
    mcp_server.token = canary
    captured: list[bytes] = []

    async def capture(msg: Any) -> None:
        captured.append(msg.data)

    await bus.nc.subscribe("steps.>", cb=capture)
    await add_credential(stack, "mcpToken", canary)
    run_id = await stack.start_run(tool_graph(mcp_server, "add", arguments={"a": 1, "b": 2}))
    events = await stack.events(run_id)
    await bus.nc.flush()
    assert events[-1]["status"] == "succeeded", events[-3:]
    assert f"Bearer {canary}" in mcp_server.authorizations, "the real call carries the token"

    found = await places(stack, bus, nats_server, run_id, events, caplog.records, captured)
    assert captured and any(run_id.encode() in blob for blob in found["nats store files"])
    assert not leaks(found, canary), leaks(found, canary)


async def test_an_answer_larger_than_an_engine_reads_fails_the_step_before_it_is_all_read(
        stack: Stack, mcp_server: McpTestServer) -> None:
    """Found by the security review: a server's answer was read whole into the worker's memory, 300 MiB of it."""
    await add_credential(stack, "mcpToken", mcp_server.token)
    record = await stack.finish(await stack.start_run(tool_graph(mcp_server, "big")))
    step = steps_by_id(record)["tool"]
    assert record["status"] == "failed" and step["attempt"] == 1
    assert "is larger than 4 MiB" in step["error"], step["error"]
