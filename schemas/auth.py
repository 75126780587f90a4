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
    unreadable: list[str] = Field(default_factory=list,
                                  description="names whose stored record is damaged: they grant nothing; revoke them")


class SignIn(Contract):
    """POST /v1/session: a one-time sign-in code (the link `up` prints) or a token (the sign-in page) becomes a
    server-side session, named by an HttpOnly cookie. Exactly one of `code` and `token`."""

    code: str | None = Field(default=None, min_length=1, max_length=200)
    token: str | None = Field(default=None, min_length=1, max_length=200)
    replace: bool = Field(default=False, description="sign in even though the browser is signed in as someone else: "
                          "without it, that answers 409 and the builder asks first")


class SignInCode(Contract):
    """POST /v1/session/codes: the one answer that carries the code; it is stored only as a hash."""

    code: str
    url: str = Field(description="the sign-in link: the builder's address with ?code=")
    expiresAt: datetime


class StoredSignInCode(Contract):
    """Stored under `code.<sha256 of the code>` in the `sessions` bucket until used (deleted by compare-and-set, so
    it signs in once however many gateways race) or expired."""

    v: Literal[1] = 1
    tokenHash: str = Field(description="the token the code signs in as: revoking it ends the code's sessions too")
    expiresAt: datetime


class StoredSession(Contract):
    """Stored under `session.<sha256 of the cookie>` in the `sessions` bucket; deleted by sign-out."""

    v: Literal[1] = 1
    tokenHash: str
    createdAt: datetime = Field(default_factory=utc_now)
    seenAt: datetime = Field(default_factory=utc_now, description="when it was last refreshed: it ends this long "
                             "idle (AUTOMATEOS_SESSION_IDLE_HOURS) after")


class SessionInfo(Contract):
    """GET /v1/session: who the request is made as."""

    name: str
    role: Role


class SignInConflict(Contract):
    """A 409 to POST /v1/session without `replace`: who the browser is signed in as, and who it would become."""

    current: SessionInfo
    requested: SessionInfo


AuditAction = Literal[
    "workflow.create", "workflow.update", "workflow.delete", "workflow.activate", "workflow.deactivate",
    "credential.create", "credential.replace", "credential.delete", "token.create", "token.revoke",
    "run.start", "run.resume", "credential.send",
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
