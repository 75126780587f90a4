"""GET /v1/workflows from the summaries kept beside each head: a page at a time, newest change first, without
reading a graph; a head whose summary a crash left missing or behind is repaired on read, and a delete cut short
is finished by deleting again."""

from __future__ import annotations

from typing import Any

from bus import Bus
from schemas.workflows import WorkflowHead
from tests.gateway.test_rest_api import request
from tests.support.graphs import edge, graph, http, node
from tests.support.stack import Stack


def webhook_graph(name: str) -> dict[str, Any]:
    return {"meta": {"name": name}, "nodes": [node("hook", "webhook", "Hook"), http("ping", "https://example.com/")],
            "edges": [edge("hook", "ping")]}


async def create(stack: Stack, name: str, document: dict[str, Any] | None = None) -> dict[str, Any]:
    status, body, _ = await request(stack, "POST", "/v1/workflows",
                                    json={"name": name, "graph": document or graph(edges=[], name=name)})
    assert status == 201, body
    return dict(body)


async def names(stack: Stack, query: str = "") -> tuple[list[str], Any]:
    status, body, _ = await request(stack, "GET", f"/v1/workflows{query}")
    assert status == 200, body
    return [w["name"] for w in body["workflows"]], body["next"]


async def test_pages_newest_change_first(stack: Stack) -> None:
    for index in range(5):
        await create(stack, f"wf{index}")
    assert await names(stack) == (["wf4", "wf3", "wf2", "wf1", "wf0"], None)
    first, following = await names(stack, "?limit=2")
    assert first == ["wf4", "wf3"] and following is not None
    second, following = await names(stack, f"?limit=2&before={following}")
    assert second == ["wf2", "wf1"] and following is not None
    assert await names(stack, f"?limit=2&before={following}") == (["wf0"], None)

    listed = (await request(stack, "GET", "/v1/workflows"))[1]["workflows"]
    oldest = next(w for w in listed if w["name"] == "wf0")
    status, _, _ = await request(stack, "PUT", f"/v1/workflows/{oldest['id']}",
                                 json={"graph": graph(edges=[]), "baseVersion": 1, "name": "wf0 renamed"})
    assert status == 200
    assert (await names(stack, "?limit=1"))[0] == ["wf0 renamed"], "a change moves it to the front"
    status, _, _ = await request(stack, "DELETE", f"/v1/workflows/{oldest['id']}")
    assert status == 204
    assert await names(stack) == (["wf4", "wf3", "wf2", "wf1"], None)

    status, body, _ = await request(stack, "GET", "/v1/workflows?limit=0&before=x")
    assert status == 422 and {f["field"] for f in body["error"]["fields"]} == {"limit", "before"}


async def test_a_list_shows_what_the_head_says_without_its_graph(stack: Stack, bus: Bus) -> None:
    saved = await create(stack, "Hooked", webhook_graph("Hooked"))
    status, activated, _ = await request(stack, "POST", f"/v1/workflows/{saved['id']}/activate")
    assert status == 200
    [listed] = (await request(stack, "GET", "/v1/workflows"))[1]["workflows"]
    # A list shows neither the graph nor a version's settings (its error workflow): GET /v1/workflows/{id} does.
    assert listed == {key: value for key, value in activated.items() if key not in ("graph", "errorWorkflowId")}
    assert listed["triggers"][0]["url"].startswith(f"{stack.base_url}/v1/hooks/") and listed["activeVersion"] == 1

    # A head whose graph no longer parses (a forged or damaged write) cannot break the list: it is never read.
    await bus.workflows.kv.put(f"head.{saved['id']}", b'{"v": 1, "id": "damaged", "graph": 42}')
    assert (await names(stack))[0] == ["Hooked"]


async def test_a_head_written_without_its_summary_is_repaired_on_read(stack: Stack, bus: Bus) -> None:
    await create(stack, "Listed")
    # A create cut short between the head and its summary: only the head was written.
    orphan = WorkflowHead.model_validate({"id": "wf_cutshort", "name": "Cut short", "version": 1,
                                          "graph": graph(edges=[], name="Cut short")})
    await bus.workflows.kv.create("head.wf_cutshort", orphan.model_dump_json().encode())
    assert (await names(stack))[0] == ["Cut short", "Listed"], "a list writes the missing summary"

    # A save cut short between the head and its summary: the summary is behind until the head is read again.
    head, revision = await bus.workflows.get("wf_cutshort") or (None, 0)
    assert head is not None
    moved = head.model_copy(update={"version": 2, "name": "Cut short v2"})
    await bus.workflows.kv.update("head.wf_cutshort", moved.model_dump_json().encode(), last=revision)
    assert "Cut short" in (await names(stack))[0]
    status, body, _ = await request(stack, "GET", "/v1/workflows/wf_cutshort")
    assert status == 200 and body["version"] == 2
    listed = (await request(stack, "GET", "/v1/workflows"))[1]["workflows"]
    assert [(w["name"], w["version"]) for w in listed if w["id"] == "wf_cutshort"] == [("Cut short v2", 2)]


async def test_a_delete_cut_short_is_finished_by_deleting_again(stack: Stack, bus: Bus) -> None:
    saved = await create(stack, "Half deleted")
    await bus.workflows.kv.purge(f"head.{saved['id']}")  # the head went; the summary's purge never happened
    assert (await names(stack))[0] == ["Half deleted"]
    status, _, _ = await request(stack, "DELETE", f"/v1/workflows/{saved['id']}")
    assert status == 204
    assert await names(stack) == ([], None)
    status, _, _ = await request(stack, "DELETE", f"/v1/workflows/{saved['id']}")
    assert status == 404
