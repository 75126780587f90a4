"""Every response carries X-Request-ID, a 500 included, and the 500 names it for the log."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from collections.abc import MutableMapping
from typing import Any

from gateway.errors import on_unexpected
from gateway.request_id import RequestIdMiddleware


async def broken(request: Request) -> Response:
    raise RuntimeError("a bug")


async def call(app: Starlette, headers: list[tuple[bytes, bytes]]) -> tuple[int, dict[str, str], bytes]:
    """One GET /broken straight through the ASGI interface (no HTTP client needed)."""
    sent: list[MutableMapping[str, Any]] = []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "path": "/broken",
             "raw_path": b"/broken", "query_string": b"", "headers": headers, "scheme": "http",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1), "root_path": ""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    try:
        await app(scope, receive, send)
    except RuntimeError:
        pass  # Starlette re-raises after answering, for the server to log
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, body


async def test_a_500_carries_the_request_id_it_promises() -> None:
    app = Starlette(routes=[Route("/broken", broken)], middleware=[Middleware(RequestIdMiddleware)],
                    exception_handlers={Exception: on_unexpected})
    status, headers, body = await call(app, [(b"x-request-id", b"trace-123")])
    assert status == 500 and headers["x-request-id"] == "trace-123"
    assert b"trace-123" in body and b"a bug" not in body
    status, headers, body = await call(app, [])
    assert status == 500 and headers["x-request-id"] and headers["x-request-id"].encode() in body
