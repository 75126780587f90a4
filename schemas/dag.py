"""The engine's view of a workflow: steps in topological order with their dependencies."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import Contract
from .nodes import StepType


class DagStep(Contract):
    id: str
    name: str
    type: StepType
    config: dict[str, Any] = Field(default_factory=dict)
    deps: list[str] = Field(default_factory=list)


class Dag(Contract):
    workflowName: str
    steps: list[DagStep]

    def step(self, step_id: str) -> DagStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)
