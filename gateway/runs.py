"""REST endpoints for runs."""

from __future__ import annotations

import hashlib
import json
import re
from typing import get_args

from nats.js.errors import KeyWrongLastSequenceError
from starlette.requests import Request
from starlette.responses import Response

from bus import Bus
from schemas import (
    RUN_ID_PATTERN,
    CancelRequested,
    CreateRun,
    Dag,
    CreateRunResponse,
    FieldIssue,
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

from .errors import ApiException, json_response, parse_body
from .request_id import run_id as run_id_context

MAX_LIST_LIMIT = 200


def _bus(request: Request) -> Bus:
    bus: Bus = request.app.state.bus
    return bus


def _compile(body: CreateRun | ValidateWorkflow) -> Dag:
    try:
        return compile_workflow(body.graph)
    except WorkflowInvalid as invalid:
        raise ApiException(422, "validation_error", "the workflow is invalid", invalid.issues) from None


async def create_run(request: Request) -> Response:
    body = parse_body(CreateRun, await request.body())
    dag = _compile(body)
    bus = _bus(request)
    run_id = new_run_id()
    replayed = False
    if body.idempotencyKey is not None:
        run_id, replayed = await _claim_idempotency_key(bus, body, run_id)
    if replayed:
        return json_response(CreateRunResponse(runId=run_id), 201, {"Idempotent-Replayed": "true"})
    run_id_context.set(run_id)
    try:
        # The queued record exists before the request is published, so GET works as soon as we answer.
        await bus.runs.create(RunRecord.new(run_id, dag, body.inputs, body.idempotencyKey))
        request_message = RunRequested(runId=run_id, graph=body.graph, inputs=body.inputs, idempotencyKey=body.idempotencyKey)
        await bus.request_run(request_message, msg_id=body.idempotencyKey or run_id)
    except BaseException:
        if body.idempotencyKey is not None:
            # Free the key: a retry must be able to start the run this attempt could not.
            await bus.idempotency.delete(_idempotency_kv_key(body.idempotencyKey))
        raise
    return json_response(CreateRunResponse(runId=run_id), 201)


def _idempotency_kv_key(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


async def _claim_idempotency_key(bus: Bus, body: CreateRun, run_id: str) -> tuple[str, bool]:
    """Returns (runId, replayed). The first request with a key claims it for the stream's duplicate window."""
    assert body.idempotencyKey is not None
    key = _idempotency_kv_key(body.idempotencyKey)
    fingerprint = hashlib.sha256(
        json.dumps(body.model_dump(mode="json", include={"graph", "inputs"}), sort_keys=True).encode()
    ).hexdigest()
    claim = json.dumps({"runId": run_id, "fingerprint": fingerprint}).encode()
    try:
        await bus.idempotency.create(key, claim)
        return run_id, False
    except KeyWrongLastSequenceError:
        entry = await bus.idempotency.get(key)
        previous = json.loads(entry.value or b"{}")
        if previous.get("fingerprint") != fingerprint:
            raise ApiException(
                409,
                "idempotency_conflict",
                "this idempotencyKey was already used with a different request body",
                [FieldIssue(field="idempotencyKey", reason="already used with a different graph or inputs")],
            ) from None
        return str(previous["runId"]), True


async def validate_workflow(request: Request) -> Response:
    body = parse_body(ValidateWorkflow, await request.body())
    dag = _compile(body)
    steps = [ValidatedStep(id=s.id, name=s.name, type=s.type, deps=s.deps) for s in dag.steps]
    return json_response(ValidationResponse(workflowName=dag.workflowName, steps=steps))


async def _existing_run(request: Request) -> RunRecord:
    run_id = request.path_params["run_id"]
    if not re.fullmatch(RUN_ID_PATTERN, run_id):
        raise ApiException(404, "not_found", f"no run with id {run_id!r}")
    run_id_context.set(run_id)
    found = await _bus(request).runs.get(run_id)
    if found is None:
        raise ApiException(404, "not_found", f"no run with id {run_id!r}")
    return found[0]


async def get_run(request: Request) -> Response:
    return json_response((await _existing_run(request)).view())


async def cancel_run(request: Request) -> Response:
    record = await _existing_run(request)
    if record.finished:
        raise ApiException(409, "conflict", f"run {record.id} has already {record.status}; nothing to cancel")
    await _bus(request).request_cancel(CancelRequested(runId=record.id, reason="cancelled through the API"))
    return Response(json.dumps({"runId": record.id}), status_code=202, media_type="application/json")


async def list_runs(request: Request) -> Response:
    issues = []
    limit_text = request.query_params.get("limit", "20")
    limit = int(limit_text) if limit_text.isdigit() else 0
    if not 1 <= limit <= MAX_LIST_LIMIT:
        issues.append(FieldIssue(field="limit", reason=f"must be a whole number from 1 to {MAX_LIST_LIMIT}"))
    status = request.query_params.get("status")
    statuses = get_args(RunStatus)
    if status is not None and status not in statuses:
        issues.append(FieldIssue(field="status", reason=f"must be one of {', '.join(statuses)}"))
    if issues:
        raise ApiException(422, "validation_error", "invalid query parameters", issues)
    records = await _bus(request).runs.list()
    chosen = sorted((r for r in records if status is None or r.status == status), key=lambda r: r.createdAt, reverse=True)
    return json_response(RunList(runs=[r.summary() for r in chosen[:limit]]))
