"""The loop step, on a real nats-server with real actors: per item, in order, bounded, and its output."""

from __future__ import annotations

import asyncio
from typing import Any

from bus import Bus
from schemas.items import item_run_id
from tests.support.graphs import edge, graph, http, node, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack


def orders_loop(mock_http: MockHttp, items: str, **loop: Any) -> dict[str, Any]:
    return graph(
        node("each_order", "loop", items=items, **loop),
        http("post", mock_http.url("/slack"), body='{"order": "{{ loop.item.id }}", "index": {{ loop.index }}}'),
        node("summary", "set", values={"count": "{{ steps.each_order.output.count }}"}),
        edges=[edge("start", "each_order"), edge("each_order", "post", "each"), edge("each_order", "summary", "done")],
    )


async def test_a_loop_of_five_items_posts_once_per_item_in_order_then_runs_done_once(
        stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/slack", Reply(status=200, body={"ok": True}))
    items = "{{ [{'id': 'a'}, {'id': 'b'}, {'id': 'c'}, {'id': 'd'}, {'id': 'e'}] }}"
    record = await stack.finish(await stack.start_run(orders_loop(mock_http, items)), timeout=60)
    assert record["status"] == "succeeded", record
    posted = [request.json()["order"] for request in mock_http.requests_to("/slack")]
    assert posted == ["a", "b", "c", "d", "e"]
    steps = steps_by_id(record)
    loop = steps["each_order"]
    assert loop["items"]["total"] == 5 and loop["items"]["succeeded"] == 5
    assert loop["output"]["count"] == 5 and [r["index"] for r in loop["output"]["results"]] == [0, 1, 2, 3, 4]
    assert loop["output"]["results"][2]["output"]["status"] == 200
    assert steps["post"]["status"] == "succeeded" and steps["post"]["items"]["succeeded"] == 5
    assert steps["summary"]["output"] == {"count": 5}


async def test_a_thousand_item_loop_of_one_set_step_runs_every_item_and_the_run_view_stays_small(
        stack: Stack) -> None:
    document = graph(
        node("each_n", "loop", items="{{ inputs.numbers }}", concurrency=16),
        node("double", "set", values={"n": "{{ loop.item * 2 }}"}),
        edges=[edge("start", "each_n"), edge("each_n", "double", "each")],
    )
    run_id = await stack.start_run(document, inputs={"numbers": list(range(1000))})
    record = await stack.finish(run_id, timeout=240)
    assert record["status"] == "succeeded", record["error"]
    loop = steps_by_id(record)["each_n"]
    assert loop["items"] == {"total": 1000, "done": 1000, "succeeded": 1000, "failed": 0, "skipped": 0, "running": []}
    assert steps_by_id(record)["double"]["items"]["succeeded"] == 1000
    assert loop["outputRef"], "a thousand results are stored apart, not in the run"
    assert stack.http is not None
    async with stack.http.get(f"{stack.base_url}/v1/runs/{run_id}") as response:
        assert len(await response.read()) < 256 * 1024
    async with stack.http.get(f"{stack.base_url}/v1/runs/{run_id}/steps/each_n/output") as response:
        results = (await response.json())["output"]["results"]
    assert [r["output"]["n"] for r in results] == [2 * i for i in range(1000)]


async def test_nested_loops_run_three_by_four_and_see_the_enclosing_item(stack: Stack, mock_http: MockHttp) -> None:
    document = graph(
        node("rows", "loop", items="{{ [1, 2, 3] }}"),
        node("cols", "loop", items="{{ ['a', 'b', 'c', 'd'] }}"),
        http("cell", mock_http.url("/cell"), body='{"cell": "{{ loop.parent.item }}{{ loop.item }}"}'),
        edges=[edge("start", "rows"), edge("rows", "cols", "each"), edge("cols", "cell", "each")],
    )
    record = await stack.finish(await stack.start_run(document), timeout=120)
    assert record["status"] == "succeeded", record["error"]
    cells = [r.json()["cell"] for r in mock_http.requests_to("/cell")]
    assert cells == [f"{row}{col}" for row in (1, 2, 3) for col in "abcd"]
    rows = steps_by_id(record)["rows"]["output"]
    assert [len(item["output"]["results"]) for item in rows["results"]] == [4, 4, 4]


async def test_concurrency_three_is_at_most_three_calls_in_flight_at_the_mock(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/slow", Reply(status=200, body={"ok": True}, delay_s=0.4))
    document = graph(
        node("each", "loop", items="{{ [0, 1, 2, 3, 4, 5, 6, 7, 8] }}", concurrency=3),
        http("call", mock_http.url("/slow"), body='{"i": {{ loop.index }}}'),
        edges=[edge("start", "each"), edge("each", "call", "each")],
    )
    record = await stack.finish(await stack.start_run(document), timeout=60)
    assert record["status"] == "succeeded"
    assert sorted(r.json()["i"] for r in mock_http.requests_to("/slow")) == list(range(9))
    assert mock_http.max_in_flight == 3


def failing_item_loop(mock_http: MockHttp, on_item_error: str) -> dict[str, Any]:
    return graph(
        node("each", "loop", items="{{ ['ok1', 'bad', 'ok2', 'ok3'] }}", onItemError=on_item_error),
        http("call", mock_http.url("/item/{{ loop.item }}")),
        node("after", "set", values={"failed": "{{ steps.each.output.failed }}"}),
        edges=[edge("start", "each"), edge("each", "call", "each"), edge("each", "after", "done")],
    )


async def test_on_item_error_stop_fails_the_loop_at_the_failed_item_and_starts_no_more(
        stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/item/bad", Reply(status=500, body="boom"))
    record = await stack.finish(await stack.start_run(failing_item_loop(mock_http, "stop")), timeout=60)
    assert record["status"] == "failed"
    steps = steps_by_id(record)
    assert steps["each"]["status"] == "failed" and "item 1 failed" in steps["each"]["error"]
    assert steps["after"]["status"] == "skipped"
    assert [r.path for r in mock_http.received] == ["/item/ok1", "/item/bad"]


async def test_on_item_error_continue_runs_every_item_and_counts_the_failure(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/item/bad", Reply(status=500, body="boom"))
    record = await stack.finish(await stack.start_run(failing_item_loop(mock_http, "continue")), timeout=60)
    assert record["status"] == "succeeded", record["error"]
    steps = steps_by_id(record)
    assert steps["each"]["output"]["succeeded"] == 3 and steps["each"]["output"]["failed"] == 1
    assert [r["status"] for r in steps["each"]["output"]["results"]] == ["succeeded", "failed", "succeeded", "succeeded"]
    assert steps["call"]["status"] == "failed" and steps["call"]["errorHandled"] is True
    assert steps["after"]["output"] == {"failed": 1}
    assert len(mock_http.received) == 4


async def test_items_that_are_not_a_list_fail_the_loop_saying_what_they_were(stack: Stack) -> None:
    document = graph(node("each", "loop", items="{{ {'a': 1} }}"), node("x", "set", values={"a": 1}),
                     edges=[edge("start", "each"), edge("each", "x", "each")])
    record = await stack.finish(await stack.start_run(document))
    assert record["status"] == "failed"
    assert "must give a list" in steps_by_id(record)["each"]["error"]


async def test_cancel_mid_loop_stops_the_pending_items_and_cancels_those_running(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/slow", Reply(status=200, body={"ok": True}, delay_s=0.5))
    document = graph(
        node("each", "loop", items="{{ inputs.numbers }}", concurrency=2),
        http("call", mock_http.url("/slow")),
        edges=[edge("start", "each"), edge("each", "call", "each")],
    )
    run_id = await stack.start_run(document, inputs={"numbers": list(range(20))})
    await stack.events(run_id, until=lambda e: e["type"] == "step" and e["step"]["id"] == "each"
                       and (e["step"].get("items") or {}).get("done", 0) >= 2)
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/v1/runs/{run_id}/cancel") as response:
        assert response.status == 202
    record = await stack.finish(run_id)
    assert record["status"] == "cancelled"
    await asyncio.sleep(1.5)
    calls = len(mock_http.requests_to("/slow"))
    assert calls < 8, f"{calls} items were started; the rest should not have been"
    await asyncio.sleep(1.0)
    assert len(mock_http.requests_to("/slow")) == calls, "no item starts after the cancel"


async def test_large_inputs_are_stored_once_for_every_item_not_copied_into_each(stack: Stack, bus: Bus) -> None:
    big = "x" * 20_000
    document = graph(
        node("each", "loop", items="{{ [1, 2, 3] }}"),
        node("measure", "set", values={"size": "{{ payload.big | length }}", "item": "{{ loop.item }}"}),
        edges=[edge("start", "each"), edge("each", "measure", "each")],
    )
    run_id = await stack.start_run(document, inputs={"payload": {"big": big}})
    record = await stack.finish(run_id)
    assert record["status"] == "succeeded", record["error"]
    results = steps_by_id(record)["each"]["output"]["results"]
    assert [r["output"] for r in results] == [{"size": 20_000, "item": i} for i in (1, 2, 3)]
    item_run = await bus.runs.peek(item_run_id(run_id, "each", 0))
    assert item_run is not None and item_run.inputs == {} and item_run.inputsRef is not None
