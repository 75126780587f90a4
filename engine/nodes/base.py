"""What every node gets and gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from schemas import LogEntry, StepDispatch


@dataclass
class NodeContext:
    session: aiohttp.ClientSession


@dataclass
class NodeOutcome:
    output: Any = None
    logs: list[LogEntry] = field(default_factory=list)


class Node(Protocol):
    async def __call__(self, dispatch: StepDispatch, context: NodeContext) -> NodeOutcome: ...
