"""subworkflow: the step starts a child run of a saved workflow and, waiting for it, ends as the child ends.

The child's id is derived from the step and its attempt, so a crash anywhere between deciding to start it and
starting it finds the same child again (orchestrator/actor.py creates it). A failed child fails the attempt as
a worker's failure would: retries and onError apply, and each retry is a new child run."""

from __future__ import annotations

from typing import Any

from schemas import RunRecord

from ..change import Change, ChildRun, Transition, child_run_id
from .base import ChildOutcome, StepHandler


class Subworkflow(StepHandler):
    def begin(self, change: Change, step_id: str, prepared: Any) -> None:
        step = change.step(step_id)
        step.attempt = max(step.attempt, 1)
        child = child_run_id(change.record.id, step_id, str(step.attempt))
        step.childRunId = child
        step.status = "running"
        step.startedAt = step.startedAt or change.now
        step.finishedAt = None
        change.children.append(ChildRun(child, step_id))
        change.step_changed(step)

    def child_started(self, change: Change, step_id: str, run_id: str) -> None:
        """Not waiting, the step is done once its child is recorded (until then, its rendered config, which the
        child is made from, stays its output, so a crash in between starts the child all the same)."""
        step = change.record.step(step_id)
        prepared = step.output if isinstance(step.output, dict) else {}
        if step.status != "running" or run_id != step.childRunId or prepared.get("waitForCompletion", True) is not False:
            return
        change.succeed(step_id, {"runId": run_id}, said=f"{step.name}: started run {run_id}, not waiting for it")

    def child_finished(self, change: Change, step_id: str, outcome: ChildOutcome) -> None:
        step = change.record.step(step_id)
        if step.status != "running" or outcome.run_id != step.childRunId:
            return  # a child of an earlier attempt, or one nobody waits for
        if outcome.status == "succeeded":
            if outcome.output_ref is not None:
                # Its output is large and stored apart: the step's output is that too (the worker reads it).
                change.succeed(step_id, None, output_ref=outcome.output_ref)
                return
            change.succeed(step_id, {"runId": outcome.run_id, "status": outcome.status, "output": outcome.output})
            return
        change.fail_attempt(step_id, f"run {outcome.run_id} {outcome.status}: {outcome.error or 'no reason given'}",
                            retryable=outcome.status == "failed",
                            output={"runId": outcome.run_id, "status": outcome.status})

    def stop(self, change: Change, step_id: str, why: str) -> bool:
        step = change.record.step(step_id)
        if step.status in ("running", "cancelled") and step.childRunId is not None:  # cancelled: told again
            change.cancel_runs.append(step.childRunId)
        return False

    def in_flight(self, record: RunRecord, step_id: str, transition: Transition) -> None:
        step = record.step(step_id)
        if step.childRunId is not None and step.status == "running":
            # Started again after a crash: the actor finds it made already, or makes it now.
            transition.children.append(ChildRun(step.childRunId, step_id))


SUBWORKFLOW = Subworkflow()
