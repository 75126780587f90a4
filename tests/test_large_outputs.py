"""Run state that does not grow with the work: large outputs are stored apart, changes are only their events,
and writers racing on one run lose nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from bus import Bus, EmbeddedNats, subjects
from schemas import Dag, LogEntry, LogEvent, RunRecord, fold_events
from engine.limits import too_deep
from tests.support.graphs import edge, graph, http, node, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.support.waiting import eventually

FAN_OUT = 200
BODY_CHARS = 64 * 1024 - 64  # just under the HTTP step's 64 KiB body cap, so nothing is cut


async def test_a_200_way_fan_out_of_64_kib_outputs_completes_and_stays_small(stack: Stack, mock_http: MockHttp) -> None:
    branches = [f"f{i}" for i in range(FAN_OUT)]
    for i in range(FAN_OUT):
        mock_http.reply(f"/big/{i}", Reply(status=200, body=f"{i:04d}" + "x" * (BODY_CHARS - 4)))
    mock_http.reply("/join", Reply(status=200, body={"ok": True}))
    join = http("join", mock_http.url("/join"), json_body={
        "first": "{{ steps.f7.output.body[:4] }}", "last": "{{ steps.f199.output.body[:4] }}",
        "length": "{{ steps.f42.output.body | length }}",
    })
    workflow = graph(*(http(b, mock_http.url(f"/big/{i}"), method="GET") for i, b in enumerate(branches)), join,
                     edges=[*(edge("start", b) for b in branches), *(edge(b, "join") for b in branches)])

    run_id = await stack.start_run(workflow)
    record = await stack.finish(run_id, timeout=120)

    assert record["status"] == "succeeded", record.get("error")
    [joined] = mock_http.requests_to("/join")
    assert joined.json() == {"first": "0007", "last": "0199", "length": BODY_CHARS}, "the join read the outputs it named"
    steps = steps_by_id(record)
    big = steps["f42"]
    assert big["outputRef"] and big["output"] is None, "a 64 KiB output is kept apart, by reference"

    # The run's state and its changes stay small: 200 × 64 KiB of outputs are not in them.
    assert stack.http is not None
    async with stack.http.get(f"{stack.base_url}/v1/runs/{run_id}") as response:
        assert len(await response.read()) < 1024 * 1024
    bus = stack.gateway_bus()
    info = await bus.js.stream_info(subjects.EVENTS_STREAM, subjects_filter=subjects.run_events(run_id))
    assert info.state.bytes < 2 * 1024 * 1024, f"the run's log holds {info.state.bytes} bytes"

    # …and an output is there when someone asks for it.
    async with stack.http.get(f"{stack.base_url}/v1/runs/{run_id}/steps/f42/output") as response:
        assert response.status == 200
        kept = await response.json()
    assert kept["output"]["body"] == "0042" + "x" * (BODY_CHARS - 4)
    assert kept["request"]["method"] == "GET" and kept["request"]["url"].endswith("/big/42")

    stored = await bus.runs.peek(run_id)
    assert stored is not None and stored.eventSeq == 0, "the record is written once, when the run is created"


async def test_a_small_output_stays_in_the_step_and_unknown_steps_are_404(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/small", Reply(status=200, body={"n": 1}))
    run_id = await stack.start_run(graph(http("call", mock_http.url("/small")), edges=[edge("start", "call")]))
    record = await stack.finish(run_id)
    call = steps_by_id(record)["call"]
    assert call["outputRef"] is None and call["output"]["body"] == {"n": 1}
    assert stack.http is not None
    async with stack.http.get(f"{stack.base_url}/v1/runs/{run_id}/steps/call/output") as response:
        assert response.status == 200 and (await response.json())["output"]["body"] == {"n": 1}
    async with stack.http.get(f"{stack.base_url}/v1/runs/{run_id}/steps/nope/output") as response:
        assert response.status == 404
        assert "nope" in (await response.json())["error"]["message"]


async def test_two_writers_racing_on_one_run_lose_no_change(bus: Bus, nats_server: EmbeddedNats) -> None:
    """Two processes' stores, 40 changes each, all at once: each change is stored once, none overwritten."""
    other = await Bus.connect(nats_server.url, "other-writer", bus.settings, give_up_after=10)
    try:
        record = RunRecord.new("race", Dag(workflowName="race", steps=[]), {})
        assert await bus.runs.create(record)

        def add_log(text: str) -> Callable[[RunRecord], tuple[RunRecord, list[LogEvent], None]]:
            def change(current: RunRecord) -> tuple[RunRecord, list[LogEvent], None]:
                event = LogEvent(runId="race", seq=current.eventSeq + 1, ts=datetime.now(UTC), log=LogEntry(msg=text))
                return fold_events(current, [event]), [event], None
            return change

        await asyncio.gather(*(store.runs.mutate("race", add_log(f"{name}-{i}"))
                               for i in range(40) for name, store in (("a", bus), ("b", other))))
        found = await bus.runs.get("race")
        assert found is not None
        final = found[0]
        assert final.eventSeq == 80
        assert sorted(entry.msg for entry in final.logs) == sorted(f"{n}-{i}" for i in range(40) for n in "ab")
    finally:
        await other.close()


async def test_an_output_nested_too_deep_fails_its_step_instead_of_stalling_the_run(stack: Stack) -> None:
    """Each step's output holds the previous one's, one level deeper each time: past 64 levels the step fails,
    saying why (a deeper value could not be read back, and the run would wait forever for its next step)."""
    nodes = [node(f"s{i}", "set", values={"i": i, "prev": "{{ steps.s%d.output }}" % (i - 1) if i else "first"})
             for i in range(70)]
    workflow = graph(*nodes, edges=[edge("start", "s0"), *(edge(f"s{i - 1}", f"s{i}") for i in range(1, 70))])
    record = await stack.finish(await stack.start_run(workflow), timeout=60)
    assert record["status"] == "failed"
    failed = next(s for s in record["steps"] if s["status"] == "failed")
    assert "nested more than 64 levels deep" in failed["error"]
    assert failed["id"] in {"s63", "s64", "s65"}


def test_too_deep_counts_levels_without_recursing() -> None:
    value: object = "leaf"
    for _ in range(5000):  # far deeper than Python's recursion limit
        value = [value]
    assert too_deep(value)
    assert not too_deep({"a": [{"b": 1}]}, limit=3)
    assert too_deep({"a": [{"b": {"c": 1}}]}, limit=3)


async def test_a_long_wait_is_preceded_by_a_snapshot(stack: Stack) -> None:
    """Before a wait of an hour or more, the run's state is written whole, so its older changes may expire
    during the wait without losing it."""
    run_id = await stack.start_run(graph(node("pause", "delay", seconds=7200), edges=[edge("start", "pause")]))
    bus = stack.gateway_bus()

    async def snapshot() -> RunRecord | None:
        stored = await bus.runs.peek(run_id)
        return stored if stored is not None and stored.eventSeq > 0 else None

    stored = await eventually(snapshot, what="the snapshot before the 2-hour wait")
    assert stored.step("pause").status == "waiting" and stored.streamSeq > 0
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/v1/runs/{run_id}/cancel") as response:
        assert response.status == 202
    assert (await stack.finish(run_id))["status"] == "cancelled"
