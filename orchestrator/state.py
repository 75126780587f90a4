"""The run state machine: (record, input) -> Transition. Pure: no I/O, no clock, no randomness.

The actor feeds it messages and carries out what it returns, so every rule about runs lives
here and is unit-tested without a server.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from schemas import (
    FINISHED_STEP_STATUSES,
    MAX_LOGS_PER_RUN,
    REGISTRY,
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
from schemas.masking import mask_fields
from schemas.node_types import NodeSettings
from schemas.runs import LogLevel, human_duration

# Steps that are neither done nor startable yet.
_UNFINISHED = frozenset({"queued", "running", "waiting"})

Event = RunStatusEvent | StepEvent | LogEvent


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


class _Builder:
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
        self.drop_timers = False

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

    def dispatch(self, step_id: str) -> None:
        """Send a ready step on its way: to the workers, or, for a delay, onto a timer."""
        step = self.step(step_id)
        step.dispatchedAt = self.now
        if self.record.dag.step(step.id).type == "delay":
            seconds = float(self.record.dag.step(step.id).config.get("seconds", 0))
            step.status = "waiting"
            step.attempt = 1
            step.startedAt = self.now
            step.waitUntil = self.now + timedelta(seconds=seconds)
            self.step_changed(step)
            self.say(f"{step.name}: waiting {human_duration(seconds * 1000)}, until {step.waitUntil:%Y-%m-%d %H:%M:%S} UTC",
                     step_id=step.id)
            self.timers.append(_timer_for(self.record, step, "delay"))
            return
        # Recorded as an event like any change: the run's state is its events, and a dispatched step is one
        # to send again after a crash.
        self.step_changed(step)
        self.dispatches.append(_dispatch_for(self.record, step))

    def done(self) -> Transition:
        self.record.updatedAt = self.now
        return Transition(self.record, self.events, self.dispatches, self.timers, drop_timers=self.drop_timers)


def start(record: RunRecord, now: datetime) -> Transition:
    """queued → running: Start succeeds at once (it is the trigger) and its children are dispatched.

    On a record already running (a redelivered request after a crash), nothing is written but the
    steps that should be in flight are dispatched again; their message ids make the stream drop repeats.
    """
    if record.status != "queued":
        if record.status == "running":
            dispatches, timers = _in_flight(record)
            return Transition(None, dispatches=dispatches, timers=timers, note="already running")
        return Transition(None, note=f"run is {record.status}")
    change = _Builder(record, now)
    if record.eventSeq == 0:
        change.events.append(RunStatusEvent(runId=record.id, seq=change._seq(), ts=now, status="queued"))
    change.run_status("running")
    for dag_step in record.dag.steps:
        if _is_trigger(dag_step.type):
            step = change.step(dag_step.id)
            step.status = "succeeded"
            step.startedAt = step.finishedAt = now
            step.durationMs = 0.0
            step.attempt = 1
            step.output = mask_fields(record.inputs)
            change.step_changed(step)
            _advance(change, step.id)
    _settle_run(change)
    return change.done()


def apply_result(record: RunRecord, result: StepResult, now: datetime, output_ref: str | None = None) -> Transition:
    """A worker's report about one attempt of one step. With `output_ref`, its output and request were stored
    apart under that reference (they are large): the step keeps the reference, not them."""
    step, ignored = _open_step(record, result.stepId)
    if step is None:
        return ignored
    if result.attempt < step.attempt:
        return Transition(None, note=f"late report of attempt {result.attempt}; the step is on attempt {step.attempt}")
    if step.status == "waiting" and result.attempt == step.attempt:
        # A repeat of the failure that scheduled the retry (redelivered after a crash): the timer may be lost.
        if result.status == "running":
            return Transition(None, note="running notice of an attempt that already failed")
        return Transition(None, timers=[_timer_for(record, step, "retry")], note="retry already scheduled")
    if step.status in FINISHED_STEP_STATUSES:
        if result.status == "running":
            return Transition(None, note="running notice after the step finished")
        # A repeat (redelivery after a crash): re-send what this step's completion should have sent.
        dispatches, timers = _in_flight(record, among=_children(record, step.id))
        return Transition(None, dispatches=dispatches, timers=timers, note="step already finished")

    if result.status == "running" and step.status == "running" and step.attempt >= result.attempt:
        return Transition(None, note="already running")
    change = _Builder(record, now)
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
    for entry in result.logs:
        change.log(entry)
    settings = record.dag.step(step.id).settings or NodeSettings()
    attempt = StepAttempt(
        attempt=result.attempt, status=result.status, startedAt=step.startedAt or result.startedAt,
        finishedAt=result.finishedAt or now, durationMs=result.durationMs, error=result.error,
        worker=result.worker or None,
    )
    step.startedAt = step.startedAt or result.startedAt
    step.durationMs = result.durationMs
    step.attempt = result.attempt
    step.output = None if output_ref else result.output
    step.request = None if output_ref else result.request
    step.outputRef = output_ref
    step.error = result.error
    step.worker = result.worker
    step.handles = result.handles

    retry = settings.retry
    if result.status == "failed" and result.retryable and result.attempt < retry.maxAttempts and not _run_failing(record):
        wait_ms = retry.wait_ms(result.attempt, f"{record.id}.{step.id}", result.retryAfterMs)
        # The step's own request and output are the latest attempt's; an earlier one keeps a short copy,
        # so ten attempts of 64 KiB answers cannot grow the record past what the bus carries.
        attempt.request = _compact(result.request)
        attempt.output = _compact(result.output)
        attempt.retryInMs = wait_ms
        step.attempts = [*step.attempts, attempt]
        step.status = "waiting"
        step.finishedAt = None
        step.waitUntil = now + timedelta(milliseconds=wait_ms)
        change.step_changed(step)
        change.say(
            f"{step.name}: attempt {result.attempt} of {retry.maxAttempts} failed: {result.error or 'no reason given'}; "
            f"retrying in {human_duration(wait_ms)}", "WARN", step.id,
        )
        change.timers.append(_timer_for(change.record, step, "retry"))
        return change.done()

    step.attempts = [*step.attempts, attempt]
    step.finishedAt = result.finishedAt or now
    step.waitUntil = None
    step.status = result.status
    if result.status == "succeeded":
        if result.attempt > 1:
            change.say(f"{step.name}: succeeded on attempt {result.attempt}", step_id=step.id)
        change.step_changed(step)
        _advance(change, step.id)
    elif result.status == "failed" and settings.onError == "continue":
        step.errorHandled = True
        change.step_changed(step)
        change.say(f"{step.name} failed{_why_final(result, retry.maxAttempts)}: "
                   f"{result.error or 'no reason given'}; the run goes on (its error handling says continue)",
                   "WARN", step.id)
        _advance(change, step.id)
    else:
        change.step_changed(step)
        change.say(f"{step.name} {result.status}{_why_final(result, retry.maxAttempts)}: "
                   f"{result.error or 'no reason given'}", "ERROR", step.id)
        _stop_starting(change)
    _settle_run(change)
    return change.done()


def timer_due(record: RunRecord, timer: TimerDue, now: datetime) -> Transition:
    """A delay has ended, or the wait before a retry."""
    step, ignored = _open_step(record, timer.stepId)
    if step is None:
        return ignored
    expected = step.attempt + 1 if timer.kind == "retry" else step.attempt
    if step.status != "waiting" or timer.attempt != expected:
        # Handled before, and the orchestrator stopped before acking: re-send what firing it sent.
        if timer.kind == "retry" and step.attempt == timer.attempt and step.status == "queued":
            return Transition(None, dispatches=[_dispatch_for(record, step)], note="retry already started")
        if timer.kind == "delay" and step.status == "succeeded":
            dispatches, timers = _in_flight(record, among=_children(record, step.id))
            return Transition(None, dispatches=dispatches, timers=timers, note="delay already over")
        return Transition(None, note=f"stale {timer.kind} timer (step is {step.status}, attempt {step.attempt})")
    change = _Builder(record, now)
    step = change.step(timer.stepId)
    step.waitUntil = None
    if timer.kind == "retry":
        step.attempt = timer.attempt
        step.status = "queued"
        step.startedAt = step.finishedAt = None
        step.durationMs = None
        step.error = None
        step.dispatchedAt = now
        change.step_changed(step)
        change.dispatches.append(_dispatch_for(change.record, step))
        return change.done()
    step.status = "succeeded"
    step.finishedAt = now
    if step.startedAt is not None:
        step.durationMs = (now - step.startedAt).total_seconds() * 1000
    step.output = {"waitedSeconds": record.dag.step(step.id).config.get("seconds"), "resumedAt": now.isoformat()}
    step.attempts = [*step.attempts, StepAttempt(attempt=step.attempt, status="succeeded", startedAt=step.startedAt,
                                                  finishedAt=now, durationMs=step.durationMs)]
    change.step_changed(step)
    _advance(change, step.id)
    _settle_run(change)
    return change.done()


def cancel(record: RunRecord, now: datetime, reason: str | None = None) -> Transition:
    if record.finished:
        return Transition(None, note=f"run is already {record.status}")
    change = _Builder(record, now)
    for unchanged in record.steps:
        if unchanged.status not in FINISHED_STEP_STATUSES:
            step = change.step(unchanged.id)
            change.drop_timers = change.drop_timers or step.status == "waiting"
            step.waitUntil = None
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


def gave_up(record: RunRecord, step_id: str, attempt: int, deliveries: int, now: datetime) -> Transition:
    """Every worker that took a step stopped before finishing it, `deliveries` times (JetStream's max_deliver):
    the step fails, so its run ends instead of waiting forever."""
    failure = StepResult(
        runId=record.id, stepId=step_id, status="failed", attempt=attempt, delivery=deliveries, startedAt=now,
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
    change = _Builder(record, now)
    change.say(reason, "ERROR")
    change.run_status("failed", reason)
    return change.done()


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


def _open_step(record: RunRecord, step_id: str) -> tuple[StepState | None, Transition]:
    """The step a message is about, or None and the no-op answer when there is none or the run is over."""
    if record.finished:
        return None, Transition(None, note=f"run is already {record.status}")
    try:
        return record.step(step_id), Transition(None)
    except KeyError:
        return None, Transition(None, note=f"unknown step {step_id!r}")


def _run_failing(record: RunRecord) -> bool:
    """A step failed for good: the run will fail, so nothing new starts, not even a retry."""
    return any(s.status == "failed" and not s.errorHandled for s in record.steps)


def _is_trigger(step_type: str) -> bool:
    node_type = REGISTRY.get(step_type)
    return node_type is not None and node_type.kind == "trigger"


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


def _stop_starting(change: _Builder) -> None:
    """After a failure nothing new starts. Steps already with a worker finish and are recorded as they end
    (their side effects happen either way); steps not yet sent are skipped, and waits end."""
    for unchanged in list(change.record.steps):
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


def _settle_run(change: _Builder) -> None:
    """Finish the run once no step is waiting, dispatched or running."""
    steps = change.record.steps
    if any(s.status in _UNFINISHED for s in steps):
        return
    # The run event says how it ended; the step's own ERROR log line already says why.
    failed = [s for s in steps if (s.status == "failed" and not s.errorHandled) or s.status == "cancelled"]
    if failed:
        change.run_status("failed", f"step '{failed[0].name}' {failed[0].status}: {failed[0].error or 'no reason given'}")
    else:
        change.run_status("succeeded")


def _children(record: RunRecord, step_id: str) -> list[str]:
    return record.dag.children(step_id)


Readiness = Literal["wait", "run", "skip"]


def _readiness(record: RunRecord, step_id: str) -> tuple[Readiness, str | None]:
    """Whether a queued step can start: every parent finished and at least one reached it on a taken path.

    A parent reaches a child if it succeeded (or failed with onError continue) and, for a branching parent,
    took an output the child hangs off. Parents skipped, or whose branch went elsewhere, are ignored; when
    no parent reaches it, the step is skipped, with why.
    """
    dag_step = record.dag.step(step_id)
    untaken: list[str] = []
    reached = False
    for parent_id in dag_step.deps:
        parent = record.step(parent_id)
        if parent.status in _UNFINISHED:
            return "wait", None
        if parent.status == "succeeded" or (parent.status == "failed" and parent.errorHandled):
            wanted = dag_step.branches.get(parent_id)
            if wanted is None or parent.handles is None or set(wanted) & set(parent.handles):
                reached = True
            else:
                took = ", ".join(parent.handles) or "no output"
                untaken.append(f"'{parent.name}' took {took}, not {', '.join(wanted)}")
    if reached:
        return "run", None
    if untaken:
        return "skip", "branch not taken: " + "; ".join(untaken)
    return "skip", "every step before it was skipped"


def _advance(change: _Builder, step_id: str) -> None:
    """After a step finished: start the children it made ready, skip those it made unreachable, and so on."""
    frontier = [step_id]
    while frontier:
        for child_id in _children(change.record, frontier.pop()):
            child = change.record.step(child_id)
            if child.status != "queued" or child.dispatchedAt is not None:
                continue
            verdict, reason = _readiness(change.record, child_id)
            if verdict == "run":
                change.dispatch(child_id)
            elif verdict == "skip":
                child = change.step(child_id)
                child.status = "skipped"
                child.skipReason = reason
                change.step_changed(child)
                frontier.append(child_id)


def _dispatch_for(record: RunRecord, step: StepState) -> StepDispatch:
    dag_step = record.dag.step(step.id)
    return StepDispatch(
        runId=record.id, stepId=step.id, name=step.name, type=dag_step.type, attempt=max(step.attempt, 1),
        config=dag_step.config, inputs=record.inputs, steps=_upstream_outputs(record, step.id),
    )


def _timer_for(record: RunRecord, step: StepState, kind: Literal["retry", "delay"]) -> TimerDue:
    assert step.waitUntil is not None
    attempt = step.attempt + 1 if kind == "retry" else step.attempt
    return TimerDue(runId=record.id, stepId=step.id, attempt=attempt, kind=kind, dueAt=step.waitUntil)


def _upstream_outputs(record: RunRecord, step_id: str) -> dict[str, dict[str, Any]]:
    """What the earlier steps its templates read left for them (every earlier step, when the compiler could not
    tell which): succeeded ones, and failures the run went on after. A large output travels as its reference,
    which the worker reads (bus/step_outputs.py), so a dispatch stays small however much came before it."""
    reads = record.dag.step(step_id).reads
    candidates = record.dag.ancestors(step_id) if reads is None else reads
    outputs: dict[str, dict[str, Any]] = {}
    for candidate in candidates:
        s = record.step(candidate)
        if s.status == "succeeded" or (s.status == "failed" and s.errorHandled):
            left: dict[str, Any] = {"outputRef": s.outputRef} if s.outputRef else {"output": s.output}
            outputs[s.id] = {**left, "status": s.status, "error": s.error}
    return outputs


def _in_flight(record: RunRecord, among: list[str] | None = None) -> tuple[list[StepDispatch], list[TimerDue]]:
    """What should be on its way for steps already sent (all, or `among`): after a crash, send it again.
    Message ids (runId.stepId.attempt) make the streams drop what had arrived."""
    dispatches: list[StepDispatch] = []
    timers: list[TimerDue] = []
    wanted = None if among is None else set(among)
    for s in record.steps:
        if wanted is not None and s.id not in wanted:
            continue
        # Only steps no worker has reported on: a running step's worker has it, and if that worker dies
        # JetStream redelivers its dispatch; sending it again could run it twice at once.
        if s.status == "queued" and s.dispatchedAt is not None:
            dispatches.append(_dispatch_for(record, s))
        elif s.status == "waiting" and s.waitUntil is not None:
            kind: Literal["retry", "delay"] = "delay" if record.dag.step(s.id).type == "delay" else "retry"
            timers.append(_timer_for(record, s, kind))
    return dispatches, timers
