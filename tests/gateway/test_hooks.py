"""Webhook triggers over real HTTP on a real nats-server: both answer modes, Stripe and HMAC signatures
(signed here with the documented schemes), deduplication, and hooks that must not answer."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp
import pytest

from schemas.masking import MASK
from tests.gateway.test_rest_api import request
from tests.support.graphs import edge, graph, http, node
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.test_credentials_e2e import add_credential

SIGNING_SECRET = "whsec_test_" + "5" * 24


def hooked(mock_http: MockHttp, **webhook: Any) -> dict[str, Any]:
    document = graph(http("notify", mock_http.url("/discord"),
                          json_body={"content": "{{ payload.body.data.object.amount }} {{ payload.body.data.object.currency }}"}),
                     edges=[edge("hook", "notify")])
    document["nodes"][0] = node("hook", "webhook", "Webhook", **webhook)
    return document


async def activated(stack: Stack, document: dict[str, Any]) -> str:
    status, body, _ = await request(stack, "POST", "/v1/workflows", json={"name": "Hooked", "graph": document})
    assert status == 201, body
    status, body, _ = await request(stack, "POST", f"/v1/workflows/{body['id']}/activate")
    assert status == 200, body
    [trigger] = body["triggers"]
    # Absolute: the address the request came to, without AUTOMATEOS_PUBLIC_URL.
    assert trigger["type"] == "webhook" and trigger["url"].startswith(f"{stack.base_url}/v1/hooks/")
    return str(trigger["url"]).removeprefix(stack.base_url)


def stripe_event(event_id: str = "evt_1", amount: int = 4200) -> bytes:
    return json.dumps({"id": event_id, "type": "payment_intent.succeeded",
                       "data": {"object": {"amount": amount, "currency": "eur"}}}).encode()


def stripe_signature(body: bytes, secret: str = SIGNING_SECRET, at: int | None = None) -> str:
    timestamp = str(at if at is not None else int(time.time()))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


async def post(stack: Stack, url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}{url}", data=body,
                               headers={"Content-Type": "application/json", **(headers or {})}) as response:
        return response.status, await response.json(content_type=None)


async def run_count(stack: Stack) -> int:
    return len((await request(stack, "GET", "/v1/runs?limit=200"))[1]["runs"])


async def test_on_received_answers_202_and_the_payload_reaches_the_steps(stack: Stack, mock_http: MockHttp) -> None:
    url = await activated(stack, hooked(mock_http))
    status, body = await post(stack, url + "?source=test", stripe_event())
    assert status == 202
    record = await stack.finish(body["runId"])
    assert record["status"] == "succeeded"
    assert mock_http.requests_to("/discord")[0].json() == {"content": "4200 eur"}
    trigger = record["steps"][0]
    assert trigger["id"] == "hook" and trigger["output"]["payload"]["query"] == {"source": "test"}
    assert trigger["output"]["payload"]["method"] == "POST"


async def test_last_node_answers_with_the_last_output_or_202_when_slow(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/discord", Reply(status=200, body={"delivered": True}))
    url = await activated(stack, hooked(mock_http, responseMode="lastNode", responseTimeoutMs=10_000))
    status, body = await post(stack, url, stripe_event())
    assert status == 200 and body["status"] == 200 and body["body"] == {"delivered": True}

    mock_http.reply("/discord", Reply(status=200, delay_s=3))
    slow = await activated(stack, hooked(mock_http, responseMode="lastNode", responseTimeoutMs=300))
    status, body = await post(stack, slow, stripe_event())
    assert status == 202 and "runId" in body


async def test_a_stripe_signed_event_runs_and_bad_signatures_start_nothing(stack: Stack, mock_http: MockHttp) -> None:
    await add_credential(stack, "stripeSigningSecret", SIGNING_SECRET)
    url = await activated(stack, hooked(mock_http, verify={"kind": "stripe", "credentialName": "stripeSigningSecret"}))
    event = stripe_event(amount=1999)
    status, body = await post(stack, url, event, {"Stripe-Signature": stripe_signature(event)})
    assert status == 202, body
    await stack.finish(body["runId"])
    assert mock_http.requests_to("/discord")[0].json() == {"content": "1999 eur"}

    before = await run_count(stack)
    refusals = [
        ({"Stripe-Signature": stripe_signature(event, secret="whsec_wrong")}, "does not match"),
        ({"Stripe-Signature": stripe_signature(event, at=int(time.time()) - 600)}, "s off"),
        ({}, "header is missing"),
        ({"Stripe-Signature": stripe_signature(stripe_event(amount=1))}, "does not match"),  # signed another body
    ]
    for headers, reason in refusals:
        status, body = await post(stack, url, event, headers)
        assert status == 401 and reason in body["error"]["message"], body
    assert await run_count(stack) == before, "no refused request started a run"
    assert len(mock_http.requests_to("/discord")) == 1


async def test_hmac_sha256_in_a_named_header(stack: Stack, mock_http: MockHttp) -> None:
    await add_credential(stack, "hookKey", "k" * 32)
    url = await activated(stack, hooked(mock_http, verify={"kind": "hmac-sha256", "credentialName": "hookKey",
                                                           "header": "X-Hub-Signature-256"}))
    event = stripe_event()
    good = "sha256=" + hmac.new(b"k" * 32, event, hashlib.sha256).hexdigest()
    assert (await post(stack, url, event, {"X-Hub-Signature-256": good}))[0] == 202
    assert (await post(stack, url, event, {"X-Hub-Signature-256": "sha256=00"}))[0] == 401


async def test_the_same_event_id_twice_starts_one_run(stack: Stack, mock_http: MockHttp) -> None:
    url = await activated(stack, hooked(mock_http, dedupeKey="{{payload.body.id}}"))
    first = await post(stack, url, stripe_event("evt_same"))
    again = await post(stack, url, stripe_event("evt_same"))
    other = await post(stack, url, stripe_event("evt_other"))
    assert first[0] == 202 and again == (200, {"runId": first[1]["runId"], "duplicate": True})
    assert other[0] == 202 and other[1]["runId"] != first[1]["runId"]


async def test_inactive_deleted_and_unknown_hooks_are_404(stack: Stack, mock_http: MockHttp) -> None:
    url = await activated(stack, hooked(mock_http))
    workflow_id = (await request(stack, "GET", "/v1/workflows"))[1]["workflows"][0]["id"]
    await request(stack, "POST", f"/v1/workflows/{workflow_id}/deactivate")
    assert (await post(stack, url, stripe_event()))[0] == 404
    await request(stack, "POST", f"/v1/workflows/{workflow_id}/activate")
    assert (await post(stack, url, stripe_event()))[0] == 202
    await request(stack, "DELETE", f"/v1/workflows/{workflow_id}")
    assert (await post(stack, url, stripe_event()))[0] == 404
    assert (await post(stack, "/v1/hooks/not-a-hook", stripe_event()))[0] == 404
    assert (await post(stack, "/v1/hooks/bad.id", stripe_event()))[0] == 404


async def test_a_webhook_workflow_runs_by_hand_with_a_sample_payload(stack: Stack, mock_http: MockHttp) -> None:
    status, body, _ = await request(stack, "POST", "/v1/runs", json={
        "graph": hooked(mock_http), "inputs": {"payload": {"body": json.loads(stripe_event(amount=7))}}})
    assert status == 201
    assert (await stack.finish(body["runId"]))["status"] == "succeeded"
    assert mock_http.requests_to("/discord")[0].json() == {"content": "7 eur"}



async def test_a_hook_fires_the_activated_version_after_a_newer_save(stack: Stack, mock_http: MockHttp) -> None:
    """Only the activated version answers a trigger: saving a newer one changes nothing until it is activated."""
    url = await activated(stack, hooked(mock_http))
    workflow_id = (await request(stack, "GET", "/v1/workflows"))[1]["workflows"][0]["id"]
    newer = hooked(mock_http)
    newer["nodes"][1]["data"]["config"]["url"] = mock_http.url("/newer")
    status, saved, _ = await request(stack, "PUT", f"/v1/workflows/{workflow_id}", json={"graph": newer, "baseVersion": 1})
    assert status == 200 and saved["version"] == 2 and saved["activeVersion"] == 1
    assert saved["triggers"][0]["url"].endswith(url), "the hook keeps its URL across versions"

    status, body = await post(stack, url, stripe_event())
    assert status == 202
    record = await stack.finish(body["runId"])
    assert record["status"] == "succeeded" and record["workflowVersion"] == 1
    assert len(mock_http.requests_to("/discord")) == 1 and mock_http.requests_to("/newer") == []

    await request(stack, "POST", f"/v1/workflows/{workflow_id}/activate", json={"version": 2})
    status, body = await post(stack, url, stripe_event("evt_2"))
    assert (await stack.finish(body["runId"]))["workflowVersion"] == 2
    assert len(mock_http.requests_to("/newer")) == 1


async def test_sensitive_headers_are_masked_in_the_payload(stack: Stack, mock_http: MockHttp) -> None:
    document = graph(http("notify", mock_http.url("/echo"), json_body={"headers": "{{ payload.headers }}"}),
                     edges=[edge("hook", "notify")])
    document["nodes"][0] = node("hook", "webhook", "Webhook")
    url = await activated(stack, document)
    canary = "sk_live_hook_canary_0123456789"
    sent = {"Authorization": f"Bearer {canary}", "X-Api-Key": canary, "Cookie": f"session={canary}",
            "Stripe-Signature": f"t=1,v1={canary}", "X-Shop-Token": canary, "X-Request-Source": "shop-7"}
    status, body = await post(stack, url, stripe_event(), sent)
    assert status == 202
    record = await stack.finish(body["runId"])
    assert record["status"] == "succeeded"
    headers = {k.lower(): v for k, v in record["steps"][0]["output"]["payload"]["headers"].items()}
    for name in ("authorization", "x-api-key", "cookie", "stripe-signature", "x-shop-token"):
        assert headers[name] == MASK, (name, headers[name])
    assert headers["x-request-source"] == "shop-7", "other headers stay readable"
    assert canary not in json.dumps(record), "the run keeps no secret header"
    assert canary not in mock_http.requests_to("/echo")[0].body.decode(), "templates see the masked values too"


def echo_payload(mock_http: MockHttp, **webhook: Any) -> dict[str, Any]:
    document = graph(http("notify", mock_http.url("/echo"), json_body={"body": "{{ payload.body }}",
                                                                        "method": "{{ payload.method }}"}),
                     edges=[edge("hook", "notify")])
    document["nodes"][0] = node("hook", "webhook", "Webhook", **webhook)
    return document


async def send(stack: Stack, method: str, url: str, body: bytes = b"",
               content_type: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    assert stack.http is not None
    sent = {**({"Content-Type": content_type} if content_type else {}), **(headers or {})}
    async with stack.http.request(method, f"{stack.base_url}{url}", data=body, headers=sent) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None, dict(response.headers)


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"amount": 20,', "is not valid JSON"),
    (b"", "is empty"),
    (b"   ", "is empty"),
    (b"{'single': 'quotes'}", "is not valid JSON"),
])
async def test_a_body_that_says_json_and_is_not_gets_400_and_starts_nothing(
    stack: Stack, mock_http: MockHttp, body: bytes, reason: str
) -> None:
    url = await activated(stack, echo_payload(mock_http))
    status, answer, _ = await send(stack, "POST", url, body, "application/json")
    assert status == 400 and answer["error"]["code"] == "bad_request", answer
    [issue] = answer["error"]["fields"]
    assert issue["field"] == "body" and reason in issue["reason"], issue
    assert await run_count(stack) == 0 and mock_http.received == []


async def test_a_json_array_is_a_payload_like_any_json(stack: Stack, mock_http: MockHttp) -> None:
    url = await activated(stack, echo_payload(mock_http))
    status, answer, _ = await send(stack, "POST", url, b'[{"event": "open"}, {"event": "click"}]', "application/json")
    assert status == 202
    assert (await stack.finish(answer["runId"]))["status"] == "succeeded"
    assert mock_http.requests_to("/echo")[0].json()["body"] == [{"event": "open"}, {"event": "click"}]


async def test_a_method_the_hook_does_not_accept_gets_405_naming_the_allowed_ones(stack: Stack, mock_http: MockHttp) -> None:
    url = await activated(stack, echo_payload(mock_http))
    for method in ("GET", "PUT", "DELETE", "HEAD"):
        status, answer, headers = await send(stack, method, url)
        assert status == 405 and headers["Allow"] == "POST", (method, status)
        if method != "HEAD":
            assert answer["error"]["code"] == "method_not_allowed" and "accepts POST, not " + method in answer["error"]["message"]
    assert (await send(stack, "GET", "/v1/hooks/no-such-hook"))[0] == 404, "an unknown hook is still 404"
    assert await run_count(stack) == 0


async def test_a_get_hook_runs_with_the_query_as_its_payload(stack: Stack, mock_http: MockHttp) -> None:
    url = await activated(stack, echo_payload(mock_http, methods=["GET", "POST"]))
    status, answer, _ = await send(stack, "GET", url + "?order=A-17&amount=20")
    assert status == 202, answer
    record = await stack.finish(answer["runId"])
    assert record["status"] == "succeeded", record["error"]
    assert mock_http.requests_to("/echo")[0].json() == {"body": {"order": "A-17", "amount": "20"}, "method": "GET"}
    assert record["steps"][0]["output"]["payload"]["query"] == {"order": "A-17", "amount": "20"}
    status, _, headers = await send(stack, "PATCH", url)
    assert status == 405 and headers["Allow"] == "GET, POST"


async def test_forms_arrive_as_objects_and_text_as_text(stack: Stack, mock_http: MockHttp) -> None:
    url = await activated(stack, echo_payload(mock_http))
    # As Slack sends a slash command: a form, UTF-8, with a field twice for good measure.
    form = "command=%2Fdeploy&text=api+%E2%9C%93&channel_id=C1&tag=a&tag=b".encode()
    status, answer, _ = await send(stack, "POST", url, form, "application/x-www-form-urlencoded; charset=utf-8")
    assert status == 202, answer
    await stack.finish(answer["runId"])
    assert mock_http.requests_to("/echo")[0].json()["body"] == {"command": "/deploy", "text": "api ✓",
                                                              "channel_id": "C1", "tag": ["a", "b"]}
    status, answer, _ = await send(stack, "POST", url, "deploy finished ✓".encode(), "text/plain; charset=utf-8")
    assert status == 202, answer
    await stack.finish(answer["runId"])
    assert mock_http.requests_to("/echo")[1].json()["body"] == "deploy finished ✓"


async def test_a_form_is_signed_on_its_raw_bytes(stack: Stack, mock_http: MockHttp) -> None:
    await add_credential(stack, "slackSigning", "s" * 32)
    url = await activated(stack, echo_payload(mock_http, verify={"kind": "hmac-sha256", "credentialName": "slackSigning",
                                                                 "header": "X-Signature"}))
    form = b"payload=%7B%22type%22%3A%22block_actions%22%7D"
    good = "sha256=" + hmac.new(b"s" * 32, form, hashlib.sha256).hexdigest()
    kind = "application/x-www-form-urlencoded"
    assert (await send(stack, "POST", url, form, kind, {"X-Signature": "sha256=00"}))[0] == 401
    status, answer, _ = await send(stack, "POST", url, form, kind, {"X-Signature": good})
    assert status == 202, answer
    await stack.finish(answer["runId"])
    assert mock_http.requests_to("/echo")[0].json()["body"] == {"payload": '{"type":"block_actions"}'}


async def test_the_run_list_socket_shows_a_webhook_run_as_it_starts_and_ends(stack: Stack, mock_http: MockHttp) -> None:
    """History follows this socket, so a run nobody started in the builder (a webhook's, a schedule's) appears
    without a refresh."""
    assert stack.http is not None
    url = await activated(stack, echo_payload(mock_http))
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        async with stack.http.ws_connect(f"{stack.base_url.replace('http', 'ws', 1)}/v1/runs/live") as socket:
            status, answer, _ = await send(stack, "POST", url, b'{"n": 1}', "application/json")
            assert status == 202
            async for message in socket:
                summary = json.loads(message.data)
                if summary["id"] == answer["runId"]:
                    seen.append(summary)
                    if summary["status"] == "succeeded":
                        break
    assert seen[0]["trigger"] == "webhook" and seen[0]["workflowName"] == "Test workflow"
    assert seen[-1]["status"] == "succeeded" and seen[-1]["durationMs"] is not None
    listed = (await request(stack, "GET", "/v1/runs"))[1]["runs"][0]
    assert set(seen[-1]) == set(listed), "a frame is shaped as an item of GET /v1/runs"


async def test_the_run_list_socket_needs_a_token(stack: Stack) -> None:
    async with aiohttp.ClientSession() as stranger:
        async with stranger.ws_connect(f"{stack.base_url.replace('http', 'ws', 1)}/v1/runs/live") as socket:
            message = await socket.receive()
            assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 4401


async def test_a_step_reading_a_field_of_an_array_body_is_told_it_is_a_list(stack: Stack, mock_http: MockHttp) -> None:
    document = graph(http("notify", mock_http.url("/echo"), json_body={"event": "{{ payload.body.event }}"}),
                     edges=[edge("hook", "notify")])
    document["nodes"][0] = node("hook", "webhook", "Webhook")
    url = await activated(stack, document)
    status, answer, _ = await send(stack, "POST", url, b'[{"event": "open"}]', "application/json")
    assert status == 202
    record = await stack.finish(answer["runId"])
    error = record["steps"][1]["error"]
    assert record["status"] == "failed" and "payload.body is a list of 1 item, not an object" in error, error
    assert mock_http.received == []
