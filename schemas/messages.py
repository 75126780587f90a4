"""Bus messages. Their JSON Schemas under schemas/json/ are a public contract: change them compatibly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Discriminator, Field, Tag, TypeAdapter, model_validator

from ._base import Contract, utc_now
from .graph import Graph, TemplateWorkflow
from .limits import SHALLOW
from .runs import LogEntry, RunId, RunRecord, RunStatus, StepRequest, StepState, WorkflowId


def _workflow_format(value: Any) -> str:
    if isinstance(value, dict):
        return "template" if "definition" in value and "nodes" not in value else "builder"
    return "template" if isinstance(value, TemplateWorkflow) else "builder"


Workflow = Annotated[
    Annotated[Graph, Tag("builder")] | Annotated[TemplateWorkflow, Tag("template")],
    Discriminator(_workflow_format),
]


class RunRequested(Contract):
    """Published on `runs.requested` to start a run. Set `runId` to follow the run by that id.

    Either `graph` (a draft: accepted only from the gateway's own account) or `workflowId` (a saved workflow, its
    latest version unless `version` says which): other systems start saved workflows only."""

    v: Literal[1] = 1
    runId: RunId | None = None
    graph: Workflow | None = None
    workflowId: WorkflowId | None = None
    version: int | None = Field(default=None, ge=1, description="with workflowId: which version (default: the latest)")
    inputs: Annotated[dict[str, Any], SHALLOW] = Field(default_factory=dict)
    idempotencyKey: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_workflow(self) -> RunRequested:
        if (self.graph is None) == (self.workflowId is None):
            raise ValueError("give either graph (a draft) or workflowId (a saved workflow), not both or neither")
        if self.version is not None and self.workflowId is None:
            raise ValueError("version goes with workflowId")
        return self


class CancelRequested(Contract):
    """Published on `runs.cancel`."""

    v: Literal[1] = 1
    runId: RunId
    reason: str | None = None


class StepDispatch(Contract):
    """Published on `steps.dispatch` by the orchestrator; one engine worker executes it."""

    v: Literal[1] = 1
    runId: RunId
    stepId: str
    name: str
    type: str
    attempt: int = Field(default=1, ge=1, description="1 for the first try; each retry after a failure adds one")
    config: dict[str, Any] = Field(default_factory=dict, description="as drawn: {{templates}} are resolved by the worker")
    inputs: dict[str, Any] = Field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="upstream steps that ran: {nodeId: {output, status, error?}}, for {{steps.…}}; a failed one "
        "appears only when its onError is continue",
    )
    inputsRef: str | None = Field(default=None, description="the inputs are stored apart under this reference "
                                  "(a loop's item with large inputs): the worker reads them")
    loop: dict[str, Any] | None = Field(
        default=None, description="inside a loop's body: {item, index, parent}, the item this step runs for (parent: "
        "the enclosing loop's, or null); None outside a loop",
    )
    call: str | None = Field(
        default=None, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
        description="a step the orchestrator completes and sends to workers more than once in an attempt (an agent's "
        "model calls and MCP tool calls): which call this is. `config` is then that call's, never rendered")


StepResultStatus = Literal["running", "succeeded", "failed", "cancelled"]


class StepResult(Contract):
    """Published on `steps.result` by a worker: `running` when it starts, then one final status."""

    v: Literal[1] = 1
    runId: RunId
    stepId: str
    status: StepResultStatus
    attempt: int = Field(default=1, description="the dispatch's attempt (retries)")
    delivery: int = Field(default=1, description="how often JetStream delivered this attempt (above 1: a worker died)")
    worker: str = ""
    # Timezone-aware: a naive time cannot be compared with the orchestrator's clock, so it is refused here.
    startedAt: AwareDatetime
    finishedAt: AwareDatetime | None = None
    durationMs: float | None = None
    output: Annotated[Any, SHALLOW] = None
    error: str | None = None
    logs: list[LogEntry] = Field(default_factory=list)
    retryable: bool = Field(default=False, description="a failure that another attempt may fix (network, 5xx, 408, 429)")
    retryAfterMs: float | None = Field(default=None, description="the server's Retry-After, when it sent one")
    request: StepRequest | None = Field(default=None, description="what the step sent, secrets masked")
    handles: list[str] | None = Field(default=None, description="the output handles taken (if, switch); None: every output")
    call: str | None = Field(default=None, max_length=64, description="the dispatch's call, when it named one")


class TimerDue(Contract):
    """On `timers.<runId>.<stepId>`: wake the orchestrator at `dueAt` for a delay step or a retry.

    The message stays unacknowledged in the TIMERS stream until it is due, so a wait holds no process."""

    v: Literal[1] = 1
    runId: RunId
    stepId: str
    attempt: int = Field(ge=1, description="the attempt the timer starts (retry) or waits in (delay)")
    kind: Literal["retry", "delay", "timeout"] = Field(description="timeout: a wait step's time is up")
    dueAt: AwareDatetime


class ResumeRequested(Contract):
    """Published on `runs.resume` by the gateway when a wait step's resume URL is called: the step goes on."""

    v: Literal[1] = 1
    runId: RunId
    stepId: str
    attempt: int = Field(ge=1, description="the wait it answers (a step waits once per attempt)")
    output: Annotated[dict[str, Any], SHALLOW] = Field(
        default_factory=dict, description="the step's output: {approved, comment} or {body, headers, query}")
    handle: str = Field(description="the output it takes: approved, rejected or received")


class StepAbort(Contract):
    """Broadcast on `steps.abort` (plain NATS): workers stop that run's in-flight steps."""

    v: Literal[1] = 1
    runId: RunId


class _EventBase(Contract):
    runId: str
    seq: int = Field(ge=1)
    ts: datetime = Field(default_factory=utc_now)


class RunStatusEvent(_EventBase):
    type: Literal["run"] = "run"
    status: RunStatus
    error: str | None = None


class StepEvent(_EventBase):
    type: Literal["step"] = "step"
    step: StepState


class LogEvent(_EventBase):
    type: Literal["log"] = "log"
    log: LogEntry


RunEvent = Annotated[RunStatusEvent | StepEvent | LogEvent, Field(discriminator="type")]
RUN_EVENT: TypeAdapter[RunStatusEvent | StepEvent | LogEvent] = TypeAdapter(RunEvent)


class RunEvents(Contract):
    """One message on `runs.events.<runId>`: the events of one state change, in seq order.

    A change's events travel together, so a viewer sees all of them or none. The WebSocket sends them
    to browsers one event per message.
    """

    v: Literal[1] = 1
    runId: RunId
    events: list[RunEvent] = Field(min_length=1)


def fold_events(record: RunRecord, events: Sequence[RunStatusEvent | StepEvent | LogEvent]) -> RunRecord:
    """The run after `events`: a run's state is its record as created plus every event since, so each change
    is stored as just its events (bus/run_store.py). Events the record already includes (seq ≤ eventSeq) are
    skipped, so applying a change twice is harmless. Returns a copy; `record` is not changed."""
    folded = record.model_copy(update={"steps": list(record.steps), "logs": list(record.logs)})
    for event in events:
        if event.seq <= folded.eventSeq:
            continue
        if isinstance(event, RunStatusEvent):
            folded.status = event.status
            folded.error = event.error
        elif isinstance(event, StepEvent):
            if not folded.dag.has(event.step.id):
                continue  # no writer of this run names a step it does not have: forged or corrupt, so ignored
            folded.steps[folded.dag.position(event.step.id)] = event.step
        else:
            folded.logs.append(event.log)
        folded.eventSeq = event.seq
        folded.updatedAt = event.ts
    return folded
