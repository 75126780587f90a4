"""The engine's view of a workflow: steps in topological order with their dependencies."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from pydantic import Field

from ._base import Contract
from .node_types import Completion, NodeSettings


class Pin(Contract):
    """A pinned step's output (POST /v1/runs `pinData`): the step is not executed; it succeeds with this when it
    becomes ready. `handles`: the outputs it takes, where the node type says (a loop goes on from `done`); None:
    every output, as a step with one output."""

    output: Any = None
    handles: list[str] | None = None


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
    completes: Completion = Field(default="worker", description="how the step completes (its node type's declaration)")
    body: list[str] | None = Field(default=None, description="a loop: the steps of its body (reachable from 'each'), "
                                   "in run order")
    inLoop: str | None = Field(default=None, description="a step of a loop's body: that (innermost) loop's id")
    reads: list[str] | None = Field(
        default=None,
        description="the earlier steps its templates read, so a dispatch carries only their outputs; None: it may "
        "read any step before it (a template that names steps dynamically, or a DAG compiled before this field)",
    )
    pin: Pin | None = Field(default=None, description="pinned (POST /v1/runs pinData): not executed; it succeeds "
                            "with this output when it becomes ready")
    outsideRunTo: str | None = Field(
        default=None, description="a partial run (POST /v1/runs runTo): the id of the step under test, when this "
        "step is not needed for it; it is skipped when the run starts")


class Dag(Contract):
    """Never changed once compiled, so its lookups are computed once and shared by every copy of a run."""

    workflowName: str
    steps: list[DagStep]

    # cached_property, not PrivateAttr: a private attribute is read through pydantic's __getattr__, which showed in
    # the orchestrator's profile; a cached property is a plain instance attribute once computed.
    @cached_property
    def _positions(self) -> dict[str, int]:
        return {step.id: index for index, step in enumerate(self.steps)}

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {step.id: [] for step in self.steps}
        for step in self.steps:
            for dep in step.deps:
                children[dep].append(step.id)
        return children

    def position(self, step_id: str) -> int:
        return self._positions[step_id]

    def has(self, step_id: str) -> bool:
        try:
            self.position(step_id)
        except KeyError:
            return False
        return True

    def step(self, step_id: str) -> DagStep:
        return self.steps[self.position(step_id)]

    def children(self, step_id: str) -> list[str]:
        return self._children[step_id]

    def ancestors(self, step_id: str) -> set[str]:
        found: set[str] = set()
        frontier = list(self.step(step_id).deps)
        while frontier:
            ancestor = frontier.pop()
            if ancestor not in found:
                found.add(ancestor)
                frontier.extend(self.step(ancestor).deps)
        return found
