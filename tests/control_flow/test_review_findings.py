"""What the security review of issue 18 found, each closed and kept closed: large item outputs that made a loop's
gathering fail forever, error workflows and subworkflows calling each other without end, and resume URLs that any
reader of a run could use."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from schemas.items import child_run_id
from tests.gateway.test_auth import new_token
from tests.gateway.test_rest_api import request
from tests.support.graphs import edge, graph, node, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, step_is


async def test_large_item_outputs_are_kept_apart_so_the_loops_results_stay_small(stack: Stack) -> None:
    document = graph(
        node("each", "loop", items="{{ inputs.numbers }}", concurrency=4),
        node("big", "set", values={"blob": "{{ 'x' * 200000 }}", "n": "{{ loop.item }}"}),
        node("after", "set", values={"count": "{{ steps.each.output.count }}"}),
        edges=[edge("start", "each"), edge("each", "big", "each"), edge("each", "after", "done")],
    )
    run_id = await stack.start_run(document, inputs={"numbers": list(range(25))})
    record = await stack.finish(run_id, timeout=120)
    assert record["status"] == "succeeded", record["error"]
    assert steps_by_id(record)["after"]["output"] == {"count": 25}
    assert stack.http is not None
    async with stack.http.get(f"{stack.base_url}/v1/runs/{run_id}/steps/each/output") as response:
        output = (await response.json())["output"]
    assert [r["status"] for r in output["results"]] == ["succeeded"] * 25
    assert all(r["output"] is None and r["outputRef"] for r in output["results"])
    assert len(json.dumps(output)) < 64 * 1024, "25 items of 200 KB each gather to references, not 5 MB"
    async with stack.http.get(f"{stack.base_url}/v1/runs/{run_id}/steps/each/items?offset=3&limit=1") as response:
        [third] = (await response.json())["items"]
    assert third["output"]["n"] == 3 and len(third["output"]["blob"]) == 200000


async def test_a_loop_whose_outputs_are_too_many_to_gather_whole_keeps_its_statuses_and_says_so(stack: Stack) -> None:
    document = graph(
        node("each", "loop", items="{{ inputs.numbers }}", concurrency=16),
        node("mid", "set", values={"blob": "{{ 'y' * 7000 }}"}),
        edges=[edge("start", "each"), edge("each", "mid", "each")],
    )
    run_id = await stack.start_run(document, inputs={"numbers": list(range(650))})
    record = await stack.finish(run_id, timeout=180)
    assert record["status"] == "succeeded", record["error"]
    assert stack.http is not None
    async with stack.http.get(f"{stack.base_url}/v1/runs/{run_id}/steps/each/output") as response:
        output = (await response.json())["output"]
    assert "MiB" in output["outputsOmitted"] and "/items" in output["outputsOmitted"]
    assert len(output["results"]) == 650 and all("output" not in r for r in output["results"])


async def test_an_error_workflow_that_runs_the_failing_workflow_again_does_not_start_error_runs_without_end(
        stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/down", Reply(status=500, body="down"))
    _, failing, _ = await request(stack, "POST", "/v1/workflows", json={"name": "Fails", "graph": graph(
        node("call", "http", method="POST", url=mock_http.url("/down")), edges=[edge("start", "call")])})
    handler_graph = graph(
        node("again_1", "subworkflow", workflowId=failing["id"], waitForCompletion=False),
        node("again_2", "subworkflow", workflowId=failing["id"], waitForCompletion=False),
        edges=[edge("start", "again_1"), edge("start", "again_2")], name="Retry by hand")
    _, handler, _ = await request(stack, "POST", "/v1/workflows", json={"name": "Retry by hand", "graph": handler_graph})
    status, body, _ = await request(stack, "PUT", f"/v1/workflows/{failing['id']}", json={
        "graph": failing["graph"], "baseVersion": 1, "errorWorkflowId": handler["id"]})
    assert status == 200, body
    status, started, _ = await request(stack, "POST", "/v1/runs", json={"workflowId": failing["id"]})
    assert status == 201, started
    run_id = started["runId"]
    assert (await stack.finish(run_id))["status"] == "failed"
    error_run = child_run_id(run_id, "~error", "1")
    errored = await stack.finish(error_run)
    assert errored["status"] == "succeeded" and errored["trigger"] == "error"
    await asyncio.sleep(3.0)  # the two children fail; had they started error runs, those would call again
    assert len(mock_http.requests_to("/down")) == 3, "the run, then the error workflow's two calls, and no more"
    _, listed, _ = await request(stack, "GET", "/v1/runs?trigger=error&limit=50")
    assert [r["id"] for r in listed["runs"]] == [error_run]


async def test_only_editors_and_admins_see_a_waiting_steps_resume_url_and_answers_are_audited(
        stack: Stack, mock_http: MockHttp) -> None:
    document = graph(node("ask", "wait", resume="approval", message="ok?"), node("after", "set", values={"a": 1}),
                     edges=[edge("start", "ask"), edge("ask", "after", "approved")])
    run_id = await stack.start_run(document)
    await stack.events(run_id, until=step_is("ask", "waiting"))
    runner = await new_token(stack, "review-runner", "runner")
    editor = await new_token(stack, "review-editor", "editor")
    seen: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session:
        for name, token in (("runner", runner), ("editor", editor)):
            headers = {"Authorization": f"Bearer {token}"}
            async with session.get(f"{stack.base_url}/v1/runs/{run_id}", headers=headers) as response:
                seen[name] = steps_by_id(await response.json())["ask"]["resumeUrl"]
            ws_url = f"{stack.base_url.replace('http', 'ws', 1)}/v1/runs/{run_id}/events"
            seen[f"{name}-events"] = "no waiting event"
            async with session.ws_connect(ws_url, headers=headers) as ws:
                for _ in range(50):
                    event = json.loads((await ws.receive(timeout=10)).data)
                    if event["type"] == "step" and event["step"]["status"] == "waiting":
                        seen[f"{name}-events"] = event["step"]["resumeUrl"]
                        break
        assert seen["runner"] is None and seen["runner-events"] is None, seen
        assert seen["editor"] and seen["editor"] == seen["editor-events"], seen
        async with session.post(seen["editor"], json={"approved": True}) as response:
            assert response.status == 200, await response.text()
    assert (await stack.finish(run_id))["status"] == "succeeded"
    _, audit, _ = await request(stack, "GET", "/v1/audit?limit=20")
    [entry] = [e for e in audit["entries"] if e["action"] == "run.resume"]
    assert entry["detail"]["runId"] == run_id and entry["detail"]["answer"] == "approved"
