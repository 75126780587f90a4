"""The subworkflow step: a child run of a saved workflow, waited for or not, failing, too deep, cancelled."""

from __future__ import annotations

from typing import Any

from tests.support.graphs import edge, graph, http, node, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, step_is
from tests.support.waiting import eventually


async def saved(stack: Stack, document: dict[str, Any], name: str) -> str:
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/v1/workflows", json={"name": name, "graph": document}) as response:
        assert response.status == 201, await response.text()
        return str((await response.json())["id"])


WHO = {"payload": {"who": "ada"}}


def calling(workflow_id: str, wait: bool = True, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    return graph(
        node("child", "subworkflow", workflowId=workflow_id, inputs={"greeting": "hello {{ payload.who }}"},
             waitForCompletion=wait, settings=settings),
        node("after", "set", values={"got": "{{ steps.child.output }}"}),
        edges=[edge("start", "child"), edge("child", "after")],
    )


async def test_a_subworkflow_runs_as_a_child_and_its_output_comes_back(stack: Stack) -> None:
    child_id = await saved(stack, graph(node("shout", "set", values={"said": "{{ greeting | upper }}"}),
                                        edges=[edge("start", "shout")]), "Shout")
    run_id = await stack.start_run(calling(child_id), inputs={"payload": {"who": "ada"}})
    record = await stack.finish(run_id)
    assert record["status"] == "succeeded", record["error"]
    step = steps_by_id(record)["child"]
    assert step["output"]["status"] == "succeeded" and step["output"]["output"] == {"said": "HELLO ADA"}
    child = await stack.get_run(step["output"]["runId"])
    assert child["trigger"] == "subworkflow" and child["parentRunId"] == run_id and child["parentStepId"] == "child"
    assert child["workflowId"] == child_id and step["childRunId"] == child["id"]


async def test_not_waiting_goes_on_at_once_with_the_run_id_and_the_child_still_runs(
        stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/late", Reply(status=200, body={"ok": True}, delay_s=0.5))
    child_id = await saved(stack, graph(http("late", mock_http.url("/late")), edges=[edge("start", "late")]), "Late")
    record = await stack.finish(await stack.start_run(calling(child_id, wait=False), inputs=WHO))
    assert record["status"] == "succeeded", record["error"]
    output = steps_by_id(record)["child"]["output"]
    assert list(output) == ["runId"]
    child = await stack.finish(output["runId"])
    assert child["status"] == "succeeded" and len(mock_http.requests_to("/late")) == 1


async def test_a_failing_child_fails_the_step_with_its_error_and_run_id_and_retries_make_new_children(
        stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/down", Reply(status=503, body="down"))
    child_id = await saved(stack, graph(http("down", mock_http.url("/down")), edges=[edge("start", "down")]), "Down")
    retry = {"retry": {"maxAttempts": 2, "backoff": "fixed", "initialDelayMs": 100}}
    record = await stack.finish(await stack.start_run(calling(child_id, settings=retry), inputs=WHO), timeout=60)
    assert record["status"] == "failed"
    step = steps_by_id(record)["child"]
    assert step["attempt"] == 2 and "503" in step["error"] and step["childRunId"] in step["error"]
    assert len({a["error"] for a in step["attempts"]}) == 2, "each attempt ran a child run of its own"
    assert len(mock_http.requests_to("/down")) == 2


async def test_a_workflow_calling_itself_stops_at_the_depth_limit_naming_the_depth_and_chain(stack: Stack) -> None:
    assert stack.http is not None
    first = graph(node("noop", "set", values={"a": 1}), edges=[edge("start", "noop")], name="Ouroboros")
    workflow_id = await saved(stack, first, "Ouroboros")
    recursive = graph(node("again", "subworkflow", workflowId=workflow_id), edges=[edge("start", "again")],
                      name="Ouroboros")
    async with stack.http.put(f"{stack.base_url}/v1/workflows/{workflow_id}",
                              json={"graph": recursive, "baseVersion": 1}) as response:
        assert response.status == 200, await response.text()
    record = await stack.finish(await stack.start_run(recursive), timeout=90)
    assert record["status"] == "failed"
    error = record["error"]
    assert "at most 8 deep" in error and "would be 9 deep" in error, error


async def test_cancelling_the_parent_cancels_its_child(stack: Stack) -> None:
    child_id = await saved(stack, graph(node("nap", "delay", seconds=60), edges=[edge("start", "nap")]), "Nap")
    run_id = await stack.start_run(calling(child_id), inputs=WHO)
    await stack.events(run_id, until=step_is("child", "running"))
    parent = await stack.get_run(run_id)
    child_run = steps_by_id(parent)["child"]["childRunId"]
    await stack.events(child_run, until=step_is("nap", "waiting"))
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/v1/runs/{run_id}/cancel") as response:
        assert response.status == 202
    assert (await stack.finish(run_id))["status"] == "cancelled"

    async def child_cancelled() -> bool:
        return bool((await stack.get_run(child_run))["status"] == "cancelled")

    await eventually(child_cancelled, what="the child run to be cancelled with its parent")
