from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from automateos.settings import REPO_ROOT
from bus import Bus, BusSettings, EmbeddedNats, free_port, set_up_bus
from bus.permissions import password_variable
from tests.support.chat_api import MockChatApi
from tests.support.mcp_server import McpTestServer
from tests.support.mock_http import MockHttp
from tests.support.stack import NATS_PASSWORDS, Stack, run_in_thread

# Short enough that a redelivery after a killed worker happens within a test, long enough for a slow CI machine.
TEST_BUS_SETTINGS = BusSettings(step_ack_wait_s=3.0, duplicate_window_s=60.0)


class SecuredNats(EmbeddedNats):
    """The broker with nats.conf's users. `url` signs in as admin, for the tests' own clients (set-up, staging,
    inspecting); actors connect as their roles (their login overrides the URL's)."""

    @property
    def url(self) -> str:
        return f"nats://admin:{NATS_PASSWORDS['admin']}@{self.host}:{self.port}"


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A fresh nats-server per test, set up as `automateos up` sets one up: nats.conf with its users, free port,
    temporary store, nothing shared between tests. A test needing other bus settings calls `set_up_bus` again."""
    env = {**os.environ, **{password_variable(role): password for role, password in NATS_PASSWORDS.items()}}
    with SecuredNats(tmp_path / "nats", port=free_port(), config_file=REPO_ROOT / "nats.conf", env=env) as server:
        set_up_in_thread(server.url, TEST_BUS_SETTINGS)
        yield server


def set_up_in_thread(url: str, settings: BusSettings) -> None:
    """`set_up_bus` from a synchronous fixture: on a loop of its own, since the test's may be running."""
    run_in_thread(set_up_bus(url, settings))


@pytest.fixture
async def bus(nats_server: EmbeddedNats) -> AsyncIterator[Bus]:
    connected = await Bus.connect(nats_server.url, "test-client", TEST_BUS_SETTINGS, give_up_after=10)
    yield connected
    await connected.close()


@pytest.fixture
async def mock_http() -> AsyncIterator[MockHttp]:
    mock = await MockHttp().start()
    yield mock
    await mock.stop()


@pytest.fixture
async def stack_parts(nats_server: EmbeddedNats) -> AsyncIterator[Stack]:
    """A stack with nothing started: tests choose which actors run."""
    stack = Stack(nats_url=nats_server.url, bus_settings=TEST_BUS_SETTINGS)
    yield stack
    await stack.stop()


@pytest.fixture
async def stack(stack_parts: Stack) -> Stack:
    """Gateway, orchestrator and one engine worker in this process, on a real nats-server."""
    await stack_parts.start_orchestrator()
    await stack_parts.start_worker()
    await stack_parts.start_gateway()
    return stack_parts


@pytest.fixture
async def chat_api() -> AsyncIterator[MockChatApi]:
    """An OpenAI-compatible Chat Completions server (tests/support/chat_api.py), key `sk-test-key`."""
    api = await MockChatApi().start()
    yield api
    await api.stop()


@pytest.fixture
async def mcp_server() -> AsyncIterator[McpTestServer]:
    """An MCP server built with the SDK (tests/support/mcp_server.py), token `mcp-test-token`."""
    server = await McpTestServer().start()
    yield server
    await server.stop()
