"""One change to a run, as it is built: the record's copy, the events that say what changed, and what to send.

The state machine (state.py) and the completion handlers (completions/) both change runs through `Change`, so
the rules every step follows (how an attempt ends, what becomes ready, when the run is over) are written once,
here, and a handler only says what is particular to its node type. Pure: no I/O, no clock, no randomness.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from schemas import (
    FINISHED_STEP_STATUSES,
    MAX_LOGS_PER_RUN,
    LogEntry,
    LogEvent,
    RunRecord,
    RunStatus,
    RunStatusEvent,
    StepAttempt,
    StepDispatch,
    StepEvent,
    StepRequest,
    StepResult,
    StepState,
    TimerDue,
)
from schemas.items import child_run_id as child_run_id
from schemas.masking import mask_fields
from schemas.node_types import NodeSettings
from schemas.runs import LogLevel, human_duration

# Steps that are neither done nor startable yet.
UNFINISHED = frozenset({"queued", "running", "waiting"})

Event = RunStatusEvent | StepEvent | LogEvent
TimerKind = Literal["retry", "delay", "timeout"]
Readiness = Literal["wait", "run", "skip"]


@dataclass(frozen=True)
class WorkflowCall:
    """A child run of a saved workflow named by the handler itself (an agent's tool call), rather than by the
    step's rendered config (a subworkflow's)."""

    workflow_id: str
    version: int | None
    inputs: dict[str, Any]
    trigger: Literal["agent"] = "agent"


@dataclass(frozen=True)
class ChildRun:
    """A run to start for a step: a loop's item (`index`), a subworkflow's run, or a workflow the handler names
    (`workflow`). The actor creates it; its id is derived from the step, so creating it again after a crash finds
    the one made before."""

    run_id: str
    step_id: str
    index: int | None = None
    workflow: WorkflowCall | None = None


@dataclass
class Transition:
    """What to do after a change. `record` is None when nothing needs writing."""

    record: RunRecord | None
    events: list[Event] = field(default_factory=list)
    dispatches: list[StepDispatch] = field(default_factory=list)
    timers: list[TimerDue] = field(default_factory=list)
    abort: bool = False
    drop_timers: bool = False  # steps that were waiting stopped waiting: their timers can go
    note: str | None = None  # why nothing changed, for the actor's debug log
    children: list[ChildRun] = field(default_factory=list)  # runs to create and start
    cancel_runs: list[str] = field(default_factory=list)  # child runs to cancel
    collect: list[str] = field(default_factory=list)  # loops whose items all ended: gather their results
    describe: list[str] = field(default_factory=list)  # steps whose saved workflows (an agent's tools) to describe


class Change:
    """Accumulates one transition's changes on a copy of the record."""

    def __init__(self, record: RunRecord, now: datetime) -> None:
        # Copied: the record, its lists, and each step the transition touches, when it first touches it. The
        # DAG, the inputs and every other step are shared, so a change costs what it changes, not the run's size.
        self.record = record.model_copy(update={"steps": list(record.steps), "logs": list(record.logs)})
        self._copied: set[int] = set()
        self.now = now
        self.events: list[Event] = []
        self.dispatches: list[StepDispatch] = []
        self.timers: list[TimerDue] = []
        self.children: list[ChildRun] = []
        self.cancel_runs: list[str] = []
        self.collect: list[str] = []
        self.describe: list[str] = []
        self.drop_timers = False

    # -- the record and its events -----------------------------------------------------------------------------

    def step(self, step_id: str) -> StepState:
        """The step, to change: the record's own copy."""
        position = self.record.dag.position(step_id)
        if position not in self._copied:
            self.record.steps[position] = self.record.steps[position].model_copy()
            self._copied.add(position)
        return self.record.steps[position]

    def _seq(self) -> int:
        self.record.eventSeq += 1
        return self.record.eventSeq

    def run_status(self, status: RunStatus, error: str | None = None) -> None:
        self.record.status = status
        self.record.error = error
        self.events.append(RunStatusEvent(runId=self.record.id, seq=self._seq(), ts=self.now, status=status, error=error))

    def queued_event(self) -> None:
        self.events.append(RunStatusEvent(runId=self.record.id, seq=self._seq(), ts=self.now, status="queued"))

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

    def done(self) -> Transition:
        """The transition; with no events it changed nothing (a repeat), so nothing is written, but what it asks
        for (children, gathering) is still done."""
        self.record.updatedAt = self.now
        return Transition(self.record if self.events else None, self.events, self.dispatches, self.timers, drop_timers=self.drop_timers,
                          children=self.children, cancel_runs=self.cancel_runs, collect=self.collect,
                          describe=self.describe)

    # -- what a handler does with its step ---------------------------------------------------------------------

    def send_to_worker(self, step_id: str, call: str | None = None) -> None:
        """Dispatch the step to the engine workers (all of it, or, for a step the orchestrator completes, the
        rendering of its templates first). Recorded as an event like any change: a dispatched step is one to send
        again after a crash. With `call`: one of the calls a handler makes in an attempt (the handler records it in
        the step, and its `dispatch` hook says what it carries); its result goes to the handler's `worker_result`."""
        if call is not None:
            self.dispatches.append(dispatch_for(self.record, self.record.step(step_id), call))
            return
        step = self.step(step_id)
        step.dispatchedAt = self.now
        self.step_changed(step)
        self.dispatches.append(dispatch_for(self.record, step))

    def wait_until(self, step_id: str, until: datetime, kind: TimerKind, said: str | None = None) -> StepState:
        """The step waits, holding no worker, until a timer of `kind` fires (or, for a wait, an answer comes)."""
        step = self.step(step_id)
        step.status = "waiting"
        step.attempt = max(step.attempt, 1)
        step.startedAt = step.startedAt or self.now
        step.dispatchedAt = step.dispatchedAt or self.now
        step.waitUntil = until
        self.step_changed(step)
        if said:
            self.say(said, step_id=step.id)
        self.timers.append(timer_for(self.record, step, kind))
        return step

    def succeed(self, step_id: str, output: Any, handles: list[str] | None = None, output_ref: str | None = None,
                said: str | None = None) -> None:
        """The step ends well, now: recorded as its attempt, then what it made ready starts."""
        step = self.step(step_id)
        step.status = "succeeded"
        step.attempt = max(step.attempt, 1)
        step.startedAt = step.startedAt or self.now
        step.finishedAt = self.now
        step.durationMs = (self.now - step.startedAt).total_seconds() * 1000
        step.waitUntil = None
        step.output = output
        step.outputRef = output_ref
        step.handles = handles
        step.attempts = [*step.attempts, StepAttempt(attempt=step.attempt, status="succeeded",
                                                     startedAt=step.startedAt, finishedAt=self.now,
                                                     durationMs=step.durationMs)]
        self.step_changed(step)
        if said:
            self.say(said, step_id=step.id)
        advance(self, step.id)
        settle_run(self)

    def fail_attempt(self, step_id: str, error: str, retryable: bool = False, output: Any = None) -> None:
        """The step's current attempt failed as a worker's would: retried, gone on from, or the run fails."""
        step = self.record.step(step_id)
        failure = StepResult(runId=self.record.id, stepId=step_id, status="failed", attempt=max(step.attempt, 1),
                             startedAt=step.startedAt or self.now, finishedAt=self.now, output=output, error=error,
                             retryable=retryable,
                             durationMs=(self.now - (step.startedAt or self.now)).total_seconds() * 1000)
        finish_attempt(self, failure, None)


# -- how a worker's attempt ends ----------------------------------------------------------------------------------

def finish_attempt(change: Change, result: StepResult, output_ref: str | None) -> None:
    """A final report about one attempt: recorded, then retried, gone on from, or the run stops starting steps."""
    record = change.record
    step = change.step(result.stepId)
    for entry in result.logs:
        change.log(entry)
    settings = record.dag.step(step.id).settings or NodeSettings()
    attempt = StepAttempt(
        attempt=result.attempt, status=result.status, startedAt=step.startedAt or result.startedAt,
        finishedAt=result.finishedAt or change.now, durationMs=result.durationMs, error=result.error,
        worker=result.worker or None,
    )
    step.startedAt = step.startedAt or result.startedAt
    step.durationMs = result.durationMs
    step.attempt = result.attempt
    step.output = None if output_ref else result.output
    step.request = None if output_ref else result.request
    step.outputRef = output_ref
    step.error = result.error
    step.worker = result.worker or step.worker
    step.handles = result.handles

    retry = settings.retry
    if result.status == "failed" and result.retryable and result.attempt < retry.maxAttempts and not run_failing(record):
        wait_ms = retry.wait_ms(result.attempt, f"{record.id}.{step.id}", result.retryAfterMs)
        # The step's own request and output are the latest attempt's; an earlier one keeps a short copy,
        # so ten attempts of 64 KiB answers cannot grow the record past what the bus carries.
        attempt.request = _compact(result.request)
        attempt.output = _compact(result.output)
        attempt.retryInMs = wait_ms
        step.attempts = [*step.attempts, attempt]
        step.status = "waiting"
        step.begun = False
        step.finishedAt = None
        step.waitUntil = change.now + timedelta(milliseconds=wait_ms)
        change.step_changed(step)
        change.say(
            f"{step.name}: attempt {result.attempt} of {retry.maxAttempts} failed: {result.error or 'no reason given'}; "
            f"retrying in {human_duration(wait_ms)}", "WARN", step.id,
        )
        change.timers.append(timer_for(change.record, step, "retry"))
        return

    step.attempts = [*step.attempts, attempt]
    step.finishedAt = result.finishedAt or change.now
    step.waitUntil = None
    step.status = result.status
    if result.status == "succeeded":
        if result.attempt > 1:
            change.say(f"{step.name}: succeeded on attempt {result.attempt}", step_id=step.id)
        change.step_changed(step)
        advance(change, step.id)
    elif result.status == "failed" and settings.onError == "continue":
        step.errorHandled = True
        change.step_changed(step)
        change.say(f"{step.name} failed{_why_final(result, retry.maxAttempts)}: "
                   f"{result.error or 'no reason given'}; the run goes on (its error handling says continue)",
                   "WARN", step.id)
        advance(change, step.id)
    else:
        change.step_changed(step)
        change.say(f"{step.name} {result.status}{_why_final(result, retry.maxAttempts)}: "
                   f"{result.error or 'no reason given'}", "ERROR", step.id)
        stop_starting(change)
    settle_run(change)


_KEPT_OF_EARLIER_ATTEMPTS = 4096


def _compact(value: Any) -> Any:
    """An earlier attempt's request or response with its body cut to 4 KiB (flagged `truncated`)."""
    if isinstance(value, StepRequest):
        return StepRequest.model_validate(_compact(value.model_dump()))
    if not isinstance(value, dict) or "body" not in value:
        return value
    body = value["body"]
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    if len(text) <= _KEPT_OF_EARLIER_ATTEMPTS:
        return value
    return {**value, "body": text[:_KEPT_OF_EARLIER_ATTEMPTS], "truncated": True}


def _why_final(result: StepResult, max_attempts: int) -> str:
    """Why a failure is the last word: retries spent ("on attempt 3 of 3"), or none tried, said plainly ("attempt 1
    of 3" for an error that was never going to be retried reads as if two more were coming)."""
    if result.status != "failed" or max_attempts <= 1:
        return ""
    if result.attempt >= max_attempts:
        return f" on attempt {result.attempt} of {max_attempts}"
    if not result.retryable:
        return " (not retried: trying again would fail the same way)" if result.attempt == 1 else \
            f" on attempt {result.attempt} (not retried: trying again would fail the same way)"
    return " (not retried: the run is failing)"


def run_failing(record: RunRecord) -> bool:
    """A step failed for good: the run will fail, so nothing new starts, not even a retry."""
    return any(s.status == "failed" and not s.errorHandled for s in record.steps)


# -- what becomes ready, and when the run is over -------------------------------------------------------------------

def stop_starting(change: Change) -> None:
    """After a failure nothing new starts. Steps already with a worker finish and are recorded as they end
    (their side effects happen either way); steps not yet sent are skipped, waits end, and child runs are
    cancelled (their handlers say which)."""
    from .completions import handler_for  # the handlers use this module

    for unchanged in list(change.record.steps):
        handler = handler_for(change.record.dag.step(unchanged.id))
        if unchanged.status in UNFINISHED and handler is not None and handler.stop(change, unchanged.id,
                                                                                    "the run failed"):
            continue
        if unchanged.status == "queued" and unchanged.dispatchedAt is None:
            other = change.step(unchanged.id)
            other.status = "skipped"
            other.skipReason = "an earlier step failed"
            change.step_changed(other)
        elif unchanged.status == "waiting":
            other = change.step(unchanged.id)
            change.drop_timers = True
            other.status = "cancelled"
            other.error = "the run failed while this step was waiting"
            other.waitUntil = None
            other.finishedAt = change.now
            change.step_changed(other)


def settle_run(change: Change) -> None:
    """Finish the run once no step is waiting, dispatched or running."""
    steps = change.record.steps
    if change.record.finished or any(s.status in UNFINISHED for s in steps):
        return
    # The run event says how it ended; the step's own ERROR log line already says why.
    failed = [s for s in steps if (s.status == "failed" and not s.errorHandled) or s.status == "cancelled"]
    if failed:
        change.run_status("failed", f"step '{failed[0].name}' {failed[0].status}: {failed[0].error or 'no reason given'}")
    else:
        change.run_status("succeeded")


def reaches(record: RunRecord, child_id: str, parent_id: str) -> bool:
    """Whether a finished parent reached the child: it succeeded (or failed with onError continue) and, when it
    branches, took an output the child hangs off."""
    parent = record.step(parent_id)
    if not (parent.status == "succeeded" or (parent.status == "failed" and parent.errorHandled)):
        return False
    wanted = record.dag.step(child_id).branches.get(parent_id)
    return wanted is None or parent.handles is None or bool(set(wanted) & set(parent.handles))


def readiness(record: RunRecord, step_id: str) -> tuple[Readiness, str | None]:
    """Whether a queued step can start: every parent finished and at least one reached it on a taken path.

    Parents skipped, or whose branch went elsewhere, are ignored; when no parent reaches it, the step is skipped,
    with why. A handler may have a rule of its own (a merge that goes on with the first parent)."""
    from .completions import handler_for

    dag_step = record.dag.step(step_id)
    handler = handler_for(dag_step)
    if handler is not None and (own := handler.readiness(record, step_id)) is not None:
        return own
    untaken: list[str] = []
    reached = False
    for parent_id in dag_step.deps:
        parent = record.step(parent_id)
        if parent.status in UNFINISHED:
            return "wait", None
        if reaches(record, step_id, parent_id):
            reached = True
        elif parent.status == "succeeded" or (parent.status == "failed" and parent.errorHandled):
            took = ", ".join(parent.handles or []) or "no output"
            untaken.append(f"'{parent.name}' took {took}, not {', '.join(dag_step.branches.get(parent_id, []))}")
    if reached:
        return "run", None
    if untaken:
        return "skip", "branch not taken: " + "; ".join(untaken)
    return "skip", "every step before it was skipped"


def advance(change: Change, step_id: str) -> None:
    """After a step finished: start the children it made ready, skip those it made unreachable, and so on."""
    frontier = [step_id]
    while frontier:
        for child_id in change.record.dag.children(frontier.pop()):
            child = change.record.step(child_id)
            if child.status != "queued" or child.dispatchedAt is not None:
                continue
            verdict, reason = readiness(change.record, child_id)
            if verdict == "run":
                begin(change, child_id)
            elif verdict == "skip":
                child = change.step(child_id)
                child.status = "skipped"
                child.skipReason = reason
                change.step_changed(child)
                frontier.append(child_id)


def begin(change: Change, step_id: str) -> None:
    """A ready step starts as its node type completes: at once (a trigger, whose output is what the run began
    with), in a worker, or through its handler, after a worker has rendered its templates if it has any."""
    from .completions import handler_for, renders_first

    dag_step = change.record.dag.step(step_id)
    if dag_step.pin is not None:
        complete_pinned(change, step_id)
        return
    if dag_step.completes == "trigger":
        change.succeed(step_id, entry_output(change.record))
        return
    handler = handler_for(dag_step)
    if dag_step.completes == "worker" or handler is None or renders_first(dag_step):
        change.send_to_worker(step_id)
        return
    step = change.step(step_id)
    step.begun = True
    step.dispatchedAt = change.now
    step.attempt = max(step.attempt, 1)
    handler.begin(change, step_id, None)


def complete_pinned(change: Change, step_id: str) -> None:
    """A pinned step is not executed, whatever its type: it succeeds at once with its pin (masked as any output:
    a pin is user data), taking the outputs the pin says, and what it made ready starts."""
    pin = change.record.dag.step(step_id).pin
    assert pin is not None
    step = change.step(step_id)
    step.pinned = True
    change.succeed(step_id, mask_fields(pin.output), pin.handles, said=f"{step.name}: pinned output used, not run")


def skip_outside_run_to(change: Change) -> None:
    """A partial run (runTo): the steps the step under test does not need are skipped, saying which step that is."""
    dag = change.record.dag
    for dag_step in dag.steps:
        target = dag_step.outsideRunTo
        if target is None or change.record.step(dag_step.id).status != "queued":
            continue
        name = f"'{dag.step(target).name}' ({target})" if dag.has(target) else target
        step = change.step(dag_step.id)
        step.status = "skipped"
        step.skipReason = f"a partial run to {name}: this step is not needed for it"
        change.step_changed(step)


def starts_without_parents(change: Change, step_id: str) -> bool:
    """Whether every parent of the step was left out of a partial run (so none will ever reach it)."""
    deps = change.record.dag.step(step_id).deps
    return bool(deps) and all(change.record.dag.step(dep).outsideRunTo is not None for dep in deps)


def entry_output(record: RunRecord) -> Any:
    """What a run's first step (its trigger) outputs: the item, in a loop's item run; else the run's inputs."""
    return record.loop if record.loop is not None else mask_fields(record.inputs)


# -- what goes out --------------------------------------------------------------------------------------------------

def dispatch_for(record: RunRecord, step: StepState, call: str | None = None) -> StepDispatch:
    from .completions import handler_for

    dag_step = record.dag.step(step.id)
    handler = handler_for(dag_step)
    config, steps = dag_step.config, None
    if handler is not None and (own := handler.dispatch(record, step.id, call)) is not None:
        config, steps = own
    return StepDispatch(
        runId=record.id, stepId=step.id, name=step.name, type=dag_step.type, attempt=max(step.attempt, 1),
        config=config, inputs=record.inputs, steps=upstream_outputs(record, step.id) if steps is None else steps,
        loop=record.loop, inputsRef=record.inputsRef, call=call,
    )


def timer_for(record: RunRecord, step: StepState, kind: TimerKind) -> TimerDue:
    assert step.waitUntil is not None
    attempt = step.attempt + 1 if kind == "retry" else max(step.attempt, 1)
    return TimerDue(runId=record.id, stepId=step.id, attempt=attempt, kind=kind, dueAt=step.waitUntil)


def upstream_outputs(record: RunRecord, step_id: str) -> dict[str, dict[str, Any]]:
    """What the earlier steps its templates read left for them (every earlier step, when the compiler could not
    tell which): succeeded ones, and failures the run went on after; in a loop's item run, the steps before the
    loop too. A large output travels as its reference, which the worker reads (bus/step_outputs.py), so a
    dispatch stays small however much came before it."""
    reads = record.dag.step(step_id).reads
    candidates = (record.dag.ancestors(step_id) | set(record.outer)) if reads is None else reads
    outputs: dict[str, dict[str, Any]] = {}
    for candidate in candidates:
        left = record.left_by(candidate)
        if left is not None:
            outputs[candidate] = left
    return outputs


def in_flight(record: RunRecord, among: list[str] | None = None) -> Transition:
    """What should be on its way for steps already sent (all, or `among`): after a crash, send it again.
    Message ids (runId.stepId.attempt) make the streams drop what had arrived; child runs are found by their id."""
    from .completions import handler_for

    transition = Transition(None)
    wanted = None if among is None else set(among)
    for s in record.steps:
        if wanted is not None and s.id not in wanted:
            continue
        handler = handler_for(record.dag.step(s.id))
        if s.begun and handler is not None:
            handler.in_flight(record, s.id, transition)
        # Only steps no worker has reported on: a running step's worker has it, and if that worker dies
        # JetStream redelivers its dispatch; sending it again could run it twice at once.
        elif s.status == "queued" and s.dispatchedAt is not None:
            transition.dispatches.append(dispatch_for(record, s))
        elif s.status == "waiting" and s.waitUntil is not None:
            transition.timers.append(timer_for(record, s, "retry"))
    return transition


def finished(step: StepState) -> bool:
    return step.status in FINISHED_STEP_STATUSES
