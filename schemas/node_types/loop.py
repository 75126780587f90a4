"""loop: for each item of a list, run the body (every node after the `each` output) once, then go on from `done`.

Each item runs as a child run of its own (orchestrator/completions/loop.py), so an item's steps have their own
states, attempts and outputs, and a kill of any process loses no item."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .._base import Contract
from ._registry import REGISTRY, FieldUi, Handle, NodeType, NodeUi

# Items one loop may have (AUTOMATEOS_MAX_LOOP_ITEMS): more fails the step, naming the count.
MAX_LOOP_ITEMS = 10_000
MAX_LOOP_CONCURRENCY = 64


class LoopConfig(Contract):
    items: str = Field(min_length=1, max_length=8192, description="a template that gives a JSON array")
    concurrency: int = Field(default=1, ge=1, le=MAX_LOOP_CONCURRENCY, description="items run at once, 1–64")
    onItemError: Literal["stop", "continue"] = Field(
        default="stop", description="stop: the first failed item fails the loop; continue: it is counted, the rest run")


LOOP = REGISTRY.register(NodeType(
    order=55,
    type="loop", kind="logic", title="Loop", description="Run the steps after 'each' once per item of a list",
    config=LoopConfig, completes="children", body_output="each", templated={"items": "value"},
    outputs=(Handle(id="each", label="each"), Handle(id="done", label="done")),
    ui=NodeUi(
        glyph="↻", accent="#7c3aed", defaultLabel="Loop", summary="{items}", idPrefix="loop",
        defaults={"items": "", "concurrency": 1, "onItemError": "stop"},
        outputFields={"count": "how many items", "succeeded": "items that succeeded", "failed": "items that failed",
                      "results": "per item, in order: {index, status, output, error}"},
        fields={
            "items": FieldUi(widget="text", label="Items", order=0, templated=True, monospace=True,
                             placeholder="{{ steps.http_1.output.body.orders }}",
                             help="One {{ expression }} that gives a list. The steps after 'each' run once per item "
                                  "and read it as {{ loop.item }} (and loop.index); the steps after 'done' run once, "
                                  "when every item has."),
            "concurrency": FieldUi(widget="number", label="Items at once", order=1, placeholder="1",
                                   help="1 runs the items one after another; up to 64 run side by side."),
            "onItemError": FieldUi(widget="select", label="When an item fails", order=2,
                                   optionLabels={"stop": "Stop the loop (it fails)",
                                                 "continue": "Go on with the other items"}),
        },
    ),
))
