"""Node-RED flows (the exported array of nodes, each with `wires`) → a graph. Mappings in docs/IMPORT.md."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from schemas import Graph

from .draft import Draft, number, reachable
from .expressions import Resolver, Source, jinja_path, mustache, path_parts
from .n8n import HTTP_METHODS, credential_name
from .report import Entry, Report

CONFIG_OR_TAB = {"tab", "subflow", "group"}
DROPPED = {"debug": "dropped: a debug node only shows messages in the editor",
           "comment": "dropped: a comment on the canvas",
           "http response": "dropped: the webhook answers with the run's last step's output (responseMode lastNode)",
           "link in": "dropped: links are joined directly", "link out": "dropped: links are joined directly",
           "junction": "dropped: a junction only routes wires"}
PASS_THROUGH = {"switch", "delay", "http response", "debug", "link in", "link out", "junction", "catch"}
_UNITS = {"milliseconds": 0.001, "seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


@dataclass
class Conversion:
    draft: Draft
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # Node-RED id → ours
    entries: dict[str, Entry] = field(default_factory=dict)
    inputs: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def output_of(self, rid: str, seen: frozenset[str] = frozenset()) -> Source | None:
        node = self.by_id.get(rid)
        if node is None or rid in seen:
            return None
        kind, our = node.get("type"), self.ids.get(rid, "")
        if kind == "http in":
            return Source("payload.body")
        if kind == "http request":
            return Source(f"steps.{our}.output.body")
        if kind == "change":
            return Source(f"steps.{our}.output")
        if kind == "template":
            if str(node.get("field") or "payload") == "payload":
                return Source(f"steps.{our}.output.payload")
            return self.input_of(rid, seen | {rid})
        if kind == "split":
            return Source("loop.item")
        if kind in PASS_THROUGH:
            return self.input_of(rid, seen | {rid})
        return None

    def input_of(self, rid: str, seen: frozenset[str] = frozenset()) -> Source | None:
        feeding = self.inputs.get(rid, [])
        return self.output_of(feeding[0][0], seen) if feeding else None

    def resolver(self, rid: str) -> Resolver:
        """msg.payload at this node: what its input's producer output (only msg.payload has a counterpart; the
        path after `payload` reads that output). Node-RED names no other node, so the name asked for is unused."""
        def resolve(_other: str | None) -> Source | None:
            source = self.input_of(rid)
            return Source(source.base, None) if source is not None else None
        return resolve


def msg_path(c: Conversion, rid: str, path: str, entry: Entry) -> str | None:
    path = path.strip()
    if path.startswith("msg."):
        path = path[4:]
    if path == "payload" or path.startswith("payload.") or path.startswith("payload["):
        rest = path[len("payload"):]
        source = c.input_of(rid)
        if source is None:
            entry.review(f"msg.{path}: what msg.payload holds here could not be told; check it")
            return None
        return jinja_path(source.base, path_parts(rest))
    if path.startswith("req.") and c.input_of(rid) is not None and c.input_of(rid).base == "payload.body":  # type: ignore[union-attr]
        parts = path.split(".")
        if len(parts) >= 2 and parts[1] in ("query", "headers"):
            return "payload." + ".".join(parts[1:])
    if path in ("statusCode", "headers"):
        source = c.input_of(rid)
        if source is not None and source.base.startswith("steps.") and source.base.endswith(".output.body"):
            return source.base[: -len(".body")] + (".status" if path == "statusCode" else ".headers")
    entry.review(f"msg.{path} has no counterpart here: check it")
    return None


def convert(flow: list[dict[str, Any]]) -> tuple[str, Graph, Report]:
    tabs = [n for n in flow if n.get("type") == "tab"]
    name = str((tabs[0].get("label") if tabs else None) or "Imported from Node-RED")
    c = Conversion(Draft(name=name))
    draft = c.draft
    for node in flow:  # types are names and wires lists of lists, whatever the file says
        node["type"] = str(node.get("type"))
        if "wires" in node:
            wires = node["wires"] if isinstance(node["wires"], list) else []
            node["wires"] = [[str(t) for t in w if isinstance(t, (str, int))] if isinstance(w, list) else []
                             for w in wires]
    nodes = [n for n in flow if n.get("type") not in CONFIG_OR_TAB and ("wires" in n or "x" in n)]
    skipped = [n for n in flow if n not in nodes and n.get("type") not in CONFIG_OR_TAB]
    for index, node in enumerate(nodes):
        rid = str(node.get("id") or f"node-{index + 1}")
        node["id"] = rid
        label = str(node.get("name") or node.get("label") or node.get("type"))
        entry = draft.report.add(str(node.get("type")), label)
        if rid in c.by_id:
            entry.review(f"a second node has id '{rid}': wires to it reach the first one")
            rid = f"{rid}-{index + 1}"
            node["id"] = rid
        c.by_id[rid], c.entries[rid] = node, entry
        if node.get("d"):
            entry.note("dropped: it is disabled in Node-RED")
            continue
        c.ids[rid] = draft.new_id(label, "n")
        draft.nodes[c.ids[rid]] = None  # type: ignore[assignment]  # reserved
    for node in skipped:
        entry = draft.report.add(str(node.get("type")), str(node.get("name") or node.get("id")))
        entry.note("a configuration node: nothing to run; what it configured is noted on the nodes using it")
    for rid, node in c.by_id.items():
        for out_index, targets in enumerate(node.get("wires") or []):
            for target in targets if isinstance(targets, list) else []:
                if str(target) not in c.by_id:
                    c.entries[rid].review(f"a wire leads to '{target}', which is not in the flow: it was ignored")
                    continue
                c.inputs.setdefault(str(target), []).append((rid, out_index))
    for rid, node in c.by_id.items():
        if rid not in c.ids:
            continue
        del draft.nodes[c.ids[rid]]
        _convert_node(c, rid, node, c.entries[rid])
    for target, feeding in c.inputs.items():
        for source, out_index in feeding:
            _edge(c, source, out_index, target)
    _fold(c)
    return name, draft.finish(), draft.report


def _edge(c: Conversion, source: str, out_index: int, target: str) -> None:
    draft = c.draft
    s, t = c.ids.get(source), c.ids.get(target)
    if s is None or t is None or s not in draft.nodes or t not in draft.nodes:
        return
    node = draft.nodes[s]
    handle: str | None = None
    outputs: dict[int, str] = c.by_id[source].get("_outputs", {})
    if outputs:
        handle = outputs.get(out_index, "")
    elif node.type == "loop":
        handle = "each"
    elif out_index > 0:
        handle = ""
    if handle == "":
        c.entries[source].review(f"its output {out_index + 1} has no counterpart: the wire to it was dropped")
        return
    draft.connect(s, t, handle)


def _fold(c: Conversion) -> None:
    """Drop what has no step of its own (debug, comment, http response, links), bridging pass-through ones;
    join closes a split's loop; a catch's flow belongs to an error workflow."""
    draft = c.draft
    for rid, node in c.by_id.items():
        our = c.ids.get(rid)
        kind = node.get("type")
        if our is None or our not in draft.nodes:
            continue
        if kind == "join":
            _join(c, rid, our)
        elif kind == "catch":
            doomed, todo = set(), [our]
            while todo:
                current = todo.pop()
                if current in doomed:
                    continue
                doomed.add(current)
                todo += [e.target for e in draft.children(current)
                         if all(p.source in doomed or p.source == current for p in draft.parents(e.target))]
            for node_id in doomed:
                entry = draft.nodes[node_id].entry
                entry.review("part of a catch flow: it belongs in an error workflow; import this flow's catch part "
                             "as its own workflow and name it as this workflow's error workflow")
                draft.drop(node_id, "dropped from this workflow (catch flow)", bridge=False)
        elif kind in DROPPED:
            draft.drop(our, DROPPED[str(kind)])


def _join(c: Conversion, rid: str, our: str) -> None:
    """A join after a split: the split is a loop, the steps between are its body, and what follows the join
    follows the loop's 'done'."""
    draft = c.draft
    split: str | None = None
    todo, seen = [our], set()
    while todo and split is None:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for edge in draft.parents(current):
            if draft.nodes[edge.source].type == "loop":
                split = edge.source
                break
            todo.append(edge.source)
    entry = draft.nodes[our].entry
    outs = draft.children(our)
    if split is not None:
        for edge in outs:
            draft.connect(split, edge.target, "done")
        entry.review(f"a join after a split: what follows it now follows the loop's 'done' (its results are in "
                     f"steps.{split}.output.results)")
        draft.drop(our, "dropped (folded into the loop)", bridge=False)
    else:
        entry.review("a join with no split before it: kept as a Merge")


# Node-RED draws its nodes about 120 px wide in rows 40-60 px apart; ours are about 180 × 80 px, so the layout is kept
# but spread.
_SPREAD_X, _SPREAD_Y = 1.6, 2.0


def _convert_node(c: Conversion, rid: str, node: dict[str, Any], entry: Entry) -> None:
    kind = str(node.get("type"))
    x, y = number(node.get("x"), 0) * _SPREAD_X, number(node.get("y"), 0) * _SPREAD_Y
    node_id = c.ids[rid]
    if kind in DROPPED:
        c.draft.add(entry, "merge", {"mode": "wait_all"}, x, y, node_id=node_id)  # dropped in _fold
        return
    converter = _CONVERTERS.get(kind)
    if converter is None:
        c.draft.placeholder(entry, x, y, "no node type here does what it does", node_id=node_id)
        return
    try:
        type_, config = converter(c, rid, node, entry)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
        c.draft.placeholder(entry, x, y, f"its settings could not be read ({error})", node_id=node_id)
        return
    c.draft.add(entry, type_, config, x, y, node_id=node_id)


Converted = tuple[str, dict[str, Any]]


def _http_in(c: Conversion, rid: str, n: dict[str, Any], e: Entry) -> Converted:
    method = str(n.get("method", "get")).upper()
    methods = list(HTTP_METHODS) if method == "ALL" else [method if method in HTTP_METHODS else "POST"]
    responds = any(c.by_id[t].get("type") == "http response" for t in _downstream(c, rid))
    if n.get("url"):
        e.note(f"Node-RED's path '{n['url']}' is not kept: the workflow gets its own URL when saved")
    if responds:
        e.note("an http response node answers it: the webhook answers with the run's last step's output")
    return "webhook", {"methods": sorted(methods), "responseMode": "lastNode" if responds else "onReceived"}


def _downstream(c: Conversion, rid: str) -> set[str]:
    def wired(node: str) -> list[str]:
        return [str(t) for targets in c.by_id[node].get("wires") or [] if isinstance(targets, list)
                for t in targets if str(t) in c.by_id]
    return reachable(wired(rid), wired)


def _inject(c: Conversion, rid: str, n: dict[str, Any], e: Entry) -> Converted:
    if n.get("payloadType") not in (None, "date") or n.get("props") and any(
            p.get("p") == "payload" and p.get("vt") not in (None, "date") for p in n["props"]):
        e.review(f"it injected a payload ({str(n.get('payload', ''))[:200]}): a run here starts with the payload given "
                 "to it; steps reading msg.payload need checking")
    repeat = number(n.get("repeat"), 0)
    if repeat > 0:
        return "schedule", {"intervalSeconds": max(1, int(repeat))}
    crontab = str(n.get("crontab") or "").strip()
    if crontab:
        fields = crontab.split()
        if len(fields) == 6:
            fields = fields[1:]
            e.review("its crontab had seconds: they are dropped")
        if any("-" in f and "/" in f for f in fields):
            e.review(f"its crontab '{crontab}' is an interval between times: check the cron")
        return "schedule", {"cron": " ".join(fields)}
    if n.get("once"):
        e.note("it fired once on deploy: here a run is started by hand (Run, or POST /v1/runs)")
    return "start", {}


def _http_request(c: Conversion, rid: str, n: dict[str, Any], e: Entry) -> Converted:
    method = str(n.get("method", "GET")).upper()
    if method not in HTTP_METHODS:
        e.review(f"method {method} (msg.method sets it) is not known here: GET is used")
        method = "GET"
    url = str(n.get("url") or "")
    translated = mustache(url, c.resolver(rid))
    for problem in translated.problems:
        e.review(problem)
    url = str(translated.value)
    if not url:
        e.review("its URL came from msg.url: set the URL")
    if not re.match(r"^\s*(https?://|\{\{)", url, re.I):
        if url and not url.startswith("{{"):
            url = "http://" + url if re.match(r"^[\w.-]+(:\d+)?(/|$)", url) else url
        if not re.match(r"^\s*(https?://|\{\{)", url, re.I):
            url = "https://example.invalid/replace-me"
    config: dict[str, Any] = {"method": method, "url": url, "headers": {}}
    for header in n.get("headers") or []:
        if isinstance(header, dict) and header.get("keyType") != "msg":
            key = header.get("keyValue") if header.get("keyType") == "other" else header.get("keyType")
            value = header.get("valueValue") if header.get("valueType") == "other" else header.get("valueType")
            config["headers"][str(key)] = str(value)
    if method in ("POST", "PUT", "PATCH"):
        source = msg_path(c, rid, "payload", e)
        if source is not None:
            config["json_body"] = "{{ " + source + " }}"
            e.note("its body is msg.payload, as in Node-RED")
    if n.get("paytoqs") not in (None, False, "ignore"):
        e.review("Node-RED added msg.payload to the query string: add it to the URL")
    if n.get("authType") or n.get("credentials"):
        config["auth"] = {"credentialName": credential_name(str(n.get("name") or "node-red-credential"))}
        e.review(f"it used {n.get('authType') or 'credentials'} authentication: add the credential "
                 f"'{config['auth']['credentialName']}' (sent as Authorization: Bearer)")
    if n.get("ret") in ("txt", "bin"):
        e.note("Node-RED gave the body as text; here a JSON response is parsed")
    if n.get("tls") or n.get("proxy"):
        e.review("its TLS or proxy settings are not kept")
    return "http", config


_SWITCH_OPS = {"eq": "==", "neq": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def _rule_value(rule: dict[str, Any]) -> str:
    vt, v = rule.get("vt", "str"), rule.get("v", "")
    if vt == "num":
        return json.dumps(number(v, 0))
    if vt == "bool":
        return "true" if str(v) == "true" else "false"
    return json.dumps(str(v))


def _switch(c: Conversion, rid: str, n: dict[str, Any], e: Entry) -> Converted:
    prop_type = n.get("propertyType", "msg")
    prop = str(n.get("property", "payload"))
    subject = msg_path(c, rid, prop, e) if prop_type == "msg" else None
    if subject is None:
        e.review(f"it tested {prop_type}.{prop}: set what the branches compare")
        subject = "none"
    rules: list[dict[str, Any]] = [r for r in n.get("rules") or [] if isinstance(r, dict)]
    kinds = [r.get("t") for r in rules]
    if kinds and all(k == "eq" for k in kinds[:-1]) and kinds[-1] in ("eq", "else") and \
            (len(rules) > 1 or kinds[0] == "eq") and not (len(rules) == 2 and kinds[-1] == "else"):
        cases: list[str] = []
        outputs: dict[int, str] = {}
        for index, rule in enumerate(rules):
            if rule.get("t") == "else":
                outputs[index] = "default"
                continue
            case = str(rule.get("v", ""))[:64] or "empty"
            if case == "default" or case in cases:
                case = f"{case}_{index + 1}"[:64]
            cases.append(case)
            outputs[index] = case
        if n.get("checkall", "true") == "true" and len(set(cases)) < len(cases):
            e.review("Node-RED sent a message down every matching rule; here only one branch runs")
        n["_outputs"] = outputs
        return "switch", {"value": "{{ " + subject + " }}", "cases": cases}
    if 1 <= len(rules) <= 2 and (len(rules) == 1 or kinds[1] == "else"):
        rule = rules[0]
        t = rule.get("t")
        if t in _SWITCH_OPS:
            condition = f"{subject} {_SWITCH_OPS[str(t)]} {_rule_value(rule)}"
        elif t in ("true", "false"):
            condition = f"{subject} == {t}"
        elif t in ("null", "nnull"):
            condition = f"{subject} is {'none' if t == 'null' else 'not none'}"
        elif t in ("empty", "nempty"):
            condition = f"{'not ' if t == 'empty' else ''}{subject}"
        elif t == "cont":
            condition = f"{_rule_value(rule)} in {subject}"
        else:
            e.review(f"the rule '{t}' has no counterpart: check the condition")
            condition = "false"
        n["_outputs"] = {0: "true", 1: "false"}
        if len(rules) == 1:
            e.note("a single rule: an If whose false branch is left unconnected")
        return "if", {"condition": condition}
    e.review(f"its rules ({', '.join(str(k) for k in kinds)}) are not all equalities: each becomes a case to check")
    cases = [f"rule_{i + 1}" for i in range(len(rules))] or ["rule_1"]
    n["_outputs"] = {i: case for i, case in enumerate(cases)}
    return "switch", {"value": "{{ " + subject + " }}", "cases": cases}


def _change(c: Conversion, rid: str, n: dict[str, Any], e: Entry) -> Converted:
    values: dict[str, Any] = {}
    for rule in n.get("rules") or []:
        t, p = rule.get("t"), str(rule.get("p", ""))
        if t != "set" or rule.get("pt", "msg") != "msg":
            e.review(f"a '{t}' of {rule.get('pt', 'msg')}.{p} has no counterpart: check it")
            continue
        key = p[len("payload."):] if p.startswith("payload.") else p
        tot, to = rule.get("tot", "str"), rule.get("to", "")
        if tot == "msg":
            path = msg_path(c, rid, str(to), e)
            values[key] = "{{ " + path + " }}" if path else f"msg.{to}"
        elif tot == "num":
            values[key] = number(to, 0)
        elif tot == "bool":
            values[key] = str(to) == "true"
        elif tot == "json":
            try:
                values[key] = json.loads(str(to))
            except ValueError:
                values[key] = str(to)
        elif tot == "date":
            values[key] = "{{ now() }}"
            e.review("a timestamp: check the expression")
        elif tot in ("str", None):
            values[key] = str(to)
        else:
            e.review(f"a value of type {tot} ({str(to)[:200]}) is kept as text: check it")
            values[key] = str(to)
        if p == "payload":
            e.review("it replaced msg.payload as a whole: here that is one value named 'payload'")
    if not values:
        values = {"value": ""}
        e.review("nothing it did has a counterpart: a placeholder value is set")
    e.note("the step's output holds these values only (Node-RED kept the rest of msg)")
    return "set", {"values": values}


def _function(c: Conversion, rid: str, n: dict[str, Any], e: Entry) -> Converted:
    code = str(n.get("func") or "return msg;")
    e.review("Node-RED code reads and returns msg; here it reads payload and steps.<id>.output and returns one JSON "
             "value (msg semantics): rewrite those parts")
    if int(number(n.get("outputs"), 1)) > 1:
        e.review("it had several outputs: here one")
    return "code", {"language": "javascript", "code": "const msg = { payload };\n" + code}


def _delay(c: Conversion, rid: str, n: dict[str, Any], e: Entry) -> Converted:
    kind = n.get("pauseType", "delay")
    if kind != "delay":
        e.review(f"a '{kind}' delay (rate limit, random or from msg.delay) is a fixed delay here")
    seconds = number(n.get("timeout"), 5) * _UNITS.get(str(n.get("timeoutUnits", "seconds")), 1)
    if kind == "rate":
        seconds = number(n.get("nbRateUnits"), 1) * _UNITS.get(str(n.get("rateUnits", "second")) + "s", 1) / max(
            1, number(n.get("rate"), 1))
    if not 0 < seconds <= 30 * 86400:
        e.review("its time is outside 0 < seconds ≤ 30 days: one second is set")
        seconds = 1
    return "delay", {"seconds": seconds}


def _template(c: Conversion, rid: str, n: dict[str, Any], e: Entry) -> Converted:
    text = str(n.get("template", ""))
    translated = mustache(text, c.resolver(rid))
    for problem in translated.problems:
        e.review(problem)
    e.review("a template becomes a Set step with the text as one value: check the placeholders")
    field_ = str(n.get("field") or "payload")
    value: Any = translated.value
    if n.get("output") == "json":
        e.review("Node-RED parsed the result as JSON; here it stays text")
    return "set", {"values": {field_: value or " "}}


def _split(c: Conversion, rid: str, n: dict[str, Any], e: Entry) -> Converted:
    source = msg_path(c, rid, "payload", e)
    e.review("a split becomes a Loop over msg.payload: the steps up to the join run once per item, and read "
             "{{ loop.item }}")
    return "loop", {"items": "{{ " + (source or "[]") + " }}", "concurrency": 1, "onItemError": "stop"}


def _join_node(c: Conversion, rid: str, n: dict[str, Any], e: Entry) -> Converted:
    return "merge", {"mode": "append"}


def _catch(c: Conversion, rid: str, n: dict[str, Any], e: Entry) -> Converted:
    return "merge", {"mode": "wait_all"}  # dropped with its flow in _fold


_CONVERTERS = {
    "http in": _http_in, "inject": _inject, "http request": _http_request, "switch": _switch, "change": _change,
    "function": _function, "delay": _delay, "template": _template, "split": _split, "join": _join_node, "catch": _catch,
}
