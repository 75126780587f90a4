"""Saved workflows: every version kept, one head per workflow that says which is latest and which is active."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from ._base import Contract, utc_now
from .graph import Graph
from .input_schema import InputSchema
from .messages import Workflow
from .node_types import REGISTRY, ScheduleConfig
from .runs import WORKFLOW_ID_PATTERN as WORKFLOW_ID_PATTERN
from .runs import WorkflowId as WorkflowId

WorkflowName = Annotated[str, Field(min_length=1, max_length=200)]


def new_workflow_id() -> str:
    return "wf_" + secrets.token_hex(8)


_EXPOSE = ("offered as a tool by the MCP server (/mcp) while the workflow is active, with its name, description and "
           "inputSchema")

_ERROR_WORKFLOW = ("the saved workflow to run, once, when a run of this version fails (trigger 'error', with "
                   "payload.failedRun); null: none")


class CreateWorkflow(Contract):
    """POST /v1/workflows. The graph is kept as drawn: it need not be complete to be saved, only to run."""

    name: WorkflowName
    graph: Workflow
    description: str | None = Field(default=None, max_length=2000)
    errorWorkflowId: WorkflowId | None = Field(default=None, description=_ERROR_WORKFLOW)
    inputSchema: InputSchema | None = None
    exposeAsTool: bool = Field(default=False, description=_EXPOSE)


class UpdateWorkflow(Contract):
    """PUT /v1/workflows/{id}: a new version, accepted only on top of the latest one (`baseVersion`)."""

    graph: Workflow
    baseVersion: int = Field(ge=1, description="the version this change was made on; 409 when it is not the latest")
    name: WorkflowName | None = None
    description: str | None = Field(default=None, max_length=2000)
    errorWorkflowId: WorkflowId | None = Field(default=None, description=_ERROR_WORKFLOW)
    inputSchema: InputSchema | None = Field(default=None, description="left out: the latest version's is kept")
    exposeAsTool: bool | None = Field(default=None, description=_EXPOSE + "; left out: the latest version's is kept")


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
    errorWorkflowId: str | None = Field(default=None, description=_ERROR_WORKFLOW)
    inputSchema: dict[str, Any] | None = Field(default=None, description="the JSON Schema this version's runs' "
                                               "inputs must satisfy")
    exposeAsTool: bool = Field(default=False, description=_EXPOSE)
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
    errorWorkflowId: str | None = Field(default=None, description="the latest version's: " + _ERROR_WORKFLOW)
    inputSchema: dict[str, Any] | None = Field(default=None, description="the latest version's")
    exposeAsTool: bool = Field(default=False, description="the latest version's: " + _EXPOSE)
    createdAt: datetime = Field(default_factory=utc_now)
    updatedAt: datetime = Field(default_factory=utc_now)

    def summary(self, base_url: str = "") -> WorkflowSummary:
        """`base_url` (no trailing slash) is where the gateway is reached: webhook URLs are reported under it."""
        return self.stored_summary().listed(base_url)

    def stored_summary(self) -> StoredWorkflowSummary:
        triggers = []
        for node in self.graph.nodes:
            node_type = REGISTRY.get(node.type)
            if node_type is not None and node_type.kind == "trigger":
                schedule = schedule_config(node.data.config) if node_type.type == "schedule" else None
                triggers.append(StoredTrigger(nodeId=node.id, type=node_type.type, hookId=self.hooks.get(node.id),
                                              schedule=schedule))
        return StoredWorkflowSummary(**self.model_dump(include=_LISTED), triggers=triggers)

    def with_hooks(self) -> WorkflowHead:
        """Every webhook node of the latest graph keeps its hook id, or gets a new one; ids of removed nodes
        are kept too, so an older version activated later still answers at the same URL."""
        hooks = dict(self.hooks)
        for node in self.graph.nodes:
            if node.type == "webhook" and node.id not in hooks:
                hooks[node.id] = secrets.token_urlsafe(24)
        return self.model_copy(update={"hooks": hooks})

    def view(self, base_url: str = "") -> WorkflowView:
        return WorkflowView(**self.summary(base_url).model_dump(), graph=self.graph, errorWorkflowId=self.errorWorkflowId)


class ListedWorkflow(Contract):
    """What a list shows of a workflow besides its triggers: said once for the answer and for the stored summary."""

    id: str
    name: str
    description: str | None = None
    version: int
    active: bool
    activeVersion: int | None = None
    # Listed, so the MCP server's tools/list reads the summaries it already keeps, not every head's graph.
    exposeAsTool: bool = False
    inputSchema: dict[str, Any] | None = None
    createdAt: datetime
    updatedAt: datetime


_LISTED = set(ListedWorkflow.model_fields)


class WorkflowSummary(ListedWorkflow):
    triggers: list[TriggerInfo]


class StoredTrigger(Contract):
    nodeId: str
    type: str
    hookId: str | None = None
    schedule: ScheduleConfig | None = Field(default=None, description="a schedule trigger's config, when complete")


class StoredWorkflowSummary(ListedWorkflow):
    """Stored under `summary.<id>` beside the head, and rewritten with it: what a list shows, without the graph,
    so listing reads a few hundred bytes per workflow instead of parsing every graph."""

    v: Literal[1] = 1
    triggers: list[StoredTrigger]

    def listed(self, base_url: str = "") -> WorkflowSummary:
        """Webhook URLs under `base_url`; a schedule's next three fire times from now."""
        triggers = []
        for stored in self.triggers:
            info = TriggerInfo(nodeId=stored.nodeId, type=stored.type)
            if stored.hookId is not None:
                info.url = f"{base_url}/v1/hooks/{stored.hookId}"
            if stored.type == "schedule":
                info.nextRuns = stored.schedule.next_runs(utc_now()) if stored.schedule is not None else None
            triggers.append(info)
        return WorkflowSummary(**self.model_dump(include=_LISTED), triggers=triggers)


class WorkflowView(WorkflowSummary):
    """GET /v1/workflows/{id}: the latest version."""

    graph: Graph
    errorWorkflowId: str | None = Field(default=None, description=_ERROR_WORKFLOW)


class SchedulePreview(Contract):
    """POST /v1/schedules/preview: when a schedule config would fire next."""

    nextRuns: list[datetime]


class WorkflowList(Contract):
    """GET /v1/workflows: most recently changed first, a page at a time."""

    workflows: list[WorkflowSummary]
    next: int | None = Field(default=None, description="pass as `before` for the next page; None on the last")


class WorkflowVersionInfo(Contract):
    version: int
    name: str
    createdAt: datetime


class WorkflowVersionList(Contract):
    versions: list[WorkflowVersionInfo]


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


class WorkflowActivation(Contract):
    """What a run needs of a head: its latest version, whether it is live and which version, its hooks. Read from
    the head's stored JSON; the graph and the rest are skipped, not built."""

    id: str
    version: int
    active: bool = False
    activeVersion: int | None = None
    hooks: dict[str, str] = Field(default_factory=dict)


class HookRef(Contract):
    """Stored under `hook.<hookId>`: which workflow and node a webhook URL belongs to."""

    workflowId: str
    nodeId: str
