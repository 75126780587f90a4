"""The run state machine: (record, input) -> Transition. Pure: no I/O, no clock, no randomness.

The actor feeds it messages and carries out what it returns, so every rule about runs lives
here and is unit-tested without a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas import (
    FINISHED_STEP_STATUSES,
    MAX_LOGS_PER_RUN,
    LogEntry,
    LogEvent,
    RunRecord,
    RunStatus,
    RunStatusEvent,
    StepDispatch,
    StepEvent,
    StepResult,
    StepState,
)
from schemas.masking import mask_fields
from schemas.runs import LogLevel

Event = RunStatusEvent | StepEvent | LogEvent


@dataclass
class Transition:
    """What to do after a change. `record` is None when nothing needs writing."""

    record: RunRecord | None
    events: list[Event] = field(default_factory=list)
    dispatches: list[StepDispatch] = field(default_factory=list)
    abort: bool = False
    note: str | None = None  # why nothing changed, for the actor's debug log


class _Builder:
    """Accumulates one transition's changes on a copy of the record."""

    def __init__(self, record: RunRecord, now: datetime) -> None:
        # Copy what a transition changes (the record, its steps, its log list); the DAG and inputs
        # are never changed and are shared. Cheaper than a deep copy by an order of magnitude.
        self.record = record.model_copy(update={"steps": [s.model_copy() for s in record.steps], "logs": list(record.logs)})
        self.now = now
        self.events: list[Event] = []
        self.dispatches: list[StepDispatch] = []

    def _seq(self) -> int:
        self.record.eventSeq += 1
        return self.record.eventSeq

    def run_status(self, status: RunStatus, error: str | None = None) -> None:
        self.record.status = status
        self.record.error = error
        self.events.append(RunStatusEvent(runId=self.record.id, seq=self._seq(), ts=self.now, status=status, error=error))

    def step_changed(self, step: StepState) -> None:
        self.events.append(StepEvent(runId=self.record.id, seq=self._seq(), ts=self.now, step=step.model_copy()))

    def log(self, entry: LogEntry) -> None:
        if len(self.record.logs) > MAX_LOGS_PER_RUN:
            return
        if len(self.record.logs) == MAX_LOGS_PER_RUN:
            entry = LogEntry(ts=self.now, level="WARN", msg=f"log limit of {MAX_LOGS_PER_RUN} lines reached")
        self.record.logs.append(entry)
        self.events.append(LogEvent(runId=self.record.id, seq=self._seq(), ts=self.now, log=entry))

    def say(self, msg: str, level: LogLevel = "INFO", step_id: str | None = None) -> None:
        self.log(LogEntry(ts=self.now, level=level, msg=msg, stepId=step_id))

    def dispatch(self, step: StepState) -> None:
        step.dispatchedAt = self.now
        self.dispatches.append(_dispatch_for(self.record, step))

    def done(self) -> Transition:
        self.record.updatedAt = self.now
        return Transition(self.record, self.events, self.dispatches)


def start(record: RunRecord, now: datetime) -> Transition:
    """queued → running: Start succeeds at once (it is the trigger) and its children are dispatched.

    On a record already running (a redelivered request after a crash), nothing is written but the
    steps that should be in flight are dispatched again; their message ids make the stream drop repeats.
    """
    if record.status != "queued":
        if record.status == "running":
            return Transition(None, dispatches=_ready_dispatches(record), note="already running")
        return Transition(None, note=f"run is {record.status}")
    change = _Builder(record, now)
    if record.eventSeq == 0:
        change.events.append(RunStatusEvent(runId=record.id, seq=change._seq(), ts=now, status="queued"))
    change.run_status("running")
    for step in change.record.steps:
        if record.dag.step(step.id).type == "start":
            step.status = "succeeded"
            step.startedAt = step.finishedAt = now
            step.durationMs = 0.0
            step.attempt = 1
            step.output = mask_fields(record.inputs)
            change.step_changed(step)
            _dispatch_children(change, step.id)
    _settle_run(change)
    return change.done()


def apply_result(record: RunRecord, result: StepResult, now: datetime) -> Transition:
    """A worker's report about one step."""
    try:
        step = next(s for s in record.steps if s.id == result.stepId)
    except StopIteration:
        return Transition(None, note=f"unknown step {result.stepId!r}")
    if record.finished:
        return Transition(None, note=f"run is already {record.status}")
    if step.status in FINISHED_STEP_STATUSES:
        # A repeat (redelivery after a crash): re-send what this step's completion should have dispatched.
        redo = _ready_children(record, step.id) if step.status == "succeeded" else []
        return Transition(None, dispatches=[_dispatch_for(record, s) for s in redo], note="step already finished")

    if result.status == "running" and step.status == "running" and step.attempt >= result.attempt:
        return Transition(None, note="already running")
    change = _Builder(record, now)
    step = change.record.step(result.stepId)
    if result.attempt > max(step.attempt, 1):
        change.say(f"{step.name}: attempt {result.attempt} (redelivered)", "WARN", step.id)
    if result.status == "running" or step.status == "queued":
        # A fast step reports once (no running notice): it is shown running first, as it was.
        step.status = "running"
        step.startedAt = result.startedAt
        step.attempt = result.attempt
        step.worker = result.worker
        change.step_changed(step)
        if result.status == "running":
            return change.done()
    step.startedAt = step.startedAt or result.startedAt
    step.finishedAt = result.finishedAt or now
    step.durationMs = result.durationMs
    step.attempt = max(step.attempt, result.attempt)
    step.output = result.output
    step.error = result.error
    step.worker = result.worker
    step.status = result.status
    change.step_changed(step)
    for entry in result.logs:
        change.log(entry)
    if result.status == "succeeded":
        # After a failure this finds nothing: every step not yet dispatched was skipped then.
        _dispatch_children(change, step.id)
    else:
        change.say(f"{step.name} {result.status}: {result.error or 'no reason given'}", "ERROR", step.id)
        # Nothing new starts once a step has failed. Steps already sent to a worker finish and are
        # recorded as they end (their side effects happen either way); the rest are skipped.
        for other in change.record.steps:
            if other.status == "queued" and other.dispatchedAt is None:
                other.status = "skipped"
                change.step_changed(other)
    _settle_run(change)
    return change.done()


def cancel(record: RunRecord, now: datetime, reason: str | None = None) -> Transition:
    if record.finished:
        return Transition(None, note=f"run is already {record.status}")
    change = _Builder(record, now)
    for step in change.record.steps:
        if step.status not in FINISHED_STEP_STATUSES:
            if step.status == "running":
                step.finishedAt = now
                if step.startedAt is not None:
                    step.durationMs = (now - step.startedAt).total_seconds() * 1000
            step.status = "cancelled"
            change.step_changed(step)
    change.say(f"Run cancelled{': ' + reason if reason else ''}", "WARN")
    change.run_status("cancelled")
    transition = change.done()
    transition.abort = True
    return transition


def failed_on_arrival(record: RunRecord, reason: str, now: datetime) -> Transition:
    """A request that cannot run (invalid workflow): recorded as a failed run so its sender can see why."""
    change = _Builder(record, now)
    change.say(reason, "ERROR")
    change.run_status("failed", reason)
    return change.done()


def _settle_run(change: _Builder) -> None:
    """Finish the run once no step is waiting, dispatched or running."""
    steps = change.record.steps
    if any(s.status in ("queued", "running") for s in steps):
        return
    # The run event says how it ended; the step's own ERROR log line already says why.
    failed = [s for s in steps if s.status in ("failed", "cancelled")]
    if failed:
        change.run_status("failed", f"step '{failed[0].name}' {failed[0].status}: {failed[0].error or 'no reason given'}")
    else:
        change.run_status("succeeded")


def _ready_children(record: RunRecord, step_id: str) -> list[StepState]:
    status = {s.id: s.status for s in record.steps}
    return [
        s
        for s, d in zip(record.steps, record.dag.steps, strict=True)
        if step_id in d.deps and s.status == "queued" and all(status[dep] == "succeeded" for dep in d.deps)
    ]


def _dispatch_children(change: _Builder, step_id: str) -> None:
    for child in _ready_children(change.record, step_id):
        change.dispatch(child)


def _dispatch_for(record: RunRecord, step: StepState) -> StepDispatch:
    dag_step = record.dag.step(step.id)
    return StepDispatch(
        runId=record.id, stepId=step.id, name=step.name, type=dag_step.type, config=dag_step.config,
        inputs=record.inputs, steps=_upstream_outputs(record, step.id),
    )


def _upstream_outputs(record: RunRecord, step_id: str) -> dict[str, dict[str, Any]]:
    """The outputs of every ancestor of a step (all succeeded, or it would not be dispatched)."""
    deps = {s.id: s.deps for s in record.dag.steps}
    seen: set[str] = set()
    frontier = list(deps[step_id])
    while frontier:
        ancestor = frontier.pop()
        if ancestor not in seen:
            seen.add(ancestor)
            frontier.extend(deps[ancestor])
    return {s.id: {"output": s.output} for s in record.steps if s.id in seen and s.status == "succeeded"}


def _ready_dispatches(record: RunRecord) -> list[StepDispatch]:
    status = {s.id: s.status for s in record.steps}
    return [
        _dispatch_for(record, s)
        for s, d in zip(record.steps, record.dag.steps, strict=True)
        if s.status == "queued" and d.deps and all(status[dep] == "succeeded" for dep in d.deps)
    ]

