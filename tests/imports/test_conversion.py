"""The conversions themselves, without a server: every mapping of docs/IMPORT.md, and the quirks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.imports import ImportRejected, import_document
from schemas import compile_workflow
from schemas.imports import ImportResponse
from tests.imports import documents

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "import-corpus" / "n8n"


def imported(document: Any, source: Any = None) -> ImportResponse:
    answer = import_document(document, source)
    compile_workflow(answer.graph)  # every imported graph validates
    return answer


def nodes(answer: ImportResponse) -> dict[str, Any]:
    return {n.id: n for n in answer.graph.nodes}


def edges(answer: ImportResponse) -> set[tuple[str, str | None, str]]:
    return {(e.source, e.sourceHandle, e.target) for e in answer.graph.edges}


def entry(answer: ImportResponse, name: str) -> Any:
    return next(n for n in answer.report.nodes if n.from_.name == name)


def test_n8n_webhook_switch_set_http_if_merge_wait_loop_code_subworkflow() -> None:
    answer = imported(documents.n8n_everything())
    by_id = nodes(answer)
    assert answer.name == "Orders (n8n)" and answer.source == "n8n"
    assert {k: v.type for k, v in by_id.items()} == {
        "webhook": "webhook", "route": "switch", "tag_eu": "set", "old_api": "http", "new_api": "http",
        "big_order": "if", "join": "merge", "pause": "delay", "each_line": "loop", "per_line": "code",
        "child": "subworkflow"}
    assert by_id["webhook"].data.config == {"methods": ["POST"], "responseMode": "lastNode"}
    assert (by_id["webhook"].position.x, by_id["webhook"].position.y) == (0, 375)  # the layout kept, spread 1.75 × 1.25
    assert by_id["route"].data.config == {"value": "{{ payload.body.region }}", "cases": ["eu", "us"]}
    assert by_id["tag_eu"].data.config == {"values": {"region": "{{ payload.body.region }}", "tax": 20}}
    old = by_id["old_api"]
    assert old.data.config == {"method": "POST", "url": "https://old.example/orders", "headers": {},
                               "json_body": "{{ payload.body }}", "timeoutMs": 5000}
    assert old.data.settings is not None and old.data.settings.retry.maxAttempts == 4
    assert old.data.settings.retry.initialIntervalMs == 2000
    new = by_id["new_api"].data.config
    assert new["method"] == "PUT" and new["url"] == "https://new.example/orders/{{ payload.body.id }}?dry=1"
    assert new["headers"] == {"X-Source": "n8n"} and new["json_body"] == {"total": 10} and new["timeoutMs"] == 10000
    assert new["auth"] == {"credentialName": "Shop-API"}
    assert entry(answer, "New API").status == "review"  # the credential is a placeholder to check
    assert by_id["big_order"].data.config == {"condition": "(steps.new_api.output.body.total > 100)"}
    assert by_id["join"].data.config == {"mode": "append"}
    assert by_id["pause"].data.config == {"seconds": 120}
    assert by_id["child"].data.config["workflowId"] == "wf42" and entry(answer, "Child").status == "review"
    assert entry(answer, "Per line").status == "review"
    assert edges(answer) >= {("webhook", None, "route"), ("route", "eu", "tag_eu"), ("route", "us", "old_api"),
                             ("route", "default", "new_api"), ("big_order", "true", "join"), ("tag_eu", None, "join"),
                             ("each_line", "each", "per_line"), ("each_line", "done", "child")}
    # The loop's body went back to the loop in n8n: cut, and said.
    assert any("loop runs its body once per item" in n for n in entry(answer, "Per line").notes)
    # noOp, sticky note and Respond to Webhook are dropped and noted.
    for name in ("Nothing", "Note", "Respond"):
        assert entry(answer, name).id is None and entry(answer, name).notes
    assert len(answer.report.nodes) == 14
    assert answer.report.converted + answer.report.review + answer.report.unsupported == 14


def test_n8n_other_versions_and_triggers() -> None:
    answer = imported(documents.n8n_triggers_and_versions())
    by_id = nodes(answer)
    assert by_id["every_15_min"].data.config == {"intervalSeconds": 900}
    assert by_id["fetch"].data.config["url"] == "https://api.example/items?page=1"
    assert by_id["fetch"].data.config["headers"] == {"Accept": "application/json"}
    assert by_id["if"].data.config["condition"] == (
        '(steps.fetch.output.body.status == "ok") and (steps.fetch.output.body.count > 0)')
    assert by_id["kind"].data.config == {"value": "{{ steps.fetch.output.body.kind }}", "cases": ["a", "b"]}
    assert by_id["edit_fields"].data.config == {"values": {"kind": "{{ steps.fetch.output.body.kind }}", "count": 3}}
    assert by_id["only_big"].type == "if" and entry(answer, "Only big").status == "review"
    assert by_id["function"].type == "code" and entry(answer, "Function").status == "review"
    assert by_id["approval"].data.config == {"resume": "webhook", "timeoutSeconds": 7200, "message": ""} or \
        by_id["approval"].data.config == {"resume": "webhook", "timeoutSeconds": 7200}
    assert ("kind", "default", "function") in edges(answer) and ("only_big", "true", "approval") in edges(answer)
    # Three triggers: one is kept, the two others are dropped and say so.
    for name in ("On clicking 'execute'", "Cron"):
        assert entry(answer, name).id is None and entry(answer, name).status == "review"


def test_n8n_cron_node_alone() -> None:
    document = documents.n8n_triggers_and_versions()
    document["nodes"] = [n for n in document["nodes"] if n["name"] in ("Cron", "Fetch")]
    answer = imported(document)
    assert nodes(answer)["cron"].data.config == {"cron": "30 9 * * *"}


def test_n8n_quirks_are_noted_and_the_graph_still_validates() -> None:
    answer = imported(documents.n8n_quirks())
    notes = {n.from_.name: " ".join(n.notes) for n in answer.report.nodes}
    assert "'Ghost'" in notes["Start"] and "'Nobody'" in notes["Slack"]  # dangling names
    assert "one trigger" in notes["Start"]  # two triggers
    assert "no conditions" in notes["Again?"] and nodes(answer)["again"].data.config == {"condition": "true"}
    assert "cycle" in notes["Again?"]  # the cycle through the If is cut
    assert entry(answer, "Call").id == "call"  # a node without an id
    assert entry(answer, "Slack").status == "unsupported" and nodes(answer)["slack"].type == "code"


def test_expressions_that_do_not_translate_are_kept_and_marked() -> None:
    document = documents.n8n_quirks()
    document["nodes"][2]["parameters"]["url"] = "=https://a.example/{{ $json.items.map(i => i.id).join(',') }}"
    answer = imported(document)
    call = entry(answer, "Call")
    assert call.status == "review" and any("$json.items.map" in n for n in call.notes)
    assert "$json.items.map" in nodes(answer)["call"].data.config["url"]


def test_node_red_every_mapping() -> None:
    answer = imported(documents.node_red_everything())
    by_id = nodes(answer)
    assert answer.name == "Orders (Node-RED)" and answer.source == "node-red"
    assert by_id["post_orders"].data.config == {"methods": ["POST"], "responseMode": "lastNode"}
    assert by_id["region"].data.config == {"value": "{{ payload.body.region }}", "cases": ["eu", "us"]}
    assert by_id["tag"].data.config == {"values": {"region": "{{ payload.body.region }}", "tax": 20}}
    assert by_id["taxed"].type == "if" and by_id["taxed"].data.config == {"condition": "steps.tag.output.tax > 10.0"}
    assert by_id["us_api"].data.config["json_body"] == "{{ payload.body }}"
    assert by_id["text"].type == "set" and entry(answer, "text").status == "review"
    assert by_id["text"].data.config == {"values": {"payload": "Order {{ payload.body.id }}"}}
    assert by_id["js"].type == "code" and entry(answer, "js").status == "review"
    assert by_id["wait"].data.config == {"seconds": 3}
    assert by_id["lines"].type == "loop" and entry(answer, "lines").status == "review"
    assert ("lines", "each", "line") in edges(answer)
    assert ("region", "default", "text") in edges(answer) and ("taxed", "false", "wait") in edges(answer)
    for name in ("reply", "log", "About", "join"):
        assert entry(answer, name).id is None
    assert entry(answer, "errors").status == "review" and "error workflow" in " ".join(entry(answer, "errors").notes)
    assert (by_id["post_orders"].position.x, by_id["post_orders"].position.y) == (160, 200)  # spread 1.6 × 2
    assert len(answer.report.nodes) == 18  # every node but the tab


def test_node_red_inject_becomes_schedule_or_start() -> None:
    answer = imported(documents.node_red_inject_cron())
    assert nodes(answer)["weekdays"].data.config == {"cron": "00 09 * * 1,2,3,4,5"}
    assert nodes(answer)["slow"].data.config == {"seconds": 120}
    flow = documents.node_red_inject_cron()
    flow[0]["crontab"] = ""
    assert nodes(imported(flow))["weekdays"].type == "start"
    flow[0]["repeat"] = "30"
    assert nodes(imported(flow))["weekdays"].data.config == {"intervalSeconds": 30}


def test_our_own_export_comes_back_as_it_is() -> None:
    graph = imported(documents.n8n_everything()).graph.model_dump(mode="json", exclude_none=True)
    again = imported(graph)
    assert again.source == "automateos" and again.graph.model_dump(mode="json", exclude_none=True) == graph
    assert again.report.converted == len(graph["nodes"]) and again.report.review == 0
    assert imported({"name": "Saved", "graph": graph}).source == "automateos"  # GET /v1/workflows/{id}'s answer


@pytest.mark.parametrize("document, source, field", [
    ("a string", None, "document"), (42, None, "document"), ([], None, "document"), ({}, None, "document"),
    ({"hello": "world"}, None, "document"), ([{"foo": 1}], None, "document"),
    ({"nodes": [], "connections": {}}, None, "document.nodes"),
    ([{"id": "t", "type": "tab", "label": "Flow 1"}], None, "document"),
    ([{"id": "t", "type": "tab", "label": "Flow 1"}], "node-red", "document"),
    ({"nodes": [{"id": "s", "type": "start"}], "edges": [{"id": "e", "source": "s", "target": "x"}]},
     "automateos", "document.edges[0].target"),
])
def test_what_is_not_a_workflow_is_refused_saying_what_was_expected(document: Any, source: Any, field: str) -> None:
    with pytest.raises(ImportRejected) as refused:
        import_document(document, source)
    assert refused.value.issues[0].field == field


def test_every_corpus_file_converts_and_validates() -> None:
    files = sorted(CORPUS.glob("*.json"))
    assert len(files) == 10
    for path in files:
        document = json.loads(path.read_text())
        answer = imported(document)
        names = [n["name"] for n in document["nodes"]]
        assert sorted(n.from_.name for n in answer.report.nodes if n.from_.type != "(none)") == sorted(names), path
        assert answer.report.converted + answer.report.review + answer.report.unsupported == len(answer.report.nodes)


def test_node_red_quirks_are_noted_and_the_graph_still_validates() -> None:
    flow = [
        documents.node_red("a", "inject", 100, [["b"]], name="first", repeat="", crontab=""),
        documents.node_red("a2", "inject", 100, [["b"]], name="second", y=300, repeat="10", crontab=""),
        documents.node_red("b", "http request", 250, [["c", "ghost"]], name="call", method="GET",
                           url="https://a.example/"),
        documents.node_red("c", "switch", 400, [["b"], ["d"]], name="again?", property="payload.more",
                           propertyType="msg", rules=[{"t": "true"}, {"t": "else"}], outputs=2),
        {"type": "function", "name": "no id", "func": "return msg;", "x": 550, "y": 100, "wires": [[]]},
        documents.node_red("d", "mqtt out", 550, [], name="mqtt", y=300, topic="x"),
    ]
    flow[-2]["wires"] = [[]]
    answer = imported(flow)
    notes = {n.from_.name: " ".join(n.notes) for n in answer.report.nodes}
    assert "'ghost'" in notes["call"]
    assert "one trigger" in notes["first"]  # the repeating inject is kept (webhook > schedule > start)
    assert nodes(answer)["second"].data.config == {"intervalSeconds": 10}
    assert "cycle" in notes["again?"] and nodes(answer)["again"].data.config == {
        "condition": "steps.call.output.body.more == true"}
    assert entry(answer, "no id").id == "no_id" and "follows the trigger" in notes["no id"]
    assert entry(answer, "mqtt").status == "unsupported"


def test_an_http_request_v4_takes_its_query_and_headers_as_json_or_as_pairs() -> None:
    trigger = documents.n8n_node("Start", "manualTrigger", 1, {}, 0)
    as_json = documents.n8n_node("As JSON", "httpRequest", 4.2, {
        "url": "https://api.example.com/a", "sendQuery": True, "specifyQuery": "json", "jsonQuery": '{"page": 2}',
        "sendHeaders": True, "specifyHeaders": "json", "jsonHeaders": '{"X-Key": "k1"}'}, 200)
    as_pairs = documents.n8n_node("As pairs", "httpRequest", 4.2, {
        "url": "https://api.example.com/b", "sendQuery": True, "queryParameters": {"parameters": [{"name": "q", "value": "x"}]},
        "sendHeaders": True, "headerParameters": {"parameters": [{"name": "X-Source", "value": "n8n"}]}}, 400)
    answer = imported({"name": "v4", "nodes": [trigger, as_json, as_pairs], "connections": {
        "Start": {"main": [documents.main("As JSON")]}, "As JSON": {"main": [documents.main("As pairs")]}}})
    by_name = {n.data.label: n.data.config or {} for n in answer.graph.nodes}
    # The query goes into the URL (our http step has no query field).
    assert (by_name["As JSON"]["url"], by_name["As JSON"]["headers"]) == ("https://api.example.com/a?page=2", {"X-Key": "k1"})
    assert (by_name["As pairs"]["url"], by_name["As pairs"]["headers"]) == ("https://api.example.com/b?q=x", {"X-Source": "n8n"})
