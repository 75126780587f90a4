"""Hand-written n8n and Node-RED exports, in each tool's exported format, covering every mapping of docs/IMPORT.md."""

from __future__ import annotations

from typing import Any


def n8n_node(name: str, type_: str, version: float, parameters: dict[str, Any], x: int, y: int = 300,
             **extra: Any) -> dict[str, Any]:
    return {"parameters": parameters, "id": f"id-{name.lower().replace(' ', '-')}", "name": name,
            "type": f"n8n-nodes-base.{type_}", "typeVersion": version, "position": [x, y], **extra}


def main(*targets: str | tuple[str, int]) -> list[dict[str, Any]]:
    return [{"node": t, "type": "main", "index": 0} if isinstance(t, str) else
            {"node": t[0], "type": "main", "index": t[1]} for t in targets]


def n8n_everything() -> dict[str, Any]:
    """Webhook (+ Respond to Webhook) → Switch → Set v1 / HTTP v1 / HTTP v4 → If v2 → Merge → Wait → Loop → Code …"""
    nodes = [
        n8n_node("Webhook", "webhook", 2, {"path": "orders", "httpMethod": "POST", "responseMode": "responseNode"}, 0),
        n8n_node("Route", "switch", 3, {"rules": {"values": [
            {"conditions": {"conditions": [{"leftValue": "={{ $json.body.region }}", "rightValue": "eu",
                                             "operator": {"type": "string", "operation": "equals"}}],
                            "combinator": "and"}},
            {"conditions": {"conditions": [{"leftValue": "={{ $json.body.region }}", "rightValue": "us",
                                             "operator": {"type": "string", "operation": "equals"}}],
                            "combinator": "and"}}]}, "options": {"fallbackOutput": "extra"}}, 200),
        n8n_node("Tag EU", "set", 1, {"values": {"string": [{"name": "region", "value": "={{$json[\"body\"][\"region\"]}}"}],
                                                 "number": [{"name": "tax", "value": 20}]},
                                      "keepOnlySet": True, "options": {}}, 400, 100),
        n8n_node("Old API", "httpRequest", 1, {"url": "https://old.example/orders", "requestMethod": "POST",
                                                "jsonParameters": True, "bodyParametersJson": "={{ $json.body }}",
                                                "options": {"timeout": 5000}}, 400, 300,
                 retryOnFail=True, maxTries=4, waitBetweenTries=2000),
        n8n_node("New API", "httpRequest", 4.2, {
            "method": "PUT", "url": "=https://new.example/orders/{{ $('Webhook').item.json.body.id }}",
            "sendQuery": True, "queryParameters": {"parameters": [{"name": "dry", "value": "1"}]},
            "sendHeaders": True, "headerParameters": {"parameters": [{"name": "X-Source", "value": "n8n"}]},
            "sendBody": True, "specifyBody": "json", "jsonBody": "{\"total\": 10}", "options": {"timeout": 10000},
            "authentication": "genericCredentialType", "genericAuthType": "httpHeaderAuth"}, 400, 500,
            credentials={"httpHeaderAuth": {"id": "7", "name": "Shop API"}}),
        n8n_node("Big order?", "if", 2, {"conditions": {"options": {"caseSensitive": True}, "combinator": "and",
                                                          "conditions": [{"leftValue": "={{ $json.total }}",
                                                                          "rightValue": 100,
                                                                          "operator": {"type": "number", "operation": "gt"}}]},
                                          "options": {}}, 600, 500),
        n8n_node("Join", "merge", 3, {"mode": "append"}, 800, 300),
        n8n_node("Pause", "wait", 1.1, {"amount": 2, "unit": "minutes"}, 1000, 300),
        n8n_node("Each line", "splitInBatches", 3, {"options": {}}, 1200, 300),
        n8n_node("Per line", "code", 2, {"jsCode": "return items;"}, 1400, 400),
        n8n_node("Child", "executeWorkflow", 1.1, {"workflowId": {"__rl": True, "value": "wf42", "mode": "id"}}, 1400, 200),
        n8n_node("Respond", "respondToWebhook", 1.1, {"options": {}}, 1600, 200),
        n8n_node("Nothing", "noOp", 1, {}, 600, 100),
        n8n_node("Note", "stickyNote", 1, {"content": "hello", "width": 200, "height": 100}, 0, 0),
    ]
    connections = {
        "Webhook": {"main": [main("Route")]},
        "Route": {"main": [main("Tag EU"), main("Old API"), main("New API")]},
        "Tag EU": {"main": [main("Nothing")]},
        "Nothing": {"main": [main(("Join", 0))]},
        "Old API": {"main": [main(("Join", 1))]},
        "New API": {"main": [main("Big order?")]},
        "Big order?": {"main": [main(("Join", 1)), []]},
        "Join": {"main": [main("Pause")]},
        "Pause": {"main": [main("Each line")]},
        "Each line": {"main": [main("Child"), main("Per line")]},
        "Per line": {"main": [main("Each line")]},
        "Child": {"main": [main("Respond")]},
    }
    return {"name": "Orders (n8n)", "nodes": nodes, "connections": connections, "active": False, "settings": {}}


def n8n_triggers_and_versions() -> dict[str, Any]:
    """Every other version in common use: manual, schedule and cron triggers; If v1; Switch v1; Set v3.3; Filter;
    Function; Wait for a webhook; HTTP v3 with UI parameters."""
    nodes = [
        n8n_node("On clicking 'execute'", "manualTrigger", 1, {}, 0),
        n8n_node("Every 15 min", "scheduleTrigger", 1.2, {"rule": {"interval": [{"field": "minutes",
                                                                                 "minutesInterval": 15}]}}, 0, 500),
        n8n_node("Cron", "cron", 1, {"triggerTimes": {"item": [{"mode": "everyDay", "hour": 9, "minute": 30}]}}, 0, 700),
        n8n_node("Fetch", "httpRequest", 3, {"url": "https://api.example/items", "requestMethod": "GET",
                                             "queryParametersUi": {"parameter": [{"name": "page", "value": "1"}]},
                                             "headerParametersUi": {"parameter": [{"name": "Accept", "value": "application/json"}]},
                                             "options": {}}, 200),
        n8n_node("IF", "if", 1, {"conditions": {"string": [{"value1": "={{$json[\"status\"]}}", "operation": "equal",
                                                            "value2": "ok"}],
                                                "number": [{"value1": "={{$json.count}}", "operation": "larger",
                                                            "value2": 0}]}}, 400),
        n8n_node("Kind", "switch", 1, {"dataType": "string", "value1": "={{$node[\"Fetch\"].json[\"kind\"]}}",
                                       "rules": {"rules": [{"value2": "a", "output": 0}, {"value2": "b", "output": 1}]},
                                       "fallbackOutput": 2}, 600),
        n8n_node("Edit Fields", "set", 3.3, {"assignments": {"assignments": [
            {"id": "1", "name": "kind", "value": "={{ $json.kind }}", "type": "string"},
            {"id": "2", "name": "count", "value": 3, "type": "number"}]}, "options": {}}, 800, 100),
        n8n_node("Only big", "filter", 2, {"conditions": {"combinator": "or", "conditions": [
            {"leftValue": "={{ $json.count }}", "rightValue": 10, "operator": {"type": "number", "operation": "gte"}}]},
            "options": {}}, 800, 300),
        n8n_node("Function", "function", 1, {"functionCode": "return items;"}, 800, 500),
        n8n_node("Approval", "wait", 1.1, {"resume": "webhook", "limitWaitTime": True, "resumeAmount": 2,
                                           "resumeUnit": "hours"}, 1000, 300),
    ]
    connections = {
        "On clicking 'execute'": {"main": [main("Fetch")]},
        "Every 15 min": {"main": [main("Fetch")]},
        "Cron": {"main": [main("Fetch")]},
        "Fetch": {"main": [main("IF")]},
        "IF": {"main": [main("Kind"), []]},
        "Kind": {"main": [main("Edit Fields"), main("Only big"), main("Function")]},
        "Only big": {"main": [main("Approval")]},
    }
    return {"name": "Versions", "nodes": nodes, "connections": connections}


def n8n_quirks() -> dict[str, Any]:
    """A dangling connection name, a node without an id, two triggers, an If without conditions, a cycle through an
    If, and an unknown node type."""
    nodes = [
        n8n_node("Start", "manualTrigger", 1, {}, 0),
        n8n_node("Hook", "webhook", 1, {"path": "x", "httpMethod": "GET"}, 0, 500),
        n8n_node("Call", "httpRequest", 4.2, {"url": "https://a.example/"}, 200),
        n8n_node("Again?", "if", 2, {"options": {}}, 400),
        n8n_node("Slack", "slack", 2, {"channel": "#x"}, 600),
    ]
    del nodes[2]["id"]
    return {"name": "Quirks", "nodes": nodes, "connections": {
        "Start": {"main": [main("Call", "Ghost")]},
        "Hook": {"main": [main("Call")]},
        "Call": {"main": [main("Again?")]},
        "Again?": {"main": [main("Call"), main("Slack")]},
        "Nobody": {"main": [main("Slack")]},
    }}


def node_red(node_id: str, type_: str, x: int, wires: list[list[str]] | None = None, **fields: Any) -> dict[str, Any]:
    node = {"id": node_id, "type": type_, "z": "tab1", "name": fields.pop("name", ""), "x": x, "y": fields.pop("y", 100)}
    node.update(fields)
    if type_ not in ("comment",):
        node["wires"] = wires if wires is not None else []
    return node


def node_red_everything() -> list[dict[str, Any]]:
    return [
        {"id": "tab1", "type": "tab", "label": "Orders (Node-RED)", "disabled": False, "info": ""},
        node_red("in", "http in", 100, [["sw"]], name="POST /orders", url="/orders", method="post", upload=False),
        node_red("sw", "switch", 250, [["chg"], ["req"], ["tpl"]], name="region", property="payload.region",
                 propertyType="msg", rules=[{"t": "eq", "v": "eu", "vt": "str"}, {"t": "eq", "v": "us", "vt": "str"},
                                            {"t": "else"}], checkall="false", repair=False, outputs=3),
        node_red("chg", "change", 400, [["if"]], name="tag", rules=[
            {"t": "set", "p": "payload.region", "pt": "msg", "to": "payload.region", "tot": "msg"},
            {"t": "set", "p": "payload.tax", "pt": "msg", "to": "20", "tot": "num"}]),
        node_red("if", "switch", 550, [["fn"], ["dly"]], name="taxed?", property="payload.tax", propertyType="msg",
                 rules=[{"t": "gt", "v": "10", "vt": "num"}, {"t": "else"}], checkall="true", outputs=2),
        node_red("req", "http request", 400, [["dly"]], name="US API", method="POST", ret="obj",
                 url="https://us.example/orders", tls="", persist=False, proxy="", authType="", senderr=False,
                 headers=[]),
        node_red("tpl", "template", 400, [["split"]], name="text", field="payload", fieldType="msg",
                 format="handlebars", syntax="mustache", template="Order {{payload.id}}", output="str"),
        node_red("fn", "function", 700, [["dly"]], name="js", func="msg.payload.ok = true;\nreturn msg;", outputs=1),
        node_red("dly", "delay", 850, [["res", "dbg"]], name="wait", pauseType="delay", timeout="3",
                 timeoutUnits="seconds", rate="1", nbRateUnits="1", rateUnits="second"),
        node_red("split", "split", 550, [["each"]], name="lines", splt="\\n", spltType="str", arraySplt=1),
        node_red("each", "change", 700, [["join"]], name="line", y=300,
                 rules=[{"t": "set", "p": "payload.line", "pt": "msg", "to": "x", "tot": "str"}]),
        node_red("join", "join", 850, [["res"]], name="", mode="auto", y=300),
        node_red("res", "http response", 1000, [], name="reply", statusCode="", headers={}),
        node_red("dbg", "debug", 1000, [], name="log", active=True, complete="payload"),
        node_red("note", "comment", 100, None, name="About", info="a comment"),
        node_red("inj", "inject", 100, [["req2"]], name="every minute", y=500, props=[{"p": "payload"}],
                 repeat="60", crontab="", once=False, topic="", payload="", payloadType="date"),
        node_red("req2", "http request", 250, [[]], name="ping", y=500, method="GET", ret="txt",
                 url="https://status.example/ping"),
        node_red("catch", "catch", 100, [["alert"]], name="errors", y=700, scope=None, uncaught=False),
        node_red("alert", "http request", 250, [[]], name="alert", y=700, method="POST", ret="obj",
                 url="https://alerts.example/"),
    ]


def node_red_inject_cron() -> list[dict[str, Any]]:
    return [
        node_red("a", "inject", 100, [["b"]], name="weekdays", props=[{"p": "payload"}], repeat="",
                 crontab="00 09 * * 1,2,3,4,5", once=False, payloadType="date"),
        node_red("b", "delay", 300, [[]], name="slow", pauseType="delay", timeout="2", timeoutUnits="minutes"),
    ]
