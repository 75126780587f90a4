"""Garbage, oversized and wrong-schema messages on every subject leave every actor alive, and a normal run still
succeeds; garbage on a running run's own events subject neither stalls it nor breaks its live feed.

Published with a bare nats-py client, as any other system on the bus could."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NATS

from bus import subjects
from engine import Worker
from tests.support.graphs import edge, graph, http, node
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import TERMINAL, Stack, http_graph, step_is
from tests.support.waiting import eventually


@pytest.fixture
async def raw(stack: Stack) -> AsyncIterator[NATS]:
    client = await nats.connect(stack.nats_url, name="garbage-publisher")
    yield client
    await client.close()


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


def _now(offset_s: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=offset_s)).isoformat()


BYTES = [
    b"", b"   ", b"\x00\xff\xfe garbage", bytes(range(256)), b"{", b'{"runId": "\xff\xfe", "stepId": "\xc3\x28"}',
    b'{"runId": "\\ud800", "stepId": "\\udfff"}', b"null", b"[1, 2, 3]", b'"a string"', b"12", b"true",
    b'{"v": 99, "runId": 7}', b'{"runId": "x", "version": NaN, "attempt": 1e400}',
    b'{"runId": "x", "attempt": ' + b"9" * 5000 + b"}",
    _nested(100_000), b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
]


def _other_schemas(run_id: str) -> list[dict[str, Any]]:
    """A valid message of every bus schema, for a run that does not exist: each lands on every other subject."""
    return [
        {"runId": run_id, "graph": {"nodes": [{"id": "s", "type": "start"}]}},  # RunRequested
        {"runId": run_id, "reason": "garbage"},  # CancelRequested, StepAbort
        {"runId": run_id, "stepId": "s", "name": "S", "type": "set", "config": {"values": {"a": 1}}},  # StepDispatch
        {"runId": run_id, "stepId": "s", "status": "succeeded", "startedAt": _now(), "output": 1},  # StepResult
        {"runId": run_id, "stepId": "s", "attempt": 1, "kind": "delay", "dueAt": _now()},  # TimerDue
        {"runId": run_id, "events": [{"type": "run", "seq": 1, "status": "succeeded"}]},  # RunEvents
        {"actor": "nobody", "action": "workflow.create", "target": "wf"},  # an audit entry
        {"stream_seq": 999_999_999, "deliveries": 5},  # a max-deliveries advisory
        {"stream_seq": -1}, {"stream_seq": "one"},
    ]


def _deep(run_id: str) -> list[dict[str, Any]]:
    """Valid-looking messages with a value nested just under what the parser reads (about 200 levels)."""
    deep = json.loads(_nested(190))
    return [
        {"runId": run_id, "graph": graph(node("keep", "set", values={"a": 1}), edges=[edge("start", "keep")]),
         "inputs": {"deep": deep}},
        {"runId": run_id, "stepId": "s", "status": "succeeded", "startedAt": _now(), "output": deep},
        {"runId": run_id, "stepId": "s", "name": "S", "type": "set", "config": {"values": {"a": deep}}},
    ]


def _huge_graph(run_id: str, nodes: int = 5000) -> dict[str, Any]:
    """Start, a delay of an hour (so nothing runs), then a chain of `nodes` set nodes: past the node limit."""
    chain = [node("wait", "delay", seconds=3600)] + [node(f"n{i}", "set", values={"i": i}) for i in range(nodes)]
    names = ["start", "wait"] + [f"n{i}" for i in range(nodes)]
    return {"runId": run_id, "graph": graph(*chain, edges=[edge(a, b) for a, b in zip(names, names[1:])])}


def _near_max_payload(run_id: str, max_payload: int) -> dict[str, Any]:
    document = graph(node("keep", "set", values={"a": 1}), edges=[edge("start", "keep")])
    return {"runId": run_id, "graph": document, "inputs": {"big": "x" * (max_payload - 4096)}}


STREAM_SUBJECTS = [
    subjects.RUNS_REQUESTED, subjects.RUNS_CANCEL, subjects.RUNS_RESUME, subjects.STEPS_DISPATCH, subjects.STEPS_RESULT,
    subjects.timer("no-such-run", "s"), subjects.timer("x", "y.z"), subjects.run_events("no-such-run"),
    subjects.AUDIT, subjects.run_index("~", "failed", "api", "no-such-run"), f"{subjects.RUN_INDEX_PREFIX}.x",
    subjects.STEP_GAVE_UP,
]


async def _publish_everything(raw: NATS) -> None:
    js = raw.jetstream()
    messages = BYTES + [json.dumps(m).encode() for m in _other_schemas("no-such-run") + _deep("deep-1")]
    messages.append(b"{" + b'"pad": "' + b"y" * (raw.max_payload - 64) + b'"}')  # just under max_payload, not JSON-ish
    for subject in STREAM_SUBJECTS:
        for data in messages:
            await js.publish(subject, data)
    for data in messages:
        await raw.publish(subjects.STEPS_ABORT, data)
        await raw.publish(subjects.EXPRESSIONS_PREVIEW, data)
    await js.publish(subjects.RUNS_REQUESTED, json.dumps(_huge_graph("huge-graph")).encode())
    await js.publish(subjects.RUNS_REQUESTED, json.dumps(_near_max_payload("near-max", raw.max_payload)).encode())
    await raw.flush()


async def _settled(stack: Stack, run_id: str, settled: tuple[str, ...] = tuple(TERMINAL)) -> dict[str, Any]:
    assert stack.http is not None
    http = stack.http

    async def found() -> dict[str, Any] | None:
        async with http.get(f"{stack.base_url}/v1/runs/{run_id}") as response:
            assert response.status in (200, 404), await response.text()
            record: dict[str, Any] = await response.json() if response.status == 200 else {}
        return record if record.get("status") in settled else None

    return await eventually(found, timeout=20, what=f"run {run_id} to be recorded as {' or '.join(settled)}")


def _alive(stack: Stack) -> None:
    for task in stack.tasks:
        assert not task.done(), f"an actor stopped: {task!r}" + (f" ({task.exception()!r})" if not task.cancelled() else "")
    assert stack.server_task is not None and not stack.server_task.done(), "the gateway stopped"


async def test_garbage_on_every_subject_leaves_every_actor_alive(stack: Stack, mock_http: MockHttp, raw: NATS) -> None:
    await _publish_everything(raw)

    run_id = await stack.start_run(http_graph(mock_http.url("/alive")))
    assert (await stack.finish(run_id))["status"] == "succeeded"
    assert mock_http.requests_to("/alive")
    _alive(stack)

    assert stack.http is not None
    for path in ("/v1/runs?limit=200", "/v1/audit", "/v1/runs/no-such-run"):
        async with stack.http.get(f"{stack.base_url}{path}") as response:
            assert response.status < 500, f"GET {path}: {response.status} {await response.text()}"

    # The runs asked for with a runId are recorded, whatever became of them: none is left queued or retried.
    near_max = await _settled(stack, "near-max")
    assert near_max["status"] == "succeeded", near_max
    deep = await _settled(stack, "deep-1")
    assert deep["status"] == "failed" and "nested more than" in deep["error"], deep
    huge = await _settled(stack, "huge-graph")
    assert huge["status"] == "failed" and "at most 1000 are allowed" in huge["error"], huge

    # The worker's abort listener read the garbage on steps.abort too: a cancel still stops a running step there.
    worker = next(actor for actor in stack.actors if isinstance(actor, Worker))
    mock_http.reply("/slow", Reply(delay_s=30))
    slow = await stack.start_run(http_graph(mock_http.url("/slow")))
    await stack.events(slow, until=step_is("call", "running"))
    async with stack.http.post(f"{stack.base_url}/v1/runs/{slow}/cancel") as response:
        assert response.status == 202
    assert (await stack.finish(slow))["status"] == "cancelled"

    async def step_aborted() -> bool:
        return not worker.in_flight

    await eventually(step_aborted, timeout=5, what="the worker to abort the cancelled step")
    # The engine's preview service read it all too, and still answers: garbage with an error, a preview with its value.
    answer = await raw.request(subjects.EXPRESSIONS_PREVIEW, b"{not json", timeout=5)
    assert json.loads(answer.data)["error"].startswith("malformed preview request"), answer.data
    answer = await raw.request(subjects.EXPRESSIONS_PREVIEW, b'{"expression": "{{ 6 * 7 }}"}', timeout=5)
    assert json.loads(answer.data) == {"value": 42}
    _alive(stack)


async def test_garbage_on_a_running_runs_own_events_leaves_it_and_its_live_feed_whole(
        stack: Stack, mock_http: MockHttp, raw: NATS) -> None:
    mock_http.reply("/slow", Reply(delay_s=1.0, status=200, body={"ok": True}))
    document = graph(http("call", mock_http.url("/slow")), http("next", mock_http.url("/next")),
                     edges=[edge("start", "call"), edge("call", "next")])
    run_id = await stack.start_run(document)
    follower = asyncio.create_task(stack.events(run_id))  # a viewer from the start
    await stack.events(run_id, until=step_is("call", "running"))

    js = raw.jetstream()
    own = subjects.run_events(run_id)
    # Well-formed, but not this run's: another run's id, and a step this run does not have.
    await js.publish(own, json.dumps({"runId": "another-run", "events": [
        {"runId": "another-run", "type": "run", "seq": 99, "status": "failed"}]}).encode())
    await js.publish(own, json.dumps({"runId": run_id, "events": [
        {"runId": run_id, "type": "step", "seq": 98, "step": {"id": "ghost", "nodeId": "ghost", "name": "G", "type": "set"}}
    ]}).encode())
    # Last, what no reader can take for a change: the run's next change must still be stored after it.
    for data in [json.dumps(m).encode() for m in _other_schemas("another-run")] + BYTES:
        await js.publish(own, data)

    events = await asyncio.wait_for(follower, 30)
    assert events[-1]["type"] == "run" and events[-1]["status"] == "succeeded", events[-3:]
    seqs = [event["seq"] for event in events]
    assert seqs == list(range(1, len(seqs) + 1)), seqs
    record = await stack.get_run(run_id)
    assert record["status"] == "succeeded" and mock_http.requests_to("/next")

    later = await stack.events(run_id)  # a viewer after the end replays the same, garbage skipped
    assert [e["seq"] for e in later] == seqs and later[-1]["status"] in TERMINAL
    _alive(stack)
