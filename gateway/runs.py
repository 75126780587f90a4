"""REST endpoints for runs."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, get_args

from starlette.requests import Request
from starlette.responses import Response

from bus import Bus, BusUnavailable, TooLarge
from schemas import (
    RUN_ID_PATTERN,
    CancelAccepted,
    CancelRequested,
    CreateRun,
    CreateRunResponse,
    Dag,
    FieldIssue,
    IdempotencyClaim,
    RunList,
    RunRecord,
    RunResult,
    RunStatus,
    RunSummary,
    RunTrigger,
    StepOutput,
    ValidatedStep,
    ValidateWorkflow,
    ValidationResponse,
    WorkflowInvalid,
    as_graph,
    compile_workflow_off_loop,
    new_run_id,
    partial_run,
    run_inputs,
)
from schemas.input_schema import input_issues

from . import workflows
from .app_state import bus_of, public_base, saved_of
from .auth import principal_name, principal_of, require, via_session
from .errors import ApiException, json_response, parse_body, read_body
from .request_id import run_id as run_id_context
from .resume import may_see_resume_urls, with_resume_url
from .run_outcome import last_output, run_end
from .saved_versions import CompiledVersion

log = logging.getLogger(__name__)

MAX_LIST_LIMIT = 200


async def _compile(bus: Bus, body: CreateRun | ValidateWorkflow) -> Dag:
    assert body.graph is not None  # a saved workflow's graph is filled in before this
    try:
        return await compile_workflow_off_loop(body.graph, bus.settings.max_graph_nodes)
    except WorkflowInvalid as invalid:
        raise ApiException(422, "validation_error", "the workflow is invalid", invalid.issues) from None


# How long `POST /v1/runs?wait=` may hold the request open.
MAX_RUN_WAIT_S = 300


async def create_run(request: Request) -> Response:
    wait_s = _wait_of(request)
    body = parse_body(CreateRun, await read_body(request))
    bus = bus_of(request)
    dag: Dag | None = None
    if body.pinData or body.runTo is not None:
        # A pin stands in for any step: an approval, the trigger (and so the inputs' check), what a credential's
        # request is built from. The builder's tool, an editor's: a runner runs workflows as they are.
        require(request, "editor", "pinning outputs or running part of a workflow (pinData, runTo)")
    if body.workflowId is None:
        require(request, "editor", "running an unsaved draft (graph)")
    else:
        compiled = await _saved(request, body.workflowId, body.version)
        body = body.model_copy(update={"graph": compiled.saved.graph, "version": compiled.saved.version})
        dag = compiled.dag
        _check_inputs(compiled, body)
    inputs_given = bool(body.inputs)
    body = _with_sample_payload(body)
    if dag is None:
        dag = await _compile(bus, body)
    dag, body = _pinned(dag, body, inputs_given)
    started = _Started(trigger="manual" if via_session(request) else "api", by=principal_name(request))
    run_id = new_run_id()
    replayed = False
    if body.idempotencyKey is not None:
        run_id, replayed = await _claim_idempotency_key(bus, body, run_id)
    run_id_context.set(run_id)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    if wait_s is None:
        await _submit(bus, body, run_id, dag, started)  # a replay queues it, if its first request died before that
        return json_response(CreateRunResponse(runId=run_id), 201, headers)
    # Followed before it is queued: its events arrive live, and its end is known without reading the run.
    async with bus.follow_run(run_id) as follow:
        record = await _submit(bus, body, run_id, dag, started)
        ended = await run_end(bus, follow, None if replayed else record, wait_s)
    if ended is None:
        return json_response(CreateRunResponse(runId=run_id), 202, headers)
    result = RunResult(runId=run_id, status=ended.status, error=ended.error, output=await last_output(bus, ended),
                       durationMs=ended.summary().durationMs)
    return json_response(result, 201, headers)


def _wait_of(request: Request) -> float | None:
    """`?wait=SECONDS`: answer with the run's result if it ends within that long (else 202 with its id)."""
    text = request.query_params.get("wait")
    if text is None:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= MAX_RUN_WAIT_S:
        raise ApiException(422, "validation_error", "wait must be a number of seconds",
                           [FieldIssue(field="wait", reason=f"must be a number of seconds above 0 and at most "
                                                            f"{MAX_RUN_WAIT_S}")])
    return seconds


async def _saved(request: Request, workflow_id: str, version: int | None) -> CompiledVersion:
    """A saved version, compiled (kept by the gateway: a version never changes), or a 404 or 422 saying why."""
    bus = bus_of(request)
    if version is None:  # the latest: one small read of the head, its graph not built
        head = await bus.workflows.activation(workflow_id)
        if head is None:
            await workflows.existing(bus, workflow_id)  # raises the 404 (or says the head is damaged)
            raise ApiException(404, "not_found", f"no workflow with id {workflow_id!r}")
        version = head.version
    try:
        compiled = await saved_of(request).compiled(workflow_id, version)
    except WorkflowInvalid as invalid:
        raise ApiException(422, "validation_error", "the workflow is invalid", invalid.issues) from None
    if compiled is None:
        await workflows.saved_version(bus, workflow_id, version)  # raises the 404 that names what is missing
        raise ApiException(404, "not_found", f"workflow {workflow_id!r} has no version {version}")
    return compiled


def _check_inputs(compiled: CompiledVersion, body: CreateRun) -> None:
    """A saved workflow that declares its inputs (`inputSchema`) runs only with inputs that satisfy it; a run whose
    trigger is pinned (an editor testing it in the builder: pins need the editor role) begins with the pin instead,
    and is not checked."""
    if any(compiled.dag.has(step_id) and compiled.dag.step(step_id).completes == "trigger" for step_id in body.pinData):
        return
    if issues := input_issues(compiled.saved.inputSchema, body.inputs):
        raise ApiException(422, "validation_error", "the inputs do not satisfy the workflow's input schema", issues)


def _pinned(dag: Dag, body: CreateRun, inputs_given: bool) -> tuple[Dag, CreateRun]:
    """`pinData` and `runTo` written into the run's DAG (schemas/pins.py); a pinned trigger's output becomes the
    inputs. Only this route takes them: a webhook's or a schedule's run never has pins."""
    try:
        dag, inputs = partial_run(dag, body.inputs, body.pinData, body.runTo, inputs_given)
    except WorkflowInvalid as invalid:
        raise ApiException(422, "validation_error", "pinData or runTo does not fit the workflow",
                           invalid.issues) from None
    return dag, body if inputs is body.inputs else body.model_copy(update={"inputs": inputs})


def _with_sample_payload(body: CreateRun) -> CreateRun:
    """A manual run of a webhook or schedule workflow, given no inputs, uses the sample payload the user keeps on
    its trigger: the run then sees what a real request or tick would bring."""
    if body.inputs or body.graph is None:
        return body
    graph = as_graph(body.graph)
    for node in graph.nodes:
        if node.type in ("webhook", "schedule") and node.data.samplePayload is not None:
            return body.model_copy(update={"inputs": {"payload": node.data.samplePayload}})
    return body


@dataclass(frozen=True)
class _Started:
    trigger: RunTrigger
    by: str | None


async def start_compiled_run(bus: Bus, run_id: str, compiled: CompiledVersion, inputs: dict[str, Any],
                             trigger: RunTrigger, by: str | None = None) -> RunRecord:
    """Record and queue a run of a saved, compiled version (a webhook's, say) under `run_id`; the record as
    created."""
    saved = compiled.saved
    body = CreateRun(workflowId=saved.workflowId, version=saved.version, inputs=inputs)
    run_id_context.set(run_id)
    return await _submit(bus, body, run_id, compiled.dag, _Started(trigger=trigger, by=by))


async def _submit(bus: Bus, body: CreateRun, run_id: str, dag: Dag, started: _Started) -> RunRecord:
    record = RunRecord.new(run_id, dag, body.inputs, body.idempotencyKey, trigger=started.trigger,
                           started_by=started.by, workflow_id=body.workflowId, workflow_version=body.version)
    try:
        # A saved workflow's run is queued by name; a draft's carries its graph.
        await bus.submit_run(record, None if body.workflowId is not None or body.graph is None else as_graph(body.graph))
    except TooLarge as error:
        raise ApiException(413, "bad_request", str(error)) from None
    except BusUnavailable as error:
        log.warning("could not queue run %s: %s", run_id, error)
        retry = "retry with the same idempotencyKey" if body.idempotencyKey else "retry"
        raise ApiException(503, "unavailable", f"the run could not be queued ({type(error).__name__}); {retry}") from None
    return record


def _idempotency_kv_key(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


async def _claim_idempotency_key(bus: Bus, body: CreateRun, run_id: str) -> tuple[str, bool]:
    """Returns (runId, replayed). The first request with a key claims it for the duplicate window."""
    assert body.idempotencyKey is not None
    key = _idempotency_kv_key(body.idempotencyKey)
    fingerprint = hashlib.sha256(
        json.dumps(body.model_dump(mode="json", include={"graph", "inputs", "pinData", "runTo"}), sort_keys=True).encode()
    ).hexdigest()
    claim = IdempotencyClaim(runId=run_id, fingerprint=fingerprint).model_dump_json().encode()
    try:
        found = await bus.idempotency.claim(key, claim)
    except BusUnavailable:
        raise ApiException(503, "unavailable", "could not claim the idempotencyKey; retry") from None
    if found is None:
        return run_id, False
    previous = IdempotencyClaim.model_validate_json(found or b"{}")
    if previous.fingerprint != fingerprint:
        raise ApiException(
            409,
            "idempotency_conflict",
            "this idempotencyKey was already used with a different request body",
            [FieldIssue(field="idempotencyKey", reason="already used with a different graph or inputs")],
        )
    return previous.runId, True


async def validate_workflow(request: Request) -> Response:
    body = parse_body(ValidateWorkflow, await read_body(request))
    dag = await _compile(bus_of(request), body)
    steps = [ValidatedStep(id=s.id, name=s.name, type=s.type, deps=s.deps) for s in dag.steps]
    return json_response(ValidationResponse(workflowName=dag.workflowName, steps=steps, inputs=run_inputs(dag)))


async def existing_run(request: Request) -> RunRecord:
    run_id = request.path_params["run_id"]
    if not re.fullmatch(RUN_ID_PATTERN, run_id):
        raise ApiException(404, "not_found", f"no run with id {run_id!r}")
    run_id_context.set(run_id)
    found = await bus_of(request).runs.get(run_id)
    if found is None:
        raise ApiException(404, "not_found", f"no run with id {run_id!r}")
    return found[0]


async def get_run(request: Request) -> Response:
    record = await existing_run(request)
    view = record.view()
    seed = record.seed if may_see_resume_urls(principal_of(request).role) else None
    base = public_base(request)
    view.steps = [with_resume_url(step, record.id, seed, base) for step in view.steps]
    return json_response(view)


async def get_step_output(request: Request) -> Response:
    """GET /v1/runs/{id}/steps/{stepId}/output: a step's output and request, wherever they are kept (a large one
    is stored apart, and the run's state holds only its reference)."""
    record = await existing_run(request)
    step_id = request.path_params["step_id"]
    try:
        step = record.step(step_id)
    except KeyError:
        raise ApiException(404, "not_found", f"run {record.id} has no step {step_id!r}") from None
    if step.outputRef is None:
        return json_response(StepOutput(output=step.output, request=step.request))
    stored = await bus_of(request).step_outputs.get(step.outputRef)
    if stored is None:
        raise ApiException(404, "not_found", f"step {step_id!r} of run {record.id}: its output has expired")
    return json_response(stored)


async def cancel_run(request: Request) -> Response:
    record = await existing_run(request)
    if record.finished:
        raise ApiException(409, "conflict", f"run {record.id} has already {record.status}; nothing to cancel")
    # Who pressed Cancel, in words: the run's error and History show it as it is.
    reason = f"cancelled by {principal_name(request) or 'a user'}"
    await bus_of(request).request_cancel(CancelRequested(runId=record.id, reason=reason))
    return json_response(CancelAccepted(runId=record.id), 202)


async def rerun(request: Request) -> Response:
    """POST /v1/runs/{id}/rerun: the same saved version with the same inputs, as a new run."""
    record = await existing_run(request)
    if record.workflowId is None or record.workflowVersion is None:
        raise ApiException(409, "conflict", f"run {record.id} is of an unsaved draft, which is not kept: open the "
                           "workflow in the builder and run it, or save it first to re-run its runs")
    bus = bus_of(request)
    saved = await workflows.saved_version(bus, record.workflowId, record.workflowVersion)
    body = CreateRun(workflowId=record.workflowId, version=record.workflowVersion, inputs=record.inputs)
    body = body.model_copy(update={"graph": saved.graph})
    run_id = new_run_id()
    run_id_context.set(run_id)
    started = _Started(trigger="manual" if via_session(request) else "api", by=principal_name(request))
    await _submit(bus, body, run_id, await _compile(bus, body), started)
    return json_response(CreateRunResponse(runId=run_id), 201)


async def list_runs(request: Request) -> Response:
    """Most recently changed first, filtered by workflowId, status and trigger; `before` (a run id) pages back."""
    query = request.query_params
    issues = []
    limit_text = query.get("limit") or "20"
    limit = int(limit_text) if re.fullmatch(r"[0-9]{1,6}", limit_text) else 0
    if not 1 <= limit <= MAX_LIST_LIMIT:
        issues.append(FieldIssue(field="limit", reason=f"must be a whole number from 1 to {MAX_LIST_LIMIT}"))
    choices = {"status": get_args(RunStatus), "trigger": get_args(RunTrigger)}
    for name, allowed in choices.items():
        if query.get(name) and query[name] not in allowed:
            issues.append(FieldIssue(field=name, reason=f"must be one of {', '.join(allowed)}"))
    for name in ("workflowId", "before", "parentRunId"):
        if query.get(name) and not re.fullmatch(RUN_ID_PATTERN, query[name]):
            issues.append(FieldIssue(field=name, reason="must be an id: letters, digits, '_' or '-'"))
    if issues:
        raise ApiException(422, "validation_error", "invalid query parameters", issues)
    if query.get("parentRunId"):
        return json_response(await _child_runs(request, query["parentRunId"], limit))
    # The index holds one summary per run, newest change last: a page costs O(limit), not O(stored runs).
    page, more = await bus_of(request).runs.index.page(
        query.get("workflowId") or None, query.get("status") or None, query.get("trigger") or None,
        query.get("before") or None, limit,
    )
    return json_response(RunList(runs=page, next=page[-1].id if more and page else None))


async def _child_runs(request: Request, parent_id: str, limit: int) -> RunList:
    """GET /v1/runs?parentRunId=X: the runs X's subworkflow steps started (a loop's items are shown through their
    loop: GET …/steps/{stepId}/items), newest first, filtered as the list is. Read through X's steps, so the cost
    is X's, whatever else is stored."""
    query = request.query_params
    bus = bus_of(request)
    found = await bus.runs.get(parent_id)
    if found is None:
        raise ApiException(404, "not_found", f"no run with id {parent_id!r}",
                           [FieldIssue(field="parentRunId", reason="names no run")])
    child_ids = list(dict.fromkeys(step.childRunId for step in found[0].steps if step.childRunId))
    summaries = await asyncio.gather(*(_summary_of(bus, run_id) for run_id in child_ids))
    wanted = {name: query[name] for name in ("workflowId", "status", "trigger") if query.get(name)}
    runs = sorted((s for s in summaries if s is not None and s.parentRunId == parent_id
                   and all(getattr(s, name) == value for name, value in wanted.items())),
                  key=lambda s: (s.createdAt, s.id), reverse=True)
    before = query.get("before")
    if before:
        ids = [s.id for s in runs]
        runs = runs[ids.index(before) + 1:] if before in ids else []
    return RunList(runs=runs[:limit], next=runs[limit - 1].id if len(runs) > limit else None)


async def _summary_of(bus: Bus, run_id: str) -> RunSummary | None:
    """A listed run's summary from the index (one read), else from its record (one written but not yet indexed)."""
    summary = await bus.runs.index.summary(run_id)
    if summary is not None:
        return summary
    found = await bus.runs.get(run_id)
    return found[0].summary() if found is not None and found[0].listed else None
