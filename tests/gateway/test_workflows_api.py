"""Saved workflows over REST on a real nats-server: versions, the stale-version 409, activation, runs."""

from __future__ import annotations

import asyncio
from typing import Any

from bus import EmbeddedNats
from tests.gateway.test_rest_api import request
from tests.support.waiting import eventually
from tests.support.graphs import edge, graph, http
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack


def one_call(url: str, name: str = "Ping") -> dict[str, Any]:
    return graph(http("call", url), edges=[edge("start", "call")], name=name)


async def create(stack: Stack, document: dict[str, Any], name: str = "Ping") -> dict[str, Any]:
    status, body, _ = await request(stack, "POST", "/v1/workflows", json={"name": name, "graph": document})
    assert status == 201, body
    return body  # type: ignore[no-any-return]


async def test_create_read_change_and_list_versions(stack: Stack) -> None:
    created = await create(stack, one_call("https://a.example/"))
    assert (created["version"], created["active"], created["triggers"]) == (1, False, [{"nodeId": "start", "type": "start",
                                                                                           "url": None, "nextRuns": None}])
    wid = created["id"]
    status, body, _ = await request(stack, "PUT", f"/v1/workflows/{wid}",
                                    json={"graph": one_call("https://b.example/"), "baseVersion": 1, "name": "Ping B"})
    assert status == 200 and body["version"] == 2 and body["name"] == "Ping B"
    status, body, _ = await request(stack, "GET", f"/v1/workflows/{wid}")
    assert body["graph"]["nodes"][1]["data"]["config"]["url"] == "https://b.example/"
    status, body, _ = await request(stack, "GET", f"/v1/workflows/{wid}/versions")
    assert [v["version"] for v in body["versions"]] == [1, 2]
    status, body, _ = await request(stack, "GET", f"/v1/workflows/{wid}/versions/1")
    assert status == 200 and body["graph"]["nodes"][1]["data"]["config"]["url"] == "https://a.example/"
    status, body, _ = await request(stack, "GET", f"/v1/workflows/{wid}/versions/9")
    assert status == 404 and body["error"]["fields"][0]["field"] == "version"


async def test_a_save_on_a_stale_version_is_a_409_and_changes_nothing(stack: Stack) -> None:
    wid = (await create(stack, one_call("https://a.example/")))["id"]
    first = await request(stack, "PUT", f"/v1/workflows/{wid}", json={"graph": one_call("https://tab1.example/"), "baseVersion": 1})
    second = await request(stack, "PUT", f"/v1/workflows/{wid}", json={"graph": one_call("https://tab2.example/"), "baseVersion": 1})
    assert first[0] == 200 and second[0] == 409
    assert second[1]["error"]["fields"] == [{"field": "baseVersion", "reason": "is 1, but the latest version is 2",
                                             "nodeId": None, "edgeId": None}]
    status, body, _ = await request(stack, "GET", f"/v1/workflows/{wid}")
    assert body["version"] == 2 and body["graph"]["nodes"][1]["data"]["config"]["url"] == "https://tab1.example/"


async def test_two_saves_racing_on_one_version_cannot_both_win(stack: Stack) -> None:
    wid = (await create(stack, one_call("https://a.example/")))["id"]
    answers = await asyncio.gather(*(
        request(stack, "PUT", f"/v1/workflows/{wid}", json={"graph": one_call(f"https://t{i}.example/"), "baseVersion": 1})
        for i in range(5)
    ))
    assert sorted(status for status, _, _ in answers) == [200, 409, 409, 409, 409]


async def test_list_newest_change_first_and_delete(stack: Stack) -> None:
    older = (await create(stack, one_call("https://a.example/"), "Older"))["id"]
    newer = (await create(stack, one_call("https://b.example/"), "Newer"))["id"]
    await request(stack, "PUT", f"/v1/workflows/{older}", json={"graph": one_call("https://c.example/"), "baseVersion": 1})
    status, body, _ = await request(stack, "GET", "/v1/workflows")
    assert [w["id"] for w in body["workflows"]] == [older, newer]
    status, _, _ = await request(stack, "DELETE", f"/v1/workflows/{older}")
    assert status == 204
    assert (await request(stack, "GET", f"/v1/workflows/{older}"))[0] == 404
    assert (await request(stack, "GET", f"/v1/workflows/{older}/versions/1"))[0] == 404
    assert [w["id"] for w in (await request(stack, "GET", "/v1/workflows"))[1]["workflows"]] == [newer]


async def test_activate_checks_the_version_can_run(stack: Stack) -> None:
    wid = (await create(stack, one_call("ftp://not-http/")))["id"]  # a draft may be saved unfinished
    status, body, _ = await request(stack, "POST", f"/v1/workflows/{wid}/activate")
    assert status == 422 and body["error"]["fields"][0]["field"] == "graph.nodes[1].data.config.url"
    await request(stack, "PUT", f"/v1/workflows/{wid}", json={"graph": one_call("https://ok.example/"), "baseVersion": 1})
    status, body, _ = await request(stack, "POST", f"/v1/workflows/{wid}/activate", json={"version": 2})
    assert status == 200 and (body["active"], body["activeVersion"]) == (True, 2)
    status, body, _ = await request(stack, "POST", f"/v1/workflows/{wid}/deactivate")
    assert status == 200 and (body["active"], body["activeVersion"]) == (False, None)


async def test_a_saved_workflow_runs_by_id_at_the_latest_or_a_chosen_version(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/v1", Reply(status=200))
    mock_http.reply("/v2", Reply(status=200))
    wid = (await create(stack, one_call(mock_http.url("/v1"))))["id"]
    await request(stack, "PUT", f"/v1/workflows/{wid}", json={"graph": one_call(mock_http.url("/v2")), "baseVersion": 1})
    for version, path in ((None, "/v2"), (1, "/v1")):
        payload: dict[str, Any] = {"workflowId": wid} | ({"version": version} if version else {})
        status, body, _ = await request(stack, "POST", "/v1/runs", json=payload)
        assert status == 201, body
        record = await stack.finish(body["runId"])
        assert record["status"] == "succeeded" and record["workflowId"] == wid
        assert record["workflowVersion"] == (version or 2)
        assert len(mock_http.requests_to(path)) == 1


async def test_bad_requests_name_the_field(stack: Stack) -> None:
    status, body, _ = await request(stack, "POST", "/v1/runs", json={"workflowId": "wf_missing"})
    assert status == 404
    status, body, _ = await request(stack, "POST", "/v1/runs", json={"inputs": {}})
    assert status == 422 and "either graph" in body["error"]["fields"][0]["reason"]
    status, body, _ = await request(stack, "POST", "/v1/workflows", json={"graph": one_call("https://a.example/")})
    assert status == 422 and body["error"]["fields"][0]["field"] == "name"
    status, body, _ = await request(stack, "PUT", "/v1/workflows/nope", json={"graph": one_call("https://a.example/"),
                                                                               "baseVersion": 1})
    assert status == 404
    status, body, _ = await request(stack, "GET", "/v1/workflows/bad.id")
    assert status == 404


async def test_webhook_urls_are_absolute_under_the_public_url(stack_parts: Stack, mock_http: MockHttp) -> None:
    """With AUTOMATEOS_PUBLIC_URL the URL to give Stripe is under it (without, under the address asked: see
    test_hooks.activated), in every answer that reports triggers."""
    from tests.gateway.test_hooks import hooked

    await stack_parts.start_gateway(public_url="https://hooks.example.test/")
    created = await create(stack_parts, hooked(mock_http), name="Hooked")
    [trigger] = created["triggers"]
    assert trigger["url"].startswith("https://hooks.example.test/v1/hooks/"), trigger
    wid = created["id"]
    _, listed, _ = await request(stack_parts, "GET", "/v1/workflows")
    _, read, _ = await request(stack_parts, "GET", f"/v1/workflows/{wid}")
    _, active, _ = await request(stack_parts, "POST", f"/v1/workflows/{wid}/activate")
    assert {listed["workflows"][0]["triggers"][0]["url"], read["triggers"][0]["url"], active["triggers"][0]["url"]} == {
        trigger["url"]}


async def test_a_node_without_config_or_settings_is_answered_with_an_empty_config_never_null(stack: Stack) -> None:
    document = one_call("https://a.example/")
    document["nodes"][0]["data"] = {"label": "Start", "config": None, "settings": None}
    wid = (await create(stack, document))["id"]
    for path in (f"/v1/workflows/{wid}", f"/v1/workflows/{wid}/versions/1"):
        status, body, _ = await request(stack, "GET", path)
        assert status == 200
        start, call = body["graph"]["nodes"]
        assert start["data"] == {"label": "Start", "config": {}}, path
        assert call["data"]["config"]["url"] == "https://a.example/" and "settings" not in call["data"], path


async def test_a_bus_that_does_not_answer_is_503_unavailable_not_500(stack: Stack, nats_server: EmbeddedNats) -> None:
    wid = (await create(stack, one_call("https://a.example/")))["id"]
    nats_server.kill()
    try:
        status, body, headers = await request(stack, "PUT", f"/v1/workflows/{wid}",
                                              json={"graph": one_call("https://b.example/"), "baseVersion": 1})
    finally:
        nats_server.start()  # same port and store: the actors reconnect, and stop cleanly
    assert status == 503 and body["error"]["code"] == "unavailable" and "retry" in body["error"]["message"], body
    assert headers.get("Retry-After") == "1"

    async def readable() -> bool:
        return (await request(stack, "GET", f"/v1/workflows/{wid}"))[0] == 200

    await eventually(readable, what="the gateway to read from the restarted server")
