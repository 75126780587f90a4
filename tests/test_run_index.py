"""Listing runs through the run index: filters and pages are right, and retention removes a run with all its parts."""

from __future__ import annotations

from typing import Any

from bus import BusSettings, EmbeddedNats, set_up_bus, subjects
from bus.run_store import RUNNING_LISTED_AFTER_S
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, http_graph
from tests.support.waiting import eventually


async def list_all(stack: Stack, query: str, limit: int) -> list[dict[str, Any]]:
    """Every page of a listing, following `next`."""
    assert stack.http is not None
    seen: list[dict[str, Any]] = []
    before = ""
    for _ in range(100):
        async with stack.http.get(f"{stack.base_url}/v1/runs?limit={limit}{query}{before}") as response:
            assert response.status == 200, await response.text()
            body = await response.json()
        assert len(body["runs"]) <= limit
        seen += body["runs"]
        if body["next"] is None:
            return seen
        assert body["next"] == body["runs"][-1]["id"]
        before = f"&before={body['next']}"
    raise AssertionError("paging never ended")


async def test_filters_and_pages_are_right(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/bad", Reply(status=502))
    finished: list[tuple[str, str, str]] = []  # (id, status, name) in the order they finished
    for index in range(23):
        failing = index % 3 == 0
        graph = http_graph(mock_http.url("/bad" if failing else "/ok"), name="A" if index % 2 else "B")
        run_id = await stack.start_run(graph)
        record = await stack.finish(run_id)
        finished.append((run_id, record["status"], record["workflowName"]))
    newest_first = [run_id for run_id, _, _ in reversed(finished)]
    for limit in (1, 4, 7, 50):
        assert [r["id"] for r in await list_all(stack, "", limit)] == newest_first
    failed = [run_id for run_id, status, _ in reversed(finished) if status == "failed"]
    assert len(failed) == 8
    for limit in (1, 3, 8, 9):
        assert [r["id"] for r in await list_all(stack, "&status=failed", limit)] == failed
    assert await list_all(stack, "&status=running", 5) == []
    assert await list_all(stack, "&trigger=webhook", 5) == []
    assert [r["id"] for r in await list_all(stack, "&trigger=api", 10)] == newest_first
    summaries = await list_all(stack, "&status=succeeded", 6)
    assert all(s["status"] == "succeeded" and s["durationMs"] is not None for s in summaries)
    assert len(summaries) == 15

    # A run whose status changes moves to the front, once: the index keeps one summary per run.
    slow = await stack.start_run(http_graph(mock_http.url("/ok")))
    await stack.finish(slow)
    listed = [r["id"] for r in await list_all(stack, "", 50)]
    assert listed[0] == slow and listed.count(slow) == 1 and len(listed) == 24


async def test_a_run_is_listed_as_running_only_once_it_has_run_a_while(stack: Stack, mock_http: MockHttp) -> None:
    """A short run goes from queued straight to its end in the index (nobody lists it as running); one still going
    after RUNNING_LISTED_AFTER_S is listed as running, and then as what it ended as, once."""
    js = stack.gateway_bus().js
    before = (await js.stream_info(subjects.INDEX_STREAM)).state.last_seq
    quick = await stack.start_run(http_graph(mock_http.url("/ok")))
    await stack.finish(quick)
    written = (await js.stream_info(subjects.INDEX_STREAM)).state.last_seq - before
    assert written == 2, f"{written} summaries of a run that ended within a second: queued and its end, not running"

    mock_http.reply("/slow", Reply(delay_s=RUNNING_LISTED_AFTER_S + 2))
    slow = await stack.start_run(http_graph(mock_http.url("/slow")))

    async def listed_running() -> bool:
        return [r["id"] for r in await list_all(stack, "&status=running", 10)] == [slow]

    await eventually(listed_running, what="the slow run to be listed as running", timeout=RUNNING_LISTED_AFTER_S + 10)
    record = await stack.finish(slow)
    assert record["status"] == "succeeded"
    assert await list_all(stack, "&status=running", 10) == []
    assert [r["id"] for r in await list_all(stack, "", 10)] == [slow, quick]


async def test_retention_removes_a_run_with_all_its_parts(nats_server: EmbeddedNats, mock_http: MockHttp) -> None:
    settings = BusSettings(step_ack_wait_s=3.0, duplicate_window_s=1.0, run_retention_s=2.0, record_grace_s=0.0)
    await set_up_bus(nats_server.url, settings)  # the deployment's owner reconciles retention, as `up` would
    stack = Stack(nats_url=nats_server.url, bus_settings=settings)
    try:
        await stack.start_orchestrator()
        await stack.start_worker()
        await stack.start_gateway()
        assert stack.http is not None
        mock_http.reply("/big", Reply(status=200, body="x" * 20_000))  # stored apart: a part of its own
        run_id = await stack.start_run(http_graph(mock_http.url("/big")))
        record = await stack.finish(run_id)
        ref = record["steps"][1]["outputRef"]
        bus = stack.buses[0]
        assert ref and await bus.step_outputs.get(ref) is not None

        async def gone() -> bool:
            async with stack.http.get(f"{stack.base_url}/v1/runs/{run_id}") as response:  # type: ignore[union-attr]
                record_gone = response.status == 404
            async with stack.http.get(f"{stack.base_url}/v1/runs") as response:  # type: ignore[union-attr]
                listed = (await response.json())["runs"]
            return (record_gone and listed == [] and await bus.events_pending(run_id) == 0
                    and await bus.step_outputs.get(ref) is None)

        await eventually(gone, timeout=20, what="the run's record, summary, events and stored output to expire")
    finally:
        await stack.stop()
