"""API tokens in the `tokens` KV bucket, stored only as hashes: `token.<sha256>` holds the token's name and role
(what a request is checked against, in one read), and `name.<name>` holds its hash (names are unique: created by
compare-and-set)."""

from __future__ import annotations

import logging

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from schemas.auth import StoredToken

from .kv_keys import kv_keys

log = logging.getLogger(__name__)


class TokenExists(Exception):
    pass


class TokenStore:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def create(self, stored: StoredToken) -> None:
        """The record first, the name last: a create cut by a crash leaves a record nobody holds the token of
        (it is answered only after both writes) and no name taken, so the same name can be created again."""
        await self.kv.put(f"token.{stored.hash}", stored.model_dump_json().encode())
        try:
            await self.kv.create(f"name.{stored.name}", stored.hash.encode())
        except KeyWrongLastSequenceError:
            await self.kv.purge(f"token.{stored.hash}")
            raise TokenExists(f"a token named {stored.name!r} exists already") from None

    async def by_hash(self, digest: str) -> StoredToken | None:
        try:
            entry = await self.kv.get(f"token.{digest}")
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        try:
            return StoredToken.model_validate_json(entry.value)
        except ValueError:
            # Not a token record (a stray write): it grants nothing, and must not fail a request or the list.
            log.warning("token record token.%s… cannot be read; ignoring it", digest[:8])
            return None

    async def all(self) -> list[StoredToken]:
        """Every token whose name is claimed by it: a record a crashed create left behind is not one."""
        found = []
        for key in await kv_keys(self.kv, "token."):
            stored = await self.by_hash(key.removeprefix("token."))
            if stored is not None and await self._claimed_by(stored.name) == stored.hash:
                found.append(stored)
        return sorted(found, key=lambda t: t.createdAt)

    async def unreadable(self) -> list[str]:
        """Names whose token record is damaged (it grants nothing): listed so an admin can revoke them."""
        names = []
        for key in await kv_keys(self.kv, "name."):
            digest = await self._claimed_by(key.removeprefix("name."))
            if digest is None:
                continue
            try:
                entry = await self.kv.get(f"token.{digest}")
            except KeyNotFoundError:
                continue
            if entry.value and await self.by_hash(digest) is None:
                names.append(key.removeprefix("name."))
        return sorted(names)

    async def _claimed_by(self, name: str) -> str | None:
        try:
            entry = await self.kv.get(f"name.{name}")
        except KeyNotFoundError:
            return None
        return entry.value.decode() if entry.value else None

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
