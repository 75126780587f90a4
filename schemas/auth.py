"""Who may do what: API tokens and their roles, the browser session, and the audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from ._base import Contract, utc_now

Role = Literal["admin", "editor", "runner"]
# Each role may do what the ones after it may.
ROLE_RANK: dict[str, int] = {"runner": 0, "editor": 1, "admin": 2}
ADMIN_TOKEN_NAME = "admin"
TOKEN_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
TokenName = Annotated[str, Field(pattern=TOKEN_NAME_PATTERN)]


def new_token() -> str:
    """256 random bits; the prefix makes a leaked token easy to recognise (and to scan for)."""
    return "aos_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are random, so a fast hash is enough: nobody can guess one to match it."""
    return hashlib.sha256(token.encode()).hexdigest()


class NewToken(Contract):
    """POST /v1/tokens."""

    name: TokenName
    role: Role


class TokenCreated(Contract):
    """The one answer that carries the token: it is stored only as a hash."""

    name: str
    role: Role
    token: str
    createdAt: datetime


class StoredToken(Contract):
    """Stored under `token.<sha256>` in the `tokens` bucket, and its name under `name.<name>`."""

    v: Literal[1] = 1
    name: str
    role: Role
    hash: str
    createdAt: datetime = Field(default_factory=utc_now)


class TokenInfo(Contract):
    name: str
    role: Role
    createdAt: datetime


class TokenList(Contract):
    tokens: list[TokenInfo]


class SignIn(Contract):
    """POST /v1/session: a token becomes an HttpOnly session cookie."""

    token: str = Field(min_length=1, max_length=200)


class SessionInfo(Contract):
    """GET /v1/session: who the request is made as."""

    name: str
    role: Role


AuditAction = Literal[
    "workflow.create", "workflow.update", "workflow.delete", "workflow.activate", "workflow.deactivate",
    "credential.create", "credential.replace", "credential.delete", "token.create", "token.revoke",
    "run.start",
]


class AuditEntry(Contract):
    """One change, appended to the AUDIT stream: who, what, when, on which version."""

    at: datetime = Field(default_factory=utc_now)
    actor: str
    action: AuditAction
    target: str = Field(description="the workflow id, credential name or token name changed (run.start: the workflow "
                                    "id, or the workflow's name for a draft)")
    version: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    seq: int | None = Field(default=None, description="its position in the log, as read back")


class AuditList(Contract):
    entries: list[AuditEntry]
    next: int | None = Field(default=None, description="pass as `before` for older entries; None at the start")
