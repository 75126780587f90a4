"""A KV entry that does not parse (a stray JetStream ack written over it, say) is skipped or flagged, never a 500
for a whole list, and a damaged key check stops start-up naming it."""

from __future__ import annotations

import pytest

from bus import Bus, CredentialStore, MasterKeyError, new_master_key
from tests.gateway.test_rest_api import request
from tests.support.stack import Stack

ACK = b'{"stream":"STEPS_RESULT","seq":7}'  # what a reply-subject write leaves


async def test_a_damaged_credential_is_listed_as_unreadable_and_can_be_replaced(stack: Stack, bus: Bus) -> None:
    for name in ("good", "bad"):
        assert (await request(stack, "POST", "/v1/credentials", json={"name": name, "value": "v" * 20}))[0] == 201
    await bus.credentials_kv.put("c.bad", ACK)  # bus/credentials.py keys a credential as c.<name>
    status, listed, _ = await request(stack, "GET", "/v1/credentials")
    assert status == 200, listed
    by_name = {c["name"]: c for c in listed}
    assert by_name["bad"]["unreadable"] is True and "damaged" in by_name["bad"]["description"]
    assert by_name["good"]["unreadable"] is False
    status, replaced, _ = await request(stack, "PUT", "/v1/credentials/bad", json={"value": "w" * 20})
    assert status == 200 and replaced["masked"].endswith("wwww"), replaced
    assert not any(c["unreadable"] for c in (await request(stack, "GET", "/v1/credentials"))[1])


async def test_a_damaged_token_record_grants_nothing_and_fails_no_list(stack: Stack, bus: Bus) -> None:
    status, created, _ = await request(stack, "POST", "/v1/tokens", json={"name": "ci", "role": "runner"})
    assert status == 201
    keys = [k for k in await bus.tokens.kv.keys() if k.startswith("token.")]
    await bus.tokens.kv.put(keys[0], ACK)
    status, listed, _ = await request(stack, "GET", "/v1/tokens")
    assert status == 200 and listed == {"tokens": [], "unreadable": ["ci"]}, listed
    assert (await request(stack, "DELETE", "/v1/tokens/ci"))[0] == 204, "a damaged token can be revoked"
    assert (await request(stack, "GET", "/v1/tokens"))[1] == {"tokens": [], "unreadable": []}
    status, body, _ = await request(stack, "GET", "/v1/runs", headers={"Authorization": f"Bearer {created['token']}"})
    assert status == 401 and body["error"]["code"] == "unauthenticated"


async def test_a_damaged_key_check_stops_start_up_naming_it(bus: Bus) -> None:
    key = new_master_key()
    await CredentialStore.open(bus.credentials_kv, key, None)  # writes the key check
    await bus.credentials_kv.put("meta.keycheck", ACK)
    with pytest.raises(MasterKeyError, match="key check record .*meta.keycheck.* cannot be read"):
        await CredentialStore.open(bus.credentials_kv, key, None)


async def test_a_damaged_workflow_head_is_a_409_naming_it_and_can_be_deleted(stack: Stack, bus: Bus) -> None:
    document = {"nodes": [{"id": "start", "type": "start"}], "edges": [], "meta": {"name": "Hurt"}}
    status, created, _ = await request(stack, "POST", "/v1/workflows", json={"name": "Hurt", "graph": document})
    assert status == 201
    await bus.workflows.kv.put(f"head.{created['id']}", ACK)
    status, body, _ = await request(stack, "GET", f"/v1/workflows/{created['id']}")
    assert status == 409 and "stored head is damaged" in body["error"]["message"], body
    assert (await request(stack, "GET", "/v1/workflows"))[0] == 200
    assert (await request(stack, "POST", "/v1/credentials", json={"name": "k", "value": "v" * 20}))[0] == 201
    assert (await request(stack, "DELETE", "/v1/credentials/k"))[0] == 204, "the in-use check skips it"
    assert (await request(stack, "DELETE", f"/v1/workflows/{created['id']}"))[0] == 204
    assert (await request(stack, "GET", f"/v1/workflows/{created['id']}"))[0] == 404
