"""n8n workflows (`nodes[]` and name-keyed `connections`) → a graph. Every node's mapping is in docs/IMPORT.md."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from schemas import Graph
from schemas.credentials import CREDENTIAL_NAME_MAX, CREDENTIAL_NAME_PATTERN
from schemas.node_types import NodeSettings, RetryPolicy

from .draft import Draft, number, reachable
from .expressions import Resolver, Source, Translated, n8n_operand, n8n_value
from .report import Entry, Report

PASS_THROUGH = {"if", "filter", "noOp", "merge", "switch", "wait", "respondToWebhook"}
DROPPED = {"noOp": "dropped: a No Operation passes its input on, so its inputs now lead to what it led to",
           "stickyNote": "dropped: a sticky note is a comment on the canvas"}
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def short_type(type_: str) -> str:
    return type_.rsplit(".", 1)[-1]


@dataclass
class Conversion:
    document: dict[str, Any]
    draft: Draft
    by_name: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)
    # target name → [(source name, output index, input index)]
    inputs: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)

    # ---- what a node's $json is, in our terms
    def output_of(self, name: str, via: int = 0, seen: frozenset[str] = frozenset()) -> Source | None:
        node = self.by_name.get(name)
        if node is None or name in seen or name not in self.ids and short_type(node["type"]) not in PASS_THROUGH:
            return None
        kind, node_id = short_type(str(node.get("type"))), self.ids.get(name, "")
        if kind == "webhook":
            return Source("payload", frozenset({"body", "headers", "query"}))
        if kind == "httpRequest":
            return Source(f"steps.{node_id}.output.body")
        if kind == "set":
            converted = self.draft.nodes.get(node_id)
            keys = frozenset(converted.config.get("values", {})) if converted is not None else None
            return Source(f"steps.{node_id}.output", keys)
        if kind == "splitInBatches":
            loop_output = 1 if number(node.get("typeVersion"), 1) >= 3 else 0
            return Source("loop.item") if via == loop_output else self.input_of(name, seen | {name})
        if kind in PASS_THROUGH:
            return self.input_of(name, seen | {name})
        return None

    def input_of(self, name: str, seen: frozenset[str] = frozenset()) -> Source | None:
        """What the node's first input carries; an input that comes back round from the node itself (a loop's
        body returning to it) is the last choice."""
        feeding = sorted(self.inputs.get(name, []), key=lambda f: self.downstream_of(name, f[0]))
        if not feeding:
            return None
        source, index, _ = feeding[0]
        return self.output_of(source, index, seen)

    def downstream_of(self, name: str, other: str) -> bool:
        """Whether `other` is reached from `name` by connections."""
        fed: dict[str, list[str]] = {}
        for target, feeding in self.inputs.items():
            for source, _, _ in feeding:
                fed.setdefault(source, []).append(target)
        return other in reachable(fed.get(name, []), lambda node: fed.get(node, []))

    def resolver(self, name: str) -> Resolver:
        def resolve(other: str | None) -> Source | None:
            if other is None:
                return self.input_of(name)
            if other not in self.ids and short_type(str(self.by_name.get(other, {}).get("type"))) != "webhook":
                return None
            return self.output_of(other)
        return resolve


def convert(document: dict[str, Any]) -> tuple[str, Graph, Report]:
    name = str(document.get("name") or "Imported from n8n")
    conversion = Conversion(document, Draft(name=name))
    draft = conversion.draft
    raw_nodes = [n for n in document.get("nodes", []) if isinstance(n, dict)]
    # Pass 1: names, entries, ids.
    for index, node in enumerate(raw_nodes):
        node_name = str(node.get("name") or node.get("id") or f"node {index + 1}")
        node["name"] = node_name
        entry = draft.report.add(str(node.get("type") or "(no type)"), node_name)
        if node_name in conversion.by_name:
            entry.review(f"a second node is named '{node_name}': n8n connects by name, so it has no connections")
            node_name = f"{node_name} ({index + 1})"
            node["name"] = node_name
        conversion.by_name[node_name] = node
        conversion.entries[node_name] = entry
        if short_type(entry.type) not in DROPPED and not node.get("disabled"):
            conversion.ids[node_name] = draft.new_id(node_name, "n")
            draft.nodes[conversion.ids[node_name]] = None  # type: ignore[assignment]  # reserved; filled below
    connections = document.get("connections")
    for source, outputs in (connections.items() if isinstance(connections, dict) else []):
        main = outputs.get("main") if isinstance(outputs, dict) else None
        for out_index, targets in enumerate(main if isinstance(main, list) else []):
            for target in targets if isinstance(targets, list) else []:
                if not isinstance(target, dict):
                    continue
                target_name = str(target.get("node"))
                if source not in conversion.by_name or target_name not in conversion.by_name:
                    missing = source if source not in conversion.by_name else target_name
                    where = conversion.entries.get(source) or conversion.entries.get(target_name)
                    if where is not None:
                        where.review(f"a connection names '{missing}', which is not in the workflow: it was ignored")
                    elif draft.report.entries:
                        draft.report.entries[0].note(f"a connection between '{source}' and '{target_name}', "
                                                     "neither in the workflow, was ignored")
                    continue
                slot = int(number(target.get("index"), 0))
                conversion.inputs.setdefault(target_name, []).append((source, out_index, slot))
    for feeding in conversion.inputs.values():
        feeding.sort(key=lambda f: f[2])
    # Pass 2: configs, in source order (an expression may read any node's id, known from pass 1).
    for node in raw_nodes:
        node_name = node["name"]
        entry = conversion.entries[node_name]
        x, y = _position(node)
        kind = short_type(entry.type)
        if node.get("disabled"):
            entry.note("dropped: it is disabled in n8n, which passes its input on", None)
            continue
        if kind in DROPPED:
            continue
        node_id = conversion.ids[node_name]
        del draft.nodes[node_id]
        _convert_node(conversion, node, entry, kind, x, y, node_id)
    # Edges.
    for target_name, feeding in conversion.inputs.items():
        for source, out_index, slot in feeding:
            _edge(conversion, source, out_index, target_name, slot)
    for node in raw_nodes:
        kind = short_type(str(node.get("type")))
        respond_id = conversion.ids.get(node["name"])
        if kind in DROPPED or node.get("disabled"):
            continue
        if respond_id is not None and respond_id in draft.nodes and kind == "respondToWebhook":
            draft.drop(respond_id, "dropped: the webhook answers with the run's last step's output (responseMode "
                                "lastNode)")
    _dropped_pass_through(conversion, raw_nodes)
    return name, draft.finish(), draft.report


def _dropped_pass_through(conversion: Conversion, raw_nodes: list[dict[str, Any]]) -> None:
    """noOp and disabled nodes pass items on: their inputs lead to their outputs."""
    draft = conversion.draft
    for node in raw_nodes:
        kind = short_type(str(node.get("type")))
        if kind == "stickyNote":
            conversion.entries[node["name"]].note(DROPPED[kind])
            continue
        if kind != "noOp" and not node.get("disabled"):
            continue
        entry = conversion.entries[node["name"]]
        if kind == "noOp":
            entry.note(DROPPED["noOp"])
        ins = conversion.inputs.get(node["name"], [])
        outs = [(t, o) for t, feeding in conversion.inputs.items() for s, o, _ in feeding if s == node["name"]
                for _ in [0]]
        for source, out_index, _slot in ins:
            for target, _ in outs:
                _edge(conversion, source, out_index, target, 0, seen={node["name"]})


def _edge(conversion: Conversion, source: str, out_index: int, target: str, slot: int,
          seen: set[str] | None = None) -> None:
    draft = conversion.draft
    source_id, target_id = conversion.ids.get(source), conversion.ids.get(target)
    if source_id is None or target_id is None or source_id not in draft.nodes or target_id not in draft.nodes:
        return  # a dropped end: bridged by _dropped_pass_through
    node = draft.nodes[source_id]
    handle = _handle(conversion, source, node.type, node.config, out_index)
    if handle == "":
        conversion.entries[source].review(f"its output {out_index + 1} has no counterpart: the connection to "
                                          f"'{target}' was dropped")
        return
    draft.connect(source_id, target_id, handle, slot)


def _handle(conversion: Conversion, name: str, type_: str, config: dict[str, Any], out_index: int) -> str | None:
    """The handle an n8n output index leaves from; "" when none."""
    raw = conversion.by_name[name]
    if type_ == "if":
        return ["true", "false"][out_index] if out_index < 2 else ""
    if type_ == "loop":
        v3 = number(raw.get("typeVersion"), 1) >= 3
        if v3:
            return ["done", "each"][out_index] if out_index < 2 else ""
        return "each" if out_index == 0 else ""
    if type_ == "switch":
        outputs: dict[int, str] = raw.get("_outputs", {})
        return outputs.get(out_index, "")
    if type_ == "wait":
        return "received" if config.get("resume") == "webhook" else "approved"
    return None if out_index == 0 else ""


# n8n draws 100 px square nodes about 200 px apart; ours are about 180 px wide, so the layout is kept but spread.
_SPREAD_X, _SPREAD_Y = 1.75, 1.25


def _position(node: dict[str, Any]) -> tuple[float, float]:
    position = node.get("position")
    if isinstance(position, list) and len(position) >= 2:
        return number(position[0], 0) * _SPREAD_X, number(position[1], 0) * _SPREAD_Y
    return 0.0, 0.0


def _settings(node: dict[str, Any], entry: Entry) -> NodeSettings | None:
    retry, on_error = None, "fail"
    if node.get("retryOnFail"):
        tries = max(1, min(10, int(number(node.get("maxTries"), 3))))
        wait_ms = max(1, min(3_600_000, int(number(node.get("waitBetweenTries"), 1000))))
        retry = RetryPolicy(maxAttempts=tries, initialIntervalMs=wait_ms, backoffCoefficient=1.0,
                            maxIntervalMs=max(wait_ms, 60_000))
    if node.get("continueOnFail") or node.get("onError") in ("continueRegularOutput", "continueErrorOutput"):
        on_error = "continue"
        if node.get("onError") == "continueErrorOutput":
            entry.review("n8n sent errors to a separate output; here the next steps run and can read its error")
    if retry is None and on_error == "fail":
        return None
    return NodeSettings(retry=retry or RetryPolicy(), onError=on_error)  # type: ignore[arg-type]


def _translate(conversion: Conversion, name: str, value: Any, entry: Entry) -> Any:
    done: Translated = n8n_value(value, conversion.resolver(name))
    for problem in done.problems:
        entry.review(problem)
    return done.value


def _convert_node(conversion: Conversion, node: dict[str, Any], entry: Entry, kind: str, x: float, y: float,
                  node_id: str) -> None:
    draft = conversion.draft
    params = node.get("parameters") if isinstance(node.get("parameters"), dict) else {}
    assert isinstance(params, dict)
    version = number(node.get("typeVersion"), 1)
    name = node["name"]
    converter = _CONVERTERS.get(kind)
    if converter is None:
        why = ("a trigger this tool has no counterpart for" if "trigger" in kind.lower()
               else "no node type here does what it does")
        draft.placeholder(entry, x, y, why, node_id=node_id)
        return
    try:
        type_, config = converter(conversion, name, params, version, entry)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
        draft.placeholder(entry, x, y, f"its settings could not be read ({error})", node_id=node_id)
        return
    settings = _settings(node, entry) if type_ in ("http", "code", "subworkflow") else None
    draft.add(entry, type_, config, x, y, settings, node_id=node_id)


Converted = tuple[str, dict[str, Any]]


def _start(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    return "start", {}


def _webhook(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    methods = p.get("httpMethod", "GET")
    if p.get("multipleMethods") and isinstance(methods, list):
        chosen = [str(m).upper() for m in methods]
    else:
        chosen = [str(methods).upper()]
    kept = [m for m in dict.fromkeys(chosen) if m in HTTP_METHODS]
    if len(kept) < len(chosen):
        e.review(f"methods {', '.join(m for m in chosen if m not in kept)} are not accepted here")
    mode = str(p.get("responseMode") or "onReceived")
    config: dict[str, Any] = {"methods": kept or ["POST"], "responseMode": "onReceived"}
    if mode in ("lastNode", "responseNode"):
        config["responseMode"] = "lastNode"
        if mode == "responseNode" or p.get("responseData") not in (None, "firstEntryJson", "allEntries"):
            e.review("answers with the run's last step's output when done (lastNode); n8n answered what its "
                     "Respond to Webhook node or responseData said: check the answer's shape")
    if p.get("path"):
        e.note(f"n8n's path '{p['path']}' is not kept: the workflow gets its own URL when saved")
    if p.get("authentication") not in (None, "none"):
        e.review(f"n8n checked {p['authentication']}: set Check the signature, or put the check in the flow")
    return "webhook", config


def _schedule(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    rules = (p.get("rule") or {}).get("interval") or [{}]
    if len(rules) > 1:
        e.review(f"n8n fired on {len(rules)} rules: only the first is kept")
    rule = rules[0] if isinstance(rules[0], dict) else {}
    field_ = rule.get("field", "days")
    hour, minute = int(number(rule.get("triggerAtHour"), 0)), int(number(rule.get("triggerAtMinute"), 0))
    if field_ in ("seconds", "minutes", "hours"):
        every = int(number(rule.get(f"{field_}Interval"), 1)) * _UNITS[field_]
        return "schedule", {"intervalSeconds": max(1, every)}
    if field_ == "days":
        days = int(number(rule.get("daysInterval"), 1))
        return "schedule", {"cron": f"{minute} {hour} {'*' if days <= 1 else f'*/{days}'} * *"}
    if field_ == "weeks":
        weekdays = rule.get("triggerAtDay") or [0]
        if int(number(rule.get("weeksInterval"), 1)) > 1:
            e.review("every few weeks is not kept: it fires every week")
        return "schedule", {"cron": f"{minute} {hour} * * {','.join(str(int(number(d, 0))) for d in weekdays)}"}
    if field_ == "months":
        months = int(number(rule.get("monthsInterval"), 1))
        day = int(number(rule.get("triggerAtDayOfMonth"), 1))
        return "schedule", {"cron": f"{minute} {hour} {day} {'*' if months <= 1 else f'*/{months}'} *"}
    if field_ == "cronExpression":
        return "schedule", {"cron": _cron(str(rule.get("expression", "")), e)}
    raise ValueError(f"unknown schedule rule {field_!r}")


def _cron(expression: str, e: Entry) -> str:
    fields = expression.split()
    if len(fields) == 6:
        e.review(f"n8n's cron had seconds ({expression}): they are dropped")
        fields = fields[1:]
    return " ".join(fields)


def _cron_node(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    items = (p.get("triggerTimes") or {}).get("item") or [{"mode": "everyDay"}]
    if len(items) > 1:
        e.review(f"n8n fired on {len(items)} times: only the first is kept")
    item = items[0]
    mode = item.get("mode", "everyDay")
    hour, minute = int(number(item.get("hour"), 14)), int(number(item.get("minute"), 0))
    if mode == "everyMinute":
        return "schedule", {"intervalSeconds": 60}
    if mode == "everyHour":
        return "schedule", {"cron": f"{minute} * * * *"}
    if mode == "everyDay":
        return "schedule", {"cron": f"{minute} {hour} * * *"}
    if mode == "everyWeek":
        return "schedule", {"cron": f"{minute} {hour} * * {int(number(item.get('weekday'), 1))}"}
    if mode == "everyMonth":
        return "schedule", {"cron": f"{minute} {hour} {int(number(item.get('dayOfMonth'), 1))} * *"}
    if mode == "everyX":
        unit = 60 if item.get("unit", "hours") == "minutes" else 3600
        return "schedule", {"intervalSeconds": max(1, int(number(item.get("value"), 2)) * unit)}
    if mode == "custom":
        return "schedule", {"cron": _cron(str(item.get("cronExpression", "")), e)}
    raise ValueError(f"unknown cron mode {mode!r}")


def _pairs(c: Conversion, name: str, items: Any, e: Entry) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("name"):
            out[str(item["name"])] = str(_translate(c, name, item.get("value", ""), e))
    return out


def _v4_pairs(c: Conversion, name: str, p: dict[str, Any], kind: str, pairs_key: str, e: Entry) -> dict[str, str]:
    """httpRequest v4's query or headers: JSON (`specify<kind>: json`, `json<kind>`) or name/value pairs
    (`<pairs_key>.parameters`)."""
    if p.get(f"specify{kind}") == "json":
        parsed = _json_param(c, name, p.get(f"json{kind}"), e)
        return {str(k): str(val) for k, val in parsed.items()} if isinstance(parsed, dict) else {}
    return _pairs(c, name, (p.get(pairs_key) or {}).get("parameters"), e)


def _json_param(c: Conversion, name: str, value: Any, e: Entry) -> Any:
    """A JSON parameter: parsed when it is literal JSON, else kept as a template."""
    if isinstance(value, str) and not value.startswith("="):
        try:
            return json.loads(value) if value.strip() else None
        except ValueError:
            e.review("its JSON did not parse: kept as text")
            return value
    translated = _translate(c, name, value, e)
    if isinstance(translated, str) and "{{" in translated and not re.fullmatch(r"\s*\{\{.*\}\}\s*", translated, re.S):
        e.review("its JSON body mixes text and expressions: it is sent as text; check it")
    return translated


def _http(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    method = str(p.get("method") or p.get("requestMethod") or "GET").upper()
    if method not in HTTP_METHODS:
        e.review(f"method {method} is not supported here: GET is used")
        method = "GET"
    url = str(_translate(c, name, p.get("url", ""), e)).strip()
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    config: dict[str, Any] = {"method": method}
    body: Any = None
    form: dict[str, str] | None = None
    if v < 4:
        query = _pairs(c, name, (p.get("queryParametersUi") or {}).get("parameter"), e)
        headers = _pairs(c, name, (p.get("headerParametersUi") or {}).get("parameter"), e)
        if p.get("jsonParameters"):
            for key, target in (("queryParametersJson", query), ("headerParametersJson", headers)):
                parsed = _json_param(c, name, p.get(key), e)
                if isinstance(parsed, dict):
                    target.update({str(k): str(val) for k, val in parsed.items()})
                elif parsed:
                    e.review(f"{key} was not an object: dropped")
            body = _json_param(c, name, p.get("bodyParametersJson"), e)
        else:
            pairs = _pairs(c, name, (p.get("bodyParametersUi") or {}).get("parameter"), e)
            body = pairs or None
        if p.get("responseFormat") in ("string", "file"):
            e.review(f"n8n read the response as {p['responseFormat']}; here a JSON response is parsed")
    else:
        if p.get("sendQuery"):
            query = _v4_pairs(c, name, p, "Query", "queryParameters", e)
        if p.get("sendHeaders"):
            headers = _v4_pairs(c, name, p, "Headers", "headerParameters", e)
        if p.get("sendBody"):
            content = p.get("contentType", "json")
            if content == "raw":
                body = str(_translate(c, name, p.get("body", ""), e))
                if p.get("rawContentType"):
                    headers.setdefault("Content-Type", str(p["rawContentType"]))
                config["body"] = body
                body = None
            elif content == "form-urlencoded":
                form = _pairs(c, name, (p.get("bodyParameters") or {}).get("parameters"), e)
            elif content in ("multipart-form-data", "binaryData"):
                e.review(f"a {content} body is not supported here: it was dropped")
            elif p.get("specifyBody") == "json":
                body = _json_param(c, name, p.get("jsonBody"), e)
            else:
                body = _pairs(c, name, (p.get("bodyParameters") or {}).get("parameters"), e) or None
        response = ((p.get("options") or {}).get("response") or {}).get("response") or {}
        if response.get("fullResponse"):
            e.review("n8n returned the full response; here body, status and headers are separate outputs")
    if form:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        config["body"] = urlencode(form)
        if any("{{" in value for value in form.values()):
            e.review("form fields with expressions are sent unencoded: check them")
    if body is not None and body != "" and body != {}:
        config["json_body"] = body
    if query:
        literal = {k: val for k, val in query.items() if "{{" not in val}
        templated = "&".join(f"{k}={val}" for k, val in query.items() if "{{" in val)
        joined = "&".join(filter(None, [urlencode(literal), templated]))
        url = f"{url}{'&' if '?' in url else '?'}{joined}" if joined else url
    if not re.match(r"^\s*(https?://|\{\{)", url, re.I):
        e.review(f"its URL '{url[:200]}' is not a full http(s) URL: replace the placeholder")
        url = "https://example.invalid/replace-me" if not url.startswith("{{") else url
    config["url"] = url
    config["headers"] = headers
    timeout = (p.get("options") or {}).get("timeout")
    if timeout is not None:
        config["timeoutMs"] = max(1, min(300_000, int(number(timeout, 30_000))))
    auth = p.get("authentication")
    credentials = c.by_name[name].get("credentials")
    if (auth not in (None, "none") or credentials) and isinstance(credentials, dict) and credentials:
        kind, value = next(iter(credentials.items()))
        label = value.get("name") if isinstance(value, dict) else value
        config["auth"] = {"credentialName": credential_name(str(label or kind))}
        e.review(f"it used the n8n credential '{label}' ({kind}): add a credential named "
                 f"'{config['auth']['credentialName']}' (sent as Authorization: Bearer) or change the step")
    elif auth not in (None, "none"):
        e.review(f"it used {auth} authentication with no credential named: add one")
    return "http", config


def credential_name(label: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", label).strip("-")[:CREDENTIAL_NAME_MAX] or "imported-credential"
    return name if re.fullmatch(CREDENTIAL_NAME_PATTERN, name) else "imported-credential"


_COMPARE = {"equal": "==", "equals": "==", "notEqual": "!=", "notEquals": "!=", "larger": ">", "gt": ">",
            "smaller": "<", "lt": "<", "largerEqual": ">=", "gte": ">=", "smallerEqual": "<=", "lte": "<="}


def _comparison(c: Conversion, name: str, left: Any, operation: str, right: Any, e: Entry) -> str | None:
    lhs = n8n_operand(left, c.resolver(name))
    rhs = n8n_operand(right, c.resolver(name))
    for problem in lhs.problems + rhs.problems:
        e.review(problem)
    a, b = lhs.value, rhs.value
    if operation in _COMPARE:
        return f"{a} {_COMPARE[operation]} {b}"
    simple = {"true": f"{a} == true", "false": f"{a} == false", "isEmpty": f"not {a}", "empty": f"not {a}",
              "isNotEmpty": f"{a}", "notEmpty": f"{a}", "contains": f"{b} in {a}", "notContains": f"{b} not in {a}",
              "startsWith": f"({a} | string).startswith({b})", "endsWith": f"({a} | string).endswith({b})",
              "exists": f"{a} is defined", "notExists": f"{a} is not defined"}
    if operation in simple:
        if operation in ("exists", "notExists"):
            e.review("'exists' reads a field that may be missing; a missing field fails the step here: check it")
        return simple[operation]
    return None


def _conditions(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> str:
    """An If's or Filter's conditions as one expression."""
    parts: list[str] = []
    conditions = p.get("conditions")
    joiner = " and "
    if isinstance(conditions, dict) and isinstance(conditions.get("conditions"), list):  # v2 and filter
        joiner = " or " if conditions.get("combinator") == "or" else " and "
        for condition in conditions["conditions"]:
            operator = condition.get("operator") or {}
            operation = str(operator.get("operation", "equals"))
            expr = _comparison(c, name, condition.get("leftValue"), operation, condition.get("rightValue"), e)
            if expr is None:
                e.review(f"the {operator.get('type', '')} operation '{operation}' has no counterpart: check the condition")
                expr = "false"
            parts.append(f"({expr})")
    elif isinstance(conditions, dict):  # v1: {boolean: [...], number: [...], string: [...]}
        joiner = " or " if p.get("combineOperation") == "any" else " and "
        for kind, items in conditions.items():
            for condition in items if isinstance(items, list) else []:
                default = "equal"
                operation = str(condition.get("operation", default))
                right = condition.get("value2", True if kind == "boolean" else "")
                expr = _comparison(c, name, condition.get("value1"), operation, right, e)
                if expr is None:
                    e.review(f"the {kind} operation '{operation}' has no counterpart: check the condition")
                    expr = "false"
                parts.append(f"({expr})")
    if not parts:
        e.review("it had no conditions: the condition is true, so the true branch is taken; write one")
        return "true"
    if p.get("options", {}).get("caseSensitive") is False or (
            isinstance(conditions, dict) and (conditions.get("options") or {}).get("caseSensitive") is False):
        e.review("n8n compared text ignoring case; here the comparison is exact")
    return joiner.join(parts)


def _if(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    return "if", {"condition": _conditions(c, name, p, v, e)}


def _filter(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    e.review("a Filter keeps the items that match; here it is an If whose true branch goes on (the false branch is "
             "left unconnected), deciding once for the step's input")
    return "if", {"condition": _conditions(c, name, p, v, e)}


def _case(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _switch(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    raw = c.by_name[name]
    outputs: dict[int, str] = {}
    cases: list[str] = []
    value: str | None = None

    def add_case(case: str, output: int) -> None:
        case = case[:64] or "empty"
        if case == "default" or case in cases:
            case = f"{case}_{output}"[:64]
        cases.append(case)
        outputs.setdefault(output, case)

    if v < 3:
        if p.get("mode") == "expression":
            raise ValueError("its output is chosen by an expression")
        value_t = n8n_operand(p.get("value1", ""), c.resolver(name))
        for problem in value_t.problems:
            e.review(problem)
        value = "{{ " + str(value_t.value) + " }}"
        rules = (p.get("rules") or {}).get("rules") or []
        for index, rule in enumerate(rules):
            operation = rule.get("operation", "equal")
            if operation not in ("equal", "equals"):
                e.review(f"rule {index + 1} compares with '{operation}', not equality: it is treated as equality")
            add_case(_case(rule.get("value2", "")), int(number(rule.get("output"), index)))
        fallback = int(number(p.get("fallbackOutput"), -1))
        if fallback >= 0:
            outputs[fallback] = "default"
    else:
        rules = (p.get("rules") or {}).get("values") or []
        lefts: set[str] = set()
        for index, rule in enumerate(rules):
            conditions = ((rule.get("conditions") or {}).get("conditions") or [{}])
            condition = conditions[0]
            operation = (condition.get("operator") or {}).get("operation", "equals")
            if operation != "equals" or len(conditions) > 1:
                e.review(f"rule {index + 1} is not a single equality: it is treated as one")
            left = n8n_operand(condition.get("leftValue", ""), c.resolver(name))
            for problem in left.problems:
                e.review(problem)
            lefts.add(str(left.value))
            right = condition.get("rightValue", "")
            right = right[1:] if isinstance(right, str) and right.startswith("=") and "{{" not in right else right
            add_case(rule.get("outputKey") or _case(right), index)
        if len(lefts) > 1:
            e.review("its rules compare different values: the first rule's value is used for all")
        value = "{{ " + (sorted(lefts)[0] if lefts else '""') + " }}"
        fallback_option = (p.get("options") or {}).get("fallbackOutput")
        if fallback_option == "extra":
            outputs[len(rules)] = "default"
        elif fallback_option not in (None, "none"):
            outputs[int(number(fallback_option, -1))] = "default"
    if not cases:
        e.review("it had no rules: every item takes default")
        cases = ["none"]
    raw["_outputs"] = outputs
    return "switch", {"value": value, "cases": cases}


def _set(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    values: dict[str, Any] = {}
    if v < 3:
        for kind, items in (p.get("values") or {}).items():
            for item in items if isinstance(items, list) else []:
                values[str(item.get("name", ""))] = _translate(c, name, item.get("value", ""), e)
        if not p.get("keepOnlySet"):
            e.review("n8n kept the input's other fields too; here the step outputs only these values")
    else:
        if p.get("mode") == "raw":
            parsed = _json_param(c, name, p.get("jsonOutput", "{}"), e)
            if isinstance(parsed, dict):
                values.update(parsed)
            else:
                values["json"] = parsed
                e.review("its JSON output is kept as one value 'json': check it")
        assignments = (p.get("assignments") or {}).get("assignments")
        if assignments is None:  # 3.0–3.2: fields.values with typed value fields
            assignments = [{"name": f.get("name"), "value": next((f[k] for k in f if k.endswith("Value")), "")}
                           for f in (p.get("fields") or {}).get("values") or []]
        for item in assignments:
            values[str(item.get("name", ""))] = _translate(c, name, item.get("value", ""), e)
        if p.get("includeOtherFields") or p.get("include") not in (None, "none"):
            e.review("n8n kept the input's other fields too; here the step outputs only these values")
    values = {k: v_ for k, v_ in values.items() if k.strip()}
    if not values:
        e.review("it set no values: a placeholder value 'value' is set")
        values = {"value": ""}
    if len(values) > 100:
        e.review(f"it set {len(values)} values: the first 100 are kept")
        values = dict(list(values.items())[:100])
    return "set", {"values": values}


def _wait(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    resume = p.get("resume", "timeInterval")
    if resume in ("webhook", "form"):
        timeout = 24 * 3600
        if p.get("limitWaitTime"):
            timeout = int(number(p.get("resumeAmount"), 1) * _UNITS.get(str(p.get("resumeUnit", "hours")), 3600))
        if resume == "form":
            e.review("n8n waited for a form; here a person approves or rejects on a page")
        else:
            e.review("it waits for a POST to the step's resume URL (shown in the run), not n8n's $execution.resumeUrl")
        return "wait", {"resume": "approval" if resume == "form" else "webhook",
                        "timeoutSeconds": max(1, min(timeout, 30 * 86400))}
    if resume == "specificTime":
        e.review(f"n8n waited until {p.get('dateTime', 'a set time')}: here it waits one hour; change it")
        return "delay", {"seconds": 3600}
    amount = number(p.get("amount"), 1 if v < 1.1 else 5)
    unit = str(p.get("unit", "hours" if v < 1.1 else "seconds"))
    seconds = amount * _UNITS.get(unit, 1)
    if seconds <= 0 or seconds > 30 * 86400:
        e.review(f"it waited {amount} {unit}; a delay is 0 < seconds ≤ 30 days: one minute is set")
        seconds = 60
    return "delay", {"seconds": seconds}


def _merge(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    mode = str(p.get("mode", "append"))
    if mode == "append":
        return "merge", {"mode": "append"}
    if mode in ("wait", "chooseBranch"):
        if mode == "chooseBranch":
            e.review("n8n went on with one chosen input; here the outputs of both, by step id")
        return "merge", {"mode": "wait_all"}
    e.review(f"n8n's '{mode}' merge combines items; here the outputs are joined by step id (wait_all): check it")
    return "merge", {"mode": "wait_all"}


def _loop(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    source = c.input_of(name)
    if source is not None:
        items = "{{ " + source.base + " }}"
        if source.base.startswith("payload"):
            items = "{{ payload.body }}"
    else:
        feeding = sorted(c.inputs.get(name, []), key=lambda f: c.downstream_of(name, f[0]))
        before = c.ids.get(feeding[0][0]) if feeding else None
        before_type = short_type(str(c.by_name[feeding[0][0]].get("type"))) if feeding else ""
        if before is not None and before_type in ("code", "function", "functionItem", "executeWorkflow"):
            items = "{{ steps." + before + ".output }}"
            e.review(f"it loops over what '{feeding[0][0]}' returns: make that a list")
        else:
            items = "{{ [] }}"
            e.review("what it loops over could not be told from its input: set Items to a list")
    e.review("n8n split its input items into batches; here Items must be a list: check that the expression gives one")
    size = int(number(p.get("batchSize"), 1))
    if size > 1:
        e.review(f"n8n ran batches of {size}; here the body runs once per item")
    if v < 3:
        e.review("in v1 and v2 the loop's end is found by an If reading noItemsLeft: connect what follows to 'done'")
    return "loop", {"items": items, "concurrency": 1, "onItemError": "stop"}


def _code(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    code = p.get("jsCode") or p.get("functionCode") or p.get("code") or ""
    if p.get("language") == "python":
        e.review("it is Python: only JavaScript runs here; rewrite it")
        code = "/* Python from n8n:\n" + str(p.get("pythonCode", "")).replace("*/", "* /") + "\n*/\nreturn {};"
    if not str(code).strip():
        code = "return {};"
    e.review("n8n code reads items, $input and $json and returns items; here it reads payload and steps.<id>.output "
             "and returns one JSON value: rewrite those parts")
    return "code", {"language": "javascript", "code": str(code)[:64 * 1024]}


def _subworkflow(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    reference = p.get("workflowId", "")
    if isinstance(reference, dict):
        reference = reference.get("value", "")
    workflow_id = re.sub(r"[^A-Za-z0-9_-]", "", str(reference))[:64] or "replace-me"
    e.review(f"it ran n8n workflow '{reference}': import that one too, save it, and pick it here")
    wait = (p.get("options") or {}).get("waitForSubWorkflow", True)
    return "subworkflow", {"workflowId": workflow_id, "inputs": {}, "waitForCompletion": bool(wait)}


def _respond(c: Conversion, name: str, p: dict[str, Any], v: float, e: Entry) -> Converted:
    with_ = p.get("respondWith", "firstIncomingItem")
    if with_ not in ("firstIncomingItem", "allIncomingItems", "noData"):
        e.review(f"it answered with {with_} ({str(p.get('responseBody', ''))[:300]}): here the webhook answers the "
                 "last step's output; put that answer in a Set step at the end")
    if (p.get("options") or {}).get("responseCode") not in (None, 200):
        e.review(f"its status {(p.get('options') or {}).get('responseCode')} is not kept")
    return "set", {"values": {"respond": ""}}  # replaced: dropped once edges are made


_CONVERTERS = {
    "manualTrigger": _start, "start": _start, "webhook": _webhook, "scheduleTrigger": _schedule, "cron": _cron_node,
    "httpRequest": _http, "if": _if, "filter": _filter, "switch": _switch, "set": _set, "wait": _wait,
    "merge": _merge, "splitInBatches": _loop, "code": _code, "function": _code, "functionItem": _code,
    "executeWorkflow": _subworkflow, "respondToWebhook": _respond,
}
