"""Credential fences through the real HTTP node, the worker's guarded session and a real credential store: a fenced
credential reaches only the hosts its fence names, on the step's URL and on every redirect, and the refusal names the
credential and the rule before anything is sent."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from bus import Bus, CredentialStore, new_master_key
from engine.errors import StepFailed
from engine.nodes import NodeContext
from engine.outbound_guard import guarded_session
from engine.outbound_policy import OutboundPolicy
from engine.step_runner import run_step
from schemas import StepDispatch
from tests.engine.test_outbound_guard import HostsFile
from tests.support.mock_http import MockHttp, Reply

# Names of this test's hosts file; all of them reach the mock on loopback.
NAMES = ["api.fenced.test", "evil.test", "a.hooks.fenced.test", "b.a.hooks.fenced.test", "hooks.fenced.test",
         "api.fenced.test.evil.test"]

Fenced = Callable[[list[str]], AbstractAsyncContextManager[tuple[NodeContext, str]]]


@pytest.fixture
def fenced(bus: Bus) -> Fenced:
    """`async with fenced(allowed_hosts) as (context, canary)`: a stored credential `token` with that fence and a
    fresh canary value, and the worker's session resolving this test's names to loopback."""
    master_key = new_master_key()

    @asynccontextmanager
    async def open_context(allowed_hosts: list[str]) -> AsyncIterator[tuple[NodeContext, str]]:
        store = await CredentialStore.open(bus.credentials_kv, master_key, None)
        canary = f"canary-{secrets.token_hex(12)}"
        await store.replace("token", canary, None, allowed_hosts)
        resolver = HostsFile({name: ["127.0.0.1"] for name in NAMES})
        async with guarded_session(OutboundPolicy(), resolver=resolver) as session:
            yield NodeContext(session=session, credentials=store), canary

    return open_context


def dispatch(url: str, **config: Any) -> StepDispatch:
    return StepDispatch(runId="r1", stepId="s1", name="Call", type="http",
                        config={"method": "POST", "url": url, "timeoutMs": 5000, **config})


AUTH = {"auth": {"credentialName": "token"}}


def assert_no_leak(canary: str, *values: Any) -> None:
    for value in values:
        assert canary not in json.dumps(value, default=str)


@pytest.mark.parametrize(("allowed", "host", "how"), [
    (["api.fenced.test"], "api.fenced.test", AUTH),
    (["API.Fenced.Test"], "api.fenced.test", AUTH),  # stored lowercase, as URLs are read
    (["*.hooks.fenced.test"], "a.hooks.fenced.test", AUTH),
    (["*.hooks.fenced.test"], "b.a.hooks.fenced.test", {"headers": {"X-Key": "{{getCredential('token')}}"}}),
    (["127.0.0.1:{port}"], "127.0.0.1", {"json_body": {"key": "{{ getCredential('token') }}"}}),
    (["127.0.0.1"], "127.0.0.1", AUTH),  # no port in the rule: any port of the host
    (["evil.test", "api.fenced.test:{port}"], "api.fenced.test", {"body": "k={{getCredential('token')}}"}),
])
async def test_a_fenced_credential_reaches_the_hosts_its_fence_names(
    fenced: Fenced, mock_http: MockHttp, allowed: list[str], host: str, how: dict[str, Any]
) -> None:
    mock_http.reply("/ok", Reply(status=200, body={"ok": True}))
    async with fenced([a.format(port=mock_http.port) for a in allowed]) as (context, canary):
        outcome = await run_step(dispatch(f"http://{host}:{mock_http.port}/ok", **how), context)
    assert outcome.output["status"] == 200
    [received] = mock_http.requests_to("/ok")
    assert canary in json.dumps(received.headers) + received.body.decode(), "the real call carries the secret"
    assert_no_leak(canary, outcome.output, outcome.request.model_dump() if outcome.request else None,
                   [log.msg for log in outcome.logs])


@pytest.mark.parametrize(("allowed", "url", "goes_to"), [
    (["api.fenced.test"], "http://evil.test:{port}/x", "evil.test:{port}"),
    # A fence names a host, not a prefix or suffix of one.
    (["api.fenced.test"], "http://api.fenced.test.evil.test:{port}/x", "api.fenced.test.evil.test:{port}"),
    # *.domain is the names below it, not the domain itself.
    (["*.hooks.fenced.test"], "http://hooks.fenced.test:{port}/x", "hooks.fenced.test:{port}"),
    (["api.fenced.test:1"], "http://api.fenced.test:{port}/x", "api.fenced.test:{port}"),
    (["127.0.0.1:{port}"], "http://localhost:{port}/x", "localhost:{port}"),  # a name is not its address
    (["127.0.0.1:1"], "http://127.0.0.1:{port}/x", "127.0.0.1:{port}"),
    (["api.fenced.test"], "http://127.0.0.1:{port}/x", "127.0.0.1:{port}"),
])
@pytest.mark.parametrize("how", [
    AUTH,
    {"headers": {"Authorization": "Token {{getCredential('token')}}"}},
    {"json_body": {"nested": ["{{getCredential('token')}}"]}},
    {"url_query": True},
])
async def test_a_fenced_credential_is_refused_anywhere_else_before_any_request(
    fenced: Fenced, mock_http: MockHttp, allowed: list[str], url: str, goes_to: str, how: dict[str, Any]
) -> None:
    port = mock_http.port
    rules = [a.format(port=port) for a in allowed]
    url = url.format(port=port)
    config = dict(how)
    if config.pop("url_query", False):
        url += "?key={{getCredential('token')}}"
    async with fenced(rules) as (context, canary):
        with pytest.raises(StepFailed) as failure:
            await run_step(dispatch(url, **config), context)
    assert mock_http.received == [], "refused before connecting"
    message = failure.value.message
    assert (f"refused: credential 'token' may only be sent to {', '.join(rules)}; this request goes to "
            f"{goes_to.format(port=port)}") in message
    assert failure.value.retryable is False
    assert_no_leak(canary, message, failure.value.log, failure.value.output,
                   failure.value.request.model_dump() if failure.value.request else None)


async def test_a_redirect_to_another_host_is_refused_before_it_is_followed(fenced: Fenced, mock_http: MockHttp) -> None:
    port = mock_http.port
    mock_http.reply("/start", Reply(status=307, headers={"Location": f"http://evil.test:{port}/landing"}))
    async with fenced([f"api.fenced.test:{port}"]) as (context, canary):
        with pytest.raises(StepFailed) as failure:
            await run_step(dispatch(f"http://api.fenced.test:{port}/start",
                                    json_body={"key": "{{getCredential('token')}}"}), context)
    assert [r.path for r in mock_http.received] == ["/start"], "the redirect was not followed"
    assert failure.value.message == (
        f"POST http://api.fenced.test:{port}/start refused: redirected to http://evil.test:{port}/landing, and "
        f"credential 'token' may only be sent to api.fenced.test:{port}; this request goes to evil.test:{port}")
    assert_no_leak(canary, failure.value.message, failure.value.request.model_dump() if failure.value.request else None)


async def test_a_redirect_within_the_fence_is_followed(fenced: Fenced, mock_http: MockHttp) -> None:
    port = mock_http.port
    mock_http.reply("/start", Reply(status=302, headers={"Location": f"http://a.hooks.fenced.test:{port}/landing"}))
    mock_http.reply("/landing", Reply(status=200, body={"ok": True}))
    async with fenced(["api.fenced.test", "*.hooks.fenced.test"]) as (context, _):
        outcome = await run_step(dispatch(f"http://api.fenced.test:{port}/start", method="GET", **AUTH), context)
    assert outcome.output["status"] == 200
    assert [r.path for r in mock_http.received] == ["/start", "/landing"]


async def test_an_unfenced_credential_and_a_step_without_one_go_anywhere(fenced: Fenced, mock_http: MockHttp) -> None:
    mock_http.reply("/ok", Reply(status=200, body={}))
    async with fenced([]) as (context, _):
        await run_step(dispatch(f"http://evil.test:{mock_http.port}/ok", **AUTH), context)
    async with fenced(["api.fenced.test"]) as (context, _):
        # The fence travels with the credential, not with the session: a step that does not use it is not fenced.
        await run_step(dispatch(f"http://evil.test:{mock_http.port}/ok"), context)
    assert len(mock_http.requests_to("/ok")) == 2
