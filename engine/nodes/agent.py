"""agent: the worker's part of an agent step (the orchestrator drives the loop: orchestrator/completions/agent.py).

A dispatch of the step is one of:
- the first (no `call`): its templates rendered, as for any step the orchestrator completes;
- a model call: the rendered system and prompt, the conversation so far and the tools' definitions (all from the
  dispatch), one chat completion (engine/chat_api.py), and each tool call it asks for named back to its target;
- an MCP server's tools listed, or one of them called (engine/nodes/mcp_tool.py's client, through the outbound guard).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mcp import Client

from schemas import LogEntry
from schemas.masking import loggable_url
from schemas.node_types import DEFAULT_LLM_TIMEOUT_MS, DEFAULT_MCP_TIMEOUT_MS, AgentCall, AgentConfig, LlmConfig
from schemas.node_types import McpToolConfig
from schemas.runs import human_duration
from schemas.tool_names import tool_names

from ..chat_api import ChatRequest, complete, quoted
from ..errors import StepFailed
from .base import NodeOutcome, StepContext
from .llm import _parsed, _response_format
from .mcp_tool import run_mcp_tool, with_client

# What a tool's result may weigh in the conversation sent back to the model.
MAX_TOOL_RESULT_CHARS = 64 * 1024


async def run_agent(config: AgentConfig | AgentCall, context: StepContext) -> NodeOutcome:
    if isinstance(config, AgentConfig):
        return NodeOutcome(output=config.model_dump(mode="json"))
    if config.kind == "list":
        return await _list_tools(config, context)
    if config.kind == "mcp":
        return await run_mcp_tool(McpToolConfig(serverUrl=config.serverUrl or "", credentialName=config.credentialName,
                                                tool=config.tool or "", arguments=config.arguments,
                                                timeoutMs=config.timeoutMs), context)
    return await _ask_model(config, context)


async def _ask_model(config: AgentCall, context: StepContext) -> NodeOutcome:
    left = context.dispatch.steps
    prepared = (left.get("~prepared") or {}).get("output")
    if not isinstance(prepared, dict):
        raise StepFailed("the agent's rendered prompt is missing")
    messages: list[dict[str, Any]] = []
    if prepared.get("system"):
        messages.append({"role": "system", "content": prepared["system"]})
    messages.append({"role": "user", "content": prepared.get("prompt") or ""})
    messages += [_filled(message, left) for message in config.messages]
    tools, routes = _tools(left)
    # The answer's format is the llm step's rule; asked on every call, since any answer may be the last.
    as_llm = LlmConfig.model_construct(responseFormat=config.responseFormat, jsonSchema=config.jsonSchema)
    call = ChatRequest(
        base_url=config.baseUrl, model=config.model, messages=messages, tools=tools or None,
        api_key=context.secrets[config.credentialName] if config.credentialName else None,
        temperature=config.temperature, max_tokens=config.maxTokens, response_format=_response_format(as_llm),
        timeout_s=(config.timeoutMs or DEFAULT_LLM_TIMEOUT_MS) / 1000,
    )
    answer = await complete(context.session, call, context.scrub)
    asked = [_routed(c, routes, context) for c in answer.tool_calls]
    output: dict[str, Any] = {"text": answer.text, "model": answer.model, "finishReason": answer.finish_reason,
                              "usage": answer.usage.as_output(), "toolCalls": asked}
    if not asked and config.responseFormat == "json":
        output["json"] = _parsed(answer.text, config.jsonSchema, context, None)
    called = f"; asked for {', '.join(str(c['name']) for c in asked)}" if asked else ""
    line = (f"{answer.model or config.model} answered in {human_duration(answer.elapsed_ms)} "
            f"({answer.usage.prompt_tokens} prompt + {answer.usage.completion_tokens} completion tokens{called})")
    return NodeOutcome(output=output, logs=[LogEntry(ts=datetime.now(UTC), msg=line, stepId=context.dispatch.stepId)])


def _filled(message: dict[str, Any], left: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A message whose content was stored apart (`contentFrom`), with it read in: the worker has read the stored
    output into `left` already (bus/step_outputs.py), as it does for templates."""
    key = message.get("contentFrom")
    filled = {k: v for k, v in message.items() if k not in ("contentFrom", "pick")}
    if isinstance(key, str):
        stored = (left.get(key) or {}).get("output")
        pick = message.get("pick")
        if isinstance(pick, str) and isinstance(stored, dict):
            stored = stored.get(pick)
        filled["content"] = stored if isinstance(stored, str) else json.dumps(stored)
    if filled.get("role") == "tool" and isinstance(filled.get("content"), str) \
            and len(filled["content"]) > MAX_TOOL_RESULT_CHARS:
        filled["content"] = filled["content"][:MAX_TOOL_RESULT_CHARS] + "… (cut)"
    return filled


def _tools(left: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The function tools offered, named by the rule MCP clients see workflows by (schemas/tool_names.py), and
    where each name leads: {workflowId, version} or {server, tool}."""
    entries: list[tuple[str, str]] = []
    found: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for workflow in (left.get("~w") or {}).get("output") or []:
        key = f"w:{workflow['workflowId']}"
        entries.append((key, str(workflow.get("name") or workflow["workflowId"])))
        found[key] = (workflow, {"workflowId": workflow["workflowId"], "version": workflow.get("version")})
    for name, held in sorted(left.items()):
        if not name.startswith("~l"):
            continue
        server = int(name[2:])
        for tool in held.get("output") or []:
            key = f"m{server}:{tool['name']}"
            entries.append((key, str(tool["name"])))
            found[key] = (tool, {"server": server, "tool": tool["name"]})
    tools, routes = [], {}
    for name, key in tool_names(entries).items():
        described, route = found[key]
        tools.append({"type": "function", "function": {
            "name": name, "description": described.get("description") or "",
            "parameters": described.get("inputSchema") or {"type": "object"}}})
        routes[name] = route
    return tools, routes


def _routed(call: dict[str, Any], routes: dict[str, dict[str, Any]], context: StepContext) -> dict[str, Any]:
    """A tool call as the model made it, with where it leads; arguments that are not JSON are the model's to
    correct (the orchestrator returns the error as the tool's result)."""
    function: dict[str, Any] = call["function"] if isinstance(call.get("function"), dict) else {}
    name = str(function.get("name") or "")
    raw = function.get("arguments")
    routed: dict[str, Any] = {"id": str(call.get("id") or ""), "name": name, "target": routes.get(name)}
    try:
        routed["arguments"] = json.loads(raw) if isinstance(raw, str) and raw.strip() else (raw or {})
    except ValueError:
        routed["arguments"] = raw
        routed["error"] = f"the arguments are not JSON: {quoted(str(raw), context.scrub)!r}"
    return routed


async def _list_tools(config: AgentCall, context: StepContext) -> NodeOutcome:
    server_url = config.serverUrl or ""
    token = context.secrets[config.credentialName] if config.credentialName else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout_s = (config.timeoutMs or DEFAULT_MCP_TIMEOUT_MS) / 1000
    shown = f"MCP server {loggable_url(server_url)}"

    def failed(reason: str, **extra: Any) -> StepFailed:
        return StepFailed(f"{shown} {reason}", **extra)

    async def listed(client: Client) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = []
        cursor = None
        for _ in range(20):  # pages; a server offering more than a model can choose among is cut here
            page = await client.list_tools(cursor=cursor)
            tools += [{"name": t.name, "description": t.description or "", "inputSchema": t.input_schema}
                      for t in page.tools]
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    tools = await with_client(context, server_url, headers, timeout_s, failed, token is not None, listed)
    line = f"{shown} offers {len(tools)} tools: {', '.join(t['name'] for t in tools)[:500]}"
    return NodeOutcome(output=tools, logs=[LogEntry(ts=datetime.now(UTC), msg=line, stepId=context.dispatch.stepId)])
