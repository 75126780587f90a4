"""A loop's items over REST (GET /v1/runs/{id}/steps/{stepId}/items), and a run's subworkflow children
(GET /v1/runs?parentRunId=), on a real stack."""

from __future__ import annotations

from typing import Any

from tests.gateway.test_rest_api import request
from tests.support.graphs import edge, graph, http, node, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, step_is
from tests.support.waiting import eventually

FIVE = "{{ [{'id': 'a'}, {'id': 'b'}, {'id': 'c'}, {'id': 'd'}, {'id': 'e'}] }}"


def five_items(mock_http: MockHttp, **loop: Any) -> dict[str, Any]:
    """Start → loop over five orders; its body is two steps (set, then an HTTP post); `done` → a summary."""
    return graph(
        node("each_order", "loop", items=FIVE, **loop),
        node("label", "set", values={"order": "{{ loop.item.id }}", "twice": "{{ loop.index * 2 }}"}),
        http("post", mock_http.url("/orders"), json_body={"order": "{{ steps.label.output.order }}"}),
        node("summary", "set", values={"count": "{{ steps.each_order.output.count }}"}),
        edges=[edge("start", "each_order"), edge("each_order", "label", "each"), edge("label", "post"),
               edge("each_order", "summary", "done")],
    )


async def items(stack: Stack, run_id: str, step_id: str, query: str = "") -> tuple[int, Any]:
    status, body, _ = await request(stack, "GET", f"/v1/runs/{run_id}/steps/{step_id}/items{query}")
    return status, body


async def test_a_five_item_loop_pages_through_its_items_for_the_loop_and_each_body_step(
        stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/orders", Reply(status=201, body={"saved": True}))
    run_id = await stack.start_run(five_items(mock_http))
    record = await stack.finish(run_id, timeout=60)
    assert record["status"] == "succeeded", record

    pages = []
    for offset in (0, 2, 4):
        status, body = await items(stack, run_id, "label", f"?offset={offset}&limit=2")
        assert status == 200 and body["total"] == 5, body
        pages.append(body["items"])
    labels = [item for page in pages for item in page]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [item["index"] for item in labels] == [0, 1, 2, 3, 4]
    assert all(item["status"] == "succeeded" and item["error"] is None for item in labels)
    assert [item["output"] for item in labels] == [{"order": o, "twice": 2 * i} for i, o in enumerate("abcde")]
    assert len({item["runId"] for item in labels}) == 5 and all(item["durationMs"] is not None for item in labels)

    status, body = await items(stack, run_id, "post")  # default page: all five
    assert status == 200 and [item["output"]["status"] for item in body["items"]] == [201] * 5
    assert [item["runId"] for item in body["items"]] == [item["runId"] for item in labels]

    status, body = await items(stack, run_id, "each_order", "?offset=3")
    assert status == 200 and body["total"] == 5 and [item["index"] for item in body["items"]] == [3, 4]
    assert body["items"][0]["status"] == "succeeded" and body["items"][0]["output"]["body"] == {"saved": True}

    status, body = await items(stack, run_id, "each_order", "?offset=5")
    assert status == 200 and body == {"items": [], "total": 5}
    # An item's run is readable as a run (it is never listed).
    item_run = await stack.get_run(labels[1]["runId"])
    assert item_run["trigger"] == "loop" and item_run["parentRunId"] == run_id


async def test_items_still_to_come_are_queued_and_the_running_one_is_running(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/orders", Reply(status=200, body={"ok": True}, delay_s=0.5))
    run_id = await stack.start_run(five_items(mock_http))
    await stack.events(run_id, until=lambda e: e["type"] == "step" and e["step"]["id"] == "post"
                       and (e["step"].get("items") or {}).get("done", 0) >= 1)

    async def one_running() -> Any:
        status, body = await items(stack, run_id, "post")
        assert status == 200
        return body if any(item["status"] == "running" for item in body["items"]) else None

    body = await eventually(one_running, what="an item whose post is running")
    statuses = [item["status"] for item in body["items"]]
    assert statuses[0] == "succeeded" and statuses[-1] == "queued" and body["items"][-1]["runId"] is None
    running = next(item for item in body["items"] if item["status"] == "running")
    assert running["runId"] and running["output"] is None
    await stack.finish(run_id, timeout=60)


async def test_items_of_unknown_or_once_per_run_steps_and_bad_pages_are_refused(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/orders", Reply(status=200))
    run_id = await stack.start_run(five_items(mock_http))
    await stack.finish(run_id, timeout=60)
    status, body = await items(stack, run_id, "nope")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await items(stack, "0000000000000000", "label")
    assert status == 404
    for step_id in ("start", "summary"):
        status, body = await items(stack, run_id, step_id)
        assert status == 422 and body["error"]["fields"] == [
            {"field": "stepId", "reason": "not a loop's step", "nodeId": None, "edgeId": None}], body
    for query, field in (("?limit=0", "limit"), ("?limit=201", "limit"), ("?limit=x", "limit"),
                         ("?offset=-1", "offset"), ("?offset=1.5", "offset")):
        status, body = await items(stack, run_id, "label", query)
        assert status == 422 and body["error"]["fields"][0]["field"] == field, (query, body)
    status, body = await items(stack, run_id, "label", "?limit=200")
    assert status == 200 and len(body["items"]) == 5


async def test_a_loop_that_has_not_begun_has_no_items(stack: Stack, mock_http: MockHttp) -> None:
    document = five_items(mock_http)
    document["nodes"].insert(1, node("hold", "delay", seconds=30))
    document["edges"][0] = edge("start", "hold")
    document["edges"].append(edge("hold", "each_order"))
    run_id = await stack.start_run(document)
    await stack.events(run_id, until=step_is("hold", "waiting"))
    status, body = await items(stack, run_id, "label")
    assert status == 200 and body == {"items": [], "total": 0}


async def test_a_thousand_item_loop_keeps_the_run_small(stack: Stack) -> None:
    document = graph(
        node("each", "loop", items="{{ inputs.numbers }}", concurrency=64),
        node("square", "set", values={"n": "{{ loop.item * loop.item }}"}),
        edges=[edge("start", "each"), edge("each", "square", "each")],
    )
    run_id = await stack.start_run(document, inputs={"numbers": list(range(1000))})
    record = await stack.finish(run_id, timeout=170)
    assert record["status"] == "succeeded", record["error"]
    assert steps_by_id(record)["each"]["items"]["succeeded"] == 1000
    assert stack.http is not None
    async with stack.http.get(f"{stack.base_url}/v1/runs/{run_id}") as response:
        size = len(await response.read())
    assert size < 256 * 1024, f"GET /v1/runs/{{id}} of a 1,000-item loop is {size // 1024} KiB"
    status, body = await items(stack, run_id, "square", "?offset=998&limit=5")
    assert status == 200 and body["total"] == 1000
    assert [item["output"] for item in body["items"]] == [{"n": 998 * 998}, {"n": 999 * 999}]


async def test_a_parents_subworkflow_runs_list_under_parent_run_id(stack: Stack, mock_http: MockHttp) -> None:
    child = graph(node("double", "set", values={"n": "{{ n * 2 }}"}), edges=[edge("start", "double")],
                  name="Child")
    status, saved, _ = await request(stack, "POST", "/v1/workflows", json={"name": "Child", "graph": child})
    assert status == 201, saved
    parent = graph(
        node("first", "subworkflow", workflowId=saved["id"], inputs={"n": 2}),
        node("second", "subworkflow", workflowId=saved["id"], inputs={"n": "{{ steps.first.output.output.n }}"}),
        edges=[edge("start", "first"), edge("first", "second")], name="Parent",
    )
    run_id = await stack.start_run(parent)
    record = await stack.finish(run_id, timeout=60)
    assert record["status"] == "succeeded", record
    steps = steps_by_id(record)
    assert steps["second"]["output"]["output"] == {"n": 8}

    status, body, _ = await request(stack, "GET", f"/v1/runs?parentRunId={run_id}")
    assert status == 200, body
    listed = body["runs"]
    assert [run["id"] for run in listed] == [steps["second"]["childRunId"], steps["first"]["childRunId"]]  # newest first
    assert all(run["trigger"] == "subworkflow" and run["parentRunId"] == run_id and run["workflowId"] == saved["id"]
               and run["status"] == "succeeded" for run in listed)
    view = await stack.get_run(listed[0]["id"])
    assert view["parentRunId"] == run_id and view["parentStepId"] == "second"

    status, body, _ = await request(stack, "GET", f"/v1/runs?parentRunId={run_id}&limit=1")
    assert status == 200 and [run["id"] for run in body["runs"]] == [listed[0]["id"]] and body["next"] == listed[0]["id"]
    status, body, _ = await request(stack, "GET", f"/v1/runs?parentRunId={run_id}&limit=1&before={body['next']}")
    assert [run["id"] for run in body["runs"]] == [listed[1]["id"]] and body["next"] is None
    status, body, _ = await request(stack, "GET", f"/v1/runs?parentRunId={run_id}&status=failed")
    assert status == 200 and body["runs"] == []
    # The parent of nothing lists nothing; an unknown one is 404, a malformed one 422.
    status, body, _ = await request(stack, "GET", f"/v1/runs?parentRunId={listed[0]['id']}")
    assert status == 200 and body == {"runs": [], "next": None}
    status, body, _ = await request(stack, "GET", "/v1/runs?parentRunId=0000000000000000")
    assert status == 404 and body["error"]["fields"][0]["field"] == "parentRunId"
    status, body, _ = await request(stack, "GET", "/v1/runs?parentRunId=a.b")
    assert status == 422 and body["error"]["fields"][0]["field"] == "parentRunId"


async def test_loop_items_are_not_child_runs_of_the_list(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/orders", Reply(status=200))
    run_id = await stack.start_run(five_items(mock_http))
    await stack.finish(run_id, timeout=60)
    status, body, _ = await request(stack, "GET", f"/v1/runs?parentRunId={run_id}")
    assert status == 200 and body["runs"] == []
    status, body, _ = await request(stack, "GET", "/v1/runs?limit=200")
    assert [run["id"] for run in body["runs"]] == [run_id]  # item runs are never listed
