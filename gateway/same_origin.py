"""Refuse requests other web pages make: the gateway has no user accounts, so a page on another site
must not be able to start runs (which can use credentials), change credentials, or read run events."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from schemas import ApiError, ErrorBody

_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _refusal(scope: Scope) -> str | None:
    headers = Headers(scope=scope)
    if headers.get("sec-fetch-site") == "cross-site":
        return "cross-site requests are not accepted"
    origin = headers.get("origin")
    if origin and origin != "null":
        parts = urlsplit(origin)
        if parts.netloc != headers.get("host", ""):
            return f"requests from {parts.scheme}://{parts.netloc} are not accepted (the gateway serves its own builder)"
    elif origin == "null":
        return "requests from opaque origins are not accepted"
    if scope["type"] == "http" and scope["method"] in _CHANGING and headers.get("content-length", "0") != "0":
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return "send the body as JSON, with Content-Type: application/json"
    return None


class SameOriginMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watched = scope["type"] == "websocket" or (scope["type"] == "http" and scope["method"] in _CHANGING)
        reason = _refusal(scope) if watched else None
        if reason is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4403, "reason": reason[:120]})
            return
        status = 415 if "Content-Type" in reason else 403
        body = ApiError(error=ErrorBody(code="bad_request", message=reason)).model_dump_json().encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
