"""The node limit (AUTOMATEOS_MAX_GRAPH_NODES, default 1,000) on every path a graph takes: REST runs, drafts'
validation, saved workflows, and requests published straight on the bus, where a huge graph must fail its run
without holding up anyone else's."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bus import Bus, subjects
from schemas import MAX_GRAPH_NODES, Graph, WorkflowInvalid, compile_workflow
from tests.gateway.test_rest_api import request
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, http_graph


def chain(length: int) -> dict[str, Any]:
    """Start → `length` set nodes in a row: about 150 bytes a node."""
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start", "position": {"x": 0, "y": 0},
                                    "data": {"label": "Start"}}]
    edges = []
    for n in range(length):
        nodes.append({"id": f"s{n}", "type": "set", "position": {"x": n, "y": 0},
                      "data": {"label": f"s{n}", "config": {"values": {"n": n}}}})
        edges.append({"id": f"e{n}", "source": "start" if n == 0 else f"s{n - 1}", "target": f"s{n}"})
    return {"meta": {"name": "Long chain"}, "nodes": nodes, "edges": edges}


def test_the_limit_is_checked_before_compiling_and_problems_are_capped() -> None:
    compile_workflow(Graph.model_validate(chain(MAX_GRAPH_NODES - 1)))  # 1,000 nodes with Start
    try:
        compile_workflow(Graph.model_validate(chain(MAX_GRAPH_NODES)))
    except WorkflowInvalid as invalid:
        assert [i.field for i in invalid.issues] == ["graph.nodes"]
        assert "has 1001 nodes; at most 1000" in invalid.issues[0].reason
    else:
        raise AssertionError("1,001 nodes compiled")
    broken = chain(300)
    for node in broken["nodes"][1:]:
        node["data"]["config"] = {}
    try:
        compile_workflow(Graph.model_validate(broken))
    except WorkflowInvalid as invalid:
        assert len(invalid.issues) == 51 and invalid.issues[-1].reason == "and 250 more problems"
    else:
        raise AssertionError("300 broken nodes compiled")


async def test_rest_validation_and_saved_workflows_refuse_a_graph_over_the_limit(stack: Stack) -> None:
    too_big = chain(MAX_GRAPH_NODES)
    for path, body in (("/v1/runs", {"graph": too_big}), ("/v1/workflows/validate", {"graph": too_big}),
                       ("/v1/workflows", {"name": "Big", "graph": too_big})):
        status, answer, _ = await request(stack, "POST", path, json=body)
        assert status == 422, (path, answer)
        assert answer["error"]["fields"][0]["field"] == "graph.nodes", answer
        assert "at most 1000" in answer["error"]["fields"][0]["reason"]
    status, answer, _ = await request(stack, "POST", "/v1/workflows/validate", json={"graph": chain(MAX_GRAPH_NODES - 1)})
    assert status == 200 and len(answer["steps"]) == MAX_GRAPH_NODES, answer


async def test_a_huge_graph_on_the_bus_fails_its_run_and_another_run_still_goes_through(
    stack: Stack, bus: Bus, mock_http: MockHttp
) -> None:
    mock_http.reply("/ok", Reply(status=200, body={"ok": True}))
    huge = json.dumps({"runId": "huge-1", "graph": chain(10_000)}).encode()  # about 1.5 MB
    await bus.js.publish(subjects.RUNS_REQUESTED, huge)
    normal = asyncio.create_task(stack.finish(await stack.start_run(http_graph(mock_http.url("/ok")))))
    record = await stack.finish("huge-1")
    assert record["status"] == "failed"
    assert "the workflow has 10001 nodes; at most 1000 are allowed" in record["error"]
    assert (await normal)["status"] == "succeeded"
