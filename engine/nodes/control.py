"""The worker's part of control-flow steps: rendering what the orchestrator then acts on, and a merge's output.

A loop, a wait or a subworkflow completes in the orchestrator (orchestrator/completions/), which never renders
templates: a worker renders their configs here first, and its output is what the orchestrator's handler gets."""

from __future__ import annotations

from typing import Any

from schemas.node_types import LoopConfig, MergeConfig

from ..errors import StepFailed
from .base import NodeOutcome, StepContext


async def run_loop_items(config: LoopConfig, context: StepContext) -> NodeOutcome:
    items: Any = config.items
    if not isinstance(items, list):
        kind = "nothing" if items is None or items == "" else f"a {_json_kind(items)}"
        raise StepFailed(f"items must give a list (a JSON array), but it gave {kind}: write one {{{{ expression }}}} "
                         "that is a list, as {{ steps.http_1.output.body.orders }}")
    if len(items) > context.max_loop_items:
        raise StepFailed(f"items gave {len(items):,} items; a loop takes at most {context.max_loop_items:,} "
                         "(AUTOMATEOS_MAX_LOOP_ITEMS): split the list, or loop over pages")
    return NodeOutcome(output={"items": items})


async def run_rendered(config: Any, context: StepContext) -> NodeOutcome:
    """The config with its templates rendered (a wait's message, a subworkflow's inputs)."""
    return NodeOutcome(output=config.model_dump(mode="json"))


async def run_merge(config: MergeConfig, context: StepContext) -> NodeOutcome:
    """The orchestrator sent the outputs of the parents that reached the merge, in edge order (first: only the
    first to arrive): keyed by parent id, or, appending, as a list."""
    outputs = {parent: left.get("output") for parent, left in context.dispatch.steps.items()}
    if config.mode == "append":
        return NodeOutcome(output=list(outputs.values()))
    return NodeOutcome(output=outputs)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false value"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "object (not a list)"
    return type(value).__name__
