"""REST endpoints for API tokens (admins only): a token is shown once, when created, and stored as a hash."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from bus.tokens_kv import TokenExists
from schemas import FieldIssue
from schemas.auth import (
    ADMIN_TOKEN_NAME,
    TOKEN_NAME_PATTERN,
    NewToken,
    StoredToken,
    TokenCreated,
    TokenInfo,
    TokenList,
    new_token,
    token_hash,
)

from . import audit
from .app_state import bus_of
from .auth import authenticator_of
from .errors import ApiException, json_response, parse_body, read_body


async def create_token(request: Request) -> Response:
    body = parse_body(NewToken, await read_body(request))
    if body.name == ADMIN_TOKEN_NAME:
        raise ApiException(409, "conflict", "'admin' is the name of the token from AUTOMATEOS_ADMIN_TOKEN",
                           [FieldIssue(field="name", reason="reserved")])
    token = new_token()
    stored = StoredToken(name=body.name, role=body.role, hash=token_hash(token))
    try:
        await bus_of(request).tokens.create(stored)
    except TokenExists as exists:
        raise ApiException(409, "conflict", str(exists), [FieldIssue(field="name", reason="already exists")]) from None
    await audit.record(request, "token.create", body.name, role=body.role)
    return json_response(TokenCreated(name=stored.name, role=stored.role, token=token, createdAt=stored.createdAt), 201)


async def list_tokens(request: Request) -> Response:
    store = bus_of(request).tokens
    tokens = await store.all()
    return json_response(TokenList(tokens=[TokenInfo(name=t.name, role=t.role, createdAt=t.createdAt) for t in tokens],
                                   unreadable=await store.unreadable()))


async def revoke_token(request: Request) -> Response:
    name = str(request.path_params["name"])
    if not re.fullmatch(TOKEN_NAME_PATTERN, name) or not await bus_of(request).tokens.revoke(name):
        raise ApiException(404, "not_found", f"no token named {name!r}")
    authenticator_of(request).forget()
    await audit.record(request, "token.revoke", name)
    return Response(status_code=204)
