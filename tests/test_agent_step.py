"""The agent step end to end (issue 21, item 3): a real nats-server, an OpenAI-compatible mock scripting completions
with tool calls, saved workflows as tools (each call a child run) and a local MCP server's tools; maxIterations, bad
arguments returned to the model, a canary key, and SIGKILLed actors repeating no finished tool call."""

from __future__ import annotations

import json
import logging
import secrets
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bus import Bus, EmbeddedNats
from tests.support.chat_api import Completion, MockChatApi, tool_call
from tests.support.graphs import edge, graph, http, node, steps_by_id
from tests.support.mcp_server import McpTestServer
from tests.support.mock_http import MockHttp, Reply
from tests.support.canary import add_credential, leaks, places
from tests.support.stack import Stack, spawn_actor
from tests.support.waiting import eventually
from tests.test_workers_and_secrets import ENGINE_ENV

ORDER = {"type": "object", "properties": {"orderId": {"type": "string"}}, "required": ["orderId"]}
EMAIL = {"type": "object", "properties": {"to": {"type": "string"}, "subject": {"type": "string"}},
         "required": ["to", "subject"]}



async def saved(stack: Stack, name: str, document: dict[str, Any], **extra: Any) -> str:
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/v1/workflows",
                               json={"name": name, "graph": document, **extra}) as response:
        assert response.status == 201, await response.text()
        return str((await response.json())["id"])


async def order_tools(stack: Stack) -> tuple[str, str]:
    look_up = await saved(stack, "Look up order", graph(node("found", "set", values={"id": "{{ orderId }}",
                                                                                      "status": "paid"}),
                                                         edges=[edge("start", "found")]),
                          description="Finds an order by id", inputSchema=ORDER)
    email = await saved(stack, "Send email", graph(node("sent", "set", values={"sent": True, "to": "{{ to }}"}),
                                                   edges=[edge("start", "sent")]),
                        description="Sends an email", inputSchema=EMAIL)
    return look_up, email


def agent_graph(api: MockChatApi, tools: list[str], servers: list[dict[str, Any]] | None = None,
                **config: Any) -> dict[str, Any]:
    fields = {"baseUrl": api.base_url, "credentialName": "openai", "model": "gpt-test", "system": "Be brief.",
              "prompt": "Handle order {{ orderId }}", "tools": tools, "mcpServers": servers or [], **config}
    return graph(node("agent", "agent", **fields), edges=[edge("start", "agent")])


async def test_an_agent_calls_two_workflows_and_an_mcp_tool_then_answers(
        stack: Stack, chat_api: MockChatApi, mcp_server: McpTestServer) -> None:
    await add_credential(stack, "openai", "sk-test-key")
    await add_credential(stack, "mcpToken", mcp_server.token)
    look_up, email = await order_tools(stack)
    chat_api.script(
        Completion(content="Let me check.", prompt_tokens=30, completion_tokens=10, finish_reason="tool_calls",
                   tool_calls=[tool_call("look_up_order", {"orderId": "A1"}, "call_a"),
                               tool_call("send_email", {"to": "ada@example.com", "subject": "Paid"}, "call_b"),
                               tool_call("add", {"a": 2, "b": 3}, "call_c")]),
        Completion(content="Order A1 is paid; Ada was told; 2 + 3 = 5.", prompt_tokens=80, completion_tokens=15))
    document = agent_graph(chat_api, [look_up, email], [{"url": mcp_server.url, "credentialName": "mcpToken"}])
    run_id = await stack.start_run(document, inputs={"orderId": "A1"})
    record = await stack.finish(run_id)
    step = steps_by_id(record)["agent"]
    assert record["status"] == "succeeded", step

    first, second = chat_api.received
    offered = {t["function"]["name"]: t["function"] for t in first.body["tools"]}
    assert set(offered) == {"look_up_order", "send_email", "add", "fail"}
    assert offered["look_up_order"]["parameters"] == ORDER and offered["look_up_order"]["description"] == \
        "Finds an order by id"
    assert first.body["messages"] == [{"role": "system", "content": "Be brief."},
                                      {"role": "user", "content": "Handle order A1"}]
    results = {m["tool_call_id"]: json.loads(m["content"]) for m in second.body["messages"] if m["role"] == "tool"}
    assert results == {"call_a": {"id": "A1", "status": "paid"}, "call_b": {"sent": True, "to": "ada@example.com"},
                       "call_c": {"sum": 5}}
    assistant = second.body["messages"][2]
    assert assistant["role"] == "assistant" and [c["id"] for c in assistant["tool_calls"]] == ["call_a", "call_b",
                                                                                               "call_c"]
    assert mcp_server.calls == [("add", {"a": 2, "b": 3})]

    output = step["output"]
    assert output["text"] == "Order A1 is paid; Ada was told; 2 + 3 = 5."
    assert output["usage"] == {"promptTokens": 110, "completionTokens": 25}
    calls = {c["name"]: c for c in output["toolCalls"]}
    assert [c["status"] for c in output["toolCalls"]] == ["succeeded"] * 3
    assert calls["add"]["output"] == {"sum": 5} and "runId" not in calls["add"]
    for name, workflow_id in (("look_up_order", look_up), ("send_email", email)):
        child = await stack.get_run(calls[name]["runId"])
        assert child["trigger"] == "agent" and child["parentRunId"] == run_id and child["parentStepId"] == "agent"
        assert child["workflowId"] == workflow_id and child["status"] == "succeeded"
    kinds = [(c["id"], c["kind"], c["status"]) for c in step["calls"]]
    assert kinds == [("w", "tools", "succeeded"), ("l0", "tools", "succeeded"), ("m1", "model", "succeeded"),
                     ("t1.0", "tool", "succeeded"), ("t1.1", "tool", "succeeded"), ("t1.2", "tool", "succeeded"),
                     ("m2", "model", "succeeded")], "the conversation, in order, as the builder shows it"


async def test_running_out_of_iterations_fails_the_step_saying_so(
        stack: Stack, chat_api: MockChatApi, mcp_server: McpTestServer) -> None:
    await add_credential(stack, "openai", "sk-test-key")
    await add_credential(stack, "mcpToken", mcp_server.token)
    chat_api.script(Completion(content=None, tool_calls=[tool_call("add", {"a": 1, "b": 1})]))
    document = agent_graph(chat_api, [], [{"url": mcp_server.url, "credentialName": "mcpToken"}], maxIterations=2)
    record = await stack.finish(await stack.start_run(document, inputs={"orderId": "A1"}))
    step = steps_by_id(record)["agent"]
    assert record["status"] == "failed"
    assert step["error"].startswith("the model still asked for tools after 2 model calls, the most this step makes "
                                    "(maxIterations 2)"), step["error"]
    assert len(chat_api.received) == 2 and len(mcp_server.calls) == 1, "the last turn's tools are not called"


async def test_arguments_the_schema_refuses_are_returned_to_the_model_which_goes_on(
        stack: Stack, chat_api: MockChatApi) -> None:
    await add_credential(stack, "openai", "sk-test-key")
    look_up, _ = await order_tools(stack)
    chat_api.script(
        Completion(content=None, tool_calls=[tool_call("look_up_order", {"order": "A1"}, "call_x"),
                                             tool_call("no_such_tool", {}, "call_y")]),
        Completion(content=None, tool_calls=[tool_call("look_up_order", {"orderId": "A1"}, "call_z")]),
        Completion(content='{"paid": true}'))
    document = agent_graph(chat_api, [look_up], responseFormat="json")
    record = await stack.finish(await stack.start_run(document, inputs={"orderId": "A1"}))
    step = steps_by_id(record)["agent"]
    assert record["status"] == "succeeded", step
    told = {m["tool_call_id"]: json.loads(m["content"]) for m in chat_api.received[1].body["messages"]
            if m["role"] == "tool"}
    assert "inputs.orderId is required" in told["call_x"]["error"], told
    assert told["call_y"] == {"error": "there is no tool named 'no_such_tool'"}
    assert step["output"]["json"] == {"paid": True}
    statuses = [(c["name"], c["status"]) for c in step["output"]["toolCalls"]]
    assert statuses == [("look_up_order", "failed"), ("no_such_tool", "failed"), ("look_up_order", "succeeded")]


async def test_canary_api_key_appears_nowhere_but_the_servers_authorization_header(
        stack: Stack, chat_api: MockChatApi, bus: Bus, nats_server: EmbeddedNats, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = "sk-canary" + secrets.token_hex(16)
    chat_api.api_key = canary
    captured: list[bytes] = []

    async def capture(msg: Any) -> None:
        captured.append(msg.data)

    await bus.nc.subscribe("steps.>", cb=capture)
    await add_credential(stack, "openai", canary)
    look_up, _ = await order_tools(stack)
    # A careless server echoes the key, in a tool call's arguments and in its answer.
    chat_api.script(Completion(content=f"key {canary}", tool_calls=[tool_call("look_up_order", {"orderId": canary})]),
                    Completion(content=f"your key is {canary}"))
    run_id = await stack.start_run(agent_graph(chat_api, [look_up]), inputs={"orderId": "A1"})
    events = await stack.events(run_id)
    await bus.nc.flush()
    assert [r.headers["Authorization"] for r in chat_api.received] == [f"Bearer {canary}"] * 2
    assert events[-1]["status"] == "succeeded"
    found = await places(stack, bus, nats_server, run_id, events, caplog.records, captured)
    assert any(run_id.encode() in blob for blob in found["nats store files"]), "the store scan sees this run's data"
    assert not leaks(found, canary), leaks(found, canary)


def _actors(nats_url: str, tmp_path: Path, round_: int) -> list[subprocess.Popen[bytes]]:
    return [spawn_actor(name, nats_url, env=ENGINE_ENV, log_path=tmp_path / f"{name}-{round_}.log")
            for name in ("orchestrator", "engine")]


def _kill(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=15)


async def test_an_agent_sigkilled_mid_loop_repeats_no_finished_tool_call(
        stack_parts: Stack, chat_api: MockChatApi, mcp_server: McpTestServer, mock_http: MockHttp,
        tmp_path: Path) -> None:
    """The orchestrator and the engine, real processes, are SIGKILLed while the second turn's tool runs; restarted,
    the agent goes on from its record: the first turn's tools and the model calls before the kill are not made
    again."""
    await stack_parts.start_gateway()
    await add_credential(stack_parts, "openai", "sk-test-key")
    await add_credential(stack_parts, "mcpToken", mcp_server.token)
    mock_http.reply("/record", Reply(status=200, body={"recorded": True}))
    mock_http.reply("/slow", Reply(status=200, body={"slow": True}, delay_s=4))
    record_id = await saved(stack_parts, "Record", graph(http("rec", mock_http.url("/record")),
                                                         edges=[edge("start", "rec")]), inputSchema={"type": "object"})
    slow_id = await saved(stack_parts, "Slow", graph(http("slow", mock_http.url("/slow")),
                                                     edges=[edge("start", "slow")]), inputSchema={"type": "object"})
    chat_api.script(
        Completion(content=None, tool_calls=[tool_call("add", {"a": 1, "b": 2}, "c1"), tool_call("record", {}, "c2")]),
        Completion(content=None, tool_calls=[tool_call("slow", {}, "c3")]),
        Completion(content="all done"))
    document = agent_graph(chat_api, [record_id, slow_id], [{"url": mcp_server.url, "credentialName": "mcpToken"}])
    processes = _actors(stack_parts.nats_url, tmp_path, 1)
    try:
        run_id = await stack_parts.start_run(document, inputs={"orderId": "A1"})
        await eventually(lambda: _hit(mock_http, "/slow"), timeout=60, what="the second turn's tool to be running")
        _kill(processes)
        assert len(chat_api.received) == 2, "the kill came before the third model call"
        processes = _actors(stack_parts.nats_url, tmp_path, 2)
        record = await stack_parts.finish(run_id, timeout=120)
        step = steps_by_id(record)["agent"]
        assert record["status"] == "succeeded", step
        assert step["output"]["text"] == "all done"
        assert len(chat_api.received) == 3, "no model call made twice"
        assert mcp_server.calls == [("add", {"a": 1, "b": 2})], "the finished MCP call is not repeated"
        assert len(mock_http.requests_to("/record")) == 1, "the finished workflow tool is not run again"
        children = [c["runId"] for c in step["output"]["toolCalls"] if c.get("runId")]
        assert len(children) == len(set(children)) == 2
    finally:
        _stop(processes)


async def _hit(mock_http: MockHttp, path: str) -> bool:
    return bool(mock_http.requests_to(path))
