"""What a loop's item run is made of: the loop's body alone, entered through a copy of the loop step.

Pure. The entry step completes as a trigger would, its output the item ({item, index, parent}), so the body's
first steps hang off it as they hung off the loop's `each`, and `steps.<loop id>` in the body is the item. The
steps before the loop that the body reads come along as `outer` (their outputs, or references to them)."""

from __future__ import annotations

from typing import Any

from schemas import Dag, RunRecord



def item_dag(dag: Dag, loop_id: str) -> Dag:
    loop = dag.step(loop_id)
    body = set(loop.body or [])
    entry = loop.model_copy(update={"deps": [], "branches": {}, "completes": "trigger", "body": None, "inLoop": None,
                                    "settings": None, "reads": [], "pin": None,
                                    "outsideRunTo": None})
    steps = [entry] + [
        step.model_copy(update={"inLoop": None}) if step.inLoop == loop_id else step
        for step in dag.steps if step.id in body
    ]
    return Dag(workflowName=dag.workflowName, steps=steps)


def outer_outputs(parent: RunRecord, loop_id: str) -> dict[str, dict[str, Any]]:
    """What the steps before the loop left that its body's templates read (all of them when one reads any step)."""
    dag = parent.dag
    body = set(dag.step(loop_id).body or [])
    wanted: set[str] = set()
    for step_id in body:
        reads = dag.step(step_id).reads
        if reads is None:
            wanted |= dag.ancestors(loop_id) | set(parent.outer)
        else:
            wanted |= {read for read in reads if read not in body and read != loop_id}
    outer: dict[str, dict[str, Any]] = {}
    for step_id in sorted(wanted):
        left = parent.left_by(step_id)
        if left is not None:
            outer[step_id] = left
    return outer


def item_record(parent: RunRecord, loop_id: str, run_id: str, index: int, item: Any, dag: Dag,
                outer: dict[str, dict[str, Any]], inputs_ref: str | None) -> RunRecord:
    """An item's run. With `inputs_ref`, the parent's inputs are stored apart and every item refers to them."""
    record = RunRecord.new(run_id, dag, {} if inputs_ref else parent.inputs, trigger="loop", started_by=parent.startedBy,
                           workflow_id=parent.workflowId, workflow_version=parent.workflowVersion,
                           parent_run_id=parent.id, parent_step_id=loop_id, depth=parent.depth, chain=parent.chain)
    record.itemIndex = index
    record.loop = {"item": item, "index": index, "parent": parent.loop}
    record.outer = outer
    record.inputsRef = inputs_ref
    return record
