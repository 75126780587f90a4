"""What every node gets and gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from schemas import LogEntry, StepDispatch


class Credentials(Protocol):
    async def reveal(self, name: str) -> str: ...


@dataclass
class NodeContext:
    session: aiohttp.ClientSession
    credentials: Credentials | None = None  # None: this worker has no master key, so no credential works


@dataclass
class NodeOutcome:
    output: Any = None
    logs: list[LogEntry] = field(default_factory=list)


class Node(Protocol):
    async def __call__(self, dispatch: StepDispatch, context: NodeContext) -> NodeOutcome: ...
