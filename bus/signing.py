"""Step results signed by the engine workers and checked by the orchestrator.

A result decides what a run does next (which branch, what the next step's templates read), so one forged by anyone
holding only the engine's NATS password could steer a run, and with it where a later step sends a credential. Each
result carries an HMAC-SHA256 of its bytes under the results key (`AUTOMATEOS_RESULTS_KEY`), which `up` generates
and hands to the engines and the orchestrator only. An orchestrator with a key refuses a result without a valid
signature. One key for every worker: they hold the same secrets anyway (the master key), so a key per worker would
tell them apart by name only, which the signed body already does (`worker`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "AutomateOS-Signature"
_VERSION = "v1="


class ResultKeyError(ValueError):
    """The results key is not base64 of 32 bytes; the message says what to set."""


def new_results_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class ResultSigner:
    def __init__(self, key_base64: str) -> None:
        try:
            key = base64.b64decode(key_base64, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise ResultKeyError("AUTOMATEOS_RESULTS_KEY must be base64 of 32 random bytes (`automateos up` writes one "
                                 "into .env)")
        self._key = key

    def sign(self, data: bytes) -> str:
        return _VERSION + hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def verify(self, data: bytes, signature: str | None) -> bool:
        return bool(signature) and hmac.compare_digest(self.sign(data).encode(), (signature or "").encode())
