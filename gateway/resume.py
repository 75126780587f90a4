"""`/v1/resume/{token}`: answering a wait step. No token or session: the resume token is the secret.

Checked in this order, each refusal changing nothing: the token is well formed, its run exists and its mac was made
from the run's seed, and it names a wait step (404 otherwise, the same answer for each, so a guess learns nothing);
the step still waits for this attempt (409 `timed_out`, `already_resumed` or `not_waiting`); the body fits (413)
and says what the step's mode needs (400, 415, 422). Then `ResumeRequested` goes to the orchestrator, whose stream
drops a second answer to the same wait (409 `already_resumed`).

A person answers on the approval page (GET, approval mode): a form post, answered with a page. Everything else is
JSON, and open to other origins (CORS without credentials): a webhook callback comes from anywhere, and no cookie
means anything here (docs/SECURITY.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from schemas import FieldIssue, ResumeRequested, RunRecord, StepState, issues_from_validation
from schemas.api import ResumeAccepted, ResumeApproval
from schemas.limits import MAX_VALUE_DEPTH, too_deep
from schemas.masking import mask_headers
from bus import BusUnavailable
from schemas.auth import ROLE_RANK, AuditEntry
from schemas.resume import ResumeToken, parse_resume_token, resume_path, token_matches

from . import resume_page
from .app_state import bus_of
from .auth import principal_name
from .errors import ApiException, json_response, parse_body, read_body
from .payloads import form_fields, is_json, media_type, payload_body
from .request_id import run_id as run_id_context

log = logging.getLogger(__name__)

Mode = Literal["webhook", "approval"]

# A browser on another origin may post an answer (JSON needs a preflight) and read the reply, never with cookies:
# `*` is an origin no credentialed request may use.
CORS = {"Access-Control-Allow-Origin": "*"}
_PREFLIGHT = {**CORS, "Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "Content-Type",
              "Access-Control-Max-Age": "600"}
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class _Wait:
    record: RunRecord
    step: StepState
    token: ResumeToken
    mode: Mode

    def question(self) -> resume_page.Question:
        wait = self.step.wait
        return resume_page.Question(workflow=self.record.workflowName, step=self.step.name,
                                    message=wait.message if wait is not None else "",
                                    timeout_at=wait.timeoutAt if wait is not None else None)


async def _wait_of(request: Request) -> _Wait:
    not_found = ApiException(404, "not_found", "no wait step answers at this address: the link is wrong, or its run "
                             "has expired")
    token = parse_resume_token(request.path_params["token"])
    if token is None:
        raise not_found
    found = await bus_of(request).runs.get(token.run_id)
    if found is None or not token_matches(found[0].seed, token):
        raise not_found
    record = found[0]
    if not record.dag.has(token.step_id) or record.dag.step(token.step_id).type != "wait":
        raise not_found
    run_id_context.set(record.id)
    step = record.step(token.step_id)
    if step.wait is not None:
        mode = step.wait.mode
    else:
        mode = "webhook" if record.dag.step(step.id).config.get("resume") == "webhook" else "approval"
    return _Wait(record, step, token, mode)


def _no_longer_waiting(wait: _Wait) -> ApiException | None:
    """Why this answer comes too late (None: the step waits for it)."""
    step, record = wait.step, wait.record
    if step.status == "waiting" and step.attempt == wait.token.attempt and step.wait is not None:
        return None
    if step.status == "succeeded" and step.attempt == wait.token.attempt:
        if step.handles == ["timeout"]:
            when = f" at {step.finishedAt:%Y-%m-%d %H:%M:%S} UTC" if step.finishedAt else ""
            return ApiException(409, "timed_out", f"no answer came in time: the wait ended{when}, and the workflow "
                                "went on without it")
        taken = step.handles[0] if step.handles else "resumed"
        return ApiException(409, "already_resumed", f"this step was answered already ({taken})")
    if record.finished:
        return ApiException(409, "not_waiting", f"the run has {record.status}: this step no longer waits for an answer")
    return ApiException(409, "not_waiting", f"this step is not waiting for this answer (it is {step.status}, "
                        f"attempt {step.attempt})")


def _wants_page(request: Request) -> bool:
    """A browser's form post (the approval page's), or a browser asking for the page: answered with a page.
    Anything else (curl, another system) gets JSON, refusals included."""
    accept = request.headers.get("accept", "")
    if request.method == "POST":
        return media_type(request.headers.get("content-type", "")) == _FORM and "text/html" in accept
    return "text/html" in accept


def _as_page(refused: ApiException) -> Response:
    return resume_page.refusal(refused.status, refused.body.error.message)


async def resume_page_route(request: Request) -> Response:
    """GET /v1/resume/{token}: the approval page (approval mode), or what became of the question."""
    page = _wants_page(request)
    try:
        wait = await _wait_of(request)
        if wait.mode == "webhook":
            raise ApiException(405, "method_not_allowed", "this step waits for a callback: POST to this address",
                               [FieldIssue(field="method", reason="must be POST (the wait step resumes by callback)")],
                               headers={"Allow": "POST"})
    except ApiException as refused:
        if not page:
            raise
        response = _as_page(refused)
        response.headers.update(refused.headers or {})
        return response
    too_late = _no_longer_waiting(wait)
    if too_late is None:
        return resume_page.approval_form(wait.question())
    state = too_late.body.error.message
    if too_late.body.error.code == "already_resumed" and isinstance(wait.step.output, dict):
        state = "Approved." if wait.step.output.get("approved") else "Rejected."
        if wait.step.output.get("comment"):
            state += f" Comment: {wait.step.output['comment']}"
    return resume_page.answered(wait.question(), state[:1].upper() + state[1:])


async def resume_route(request: Request) -> Response:
    """POST /v1/resume/{token}: the answer goes to the step."""
    page = _wants_page(request)
    try:
        return await _resume(request, page)
    except ApiException as refused:
        if page:
            return _as_page(refused)
        refused.headers = {**(refused.headers or {}), **CORS}
        raise


async def resume_preflight(request: Request) -> Response:
    """OPTIONS /v1/resume/{token}: a browser on another origin asks whether it may POST JSON here."""
    return Response(status_code=204, headers=_PREFLIGHT)


async def _resume(request: Request, page: bool) -> Response:
    wait = await _wait_of(request)
    too_late = _no_longer_waiting(wait)
    if too_late is not None:
        raise too_late
    raw = await read_body(request)
    output, handle = _webhook_answer(request, raw) if wait.mode == "webhook" else _approval_answer(request, raw)
    resume = ResumeRequested(runId=wait.record.id, stepId=wait.step.id, attempt=wait.token.attempt, output=output,
                             handle=handle)
    ack = await bus_of(request).request_resume(resume)
    if ack.duplicate:
        raise ApiException(409, "already_resumed", "this step was answered already (a moment ago)")
    log.info("step %s of run %s resumed: %s", wait.step.id, wait.record.id, handle)
    await _audit(request, wait, handle)
    if page:
        return resume_page.thanks(wait.question(), handle == "approved")
    return json_response(ResumeAccepted(runId=wait.record.id, stepId=wait.step.id), headers=CORS)


async def _audit(request: Request, wait: _Wait, handle: str) -> None:
    """Who answered is in the audit log: the URL needs no sign-in, so the answer is recorded with where it came from
    and, when the request carried a session or token anyway, whose it was."""
    client = request.client.host if request.client is not None else None
    entry = AuditEntry(actor=principal_name(request) or "resume URL", action="run.resume",
                       target=wait.record.workflowId or wait.record.workflowName,
                       version=wait.record.workflowVersion,
                       detail={"runId": wait.record.id, "stepId": wait.step.id, "answer": handle, "from": client})
    try:
        await bus_of(request).audit(entry)
    except BusUnavailable as error:
        log.error("audit entry lost (%s): %s", error, entry.model_dump_json())


def _webhook_answer(request: Request, raw: bytes) -> tuple[dict[str, Any], str]:
    """{body, headers (sensitive ones masked), query}: the body read as a webhook's is."""
    body = payload_body(raw, request.headers.get("content-type", ""), dict(request.query_params), "POST")
    if too_deep(body, MAX_VALUE_DEPTH - 1):  # the output holds it one level down
        raise ApiException(422, "validation_error", "the request body is nested too deep to keep in a run",
                           [FieldIssue(field="body", reason=f"nests more than {MAX_VALUE_DEPTH - 1} levels")])
    output = {"body": body, "headers": mask_headers(dict(request.headers)), "query": dict(request.query_params)}
    return output, "received"


def _approval_answer(request: Request, raw: bytes) -> tuple[dict[str, Any], str]:
    """{approved, comment}, from JSON or from the approval page's form."""
    content_type = request.headers.get("content-type", "")
    if media_type(content_type) == _FORM:
        approval = _approval_from_form(form_fields(raw))
    elif is_json(content_type) or not media_type(content_type):
        approval = parse_body(ResumeApproval, raw)
    else:
        raise ApiException(415, "bad_request", "send the answer as JSON ({\"approved\": true|false, \"comment\": "
                           "\"…\"}) or as a form (approved=true|false&comment=…)",
                           [FieldIssue(field="Content-Type", reason="must be application/json or "
                                       "application/x-www-form-urlencoded")])
    return {"approved": approval.approved, "comment": approval.comment}, "approved" if approval.approved else "rejected"


def _approval_from_form(fields: dict[str, str | list[str]]) -> ResumeApproval:
    approved, comment = fields.get("approved"), fields.get("comment")
    issues = []
    if approved not in ("true", "false"):
        # `curl -d '{"approved": true}'` sends JSON labelled as a form: say what to add.
        json_as_form = len(fields) == 1 and next(iter(fields)).lstrip().startswith("{")
        hint = " (this body looks like JSON sent as a form: send Content-Type: application/json)" if json_as_form else ""
        issues.append(FieldIssue(field="approved", reason=f"must be true or false{hint}"))
    if isinstance(comment, list):
        issues.append(FieldIssue(field="comment", reason="send one comment, not several"))
    if issues or isinstance(comment, list):
        raise ApiException(422, "validation_error", "the answer is invalid", issues)
    try:
        # An empty comment box is no comment.
        return ResumeApproval(approved=approved == "true", comment=comment or None)
    except ValidationError as error:
        raise ApiException(422, "validation_error", "the answer is invalid", issues_from_validation(error)) from None


def may_see_resume_urls(role: str) -> bool:
    """Whoever holds a resume URL can answer the step, so only those who may change workflows see it: a runner
    who started a run that waits for someone's approval cannot approve it himself."""
    return ROLE_RANK.get(role, -1) >= ROLE_RANK["editor"]


def with_resume_url(step: StepState, run_id: str, seed: str | None, base: str) -> StepState:
    """The step as a client sees it: a waiting wait step with its resume URL, derived from the run's seed (None:
    the client may not see it). A copy when it changes: the step may be shared with other followers."""
    if seed and step.status == "waiting" and step.wait is not None:
        return step.model_copy(update={"resumeUrl": base + resume_path(seed, run_id, step.id, max(step.attempt, 1))})
    if step.resumeUrl is not None:
        return step.model_copy(update={"resumeUrl": None})
    return step
