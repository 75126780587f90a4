"""Pinned data and partial runs over REST, on a real nats-server with real actors and a real mock HTTP server:
POST /v1/runs `pinData` and `runTo` (issue 20). A pinned step is never executed; a partial run runs only what the
step under test needs."""

from __future__ import annotations

from typing import Any

from tests.gateway.test_hooks import activated, post
from tests.gateway.test_rest_api import request
from tests.support.graphs import edge, graph, http, node, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack


def order_router(mock_http: MockHttp) -> dict[str, Any]:
    """hook (webhook) → charge (HTTP) → check (If: amount over 100, and the charge ok) → big | small (HTTP)."""
    document = graph(
        http("charge", mock_http.url("/charge"), json_body={"amount": "{{ payload.body.amount }}"}),
        node("check", "if", condition="payload.body.amount > 100 and steps.charge.output.body.ok"),
        http("big", mock_http.url("/big")), http("small", mock_http.url("/small")),
        edges=[edge("hook", "charge"), edge("charge", "check"), edge("check", "big", "true"),
               edge("check", "small", "false")],
    )
    document["nodes"][0] = node("hook", "webhook", "Webhook")
    return document


PINS = {"hook": {"payload": {"body": {"amount": 150}, "headers": {"x-api-key": "sk_live_abcdef123456"}}},
        "charge": {"status": 200, "body": {"ok": True}, "headers": {"Authorization": "Bearer sk_live_abcdef123456"}}}


async def test_pinned_webhook_payload_and_http_output_then_run_to_the_if_calls_nothing_and_takes_the_right_branch(
        stack: Stack, mock_http: MockHttp) -> None:
    run_id = await stack.start_run(order_router(mock_http), pinData=PINS, runTo="check")
    record = await stack.finish(run_id)
    assert record["status"] == "succeeded", record["error"]
    assert mock_http.received == [], "a pinned step makes no HTTP call, and nothing after the If runs"
    steps = steps_by_id(record)
    assert steps["check"]["status"] == "succeeded" and steps["check"]["handles"] == ["true"]
    assert steps["check"]["output"] == {"result": True} and steps["check"]["pinned"] is False
    for skipped in ("big", "small"):
        assert steps[skipped]["status"] == "skipped" and "'check' (check)" in steps[skipped]["skipReason"]

    # GET /v1/runs/{id}: a pinned step says so, with its output, masked as any output is.
    for pinned in ("hook", "charge"):
        assert steps[pinned]["status"] == "succeeded" and steps[pinned]["pinned"] is True
        assert steps[pinned]["dispatchedAt"] is None and steps[pinned]["worker"] is None
    assert steps["charge"]["output"]["body"] == {"ok": True}
    assert steps["charge"]["output"]["headers"]["Authorization"] == "••••••"
    assert steps["hook"]["output"]["payload"]["body"] == {"amount": 150}
    assert "sk_live_abcdef123456" not in str(record), "a pin never shows a secret"


async def test_pins_without_run_to_run_the_rest_of_the_workflow(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/small", Reply(status=200, body={"sent": True}))
    pins = {**PINS, "hook": {"payload": {"body": {"amount": 20}}}}
    record = await stack.finish(await stack.start_run(order_router(mock_http), pinData=pins))
    assert record["status"] == "succeeded", record["error"]
    assert [r.path for r in mock_http.received] == ["/small"], "the charge is pinned; the If took false"
    assert steps_by_id(record)["big"]["skipReason"].startswith("branch not taken")


async def test_run_to_inside_a_loop_body_runs_the_loop_and_only_what_the_step_needs_in_each_item(
        stack: Stack, mock_http: MockHttp) -> None:
    document = graph(
        node("each", "loop", items="{{ [1, 2] }}"),
        http("fetch", mock_http.url("/fetch")),
        node("use", "set", values={"n": "{{ loop.item * steps.fetch.output.body.factor }}"}),
        http("other", mock_http.url("/other")),
        http("after", mock_http.url("/after")),
        edges=[edge("start", "each"), edge("each", "fetch", "each"), edge("fetch", "use"),
               edge("each", "other", "each"), edge("each", "after", "done")],
    )
    run_id = await stack.start_run(document, pinData={"fetch": {"status": 200, "body": {"factor": 10}}}, runTo="use")
    record = await stack.finish(run_id, timeout=60)
    assert record["status"] == "succeeded", record["error"]
    assert mock_http.received == [], "fetch is pinned in every item; other and after are not needed"
    steps = steps_by_id(record)
    assert steps["each"]["items"]["succeeded"] == 2
    assert steps["after"]["status"] == "skipped" and "'use' (use)" in steps["after"]["skipReason"]
    assert steps["other"]["status"] == "skipped" and "'use' (use)" in steps["other"]["skipReason"]
    assert steps["fetch"]["pinned"] is True and steps["use"]["items"]["succeeded"] == 2
    status, page, _ = await request(stack, "GET", f"/v1/runs/{run_id}/steps/use/items")
    assert status == 200, page
    assert [item["output"] for item in page["items"]] == [{"n": 10}, {"n": 20}]
    item_run = await stack.get_run(page["items"][0]["runId"])
    item_steps = steps_by_id(item_run)
    assert item_steps["fetch"]["pinned"] is True and item_steps["fetch"]["output"]["body"] == {"factor": 10}
    assert item_steps["other"]["status"] == "skipped" and "'use' (use)" in item_steps["other"]["skipReason"]


async def test_unknown_node_ids_are_422_naming_the_field(stack: Stack, mock_http: MockHttp) -> None:
    status, body = await stack.post_run(order_router(mock_http), pinData={"nope": {}, "charge": {}}, runTo="gone")
    assert status == 422, body
    assert [issue["field"] for issue in body["error"]["fields"]] == ["pinData.nope", "runTo"]
    status, body = await stack.post_run(order_router(mock_http), pinData={"hook": "not an object"})
    assert status == 422 and body["error"]["fields"][0]["field"] == "pinData.hook", body


async def test_a_saved_workflows_run_takes_pins_and_its_webhook_runs_never_use_them(
        stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/charge", Reply(status=200, body={"ok": True}))
    mock_http.reply("/big", Reply(status=200, body={}))
    hook_url = await activated(stack, order_router(mock_http))
    status, saved, _ = await request(stack, "GET", "/v1/workflows")
    workflow_id = saved["workflows"][0]["id"]

    status, created, _ = await request(stack, "POST", "/v1/runs", json={
        "workflowId": workflow_id, "pinData": PINS, "runTo": "check"})
    assert status == 201, created
    pinned_run = await stack.finish(created["runId"])
    assert pinned_run["status"] == "succeeded" and mock_http.received == []
    status, refused, _ = await request(stack, "POST", "/v1/runs", json={"workflowId": workflow_id, "runTo": "gone"})
    assert status == 422 and refused["error"]["fields"][0]["field"] == "runTo"

    # Pins live in the run they were sent with, never in the saved version: a webhook's run executes every step.
    status, answer = await post(stack, hook_url, b'{"amount": 500}')
    assert status in (200, 202), answer
    hooked = await stack.finish(answer["runId"])
    assert hooked["status"] == "succeeded", hooked["error"]
    assert not any(step["pinned"] for step in hooked["steps"])
    assert [r.path for r in mock_http.received] == ["/charge", "/big"]


async def test_a_pin_saved_with_the_workflow_is_kept_masked_and_a_webhook_run_never_uses_it(
        stack: Stack, mock_http: MockHttp) -> None:
    """The builder keeps a step's pin in its graph (`data.pinned`): saved and versioned, masked as outputs are, and
    only sent back as pinData by the builder's own Run and Test step."""
    mock_http.reply("/charge", Reply(status=200, body={"ok": True}))
    mock_http.reply("/small", Reply(status=200, body={}))
    document = order_router(mock_http)
    document["nodes"][1]["data"]["pinned"] = PINS["charge"]
    document["nodes"][0]["data"]["samplePayload"] = {"body": {"amount": 5}}
    hook_url = await activated(stack, document)
    status, listed, _ = await request(stack, "GET", "/v1/workflows")
    status, saved, _ = await request(stack, "GET", f"/v1/workflows/{listed['workflows'][0]['id']}")
    assert status == 200, saved
    [charge] = [n for n in saved["graph"]["nodes"] if n["id"] == "charge"]
    assert charge["data"]["pinned"]["body"] == {"ok": True}
    assert charge["data"]["pinned"]["headers"]["Authorization"] == "••••••"
    assert "sk_live_abcdef123456" not in str(saved), "a saved pin never holds a secret"

    status, answer = await post(stack, hook_url, b'{"amount": 20}')
    assert status in (200, 202), answer
    hooked = await stack.finish(answer["runId"])
    assert hooked["status"] == "succeeded", hooked["error"]
    assert not any(step["pinned"] for step in hooked["steps"])
    assert [r.path for r in mock_http.received] == ["/charge", "/small"], "the real request, not the sample or the pin"


async def test_a_pinned_wait_and_subworkflow_complete_at_once_with_no_question_and_no_child_run(
        stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/done", Reply(status=200, body={}))
    document = graph(
        node("hold", "wait", resume="approval", timeoutSeconds=3600, message="Ship it?"),
        node("sub", "subworkflow", workflowId="wf_not_saved_anywhere"),
        http("done", mock_http.url("/done"), json_body={"total": "{{ steps.sub.output.total }}"}),
        edges=[edge("start", "hold"), edge("hold", "sub", "approved"), edge("sub", "done")],
    )
    run_id = await stack.start_run(document, pinData={"hold": {"approved": True, "comment": "ok"},
                                                      "sub": {"total": 42}})
    record = await stack.finish(run_id)
    assert record["status"] == "succeeded", record["error"]
    steps = steps_by_id(record)
    assert steps["hold"]["pinned"] and steps["hold"]["handles"] == ["approved"] and steps["hold"]["wait"] is None
    assert steps["sub"]["pinned"] and steps["sub"]["childRunId"] is None
    assert [r.json() for r in mock_http.requests_to("/done")] == [{"total": 42}]
    status, children, _ = await request(stack, "GET", f"/v1/runs?parentRunId={run_id}")
    assert status == 200 and children["runs"] == []


async def test_a_pinned_trigger_and_inputs_together_are_422(stack: Stack, mock_http: MockHttp) -> None:
    status, body = await stack.post_run(order_router(mock_http), inputs={"x": 1}, pinData={"hook": {"payload": {}}})
    assert status == 422 and body["error"]["fields"][0]["field"] == "pinData.hook", body


async def test_a_runner_may_not_pin_or_run_part_of_a_workflow(stack: Stack, mock_http: MockHttp) -> None:
    """A pin stands in for any step, an approval or the trigger (and with it the inputs' check): an editor's tool.
    Found by the security review: a runner skipped a workflow's approval and its inputSchema with pinData."""
    from tests.gateway.test_auth import new_token

    document = graph(node("ask", "wait", resume="approval", timeoutSeconds=3600, message="Pay?"),
                     http("pay", mock_http.url("/pay")), edges=[edge("start", "ask"), edge("ask", "pay", "approved")])
    status, saved, _ = await request(stack, "POST", "/v1/workflows", json={
        "name": "Pay", "graph": document,
        "inputSchema": {"type": "object", "properties": {"amount": {"type": "number", "maximum": 100}}}})
    assert status == 201, saved
    runner = await new_token(stack, "ci-runner", "runner")
    headers = {"Authorization": f"Bearer {runner}"}
    for extra in ({"pinData": {"start": {"amount": 1_000_000}, "ask": {"approved": True}}}, {"runTo": "pay"}):
        status, refused, _ = await request(stack, "POST", "/v1/runs", headers=headers,
                                           json={"workflowId": saved["id"], **extra})
        assert status == 403 and "needs the editor role" in refused["error"]["message"], refused
    status, refused, _ = await request(stack, "POST", "/v1/runs", headers=headers,
                                       json={"workflowId": saved["id"], "inputs": {"amount": 1_000_000}})
    assert status == 422 and refused["error"]["fields"][0]["field"] == "inputs.amount"
    assert mock_http.received == []
