"""A saved workflow's errorWorkflowId: checked when saved, kept on each version, returned, audited, and used: a
failed run of the workflow starts its error workflow."""

from __future__ import annotations

from typing import Any

from tests.gateway.test_rest_api import request
from tests.support.graphs import edge, graph, http, node
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.support.waiting import eventually


def noting(mock_http: MockHttp) -> dict[str, Any]:
    return graph(http("note", mock_http.url("/failures"), json_body={"failed": "{{ payload.failedRun.id }}"}),
                 edges=[edge("start", "note")], name="On failure")


def calling(mock_http: MockHttp) -> dict[str, Any]:
    return graph(http("call", mock_http.url("/flaky")), edges=[edge("start", "call")], name="Calls out")


async def saved(stack: Stack, document: dict[str, Any], **extra: Any) -> dict[str, Any]:
    status, body, _ = await request(stack, "POST", "/v1/workflows",
                                    json={"name": document["meta"]["name"], "graph": document, **extra})
    assert status == 201, body
    return dict(body)


async def test_an_error_workflow_must_be_another_saved_workflow(stack: Stack, mock_http: MockHttp) -> None:
    status, body, _ = await request(stack, "POST", "/v1/workflows", json={
        "name": "x", "graph": calling(mock_http), "errorWorkflowId": "wf_0000000000000000"})
    assert status == 422 and body["error"]["fields"][0]["field"] == "errorWorkflowId", body
    assert "names no saved workflow" in body["error"]["fields"][0]["reason"]
    status, body, _ = await request(stack, "POST", "/v1/workflows", json={
        "name": "x", "graph": calling(mock_http), "errorWorkflowId": "not an id!"})
    assert status == 422 and body["error"]["fields"][0]["field"] == "errorWorkflowId", body

    workflow = await saved(stack, calling(mock_http))
    status, body, _ = await request(stack, "PUT", f"/v1/workflows/{workflow['id']}", json={
        "graph": calling(mock_http), "baseVersion": 1, "errorWorkflowId": workflow["id"]})
    assert status == 422 and body["error"]["fields"][0]["field"] == "errorWorkflowId", body
    assert "itself" in body["error"]["fields"][0]["reason"]
    status, body, _ = await request(stack, "PUT", f"/v1/workflows/{workflow['id']}", json={
        "graph": calling(mock_http), "baseVersion": 1, "errorWorkflowId": "wf_0000000000000000"})
    assert status == 422 and body["error"]["fields"][0]["field"] == "errorWorkflowId", body
    status, body, _ = await request(stack, "GET", f"/v1/workflows/{workflow['id']}")
    assert body["version"] == 1 and body["errorWorkflowId"] is None  # nothing was saved


async def test_error_workflow_id_round_trips_on_post_put_get_and_versions(stack: Stack, mock_http: MockHttp) -> None:
    handler = await saved(stack, noting(mock_http))
    other = await saved(stack, noting(mock_http))
    workflow = await saved(stack, calling(mock_http), errorWorkflowId=handler["id"])
    assert workflow["errorWorkflowId"] == handler["id"]
    wid = workflow["id"]
    status, body, _ = await request(stack, "GET", f"/v1/workflows/{wid}")
    assert status == 200 and body["errorWorkflowId"] == handler["id"]

    # Left out of a change, it stays; given, it changes; null removes it. Each version keeps its own.
    for base, change, expected in ((1, {}, handler["id"]), (2, {"errorWorkflowId": other["id"]}, other["id"]),
                                   (3, {"errorWorkflowId": None}, None)):
        status, body, _ = await request(stack, "PUT", f"/v1/workflows/{wid}",
                                        json={"graph": calling(mock_http), "baseVersion": base, **change})
        assert status == 200 and body["version"] == base + 1 and body["errorWorkflowId"] == expected, body
        status, body, _ = await request(stack, "GET", f"/v1/workflows/{wid}")
        assert body["errorWorkflowId"] == expected
    kept = []
    for version in (1, 2, 3, 4):
        status, body, _ = await request(stack, "GET", f"/v1/workflows/{wid}/versions/{version}")
        kept.append(body["errorWorkflowId"])
    assert kept == [handler["id"], handler["id"], other["id"], None]

    status, body, _ = await request(stack, "GET", "/v1/audit?limit=10")
    details = [(e["action"], e["version"], e["detail"].get("errorWorkflowId")) for e in body["entries"]
               if e["target"] == wid]
    assert details == [("workflow.update", 4, None), ("workflow.update", 3, other["id"]),
                       ("workflow.update", 2, handler["id"]), ("workflow.create", 1, handler["id"])]


async def test_a_failed_run_starts_the_error_workflow_it_names(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/flaky", Reply(status=400, body={"error": "bad"}))
    mock_http.reply("/failures", Reply(status=200, body={"ok": True}))
    handler = await saved(stack, noting(mock_http))
    workflow = await saved(stack, calling(mock_http), errorWorkflowId=handler["id"])
    status, body, _ = await request(stack, "POST", "/v1/runs", json={"workflowId": workflow["id"]})
    assert status == 201, body
    run_id = body["runId"]
    assert (await stack.finish(run_id))["status"] == "failed"

    async def handler_run() -> Any:
        status, body, _ = await request(stack, "GET", f"/v1/runs?workflowId={handler['id']}&trigger=error")
        return body["runs"] if status == 200 and body["runs"] else None

    [error_run] = await eventually(handler_run, what="the error workflow's run")
    assert (await stack.finish(error_run["id"]))["status"] == "succeeded"
    assert mock_http.requests_to("/failures")[0].json() == {"failed": run_id}
