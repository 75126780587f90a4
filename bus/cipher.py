"""Encryption of credential values: AES-256-GCM, a fresh 96-bit nonce per write, the name as associated data."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

KEY_BYTES = 32
NONCE_BYTES = 12
SALT_BYTES = 16


class MasterKeyError(ValueError):
    """No usable master key; the message says what to set."""


class DecryptionError(ValueError):
    """A value could not be decrypted: wrong key, tampered bytes, or a value moved to another name."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes


class Cipher:
    """Holds the master key. `key_id` (a hash prefix, not the key) tells which key sealed a value."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise MasterKeyError(f"the master key must be {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"automateos-key-id" + key).hexdigest()[:16]

    def seal(self, name: str, plaintext: str, bound: str = "") -> Sealed:
        """`bound`: more associated data (a credential's fence), which then cannot change without the key."""
        nonce = os.urandom(NONCE_BYTES)
        return Sealed(self.key_id, nonce, self._aead.encrypt(nonce, plaintext.encode(), _associated(name, bound)))

    def open(self, name: str, sealed: Sealed, bound: str = "") -> str:
        if sealed.key_id != self.key_id:
            raise DecryptionError(f"'{name}' was encrypted with another master key (key id {sealed.key_id})")
        try:
            return self._aead.decrypt(sealed.nonce, sealed.ciphertext, _associated(name, bound)).decode()
        except InvalidTag:
            raise DecryptionError(f"'{name}' cannot be decrypted: wrong master key or tampered value") from None


def _associated(name: str, bound: str) -> bytes:
    # A NUL cannot be in a credential name, so name + bound is read one way only; nothing bound: as before.
    return f"{name}\0{bound}".encode() if bound else name.encode()


def new_master_key() -> str:
    """A fresh key, base64, as AUTOMATEOS_MASTER_KEY takes it."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def key_from_base64(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError("AUTOMATEOS_MASTER_KEY is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"AUTOMATEOS_MASTER_KEY must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


# scrypt cost for password-derived keys: ~128 MiB and ~0.4 s once per process start. The salt and a
# known-plaintext key check live in NATS, so a stolen bucket invites offline guessing: make each guess dear.
# The parameters are stored beside the salt, so they can be raised later without locking anyone out.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1


def key_from_password(password: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> bytes:
    if not password:
        raise MasterKeyError("AUTOMATEOS_MASTER_PASSWORD is empty")
    return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(password.encode())
