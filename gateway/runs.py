"""REST endpoints for runs."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any, get_args

import nats.errors
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from starlette.requests import Request
from starlette.responses import Response

from bus import Bus
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
    RunRequested,
    RunStatus,
    ValidatedStep,
    ValidateWorkflow,
    ValidationResponse,
    WorkflowInvalid,
    compile_workflow,
    new_run_id,
)

from . import workflows
from .app_state import bus_of
from .errors import ApiException, json_response, parse_body, read_body
from .request_id import run_id as run_id_context

log = logging.getLogger(__name__)

MAX_LIST_LIMIT = 200


def _compile(body: CreateRun | ValidateWorkflow) -> Dag:
    assert body.graph is not None  # a saved workflow's graph is filled in before this
    try:
        return compile_workflow(body.graph)
    except WorkflowInvalid as invalid:
        raise ApiException(422, "validation_error", "the workflow is invalid", invalid.issues) from None


async def create_run(request: Request) -> Response:
    body = parse_body(CreateRun, await read_body(request))
    bus = bus_of(request)
    if body.workflowId is not None:
        saved = await workflows.saved_version(bus, body.workflowId, body.version)
        body = body.model_copy(update={"graph": saved.graph, "version": saved.version})
    dag = _compile(body)
    run_id = new_run_id()
    if body.idempotencyKey is not None:
        run_id, replayed = await _claim_idempotency_key(bus, body, run_id)
        if replayed:
            run_id_context.set(run_id)
            await _requeue_if_stranded(bus, body, run_id, dag)
            return json_response(CreateRunResponse(runId=run_id), 201, {"Idempotent-Replayed": "true"})
    run_id_context.set(run_id)
    await _record_and_publish(bus, body, run_id, dag)
    return json_response(CreateRunResponse(runId=run_id), 201)


async def start_saved_run(bus: Bus, run_id: str, workflow_id: str, version: int, inputs: dict[str, Any]) -> None:
    """Record and queue a run of a saved version (a webhook's, say) under `run_id`."""
    saved = await workflows.saved_version(bus, workflow_id, version)
    body = CreateRun(workflowId=workflow_id, version=version, inputs=inputs).model_copy(update={"graph": saved.graph})
    dag = _compile(body)
    run_id_context.set(run_id)
    await _record_and_publish(bus, body, run_id, dag)


async def _record_and_publish(bus: Bus, body: CreateRun, run_id: str, dag: Dag) -> None:
    # The queued record exists before the request is published, so GET works as soon as we answer.
    record = RunRecord.new(run_id, dag, body.inputs, body.idempotencyKey)
    record.workflowId, record.workflowVersion = body.workflowId, body.version
    await bus.runs.create(record)
    await _publish(bus, body, run_id)


async def _publish(bus: Bus, body: CreateRun, run_id: str) -> None:
    """Hand the run to the orchestrator. The message id is the runId, so a re-publish is dropped by the
    stream, and a re-publish the stream no longer remembers is a no-op for the orchestrator."""
    assert body.graph is not None
    message = RunRequested(runId=run_id, graph=body.graph, inputs=body.inputs, idempotencyKey=body.idempotencyKey)
    try:
        await bus.request_run(message, msg_id=run_id)
    except (nats.errors.Error, TimeoutError) as error:
        log.warning("could not publish run %s: %s", run_id, error)
        retry = "retry with the same idempotencyKey" if body.idempotencyKey else "retry"
        raise ApiException(503, "unavailable", f"the run could not be queued ({type(error).__name__}); {retry}") from None


async def _requeue_if_stranded(bus: Bus, body: CreateRun, run_id: str, dag: Dag) -> None:
    """A replay whose first attempt claimed the key but did not get the run recorded and queued does it now."""
    found = await bus.runs.get(run_id)
    if found is None:
        await _record_and_publish(bus, body, run_id, dag)
    elif found[0].status == "queued":
        await _publish(bus, body, run_id)


def _idempotency_kv_key(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


async def _claim_idempotency_key(bus: Bus, body: CreateRun, run_id: str) -> tuple[str, bool]:
    """Returns (runId, replayed). The first request with a key claims it for the duplicate window."""
    assert body.idempotencyKey is not None
    key = _idempotency_kv_key(body.idempotencyKey)
    fingerprint = hashlib.sha256(
        json.dumps(body.model_dump(mode="json", include={"graph", "inputs"}), sort_keys=True).encode()
    ).hexdigest()
    claim = IdempotencyClaim(runId=run_id, fingerprint=fingerprint).model_dump_json().encode()
    for _ in range(3):
        try:
            await bus.idempotency.create(key, claim)
            return run_id, False
        except KeyWrongLastSequenceError:
            pass
        try:
            entry = await bus.idempotency.get(key)
        except KeyNotFoundError:
            continue  # the claim expired between our two calls: claim it again
        previous = IdempotencyClaim.model_validate_json(entry.value or b"{}")
        if previous.fingerprint != fingerprint:
            raise ApiException(
                409,
                "idempotency_conflict",
                "this idempotencyKey was already used with a different request body",
                [FieldIssue(field="idempotencyKey", reason="already used with a different graph or inputs")],
            )
        return previous.runId, True
    raise ApiException(503, "unavailable", "could not claim the idempotencyKey; retry")


async def validate_workflow(request: Request) -> Response:
    body = parse_body(ValidateWorkflow, await read_body(request))
    dag = _compile(body)
    steps = [ValidatedStep(id=s.id, name=s.name, type=s.type, deps=s.deps) for s in dag.steps]
    return json_response(ValidationResponse(workflowName=dag.workflowName, steps=steps))


async def _existing_run(request: Request) -> RunRecord:
    run_id = request.path_params["run_id"]
    if not re.fullmatch(RUN_ID_PATTERN, run_id):
        raise ApiException(404, "not_found", f"no run with id {run_id!r}")
    run_id_context.set(run_id)
    found = await bus_of(request).runs.get(run_id)
    if found is None:
        raise ApiException(404, "not_found", f"no run with id {run_id!r}")
    return found[0]


async def get_run(request: Request) -> Response:
    return json_response((await _existing_run(request)).view())


async def cancel_run(request: Request) -> Response:
    record = await _existing_run(request)
    if record.finished:
        raise ApiException(409, "conflict", f"run {record.id} has already {record.status}; nothing to cancel")
    await bus_of(request).request_cancel(CancelRequested(runId=record.id, reason="cancelled through the API"))
    return json_response(CancelAccepted(runId=record.id), 202)


async def list_runs(request: Request) -> Response:
    issues = []
    limit_text = request.query_params.get("limit") or "20"
    limit = int(limit_text) if re.fullmatch(r"[0-9]{1,6}", limit_text) else 0
    if not 1 <= limit <= MAX_LIST_LIMIT:
        issues.append(FieldIssue(field="limit", reason=f"must be a whole number from 1 to {MAX_LIST_LIMIT}"))
    status = request.query_params.get("status") or None
    statuses = get_args(RunStatus)
    if status is not None and status not in statuses:
        issues.append(FieldIssue(field="status", reason=f"must be one of {', '.join(statuses)}"))
    if issues:
        raise ApiException(422, "validation_error", "invalid query parameters", issues)
    records = await bus_of(request).runs.list()
    chosen = sorted((r for r in records if status is None or r.status == status), key=lambda r: r.createdAt, reverse=True)
    return json_response(RunList(runs=[r.summary() for r in chosen[:limit]]))
