"""The llm and mcp_tool steps go only where the outbound guard lets HTTP steps go: refused hosts, names resolving to
refused addresses (checked where the connection is made, for the MCP SDK's httpx2 client too), credential fences."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from engine.errors import StepFailed
from engine.nodes import NodeContext
from engine.outbound_guard import guarded_session
from engine.outbound_policy import OutboundPolicy
from engine.step_runner import run_step
from schemas import StepDispatch
from schemas.masking import loggable_url
from tests.support.chat_api import MockChatApi
from tests.support.mcp_server import McpTestServer

PRIVATE = "127.0.0.1 is a loopback address (blocked because AUTOMATEOS_BLOCK_PRIVATE_NETWORKS=true"


class HostsFile(AbstractResolver):
    """Knows only the names a test gives it."""

    def __init__(self, hosts: dict[str, list[str]]) -> None:
        self.hosts = hosts

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host not in self.hosts:
            raise OSError(f"{host} is not in this test's hosts file")
        return [ResolveResult(hostname=host, host=address, port=port, family=socket.AF_INET, proto=0, flags=0)
                for address in self.hosts[host]]

    async def close(self) -> None:
        pass


class Credentials:
    """The worker's credential store as a step runner sees it: a value and its fence."""

    def __init__(self, values: dict[str, tuple[str, list[str]]]) -> None:
        self.values = values

    async def reveal_fenced(self, name: str) -> tuple[str, list[str]]:
        return self.values[name]


@asynccontextmanager
async def worker(block_private: bool = False, allow: str = "", hosts: dict[str, list[str]] | None = None,
                 credentials: Credentials | None = None) -> AsyncIterator[NodeContext]:
    resolver = HostsFile(hosts) if hosts is not None else None
    async with guarded_session(OutboundPolicy.parse(block_private, allow), resolver=resolver) as session:
        yield NodeContext(session=session, credentials=credentials)


def llm(base_url: str, **config: Any) -> StepDispatch:
    return StepDispatch(runId="r1", stepId="ask", name="Ask", type="llm",
                        config={"baseUrl": base_url, "model": "m", "prompt": "hi", "timeoutMs": 5000, **config})


def tool(server_url: str, **config: Any) -> StepDispatch:
    return StepDispatch(runId="r1", stepId="tool", name="Tool", type="mcp_tool",
                        config={"serverUrl": server_url, "tool": "add", "arguments": {"a": 1, "b": 2},
                                "timeoutMs": 5000, **config})


async def refused(dispatch: StepDispatch, context: NodeContext) -> str:
    with pytest.raises(StepFailed) as failure:
        await run_step(dispatch, context)
    assert failure.value.retryable is False, "the same rules refuse the next attempt too"
    return failure.value.message


async def test_llm_to_a_refused_address_sends_nothing(chat_api: MockChatApi) -> None:
    async with worker(block_private=True) as context:
        message = await refused(llm(chat_api.base_url), context)
    assert f"POST {loggable_url(chat_api.base_url + '/chat/completions')} refused: {PRIVATE}" in message
    assert chat_api.received == []


async def test_mcp_tool_to_a_refused_address_sends_nothing(mcp_server: McpTestServer) -> None:
    async with worker(block_private=True) as context:
        message = await refused(tool(mcp_server.url), context)
    assert message == f"MCP tool 'add' at {mcp_server.url} refused: {PRIVATE}; allow it with AUTOMATEOS_OUTBOUND_ALLOW)"
    assert mcp_server.authorizations == [], "no byte reached the server"


async def test_mcp_tool_to_a_metadata_address_is_refused_even_when_private_networks_are_open() -> None:
    async with worker() as context:
        message = await refused(tool("http://169.254.169.254/mcp"), context)
    assert "169.254.169.254 is a cloud metadata address (always blocked)" in message


async def test_mcp_tool_connects_to_the_address_the_guard_resolved(mcp_server: McpTestServer) -> None:
    # mcp.test exists only in this resolver: the call works only if httpx2 connects where the guard resolved it to.
    url = f"http://mcp.test:{mcp_server.port}/mcp"
    token = Credentials({"mcpToken": (mcp_server.token, [])})
    async with worker(hosts={"mcp.test": ["127.0.0.1"]}, credentials=token) as context:
        outcome = await run_step(tool(url, credentialName="mcpToken"), context)
    assert outcome.output == {"sum": 3}
    async with worker(block_private=True, hosts={"mcp.test": ["127.0.0.1"]}, credentials=token) as context:
        message = await refused(tool(url, credentialName="mcpToken"), context)
    assert "refused: mcp.test resolves to 127.0.0.1, a loopback address" in message
    calls = len(mcp_server.calls)
    async with worker(block_private=True, allow="mcp.test", hosts={"mcp.test": ["127.0.0.1"]}, credentials=token) as context:
        assert (await run_step(tool(url, credentialName="mcpToken"), context)).output == {"sum": 3}
    assert len(mcp_server.calls) == calls + 1, "the refused call never reached the server"


async def test_a_fenced_token_goes_only_to_its_hosts(mcp_server: McpTestServer, chat_api: MockChatApi) -> None:
    fenced = Credentials({"mcpToken": (mcp_server.token, ["mcp.example.com"]),
                          "openai": ("sk-test-key", ["api.openai.com"])})
    async with worker(credentials=fenced) as context:
        message = await refused(tool(mcp_server.url, credentialName="mcpToken"), context)
        assert (f"refused: credential 'mcpToken' may only be sent to mcp.example.com; this request goes to "
                f"127.0.0.1:{mcp_server.port}") in message
        message = await refused(llm(chat_api.base_url, credentialName="openai"), context)
        assert "credential 'openai' may only be sent to api.openai.com" in message
    assert mcp_server.authorizations == [] and chat_api.received == []
