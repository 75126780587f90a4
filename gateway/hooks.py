"""POST /v1/hooks/{hookId}: a webhook request starts a run of its active workflow.

Checked in this order, each refusal starting nothing: the hook exists and its workflow is active (404), the body
fits (413), the signature is right (401), the event is not a repeat (200 with the first run). Then the run starts,
and the answer is 202 at once, or, in lastNode mode, the last step's output once the run ends.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from typing import Any

from nats.js.errors import KeyWrongLastSequenceError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bus import Bus, CredentialMissing, CredentialStore, DecryptionError
from schemas import TERMINAL_RUN_STATUSES, FieldIssue
from schemas.api import HookAccepted
from schemas.masking import mask_headers
from schemas.node_types import WebhookConfig
from schemas.node_types.webhook import DEDUPE_PATH

from .errors import ApiException, json_response, read_body
from .runs import start_saved_run
from .signatures import STRIPE_HEADER, SignatureInvalid, check_hmac_sha256, check_stripe

log = logging.getLogger(__name__)

_HOOK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


async def receive_hook(request: Request) -> Response:
    bus: Bus = request.app.state.bus
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
    raw = await read_body(request)
    await _verify(config, raw, request)

    payload = {"body": _parsed(raw, request.headers.get("content-type", "")), "headers": mask_headers(dict(request.headers)),
               "query": dict(request.query_params), "method": request.method}
    claim = await _dedupe_claim(bus, head.id, node.id, config, payload)
    if claim is not None and claim[1]:
        return json_response(HookAccepted(runId=claim[0], duplicate=True), 200)
    try:
        run_id = await start_saved_run(bus, head.id, version.version, {"payload": payload})
    except BaseException:
        if claim is not None:  # no run started: let the sender's retry through
            await bus.hook_dedupe.purge(claim[2])
        raise
    if claim is not None:
        await bus.hook_dedupe.put(claim[2], run_id.encode())
    if config.responseMode == "lastNode":
        return await _last_node_answer(bus, run_id, config.responseTimeoutMs / 1000)
    return json_response(HookAccepted(runId=run_id), 202)


async def _verify(config: WebhookConfig, raw: bytes, request: Request) -> None:
    verify = config.verify
    if verify.kind == "none":
        return
    store: CredentialStore = request.app.state.credentials
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


def _parsed(raw: bytes, content_type: str) -> Any:
    if "json" in content_type or raw.lstrip()[:1] in (b"{", b"["):
        try:
            return json.loads(raw)
        except ValueError:
            pass
    return raw.decode("utf-8", errors="replace")


async def _dedupe_claim(
    bus: Bus, workflow_id: str, node_id: str, config: WebhookConfig, payload: dict[str, Any]
) -> tuple[str, bool, str] | None:
    """(runId, is a repeat, key) for a deduplicated hook; None when it has no dedupeKey or the event lacks it."""
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
        await bus.hook_dedupe.create(key, b"")
    except KeyWrongLastSequenceError:
        # The first request may still be starting its run: give it a moment to record the id.
        for _ in range(20):
            entry = await bus.hook_dedupe.get(key)
            if entry.value:
                return entry.value.decode(), True, key
            await asyncio.sleep(0.05)
        raise ApiException(409, "conflict", "the same event is being handled by another request; retry") from None
    return "", False, key


async def _last_node_answer(bus: Bus, run_id: str, timeout_s: float) -> Response:
    try:
        async with asyncio.timeout(timeout_s):
            async for event in bus.run_events(run_id, tick=timeout_s):
                if event is not None and event.type == "run" and event.status in TERMINAL_RUN_STATUSES:
                    break
    except TimeoutError:
        return json_response(HookAccepted(runId=run_id), 202)
    found = await bus.runs.get(run_id)
    if found is None:
        return json_response(HookAccepted(runId=run_id), 202)
    record = found[0]
    if record.status != "succeeded":
        raise ApiException(502, "run_failed", f"run {run_id} {record.status}: {record.error or 'no reason given'}")
    ran = [s for s in record.steps if s.status == "succeeded"]
    return JSONResponse(ran[-1].output if ran else None, headers={"X-AutomateOS-Run-Id": run_id})
