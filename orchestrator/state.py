"""The run state machine: (record, input) -> Transition. Pure: no I/O, no clock, no randomness.

The actor feeds it messages and carries out what it returns, so every rule about runs lives here (and in
change.py, the rules every step follows, and completions/, what a node type's step does in the orchestrator) and
is unit-tested without a server. It names no node type: it dispatches on how a step completes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from schemas import (
    FINISHED_STEP_STATUSES,
    ResumeRequested,
    RunRecord,
    StepResult,
    StepState,
    TimerDue,
)

from .change import (
    Change,
    ChildRun,
    Event,
    Transition,
    advance,
    complete_pinned,
    dispatch_for,
    entry_output,
    finish_attempt,
    in_flight,
    settle_run,
    skip_outside_run_to,
    starts_without_parents,
)
from .completions import ChildOutcome, Collected, Described, handler_for

__all__ = ["ChildOutcome", "ChildRun", "Collected", "Described", "Event", "described", "Transition", "apply_result", "cancel", "child_finished", "child_started",
           "child_not_started", "collected", "derived_run_id", "failed_on_arrival", "gave_up", "resumed",
           "retry_cancel_of_unknown_run", "start", "timer_due"]


def start(record: RunRecord, now: datetime) -> Transition:
    """queued → running: Start succeeds at once (it is the trigger) and its children are dispatched.

    A partial run (runTo) first skips the steps it does not need; a pinned step whose parents it left out succeeds
    with its pin now (its parents would never finish), as a pinned trigger does.

    On a record already running (a redelivered request after a crash), nothing is written but the
    steps that should be in flight are dispatched again; their message ids make the stream drop repeats.
    """
    if record.status != "queued":
        if record.status == "running":
            resend = in_flight(record)
            resend.note = "already running"
            return resend
        return Transition(None, note=f"run is {record.status}")
    change = Change(record, now)
    if record.eventSeq == 0:
        change.queued_event()
    change.run_status("running")
    skip_outside_run_to(change)
    for dag_step in record.dag.steps:
        if change.record.step(dag_step.id).status != "queued":
            continue
        if dag_step.completes == "trigger" and dag_step.pin is None:
            step = change.step(dag_step.id)
            step.status = "succeeded"
            step.startedAt = step.finishedAt = now
            step.durationMs = 0.0
            step.attempt = 1
            step.output = entry_output(record)
            change.step_changed(step)
            advance(change, step.id)
        elif dag_step.pin is not None and (dag_step.completes == "trigger" or starts_without_parents(change, dag_step.id)):
            complete_pinned(change, dag_step.id)
    settle_run(change)
    return change.done()


def apply_result(record: RunRecord, result: StepResult, now: datetime, output_ref: str | None = None) -> Transition:
    """A worker's report about one attempt of one step. With `output_ref`, its output and request were stored
    apart under that reference (they are large): the step keeps the reference, not them.

    For a step the orchestrator completes (a loop, a wait, a subworkflow), the worker only rendered its templates:
    its success hands the rendered config to the step's handler, which begins the step's own part."""
    step, ignored = _open_step(record, result.stepId)
    if step is None:
        return ignored
    if result.attempt < step.attempt:
        return Transition(None, note=f"late report of attempt {result.attempt}; the step is on attempt {step.attempt}")
    if result.call is not None:
        return _call_result(record, step, result, now, output_ref)
    if step.status == "waiting" and result.attempt == step.attempt and not step.begun:
        # A repeat of the failure that scheduled the retry (redelivered after a crash): the timer may be lost.
        if result.status == "running":
            return Transition(None, note="running notice of an attempt that already failed")
        resend = in_flight(record, among=[step.id])
        resend.note = "retry already scheduled"
        return resend
    if step.status in FINISHED_STEP_STATUSES or (step.begun and result.attempt == step.attempt):
        if result.status == "running":
            return Transition(None, note="running notice after the step finished")
        # A repeat (redelivery after a crash): re-send what this step's completion should have sent.
        resend = in_flight(record, among=[step.id, *record.dag.children(step.id)])
        resend.note = "step already finished" if not step.begun or step.status in FINISHED_STEP_STATUSES \
            else "step already handed to its handler"
        return resend

    if result.status == "running" and step.status == "running" and step.attempt >= result.attempt:
        return Transition(None, note="already running")
    change = Change(record, now)
    step = change.step(result.stepId)
    if result.delivery > 1 and result.status != "running":
        change.say(f"{step.name}: attempt {result.attempt} was delivered {result.delivery} times (a worker stopped "
                   "mid-step)", "WARN", step.id)
    if result.status == "running" or step.status == "queued":
        # A fast step reports once (no running notice): it is shown running first, as it was.
        step.status = "running"
        step.startedAt = result.startedAt
        step.finishedAt = None
        step.durationMs = None
        step.attempt = result.attempt
        step.worker = result.worker
        change.step_changed(step)
        if result.status == "running":
            return change.done()
    dag_step = record.dag.step(step.id)
    handler = handler_for(dag_step)
    if result.status == "succeeded" and dag_step.completes not in ("worker", "trigger") and handler is not None:
        # Rendered: what the worker made of the config is the handler's to act on.
        for entry in result.logs:
            change.log(entry)
        step.output = None if output_ref else result.output
        step.outputRef = output_ref
        step.worker = result.worker
        step.begun = True
        handler.begin(change, step.id, result.output)
        return change.done()
    finish_attempt(change, result, output_ref)
    return change.done()


def _call_result(record: RunRecord, step: StepState, result: StepResult, now: datetime,
                 output_ref: str | None) -> Transition:
    """A report on one of the calls a handler made in the step's attempt: the handler's to act on."""
    handler = handler_for(record.dag.step(step.id))
    if handler is None or not step.begun or step.status != "running" or result.attempt != step.attempt:
        return Transition(None, note=f"report on call {result.call} of a step not running that attempt")
    if result.status == "running":
        return Transition(None, note=f"call {result.call} running")
    change = Change(record, now)
    for entry in result.logs:
        change.log(entry)
    handler.worker_result(change, step.id, result, output_ref)
    return change.done()


def timer_due(record: RunRecord, timer: TimerDue, now: datetime) -> Transition:
    """A timer is due: a retry's wait has ended, or a handler's (a delay's end, a wait's timeout)."""
    step, ignored = _open_step(record, timer.stepId)
    if step is None:
        return ignored
    current = step.status == "waiting" and (
        timer.attempt == step.attempt + 1 if timer.kind == "retry" and not step.begun
        else timer.kind != "retry" and step.begun and timer.attempt == max(step.attempt, 1))
    if not current:
        # Handled before, and the orchestrator stopped before acking: re-send what firing it sent.
        if timer.kind == "retry" and step.attempt == timer.attempt and step.status == "queued":
            return Transition(None, dispatches=[dispatch_for(record, step)], note="retry already started")
        if timer.kind != "retry" and step.status in FINISHED_STEP_STATUSES:
            resend = in_flight(record, among=record.dag.children(step.id))
            resend.note = f"{timer.kind} already over"
            return resend
        return Transition(None, note=f"stale {timer.kind} timer (step is {step.status}, attempt {step.attempt})")
    change = Change(record, now)
    if timer.kind == "retry":
        step = change.step(timer.stepId)
        step.waitUntil = None
        step.attempt = timer.attempt
        step.status = "queued"
        step.startedAt = step.finishedAt = None
        step.durationMs = None
        step.error = None
        step.dispatchedAt = now
        step.childRunId = None
        change.step_changed(step)
        change.dispatches.append(dispatch_for(change.record, step))
        return change.done()
    handler = handler_for(record.dag.step(step.id))
    if handler is None:
        return Transition(None, note=f"no handler for a {timer.kind} timer of step {step.id}")
    handler.timer(change, step.id, timer)
    return change.done()


def resumed(record: RunRecord, resume: ResumeRequested, now: datetime) -> Transition:
    """A waiting step's resume URL was called: its handler goes on with what was sent."""
    step, ignored = _open_step(record, resume.stepId)
    if step is None:
        return ignored
    if step.status != "waiting" or not step.begun or step.attempt != resume.attempt:
        return Transition(None, note=f"resume of a step that is not waiting for it (it is {step.status})")
    handler = handler_for(record.dag.step(step.id))
    if handler is None:
        return Transition(None, note=f"step {step.id} cannot be resumed")
    change = Change(record, now)
    handler.resumed(change, step.id, resume)
    return change.done()


def child_started(record: RunRecord, step_id: str, run_id: str, now: datetime) -> Transition:
    """A child run one of its steps asked for is recorded."""
    step, ignored = _open_step(record, step_id)
    if step is None:
        return ignored
    handler = handler_for(record.dag.step(step_id))
    if handler is None or not step.begun:
        return Transition(None, note=f"step {step_id} started no child runs")
    change = Change(record, now)
    handler.child_started(change, step_id, run_id)
    return change.done()


def child_finished(record: RunRecord, step_id: str, outcome: ChildOutcome, now: datetime) -> Transition:
    """A child run one of its steps started has ended (told again after a crash: the handler tells a repeat)."""
    step, ignored = _open_step(record, step_id)
    if step is None:
        return ignored
    handler = handler_for(record.dag.step(step_id))
    if handler is None or not step.begun:
        return Transition(None, note=f"step {step_id} started no child runs")
    change = Change(record, now)
    handler.child_finished(change, step_id, outcome)
    return change.done()


def child_not_started(record: RunRecord, step_id: str, attempt: int, reason: str, now: datetime,
                      run_id: str | None = None) -> Transition:
    """A child run could not be started (no such workflow, too deep): its handler says what follows (by default
    the step's attempt fails, saying why)."""
    step, ignored = _open_step(record, step_id)
    if step is None:
        return ignored
    if step.attempt != attempt or step.status not in ("running", "waiting") or not step.begun:
        return Transition(None, note="child of an attempt that is over")
    handler = handler_for(record.dag.step(step_id))
    change = Change(record, now)
    if handler is None:
        change.fail_attempt(step_id, reason)
    else:
        handler.child_not_started(change, step_id, run_id or "", reason)
    return change.done()


def described(record: RunRecord, step_id: str, found: Described, now: datetime) -> Transition:
    """The saved workflows a step asked to have described (an agent's tools) are."""
    step, ignored = _open_step(record, step_id)
    if step is None:
        return ignored
    handler = handler_for(record.dag.step(step_id))
    if handler is None or not step.begun:
        return Transition(None, note=f"step {step_id} asked for no workflows")
    change = Change(record, now)
    handler.described(change, step_id, found)
    return change.done()


def collected(record: RunRecord, step_id: str, gathered: Collected, now: datetime) -> Transition:
    """The results a step asked to have gathered (a loop's items) are stored."""
    step, ignored = _open_step(record, step_id)
    if step is None:
        return ignored
    handler = handler_for(record.dag.step(step_id))
    if handler is None:
        return Transition(None, note=f"step {step_id} gathers nothing")
    change = Change(record, now)
    handler.collected(change, step_id, gathered)
    return change.done()


def cancel(record: RunRecord, now: datetime, reason: str | None = None) -> Transition:
    if record.finished:
        # Told again after a crash, perhaps before the children heard: tell them again (a no-op when they did).
        transition = Transition(None, note=f"run is already {record.status}")
        if record.status == "cancelled":
            transition.cancel_runs = _children_to_cancel(record)
        return transition
    change = Change(record, now)
    for unchanged in record.steps:
        if unchanged.status not in FINISHED_STEP_STATUSES:
            handler = handler_for(record.dag.step(unchanged.id))
            if handler is not None:
                handler.stop(change, unchanged.id, "the run was cancelled")
            step = change.step(unchanged.id)
            change.drop_timers = change.drop_timers or step.status == "waiting"
            step.waitUntil = None
            step.resumeUrl = None
            if step.status in ("running", "waiting"):
                step.finishedAt = now
                if step.startedAt is not None:
                    step.durationMs = (now - step.startedAt).total_seconds() * 1000
            step.status = "cancelled"
            change.step_changed(step)
    said = f"Run {reason}" if reason and reason.startswith("cancelled") else f"Run cancelled{': ' + reason if reason else ''}"
    change.say(said, "WARN")
    change.run_status("cancelled")
    transition = change.done()
    transition.abort = True
    return transition


def _children_to_cancel(record: RunRecord) -> list[str]:
    change = Change(record, record.updatedAt)
    for step in record.steps:
        handler = handler_for(record.dag.step(step.id))
        if handler is not None and step.begun:
            # The step's state as it was when the run was cancelled: running children are listed by the handler.
            handler.stop(change, step.id, "the run was cancelled")
    return change.cancel_runs


def gave_up(record: RunRecord, step_id: str, attempt: int, deliveries: int, now: datetime,
            call: str | None = None) -> Transition:
    """Every worker that took a step (or one of its calls) stopped before finishing it, `deliveries` times
    (JetStream's max_deliver): it fails, so its run ends instead of waiting forever."""
    failure = StepResult(
        runId=record.id, stepId=step_id, status="failed", attempt=attempt, delivery=deliveries, startedAt=now, call=call,
        error=f"gave up after {deliveries} attempts: each worker that took this step stopped (crashed or was "
              "killed) before finishing it",
    )
    return apply_result(record, failure, now)


def retry_cancel_of_unknown_run(delivered: int, max_deliver: int) -> bool:
    """A cancel for a run not recorded yet: its RunRequested may still be on its way (both share one consumer and
    are handled concurrently), so it is retried, until redelivery runs out."""
    return delivered < max_deliver


def derived_run_id(idempotency_key: str | None, published_ms: int, stream_seq: int) -> str:
    """An id for a request that brought none: from its idempotencyKey (so repeats are one run), else from its
    stream position (so a redelivery gets the same id). Time first, like new_run_id, so ids sort by creation."""
    if idempotency_key is not None:
        return "k" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:31]
    return f"{published_ms:012x}{stream_seq:012x}"


def failed_on_arrival(record: RunRecord, reason: str, now: datetime) -> Transition:
    """A request that cannot run (invalid workflow): recorded as a failed run so its sender can see why."""
    change = Change(record, now)
    change.say(reason, "ERROR")
    change.run_status("failed", reason)
    return change.done()


def _open_step(record: RunRecord, step_id: str) -> tuple[StepState | None, Transition]:
    """The step a message is about, or None and the no-op answer when there is none or the run is over."""
    if record.finished:
        return None, Transition(None, note=f"run is already {record.status}")
    try:
        return record.step(step_id), Transition(None)
    except KeyError:
        return None, Transition(None, note=f"unknown step {step_id!r}")
