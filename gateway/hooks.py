"""POST /v1/hooks/{hookId}: a webhook request starts a run of its active workflow.

Checked in this order, each refusal starting nothing: the hook exists and its workflow is active (404), the method
is one the hook accepts (405 with Allow), the body fits (413), the signature is right (401), the body is what its
Content-Type says (400), the event is not a repeat (200 with the first run). Then the run starts,
and the answer is 202 at once, or, in lastNode mode, the last step's output once the run ends.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bus import Bus, BusUnavailable, CredentialMissing, DecryptionError
from schemas import TERMINAL_RUN_STATUSES, CreateRunResponse, FieldIssue, new_run_id
from schemas.api import HookAccepted
from schemas.masking import mask_headers
from schemas.node_types import WebhookConfig
from schemas.node_types.webhook import DEDUPE_PATH

from .app_state import bus_of, credentials_of
from .errors import ApiException, json_response, read_body
from .payloads import payload_body
from .runs import start_saved_run
from .signatures import STRIPE_HEADER, SignatureInvalid, check_hmac_sha256, check_stripe

log = logging.getLogger(__name__)

_HOOK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# What reaches a hook at all; each hook then accepts only its own `methods`.
HOOK_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


async def receive_hook(request: Request) -> Response:
    bus = bus_of(request)
    hook_id = request.path_params["hook_id"]
    not_found = ApiException(404, "not_found", "no active webhook at this address")
    ref = await bus.workflows.hook(hook_id) if _HOOK_ID.fullmatch(hook_id) else None
    found = await bus.workflows.get(ref.workflowId) if ref is not None else None
    if ref is None or found is None or not found[0].active or found[0].activeVersion is None:
        raise not_found
    head = found[0]
    version = await bus.workflows.version(head.id, head.activeVersion)  # type: ignore[arg-type]
    node = next((n for n in version.graph.nodes if n.id == ref.nodeId and n.type == "webhook"), None) if version else None
    if version is None or node is None:
        raise not_found  # the activated version has no such webhook node
    config = WebhookConfig.model_validate(node.data.config or {})
    if request.method not in config.methods:
        allowed = ", ".join(config.methods)
        raise ApiException(405, "method_not_allowed", f"this webhook accepts {allowed}, not {request.method}",
                           [FieldIssue(field="method", reason=f"must be {' or '.join(config.methods)} (the webhook's "
                                                               "Methods setting)")], headers={"Allow": allowed})
    raw = await read_body(request)
    await _verify(config, raw, request)  # on the bytes as sent, before anything unauthenticated is parsed
    body = payload_body(raw, request.headers.get("content-type", ""), dict(request.query_params), request.method)

    payload = {"body": body, "headers": mask_headers(dict(request.headers)),
               "query": dict(request.query_params), "method": request.method}
    run_id = new_run_id()
    claim = await _dedupe_claim(bus, head.id, node.id, config, payload, run_id)
    if claim is not None and claim[0] != run_id:
        return json_response(HookAccepted(runId=claim[0]), 200)
    try:
        await start_saved_run(bus, run_id, head.id, version.version, {"payload": payload}, "webhook")
    except BaseException:
        if claim is not None:  # no run started: let the sender's retry through
            await bus.hook_dedupe.release(claim[1])
        raise
    if config.responseMode == "lastNode":
        return await _last_node_answer(bus, run_id, config.responseTimeoutMs / 1000)
    return json_response(CreateRunResponse(runId=run_id), 202)


async def _verify(config: WebhookConfig, raw: bytes, request: Request) -> None:
    verify = config.verify
    if verify.kind == "none":
        return
    store = credentials_of(request)
    assert verify.credentialName is not None  # the model insists
    try:
        secret = await store.reveal(verify.credentialName)
    except (CredentialMissing, DecryptionError) as error:
        log.warning("webhook cannot check signatures: %s", error)
        raise ApiException(401, "unauthorized", f"the signature cannot be checked: {error}") from None
    try:
        if verify.kind == "stripe":
            check_stripe(raw, request.headers.get(STRIPE_HEADER), secret)
        else:
            assert verify.header is not None
            check_hmac_sha256(raw, verify.header, request.headers.get(verify.header), secret)
    except SignatureInvalid as invalid:
        raise ApiException(401, "unauthorized", f"signature rejected: {invalid}",
                           [FieldIssue(field=verify.header or STRIPE_HEADER, reason=str(invalid))]) from None


async def _dedupe_claim(
    bus: Bus, workflow_id: str, node_id: str, config: WebhookConfig, payload: dict[str, Any], run_id: str
) -> tuple[str, str] | None:
    """(the runId the event belongs to, the claim's key); None when the hook has no dedupeKey or the event lacks
    it. The claim holds the run id from the start, so a repeat always finds the first run's id."""
    if config.dedupeKey is None:
        return None
    match = DEDUPE_PATH.match(config.dedupeKey)
    value: Any = {"payload": payload}
    for part in match.group(1).split(".") if match else ():
        value = value.get(part) if isinstance(value, dict) else None
    if value is None or isinstance(value, (dict, list)):
        return None  # no key in this event: nothing to deduplicate on
    key = hashlib.sha256(f"{workflow_id}\x00{node_id}\x00{value}".encode()).hexdigest()
    try:
        found = await bus.hook_dedupe.claim(key, run_id.encode())
    except BusUnavailable:
        raise ApiException(503, "unavailable", "could not claim the event's dedupeKey; retry") from None
    return (run_id if found is None else found.decode()), key


async def _last_node_answer(bus: Bus, run_id: str, timeout_s: float) -> Response:
    try:
        async with asyncio.timeout(timeout_s):
            async for event in bus.run_events(run_id, tick=timeout_s):
                if event is not None and event.type == "run" and event.status in TERMINAL_RUN_STATUSES:
                    break
    except TimeoutError:
        return json_response(CreateRunResponse(runId=run_id), 202)
    found = await bus.runs.get(run_id)
    if found is None:
        return json_response(CreateRunResponse(runId=run_id), 202)
    record = found[0]
    if record.status != "succeeded":
        raise ApiException(502, "run_failed", f"run {run_id} {record.status}: {record.error or 'no reason given'}")
    ran = [s for s in record.steps if s.status == "succeeded"]
    output = await bus.step_outputs.output_of(ran[-1]) if ran else None
    return JSONResponse(output, headers={"X-AutomateOS-Run-Id": run_id})
