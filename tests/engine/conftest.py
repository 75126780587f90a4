from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from engine.nodes import NodeContext


class RecordingCredentials:
    """A credential store that says which names were asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: list[str] = []

    async def reveal_fenced(self, name: str) -> tuple[str, list[str]]:
        self.asked.append(name)
        return self.values[name], []


CODE_CANARY = "canary-c0de-5ecret-0123456789"


@pytest.fixture
async def code_context() -> AsyncIterator[NodeContext]:
    """What a worker gives a code step: a session (unused by it) and a credential store holding apiToken."""
    async with aiohttp.ClientSession() as session:
        yield NodeContext(session=session, credentials=RecordingCredentials({"apiToken": CODE_CANARY}))
