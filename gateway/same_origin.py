"""Refuse requests other web pages make: a page on another site must not be able to start runs (which can use
credentials), change credentials, or read run events, even with the user's session cookie.

Origin is compared with Host, and Host itself must be one of the gateway's own names (loopback's, and
AUTOMATEOS_PUBLIC_URL's): otherwise a DNS-rebinding page (evil.example resolving to 127.0.0.1) would send a
matching Origin and Host of its own. The builder's page is also sent with headers that forbid framing it and
limit what it may load."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas import ApiError, ErrorBody

from .auth import ANY_ORIGIN_PREFIXES, OPEN_PREFIXES

_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# The builder loads only its own scripts, styles and API; inline style attributes come from React. No eval: the
# node types' form validators are compiled at build time (web/scripts/gen-validators.mjs).
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_SECURITY_HEADERS = [(b"content-security-policy", _CSP.encode()), (b"x-frame-options", b"DENY"),
                     (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]


def public_hosts(public_url: str | None) -> tuple[str, ...]:
    """The host name in AUTOMATEOS_PUBLIC_URL, if set."""
    host = urlsplit(public_url).hostname if public_url else None
    return (host.lower(),) if host else ()


def _host_name(host_header: str) -> str:
    """`127.0.0.1:8080` → `127.0.0.1`, `[::1]:8080` → `::1`."""
    return (urlsplit(f"//{host_header}").hostname or "").lower()


def _refusal(scope: Scope, allowed_hosts: frozenset[str]) -> str | None:
    headers = Headers(scope=scope)
    host = _host_name(headers.get("host", ""))
    if host not in allowed_hosts:
        return (f"host {host or '(none)'!r} is not this gateway's (set AUTOMATEOS_PUBLIC_URL to the address users "
                "reach it at)")
    if scope["type"] == "http" and scope["method"] not in _CHANGING:
        return None
    if scope["type"] == "http" and str(scope.get("path", "")).startswith(ANY_ORIGIN_PREFIXES):
        return None  # cookieless routes whose URL is the credential: another origin holding it may call them
    if headers.get("sec-fetch-site") == "cross-site":
        return "cross-site requests are not accepted"
    origin = headers.get("origin")
    if origin and origin != "null":
        parts = urlsplit(origin)
        if parts.netloc != headers.get("host", ""):
            return f"requests from {parts.scheme}://{parts.netloc} are not accepted (the gateway serves its own builder)"
    elif origin == "null":
        return "requests from opaque origins are not accepted"
    # JSON only, so no page can send a "simple" (unpreflighted) form post with the user's cookie. Webhooks take no
    # cookie (their senders are other systems, which post forms and text too) and parse their own bodies.
    webhook = scope["type"] == "http" and str(scope.get("path", "")).startswith(OPEN_PREFIXES)
    if (scope["type"] == "http" and scope["method"] in _CHANGING and not webhook
            and headers.get("content-length", "0") != "0"):
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return "send the body as JSON, with Content-Type: application/json"
    return None


class SameOriginMiddleware:
    def __init__(self, app: ASGIApp, allowed_hosts: frozenset[str] | set[str] = LOOPBACK_HOSTS) -> None:
        self.app = app
        self.allowed_hosts = frozenset(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watched = scope["type"] in ("http", "websocket")
        reason = _refusal(scope, self.allowed_hosts) if watched else None
        if reason is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4403, "reason": reason[:120]})
            return
        status = 415 if "Content-Type" in reason else 421 if reason.startswith("host ") else 403
        body = ApiError(error=ErrorBody(code="bad_request", message=reason)).model_dump_json().encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class SecurityHeadersMiddleware:
    """On every HTTP response: no framing, no MIME sniffing, the builder's content policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
