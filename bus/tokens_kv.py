"""API tokens in the `tokens` KV bucket, stored only as hashes: `token.<sha256>` holds the token's name and role
(what a request is checked against, in one read), and `name.<name>` holds its hash (names are unique: created by
compare-and-set)."""

from __future__ import annotations

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from schemas.auth import StoredToken

from .kv_keys import kv_keys


class TokenExists(Exception):
    pass


class TokenStore:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def create(self, stored: StoredToken) -> None:
        try:
            await self.kv.create(f"name.{stored.name}", stored.hash.encode())
        except KeyWrongLastSequenceError:
            raise TokenExists(f"a token named {stored.name!r} exists already") from None
        await self.kv.put(f"token.{stored.hash}", stored.model_dump_json().encode())

    async def by_hash(self, digest: str) -> StoredToken | None:
        try:
            entry = await self.kv.get(f"token.{digest}")
        except KeyNotFoundError:
            return None
        return StoredToken.model_validate_json(entry.value) if entry.value else None

    async def all(self) -> list[StoredToken]:
        found = []
        for key in await kv_keys(self.kv, "token."):
            stored = await self.by_hash(key.removeprefix("token."))
            if stored is not None:
                found.append(stored)
        return sorted(found, key=lambda t: t.createdAt)

    async def revoke(self, name: str) -> bool:
        """False when there is no such token."""
        try:
            entry = await self.kv.get(f"name.{name}")
        except KeyNotFoundError:
            return False
        if not entry.value:
            return False
        # The token first, so a crash between the two leaves a name that revoking again clears.
        await self.kv.purge(f"token.{entry.value.decode()}")
        await self.kv.purge(f"name.{name}")
        return True
