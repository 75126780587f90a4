"""Saved workflows: every version kept, one head per workflow that says which is latest and which is active."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from ._base import Contract, utc_now
from .graph import Graph
from .messages import Workflow
from .node_types import REGISTRY, ScheduleConfig
from .runs import WORKFLOW_ID_PATTERN as WORKFLOW_ID_PATTERN
from .runs import WorkflowId as WorkflowId

WorkflowName = Annotated[str, Field(min_length=1, max_length=200)]


def new_workflow_id() -> str:
    return "wf_" + secrets.token_hex(8)


class CreateWorkflow(Contract):
    """POST /v1/workflows. The graph is kept as drawn: it need not be complete to be saved, only to run."""

    name: WorkflowName
    graph: Workflow
    description: str | None = Field(default=None, max_length=2000)


class UpdateWorkflow(Contract):
    """PUT /v1/workflows/{id}: a new version, accepted only on top of the latest one (`baseVersion`)."""

    graph: Workflow
    baseVersion: int = Field(ge=1, description="the version this change was made on; 409 when it is not the latest")
    name: WorkflowName | None = None
    description: str | None = Field(default=None, max_length=2000)


class ActivateWorkflow(Contract):
    version: int | None = Field(default=None, ge=1, description="the version whose triggers fire; default the latest")


class TriggerInfo(Contract):
    nodeId: str
    type: str
    url: str | None = None
    nextRuns: list[datetime] | None = None


class WorkflowVersion(Contract):
    """One saved version, stored under `version.<id>.<n>` in the `workflows` bucket and never changed."""

    v: Literal[1] = 1
    workflowId: str
    version: int
    name: str
    description: str | None = None
    graph: Graph
    createdAt: datetime = Field(default_factory=utc_now)


class WorkflowHead(Contract):
    """Stored under `head.<id>`, changed only by compare-and-set: the latest version, the active one."""

    v: Literal[1] = 1
    id: WorkflowId
    name: str
    description: str | None = None
    version: int
    graph: Graph = Field(description="the latest version's graph, so the head alone answers GET")
    active: bool = False
    activeVersion: int | None = None
    activatedAt: datetime | None = Field(default=None, description="when the active version was activated")
    hooks: dict[str, str] = Field(default_factory=dict, description="webhook node id -> its unguessable hook id")
    createdAt: datetime = Field(default_factory=utc_now)
    updatedAt: datetime = Field(default_factory=utc_now)

    def summary(self, base_url: str = "") -> WorkflowSummary:
        """`base_url` (no trailing slash) is where the gateway is reached: webhook URLs are reported under it."""
        triggers = triggers_of(self.graph)
        for trigger in triggers:
            if trigger.nodeId in self.hooks:
                trigger.url = f"{base_url}/v1/hooks/{self.hooks[trigger.nodeId]}"
        return WorkflowSummary(
            id=self.id, name=self.name, description=self.description, version=self.version, active=self.active,
            activeVersion=self.activeVersion, triggers=triggers, createdAt=self.createdAt, updatedAt=self.updatedAt,
        )

    def with_hooks(self) -> WorkflowHead:
        """Every webhook node of the latest graph keeps its hook id, or gets a new one; ids of removed nodes
        are kept too, so an older version activated later still answers at the same URL."""
        hooks = dict(self.hooks)
        for node in self.graph.nodes:
            if node.type == "webhook" and node.id not in hooks:
                hooks[node.id] = secrets.token_urlsafe(24)
        return self.model_copy(update={"hooks": hooks})

    def view(self, base_url: str = "") -> WorkflowView:
        return WorkflowView(**self.summary(base_url).model_dump(), graph=self.graph)


class WorkflowSummary(Contract):
    id: str
    name: str
    description: str | None = None
    version: int
    active: bool
    activeVersion: int | None = None
    triggers: list[TriggerInfo]
    createdAt: datetime
    updatedAt: datetime


class WorkflowView(WorkflowSummary):
    """GET /v1/workflows/{id}: the latest version."""

    graph: Graph


class SchedulePreview(Contract):
    """POST /v1/schedules/preview: when a schedule config would fire next."""

    nextRuns: list[datetime]


class WorkflowList(Contract):
    workflows: list[WorkflowSummary]


class WorkflowVersionInfo(Contract):
    version: int
    name: str
    createdAt: datetime


class WorkflowVersionList(Contract):
    versions: list[WorkflowVersionInfo]


def triggers_of(graph: Graph) -> list[TriggerInfo]:
    """The trigger nodes of a graph (the compiler insists on exactly one before a run); a schedule's next three
    fire times from now."""
    found = []
    for node in graph.nodes:
        node_type = REGISTRY.get(node.type)
        if node_type is not None and node_type.kind == "trigger":
            info = TriggerInfo(nodeId=node.id, type=node_type.type)
            if node_type.type == "schedule":
                config = schedule_config(node.data.config)
                info.nextRuns = config.next_runs(utc_now()) if config is not None else None
            found.append(info)
    return found


def schedule_config(config: dict[str, Any] | None) -> ScheduleConfig | None:
    """A schedule node's config, or None while it is incomplete (a saved draft need not be valid)."""
    try:
        return ScheduleConfig.model_validate(config or {})
    except ValidationError:
        return None


class ScheduleEntry(Contract):
    """Stored under `schedule.<workflowId>.<nodeId>` while a workflow whose active version has this schedule node
    is active. Every orchestrator reads these; `lastTick` moves on by compare-and-set, and each tick's run id is
    derived from the tick, so a tick fires once however many orchestrators see it."""

    v: Literal[1] = 1
    workflowId: str
    nodeId: str
    version: int
    config: ScheduleConfig
    activatedAt: datetime
    lastTick: datetime | None = Field(default=None, description="ticks up to this one are done (fired or missed)")


class HookRef(Contract):
    """Stored under `hook.<hookId>`: which workflow and node a webhook URL belongs to."""

    workflowId: str
    nodeId: str
