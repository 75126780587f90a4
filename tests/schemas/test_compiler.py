from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from schemas import Workflow, WorkflowInvalid, compile_workflow, run_inputs
from schemas.expressions import MIXED_EXPRESSION

WORKFLOW: TypeAdapter[Any] = TypeAdapter(Workflow)


def node(node_id: str, node_type: str = "http", **config: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"label": node_id.title()}
    if node_type == "http":
        data["config"] = {"method": "POST", "url": "https://example.test/hook", **config}
    return {"id": node_id, "type": node_type, "position": {"x": 0, "y": 0}, "data": data}


def edge(source: str, target: str, edge_id: str | None = None) -> dict[str, Any]:
    return {"id": edge_id or f"{source}-{target}", "source": source, "target": target}


def compile_dict(document: dict[str, Any]) -> Any:
    return compile_workflow(WORKFLOW.validate_python(document))


def rejection(document: dict[str, Any]) -> list[tuple[str, str, str | None, str | None]]:
    with pytest.raises(WorkflowInvalid) as caught:
        compile_dict(document)
    return [(i.field, i.reason, i.nodeId, i.edgeId) for i in caught.value.issues]


def test_diamond_compiles_in_topological_order_with_deps() -> None:
    dag = compile_dict({
        "nodes": [node("join"), node("left"), node("start", "start"), node("right")],
        "edges": [edge("start", "left"), edge("start", "right"), edge("left", "join"), edge("right", "join")],
        "meta": {"name": "Diamond"},
    })
    order = [s.id for s in dag.steps]
    assert order[0] == "start" and order[-1] == "join"
    deps = {s.id: s.deps for s in dag.steps}
    assert deps == {"start": [], "left": ["start"], "right": ["start"], "join": ["left", "right"]}
    assert {s.id: s.type for s in dag.steps}["left"] == "http", "steps are named by node type; http_request_node is an alias"
    assert dag.workflowName == "Diamond"


def test_legacy_metadata_name_is_accepted() -> None:
    dag = compile_dict({"nodes": [node("start", "start")], "edges": [], "metadata": {"name": "Old export"}})
    assert dag.workflowName == "Old export"


def test_template_format_becomes_start_then_steps() -> None:
    dag = compile_dict({
        "name": "Two calls",
        "definition": {"steps": [
            {"type": "http_request_node", "config": {"method": "GET", "url": "https://a.test"}},
            {"type": "http_request_node", "name": "Second", "config": {"method": "POST", "url": "https://b.test"}},
        ]},
    })
    assert [(s.id, s.deps) for s in dag.steps] == [("start", []), ("step_1", ["start"]), ("step_2", ["step_1"])]
    assert dag.steps[2].name == "Second" and dag.workflowName == "Two calls"


def test_cycle_is_rejected_naming_its_nodes() -> None:
    issues = rejection({
        "nodes": [node("start", "start"), node("a"), node("b")],
        "edges": [edge("start", "a"), edge("a", "b"), edge("b", "a")],
    })
    assert len(issues) == 1
    field, reason, node_id, _ = issues[0]
    assert "cycle" in reason and "a" in reason and "b" in reason
    assert node_id in {"a", "b"} and field.startswith("graph.nodes[")


def test_edge_to_unknown_node_names_the_edge() -> None:
    issues = rejection({"nodes": [node("start", "start")], "edges": [edge("start", "ghost", "e9")]})
    assert ("graph.edges[0].target", "edge 'e9' points to unknown node 'ghost'", None, "e9") in issues


def test_duplicate_node_ids() -> None:
    issues = rejection({"nodes": [node("start", "start"), node("a"), node("a")], "edges": [edge("start", "a")]})
    assert [i[0] for i in issues] == ["graph.nodes[1].id", "graph.nodes[2].id"]
    assert all("duplicate node id 'a'" == i[1] for i in issues)


def test_unknown_node_type() -> None:
    issues = rejection({"nodes": [node("start", "start"), node("x", "ftp")], "edges": [edge("start", "x")]})
    assert issues[0][0] == "graph.nodes[1].type" and "unknown node type 'ftp'" in issues[0][1]
    assert issues[0][2] == "x"


def test_no_start_node() -> None:
    issues = rejection({"nodes": [node("a")], "edges": []})
    assert issues == [("graph.nodes", "the workflow needs a trigger: one Start, Webhook or Schedule node", None, None)]


def test_several_start_nodes() -> None:
    issues = rejection({"nodes": [node("s1", "start"), node("s2", "start")], "edges": []})
    assert "2 Start nodes" in issues[0][1] and issues[0][2] == "s2"


def test_edge_into_start() -> None:
    issues = rejection({"nodes": [node("start", "start"), node("a")], "edges": [edge("start", "a"), edge("a", "start")]})
    assert issues[0][0] == "graph.edges[1].target" and "Start cannot have inputs" in issues[0][1]


def test_unreachable_node() -> None:
    issues = rejection({"nodes": [node("start", "start"), node("a"), node("island")], "edges": [edge("start", "a")]})
    assert issues == [("graph.nodes[2]", "node 'island' is not reachable from Start; connect it or remove it", "island", None)]


@pytest.mark.parametrize(
    ("config", "field", "reason_part"),
    [
        ({"url": "ftp://example.test"}, "graph.nodes[1].data.config.url", "http:// or https://"),
        ({"method": "FETCH"}, "graph.nodes[1].data.config.method", "'GET', 'POST', 'PUT', 'PATCH' or 'DELETE'"),
        ({"timeoutMs": 0}, "graph.nodes[1].data.config.timeoutMs", "greater than or equal to 1"),
        ({"headers": {"Bad Header": "x"}}, "graph.nodes[1].data.config.headers", "invalid header name"),
        ({"body": "x", "json_body": {"a": 1}}, "graph.nodes[1].data.config", "either body or json_body"),
    ],
)
def test_invalid_http_config_names_field_and_reason(config: dict[str, Any], field: str, reason_part: str) -> None:
    issues = rejection({"nodes": [node("start", "start"), node("call", **config)], "edges": [edge("start", "call")]})
    assert issues[0][0] == field, issues
    assert reason_part in issues[0][1]
    assert issues[0][2] == "call"


def test_missing_url_is_reported() -> None:
    document = {"nodes": [node("start", "start"), {"id": "call", "type": "http", "data": {"config": {}}}],
                "edges": [edge("start", "call")]}
    issues = rejection(document)
    assert issues[0][:2] == ("graph.nodes[1].data.config.url", "Field required")


def test_all_problems_are_reported_together() -> None:
    issues = rejection({
        "nodes": [node("start", "start"), node("a", url="nope"), node("b", "mystery")],
        "edges": [edge("start", "a"), edge("a", "zzz")],
    })
    fields = {i[0] for i in issues}
    assert {"graph.nodes[1].data.config.url", "graph.nodes[2].type", "graph.edges[1].target"} <= fields


def test_template_errors_name_the_template_fields() -> None:
    issues = rejection({"name": "T", "definition": {"steps": [
        {"type": "http_request_node", "config": {"url": "https://ok.test"}},
        {"type": "http_request_node", "config": {"url": "mailto:someone"}},
        {"type": "carrier_pigeon", "config": {}},
    ]}})
    fields = {i[0] for i in issues}
    assert fields == {"graph.definition.steps[1].config.url", "graph.definition.steps[2].type"}


@pytest.mark.parametrize(
    ("url", "reason_part"),
    [("http://example.test:99999/x", "not a valid URL"), ("https:///path-only", "needs a host"),
     ("https://example.test/a b", "must not contain spaces")],
)
def test_bad_urls_are_rejected_up_front(url: str, reason_part: str) -> None:
    issues = rejection({"nodes": [node("start", "start"), node("call", url=url)], "edges": [edge("start", "call")]})
    assert issues[0][0] == "graph.nodes[1].data.config.url" and reason_part in issues[0][1]


def test_header_values_with_line_breaks_are_rejected() -> None:
    issues = rejection({"nodes": [node("start", "start"), node("call", headers={"X-A": "a\r\nInjected: 1"})],
                        "edges": [edge("start", "call")]})
    assert issues[0][0] == "graph.nodes[1].data.config.headers" and "line breaks" in issues[0][1]


def if_node(node_id: str = "check") -> dict[str, Any]:
    return {"id": node_id, "type": "if", "data": {"config": {"condition": "{{ payload.n > 1 }}"}}}


def branch(source: str, target: str, handle: str | None) -> dict[str, Any]:
    return {"id": f"{source}-{target}", "source": source, "target": target, "sourceHandle": handle}


@pytest.mark.parametrize("bad_id", ["a ", "a.b", "", "x" * 65, "ü", "a/b"])
def test_node_ids_outside_the_pattern_are_rejected_naming_the_node(bad_id: str) -> None:
    if bad_id == "":
        with pytest.raises(Exception):  # noqa: B017 - the model refuses an empty id before the compiler
            compile_dict({"nodes": [node("start", "start"), node(bad_id)], "edges": []})
        return
    issues = rejection({"nodes": [node("start", "start"), node(bad_id)], "edges": [edge("start", bad_id)]})
    assert issues[0][0] == "graph.nodes[1].id" and issues[0][2] == bad_id
    assert "letters, digits, _ and -" in issues[0][1]


def test_ids_a_and_a_space_no_longer_collide() -> None:
    issues = rejection({"nodes": [node("start", "start"), node("a"), node("a ")],
                        "edges": [edge("start", "a"), edge("start", "a ", "e2")]})
    assert [i[2] for i in issues] == ["a "]


def test_branch_handles_are_kept_in_the_dag() -> None:
    dag = compile_dict({
        "nodes": [node("start", "start"), if_node(), node("yes"), node("no"), node("join")],
        "edges": [edge("start", "check"), branch("check", "yes", "true"), branch("check", "no", "false"),
                  edge("yes", "join"), edge("no", "join")],
    })
    steps = {s.id: s for s in dag.steps}
    assert steps["yes"].branches == {"check": ["true"]} and steps["no"].branches == {"check": ["false"]}
    assert steps["join"].branches == {} and steps["join"].deps == ["yes", "no"]
    assert [s.id for s in dag.steps] == ["start", "check", "yes", "no", "join"], "graph order among equals"


def test_an_edge_from_a_branching_node_must_name_its_output() -> None:
    issues = rejection({"nodes": [node("start", "start"), if_node(), node("a")],
                        "edges": [edge("start", "check"), branch("check", "a", None)]})
    assert issues == [("graph.edges[1].sourceHandle",
                       "an edge from 'check' (If) must say which output it leaves from: true, false", "check", "check-a")]


def test_an_unknown_handle_is_rejected_with_the_outputs_offered() -> None:
    switch = {"id": "route", "type": "switch", "data": {"config": {"value": "{{ payload.region }}", "cases": ["eu", "us"]}}}
    issues = rejection({"nodes": [node("start", "start"), switch, node("a")],
                        "edges": [edge("start", "route"), branch("route", "a", "asia")]})
    assert issues[0][1] == "node 'route' has no output 'asia' (its outputs: eu, us, default)"


def test_settings_are_validated_and_kept_for_action_nodes() -> None:
    flaky = node("a")
    flaky["data"]["settings"] = {"retry": {"maxAttempts": 3}, "onError": "continue"}
    dag = compile_dict({"nodes": [node("start", "start"), flaky], "edges": [edge("start", "a")]})
    settings = dag.step("a").settings
    assert settings is not None and settings.retry.maxAttempts == 3 and settings.onError == "continue"
    flaky["data"]["settings"] = {"retry": {"maxAttempts": 11}}
    with pytest.raises(Exception, match="maxAttempts"):
        compile_dict({"nodes": [node("start", "start"), flaky], "edges": [edge("start", "a")]})


def test_switch_cases_must_be_distinct_and_not_default() -> None:
    switch = {"id": "route", "type": "switch", "data": {"config": {"value": "x", "cases": ["eu", "eu"]}}}
    issues = rejection({"nodes": [node("start", "start"), switch], "edges": [edge("start", "route")]})
    assert issues[0][0] == "graph.nodes[1].data.config.cases" and "appears twice" in issues[0][1]


def test_delay_seconds_are_bounded() -> None:
    for seconds in (0, 30 * 24 * 3600 + 1):
        wait = {"id": "wait", "type": "delay", "data": {"config": {"seconds": seconds}}}
        issues = rejection({"nodes": [node("start", "start"), wait], "edges": [edge("start", "wait")]})
        assert issues[0][0] == "graph.nodes[1].data.config.seconds"


def test_a_template_may_read_only_steps_that_run_before_it() -> None:
    def reading(template: str) -> dict[str, Any]:
        return node("b", url="https://b.example/", json_body={"x": template})

    ok = {"nodes": [node("start", "start"), node("a"), reading("{{ steps.a.output.body.id }}")],
          "edges": [edge("start", "a"), edge("a", "b")]}
    compile_dict(ok)
    for template, reason in [
        ("{{ steps.nope.output.id }}", "reads steps.nope, but there is no step 'nope'"),
        ("{{ steps['b'].output }}", "reads its own output, which does not exist yet"),
    ]:
        bad = {"nodes": [node("start", "start"), node("a"), reading(template)], "edges": [edge("start", "a"), edge("a", "b")]}
        assert rejection(bad) == [("graph.nodes[2].data.config.json_body", reason, "b", None)]
    sibling = {"nodes": [node("start", "start"), node("a"), reading("{{ steps.a.output }}")],
               "edges": [edge("start", "a"), edge("start", "b")]}
    [(field, reason, node_id, _)] = rejection(sibling)
    assert node_id == "b" and "does not run before this step" in reason


# The run inputs a workflow asks for when Run is pressed: the server's rule, which the builder only displays.
def chain_of(*configs: dict[str, Any]) -> dict[str, Any]:
    ids = [f"n{i}" for i in range(len(configs))]
    return {
        "nodes": [node("start", "start")] + [node(i, **c) for i, c in zip(ids, configs, strict=True)],
        "edges": [edge(a, b) for a, b in zip(["start", *ids[:-1]], ids, strict=True)],
        "meta": {"name": "Inputs"},
    }


def test_run_inputs_are_read_from_templated_fields_in_run_order_once_each() -> None:
    dag = compile_dict(chain_of(
        {"url": "https://x.example/{{ inputs.team }}/{{steps.start.output}}",
         "headers": {"X-Id": "{{payload.id}}"}},
        {"url": "https://y.example/{{team}}", "body": "hello {{ payload . name | upper }} {{getCredential('k')}}"},
        {"url": "https://z.example", "json_body": {"{{keyInput}}": [1, "{{payload.id}}", "{{ true }}", "{{ 42 }}"]}},
    ))
    # Names (JSON keys) are not rendered, so a {{…}} in one is no input; inputs.team is team;
    # payload is what the trigger brings, never an input to ask for.
    assert run_inputs(dag) == ["team"]


def test_run_inputs_drop_a_path_another_one_extends() -> None:
    dag = compile_dict(chain_of({"url": "https://x.example/{{customer}}/{{customer.email}}"}))
    assert run_inputs(dag) == ["customer.email"]


def test_run_inputs_are_empty_without_templates() -> None:
    dag = compile_dict(chain_of({"url": "https://x.example", "json_body": {"text": "hi {not a template}"}}))
    assert run_inputs(dag) == []


def condition_graph(condition: str) -> dict[str, Any]:
    check = {"id": "check", "type": "if", "data": {"config": {"condition": condition}}}
    return {"nodes": [node("start", "start"), check, node("big")], "edges": [edge("start", "check"),
            branch("check", "big", "true")], "meta": {"name": "Conditions"}}


@pytest.mark.parametrize("condition", ["{{ amount }} > 100", "{{ a > 1 }} and {{ b > 1 }}", "amount > {{ limit }}",
                                       "amount }} > 100"])
def test_a_condition_mixing_text_and_braces_is_refused_saying_how_to_write_it(condition: str) -> None:
    assert rejection(condition_graph(condition)) == [
        ("graph.nodes[1].data.config.condition", MIXED_EXPRESSION, "check", None)]


@pytest.mark.parametrize(("condition", "inputs"), [
    ("amount > 100", ["amount"]),  # bare: one expression, so `amount` is an input
    ("{{ order.total > 100 }}", ["order.total"]),
    ("payload.body.amount > 100", []),  # what the trigger brings is never an input
    ("1 > 2", []),
    ("steps.start.output.x", []),
])
def test_a_bare_condition_reads_its_inputs_like_a_braced_one(condition: str, inputs: list[str]) -> None:
    assert run_inputs(compile_dict(condition_graph(condition))) == inputs


@pytest.mark.parametrize(("headers", "reason"), [
    ({"X-A": "a\x00b"}, "must not contain control characters"),
    ({"X-A": "a\x7fb"}, "must not contain control characters"),
    ({"X A": "v"}, "invalid header name"),
    ({"{{name}}": "v"}, "invalid header name"),
    ({"X-Ä": "v"}, "invalid header name"),
])
def test_header_names_and_values_a_request_cannot_carry_are_refused(headers: dict[str, str], reason: str) -> None:
    issues = rejection({"nodes": [node("start", "start"), node("call", headers=headers)], "edges": [edge("start", "call")]})
    assert issues[0][0] == "graph.nodes[1].data.config.headers" and reason in issues[0][1], issues


def test_a_tab_in_a_header_value_is_fine() -> None:
    compile_dict({"nodes": [node("start", "start"), node("call", headers={"X-A": "a\tb"})], "edges": [edge("start", "call")]})


@pytest.mark.parametrize("name", ["a b", "", "x" * 65, "a..b", "ключ"])
def test_a_credential_name_the_store_cannot_hold_is_refused_when_the_graph_is_checked(name: str) -> None:
    issues = rejection({"nodes": [node("start", "start"), node("call", headers={"Authorization": f"{{{{ getCredential('{name}') }}}}"})],
                        "edges": [edge("start", "call")]})
    assert issues[0][0] == "graph.nodes[1].data.config.headers" and "a credential name is 1 to 64" in issues[0][1], issues


@pytest.mark.parametrize(("methods", "reason"), [
    (["FETCH"], "Input should be 'GET', 'POST', 'PUT', 'PATCH' or 'DELETE'"),
    ([], "at least 1 item"),
    (["POST", "POST"], "lists a method twice"),
    ("POST", "valid list"),
])
def test_a_webhooks_methods_are_checked_naming_the_field(methods: object, reason: str) -> None:
    hook = {"id": "hook", "type": "webhook", "data": {"config": {"methods": methods}}}
    issues = rejection({"nodes": [hook, node("call")], "edges": [edge("hook", "call")]})
    assert issues[0][0].startswith("graph.nodes[0].data.config.methods") and reason in issues[0][1], issues


def test_a_step_the_orchestrator_completes_may_not_use_credentials_in_its_templates() -> None:
    """A wait's message and a subworkflow's inputs are rendered by a worker and kept in the run: no secret there."""
    graph = TypeAdapter(Workflow).validate_python({
        "nodes": [{"id": "start", "type": "start"},
                  {"id": "ask", "type": "wait", "data": {"config": {"message": "key {{ getCredential('stripe') }}"}}},
                  {"id": "sub", "type": "subworkflow", "data": {"config": {
                      "workflowId": "wf_1", "inputs": {"key": "{{ getCredential('stripe') }}"}}}}],
        "edges": [{"id": "e1", "source": "start", "target": "ask"},
                  {"id": "e2", "source": "ask", "target": "sub", "sourceHandle": "approved"}]})
    with pytest.raises(WorkflowInvalid) as raised:
        compile_workflow(graph)
    fields = {issue.field: issue.reason for issue in raised.value.issues}
    assert set(fields) == {"graph.nodes[1].data.config.message", "graph.nodes[2].data.config.inputs"}
    assert all("cannot use credentials" in reason for reason in fields.values())
