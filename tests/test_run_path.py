"""Runs end to end: REST → runs.requested → orchestrator → steps.dispatch → engine → mock HTTP, and back."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import nats

from bus import Bus
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, http_graph, step_is


async def test_start_then_http_run_sends_the_exact_request_and_reports_live(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/hook", Reply(status=204))
    graph = http_graph(mock_http.url("/hook"), headers={"X-Trace": "t-1", "Content-Type": "application/json"},
                       json_body={"text": "hello", "n": 3})
    run_id = await stack.start_run(graph)

    events = await stack.events(run_id)
    record = await stack.get_run(run_id)

    [request] = mock_http.received
    assert (request.method, request.path) == ("POST", "/hook")
    assert request.headers["X-Trace"] == "t-1" and request.headers["Content-Type"] == "application/json"
    assert request.json() == {"text": "hello", "n": 3}

    assert record["status"] == "succeeded" and record["workflowName"] == "Test workflow"
    call = next(s for s in record["steps"] if s["id"] == "call")
    assert call["status"] == "succeeded" and call["durationMs"] > 0 and call["attempt"] == 1
    assert call["startedAt"] and call["finishedAt"]
    assert any("→ HTTP 204" in log["msg"] and log["stepId"] == "call" for log in record["logs"])

    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    run_statuses = [e["status"] for e in events if e["type"] == "run"]
    assert run_statuses == ["queued", "running", "succeeded"]
    call_statuses = [e["step"]["status"] for e in events if e["type"] == "step" and e["step"]["id"] == "call"]
    assert call_statuses == ["queued", "running", "succeeded"], "sent to the workers, taken, done"
    dispatched = next(e["step"] for e in events if e["type"] == "step" and e["step"]["id"] == "call")
    assert dispatched["dispatchedAt"] and dispatched["startedAt"] is None
    assert next(e for e in events if e["type"] == "step" and e["step"]["status"] == "succeeded"
                and e["step"]["id"] == "call")["step"]["durationMs"] > 0


async def test_failing_endpoint_fails_step_and_run_and_skips_downstream(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/broken", Reply(status=500, body={"error": "boom"}))
    graph = http_graph(mock_http.url("/broken"))
    graph["nodes"].append({"id": "after", "type": "http", "data": {"label": "After", "config": {"url": mock_http.url("/after")}}})
    graph["edges"].append({"id": "e2", "source": "call", "target": "after"})
    run_id = await stack.start_run(graph)

    record = await stack.finish(run_id)
    steps = {s["id"]: s for s in record["steps"]}
    assert record["status"] == "failed"
    assert steps["call"]["status"] == "failed" and "HTTP 500" in steps["call"]["error"]
    assert steps["after"]["status"] == "skipped"
    assert mock_http.requests_to("/after") == []
    assert any(log["level"] == "ERROR" and "HTTP 500" in log["msg"] for log in record["logs"])


async def test_diamond_runs_branches_in_parallel_and_join_waits_for_both(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/left", Reply(delay_s=0.5))
    mock_http.reply("/right", Reply(delay_s=0.5))

    def call(node_id: str) -> dict[str, Any]:
        return {"id": node_id, "type": "http", "data": {"label": node_id, "config": {"url": mock_http.url(f"/{node_id}")}}}

    graph = {
        "nodes": [{"id": "start", "type": "start"}, call("left"), call("right"), call("join")],
        "edges": [{"id": "a", "source": "start", "target": "left"}, {"id": "b", "source": "start", "target": "right"},
                  {"id": "c", "source": "left", "target": "join"}, {"id": "d", "source": "right", "target": "join"}],
    }
    run_id = await stack.start_run(graph)
    record = await stack.finish(run_id)

    assert record["status"] == "succeeded"
    assert [r.path for r in mock_http.received][-1] == "/join"
    steps = {s["id"]: s for s in record["steps"]}
    # Parallel: each branch started before the other finished.
    assert steps["left"]["startedAt"] < steps["right"]["finishedAt"]
    assert steps["right"]["startedAt"] < steps["left"]["finishedAt"]
    assert steps["join"]["startedAt"] >= max(steps["left"]["finishedAt"], steps["right"]["finishedAt"])


async def test_same_idempotency_key_starts_one_run(stack: Stack, mock_http: MockHttp) -> None:
    graph = http_graph(mock_http.url("/once"))
    first_status, first = await stack.post_run(graph, idempotencyKey="order-42")
    second_status, second = await stack.post_run(graph, idempotencyKey="order-42")
    assert first_status == second_status == 201
    assert first["runId"] == second["runId"]
    await stack.finish(first["runId"])
    assert len(mock_http.requests_to("/once")) == 1

    conflict_status, conflict = await stack.post_run(http_graph(mock_http.url("/other")), idempotencyKey="order-42")
    assert conflict_status == 409
    assert conflict["error"]["code"] == "idempotency_conflict"
    assert conflict["error"]["fields"][0]["field"] == "idempotencyKey"
    runs = await _list(stack)
    assert [r["id"] for r in runs] == [first["runId"]]


async def test_run_requested_published_on_the_bus_by_a_plain_client(stack: Stack, mock_http: MockHttp) -> None:
    # A plain nats-py client, as another system would do it: no AutomateOS code involved.
    request = {"runId": "from-billing-1", "graph": {
        "name": "Bus template", "definition": {"steps": [
            {"type": "http_request_node", "config": {"method": "POST", "url": mock_http.url("/bus"), "json_body": {"a": 1}}}]}}}
    client = await nats.connect(stack.nats_url)
    try:
        first = await client.jetstream().publish("runs.requested", json.dumps(request).encode(), headers={"Nats-Msg-Id": "billing-1"})
        repeat = await client.jetstream().publish("runs.requested", json.dumps(request).encode(), headers={"Nats-Msg-Id": "billing-1"})
    finally:
        await client.close()
    assert first.duplicate is None and repeat.duplicate is True

    record = await stack.finish("from-billing-1")
    assert record["status"] == "succeeded" and record["workflowName"] == "Bus template"
    assert mock_http.requests_to("/bus")[0].json() == {"a": 1}


async def test_garbage_on_runs_requested_never_stops_the_orchestrator(stack: Stack, mock_http: MockHttp, bus: Bus) -> None:
    await bus.js.publish("runs.requested", b"\x00 not json at all")
    await bus.js.publish("runs.requested", b'{"graph": 12}')
    await bus.js.publish("runs.requested", json.dumps({"runId": "bad-shape", "graph": {"nodes": "nope"}}).encode())
    cyclic = {"nodes": [{"id": "s", "type": "start"}, {"id": "a", "type": "http", "data": {"config": {"url": "http://x.test"}}},
                        {"id": "b", "type": "http", "data": {"config": {"url": "http://x.test"}}}],
              "edges": [{"id": "1", "source": "s", "target": "a"}, {"id": "2", "source": "a", "target": "b"},
                        {"id": "3", "source": "b", "target": "a"}]}
    await bus.js.publish("runs.requested", json.dumps({"runId": "cyclic-1", "graph": cyclic}).encode())

    # Garbage on the step subjects must not stop the orchestrator or the worker either.
    await bus.js.publish("steps.result", b"{broken")
    await bus.js.publish("steps.result", json.dumps({"runId": "no-such-run", "stepId": "x", "status": "succeeded",
                                                      "startedAt": "2026-01-01T00:00:00Z"}).encode())
    await bus.js.publish("steps.dispatch", b"[1, 2, 3]")

    bad = await stack.finish("bad-shape")
    assert bad["status"] == "failed" and "graph.nodes" in bad["error"]
    cycle = await stack.finish("cyclic-1")
    assert cycle["status"] == "failed" and "cycle" in cycle["error"]

    run_id = await stack.start_run(http_graph(mock_http.url("/still-alive")))
    assert (await stack.finish(run_id))["status"] == "succeeded"


async def test_cancel_stops_a_run_whose_step_is_slow(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/slow", Reply(delay_s=30))
    graph = http_graph(mock_http.url("/slow"))
    graph["nodes"].append({"id": "next", "type": "http", "data": {"config": {"url": mock_http.url("/next")}}})
    graph["edges"].append({"id": "e2", "source": "call", "target": "next"})
    run_id = await stack.start_run(graph)
    await stack.events(run_id, until=step_is("call", "running"))
    assert mock_http.requests_to("/slow")

    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/v1/runs/{run_id}/cancel") as response:
        assert response.status == 202

    record = await stack.finish(run_id, timeout=15)
    assert record["status"] == "cancelled"
    assert "Run cancelled by admin" in [log["msg"] for log in record["logs"]], "who cancelled, in words"
    assert {s["id"]: s["status"] for s in record["steps"]} == {"start": "succeeded", "call": "cancelled", "next": "cancelled"}
    assert mock_http.requests_to("/next") == []
    async with stack.http.post(f"{stack.base_url}/v1/runs/{run_id}/cancel") as response:
        assert response.status == 409


async def test_websocket_replay_after_seq_gives_exactly_the_missing_events(stack: Stack, mock_http: MockHttp) -> None:
    run_id = await stack.start_run(http_graph(mock_http.url("/replay")))
    everything = await stack.events(run_id)
    assert len(everything) >= 6
    for after in (0, 2, len(everything) - 1):
        rest = await stack.events(run_id, after=after)
        assert rest == everything[after:]
    assert await stack.events(run_id, after=len(everything)) == []


async def _list(stack: Stack, query: str = "") -> list[dict[str, Any]]:
    assert stack.http is not None
    async with stack.http.get(f"{stack.base_url}/v1/runs{query}") as response:
        assert response.status == 200
        runs: list[dict[str, Any]] = (await response.json())["runs"]
        return runs


async def test_list_runs_newest_first_and_by_status(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/bad", Reply(status=502))
    ok = await stack.start_run(http_graph(mock_http.url("/ok")))
    await stack.finish(ok)
    bad = await stack.start_run(http_graph(mock_http.url("/bad")))
    await stack.finish(bad)
    assert [r["id"] for r in await _list(stack)] == [bad, ok]
    assert [r["id"] for r in await _list(stack, "?status=failed")] == [bad]
    assert [r["id"] for r in await _list(stack, "?limit=1")] == [bad]


async def test_bus_request_with_only_an_idempotency_key_runs_once(stack: Stack, mock_http: MockHttp, bus: Bus) -> None:
    request = {"idempotencyKey": "invoice-7", "graph": http_graph(mock_http.url("/invoice"))}
    for _ in range(2):  # no Nats-Msg-Id: the key alone must make the repeat harmless
        await bus.js.publish("runs.requested", json.dumps(request).encode())
    run_id = "k" + hashlib.sha256(b"invoice-7").hexdigest()[:31]
    assert (await stack.finish(run_id))["status"] == "succeeded"
    assert len(mock_http.requests_to("/invoice")) == 1


async def test_cancel_that_overtakes_its_bus_run_request_still_cancels(stack: Stack, mock_http: MockHttp, bus: Bus) -> None:
    mock_http.reply("/slow-bus", Reply(delay_s=30))
    await bus.js.publish("runs.cancel", json.dumps({"runId": "overtaken"}).encode())
    await bus.js.publish("runs.requested", json.dumps({"runId": "overtaken", "graph": http_graph(mock_http.url("/slow-bus"))}).encode())
    assert (await stack.finish("overtaken", timeout=20))["status"] == "cancelled"
