"""The llm and mcp_tool declarations through the REST API: validation naming the config field, the registry
entry the builder draws their forms from, and their credential fields counted as a credential's users."""

from __future__ import annotations

from typing import Any

import pytest

from tests.gateway.test_rest_api import request
from tests.support.graphs import edge, graph, node
from tests.support.stack import Stack

LLM = {"baseUrl": "https://api.openai.com/v1", "model": "gpt-4o-mini", "prompt": "Hi {{ name }}"}
MCP = {"serverUrl": "https://mcp.example.com/mcp", "tool": "search", "arguments": {"q": "{{ q }}"}}


def one(node_type: str, **config: Any) -> dict[str, Any]:
    return graph(node("step", node_type, **config), edges=[edge("start", "step")])


async def issues(stack: Stack, document: dict[str, Any]) -> dict[str, str]:
    status, body, _ = await request(stack, "POST", "/v1/workflows/validate", json={"graph": document})
    assert status == 422, body
    return {issue["field"]: issue["reason"] for issue in body["error"]["fields"]}


async def test_valid_configs_validate(stack: Stack) -> None:
    for document in (one("llm", **LLM, credentialName="openai", responseFormat="json",
                         jsonSchema={"type": "object", "properties": {"a": {"type": "string"}}}),
                     one("mcp_tool", **MCP, credentialName="mcpToken")):
        status, body, _ = await request(stack, "POST", "/v1/workflows/validate", json={"graph": document})
        assert status == 200 and body["ok"] is True, body
        assert sorted(body["inputs"]) in (["name"], ["q"])


@pytest.mark.parametrize(("config", "field", "reason"), [
    ({**LLM, "model": ""}, "model", "at least 1 character"),
    ({k: v for k, v in LLM.items() if k != "prompt"}, "prompt", "required"),
    ({**LLM, "baseUrl": "ftp://models.local"}, "baseUrl", "must start with http:// or https://"),
    ({**LLM, "baseUrl": "{{ url }}"}, "baseUrl", "is not templated"),
    ({**LLM, "temperature": 3}, "temperature", "less than or equal to 2"),
    ({**LLM, "responseFormat": "yaml"}, "responseFormat", "'text' or 'json'"),
    ({**LLM, "credentialName": "no spaces"}, "credentialName", "pattern"),
    ({**LLM, "jsonSchema": {"type": "object"}}, "jsonSchema", 'applies only when responseFormat is "json"'),
    ({**LLM, "responseFormat": "json", "jsonSchema": {"type": "array"}}, "jsonSchema", "must describe an object"),
    ({**LLM, "responseFormat": "json", "jsonSchema": {"type": "object", "properties": {"a": {"type": 5}}}},
     "jsonSchema", "is not a valid JSON Schema at properties.a.type"),
])
async def test_llm_config_errors_name_the_field(stack: Stack, config: dict[str, Any], field: str, reason: str) -> None:
    found = await issues(stack, one("llm", **config))
    assert reason in found.get(f"graph.nodes[1].data.config.{field}", ""), found


@pytest.mark.parametrize(("config", "field", "reason"), [
    ({**MCP, "serverUrl": "mcp.example.com"}, "serverUrl", "must start with http:// or https://"),
    ({k: v for k, v in MCP.items() if k != "tool"}, "tool", "required"),
    ({**MCP, "tool": "two words"}, "tool", "pattern"),
    ({**MCP, "arguments": ["a"]}, "arguments", "valid dictionary"),
    ({**MCP, "timeoutMs": 10}, "timeoutMs", "greater than or equal to 1000"),
])
async def test_mcp_tool_config_errors_name_the_field(stack: Stack, config: dict[str, Any], field: str, reason: str) -> None:
    found = await issues(stack, one("mcp_tool", **config))
    assert reason in found.get(f"graph.nodes[1].data.config.{field}", ""), found


async def test_the_registry_serves_both_with_a_plain_credential_field(stack: Stack) -> None:
    status, body, _ = await request(stack, "GET", "/v1/node-types")
    assert status == 200
    types = {t["type"]: t for t in body["nodeTypes"]}
    for name in ("llm", "mcp_tool"):
        assert types[name]["credentialFields"] == ["credentialName"]
        assert types[name]["ui"]["fields"]["credentialName"]["widget"] == "credential"
        assert types[name]["configSchema"]["properties"]["credentialName"]["anyOf"][0]["type"] == "string"
    assert types["llm"]["templatedFields"] == ["system", "prompt"]
    assert types["mcp_tool"]["templatedFields"] == ["arguments"]


async def test_a_credential_an_llm_or_mcp_step_names_is_in_use(stack: Stack) -> None:
    for name, document in (("openai", one("llm", **LLM, credentialName="openai")),
                           ("mcpToken", one("mcp_tool", **MCP, credentialName="mcpToken"))):
        status, _, _ = await request(stack, "POST", "/v1/credentials", json={"name": name, "value": "v-123456"})
        assert status == 201
        status, saved, _ = await request(stack, "POST", "/v1/workflows", json={"name": f"uses {name}", "graph": document})
        assert status == 201, saved
        status, body, _ = await request(stack, "DELETE", f"/v1/credentials/{name}")
        assert status == 409 and body["error"]["code"] == "in_use", body
