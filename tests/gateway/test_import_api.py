"""POST /v1/import on a real stack: the corpus of real n8n exports, the 422s, and an n8n workflow and a Node-RED
flow imported, saved and run against the local mock HTTP server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.gateway.test_rest_api import request
from tests.imports.documents import main, n8n_node, node_red
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "import-corpus" / "n8n"


async def test_every_real_n8n_export_imports_and_its_graph_validates(stack: Stack) -> None:
    files = sorted(CORPUS.glob("*.json"))
    assert len(files) == 10
    for path in files:
        document = json.loads(path.read_text())
        status, body, _ = await request(stack, "POST", "/v1/import", json={"document": document})
        assert status == 200, (path.name, body)
        assert body["source"] == "n8n"
        report = body["report"]
        assert sorted(n["from"]["name"] for n in report["nodes"] if n["from"]["type"] != "(none)") == \
            sorted(n["name"] for n in document["nodes"]), path.name
        assert report["converted"] + report["review"] + report["unsupported"] == len(report["nodes"])
        for node in report["nodes"]:
            assert node["status"] in ("converted", "review", "unsupported")
            assert node["status"] == "converted" or node["notes"], (path.name, node)  # every review says why
        status, checked, _ = await request(stack, "POST", "/v1/workflows/validate", json={"graph": body["graph"]})
        assert status == 200, (path.name, checked)


async def test_what_is_not_a_workflow_is_a_422_saying_what_was_expected(stack: Stack) -> None:
    for document, field in [("not a workflow", "document"), ({"title": "x"}, "document"), ([], "document"),
                            ({"nodes": [], "connections": {}}, "document.nodes"),
                            ([{"id": "t", "type": "tab", "label": "Flow 1"}], "document")]:
        status, body, _ = await request(stack, "POST", "/v1/import", json={"document": document})
        assert status == 422, body
        assert body["error"]["code"] == "validation_error"
        assert body["error"]["fields"][0]["field"] == field
        assert "expected" in body["error"]["fields"][0]["reason"]
    status, body, _ = await request(stack, "POST", "/v1/import", json={"document": {}, "source": "zapier"})
    assert status == 422 and body["error"]["fields"][0]["field"] == "source"


async def _save_and_run(stack: Stack, answer: dict[str, Any]) -> dict[str, Any]:
    status, saved, _ = await request(stack, "POST", "/v1/workflows", json={"name": answer["name"], "graph": answer["graph"]})
    assert status == 201, saved
    status, run, _ = await request(stack, "POST", "/v1/runs?wait=20", json={"workflowId": saved["id"]})
    assert status == 201, run
    return run  # type: ignore[no-any-return]


async def test_an_n8n_workflow_imports_saves_and_runs(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/orders", Reply(status=201, body={"id": 7, "total": 250}))
    mock_http.reply("/items/7", Reply(status=200, body={"ok": True}))
    document = {"name": "Order then item", "nodes": [
        n8n_node("When clicking ‘Test workflow’", "manualTrigger", 1, {}, 0),
        n8n_node("Create order", "httpRequest", 4.2, {
            "method": "POST", "url": mock_http.url("/orders"), "sendHeaders": True,
            "headerParameters": {"parameters": [{"name": "X-Shop", "value": "demo"}]},
            "sendBody": True, "specifyBody": "json", "jsonBody": "{\"sku\": \"a1\", \"qty\": 2}", "options": {}}, 200),
        n8n_node("Big?", "if", 2, {"conditions": {"combinator": "and", "conditions": [
            {"leftValue": "={{ $json.total }}", "rightValue": 100, "operator": {"type": "number", "operation": "gt"}}]},
            "options": {}}, 400),
        n8n_node("Keep id", "set", 3.4, {"assignments": {"assignments": [
            {"id": "1", "name": "orderId", "value": "={{ $('Create order').item.json.id }}", "type": "number"}]},
            "options": {}}, 600),
        n8n_node("Fetch item", "httpRequest", 1, {"url": f"={mock_http.url('/items')}/{{{{ $json.orderId }}}}",
                                                  "options": {}}, 800),
    ], "connections": {
        "When clicking ‘Test workflow’": {"main": [main("Create order")]},
        "Create order": {"main": [main("Big?")]},
        "Big?": {"main": [main("Keep id"), []]},
        "Keep id": {"main": [main("Fetch item")]},
    }}
    status, answer, _ = await request(stack, "POST", "/v1/import", json={"document": document, "source": "n8n"})
    assert status == 200, answer
    assert answer["report"] ["review"] == 0 and answer["report"]["unsupported"] == 0, answer["report"]
    run = await _save_and_run(stack, answer)
    assert run["status"] == "succeeded", run
    created = mock_http.requests_to("/orders")
    assert len(created) == 1 and created[0].json() == {"sku": "a1", "qty": 2} and created[0].headers["X-Shop"] == "demo"
    assert len(mock_http.requests_to("/items/7")) == 1


async def test_a_node_red_flow_imports_saves_and_runs(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/status", Reply(status=200, body={"state": "up"}))
    mock_http.reply("/notify", Reply(status=204))
    flow = [
        {"id": "f1", "type": "tab", "label": "Status check", "disabled": False, "info": ""},
        node_red("go", "inject", 100, [["st"]], name="go", props=[{"p": "payload"}], repeat="", crontab="",
                 once=False, topic="", payload="", payloadType="date"),
        node_red("st", "http request", 250, [["sw"]], name="status", method="GET", ret="obj",
                 url=mock_http.url("/status"), tls="", persist=False, proxy="", authType="", senderr=False),
        node_red("sw", "switch", 400, [["ok"], ["bad"]], name="state", property="payload.state", propertyType="msg",
                 rules=[{"t": "eq", "v": "up", "vt": "str"}, {"t": "eq", "v": "down", "vt": "str"}],
                 checkall="true", repair=False, outputs=2),
        node_red("ok", "change", 550, [["tell"]], name="good", rules=[
            {"t": "set", "p": "payload.text", "pt": "msg", "to": "all good", "tot": "str"},
            {"t": "set", "p": "payload.state", "pt": "msg", "to": "payload.state", "tot": "msg"}]),
        node_red("bad", "change", 550, [["tell"]], name="bad", y=200, rules=[
            {"t": "set", "p": "payload.text", "pt": "msg", "to": "down!", "tot": "str"}]),
        node_red("tell", "http request", 700, [["dbg"]], name="notify", method="POST", ret="txt",
                 url=mock_http.url("/notify")),
        node_red("dbg", "debug", 850, [], name="out", active=True, complete="payload"),
    ]
    status, answer, _ = await request(stack, "POST", "/v1/import", json={"document": flow})
    assert status == 200, answer
    assert answer["source"] == "node-red" and answer["name"] == "Status check"
    run = await _save_and_run(stack, answer)
    assert run["status"] == "succeeded", run
    assert len(mock_http.requests_to("/status")) == 1
    told = mock_http.requests_to("/notify")
    assert len(told) == 1 and told[0].json() == {"text": "all good", "state": "up"}
