"""The engine's view of a workflow: steps in topological order with their dependencies."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import Contract
from .node_types import NodeSettings


class DagStep(Contract):
    id: str
    name: str
    type: str
    config: dict[str, Any] = Field(default_factory=dict)
    deps: list[str] = Field(default_factory=list)
    branches: dict[str, list[str]] = Field(
        default_factory=dict,
        description="parent id -> the parent's output handles this step hangs off; a parent not listed "
        "connects from its only output",
    )
    settings: NodeSettings | None = None


class Dag(Contract):
    workflowName: str
    steps: list[DagStep]

    def step(self, step_id: str) -> DagStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)
