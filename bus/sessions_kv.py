"""Browser sessions and one-time sign-in codes in the `sessions` KV bucket.

Both are stored by the SHA-256 of what the browser holds (the cookie's value, the code), never the value itself:
whoever can read the bucket cannot sign in with what it finds. A session is a record that sign-out deletes, so a
copied cookie stops working on every gateway at once; a code is deleted by compare-and-set when used, so of two
gateways racing to exchange one, exactly one wins.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from nats.js.errors import APIError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from schemas._base import utc_now
from schemas.auth import StoredSession, StoredSignInCode


# nats-server's "wrong last sequence": a compare-and-set that lost.
_WRONG_LAST_SEQUENCE = 10071


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _code_key(code: str) -> str:
    return f"code.{_digest(code)}"


def _session_key(session_id: str) -> str:
    return f"session.{_digest(session_id)}"


class SessionStore:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    # -- sign-in codes ----------------------------------------------------------------------------------------

    async def new_code(self, token_hash: str, valid_for_s: float) -> tuple[str, datetime]:
        """A code that signs in as the token with `token_hash`, once, within `valid_for_s`; and when it expires."""
        code = secrets.token_urlsafe(32)
        expires = utc_now() + timedelta(seconds=valid_for_s)
        await self.kv.create(_code_key(code), StoredSignInCode(tokenHash=token_hash, expiresAt=expires)
                             .model_dump_json().encode())
        return code, expires

    async def peek_code(self, code: str) -> StoredSignInCode | None:
        """The code's record if it is unused and unexpired, leaving it usable."""
        found = await self._code(code)
        return found[0] if found is not None else None

    async def take_code(self, code: str) -> StoredSignInCode | None:
        """The code's record, used up: None when it is unknown, expired, or used (here or by another gateway)."""
        found = await self._code(code)
        if found is None:
            return None
        try:
            await self.kv.delete(_code_key(code), last=found[1])
        except KeyWrongLastSequenceError:
            return None  # another exchange deleted it first
        except APIError as error:
            # nats-py's delete does not translate a failed compare-and-set into KeyWrongLastSequenceError.
            if error.err_code == _WRONG_LAST_SEQUENCE:
                return None
            raise
        return found[0]

    async def _code(self, code: str) -> tuple[StoredSignInCode, int] | None:
        try:
            entry = await self.kv.get(_code_key(code))
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        stored = StoredSignInCode.model_validate_json(entry.value)
        return (stored, entry.revision or 0) if stored.expiresAt > utc_now() else None

    # -- sessions ---------------------------------------------------------------------------------------------

    async def open(self, token_hash: str) -> str:
        """A new session as the token with `token_hash`; returns the cookie's value."""
        session_id = secrets.token_urlsafe(32)
        await self.kv.create(_session_key(session_id), StoredSession(tokenHash=token_hash).model_dump_json().encode())
        return session_id

    async def get(self, session_id: str, idle_s: float, refresh_after_s: float) -> StoredSession | None:
        """The session, if it exists and has not been idle `idle_s`; refreshed when its last refresh is over
        `refresh_after_s` old, so a busy session writes once in a while, not on every request."""
        try:
            entry = await self.kv.get(_session_key(session_id))
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        stored = StoredSession.model_validate_json(entry.value)
        now = utc_now()
        if now - stored.seenAt > timedelta(seconds=idle_s):
            return None
        if now - stored.seenAt > timedelta(seconds=refresh_after_s):
            refreshed = stored.model_copy(update={"seenAt": now})
            try:
                await self.kv.update(_session_key(session_id), refreshed.model_dump_json().encode(),
                                     last=entry.revision or 0)
            except KeyWrongLastSequenceError:
                # Refreshed by a concurrent request, or signed out meanwhile: the next request reads which.
                pass
            return refreshed
        return stored

    async def end(self, session_id: str) -> None:
        await self.kv.purge(_session_key(session_id))
