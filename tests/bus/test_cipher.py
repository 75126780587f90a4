from __future__ import annotations

import base64
import dataclasses
import os

import pytest

from bus.cipher import (
    Cipher,
    DecryptionError,
    MasterKeyError,
    key_from_base64,
    key_from_password,
    new_master_key,
)


def test_round_trip() -> None:
    cipher = Cipher(os.urandom(32))
    sealed = cipher.seal("notionToken", "secret_abc123")
    assert sealed.ciphertext != b"secret_abc123" and b"secret_abc123" not in sealed.ciphertext
    assert cipher.open("notionToken", sealed) == "secret_abc123"


def test_wrong_key_fails_with_a_clear_error() -> None:
    sealed = Cipher(os.urandom(32)).seal("a", "value")
    other = Cipher(os.urandom(32))
    with pytest.raises(DecryptionError, match="encrypted with another master key"):
        other.open("a", sealed)
    # Even when the key id is forged to match, the tag check refuses it.
    with pytest.raises(DecryptionError, match="wrong master key or tampered value"):
        other.open("a", dataclasses.replace(sealed, key_id=other.key_id))


def test_tampered_ciphertext_is_rejected() -> None:
    cipher = Cipher(os.urandom(32))
    sealed = cipher.seal("a", "value")
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    with pytest.raises(DecryptionError, match="tampered"):
        cipher.open("a", dataclasses.replace(sealed, ciphertext=flipped))
    with pytest.raises(DecryptionError):
        cipher.open("a", dataclasses.replace(sealed, nonce=os.urandom(12)))


def test_a_value_moved_to_another_name_is_rejected() -> None:
    cipher = Cipher(os.urandom(32))
    sealed = cipher.seal("slackWebhook", "https://hooks.slack.com/services/T/B/X")
    with pytest.raises(DecryptionError):
        cipher.open("notionToken", sealed)


def test_nonces_never_repeat_across_10000_writes() -> None:
    cipher = Cipher(os.urandom(32))
    nonces = {cipher.seal("same-name", "same value").nonce for _ in range(10_000)}
    assert len(nonces) == 10_000
    assert all(len(nonce) == 12 for nonce in nonces)


def test_master_key_parsing() -> None:
    assert len(key_from_base64(new_master_key())) == 32
    with pytest.raises(MasterKeyError, match="not valid base64"):
        key_from_base64("not base64 at all!")
    with pytest.raises(MasterKeyError, match="32 bytes, not 16"):
        key_from_base64(base64.b64encode(os.urandom(16)).decode())


def test_password_keys_depend_on_password_and_salt() -> None:
    salt = os.urandom(16)
    key = key_from_password("correct horse", salt)
    assert len(key) == 32 and key == key_from_password("correct horse", salt)
    assert key != key_from_password("correct horse", os.urandom(16))
    assert key != key_from_password("wrong horse", salt)
