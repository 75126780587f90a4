"""Request ids: echoed from X-Request-ID (when sane) or generated, and stamped on every log line."""

from __future__ import annotations

import re
import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

from bus.log_context import request_id, run_id

__all__ = ["HEADER", "RequestIdMiddleware", "request_id", "run_id"]


class RequestIdMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): it must not buffer WebSocket or streaming responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER.lower().encode(), b"").decode(errors="replace")
        rid = given if _SANE.match(given) else secrets.token_hex(8)
        token = request_id.set(rid)
        # Also on the scope: a 500 is answered by Starlette's outermost middleware, after this one has returned.
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
