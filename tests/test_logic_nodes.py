"""The logic palette end to end on a real nats-server, with real HTTP to a local mock: if, switch, set,
typed values, continue-on-fail, and the order router a new user builds."""

from __future__ import annotations

import pytest

from tests.support.graphs import edge, graph, http, node, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack


def order_router(mock_http: MockHttp) -> dict[str, object]:
    """Start → get order → if amount > 500 → Slack / else → set → HTTP, then a join after both."""
    return graph(
        http("get_order", mock_http.url("/order"), method="GET"),
        node("big", "if", condition="{{ steps.get_order.output.body.amount > 500 }}"),
        http("slack", mock_http.url("/slack"), json_body={"text": "Big order {{ steps.get_order.output.body.id }}"}),
        node("summary", "set", values={"orderId": "{{ steps.get_order.output.body.id }}",
                                       "amount": "{{ steps.get_order.output.body.amount }}",
                                       "label": "order {{ steps.get_order.output.body.id }}"}),
        http("book", mock_http.url("/book"), json_body={"amount": "{{ steps.summary.output.amount }}",
                                                         "label": "{{ steps.summary.output.label }}"}),
        http("audit", mock_http.url("/audit"), json_body={"id": "{{ steps.get_order.output.body.id }}"}),
        edges=[edge("start", "get_order"), edge("get_order", "big"), edge("big", "slack", "true"),
               edge("big", "summary", "false"), edge("summary", "book"), edge("slack", "audit"), edge("book", "audit")],
    )


async def test_if_true_takes_slack_skips_else_and_the_join_runs(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/order", Reply(status=200, body={"id": "A-17", "amount": 900}))
    record = await stack.finish(await stack.start_run(order_router(mock_http)))
    steps = steps_by_id(record)
    assert record["status"] == "succeeded", record["error"]
    assert steps["big"]["output"] == {"result": True} and steps["big"]["handles"] == ["true"]
    assert steps["slack"]["status"] == "succeeded"
    assert steps["summary"]["status"] == steps["book"]["status"] == "skipped"
    assert "branch not taken" in steps["summary"]["skipReason"]
    assert steps["audit"]["status"] == "succeeded", "a join runs when one parent ran on a taken path"
    assert mock_http.requests_to("/slack")[0].json() == {"text": "Big order A-17"}
    assert mock_http.requests_to("/book") == []
    assert mock_http.requests_to("/audit")[0].json() == {"id": "A-17"}


async def test_if_false_takes_set_and_typed_values_arrive_typed(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/order", Reply(status=200, body={"id": "B-2", "amount": 120}))
    record = await stack.finish(await stack.start_run(order_router(mock_http)))
    steps = steps_by_id(record)
    assert record["status"] == "succeeded", record["error"]
    assert steps["slack"]["status"] == "skipped" and steps["book"]["status"] == "succeeded"
    assert steps["summary"]["output"] == {"orderId": "B-2", "amount": 120, "label": "order B-2"}
    sent = mock_http.requests_to("/book")[0].json()
    assert sent == {"amount": 120, "label": "order B-2"} and isinstance(sent["amount"], int)
    assert [s["id"] for s in record["steps"]] == ["start", "get_order", "big", "slack", "summary", "book", "audit"]


async def test_switch_routes_by_case_and_falls_back_to_default(stack: Stack, mock_http: MockHttp) -> None:
    def routed(region: str) -> dict[str, object]:
        return graph(
            node("route", "switch", value="{{ payload.region }}", cases=["eu", "us"]),
            http("eu", mock_http.url("/eu")), http("us", mock_http.url("/us")), http("other", mock_http.url("/other")),
            edges=[edge("start", "route"), edge("route", "eu", "eu"), edge("route", "us", "us"),
                   edge("route", "other", "default")],
        )

    for region, taken in (("us", "us"), ("asia", "other")):
        record = await stack.finish(await stack.start_run(routed(region), inputs={"payload": {"region": region}}))
        steps = steps_by_id(record)
        assert record["status"] == "succeeded", record["error"]
        assert steps["route"]["output"] == {"value": region, "matched": "default" if taken == "other" else taken}
        assert {s for s in ("eu", "us", "other") if steps[s]["status"] == "succeeded"} == {taken}
    assert len(mock_http.requests_to("/us")) == 1 and len(mock_http.requests_to("/other")) == 1
    assert mock_http.requests_to("/eu") == []


async def test_continue_on_fail_offers_the_error_downstream_and_the_run_succeeds(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/flaky", Reply(status=400, body={"message": "bad order"}))
    document = graph(
        http("flaky", mock_http.url("/flaky"), settings={"onError": "continue"}),
        http("report", mock_http.url("/report"), json_body={"error": "{{ steps.flaky.error }}",
                                                             "status": "{{ steps.flaky.output.status }}"}),
        edges=[edge("start", "flaky"), edge("flaky", "report")],
    )
    record = await stack.finish(await stack.start_run(document))
    steps = steps_by_id(record)
    assert record["status"] == "succeeded"
    assert steps["flaky"]["status"] == "failed" and steps["flaky"]["errorHandled"] is True
    sent = mock_http.requests_to("/report")[0].json()
    assert sent["status"] == 400 and sent["error"].startswith("HTTP 400")


async def test_hyphenated_ids_work_through_the_subscript_form(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/page", Reply(status=200, body={"id": "p-9"}))
    document = graph(
        http("create-page", mock_http.url("/page")),
        http("notify", mock_http.url("/notify"), json_body={"page": "{{ steps['create-page'].output.body.id }}"}),
        edges=[edge("start", "create-page"), edge("create-page", "notify")],
    )
    record = await stack.finish(await stack.start_run(document))
    assert record["status"] == "succeeded", record["error"]
    assert mock_http.requests_to("/notify")[0].json() == {"page": "p-9"}


async def test_a_bad_node_id_is_a_422_naming_the_node(stack: Stack) -> None:
    document = graph(http("a ", "https://example.test/"), edges=[edge("start", "a ")])
    status, body = await stack.post_run(document)
    assert status == 422
    [issue] = body["error"]["fields"]
    assert issue["field"] == "graph.nodes[1].id" and issue["nodeId"] == "a "


async def test_node_types_are_served_from_the_registry(stack: Stack) -> None:
    assert stack.http is not None
    async with stack.http.get(f"{stack.base_url}/v1/node-types") as response:
        assert response.status == 200
        body = await response.json()
    by_type = {t["type"]: t for t in body["nodeTypes"]}
    assert list(by_type) == ["start", "webhook", "schedule", "http", "if", "switch", "set", "code", "delay", "wait", "loop",
                            "merge", "subworkflow", "llm", "agent", "mcp_tool"]
    assert by_type["loop"]["completes"] == "children" and by_type["http"]["completes"] == "worker"
    assert [h["id"] for h in by_type["if"]["outputs"]] == ["true", "false"]
    assert by_type["switch"]["dynamicOutputs"]["field"] == "cases"
    assert by_type["http"]["configSchema"]["properties"]["method"]["enum"] == ["GET", "POST", "PUT", "PATCH", "DELETE"]
    assert by_type["http"]["ui"]["errorHandling"] is True and by_type["start"]["kind"] == "trigger"
    assert "retry" in body["settingsSchema"]["properties"]


async def test_bad_settings_and_handles_are_422s_naming_the_field(stack: Stack) -> None:
    flaky = http("call", "https://example.test/", settings={"retry": {"maxAttempts": 11}, "onError": "shrug"})
    status, body = await stack.post_run(graph(flaky, edges=[edge("start", "call")]))
    assert status == 422
    fields = {issue["field"] for issue in body["error"]["fields"]}
    assert fields == {"graph.nodes[1].data.settings.retry.maxAttempts", "graph.nodes[1].data.settings.onError"}

    branching = graph(node("check", "if", condition="{{ true }}"), http("a", "https://example.test/"),
                      edges=[edge("start", "check"), edge("check", "a")])
    status, body = await stack.post_run(branching)
    assert status == 422
    [issue] = body["error"]["fields"]
    assert issue["field"] == "graph.edges[1].sourceHandle" and "true, false" in issue["reason"]


def amount_router(mock_http: MockHttp, condition: str) -> dict[str, object]:
    return graph(
        node("big", "if", condition=condition),
        http("slack", mock_http.url("/slack")), http("book", mock_http.url("/book")),
        edges=[edge("start", "big"), edge("big", "slack", "true"), edge("big", "book", "false")],
    )


@pytest.mark.parametrize(("condition", "amount", "taken"), [
    ("payload.body.amount > 100", 20, "false"),  # a $20 order once went down the big-order branch
    ("payload.body.amount > 100", 250, "true"),
    ("{{ payload.body.amount > 100 }}", 20, "false"),
    ("1 > 2", 20, "false"),
    ("2 > 1", 20, "true"),
    ("payload.body.amount > 100 and payload.body.amount < 1000", 250, "true"),
])
async def test_a_condition_with_or_without_braces_takes_the_right_branch(
    stack: Stack, mock_http: MockHttp, condition: str, amount: int, taken: str
) -> None:
    run_id = await stack.start_run(amount_router(mock_http, condition), inputs={"payload": {"body": {"amount": amount}}})
    record = await stack.finish(run_id)
    steps = steps_by_id(record)
    assert record["status"] == "succeeded", record["error"]
    assert steps["big"]["handles"] == [taken] and steps["big"]["output"] == {"result": taken == "true"}
    called, skipped = ("/slack", "book") if taken == "true" else ("/book", "slack")
    assert len(mock_http.requests_to(called)) == 1 and steps[skipped]["status"] == "skipped"


async def test_a_condition_mixing_text_and_braces_is_a_422_and_starts_nothing(stack: Stack, mock_http: MockHttp) -> None:
    status, body = await stack.post_run(amount_router(mock_http, "{{ payload.body.amount }} > 100"),
                                        inputs={"payload": {"body": {"amount": 20}}})
    assert status == 422, body
    [issue] = body["error"]["fields"]
    assert issue["field"] == "graph.nodes[1].data.config.condition" and issue["nodeId"] == "big"
    assert "write it whole inside one {{ }}" in issue["reason"]
    assert mock_http.received == []
