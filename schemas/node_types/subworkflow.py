"""subworkflow: run another saved workflow as a child run, and (by default) go on with its output."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .._base import Contract
from ._registry import REGISTRY, FieldUi, NodeType, NodeUi

# How deep subworkflows may call subworkflows (AUTOMATEOS_MAX_SUBWORKFLOW_DEPTH).
MAX_SUBWORKFLOW_DEPTH = 8


class SubworkflowConfig(Contract):
    workflowId: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="the saved workflow to run (its id)")
    version: int | None = Field(default=None, ge=1, description="default: the live version if it is active, else "
                                "the latest")
    inputs: dict[str, Any] = Field(default_factory=dict, description="the child run's inputs (templated)")
    waitForCompletion: bool = Field(default=True, description="wait for the child run to end and take its output")


SUBWORKFLOW = REGISTRY.register(NodeType(
    order=58,
    type="subworkflow", kind="action", title="Subworkflow", description="Run another saved workflow",
    config=SubworkflowConfig, completes="children", templated={"inputs": "value"},
    ui=NodeUi(
        glyph="⧉", accent="#4f46e5", defaultLabel="Subworkflow", summary="{workflowId}", idPrefix="sub",
        errorHandling=True, defaults={"workflowId": "", "inputs": {}, "waitForCompletion": True},
        outputFields={"runId": "the child run's id", "status": "how the child run ended",
                      "output": "its last step's output (an object by step id when it has several)"},
        fields={
            "workflowId": FieldUi(widget="workflow", label="Workflow", order=0),
            "version": FieldUi(widget="number", label="Version", order=1,
                               help="Empty: the live version when the workflow is active, else its latest."),
            "inputs": FieldUi(widget="valueMap", label="Inputs", order=2, templated=True,
                              placeholder="{{ payload.body.id }}",
                              help="The child run's inputs; put a payload key here to hand it a payload."),
            "waitForCompletion": FieldUi(widget="switch", label="Wait for it to finish", order=3,
                                         help="Off: go on at once, with the child run's id only."),
        },
    ),
))
