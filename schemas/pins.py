"""Pinned data and partial runs (POST /v1/runs `pinData`, `runTo`): how they are written into the run's DAG.

Decided (issue 20): they travel in the DAG the gateway compiles, step by step (`DagStep.pin`, `DagStep.outsideRunTo`),
so they are in the run's record as created, written once like the rest of the DAG, and a loop's item runs, whose DAG
is a copy of the body's steps, carry them without a word more. The state machine reads them, never the request.
Pure; shared by the gateway (and anyone who starts a run with them)."""

from __future__ import annotations

from typing import Any

from .dag import Dag, DagStep, Pin
from .errors import FieldIssue, WorkflowInvalid
from .node_types import REGISTRY


def pin_handles(step: DagStep, output: Any) -> list[str] | None:
    """The outputs a pinned step takes: a branching type's, read off the pin as its step would decide them (a
    ValueError says what the pin lacks); all but a body's (a pinned loop goes on from `done`, its body does not
    run); None, every output, for the others."""
    node_type = REGISTRY.get(step.type)
    if node_type is None:
        return None
    if node_type.pinned_handles is not None:
        return node_type.pinned_handles(step.config, output)
    if node_type.body_output is None:
        return None
    return [handle for handle in node_type.output_handles(step.config) if handle != node_type.body_output]


def needed_for(dag: Dag, target: str, pinned: set[str]) -> set[str]:
    """The steps a partial run to `target` runs: its triggers, it, and its ancestors as far as a pinned step (whose output is
    known without its parents), the loops whose bodies hold any of those (a body's steps run in its items), plus the
    whole body of a loop that runs (its output is its items' results) unless the target is inside that body."""
    needed: set[str] = set()
    # A trigger always: it costs nothing, and what it outputs is the run's inputs, which any template may read.
    frontier = [target, *(step.id for step in dag.steps if step.completes == "trigger")]
    while frontier:
        step_id = frontier.pop()
        if step_id in needed:
            continue
        needed.add(step_id)
        step = dag.step(step_id)
        if step.inLoop is not None:
            frontier.append(step.inLoop)  # a body's step runs in its loop's items, pinned or not
        if step_id not in pinned:
            frontier.extend(step.deps)
            if step.body and target not in step.body:
                frontier.extend(step.body)
    return needed


def partial_run(dag: Dag, inputs: dict[str, Any], pins: dict[str, Any], run_to: str | None,
                inputs_given: bool) -> tuple[Dag, dict[str, Any]]:
    """The DAG with `pins` and `runTo` written into its steps, and the run's inputs: a pinned trigger's output is what
    the run begins with, so it becomes the inputs (templates read `payload` there). Raises WorkflowInvalid naming
    `pinData.<id>` or `runTo` for a step the workflow does not have."""
    issues = [FieldIssue(field=f"pinData.{step_id}", reason="the workflow has no node with this id")
              for step_id in pins if not dag.has(step_id)]
    if run_to is not None and not dag.has(run_to):
        issues.append(FieldIssue(field="runTo", reason="the workflow has no node with this id"))
    for step_id, output in pins.items():
        if dag.has(step_id) and dag.step(step_id).completes == "trigger":
            if not isinstance(output, dict):
                issues.append(FieldIssue(field=f"pinData.{step_id}", nodeId=step_id, reason="a trigger's pinned output "
                                         "is what the run begins with (its inputs): an object, such as {\"payload\": "
                                         "{\"body\": …}} for a webhook"))
            elif inputs_given:
                issues.append(FieldIssue(field=f"pinData.{step_id}", nodeId=step_id, reason="a trigger's pinned output "
                                         "is the run's inputs: send inputs or pin the trigger, not both"))
    handles: dict[str, list[str] | None] = {}
    for step_id, output in pins.items():
        if dag.has(step_id):
            try:
                handles[step_id] = pin_handles(dag.step(step_id), output)
            except ValueError as lacking:
                issues.append(FieldIssue(field=f"pinData.{step_id}", nodeId=step_id, reason=str(lacking)))
    if issues:
        raise WorkflowInvalid(issues)
    if not pins and run_to is None:
        return dag, inputs
    needed = None if run_to is None else needed_for(dag, run_to, set(pins))
    steps: list[DagStep] = []
    for step in dag.steps:
        update: dict[str, Any] = {}
        if step.id in pins:
            update["pin"] = Pin(output=pins[step.id], handles=handles[step.id])
            if step.completes == "trigger":
                inputs = pins[step.id]
        if needed is not None and step.id not in needed:
            update["outsideRunTo"] = run_to
        steps.append(step.model_copy(update=update) if update else step)
    return Dag(workflowName=dag.workflowName, steps=steps), inputs
