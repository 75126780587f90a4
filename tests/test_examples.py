"""The templates in examples/: every one compiles, and the order router runs both ways against a mock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from yarl import URL

from automateos.settings import REPO_ROOT
from automateos.up import OFFERED_CREDENTIALS
from engine.outbound_policy import fence_refusal
from schemas import REGISTRY, Graph, Workflow, as_graph, compile_workflow
from tests.support.graphs import steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.test_credentials_e2e import add_credential

EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_compiles(path: Path) -> None:
    dag = compile_workflow(TypeAdapter(Workflow).validate_json(path.read_bytes()))
    assert REGISTRY.get(dag.steps[0].type).kind == "trigger"  # type: ignore[union-attr]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_credential_an_example_sends_is_fenced_to_the_host_it_is_sent_to(path: Path) -> None:
    """Templates fence their credentials by default: the builder suggests meta.credentials when it offers to add
    one, and `up` fences the ones it offers the same way."""
    graph = as_graph(TypeAdapter(Workflow).validate_json(path.read_bytes()))
    suggested = (graph.meta.credentials if graph.meta else None) or {}
    for node in graph.nodes:
        if node.type != "http":
            continue
        config = node.data.config or {}
        sent = Graph(nodes=[node]).credential_names()
        url = str(config.get("url", ""))
        for name in sent:
            assert suggested.get(name) and suggested[name].allowedHosts, f"{path.name}: {name} is not fenced"
            if "{{" not in url:  # a literal URL: its host must be inside the fence
                parts = URL(url)
                assert fence_refusal({name: suggested[name].allowedHosts}, parts.raw_host or "", parts.port or 0,
                                     str(parts.host)) is None, (path.name, name, url)
    for variable, (name, fence) in OFFERED_CREDENTIALS.items():
        if name in suggested:
            assert suggested[name].allowedHosts == fence, f"up fences {name} (from {variable}) as the examples do"


def test_the_first_template_format_still_imports() -> None:
    legacy = REPO_ROOT / "tests" / "fixtures" / "legacy-stripe-discord.json"
    dag = compile_workflow(TypeAdapter(Workflow).validate_json(legacy.read_bytes()))
    assert [s.type for s in dag.steps] == ["start", "http"]


def order_router() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((REPO_ROOT / "examples" / "order-router.json").read_text())
    return document


async def test_order_router_posts_big_orders_to_slack(stack: Stack, mock_http: MockHttp) -> None:
    await add_credential(stack, "slackWebhookUrl", mock_http.url("/slack/T000/B000/secret-path"))
    mock_http.reply("/orders/A-1", Reply(status=200, body={"id": "A-1", "amount": 900}))
    mock_http.reply("/slack/T000/B000/secret-path", Reply(status=200, body="ok"))
    run_id = await stack.start_run(order_router(), inputs={"ordersApi": mock_http.url(""), "payload": {"orderId": "A-1"}})
    record = await stack.finish(run_id)
    steps = steps_by_id(record)
    assert record["status"] == "succeeded", record["error"]
    assert steps["notify_slack"]["status"] == "succeeded"
    assert steps["summary"]["status"] == steps["book_order"]["status"] == "skipped"
    assert mock_http.requests_to("/slack/T000/B000/secret-path")[0].json() == {"text": "Big order A-1: 900"}


async def test_order_router_books_small_orders_and_retries_the_booking(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/orders/B-7", Reply(status=200, body={"id": "B-7", "amount": 80}))
    mock_http.reply("/fulfilment", Reply(status=503, body="try later"), Reply(status=201, body={"booked": True}))
    run_id = await stack.start_run(order_router(), inputs={"ordersApi": mock_http.url(""), "payload": {"orderId": "B-7"}})
    record = await stack.finish(run_id)
    steps = steps_by_id(record)
    assert record["status"] == "succeeded", record["error"]
    assert steps["notify_slack"]["status"] == "skipped" and steps["book_order"]["attempt"] == 2
    bookings = mock_http.requests_to("/fulfilment")
    assert [b.json() for b in bookings] == [{"orderId": "B-7", "amount": 80, "priority": "standard"}] * 2
    assert bookings[0].headers["Idempotency-Key"] == bookings[1].headers["Idempotency-Key"] == f"{run_id}-book_order"


async def test_stripe_to_discord_announces_a_signed_payment_once(stack: Stack, mock_http: MockHttp) -> None:
    """The README's "done when": the example, saved and activated, gets a Stripe-signed event (no token: Stripe
    has none) and Discord receives the amount; a repeat of the event and a different event type post nothing."""
    import aiohttp

    from tests.gateway.test_hooks import SIGNING_SECRET, stripe_signature
    from tests.gateway.test_rest_api import request

    mock_http.reply("/discord/hook", Reply(status=204))
    await add_credential(stack, "stripeSigningSecret", SIGNING_SECRET)
    await add_credential(stack, "discordWebhook", mock_http.url("/discord/hook"))
    document = json.loads((REPO_ROOT / "examples" / "stripe-discord.json").read_text())
    status, saved, _ = await request(stack, "POST", "/v1/workflows", json={"name": "Stripe → Discord", "graph": document})
    assert status == 201, saved
    status, active, _ = await request(stack, "POST", f"/v1/workflows/{saved['id']}/activate")
    assert status == 200, active
    hook = active["triggers"][0]["url"]

    async def send(event: dict[str, Any]) -> tuple[int, Any]:
        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/json", "Stripe-Signature": stripe_signature(body)}
        async with aiohttp.ClientSession() as stripe, stripe.post(hook, data=body, headers=headers) as response:
            return response.status, await response.json()

    paid = {"id": "evt_3Q", "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_3Q", "amount": 4200, "currency": "eur"}}}
    status, first = await send(paid)
    assert status == 202, first
    record = await stack.finish(first["runId"])
    assert record["status"] == "succeeded" and record["trigger"] == "webhook", (record["error"], record["logs"][-3:])
    [posted] = mock_http.requests_to("/discord/hook")
    assert posted.json() == {"content": "🎉 New sale: 42.00 EUR (payment pi_3Q)"}

    status, repeat = await send(paid)
    assert status == 200 and repeat == {"runId": first["runId"], "duplicate": True}
    status, other = await send({**paid, "id": "evt_4R", "type": "charge.refunded"})
    assert status == 202
    record = await stack.finish(other["runId"])
    assert steps_by_id(record)["post_discord"]["status"] == "skipped"
    assert len(mock_http.requests_to("/discord/hook")) == 1

    # A manual run of the draft uses the sample payload kept on the trigger.
    status, sample, _ = await request(stack, "POST", "/v1/runs", json={"graph": document})
    record = await stack.finish(sample["runId"])
    assert record["status"] == "succeeded" and record["trigger"] == "api"
    assert mock_http.requests_to("/discord/hook")[-1].json()["content"].startswith("🎉 New sale: 42.00 EUR")


async def test_the_readme_walk_through_with_the_example_scripts(stack: Stack) -> None:
    """examples/discord_sink.py stands in for Discord and examples/send_stripe_event.py signs and sends the event,
    run as the README says: the sink prints the amount, a repeat of the event prints nothing more."""
    import asyncio
    import sys

    from bus import free_port
    from tests.gateway.test_hooks import SIGNING_SECRET
    from tests.gateway.test_rest_api import request

    port = free_port()
    sink = await asyncio.create_subprocess_exec(
        sys.executable, str(REPO_ROOT / "examples" / "discord_sink.py"), "--port", str(port),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert sink.stdout is not None
    try:
        async with asyncio.timeout(20):
            assert "listening on" in (await sink.stdout.readline()).decode()
        await add_credential(stack, "stripeSigningSecret", SIGNING_SECRET)
        await add_credential(stack, "discordWebhook", f"http://127.0.0.1:{port}/discord")
        document = json.loads((REPO_ROOT / "examples" / "stripe-discord.json").read_text())
        _, saved, _ = await request(stack, "POST", "/v1/workflows", json={"name": "Bridge", "graph": document})
        _, active, _ = await request(stack, "POST", f"/v1/workflows/{saved['id']}/activate")

        async def send() -> tuple[int, str]:
            sender = await asyncio.create_subprocess_exec(
                sys.executable, str(REPO_ROOT / "examples" / "send_stripe_event.py"), active["triggers"][0]["url"],
                "--secret", SIGNING_SECRET, "--amount", "1999", "--currency", "usd", "--event-id", "evt_readme",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            async with asyncio.timeout(30):
                output, _ = await sender.communicate()
            assert sender.returncode is not None
            return sender.returncode, output.decode()

        code, output = await send()
        assert code == 0 and output.startswith("HTTP 202"), output
        await stack.finish(json.loads(output.split(": ", 1)[1])["runId"])
        async with asyncio.timeout(20):
            line = (await sink.stdout.readline()).decode()
        assert line.strip() == "POST /discord: 🎉 New sale: 19.99 USD (payment pi_readme)", line
        code, output = await send()
        assert code == 0 and output.startswith("HTTP 200"), output
        assert json.loads(output.split(": ", 1)[1])["duplicate"] is True
    finally:
        sink.terminate()
        await sink.wait()
