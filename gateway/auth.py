"""Authentication (who is asking) for every /v1 route and the run WebSocket, and authorisation (may they) per route.

A request is made as a token: `Authorization: Bearer <token>`, or the session cookie a browser got by signing in.
The admin token comes from the environment (AUTOMATEOS_ADMIN_TOKEN); the others are API tokens stored as hashes.
A session is a server-side record (bus/sessions_kv.py) naming the token it was signed in with, by hash: sign-out
deletes it, and revoking the token or changing the admin token ends it too. The cookie holds only the session's
random id, under a name that includes the port it was issued for, since browsers send a cookie to every port of
a host: a web app on another local port gets nothing.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bus import Bus
from schemas import ApiError, ErrorBody, FieldIssue
from schemas.auth import (
    ADMIN_TOKEN_NAME,
    ROLE_RANK,
    Role,
    SessionInfo,
    SignIn,
    SignInCode,
    SignInConflict,
    token_hash,
)
from schemas.resume import RESUME_PATH

from .app_state import bus_of, public_base
from .errors import ApiException, json_response, parse_body, read_body

log = logging.getLogger(__name__)

COOKIE = "automateos_session"
# Over TLS the cookie is `__Host-` prefixed: the browser then insists on Secure, Path=/ and no Domain.
HOST_COOKIE = f"__Host-{COOKIE}"
# How long the browser keeps the cookie: the session itself ends sooner when idle (AUTOMATEOS_SESSION_IDLE_HOURS),
# and this bounds a session that is used every day.
COOKIE_MAX_AGE_S = 30 * 24 * 3600
# A session is refreshed (its record rewritten) at most this often, so a busy builder does not write KV on every
# request; its idle timeout therefore counts from up to this long before its last request.
_REFRESH_S = 300.0
# A verified token is trusted this long without reading the store again: revocation takes effect within it.
_CACHE_S = 5.0
_SCOPE_KEY = "automateos.principal"
# Open without a token: the webhooks (they verify their own signatures), wait steps' resume URLs (the token in the
# path is the secret), health, signing in and out. Also the routes no session cookie reaches, which
# gateway/same_origin.py's JSON-only rule (a CSRF guard) spares.
OPEN_PREFIXES = ("/v1/hooks/", RESUME_PATH)
# Of those, the ones any web origin may call (gateway/same_origin.py): a resume URL is handed to other systems and
# people, its answer reads no cookie and no principal, and whoever holds the URL may answer the step anyway.
ANY_ORIGIN_PREFIXES = (RESUME_PATH,)
_OPEN_ROUTES = {("POST", "/v1/session"), ("DELETE", "/v1/session")}


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    token_hash: str
    via: Literal["bearer", "session"]


class Authenticator:
    """Turns a token or a session cookie into a Principal."""

    def __init__(self, admin_token: str, bus: Bus, public_url: str | None = None) -> None:
        self._admin_hash = token_hash(admin_token)
        self._bus = bus
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._tls = (urlsplit(public_url).scheme == "https") if public_url else False
        settings = bus.settings
        self._idle_s = settings.session_idle_s
        self._refresh_s = min(_REFRESH_S, settings.session_idle_s / 4)

    async def by_token(self, token: str, via: Literal["bearer", "session"] = "bearer") -> Principal | None:
        return await self.by_hash(token_hash(token), via)

    async def by_hash(self, digest: str, via: Literal["bearer", "session"]) -> Principal | None:
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

    async def by_cookie(self, session_id: str) -> Principal | None:
        # Read on every request, never cached: a sign-out on any gateway ends the session on all of them at once.
        stored = await self._bus.sessions.get(session_id, self._idle_s, self._refresh_s)
        return await self.by_hash(stored.tokenHash, "session") if stored is not None else None

    def cookie_name(self, scope: Scope) -> str:
        """`automateos_session_<port>`: the port the browser reached this gateway at (its Host header's)."""
        if self._tls:
            return HOST_COOKIE
        host = Headers(scope=scope).get("host", "")
        try:
            port = urlsplit(f"//{host}").port
        except ValueError:
            port = None
        if port is None:  # the browser used the scheme's own port
            port = 443 if scope.get("scheme") in ("https", "wss") else 80
        return f"{COOKIE}_{port}"

    def session_id(self, scope: Scope) -> str | None:
        return HTTPConnection(scope).cookies.get(self.cookie_name(scope)) or None

    def set_cookie(self, response: Response, session_id: str, scope: Scope) -> None:
        response.set_cookie(self.cookie_name(scope), session_id, max_age=COOKIE_MAX_AGE_S, path="/", httponly=True,
                            samesite="strict", secure=self._tls or scope.get("scheme") in ("https", "wss"))

    def clear_cookie(self, response: Response, scope: Scope) -> None:
        response.delete_cookie(self.cookie_name(scope), path="/", httponly=True, samesite="strict",
                               secure=self._tls or scope.get("scheme") in ("https", "wss"))

    async def of(self, scope: Scope) -> Principal | None:
        if (token := bearer_token(scope)) is not None:
            return await self.by_token(token)
        session_id = self.session_id(scope)
        return await self.by_cookie(session_id) if session_id else None


def bearer_token(scope: Scope) -> str | None:
    """The token of `Authorization: Bearer <token>`, if the request has one."""
    scheme, _, credentials = Headers(scope=scope).get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _is_open(scope: Scope) -> bool:
    path: str = scope["path"]
    if not path.startswith("/v1/"):
        return True  # the builder's static files, /healthz, /readyz
    if path.startswith(OPEN_PREFIXES):
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
        if scope["type"] == "http" and scope["path"] == "/" and _has_token(scope):
            await _retired_token_link(scope, receive, send)
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


def _has_token(scope: Scope) -> bool:
    return any(key == "token" for key, _ in parse_qsl(scope.get("query_string", b"").decode(errors="replace")))


async def _retired_token_link(scope: Scope, receive: Receive, send: Send) -> None:
    """GET /?token=…, the old sign-in link: a token in an address stays in the browser's history, so it no longer
    signs in. The answer takes it out of the address bar and the page says to use a sign-in code instead."""
    query = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode(errors="replace")) if k != "token"]
    query.append(("signin", "token-link"))
    response = RedirectResponse(f"/?{urlencode(query)}", status_code=303,
                                headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    await response(scope, receive, send)


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


async def create_sign_in_code(request: Request) -> Response:
    """POST /v1/session/codes: a one-time code (and its link) that signs a browser in as the caller's token."""
    principal = principal_of(request)
    if principal.via != "bearer":
        # A session minting codes would let a copied cookie outlive its sign-out through a new session.
        raise ApiException(403, "forbidden", "sign-in codes are made with a token (Authorization: Bearer), not from "
                           "a signed-in browser")
    bus = bus_of(request)
    code, expires = await bus.sessions.new_code(principal.token_hash, bus.settings.sign_in_code_s)
    return json_response(SignInCode(code=code, url=f"{public_base(request)}/?code={code}", expiresAt=expires), 201,
                         {"Cache-Control": "no-store"})


async def sign_in(request: Request) -> Response:
    """POST /v1/session {code | token, replace?}: a new session. Never swaps an existing session for someone else's
    without `replace`: a page elsewhere that sends the user to /?code=<its own code> must not sign them in as that
    code's owner unnoticed (login CSRF); the builder asks first."""
    body = parse_body(SignIn, await read_body(request))
    if (body.code is None) == (body.token is None):
        raise ApiException(422, "validation_error", "send a sign-in code or a token",
                           [FieldIssue(field="code", reason="send either code (from a sign-in link) or token, not both")])
    authenticator = authenticator_of(request)
    sessions = bus_of(request).sessions
    if body.code is not None:
        pending = await sessions.peek_code(body.code)
        requested = await authenticator.by_hash(pending.tokenHash, "session") if pending is not None else None
        if requested is None:
            raise _unknown_code()
    else:
        assert body.token is not None
        requested = await authenticator.by_token(body.token.strip(), "session")
        if requested is None:
            raise ApiException(401, "unauthenticated", "that token is not valid (revoked, mistyped, or from another "
                               "install)", [FieldIssue(field="token", reason="not a valid token")])
    current_id = authenticator.session_id(request.scope)
    current = await authenticator.by_cookie(current_id) if current_id else None
    if current is not None and current.token_hash != requested.token_hash and not body.replace:
        conflict = ApiException(
            409, "conflict", f"this browser is signed in as {current.name} ({current.role}); signing in would make it "
            f"{requested.name} ({requested.role}) instead",
            [FieldIssue(field="replace", reason="send replace: true to sign in as the new user")])
        conflict.body.error.signIn = SignInConflict(current=SessionInfo(name=current.name, role=current.role),
                                                    requested=SessionInfo(name=requested.name, role=requested.role))
        raise conflict
    if body.code is not None and await sessions.take_code(body.code) is None:
        raise _unknown_code()  # used meanwhile, by another tab or gateway
    session_id = await sessions.open(requested.token_hash)
    if current_id:
        await sessions.end(current_id)
    response = json_response(SessionInfo(name=requested.name, role=requested.role))
    authenticator.set_cookie(response, session_id, request.scope)
    return response


def _unknown_code() -> ApiException:
    return ApiException(401, "unauthenticated", "that sign-in link is used up or expired (each works once, within "
                        "minutes): ask `automateos sign-in-link` for a new one",
                        [FieldIssue(field="code", reason="unknown, used or expired")])


async def sign_out(request: Request) -> Response:
    """DELETE /v1/session: the session's record goes, so its cookie stops working wherever it was copied to."""
    authenticator = authenticator_of(request)
    session_id = authenticator.session_id(request.scope)
    if session_id:
        await bus_of(request).sessions.end(session_id)
    response = Response(status_code=204)
    authenticator.clear_cookie(response, request.scope)
    return response
