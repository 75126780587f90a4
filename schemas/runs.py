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

TERMINAL_RUN_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
FINISHED_STEP_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "skipped", "cancelled"})

# Run ids are KV keys and subject tokens, so they are restricted to safe characters.
RUN_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
RunId = Annotated[str, Field(pattern=RUN_ID_PATTERN)]

MAX_LOGS_PER_RUN = 500


def human_duration(ms: float) -> str:
    """312 ms, 1.4 s: how durations read in logs and on the command line."""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


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
    attempts: list[StepAttempt] = Field(default_factory=list)


class RunView(Contract):
    """What GET /v1/runs/{id} answers."""

    id: str
    status: RunStatus
    workflowName: str
    workflowId: str | None = None
    workflowVersion: int | None = None
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
    createdAt: datetime
    updatedAt: datetime


class RunList(Contract):
    runs: list[RunSummary]


class RunRecord(Contract):
    """The orchestrator's state for one run, stored in the `runs` KV bucket under the run id."""

    v: Literal[1] = 1
    id: RunId
    status: RunStatus = "queued"
    workflowName: str
    workflowId: str | None = Field(default=None, description="the saved workflow this run is of; None for a draft")
    workflowVersion: int | None = None
    dag: Dag
    inputs: dict[str, Any] = Field(default_factory=dict)
    steps: list[StepState]
    logs: list[LogEntry] = Field(default_factory=list)
    error: str | None = None
    idempotencyKey: str | None = None
    eventSeq: int = 0
    createdAt: datetime = Field(default_factory=utc_now)
    updatedAt: datetime = Field(default_factory=utc_now)

    @classmethod
    def new(cls, run_id: str, dag: Dag, inputs: dict[str, Any], idempotency_key: str | None = None) -> RunRecord:
        steps = [StepState(id=s.id, nodeId=s.id, name=s.name, type=s.type) for s in dag.steps]
        return cls(
            id=run_id,
            workflowName=dag.workflowName,
            dag=dag,
            inputs=inputs,
            steps=steps,
            idempotencyKey=idempotency_key,
        )

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_RUN_STATUSES

    def step(self, step_id: str) -> StepState:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def view(self) -> RunView:
        return RunView.model_validate(self.model_dump(include=set(RunView.model_fields)))

    def summary(self) -> RunSummary:
        return RunSummary.model_validate(self.model_dump(include=set(RunSummary.model_fields)))
