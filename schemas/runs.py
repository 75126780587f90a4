"""Run state: the record the orchestrator keeps in KV and the views the gateway serves."""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from ._base import Contract, utc_now
from .dag import Dag

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
StepStatus = Literal["queued", "running", "waiting", "succeeded", "failed", "skipped", "cancelled"]
LogLevel = Literal["INFO", "WARN", "ERROR"]
# How a run began: the builder (a signed-in browser), a webhook, a schedule tick, a message on runs.requested, or an
# API client with a bearer token.
# A subworkflow step's child run, an error workflow's run, and (never listed) a loop's item.
RunTrigger = Literal["manual", "webhook", "schedule", "bus", "api", "subworkflow", "error", "loop", "mcp", "agent"]

TERMINAL_RUN_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
FINISHED_STEP_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "skipped", "cancelled"})

# Run ids are KV keys and subject tokens, so they are restricted to safe characters.
RUN_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
RunId = Annotated[str, Field(pattern=RUN_ID_PATTERN)]
# Here, beside the run id, because runs and run requests name workflows too (schemas/workflows.py re-exports it).
WORKFLOW_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
WorkflowId = Annotated[str, Field(pattern=WORKFLOW_ID_PATTERN)]

MAX_LOGS_PER_RUN = 500


def human_duration(ms: float) -> str:
    """312 ms, 1.4 s, 5 min, 2 h 30 min, 3 d: how durations read in logs and on the command line."""
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} d" + (f" {hours} h" if hours else "")


def new_run_id() -> str:
    """Time-ordered (milliseconds, hex) then random, so ids sort by creation time."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(6)}"


class LogEntry(Contract):
    ts: datetime = Field(default_factory=utc_now)
    level: LogLevel = "INFO"
    msg: str
    stepId: str | None = None


class StepRequest(Contract):
    """What an HTTP step sent: sensitive headers masked, secrets scrubbed, the body cut at 64 KiB."""

    method: str
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    truncated: bool = False


class StepOutput(Contract):
    """A step's output and request, stored apart because they are large; GET /v1/runs/{id}/steps/{stepId}/output."""

    output: Any = None
    request: StepRequest | None = None


class StepAttempt(Contract):
    """One try of a step. The last attempt's request and response are the step's own `request` and `output`;
    earlier attempts keep theirs here, bodies cut at 4 KiB."""

    attempt: int
    status: StepStatus
    startedAt: datetime | None = None
    finishedAt: datetime | None = None
    durationMs: float | None = None
    error: str | None = None
    worker: str | None = None
    request: StepRequest | None = None
    output: Any = None
    retryInMs: float | None = Field(default=None, description="the wait before the next attempt")


class StepCall(Contract):
    """One call a step made within its attempt beyond the attempt itself: an agent's model calls and tool calls, in
    order, so the run shows its conversation. Large outputs are stored apart (`outputRef`)."""

    id: str = Field(description="m<turn>: a model call; t<turn>.<n>: a tool call; w, l<n>: its tools looked up")
    kind: Literal["model", "tool", "tools"]
    turn: int = 0
    status: StepStatus = "running"
    startedAt: datetime | None = None
    finishedAt: datetime | None = None
    durationMs: float | None = None
    text: str | None = Field(default=None, description="a model call: the model's text")
    toolCalls: list[dict[str, Any]] | None = Field(default=None, description="a model call: the tools it asked for "
                                                   "({id, name, arguments})")
    usage: dict[str, int] | None = None
    name: str | None = Field(default=None, description="a tool call: the tool's name")
    toolCallId: str | None = None
    arguments: Any = None
    target: dict[str, Any] | None = Field(default=None, description="a tool call: {workflowId, version} or "
                                          "{server, tool}")
    runId: str | None = Field(default=None, description="a workflow tool's call: its child run")
    output: Any = None
    outputRef: str | None = None
    error: str | None = None
    worker: str | None = None


class ItemProgress(Contract):
    """A loop's items, or a loop body step's runs across them: how many there are and how they went."""

    total: int = 0
    done: int = Field(default=0, description="items finished (for a body step: items in which it finished)")
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    running: list[int] = Field(default_factory=list, description="a loop: the indexes of the items running now")


class WaitState(Contract):
    """A wait step's question while it waits, and how it can be answered."""

    mode: Literal["webhook", "approval"]
    message: str = ""
    timeoutAt: datetime


class StepState(Contract):
    id: str
    nodeId: str
    name: str
    type: str
    status: StepStatus = "queued"
    dispatchedAt: datetime | None = Field(default=None, description="when the step was sent to the workers")
    startedAt: datetime | None = None
    finishedAt: datetime | None = None
    durationMs: float | None = None
    attempt: int = 0
    error: str | None = None
    output: Any = None
    worker: str | None = Field(default=None, description="host:pid of the engine worker that ran the step")
    waitUntil: datetime | None = Field(default=None, description="while waiting: when the delay or the next retry ends")
    skipReason: str | None = None
    errorHandled: bool = Field(default=False, description="failed, and onError is continue: the run went on")
    handles: list[str] | None = Field(default=None, description="the output handles it took (if, switch)")
    request: StepRequest | None = None
    outputRef: str | None = Field(
        default=None,
        description="the output and request are large and stored apart: GET /v1/runs/{runId}/steps/{stepId}/output",
    )
    attempts: list[StepAttempt] = Field(default_factory=list)
    begun: bool = Field(default=False, description="a step a worker prepared (rendered its templates): the "
                        "orchestrator's part has begun")
    items: ItemProgress | None = Field(default=None, description="a loop, or a step of a loop's body: item progress")
    childRunId: str | None = Field(default=None, description="a subworkflow step: the child run")
    calls: list[StepCall] | None = Field(default=None, description="an agent step: its current attempt's model and "
                                         "tool calls, in order")
    resumeUrl: str | None = Field(default=None, description="a waiting wait step, shown to editors and admins: where "
                                  "to resume it (no sign-in needed; the token is the secret). Never stored: the "
                                  "gateway derives it")
    wait: WaitState | None = None
    pinned: bool = Field(default=False, description="its output was pinned (POST /v1/runs pinData): it was not "
                         "executed")


class RunView(Contract):
    """What GET /v1/runs/{id} answers."""

    id: str
    status: RunStatus
    workflowName: str
    workflowId: str | None = None
    workflowVersion: int | None = None
    trigger: RunTrigger = "api"
    startedBy: str | None = None
    parentRunId: str | None = Field(default=None, description="a child run (subworkflow, loop item): the run that "
                                    "started it")
    parentStepId: str | None = None
    waiting: str | None = Field(default=None, description="while the run is not finished: what it is waiting for")
    steps: list[StepState]
    logs: list[LogEntry]
    error: str | None = None
    createdAt: datetime
    updatedAt: datetime


class RunSummary(Contract):
    id: str
    status: RunStatus
    workflowName: str
    workflowId: str | None = None
    workflowVersion: int | None = None
    trigger: RunTrigger = "api"
    startedBy: str | None = None
    parentRunId: str | None = None
    durationMs: float | None = Field(default=None, description="from start to end, once finished")
    error: str | None = None
    createdAt: datetime
    updatedAt: datetime


class RunList(Contract):
    runs: list[RunSummary]
    next: str | None = Field(default=None, description="pass as `before` for the next page; None on the last page")


class RunRecord(Contract):
    """The orchestrator's state for one run, stored in the `runs` KV bucket under the run id."""

    v: Literal[1] = 1
    id: RunId
    status: RunStatus = "queued"
    workflowName: str
    workflowId: str | None = Field(default=None, description="the saved workflow this run is of; None for a draft")
    workflowVersion: int | None = None
    trigger: RunTrigger = "api"
    startedBy: str | None = Field(default=None, description="the name of the token or session that started it")
    dag: Dag
    inputs: dict[str, Any] = Field(default_factory=dict)
    steps: list[StepState]
    logs: list[LogEntry] = Field(default_factory=list)
    error: str | None = None
    idempotencyKey: str | None = None
    eventSeq: int = Field(default=0, description="the seq of the last run event this state includes")
    streamSeq: int = Field(
        default=0, description="the RUN_EVENTS stream sequence of the last change this copy includes: "
        "what follows it in the stream is applied on read",
    )
    createdAt: datetime = Field(default_factory=utc_now)
    updatedAt: datetime = Field(default_factory=utc_now)
    parentRunId: str | None = Field(default=None, description="a child run: the run whose step started it")
    parentStepId: str | None = None
    itemIndex: int | None = Field(default=None, description="a loop's item run: its index")
    loop: dict[str, Any] | None = Field(default=None, description="a loop's item run: {item, index, parent}")
    outer: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="a loop's item run: what the steps before the loop left, for templates "
        "({stepId: {output | outputRef, status, error}})",
    )
    inputsRef: str | None = Field(default=None, description="a loop's item run with large inputs: they are its "
                                  "parent's, stored apart once for every item (step_outputs), not copied into each")
    depth: int = Field(default=0, description="how many subworkflow steps deep this run is")
    chain: list[str] = Field(default_factory=list, description="the workflows of the runs above it, outermost first")
    seed: str = Field(default="", description="secret: wait steps' resume tokens are derived from it; never shown")

    @classmethod
    def new(cls, run_id: str, dag: Dag, inputs: dict[str, Any], idempotency_key: str | None = None, *,
            trigger: RunTrigger = "api", started_by: str | None = None, workflow_id: str | None = None,
            workflow_version: int | None = None, parent_run_id: str | None = None,
            parent_step_id: str | None = None, depth: int = 0, chain: list[str] | None = None) -> RunRecord:
        steps = [StepState(id=s.id, nodeId=s.id, name=s.name, type=s.type) for s in dag.steps]
        return cls(
            id=run_id,
            workflowName=dag.workflowName,
            workflowId=workflow_id,
            workflowVersion=workflow_version,
            trigger=trigger,
            startedBy=started_by,
            dag=dag,
            inputs=inputs,
            steps=steps,
            idempotencyKey=idempotency_key,
            parentRunId=parent_run_id,
            parentStepId=parent_step_id,
            depth=depth,
            chain=chain or [],
            seed=secrets.token_hex(16),
        )

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_RUN_STATUSES

    def step(self, step_id: str) -> StepState:
        # Steps are kept in the DAG's order, so the DAG's index finds one without a scan.
        step = self.steps[self.dag.position(step_id)]
        assert step.id == step_id, f"run {self.id}: steps out of the DAG's order"
        return step

    def left_by(self, step_id: str) -> dict[str, Any] | None:
        """What a finished step leaves its descendants' templates ({output | outputRef, status, error}), or None when
        it left nothing (it did not run). The orchestrator's dispatches and the gateway's previews read it alike."""
        if self.dag.has(step_id):
            s = self.step(step_id)
            if s.status == "succeeded" or (s.status == "failed" and s.errorHandled):
                left: dict[str, Any] = {"outputRef": s.outputRef} if s.outputRef else {"output": s.output}
                return {**left, "status": s.status, "error": s.error}
            return None
        return self.outer.get(step_id)

    @property
    def listed(self) -> bool:
        """A loop's item runs are parts of their run, shown through it: not in run listings."""
        return self.trigger != "loop"

    def view(self) -> RunView:
        view = RunView.model_validate(self.model_dump(include=set(RunView.model_fields)))
        view.waiting = waiting_reason(self)
        return view

    def summary(self) -> RunSummary:
        summary = RunSummary.model_validate(self.model_dump(include=set(RunSummary.model_fields)))
        if self.finished:
            # From when it started (its trigger step), as the builder's run panel counts it: time spent queued
            # before an orchestrator picked it up is not the run's.
            started = min((s.startedAt for s in self.steps if s.startedAt is not None), default=self.createdAt)
            summary.durationMs = max((self.updatedAt - started).total_seconds() * 1000, 0.0)
        if self.error:
            summary.error = self.error if len(self.error) <= 200 else self.error[:199] + "…"
        return summary


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def waiting_reason(record: RunRecord) -> str | None:
    """What an unfinished run is waiting for, in a sentence: the question a stuck-looking run raises."""
    if record.finished:
        return None
    if record.status == "queued":
        # How many runs are ahead is not known here (the queue is the orchestrators' stream, not the record).
        return f"queued since {_at(record.createdAt)}: no orchestrator has picked the run up yet (is one running?)"
    reasons = []
    for step in record.steps:
        if step.status == "waiting" and step.waitUntil is not None:
            if step.wait is not None:
                what = "an approval" if step.wait.mode == "approval" else "a callback to its resume URL"
                reasons.append(f"step {step.id} is waiting for {what}, until {_at(step.waitUntil)}")
            elif record.dag.step(step.id).completes == "timer":
                reasons.append(f"step {step.id} is a delay, waiting until {_at(step.waitUntil)}")
            else:
                reasons.append(f"step {step.id} failed attempt {step.attempt}; it retries at {_at(step.waitUntil)}")
        elif step.status == "running" and step.items is not None and step.begun:
            reasons.append(f"step {step.id} is running its items: {step.items.done} of {step.items.total} done")
        elif step.status == "running" and step.childRunId is not None:
            reasons.append(f"step {step.id} is waiting for its child run {step.childRunId}")
        elif step.status == "running":
            where = f" on worker {step.worker}" if step.worker else ""
            since = f" since {_at(step.startedAt)}" if step.startedAt else ""
            reasons.append(f"step {step.id} is running{where}{since}")
        elif step.status == "queued" and step.dispatchedAt is not None:
            reasons.append(f"step {step.id} is queued for a worker since {_at(step.dispatchedAt)}; none has taken it yet")
    if not reasons:
        return "running: the next steps are being dispatched"
    more = f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else ""
    return "; ".join(reasons[:3]) + more
