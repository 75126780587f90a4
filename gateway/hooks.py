"""POST /v1/hooks/{hookId}: a webhook request starts a run of its active workflow.

Checked in this order, each refusal starting nothing: the hook exists and its workflow is active (404), the method
is one the hook accepts (405 with Allow), the body fits (413), the signature is right (401), the body is what its
Content-Type says (400), the event is not a repeat (200 with the first run). Then the run starts,
and the answer is 202 at once, or, in lastNode mode, the last step's output once the run ends.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bus import Bus, BusUnavailable, CredentialMissing, DecryptionError, RunFollow
from schemas import CreateRunResponse, FieldIssue, Node, RunRecord, new_run_id
from schemas.api import HookAccepted
from schemas.masking import mask_headers
from schemas.node_types import WebhookConfig
from schemas.node_types.webhook import DEDUPE_PATH

from .app_state import bus_of, credentials_of, saved_of
from .errors import ApiException, json_response, read_body
from .payloads import payload_body
from .run_outcome import last_output, run_end
from .runs import start_compiled_run
from .saved_versions import CompiledVersion, SavedVersions
from .signatures import STRIPE_HEADER, SignatureInvalid, check_hmac_sha256, check_stripe

log = logging.getLogger(__name__)

_HOOK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# What reaches a hook at all; each hook then accepts only its own `methods`.
HOOK_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


async def receive_hook(request: Request) -> Response:
    bus = bus_of(request)
    hook_id = request.path_params["hook_id"]
    not_found = ApiException(404, "not_found", "no active webhook at this address")
    live = await _live_hook(saved_of(request), bus, hook_id) if _HOOK_ID.fullmatch(hook_id) else None
    if live is None:
        raise not_found
    compiled, node = live
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
    workflow_id = compiled.saved.workflowId
    claim = await _dedupe_claim(bus, workflow_id, node.id, config, payload, run_id)
    if claim is not None and claim[0] != run_id:
        return json_response(HookAccepted(runId=claim[0]), 200)
    if config.responseMode != "lastNode":
        await _start(bus, run_id, compiled, payload, claim)
        return json_response(CreateRunResponse(runId=run_id), 202)
    # Followed before it exists, so every event of the run arrives live: nothing stored needs reading.
    async with bus.follow_run(run_id) as follow:
        record = await _start(bus, run_id, compiled, payload, claim)
        return await _last_node_answer(bus, follow, record, config.responseTimeoutMs / 1000)


async def _live_hook(saved: SavedVersions, bus: Bus, hook_id: str) -> tuple[CompiledVersion, Node] | None:
    """The compiled active version a hook starts, and its webhook node; None when the hook is not live.

    The head is read on every request (one small read), so activating, deactivating or deleting takes effect at
    once; the hook's owner and the compiled version are kept between requests (gateway/saved_versions.py)."""
    for fresh in (False, True):
        ref = await saved.hook(hook_id, fresh=fresh)
        if ref is None:
            return None
        head = await bus.workflows.activation(ref.workflowId)
        if head is None or head.hooks.get(ref.nodeId) != hook_id:
            continue  # a kept owner that is gone: ask the store once more
        if not head.active or head.activeVersion is None:
            return None
        compiled = await saved.compiled(head.id, head.activeVersion)
        node = next((n for n in compiled.saved.graph.nodes if n.id == ref.nodeId and n.type == "webhook"),
                    None) if compiled is not None else None
        return (compiled, node) if compiled is not None and node is not None else None
    return None


async def _start(bus: Bus, run_id: str, compiled: CompiledVersion, payload: dict[str, Any],
                 claim: tuple[str, str] | None) -> RunRecord:
    try:
        return await start_compiled_run(bus, run_id, compiled, {"payload": payload}, "webhook")
    except BaseException:
        if claim is not None:  # no run started: let the sender's retry through
            await bus.hook_dedupe.release(claim[1])
        raise


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


async def _last_node_answer(bus: Bus, follow: RunFollow, record: RunRecord, timeout_s: float) -> Response:
    """The last succeeded step's output once the run ends; 202 with the run id while it is still going."""
    ended = await run_end(bus, follow, record, timeout_s)
    if ended is None:
        return json_response(CreateRunResponse(runId=record.id), 202)
    if ended.status != "succeeded":
        raise ApiException(502, "run_failed", f"run {ended.id} {ended.status}: {ended.error or 'no reason given'}")
    return JSONResponse(await last_output(bus, ended), headers={"X-AutomateOS-Run-Id": ended.id})
