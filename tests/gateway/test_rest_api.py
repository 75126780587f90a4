"""The REST contract: every error is JSON naming the field and the reason."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bus import Bus
from schemas import Dag, RunRecord, RunStatusEvent
from tests.support.mock_http import MockHttp
from tests.support.stack import Stack, http_graph


async def request(stack: Stack, method: str, path: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    assert stack.http is not None
    async with stack.http.request(method, f"{stack.base_url}{path}", **kwargs) as response:
        return response.status, await response.json(content_type=None), dict(response.headers)


async def test_invalid_node_config_is_422_with_field_path_and_node(stack: Stack) -> None:
    graph = http_graph("ftp://example.test")
    status, body, _ = await request(stack, "POST", "/v1/runs", json={"graph": graph})
    assert status == 422
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["fields"] == [{"field": "graph.nodes[1].data.config.url",
                                        "reason": "must start with http:// or https://", "nodeId": "call", "edgeId": None}]


async def test_schema_errors_name_each_field(stack: Stack) -> None:
    status, body, _ = await request(stack, "POST", "/v1/runs",
                                    json={"graph": {"nodes": [{"id": "s"}], "edges": []}, "inputs": []})
    assert status == 422
    fields = {(f["field"], f["reason"]) for f in body["error"]["fields"]}
    assert ("graph.nodes[0].type", "Field required") in fields
    assert ("inputs", "Input should be an object") in fields


async def test_missing_graph_and_bad_json_and_empty_body(stack: Stack) -> None:
    status, body, _ = await request(stack, "POST", "/v1/runs", json={})
    assert status == 422 and body["error"]["fields"][0]["field"] == "graph"
    status, body, _ = await request(stack, "POST", "/v1/runs", data=b"{not json", headers={"Content-Type": "application/json"})
    assert status == 400 and body["error"]["fields"][0]["field"] == "body"
    status, body, _ = await request(stack, "POST", "/v1/runs", data=b"")
    assert status == 400 and body["error"]["code"] == "bad_request"


async def test_structural_errors_are_422(stack: Stack) -> None:
    graph = http_graph("https://example.test")
    graph["edges"].append({"id": "loop", "source": "call", "target": "call"})
    status, body, _ = await request(stack, "POST", "/v1/runs", json={"graph": graph})
    assert status == 422 and "cycle" in body["error"]["fields"][0]["reason"]


async def test_unknown_run_and_unknown_path_are_json_404(stack: Stack) -> None:
    for path in ("/v1/runs/nope", "/v1/runs/not%20valid", "/v2/whatever"):
        status, body, _ = await request(stack, "GET", path)
        assert status == 404 and body["error"]["code"] == "not_found", path
    status, body, _ = await request(stack, "POST", "/v1/runs/nope/cancel")
    assert status == 404


async def test_list_query_is_validated(stack: Stack) -> None:
    status, body, _ = await request(stack, "GET", "/v1/runs?limit=0&status=sleeping")
    assert status == 422
    assert {f["field"] for f in body["error"]["fields"]} == {"limit", "status"}


async def test_request_id_is_echoed_or_generated(stack: Stack) -> None:
    _, _, headers = await request(stack, "GET", "/healthz", headers={"X-Request-ID": "abc-123"})
    assert headers["X-Request-ID"] == "abc-123"
    _, _, headers = await request(stack, "GET", "/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert headers["X-Request-ID"] != "bad id with spaces" and len(headers["X-Request-ID"]) == 16


async def test_health_and_readiness(stack: Stack) -> None:
    assert (await request(stack, "GET", "/healthz"))[:2] == (200, {"status": "ok"})
    assert (await request(stack, "GET", "/readyz"))[:2] == (200, {"status": "ready"})


async def test_validate_endpoint(stack: Stack) -> None:
    status, body, _ = await request(stack, "POST", "/v1/workflows/validate", json={"graph": http_graph("https://x.test")})
    assert status == 200 and body["ok"] is True
    assert [(s["id"], s["deps"]) for s in body["steps"]] == [("start", []), ("call", ["start"])]


async def test_templates_are_listed_and_served(stack: Stack) -> None:
    status, body, _ = await request(stack, "GET", "/v1/templates")
    assert status == 200
    names = {t["id"]: t["name"] for t in body["templates"]}
    assert names == {"slack-notification": "Slack Notification", "stripe-discord": "Stripe → Discord Bridge",
                     "notion-automation": "Notion Database Entry", "order-router": "Order Router"}
    status, body, _ = await request(stack, "GET", "/v1/templates/stripe-discord")
    assert status == 200 and body["nodes"][0]["type"] == "webhook"
    status, _, _ = await request(stack, "GET", "/v1/templates/missing")
    assert status == 404


async def test_get_run_right_after_create_is_never_404(stack: Stack, mock_http: MockHttp) -> None:
    run_id = await stack.start_run(http_graph(mock_http.url("/x")))
    record = await stack.get_run(run_id)
    assert record["id"] == run_id and record["status"] in {"queued", "running", "succeeded"}
    assert set(record) >= {"id", "status", "workflowName", "steps", "logs", "createdAt", "updatedAt"}
    assert "dag" not in record and "inputs" not in record


async def test_events_socket_for_unknown_run_closes_with_4404(stack: Stack) -> None:
    assert stack.http is not None
    # A long id once made the reason (which quotes it) too long for a close frame: the client saw 1006.
    for run_id in ("bad%20id", "x" * 110, "é" * 200):
        async with stack.http.ws_connect(f"{stack.base_url.replace('http', 'ws')}/v1/runs/{run_id}/events") as ws:
            message = await ws.receive()
            assert ws.close_code == 4404, (run_id, message)
            assert len(str(message.extra).encode()) <= 123


async def test_oversized_body_is_413_and_odd_query_values_are_422(stack: Stack) -> None:
    status, body, _ = await request(stack, "POST", "/v1/runs", data=b"{" + b" " * (600 * 1024) + b"}",
                                    headers={"Content-Type": "application/json"})
    assert status == 413 and body["error"]["code"] == "bad_request"
    status, body, _ = await request(stack, "GET", "/v1/runs?limit=%C2%B2")
    assert status == 422 and body["error"]["fields"][0]["field"] == "limit"
    status, body, _ = await request(stack, "GET", "/v1/runs?limit=&status=")
    assert status == 200 and body == {"runs": [], "next": None}


async def test_a_lost_terminal_event_still_ends_the_socket(stack: Stack, bus: Bus) -> None:
    # A run whose orchestrator saved "succeeded" but died before announcing it: events 1-2 exist, 3 never came.
    record = RunRecord.new("lost-end", Dag(workflowName="w", steps=[]), {})
    record.status, record.eventSeq = "succeeded", 3
    assert await bus.runs.create(record)
    await bus.emit("lost-end", [RunStatusEvent(runId="lost-end", seq=1, status="queued"),
                                RunStatusEvent(runId="lost-end", seq=2, status="running")])
    events = await stack.events("lost-end", timeout=20)
    assert [(e["seq"], e["status"]) for e in events] == [(1, "queued"), (2, "running"), (3, "succeeded")]


async def test_other_sites_cannot_start_runs_change_credentials_or_watch_events(stack: Stack, mock_http: MockHttp) -> None:
    graph = {"graph": http_graph(mock_http.url("/x"))}
    status, body, _ = await request(stack, "POST", "/v1/runs", json=graph, headers={"Origin": "https://evil.example"})
    assert status == 403 and "evil.example" in body["error"]["message"]
    status, _, _ = await request(stack, "POST", "/v1/credentials", json={"name": "a", "value": "b"},
                                 headers={"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    status, body, _ = await request(stack, "POST", "/v1/runs", data=b'{"graph": {}}', headers={"Content-Type": "text/plain"})
    assert status == 415 and "application/json" in body["error"]["message"]
    status, body, _ = await request(stack, "POST", "/v1/runs", json=graph, headers={"Origin": stack.base_url})
    assert status == 201, "the builder's own origin is welcome"
    assert stack.http is not None
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await stack.http.ws_connect(f"{stack.base_url.replace('http', 'ws')}/v1/runs/{body['runId']}/events",
                                    headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403
    assert len(await stack.events(body["runId"])) > 0, "without a foreign Origin the same socket works"


async def test_a_forged_host_is_refused_everywhere_so_dns_rebinding_gets_nothing(stack: Stack, mock_http: MockHttp) -> None:
    """A page on evil.example resolving to 127.0.0.1 sends Host and Origin that match each other: Host must also be
    one of the gateway's own names."""
    rebinding = {"Host": "evil.example:8080", "Origin": "http://evil.example:8080"}
    graph = {"graph": http_graph(mock_http.url("/x"))}
    status, body, _ = await request(stack, "POST", "/v1/runs", json=graph, headers=rebinding)
    assert status == 421 and "evil.example" in body["error"]["message"]
    for method, path in (("GET", "/v1/runs"), ("GET", "/v1/credentials"), ("DELETE", "/v1/credentials/stripe"),
                         ("GET", "/healthz")):
        status, body, _ = await request(stack, method, path, headers=rebinding)
        assert status == 421 and body["error"]["message"], (method, path, status)
    assert stack.http is not None
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await stack.http.ws_connect(f"{stack.base_url.replace('http', 'ws')}/v1/runs/x/events", headers=rebinding)
    assert mock_http.received == [], "no run started"
    port = stack.base_url.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        status, _, _ = await request(stack, "GET", "/v1/runs", headers={"Host": host})
        assert status == 200, host


async def test_responses_forbid_framing_and_sniffing(stack: Stack) -> None:
    assert stack.http is not None
    async with stack.http.get(f"{stack.base_url}/healthz") as response:
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
