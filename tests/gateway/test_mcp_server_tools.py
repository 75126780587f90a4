"""POST /v1/mcp-servers/tools: the builder's mcp_tool form lists a server's tools to pick from. An engine lists them
(`mcp.tools.list`), with the stored token and through its outbound guard, against a local MCP server built with the
official SDK; the token is never in the answer."""

from __future__ import annotations

import json

from tests.gateway.test_rest_api import request
from tests.support.mcp_server import ADD_SCHEMA, McpTestServer
from tests.support.stack import Stack
from tests.support.canary import add_credential


async def test_an_engine_lists_the_servers_tools_with_the_stored_token(stack: Stack, mcp_server: McpTestServer) -> None:
    await add_credential(stack, "mcpToken", mcp_server.token)
    status, body, _ = await request(stack, "POST", "/v1/mcp-servers/tools",
                                    json={"serverUrl": mcp_server.url, "credentialName": "mcpToken"})
    assert status == 200, body
    assert body == {"tools": [{"name": "add", "description": "Adds a and b", "inputSchema": ADD_SCHEMA},
                              {"name": "fail", "description": "Always fails", "inputSchema": {"type": "object"}}],
                    "error": None}
    assert mcp_server.calls == [], "listing calls no tool"
    # A credential sent outside a run is in the audit log: who, which, to which host.
    status, audit, _ = await request(stack, "GET", "/v1/audit")
    [sent] = [entry for entry in audit["entries"] if entry["action"] == "credential.send"]
    assert sent["target"] == "mcpToken" and sent["detail"]["host"] == mcp_server.url.split("/")[2]


async def test_a_refused_token_or_no_token_is_said_in_words_and_the_token_never_shows(
        stack: Stack, mcp_server: McpTestServer) -> None:
    canary = "sk_canary_list_9d2c"
    await add_credential(stack, "wrongToken", canary)
    status, body, _ = await request(stack, "POST", "/v1/mcp-servers/tools",
                                    json={"serverUrl": mcp_server.url, "credentialName": "wrongToken"})
    assert status == 200 and body["tools"] == []
    assert body["error"] == f"MCP server {mcp_server.url} failed: the server refused the token (HTTP 401)"
    assert canary not in json.dumps(body)
    status, body, _ = await request(stack, "POST", "/v1/mcp-servers/tools", json={"serverUrl": mcp_server.url})
    assert status == 200 and "needs a token: choose the credential that holds it" in body["error"]


async def test_a_bad_url_or_an_unknown_credential_is_a_422_naming_the_field(stack: Stack) -> None:
    for sent, field in (({"serverUrl": "ftp://x"}, "serverUrl"),
                        ({"serverUrl": "http://127.0.0.1:9/mcp", "credentialName": "nobody"}, "credentialName")):
        status, body, _ = await request(stack, "POST", "/v1/mcp-servers/tools", json=sent)
        assert status == 422, body
        assert body["error"]["fields"][0]["field"] == field, body
