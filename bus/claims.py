"""`Claims`: keys that only the first claimant gets, for a while (a KV bucket with a TTL).

REST idempotency keys and webhook dedupe keys both need "the first request wins; a repeat learns what the first
one recorded", so it is written once, here.
"""

from __future__ import annotations

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from .errors import BusUnavailable

_ATTEMPTS = 3


class Claims:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def claim(self, key: str, value: bytes) -> bytes | None:
        """None when this call claimed `key` (storing `value`); else the value its first claimant stored."""
        for _ in range(_ATTEMPTS):
            try:
                await self.kv.create(key, value)
                return None
            except KeyWrongLastSequenceError:
                pass
            try:
                entry = await self.kv.get(key)
            except KeyNotFoundError:
                continue  # released or expired between the two calls: claim it again
            return entry.value or b""
        raise BusUnavailable(f"could not claim key {key[:12]}…: it kept changing")

    async def release(self, key: str) -> None:
        """Let a claim go (what it guarded did not happen, so a retry may claim it)."""
        await self.kv.purge(key)
