"""The code step end to end on a real nats-server: an HTTP step's answer transformed by JavaScript, the result read
by the next step's template, console lines in the run's log; and a failing code step handled by onError."""

from __future__ import annotations

from tests.support.graphs import edge, graph, http, node, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack

TRANSFORM = """
const orders = steps.get_orders.output.body.orders;
const big = orders.filter(o => o.amount > payload.threshold);
console.log('big orders:', big.length);
if (big.length === 0) console.warn('nothing over', payload.threshold);
return { ids: big.map(o => o.id), total: big.reduce((sum, o) => sum + o.amount, 0) };
"""


async def test_code_transforms_a_steps_output_for_the_next_step(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/orders", Reply(status=200, body={"orders": [{"id": "A", "amount": 900}, {"id": "B", "amount": 80},
                                                                  {"id": "C", "amount": 600}]}))
    document = graph(
        http("get_orders", mock_http.url("/orders"), method="GET"),
        node("pick", "code", code=TRANSFORM),
        http("notify", mock_http.url("/notify"), json_body={"ids": "{{ steps.pick.output.ids }}",
                                                             "total": "{{ steps.pick.output.total }}"}),
        edges=[edge("start", "get_orders"), edge("get_orders", "pick"), edge("pick", "notify")],
    )
    record = await stack.finish(await stack.start_run(document, inputs={"payload": {"threshold": 500}}))
    assert record["status"] == "succeeded", record["error"]
    assert steps_by_id(record)["pick"]["output"] == {"ids": ["A", "C"], "total": 1500}
    assert mock_http.requests_to("/notify")[0].json() == {"ids": ["A", "C"], "total": 1500}
    assert {"level": "INFO", "msg": "big orders: 2", "stepId": "pick"}.items() <= next(
        log for log in record["logs"] if log.get("stepId") == "pick" and log["msg"].startswith("big orders")).items()


async def test_a_failing_code_step_is_reported_and_on_error_continue_goes_on(stack: Stack, mock_http: MockHttp) -> None:
    document = graph(
        node("spin", "code", settings={"onError": "continue"}, code="console.log('starting');\nwhile (true) {}",
             timeoutMs=200),
        node("fail", "code", settings={"onError": "continue"}, code="const x = null;\nreturn x.y;"),
        http("report", mock_http.url("/report"), json_body={"spin": "{{ steps.spin.error }}",
                                                             "fail": "{{ steps.fail.error }}"}),
        edges=[edge("start", "spin"), edge("spin", "fail"), edge("fail", "report")],
    )
    record = await stack.finish(await stack.start_run(document))
    assert record["status"] == "succeeded", record["error"]
    steps = steps_by_id(record)
    assert steps["spin"]["status"] == steps["fail"]["status"] == "failed"
    sent = mock_http.requests_to("/report")[0].json()
    assert sent == {"spin": "timed out after 200 ms (timeoutMs): the code ran longer than its timeout",
                    "fail": "TypeError: cannot read property 'y' of null (line 2)"}
    assert any(log.get("stepId") == "spin" and log["msg"] == "starting" for log in record["logs"]), \
        "what it logged before it was stopped is kept"


async def test_code_in_a_loop_body_reads_its_item_and_the_steps_before_the_loop(stack: Stack) -> None:
    document = graph(
        node("prices", "set", values={"vat": 0.2}),
        node("each_line", "loop", items="{{ payload.lines }}", concurrency=2),
        node("price", "code", code="return { sku: loop.item.sku, gross: loop.item.net * (1 + steps.prices.output.vat), "
                                   "line: loop.index + 1 };"),
        edges=[edge("start", "prices"), edge("prices", "each_line"), edge("each_line", "price", "each")],
    )
    lines = [{"sku": "A", "net": 10}, {"sku": "B", "net": 25}]
    record = await stack.finish(await stack.start_run(document, inputs={"payload": {"lines": lines}}), timeout=60)
    assert record["status"] == "succeeded", record["error"]
    results = steps_by_id(record)["each_line"]["output"]["results"]
    assert [r["output"] for r in results] == [{"sku": "A", "gross": 12, "line": 1}, {"sku": "B", "gross": 30, "line": 2}]
