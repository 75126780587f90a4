"""The credential store on a real nats-server: encrypted at rest, checked key, rotation without loss."""

from __future__ import annotations

import pytest

from bus import (
    Bus,
    Cipher,
    CredentialExists,
    CredentialMissing,
    CredentialStore,
    MasterKeyError,
    new_master_key,
)
from bus.cipher import key_from_base64
from tests.support.streams import stored_messages


async def test_values_are_encrypted_at_rest_and_listed_masked(bus: Bus) -> None:
    store = await CredentialStore.open(bus.credentials_kv, new_master_key(), None)
    info = await store.create("notionToken", "secret_notion_0123456789abcdef", "Notion")
    assert info.masked == "••••cdef" and info.description == "Notion"
    await store.create("short", "abc", None)
    assert [(i.name, i.masked) for i in await store.infos()] == [("notionToken", "••••cdef"), ("short", "••••••••")]
    assert await store.reveal("notionToken") == "secret_notion_0123456789abcdef"
    stored = await stored_messages(bus, "KV_credentials")
    assert stored and not [blob for blob in stored if b"secret_notion_0123456789abcdef" in blob]
    with pytest.raises(CredentialExists):
        await store.create("notionToken", "other", None)
    with pytest.raises(CredentialMissing, match="credential 'nope' is not defined"):
        await store.reveal("nope")


async def test_replace_and_delete(bus: Bus) -> None:
    store = await CredentialStore.open(bus.credentials_kv, new_master_key(), None)
    first = await store.create("k", "first-value-123456", "desc")
    replaced, created = await store.replace("k", "second-value-654321", None)
    assert not created and replaced.createdAt == first.createdAt and replaced.description == "desc"
    assert await store.reveal("k") == "second-value-654321"
    _, created = await store.replace("new", "x" * 20, None)
    assert created
    assert await store.delete("k") and not await store.delete("k")
    assert [i.name for i in await store.infos()] == ["new"]


async def test_the_wrong_master_key_is_refused_at_start(bus: Bus) -> None:
    await CredentialStore.open(bus.credentials_kv, new_master_key(), None)
    with pytest.raises(MasterKeyError, match="does not match"):
        await CredentialStore.open(bus.credentials_kv, new_master_key(), None)
    with pytest.raises(MasterKeyError, match="set AUTOMATEOS_MASTER_KEY"):
        await CredentialStore.open(bus.credentials_kv, None, None)


async def test_a_password_derives_the_same_key_in_every_actor(bus: Bus) -> None:
    first = await CredentialStore.open(bus.credentials_kv, None, "a long passphrase")
    await first.create("k", "value-from-first-actor", None)
    second = await CredentialStore.open(bus.credentials_kv, None, "a long passphrase")
    assert await second.reveal("k") == "value-from-first-actor"
    with pytest.raises(MasterKeyError):
        await CredentialStore.open(bus.credentials_kv, None, "another passphrase")


async def test_rotation_keeps_every_credential_readable(bus: Bus) -> None:
    old_key, new_key = new_master_key(), new_master_key()
    store = await CredentialStore.open(bus.credentials_kv, old_key, None)
    values = {f"cred{i}": f"value-{i}-{'z' * i}" for i in range(12)}
    for name, value in values.items():
        await store.create(name, value, None)
    assert await store.rotate(Cipher(key_from_base64(new_key))) == 12
    rotated = await CredentialStore.open(bus.credentials_kv, new_key, None)
    assert {name: await rotated.reveal(name) for name in values} == values
    with pytest.raises(MasterKeyError):
        await CredentialStore.open(bus.credentials_kv, old_key, None)
    assert await rotated.rotate(Cipher(key_from_base64(new_key))) == 0, "already under that key: nothing to do"


async def test_an_interrupted_rotation_resumes_without_losing_a_credential(bus: Bus) -> None:
    import asyncio

    from tests.support.waiting import eventually

    old_key, new_key = new_master_key(), new_master_key()
    store = await CredentialStore.open(bus.credentials_kv, old_key, None)
    values = {f"c{i:02d}": f"value-{i}-secret" for i in range(40)}
    for name, value in values.items():
        await store.create(name, value, None)
    new = Cipher(key_from_base64(new_key))

    async def rotated_some() -> bool:
        infos = [await bus.credentials_kv.get(f"c.{name}") for name in values]
        return sum(new.key_id.encode() in (entry.value or b"") for entry in infos) >= 3

    rotation = asyncio.create_task(store.rotate(new))
    await eventually(rotated_some, what="some credentials to be rotated")
    rotation.cancel()
    await asyncio.gather(rotation, return_exceptions=True)

    # The key check was not yet moved: the old key still opens the store, and the rotation resumes.
    resumed = await CredentialStore.open(bus.credentials_kv, old_key, None, rotating_to=new)
    await resumed.rotate(new)
    final = await CredentialStore.open(bus.credentials_kv, new_key, None)
    assert {name: await final.reveal(name) for name in values} == values


async def test_a_process_with_the_old_key_cannot_write_after_rotation(bus: Bus) -> None:
    old_key, new_key = new_master_key(), new_master_key()
    stale = await CredentialStore.open(bus.credentials_kv, old_key, None)
    rotator = await CredentialStore.open(bus.credentials_kv, old_key, None)
    await rotator.rotate(Cipher(key_from_base64(new_key)))
    with pytest.raises(MasterKeyError):
        await stale.create("late", "written-with-the-old-key", None)


async def test_a_fence_is_bound_to_the_value_so_widening_it_in_kv_makes_it_unreadable(bus: Bus) -> None:
    from bus import DecryptionError
    from schemas.credentials import StoredCredential

    key = new_master_key()
    store = await CredentialStore.open(bus.credentials_kv, key, None)
    await store.create("notionToken", "secret_notion_value", None, ["api.notion.com"])
    assert await store.reveal_fenced("notionToken") == ("secret_notion_value", ["api.notion.com"])
    # Rotation keeps the fence and the binding.
    new_key = new_master_key()
    await store.rotate(Cipher(key_from_base64(new_key)))
    rotated = await CredentialStore.open(bus.credentials_kv, new_key, None)
    assert await rotated.reveal_fenced("notionToken") == ("secret_notion_value", ["api.notion.com"])
    # Someone who can write the bucket but holds no key drops the fence: the value no longer opens.
    entry = await bus.credentials_kv.get("c.notionToken")
    stored = StoredCredential.model_validate_json(entry.value or b"")
    await bus.credentials_kv.put("c.notionToken", stored.model_copy(update={"allowedHosts": []}).model_dump_json().encode())
    with pytest.raises(DecryptionError):
        await rotated.reveal_fenced("notionToken")
