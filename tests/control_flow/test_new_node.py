"""docs/NODES.md's worked example, run: a control-flow node added with a declaration, a handler and the generic
worker part, and no change to orchestrator/state.py (which names no node type at all)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from examples.nodes import wait_until
from tests.support.graphs import edge, graph, http, node, steps_by_id
from tests.support.mock_http import MockHttp
from tests.support.stack import Stack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def wait_until_node() -> Iterator[None]:
    wait_until.register()
    yield
    wait_until.unregister()


async def test_the_worked_example_waits_until_the_time_it_renders_then_goes_on(
        wait_until_node: None, stack: Stack, mock_http: MockHttp) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    document = graph(node("later", "wait_until", until="{{ payload.sendAt }}"), http("send", mock_http.url("/send")),
                     edges=[edge("start", "later"), edge("later", "send")])
    record = await stack.finish(await stack.start_run(document, inputs={"payload": {"sendAt": soon}}))
    assert record["status"] == "succeeded", record["error"]
    later = steps_by_id(record)["later"]
    assert later["durationMs"] >= 500 and later["output"]["resumedAt"] >= soon
    assert len(mock_http.requests_to("/send")) == 1


async def test_the_worked_example_fails_its_step_on_a_time_without_a_zone(wait_until_node: None, stack: Stack) -> None:
    document = graph(node("later", "wait_until", until="2030-01-01T00:00:00"), edges=[edge("start", "later")])
    record = await stack.finish(await stack.start_run(document))
    assert record["status"] == "failed" and "needs a time zone" in steps_by_id(record)["later"]["error"]


def test_the_state_machine_looks_at_no_node_types_name() -> None:
    """It dispatches on how a step completes and on the handler table; it never asks what type a step is."""
    for name in ("state.py", "change.py"):
        source = (ROOT / "orchestrator" / name).read_text()
        compared = re.findall(r"\.type\s*(?:==|!=|\bin\b)[^\n]*", source)
        assert compared == [], f"orchestrator/{name} compares a step's type: {compared}"

