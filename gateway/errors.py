"""Every error the gateway answers is JSON naming the field and the reason; never a stack trace."""

from __future__ import annotations

import logging
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bus import TRANSIENT_ERRORS, RecordDamaged
from schemas import ApiError, ErrorBody, FieldIssue, issues_from_validation
from schemas.api import ErrorCode, WorkflowRef
from schemas.resume import RESUME_PATH

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

_CODES: dict[int, ErrorCode] = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 409: "conflict", 503: "unavailable"}


class ApiException(Exception):
    def __init__(self, status: int, code: ErrorCode, message: str, fields: list[FieldIssue] | None = None,
                 headers: dict[str, str] | None = None, used_by: list[WorkflowRef] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers
        self.body = ApiError(error=ErrorBody(code=code, message=message, fields=fields or [], usedBy=used_by))


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json", headers=headers)


# A workflow is a few KB; the run record that holds it must stay well under NATS's max_payload.
MAX_BODY_BYTES = 512 * 1024


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 past MAX_BODY_BYTES (checked as it streams in)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiException(413, "bad_request", f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiException(413, "bad_request", f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_body(model: type[M], raw: bytes) -> M:
    """Validate a request body into `model`, or raise a 400/422 naming each bad field."""
    if not raw.strip():
        raise ApiException(400, "bad_request", "the request body is empty; send a JSON object",
                           [FieldIssue(field="body", reason="is empty")])
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        if any(detail["type"] == "json_invalid" for detail in error.errors()):
            reason = error.errors()[0]["msg"]
            raise ApiException(400, "bad_request", "the request body is not valid JSON",
                               [FieldIssue(field="body", reason=reason)]) from None
        issues = issues_from_validation(error)
        raise ApiException(422, "validation_error", "the request is invalid", issues) from None


# Paths that end in a secret (a hook id, a resume token): logged without it.
_SECRET_PATHS = ("/v1/hooks/", RESUME_PATH)


def _logged(request: Request) -> str:
    path = request.url.path
    return next((prefix + "…" for prefix in _SECRET_PATHS if path.startswith(prefix)), path)


async def on_api_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiException)
    if exc.status >= 500:
        log.warning("%s %s → %d %s", request.method, _logged(request), exc.status, exc.body.error.message)
    return json_response(exc.body, exc.status, exc.headers)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _CODES.get(exc.status_code, "bad_request")
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404:
        message = f"no such endpoint: {request.method} {request.url.path}"
    headers = dict(exc.headers) if exc.headers else None
    return json_response(ApiError(error=ErrorBody(code=code, message=message)), exc.status_code, headers)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    if isinstance(exc, RecordDamaged):
        log.warning("%s %s: %s", request.method, _logged(request), exc)
        return json_response(ApiError(error=ErrorBody(code="conflict", message=str(exc))), 409)
    if isinstance(exc, TRANSIENT_ERRORS):
        # NATS did not answer (a restart, a leader election): nothing is wrong with the request, and a retry may work.
        log.warning("%s %s: the bus did not answer (%s)", request.method, _logged(request), type(exc).__name__)
        body = ApiError(error=ErrorBody(code="unavailable", message=f"the bus did not answer in time "
                                                                    f"({type(exc).__name__}); retry"))
        return json_response(body, 503, {"Retry-After": "1"})
    log.exception("unhandled error on %s %s", request.method, _logged(request))
    rid = str(getattr(request.state, "request_id", "") or "")
    body = ApiError(error=ErrorBody(code="internal_error",
                                    message=f"internal error; the gateway log has it under request id {rid}"))
    return json_response(body, 500, {"X-Request-ID": rid} if rid else None)
