"""REST endpoints for saved workflows: create, read, change (on the latest version only), versions, activate."""

from __future__ import annotations

import re
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from bus import Bus, RecordDamaged, VersionConflict
from schemas import FieldIssue, Graph, TemplateWorkflow, WorkflowInvalid, as_graph, check_size, compile_workflow_off_loop
from schemas._base import utc_now
from schemas.node_types import ScheduleConfig
from schemas.workflows import (
    WORKFLOW_ID_PATTERN,
    ActivateWorkflow,
    CreateWorkflow,
    ScheduleEntry,
    SchedulePreview,
    UpdateWorkflow,
    WorkflowHead,
    WorkflowList,
    WorkflowVersion,
    WorkflowVersionInfo,
    WorkflowVersionList,
    new_workflow_id,
    schedule_config,
)

from . import audit
from .auth import require
from .app_state import bus_of, public_base
from .errors import ApiException, json_response, parse_body, read_body


DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 1000


def _workflow_id(request: Request) -> str:
    workflow_id: str = request.path_params["workflow_id"]
    if not re.fullmatch(WORKFLOW_ID_PATTERN, workflow_id):
        raise ApiException(404, "not_found", f"no workflow with id {workflow_id!r}")
    return workflow_id


async def existing(bus: Bus, workflow_id: str) -> tuple[WorkflowHead, int]:
    found = await bus.workflows.get(workflow_id)
    if found is None:
        raise ApiException(404, "not_found", f"no workflow with id {workflow_id!r}")
    return found


async def saved_version(bus: Bus, workflow_id: str, version: int | None) -> WorkflowVersion:
    """A saved version (default: the latest), or a 404 naming what is missing."""
    head, _ = await existing(bus, workflow_id)
    chosen = head.version if version is None else version
    found = await bus.workflows.version(workflow_id, chosen)
    if found is None:
        raise ApiException(404, "not_found", f"workflow {workflow_id!r} has no version {chosen} (latest: {head.version})",
                           [FieldIssue(field="version", reason=f"versions run from 1 to {head.version}")])
    return found


def _conflict(workflow_id: str, base: int, latest: int) -> ApiException:
    return ApiException(
        409, "conflict",
        f"workflow {workflow_id!r} changed since version {base}: the latest is version {latest}. Reload it, "
        "then save your change on top",
        [FieldIssue(field="baseVersion", reason=f"is {base}, but the latest version is {latest}")],
    )


def _check_size(request: Request, graph: Graph | TemplateWorkflow) -> None:
    """A saved workflow must be runnable by size at least: refused here rather than at activation or a run."""
    try:
        check_size(graph, bus_of(request).settings.max_graph_nodes)
    except WorkflowInvalid as invalid:
        raise ApiException(422, "validation_error", "the workflow is too large", invalid.issues) from None


async def _check_error_workflow(bus: Bus, error_workflow_id: str | None, workflow_id: str | None) -> None:
    """An error workflow must be another saved workflow: one that does not exist would be found missing only when
    a run fails, which is when it is needed."""
    if error_workflow_id is None:
        return
    if error_workflow_id == workflow_id:
        reason = "is this workflow itself: a workflow cannot handle its own failures; name another saved workflow"
    elif await bus.workflows.get(error_workflow_id) is None:
        reason = f"names no saved workflow ({error_workflow_id!r}); save the error workflow first"
    else:
        return
    raise ApiException(422, "validation_error", "the error workflow is invalid",
                       [FieldIssue(field="errorWorkflowId", reason=reason)])


def _audited(head: WorkflowHead) -> dict[str, str]:
    """What an audit entry of a saved version says about it."""
    return {"name": head.name, **({"errorWorkflowId": head.errorWorkflowId} if head.errorWorkflowId else {})}


async def create_workflow(request: Request) -> Response:
    body = parse_body(CreateWorkflow, await read_body(request))
    _check_size(request, body.graph)
    bus = bus_of(request)
    await _check_error_workflow(bus, body.errorWorkflowId, None)
    head = WorkflowHead(id=new_workflow_id(), name=body.name, description=body.description, version=1,
                        graph=as_graph(body.graph), errorWorkflowId=body.errorWorkflowId,
                        inputSchema=body.inputSchema, exposeAsTool=body.exposeAsTool).with_hooks()
    if not await bus.workflows.create(head):
        raise ApiException(503, "unavailable", "could not allocate a workflow id; retry")
    await audit.record(request, "workflow.create", head.id, head.version, **_audited(head))
    return json_response(head.view(public_base(request)), 201)


async def list_workflows(request: Request) -> Response:
    """Most recently changed first, `limit` at a time; `before` (a page's `next`) pages on. Reads the summaries
    kept beside each head, never a graph: a page costs O(limit), however large the workflows are."""
    query = request.query_params
    issues = []
    limit_text = query.get("limit") or str(DEFAULT_LIST_LIMIT)
    limit = int(limit_text) if re.fullmatch(r"[0-9]{1,5}", limit_text) else 0
    if not 1 <= limit <= MAX_LIST_LIMIT:
        issues.append(FieldIssue(field="limit", reason=f"must be a whole number from 1 to {MAX_LIST_LIMIT}"))
    before_text = query.get("before")
    before = int(before_text) if before_text and re.fullmatch(r"[1-9][0-9]{0,18}", before_text) else None
    if before_text and before is None:
        issues.append(FieldIssue(field="before", reason="must be a page's `next` (a whole number from 1)"))
    if issues:
        raise ApiException(422, "validation_error", "the query is invalid", issues)
    summaries, following = await bus_of(request).workflows.summaries(before, limit)
    base = public_base(request)
    return json_response(WorkflowList(workflows=[s.listed(base) for s in summaries], next=following))


async def get_workflow(request: Request) -> Response:
    bus = bus_of(request)
    head, _ = await existing(bus, _workflow_id(request))
    await bus.workflows.repair_summary(head)
    return json_response(head.view(public_base(request)))


async def update_workflow(request: Request) -> Response:
    workflow_id = _workflow_id(request)
    body = parse_body(UpdateWorkflow, await read_body(request))
    _check_size(request, body.graph)
    bus = bus_of(request)
    await existing(bus, workflow_id)
    # Left out, the error workflow stays as it was (as name and description do); null removes it.
    sets_error_workflow = "errorWorkflowId" in body.model_fields_set
    await _check_error_workflow(bus, body.errorWorkflowId, workflow_id)

    def changed(head: WorkflowHead) -> WorkflowHead:
        return head.model_copy(update={
            "version": head.version + 1, "graph": as_graph(body.graph), "name": body.name or head.name,
            "description": body.description if body.description is not None else head.description,
            "errorWorkflowId": body.errorWorkflowId if sets_error_workflow else head.errorWorkflowId,
            # Left out, the declared inputs stay; null removes them.
            "inputSchema": body.inputSchema if "inputSchema" in body.model_fields_set else head.inputSchema,
            "exposeAsTool": body.exposeAsTool if body.exposeAsTool is not None else head.exposeAsTool,
            "updatedAt": utc_now(),
        }).with_hooks()

    try:
        head = await bus.workflows.save(workflow_id, body.baseVersion, changed)
    except VersionConflict as conflict:
        raise _conflict(workflow_id, body.baseVersion, conflict.latest) from None
    except KeyError:
        raise ApiException(404, "not_found", f"no workflow with id {workflow_id!r}") from None
    await audit.record(request, "workflow.update", workflow_id, head.version, **_audited(head))
    return json_response(head.view(public_base(request)))


async def delete_workflow(request: Request) -> Response:
    workflow_id = _workflow_id(request)
    bus = bus_of(request)
    try:
        found = await bus.workflows.get(workflow_id)
    except RecordDamaged:
        # Whether it was active cannot be read: deleting it may switch triggers off, an admin's call.
        require(request, "admin", "deleting a workflow whose stored head is damaged")
        await bus.workflows.delete(workflow_id)
        await audit.record(request, "workflow.delete", workflow_id, damaged=True)
        return Response(status_code=204)
    if found is None:
        if await bus.workflows.forget_summary(workflow_id):
            return Response(status_code=204)  # a delete cut short after the head went: now finished
        raise ApiException(404, "not_found", f"no workflow with id {workflow_id!r}")
    head = found[0]
    if head.active:
        # Deleting switches its triggers off, which only an admin may do (as deactivating).
        require(request, "admin", "deleting an active workflow")
    await bus.workflows.delete(workflow_id)
    await audit.record(request, "workflow.delete", workflow_id, head.version, name=head.name)
    return Response(status_code=204)


async def list_versions(request: Request) -> Response:
    workflow_id = _workflow_id(request)
    bus = bus_of(request)
    await existing(bus, workflow_id)
    infos = []
    for number in await bus.workflows.versions(workflow_id):
        version = await bus.workflows.version(workflow_id, number)
        if version is not None:
            infos.append(WorkflowVersionInfo(version=version.version, name=version.name, createdAt=version.createdAt))
    return json_response(WorkflowVersionList(versions=infos))


async def get_version(request: Request) -> Response:
    text = request.path_params["version"]
    if not re.fullmatch(r"[1-9][0-9]{0,8}", text):
        raise ApiException(404, "not_found", f"no version {text!r}",
                           [FieldIssue(field="version", reason="must be a whole number from 1")])
    return json_response(await saved_version(bus_of(request), _workflow_id(request), int(text)))


async def activate_workflow(request: Request) -> Response:
    workflow_id = _workflow_id(request)
    raw = await read_body(request)
    body = parse_body(ActivateWorkflow, raw) if raw.strip() else ActivateWorkflow()
    bus = bus_of(request)
    version = await saved_version(bus, workflow_id, body.version)
    try:
        await compile_workflow_off_loop(version.graph, bus.settings.max_graph_nodes)
    except WorkflowInvalid as invalid:
        raise ApiException(422, "validation_error", f"version {version.version} cannot run, so it cannot be activated",
                           invalid.issues) from None
    now = utc_now()
    # Schedules first: the scheduler fires one only while the head says its version is active.
    await bus.workflows.set_schedules(workflow_id, _schedules(workflow_id, version, now))
    head, _ = await _set_active(bus, workflow_id, version.version, now)
    await audit.record(request, "workflow.activate", workflow_id, version.version)
    return json_response(head.view(public_base(request)))


async def deactivate_workflow(request: Request) -> Response:
    workflow_id = _workflow_id(request)
    bus = bus_of(request)
    head, was_active = await _set_active(bus, workflow_id, None, utc_now())
    await bus.workflows.set_schedules(workflow_id, [])
    # The version whose triggers stopped firing (None when none was active), not merely the latest.
    await audit.record(request, "workflow.deactivate", workflow_id, was_active)
    return json_response(head.view(public_base(request)))


def _schedules(workflow_id: str, version: WorkflowVersion, now: datetime) -> list[ScheduleEntry]:
    entries = []
    for node in version.graph.nodes:
        config = schedule_config(node.data.config) if node.type == "schedule" else None
        if config is not None:
            entries.append(ScheduleEntry(workflowId=workflow_id, nodeId=node.id, version=version.version,
                                         config=config, activatedAt=now))
    return entries


async def _set_active(bus: Bus, workflow_id: str, version: int | None, now: datetime) -> tuple[WorkflowHead, int | None]:
    """The changed head, and the version that was active before."""
    for _ in range(5):
        head, revision = await existing(bus, workflow_id)
        changed = head.model_copy(update={"active": version is not None, "activeVersion": version,
                                          "activatedAt": now if version is not None else None, "updatedAt": now})
        try:
            await bus.workflows.change(workflow_id, revision, changed)
        except VersionConflict:
            continue  # a save landed meanwhile; activation applies on top of it
        return changed, head.activeVersion
    raise ApiException(503, "unavailable", "the workflow kept changing; retry")


async def preview_schedule(request: Request) -> Response:
    """POST /v1/schedules/preview: the next fire times of a schedule config, as the orchestrators will fire it."""
    config = parse_body(ScheduleConfig, await read_body(request))
    return json_response(SchedulePreview(nextRuns=config.next_runs(utc_now())))
