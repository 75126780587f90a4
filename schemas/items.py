"""A loop's items, as they are stored when each finishes and as GET /v1/runs/{id}/steps/{stepId}/items serves them."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import Field

from ._base import Contract
from .runs import RunStatus, StepStatus

# waiting: the item's step waits (a delay, a retry, an approval); skipped: the loop ended before the item ran.
ItemStatus = Literal["queued", "running", "waiting", "succeeded", "failed", "cancelled", "skipped"]


class ItemStep(Contract):
    """One body step in one item run."""

    status: StepStatus
    output: Any = None
    outputRef: str | None = None
    error: str | None = None
    durationMs: float | None = None


class ItemResult(Contract):
    """One item's run, once it ended: written by the orchestrator under `<runId>.<loopId>.i<index>` (step_outputs)."""

    index: int
    runId: str = Field(description="the item's run")
    status: RunStatus
    output: Any = Field(default=None, description="its body's terminal step's output (by step id when several)")
    outputRef: str | None = Field(default=None, description="the output is large and stored apart under this reference")
    error: str | None = None
    durationMs: float | None = None
    steps: dict[str, ItemStep] = Field(default_factory=dict)


class StepItem(Contract):
    index: int
    status: ItemStatus
    output: Any = None
    error: str | None = None
    durationMs: float | None = None
    runId: str | None = None


class StepItems(Contract):
    """GET /v1/runs/{runId}/steps/{stepId}/items: a loop body step, item by item, in index order."""

    items: list[StepItem]
    total: int


def child_run_id(parent_id: str, step_id: str, key: str) -> str:
    """A child run's id: the parent's time prefix (ids sort by creation), then a hash of where it comes from. Here,
    not in the orchestrator, because the gateway finds a loop's item runs by it too."""
    return parent_id[:12] + hashlib.sha256(f"{parent_id}/{step_id}/{key}".encode()).hexdigest()[:20]


def item_run_id(run_id: str, loop_id: str, index: int) -> str:
    """The run of item `index` of loop step `loop_id` of run `run_id`."""
    return child_run_id(run_id, loop_id, f"i{index}")


def item_ref(run_id: str, loop_id: str, index: int) -> str:
    return f"{run_id}.{loop_id}.i{index}"


def loop_output_ref(run_id: str, loop_id: str) -> str:
    return f"{run_id}.{loop_id}.results"
