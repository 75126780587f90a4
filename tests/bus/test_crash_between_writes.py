"""Saved workflows and tokens in KV on a real nats-server: what a crash between two writes leaves is harmless."""

from __future__ import annotations

import pytest

from bus import Bus
from bus.tokens_kv import TokenExists
from schemas import Graph
from schemas.auth import StoredToken
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


async def test_a_token_create_cut_by_a_crash_reserves_no_name(bus: Bus) -> None:
    # What a gateway killed between the two writes of a create leaves: the record, and no name claimed.
    orphan = StoredToken(name="deploy-bot", role="admin", hash="a" * 64)
    await bus.tokens.kv.put(f"token.{orphan.hash}", orphan.model_dump_json().encode())
    assert await bus.tokens.all() == [], "nobody holds that token: it is not listed"
    fresh = StoredToken(name="deploy-bot", role="runner", hash="b" * 64)
    await bus.tokens.create(fresh)
    assert [(t.name, t.role) for t in await bus.tokens.all()] == [("deploy-bot", "runner")]
    with pytest.raises(TokenExists):
        await bus.tokens.create(StoredToken(name="deploy-bot", role="admin", hash="c" * 64))
    assert await bus.tokens.by_hash("c" * 64) is None, "a refused create leaves no record"
