"""A saved workflow declares its inputs (issue 21, item 1): `inputSchema`, `description` and `exposeAsTool` on the
workflow routes, and runs of it whose inputs do not satisfy the schema are refused, over REST (422 naming the field)
and on the bus (the run fails saying why), as a subworkflow's child run is."""

from __future__ import annotations

import json
from typing import Any

from bus import Bus, subjects
from tests.gateway.test_rest_api import request
from tests.support.graphs import edge, graph, node, steps_by_id
from tests.support.stack import Stack

WEATHER = {"type": "object", "required": ["city"], "additionalProperties": False,
           "properties": {"city": {"type": "string", "description": "the city to look up"},
                          "days": {"type": "integer", "minimum": 1}}}


def echo() -> dict[str, Any]:
    return graph(node("say", "set", values={"city": "{{ city }}"}), edges=[edge("start", "say")])


def _nested(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"allOf": [schema]}
    return schema


async def saved(stack: Stack, **fields: Any) -> dict[str, Any]:
    status, body, _ = await request(stack, "POST", "/v1/workflows", json={"name": "Weather", "graph": echo(), **fields})
    assert status == 201, body
    return dict(body)


async def test_an_input_named_like_a_keyword_is_an_input(stack: Stack) -> None:
    schema = {"type": "object", "properties": {"pattern": {"type": "string"}, "$id": {"type": "integer"}}}
    assert (await saved(stack, inputSchema=schema))["inputSchema"] == schema


async def test_inputs_description_and_expose_are_saved_listed_and_kept_until_changed(stack: Stack) -> None:
    created = await saved(stack, description="Looks up the weather", inputSchema=WEATHER, exposeAsTool=True)
    assert created["inputSchema"] == WEATHER and created["exposeAsTool"] is True
    assert created["description"] == "Looks up the weather"
    status, listed, _ = await request(stack, "GET", "/v1/workflows")
    [summary] = listed["workflows"]
    assert summary["inputSchema"] == WEATHER and summary["exposeAsTool"] is True

    # Left out of a PUT, they stay; null removes the schema; false stops exposing.
    path = f"/v1/workflows/{created['id']}"
    status, kept, _ = await request(stack, "PUT", path, json={"graph": echo(), "baseVersion": 1})
    assert status == 200 and kept["inputSchema"] == WEATHER and kept["exposeAsTool"] is True
    status, cleared, _ = await request(stack, "PUT", path, json={"graph": echo(), "baseVersion": 2,
                                                                   "inputSchema": None, "exposeAsTool": False})
    assert status == 200 and cleared["inputSchema"] is None and cleared["exposeAsTool"] is False
    status, first, _ = await request(stack, "GET", f"{path}/versions/1")
    assert status == 200 and first["inputSchema"] == WEATHER, "each version keeps its own"


async def test_a_schema_that_is_not_a_json_schema_object_is_a_422_naming_it(stack: Stack) -> None:
    for schema, said in (({"type": "string"}, 'its "type" is "object"'),
                         ({"type": "object", "properties": {"city": {"type": "town"}}}, "not a valid JSON Schema"),
                         ("city", "should be an object"),
                         # Found by the security review: a user's regex or references can take hours to check.
                         ({"type": "object", "properties": {"email": {"type": "string", "pattern": "^([a-z0-9]+)+$"}}},
                          "uses 'pattern' (at properties.email.pattern), which is not supported"),
                         ({"type": "object", "$defs": {"a": {"$ref": "#/$defs/a"}}, "properties": {"x": {"$ref": "#/$defs/a"}}},
                          "uses '$defs'"),
                         ({"type": "object", "properties": {"x": _nested(40)}}, "nests more than 32 levels deep")):
        status, body, _ = await request(stack, "POST", "/v1/workflows",
                                        json={"name": "Bad", "graph": echo(), "inputSchema": schema})
        assert status == 422, body
        [issue] = body["error"]["fields"]
        assert issue["field"] == "inputSchema" and said in issue["reason"], issue


async def test_a_rest_run_with_inputs_that_do_not_satisfy_the_schema_is_a_422_naming_each_field(stack: Stack) -> None:
    workflow_id = (await saved(stack, inputSchema=WEATHER))["id"]
    for inputs, fields in (({}, {"inputs.city": "is required"}),
                           ({"city": 7, "days": 0}, {"inputs.city": "must be text", "inputs.days": "minimum"}),
                           ({"city": "Oslo", "secret": "sk_live_canary123"}, {"inputs": "does not take"})):
        status, body, _ = await request(stack, "POST", "/v1/runs", json={"workflowId": workflow_id, "inputs": inputs})
        assert status == 422, body
        found = {issue["field"]: issue["reason"] for issue in body["error"]["fields"]}
        assert set(found) == set(fields), found
        assert all(said in found[field] for field, said in fields.items()), found
        assert "sk_live_canary123" not in json.dumps(body), "a reason never quotes the value"
    status, body, _ = await request(stack, "POST", "/v1/runs", json={"workflowId": workflow_id, "inputs": {"city": "Oslo"}})
    assert status == 201, body
    record = await stack.finish(body["runId"])
    assert record["status"] == "succeeded" and steps_by_id(record)["say"]["output"] == {"city": "Oslo"}


async def test_a_bus_request_and_a_subworkflow_with_bad_inputs_fail_saying_why(stack: Stack, bus: Bus) -> None:
    workflow_id = (await saved(stack, inputSchema=WEATHER))["id"]
    await bus.js.publish(subjects.RUNS_REQUESTED, json.dumps(
        {"runId": "bad-inputs-1", "workflowId": workflow_id, "inputs": {"days": 2}}).encode())
    record = await stack.finish("bad-inputs-1")
    assert record["status"] == "failed" and "inputs.city is required" in record["error"], record["error"]

    calling = graph(node("child", "subworkflow", workflowId=workflow_id, inputs={"town": "Oslo"}),
                    edges=[edge("start", "child")])
    record = await stack.finish(await stack.start_run(calling))
    assert record["status"] == "failed"
    error = steps_by_id(record)["child"]["error"]
    assert "declares its inputs" in error and "inputs.city is required" in error, error
