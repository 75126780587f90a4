"""The credential store: encrypted values in the `credentials` KV bucket.

Values are sealed by the gateway and opened only by engine workers, just before a request needs them.
The orchestrator never holds the master key.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import time
from typing import Any

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from schemas.credentials import CredentialInfo, StoredCredential
from schemas.masking import mask_secret

from .cipher import (
    SALT_BYTES,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    Cipher,
    DecryptionError,
    MasterKeyError,
    Sealed,
    key_from_base64,
    key_from_password,
)
from .kv_keys import kv_keys

log = logging.getLogger(__name__)

# Each credential is `c.<name>`; the key check and the salt are `meta.*`, which only admin writes.
CREDENTIAL_PREFIX = "c."
_PREFIX = CREDENTIAL_PREFIX
_SALT_KEY = "meta.salt"
_KEY_CHECK = "meta.keycheck"
_KEY_CHECK_TEXT = "automateos master key check"


class CredentialDamaged(DecryptionError):
    """A credential's stored record does not parse: written by something other than this store (a stray JetStream
    ack, a hand edit). It is listed as unreadable and can be replaced or deleted; it never fails a whole list."""

    def __init__(self, name: str) -> None:
        super().__init__(f"credential '{name}' cannot be read: its stored record is damaged; replace it (PUT) or "
                         "delete it")
        self.name = name


class CredentialMissing(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"credential '{name}' is not defined")
        self.name = name


class CredentialExists(ValueError):
    pass


class CredentialStore:
    def __init__(self, kv: KeyValue, cipher: Cipher, writes_key_check: bool = True) -> None:
        self.kv = kv
        self.cipher = cipher
        # Only admin (`automateos setup` / `up`) writes the key check and the salt; an actor's role may not.
        self.writes_key_check = writes_key_check
        self._previous: Cipher | None = None  # during a rotation: the key being replaced

    @classmethod
    async def open(
        cls, kv: KeyValue, master_key: str | None, master_password: str | None, rotating_to: Cipher | None = None,
        writes_key_check: bool = True,
    ) -> CredentialStore:
        """Derive the key, and check it against the stored key check.

        `rotating_to`: a rotation that was interrupted after its key check was written may resume with
        the old key as well as the new. `writes_key_check`: admin's, who writes the key check (and a password's
        salt) when there is none; an actor (False) waits a while for them, then says who writes them.
        """
        if master_key:
            key = key_from_base64(master_key)
        elif master_password:
            params = await _scrypt_params(kv, writes_key_check)
            key = key_from_password(master_password, base64.b64decode(params["salt"]), params["n"], params["r"], params["p"])
        else:
            raise MasterKeyError(
                "no master key: set AUTOMATEOS_MASTER_KEY (base64 of 32 random bytes; `automateos up` writes one "
                "into .env) or AUTOMATEOS_MASTER_PASSWORD"
            )
        store = cls(kv, Cipher(key), writes_key_check)
        try:
            await store._check_key()
        except MasterKeyError:
            if rotating_to is None:
                raise
            # The rotation got as far as its key check: finish with the new key, and the old one for what is left.
            store._previous, store.cipher = store.cipher, rotating_to
            await store._check_key()
        return store

    @staticmethod
    async def has_key_check(kv: KeyValue) -> bool:
        """Whether some actor has opened this store with a master key: its credentials, if any, need that key."""
        try:
            entry = await kv.get(_KEY_CHECK)
        except KeyNotFoundError:
            return False
        return bool(entry.value)

    async def _check_key(self) -> None:
        try:
            entry = await self.kv.get(_KEY_CHECK) if self.writes_key_check else await _written_by_admin(self.kv, _KEY_CHECK)
        except KeyNotFoundError:
            try:
                await self.kv.create(_KEY_CHECK, _encode(self.cipher.seal(_KEY_CHECK, _KEY_CHECK_TEXT), _KEY_CHECK))
                return
            except KeyWrongLastSequenceError:
                entry = await self.kv.get(_KEY_CHECK)  # another actor wrote it first: check against it
        try:
            sealed = _decode(entry.value)
        except ValueError:
            raise MasterKeyError(
                f"the key check record ({_KEY_CHECK!r} in the credentials bucket) cannot be read: it was "
                "overwritten by something other than AutomateOS. Restore the bucket from a backup, or, if this "
                "master key is the right one, purge the record and start again (the first actor rewrites it)"
            ) from None
        try:
            self.cipher.open(_KEY_CHECK, sealed)
        except DecryptionError:
            raise MasterKeyError(
                "the master key does not match the one this system's credentials are encrypted with "
                "(check AUTOMATEOS_MASTER_KEY / AUTOMATEOS_MASTER_PASSWORD)"
            ) from None

    async def create(self, name: str, value: str, description: str | None,
                     allowed_hosts: list[str] | None = None) -> CredentialInfo:
        await self._check_key()  # after a key rotation, a process with the old key must not write
        stored = self._seal(name, value, description, allowed_hosts or [])
        try:
            await self.kv.create(_PREFIX + name, stored.model_dump_json().encode())
        except KeyWrongLastSequenceError:
            raise CredentialExists(f"credential '{name}' exists already; replace it with PUT") from None
        return stored.info()

    async def replace(self, name: str, value: str, description: str | None,
                      allowed_hosts: list[str] | None = None) -> tuple[CredentialInfo, bool]:
        """Returns (info, created). `allowed_hosts` None keeps the current fence."""
        await self._check_key()
        try:
            current = await self._stored(name)
        except CredentialDamaged:
            # Whatever is there is not a credential: the new value replaces it, with no fence to keep.
            stored = self._seal(name, value, description, allowed_hosts or [])
            await self.kv.put(_PREFIX + name, stored.model_dump_json().encode())
            return stored.info(), False
        if current is None:
            return await self.create(name, value, description, allowed_hosts), True
        previous, revision = current
        stored = self._seal(name, value, description,
                            previous.allowedHosts if allowed_hosts is None else allowed_hosts)
        stored.createdAt = previous.createdAt
        if description is None:
            stored.description = previous.description
        await self.kv.update(_PREFIX + name, stored.model_dump_json().encode(), last=revision)
        return stored.info(), False

    async def delete(self, name: str) -> bool:
        try:
            if await self._stored(name) is None:
                return False
        except CredentialDamaged:
            pass  # a damaged record is deleted like any other
        await self.kv.purge(_PREFIX + name)
        return True

    async def infos(self) -> list[CredentialInfo]:
        """Every credential; one whose record is damaged is listed flagged `unreadable`, never failing the list."""
        infos = []
        for name in await self.names():
            try:
                found = await self._stored(name)
            except CredentialDamaged as damaged:
                log.warning("%s", damaged)
                infos.append(CredentialInfo.unreadable_one(name, str(damaged)))
                continue
            if found is not None:
                infos.append(found[0].info())
        return infos

    async def names(self) -> list[str]:
        return [key[len(_PREFIX):] for key in await kv_keys(self.kv, _PREFIX)]

    async def reveal(self, name: str) -> str:
        """The plaintext, for the engine's request only. Never log or return it."""
        return (await self.reveal_fenced(name))[0]

    async def reveal_fenced(self, name: str) -> tuple[str, list[str]]:
        """The plaintext and the hosts it may be sent to (empty: anywhere). A fence changed without the key fails
        to decrypt, since it is bound into the ciphertext."""
        found = await self._stored(name)
        if found is None:
            raise CredentialMissing(name)
        stored = found[0]
        return self.cipher.open(name, _sealed(stored), _bound(stored.allowedHosts)), stored.allowedHosts

    async def rotate(self, new: Cipher) -> int:
        """Re-encrypt every credential under `new`, then switch the key check to it. Every step can be cut and
        run again: a credential already under `new` is left alone, and the key check moves last, so until then
        the old key still opens the store. Returns how many credentials this call re-encrypted."""
        rotated = await self._reencrypt(new)
        await self._switch_key_check(new)
        if self.cipher.key_id != new.key_id:
            self._previous, self.cipher = self.cipher, new
        # A gateway that checked the old key just before the switch may have written one more under it.
        return rotated + await self._reencrypt(new)

    async def _reencrypt(self, new: Cipher) -> int:
        rotated = 0
        for name in await self.names():
            try:
                found = await self._stored(name)
            except CredentialDamaged as damaged:
                log.warning("not re-encrypted: %s", damaged)  # nothing in it can be opened with any key
                continue
            while found is not None:
                stored, revision = found
                if stored.keyId == new.key_id:
                    break
                old = next((c for c in (self.cipher, self._previous) if c is not None and c.key_id == stored.keyId),
                           None)
                if old is None:
                    raise DecryptionError(f"'{name}' was encrypted with a master key that is neither the current "
                                          f"nor the new one (key id {stored.keyId})")
                bound = _bound(stored.allowedHosts)
                sealed = new.seal(name, old.open(name, _sealed(stored), bound), bound)
                updated = stored.model_copy(update={
                    "keyId": sealed.key_id,
                    "nonce": base64.b64encode(sealed.nonce).decode(),
                    "ciphertext": base64.b64encode(sealed.ciphertext).decode(),
                })
                try:
                    await self.kv.update(_PREFIX + name, updated.model_dump_json().encode(), last=revision)
                except KeyWrongLastSequenceError:
                    found = await self._stored(name)  # replaced meanwhile: re-encrypt what is there now
                    continue
                rotated += 1
                break
        return rotated

    async def _switch_key_check(self, new: Cipher) -> None:
        while True:
            try:
                entry = await self.kv.get(_KEY_CHECK)
            except KeyNotFoundError:
                entry = None
            if entry is not None and _decode(entry.value).key_id == new.key_id:
                return
            value = _encode(new.seal(_KEY_CHECK, _KEY_CHECK_TEXT), _KEY_CHECK)
            try:
                if entry is None:
                    await self.kv.create(_KEY_CHECK, value)
                else:
                    await self.kv.update(_KEY_CHECK, value, last=entry.revision)
                return
            except KeyWrongLastSequenceError:
                continue

    def _seal(self, name: str, value: str, description: str | None, allowed_hosts: list[str]) -> StoredCredential:
        sealed = self.cipher.seal(name, value, _bound(allowed_hosts))
        return StoredCredential(
            name=name,
            keyId=sealed.key_id,
            nonce=base64.b64encode(sealed.nonce).decode(),
            ciphertext=base64.b64encode(sealed.ciphertext).decode(),
            masked=mask_secret(value),
            description=description,
            allowedHosts=allowed_hosts,
        )

    async def _stored(self, name: str) -> tuple[StoredCredential, int] | None:
        """The record and its revision; None when there is none; CredentialDamaged when it does not parse."""
        try:
            entry = await self.kv.get(_PREFIX + name)
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        try:
            return StoredCredential.model_validate_json(entry.value), entry.revision or 0
        except ValueError:
            raise CredentialDamaged(name) from None


# An actor started beside `up` or `automateos setup` (compose starts them together) waits this long for admin to
# write the key check, then stops saying who writes it.
KEY_CHECK_PATIENCE_S = 30.0


async def _written_by_admin(kv: KeyValue, key: str) -> Any:
    """The entry admin writes at setup, waited for a while; MasterKeyError when it never comes."""
    give_up_at = time.monotonic() + KEY_CHECK_PATIENCE_S
    while True:
        try:
            return await kv.get(key)
        except KeyNotFoundError:
            if time.monotonic() > give_up_at:
                raise MasterKeyError(
                    f"the credential store has no {key!r} record: `automateos up` writes it, or `automateos setup` "
                    "run with the master key (AUTOMATEOS_MASTER_KEY or AUTOMATEOS_MASTER_PASSWORD) set"
                ) from None
            await asyncio.sleep(0.5)


async def _scrypt_params(kv: KeyValue, writes: bool = True) -> dict[str, Any]:
    """The salt and cost of password-derived keys: chosen once, shared by every actor."""
    if not writes:
        return dict(json.loads((await _written_by_admin(kv, _SALT_KEY)).value or b"{}"))
    try:
        return dict(json.loads((await kv.get(_SALT_KEY)).value or b"{}"))
    except KeyNotFoundError:
        pass
    params = {"salt": base64.b64encode(os.urandom(SALT_BYTES)).decode(), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}
    try:
        await kv.create(_SALT_KEY, json.dumps(params).encode())
        return params
    except KeyWrongLastSequenceError:
        return dict(json.loads((await kv.get(_SALT_KEY)).value or b"{}"))


def _bound(allowed_hosts: list[str]) -> str:
    return "\n".join(allowed_hosts)


def _sealed(stored: StoredCredential) -> Sealed:
    return Sealed(stored.keyId, base64.b64decode(stored.nonce), base64.b64decode(stored.ciphertext))


def _encode(sealed: Sealed, name: str) -> bytes:
    return StoredCredential(
        name=name, keyId=sealed.key_id, nonce=base64.b64encode(sealed.nonce).decode(),
        ciphertext=base64.b64encode(sealed.ciphertext).decode(), masked="",
    ).model_dump_json().encode()


def _decode(value: bytes | None) -> Sealed:
    return _sealed(StoredCredential.model_validate_json(value or b"{}"))
