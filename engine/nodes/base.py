"""What every executor gets and gives back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from schemas import LogEntry, StepDispatch, StepRequest
from schemas.node_types import MAX_LOOP_ITEMS
from schemas.masking import Scrubber


class Credentials(Protocol):
    async def reveal_fenced(self, name: str) -> tuple[str, list[str]]:
        """The value, and the hosts it may be sent to (empty: anywhere)."""
        ...


@dataclass
class NodeContext:
    """What a worker brings to every step: its HTTP session and, if it has the master key, the credentials."""

    session: aiohttp.ClientSession
    credentials: Credentials | None = None  # None: this worker has no master key, so no credential works
    max_loop_items: int = MAX_LOOP_ITEMS  # AUTOMATEOS_MAX_LOOP_ITEMS


@dataclass
class StepContext:
    """What an executor gets beside its rendered config: the step, the session, the secrets it may use."""

    dispatch: StepDispatch
    session: aiohttp.ClientSession
    secrets: dict[str, str] = field(default_factory=dict)  # credential name -> value, for credential fields
    scrub: Scrubber = field(default_factory=lambda: Scrubber([]))  # for executors that must scrub before cutting
    max_loop_items: int = MAX_LOOP_ITEMS


@dataclass
class NodeOutcome:
    output: Any = None
    logs: list[LogEntry] = field(default_factory=list)
    request: StepRequest | None = None
    handles: list[str] | None = None  # the output handles taken; None: all of them


Executor = Callable[[Any, StepContext], Awaitable[NodeOutcome]]
"""An executor receives its node type's config model, already rendered and validated."""
