"""Saved workflows in KV on a real nats-server: no version number is ever left unwritten."""

from __future__ import annotations

from bus import Bus
from schemas import Graph
from schemas.workflows import WorkflowHead
from tests.support.graphs import edge, graph, http


def saved_graph(url: str) -> Graph:
    return Graph.model_validate(graph(http("call", url), edges=[edge("start", "call")]))


async def test_a_version_whose_key_a_crash_left_unwritten_is_kept_before_the_head_moves_on(bus: Bus) -> None:
    store = bus.workflows
    head = WorkflowHead(id="wf_crash", name="Crash", version=1, graph=saved_graph("https://v1.example/"))
    assert await store.create(head)
    # A gateway killed after moving the head to version 2 and before writing version 2's own key:
    found = await store.get("wf_crash")
    assert found is not None
    v2 = found[0].model_copy(update={"version": 2, "graph": saved_graph("https://v2.example/")})
    await store.change("wf_crash", found[1], v2, new_version=False)
    assert await store.versions("wf_crash") == [1, 2], "the head's own version is listed"

    await store.save("wf_crash", 2, lambda h: h.model_copy(update={"version": 3, "graph": saved_graph("https://v3.example/")}))
    assert await store.versions("wf_crash") == [1, 2, 3]
    for number, url in ((1, "https://v1.example/"), (2, "https://v2.example/"), (3, "https://v3.example/")):
        version = await store.version("wf_crash", number)
        assert version is not None and version.graph.nodes[1].data.config == {"method": "POST", "url": url}, number
