"""POST /v1/expressions/preview on a real stack: the gateway asks an engine worker over `expressions.preview`, and the
engine renders with its own renderer, sandbox and caps."""

from __future__ import annotations

from typing import Any

import nats
from nats.aio.msg import Msg

from bus import EmbeddedNats, subjects
from tests.gateway.test_rest_api import request
from tests.support.graphs import edge, graph, http, node
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.support.waiting import eventually

CANARY = "sk_live_preview_canary_" + "7" * 20


async def preview(stack: Stack, expression: str, context: dict[str, Any] | None = None,
                  **extra: Any) -> tuple[int, Any]:
    body = {"expression": expression, "context": context if context is not None else {"sample": {}}, **extra}
    status, answer, _ = await request(stack, "POST", "/v1/expressions/preview", json=body)
    return status, answer


def sample(payload: Any = None, **parts: Any) -> dict[str, Any]:
    return {"sample": {"payload": payload, **parts}}


async def test_values_keep_their_type_and_text_is_text(stack: Stack) -> None:
    order = sample({"body": {"name": "Ada", "amount": 250, "items": ["a", "b"]}}, inputs={"region": "eu"},
                   steps={"lookup": {"body": {"id": 7}}})
    assert await preview(stack, "{{ payload.body.name }}", order) == (200, {"value": "Ada"})
    assert await preview(stack, "{{ payload.body.amount }}", order) == (200, {"value": 250})
    assert await preview(stack, "{{ payload.body.items }}", order) == (200, {"value": ["a", "b"]})
    assert await preview(stack, "{{ steps.lookup.output.body.id + 1 }}", order) == (200, {"value": 8})
    assert await preview(stack, "Order {{ steps.lookup.output.body.id }} for {{ payload.body.name }} ({{ region }})",
                         order) == (200, {"value": "Order 7 for Ada (eu)"})
    assert await preview(stack, "{{ none }}", order) == (200, {"value": None})


async def test_a_condition_is_one_bare_expression(stack: Stack) -> None:
    order = sample({"body": {"amount": 250}})
    assert await preview(stack, "payload.body.amount > 100", order, mode="condition") == (200, {"value": True})
    assert await preview(stack, "{{ payload.body.amount < 100 }}", order, mode="condition") == (200, {"value": False})
    # As a template, the bare text is text: the difference the mode makes.
    assert await preview(stack, "payload.body.amount > 100", order) == (200, {"value": "payload.body.amount > 100"})
    status, answer = await preview(stack, "{{ payload.body.amount }} > 100", order, mode="condition")
    assert status == 200 and "a condition is one expression" in answer["error"], answer


async def test_errors_are_said_in_words(stack: Stack) -> None:
    order = sample({"body": {"name": "Ada"}})
    status, answer = await preview(stack, "{{ payload.body.nmae }}", order)
    assert status == 200 and answer == {"error": "template variable 'payload.body.nmae' is not defined (in the "
                                                 "expression): payload.body has no field 'nmae' (its fields: name)"}
    status, answer = await preview(stack, "{{ payload.body. }}", order)
    assert status == 200 and answer["error"].startswith("template syntax error in the expression"), answer
    status, answer = await preview(stack, "{{ steps.http_1.output }}", order)
    assert "'steps.http_1.output' is not defined" in answer["error"], answer


async def test_a_credential_previews_masked_and_its_value_is_nowhere(stack: Stack, nats_server: EmbeddedNats) -> None:
    status, _, _ = await request(stack, "POST", "/v1/credentials", json={"name": "stripeKey", "value": CANARY})
    assert status == 201
    # Everything the app's account carries meanwhile, as admin sees it: the request to the engine and its answer.
    seen: list[Msg] = []
    watcher = await nats.connect(nats_server.url)
    try:
        async def keep(msg: Msg) -> None:
            seen.append(msg)

        await watcher.subscribe(">", cb=keep)
        await watcher.flush()
        assert await preview(stack, "{{ getCredential('stripeKey') }}") == (200, {"value": "••••"})
        status, answer = await preview(stack, "Bearer {{ getCredential('stripeKey') }}")
        assert (status, answer) == (200, {"value": "Bearer ••••"})
        status, answer = await preview(stack, "{{ getCredential('stripeKey') | upper }}")
        assert "getCredential('stripeKey') can only be placed as it is" in answer["error"], answer
        status, answer = await preview(stack, "{{ getCredential('missing') }}")
        assert answer == {"error": "credential 'missing' is not defined"}
        # Until the watcher has the copies of all four answers (each goes to the gateway's inbox), within a deadline.
        async def answered() -> bool | None:
            return sum(msg.subject.startswith("_INBOX") for msg in seen) >= 4 or None

        await eventually(answered, timeout=5, what="the four answers seen on the bus")
    finally:
        await watcher.close()
    asked = [msg for msg in seen if msg.subject == subjects.EXPRESSIONS_PREVIEW]
    assert len(asked) == 4 and all(b"stripeKey" in msg.data for msg in asked), "the watcher saw the requests"
    assert not [msg.subject for msg in seen if CANARY.encode() in msg.data], "a credential's value was on the bus"


async def test_the_engines_caps_hold(stack: Stack) -> None:
    status, answer = await preview(stack, "{{ 1 }}" + " " * 8_200)
    assert status == 200 and answer == {"error": "the template in the expression is longer than 8192 characters"}
    status, answer = await preview(stack, "{{ payload.big }}", sample({"big": "x" * 300_000}))
    assert status == 200 and "larger than 256 KiB" in answer["error"], answer
    status, answer = await preview(stack, "{{ 'x' * 300000 }}")
    assert status == 200 and "larger than 256 KiB" in answer["error"], answer
    # The body limit the gateway has for every request holds here too.
    status, answer = await preview(stack, "{{ payload }}", sample({"big": "x" * 600_000}))
    assert status == 413 and answer["error"]["code"] == "bad_request", answer


async def test_a_runs_data_as_a_step_sees_it(stack: Stack, mock_http: MockHttp) -> None:
    # A large output is stored apart (step_outputs): the engine reads it, as for a dispatch.
    mock_http.reply("/order", Reply(status=200, body={"id": 7, "notes": "n" * 20_000}))
    document = graph(http("lookup", mock_http.url("/order"), method="GET"),
                     node("greet", "set", values={"text": "Hello {{ who }}"}),
                     edges=[edge("start", "lookup"), edge("lookup", "greet")])
    run_id = await stack.start_run(document, inputs={"who": "Ada"})
    record = await stack.finish(run_id)
    assert record["status"] == "succeeded", record
    assert next(s for s in record["steps"] if s["id"] == "lookup").get("outputRef"), "the output was kept inline"

    run = {"runId": run_id}
    assert await preview(stack, "{{ steps.lookup.output.body.id }}", run) == (200, {"value": 7})
    assert await preview(stack, "{{ steps.greet.output.text }} #{{ steps.lookup.output.body.id }}", run) == (
        200, {"value": "Hello Ada #7"})
    assert await preview(stack, "{{ who }}", {**run, "stepId": "greet"}) == (200, {"value": "Ada"})
    assert await preview(stack, "{{ steps.lookup.output.body.notes | length }}", {**run, "stepId": "greet"}) == (
        200, {"value": 20_000})
    # A step sees its ancestors only: not itself, nor what comes after it.
    status, answer = await preview(stack, "{{ steps.greet.output.text }}", {**run, "stepId": "greet"})
    assert "'steps.greet.output.text' is not defined" in answer["error"], answer
    status, answer = await preview(stack, "{{ steps.lookup.output }}", {**run, "stepId": "lookup"})
    assert "is not defined" in answer["error"], answer


async def test_an_unknown_run_or_step_and_bad_bodies_name_the_field(stack: Stack, mock_http: MockHttp) -> None:
    status, answer = await preview(stack, "{{ 1 }}", {"runId": "no-such-run"})
    assert status == 404 and answer["error"]["code"] == "not_found", answer
    assert answer["error"]["fields"][0]["field"] == "context.runId"

    mock_http.reply("/ok", Reply(status=200, body={}))
    run_id = await stack.start_run(graph(http("call", mock_http.url("/ok")), edges=[edge("start", "call")]))
    await stack.finish(run_id)
    status, answer = await preview(stack, "{{ 1 }}", {"runId": run_id, "stepId": "nope"})
    assert status == 422 and answer["error"]["fields"][0]["field"] == "context.stepId", answer

    for body, field in [({"context": {"sample": {}}}, "expression"), ({"expression": 5, "context": {"sample": {}}},
                                                                      "expression"),
                        ({"expression": "x"}, "context"), ({"expression": "x", "context": {}}, "context"),
                        ({"expression": "x", "context": {"runId": run_id, "sample": {}}}, "context"),
                        ({"expression": "x", "context": {"runId": "../etc"}}, "context.runId"),
                        ({"expression": "x", "context": {"sample": {"steps": []}}}, "context.sample.steps"),
                        ({"expression": "x", "context": {"sample": {}}, "mode": "loop"}, "mode")]:
        status, answer, _ = await request(stack, "POST", "/v1/expressions/preview", json=body)
        assert status == 422, (body, answer)
        assert [issue["field"] for issue in answer["error"]["fields"]] == [field], (body, answer)


async def test_no_engine_is_a_503_saying_so(stack_parts: Stack) -> None:
    await stack_parts.start_gateway()
    status, answer = await preview(stack_parts, "{{ 1 + 1 }}")
    assert status == 503, answer
    assert answer["error"]["message"].startswith("no engine is running to preview expressions"), answer
    # One engine joins: it answers, with no restart of the gateway.
    await stack_parts.start_worker()
    assert await preview(stack_parts, "{{ 1 + 1 }}") == (200, {"value": 2})
