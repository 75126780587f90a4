from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bus import Bus, BusSettings, EmbeddedNats, free_port
from tests.support.mock_http import MockHttp
from tests.support.stack import Stack

# Short enough that a redelivery after a killed worker happens within a test, long enough for a slow CI machine.
TEST_BUS_SETTINGS = BusSettings(step_ack_wait_s=3.0, duplicate_window_s=60.0)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A fresh nats-server per test: free port, temporary store, nothing shared between tests."""
    with EmbeddedNats(tmp_path / "nats", port=free_port()) as server:
        yield server


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
