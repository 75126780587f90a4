"""Authentication (who is asking) for every /v1 route and the run WebSocket, and authorisation (may they) per route.

A request is made as a token: `Authorization: Bearer <token>`, or the session cookie a browser got by signing in
with one. The admin token comes from the environment (AUTOMATEOS_ADMIN_TOKEN); the others are API tokens stored
as hashes. The cookie holds no token: it is the token's name and hash prefix, an expiry and an HMAC, so
revoking the token ends its sessions too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bus import Bus
from schemas import ApiError, ErrorBody, FieldIssue
from schemas.auth import ADMIN_TOKEN_NAME, ROLE_RANK, Role, SessionInfo, SignIn, token_hash

from .errors import ApiException, json_response, parse_body, read_body

log = logging.getLogger(__name__)

COOKIE = "automateos_session"
SESSION_S = 7 * 24 * 3600
# A verified token is trusted this long without reading the store again: revocation takes effect within it.
_CACHE_S = 5.0
_SCOPE_KEY = "automateos.principal"
# Open without a token: the webhooks (they verify their own signatures), health, signing in and out.
_OPEN_PREFIXES = ("/v1/hooks/",)
_OPEN_ROUTES = {("POST", "/v1/session"), ("DELETE", "/v1/session")}


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    token_hash: str
    via: Literal["bearer", "session"]


class Authenticator:
    """Turns a token or a session cookie into a Principal."""

    def __init__(self, admin_token: str, bus: Bus) -> None:
        self._admin_hash = token_hash(admin_token)
        # Sessions are signed with a key only this admin token gives: a new admin token ends every session.
        self._session_key = hashlib.sha256(b"automateos-session\x00" + admin_token.encode()).digest()
        self._bus = bus
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def by_token(self, token: str, via: Literal["bearer", "session"] = "bearer") -> Principal | None:
        return await self._by_hash(token_hash(token), via)

    async def _by_hash(self, digest: str, via: Literal["bearer", "session"]) -> Principal | None:
        if hmac.compare_digest(digest, self._admin_hash):
            return Principal(ADMIN_TOKEN_NAME, "admin", digest, via)
        cached = self._cache.get(digest)
        if cached is not None and time.monotonic() - cached[0] < _CACHE_S:
            found = cached[1]
        else:
            stored = await self._bus.tokens.by_hash(digest)
            found = Principal(stored.name, stored.role, digest, via) if stored is not None else None
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (time.monotonic(), found)
        return Principal(found.name, found.role, found.token_hash, via) if found is not None else None

    def forget(self) -> None:
        """After a revocation: this gateway stops trusting the token at once (others within _CACHE_S)."""
        self._cache.clear()

    def session_cookie(self, principal: Principal) -> str:
        claims = {"h": principal.token_hash, "exp": int(time.time()) + SESSION_S}
        body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    async def by_cookie(self, cookie: str) -> Principal | None:
        body, _, signature = cookie.partition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            digest, expires = str(claims["h"]), int(claims["exp"])
        except (ValueError, KeyError, TypeError):
            return None
        if expires < time.time():
            return None
        return await self._by_hash(digest, "session")

    def _sign(self, body: str) -> str:
        return hmac.new(self._session_key, body.encode(), hashlib.sha256).hexdigest()

    async def of(self, scope: Scope) -> Principal | None:
        headers = Headers(scope=scope)
        authorization = headers.get("authorization", "")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return await self.by_token(credentials.strip())
        cookie = HTTPConnection(scope).cookies.get(COOKIE)
        return await self.by_cookie(cookie) if cookie else None


def _is_open(scope: Scope) -> bool:
    path: str = scope["path"]
    if not path.startswith("/v1/"):
        return True  # the builder's static files, /healthz, /readyz
    if path.startswith(_OPEN_PREFIXES):
        return True
    return scope["type"] == "http" and (scope["method"], path) in _OPEN_ROUTES


class AuthMiddleware:
    """Every /v1 request (bar the open ones) carries a principal, or is answered 401 here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        authenticator: Authenticator = scope["app"].state.authenticator
        if scope["type"] == "http" and scope["path"] == "/" and "token=" in scope.get("query_string", b"").decode():
            await _sign_in_link(scope, authenticator)(scope, receive, send)
            return
        if _is_open(scope):
            await self.app(scope, receive, send)
            return
        principal = await authenticator.of(scope)
        if principal is not None:
            scope[_SCOPE_KEY] = principal
            await self.app(scope, receive, send)
            return
        reason = ("authentication required: send Authorization: Bearer <token>, or sign in at / with a token "
                  "(`make up` prints a sign-in link)")
        if scope["type"] == "websocket":
            # Accept, then close with the reason: a refused handshake tells a browser nothing.
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": 4401, "reason": "authentication required"})
            return
        await json_response(ApiError(error=ErrorBody(code="unauthenticated", message=reason)), 401,
                            {"WWW-Authenticate": 'Bearer realm="automateos"'})(scope, receive, send)


def _sign_in_link(scope: Scope, authenticator: Authenticator) -> ASGIApp:
    """GET /?token=…: the login link `make up` prints. Sets the cookie, and takes the token out of the address bar."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        query = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode()) if k != "token"]
        token = dict(parse_qsl(scope.get("query_string", b"").decode())).get("token", "")
        principal = await authenticator.by_token(token, "session") if token else None
        if principal is None:
            query.append(("signin", "failed"))
        target = "/" + (f"?{urlencode(query)}" if query else "")
        response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store",
                                                                      "Referrer-Policy": "no-referrer"})
        if principal is not None:
            _set_cookie(response, authenticator.session_cookie(principal), scope)
        await response(scope, receive, send)

    return app


def _set_cookie(response: Response, value: str, scope: Scope) -> None:
    response.set_cookie(COOKIE, value, max_age=SESSION_S, path="/", httponly=True, samesite="strict",
                        secure=scope.get("scheme") in ("https", "wss"))


def principal_of(connection: HTTPConnection) -> Principal:
    principal = connection.scope.get(_SCOPE_KEY)
    assert isinstance(principal, Principal), "AuthMiddleware lets no unauthenticated request reach a guarded route"
    return principal


def principal_name(connection: HTTPConnection) -> str | None:
    principal = connection.scope.get(_SCOPE_KEY)
    return principal.name if isinstance(principal, Principal) else None


def via_session(connection: HTTPConnection) -> bool:
    principal = connection.scope.get(_SCOPE_KEY)
    return isinstance(principal, Principal) and principal.via == "session"


def require(connection: HTTPConnection, role: Role, doing: str) -> Principal:
    principal = principal_of(connection)
    if ROLE_RANK[principal.role] < ROLE_RANK[role]:
        raise ApiException(403, "forbidden", f"{doing} needs the {role} role; token {principal.name!r} is {principal.role}")
    return principal


Endpoint = Callable[[Request], Awaitable[Response]]


def guarded(role: Role, doing: str, endpoint: Endpoint) -> Endpoint:
    """`endpoint`, answered 403 for a principal below `role`. The table of who may do what is in app.routes."""

    async def checked(request: Request) -> Response:
        require(request, role, doing)
        return await endpoint(request)

    checked.__name__ = endpoint.__name__
    return checked


def authenticator_of(connection: HTTPConnection) -> Authenticator:
    authenticator: Authenticator = connection.app.state.authenticator
    return authenticator


async def get_session(request: Request) -> Response:
    principal = principal_of(request)
    return json_response(SessionInfo(name=principal.name, role=principal.role))


async def sign_in(request: Request) -> Response:
    body = parse_body(SignIn, await read_body(request))
    authenticator = authenticator_of(request)
    principal = await authenticator.by_token(body.token.strip(), "session")
    if principal is None:
        raise ApiException(401, "unauthenticated", "that token is not valid (revoked, mistyped, or from another install)",
                           [FieldIssue(field="token", reason="not a valid token")])
    response = json_response(SessionInfo(name=principal.name, role=principal.role))
    _set_cookie(response, authenticator.session_cookie(principal), request.scope)
    return response


async def sign_out(request: Request) -> Response:
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
