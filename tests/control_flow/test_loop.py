"""The loop step, on a real nats-server with real actors: per item, in order, bounded, and its output."""

from __future__ import annotations

from typing import Any

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
