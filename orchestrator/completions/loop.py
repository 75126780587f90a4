"""loop: the step runs its body once per item, each item as a child run of its own, then goes on from `done`.

An item's run is the body alone, entered through a copy of the loop step whose output is the item
(orchestrator/item_runs.py builds it), so every rule about steps (retries, branches, delays, waits, nested
loops) holds inside an item unchanged, each item's steps have their own states, attempts and outputs, and the
loop's own state stays the same size however many items there are: counts, and the indexes of the items in
flight (at most `concurrency`). Items start in index order, so those started are `done + len(running)`.

The body's steps in this run show the items' progress, and end, when the loop does, as they went across them.
Once every item has ended the actor gathers their results (the loop's output) and reports them back.
"""

from __future__ import annotations

from typing import Any

from schemas import RunRecord
from schemas.items import item_run_id
from schemas.runs import ItemProgress, StepState

from ..change import Change, ChildRun, Transition, run_failing
from .base import ChildOutcome, Collected, StepHandler


class Loop(StepHandler):
    def begin(self, change: Change, step_id: str, prepared: Any) -> None:
        items = prepared.get("items") if isinstance(prepared, dict) else None
        if not isinstance(items, list):
            change.fail_attempt(step_id, "items did not give a list")
            return
        dag_step = change.record.dag.step(step_id)
        step = change.step(step_id)
        step.status = "running"
        step.items = ItemProgress(total=len(items))
        for body_id in dag_step.body or []:
            if change.record.step(body_id).status != "queued":
                continue  # skipped at the start of a partial run (runTo): it runs in no item
            body = change.step(body_id)
            body.status = "running"
            body.pinned = change.record.dag.step(body_id).pin is not None  # in every item
            body.dispatchedAt = body.startedAt = change.now
            body.items = ItemProgress(total=len(items))
            change.step_changed(body)
        concurrency = int(dag_step.config.get("concurrency", 1))
        change.say(f"{step.name}: {len(items)} item{'s' if len(items) != 1 else ''}"
                   + (f", {concurrency} at a time" if concurrency > 1 and len(items) > 1 else ""), step_id=step_id)
        self._start_more(change, step)
        change.step_changed(step)
        if not items:
            change.collect.append(step_id)

    def child_finished(self, change: Change, step_id: str, outcome: ChildOutcome) -> None:
        unchanged = change.record.step(step_id)
        if unchanged.status != "running" or unchanged.items is None:
            return
        if outcome.index is None or outcome.index not in unchanged.items.running:
            if unchanged.items.done == unchanged.items.total:
                change.collect.append(step_id)  # told again after a crash: the gathering may not have happened
            return
        step = change.step(step_id)
        progress = step.items.model_copy(deep=True) if step.items is not None else ItemProgress()
        progress.running.remove(outcome.index)
        progress.done += 1
        if outcome.status == "succeeded":
            progress.succeeded += 1
        else:
            progress.failed += 1
        step.items = progress
        for body_id, status in (outcome.steps or {}).items():
            if change.record.dag.has(body_id):
                _count(change, body_id, status)
        config = change.record.dag.step(step_id).config
        if outcome.status != "succeeded" and config.get("onItemError", "stop") == "stop":
            self._cancel_running(change, step)
            self._end_body(change, step_id, handled=False)
            change.fail_attempt(step_id, f"item {outcome.index} {outcome.status}: {outcome.error or 'no reason given'}"
                                " (the loop stops at a failed item; set 'When an item fails' to go on)")
            return
        self._start_more(change, step)
        change.step_changed(step)
        if progress.done == progress.total:
            change.collect.append(step_id)

    def collected(self, change: Change, step_id: str, collected: Collected) -> None:
        step = change.record.step(step_id)
        if step.status != "running" or step.items is None or step.items.done < step.items.total:
            return
        if collected.error is not None:
            self._end_body(change, step_id, handled=False)
            change.fail_attempt(step_id, collected.error)
            return
        self._end_body(change, step_id, handled=True)
        items = step.items
        change.succeed(step_id, collected.output, ["done"], output_ref=collected.output_ref,
                       said=f"{step.name}: {items.succeeded} of {items.total} items succeeded"
                            + (f", {items.failed} failed" if items.failed else ""))

    def stop(self, change: Change, step_id: str, why: str) -> bool:
        step = change.record.step(step_id)
        if step.status in ("running", "cancelled") and step.items is not None:  # cancelled: told again after a crash
            self._cancel_running(change, step)
        return False

    def in_flight(self, record: RunRecord, step_id: str, transition: Transition) -> None:
        step = record.step(step_id)
        if step.status != "running" or step.items is None:
            return
        transition.children.extend(ChildRun(item_run_id(record.id, step_id, index), step_id, index)
                                   for index in step.items.running)
        if step.items.done == step.items.total:
            transition.collect.append(step_id)

    def _start_more(self, change: Change, step: StepState) -> None:
        """Start items, in index order, until `concurrency` are running: none once the run is failing."""
        progress = step.items
        if progress is None or run_failing(change.record):
            return
        concurrency = int(change.record.dag.step(step.id).config.get("concurrency", 1))
        while len(progress.running) < concurrency and progress.done + len(progress.running) < progress.total:
            index = progress.done + len(progress.running)
            progress.running.append(index)
            change.children.append(ChildRun(item_run_id(change.record.id, step.id, index), step.id, index))

    def _cancel_running(self, change: Change, step: StepState) -> None:
        if step.items is not None:
            change.cancel_runs.extend(item_run_id(change.record.id, step.id, index) for index in step.items.running)

    def _end_body(self, change: Change, loop_id: str, handled: bool) -> None:
        """The body's steps end as they went across the items: failed in any (the run went on past it when the loop
        does), else succeeded in any, else skipped."""
        for body_id in change.record.dag.step(loop_id).body or []:
            body = change.step(body_id)
            progress = body.items or ItemProgress()
            if body.status not in ("running", "queued"):
                continue
            body.finishedAt = change.now
            if body.startedAt is not None:
                body.durationMs = (change.now - body.startedAt).total_seconds() * 1000
            if progress.failed:
                body.status = "failed"
                body.errorHandled = handled
                body.error = f"failed in {progress.failed} of {progress.total} items (see the items)"
            elif progress.succeeded:
                body.status = "succeeded"
            else:
                body.status = "skipped"
                body.skipReason = "it ran in no item" if progress.total else "the loop had no items"
            change.step_changed(body)


def _count(change: Change, body_id: str, status: str) -> None:
    body = change.step(body_id)
    progress = body.items.model_copy() if body.items is not None else ItemProgress()
    progress.done += 1
    if status == "succeeded":
        progress.succeeded += 1
    elif status in ("failed", "cancelled"):
        progress.failed += 1
    else:
        progress.skipped += 1
    body.items = progress
    change.step_changed(body)


LOOP = Loop()
