"""Credentials: what the API says about them (never their values) and how they are stored (encrypted)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ._base import Contract, utc_now
from .host_patterns import MAX_ALLOWED_HOSTS, normalise_host_pattern

# What the store can key: letters, digits, _ and -, in parts joined by single dots (a KV key cannot start or end
# with a dot, or hold two in a row). The builder's check is generated from this (web/scripts/gen-api-types.mjs).
CREDENTIAL_NAME_PATTERN = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"
CREDENTIAL_NAME_MAX = 64
# getCredential('name') in a template, read from the text: the gateway and the compiler need the names a graph uses
# without rendering it (the engine parses the template itself before it reveals anything).
GET_CREDENTIAL = re.compile(r"""getCredential\(\s*['"]([^'"]*)['"]\s*\)""")
# A field that names a stored credential (never its value).
CredentialName = Annotated[str, Field(min_length=1, max_length=CREDENTIAL_NAME_MAX, pattern=CREDENTIAL_NAME_PATTERN)]
CREDENTIAL_NAME_RULE = "a credential name is 1 to 64 letters, digits, _ and -, in parts joined by single dots"
# Values are kept whole; the cap only stops a request from filling the store.
MAX_CREDENTIAL_BYTES = 16 * 1024

HostPatternText = Annotated[str, Field(max_length=300), AfterValidator(normalise_host_pattern)]
_ALLOWED_HOSTS_HELP = ("where the value may be sent: host names (api.notion.com), *.domain for its subdomains, or "
                       "addresses, each with an optional :port; empty: anywhere")


def _unique(hosts: list[str] | None) -> list[str] | None:
    return None if hosts is None else list(dict.fromkeys(hosts))


AllowedHosts = Annotated[list[HostPatternText], Field(max_length=MAX_ALLOWED_HOSTS, description=_ALLOWED_HOSTS_HELP),
                         AfterValidator(_unique)]


class CredentialInfo(Contract):
    name: str
    masked: str
    description: str | None = None
    allowedHosts: list[str] = Field(default_factory=list, description=_ALLOWED_HOSTS_HELP)
    createdAt: datetime
    updatedAt: datetime
    unreadable: bool = Field(default=False, description="its stored record is damaged: replace it (PUT) or delete it")

    @classmethod
    def unreadable_one(cls, name: str, why: str) -> CredentialInfo:
        """How a credential whose record does not parse is listed: by name, saying so (its dates are unknown)."""
        unknown = datetime(1970, 1, 1, tzinfo=UTC)
        return cls(name=name, masked="unreadable", description=why, createdAt=unknown, updatedAt=unknown,
                   unreadable=True)


class NewCredential(Contract):
    name: str = Field(min_length=1, max_length=CREDENTIAL_NAME_MAX, pattern=CREDENTIAL_NAME_PATTERN,
                      description="letters, digits, _ and -, in parts joined by single dots (1 to 64)")
    value: str = Field(min_length=1, max_length=MAX_CREDENTIAL_BYTES)
    description: str | None = Field(default=None, max_length=500)
    allowedHosts: AllowedHosts = Field(default_factory=list)


class ReplacedCredential(Contract):
    value: str = Field(min_length=1, max_length=MAX_CREDENTIAL_BYTES)
    description: str | None = Field(default=None, max_length=500)
    # Absent keeps the current fence, as an absent description keeps its text: a client that only replaces the
    # value (an older one) must not unfence a credential by leaving the field out. [] removes the fence.
    allowedHosts: AllowedHosts | None = None


class StoredCredential(Contract):
    """The KV value: ciphertext only. `keyId` names the master key that sealed it (a hash, not the key)."""

    v: Literal[1] = 1
    name: str
    keyId: str
    nonce: str  # base64
    ciphertext: str  # base64, AES-GCM with the name as associated data
    masked: str
    description: str | None = None
    # Also bound into the ciphertext's associated data (bus/credentials.py), so a fence edited in KV by anyone
    # without the master key makes the value unreadable rather than unfenced.
    allowedHosts: list[str] = Field(default_factory=list)
    createdAt: datetime = Field(default_factory=utc_now)
    updatedAt: datetime = Field(default_factory=utc_now)

    def info(self) -> CredentialInfo:
        return CredentialInfo.model_validate(self.model_dump(include=set(CredentialInfo.model_fields)))
