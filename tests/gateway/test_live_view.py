"""The live view: one shared feed of run events per gateway, fanned out to its sockets.

Many sockets on one run and on many runs see every event once and in order; no socket costs a JetStream consumer;
connecting mid-run and `?after=` miss nothing; a socket that never reads is dropped rather than buffered without
bound; a gateway restarted mid-run serves the rest of the run."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import aiohttp
import pytest

from bus import Bus, FollowerDropped, run_events_hub, subjects
from schemas import LogEntry, LogEvent
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, http_graph
from tests.support.waiting import eventually


def chain_graph(mock_http: MockHttp, length: int, path: str) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}}]
    edges = []
    for index in range(length):
        node_id = f"call_{index}"
        nodes.append({"id": node_id, "type": "http", "position": {"x": 0, "y": 0},
                      "data": {"label": node_id, "config": {"method": "GET", "url": mock_http.url(path)}}})
        edges.append({"id": f"e{index}", "source": nodes[-2]["id"], "target": node_id})
    return {"nodes": nodes, "edges": edges, "meta": {"name": "Chain"}}


def assert_complete(events: list[dict[str, Any]]) -> None:
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), "every event once, in order"
    assert events[-1]["type"] == "run" and events[-1]["status"] == "succeeded"


async def event_consumers(stack: Stack) -> int:
    info = await stack.buses[0].js.stream_info(subjects.EVENTS_STREAM)
    return int(info.state.consumer_count)


async def test_many_sockets_on_one_run_and_on_many_runs_cost_no_consumer_each(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/slow", Reply(200, {"ok": True}, delay_s=0.4))
    runs = [await stack.start_run(chain_graph(mock_http, 3, "/slow")) for _ in range(4)]
    followers = [asyncio.create_task(stack.events(run_id)) for run_id in runs for _ in range(8)]
    hub = stack.gateway_bus().events_hub

    async def all_followed() -> bool:
        return hub.followed_runs() == set(runs)

    await eventually(all_followed, what="every run to be followed")
    assert not any(f.done() for f in followers), "the runs are still going (their calls take 0.4 s each)"
    assert await event_consumers(stack) <= 1, "one feed for the whole gateway, not one consumer per socket"
    results = await asyncio.gather(*followers)
    for index, events in enumerate(results):
        assert_complete(events)
        assert events == results[index - index % 8], "every socket of a run sees the same events"
    assert len({r[0]["runId"] for r in results}) == 4


async def test_connecting_mid_run_and_after_miss_nothing(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/slow", Reply(200, {"ok": True}, delay_s=0.3))
    run_id = await stack.start_run(chain_graph(mock_http, 4, "/slow"))
    first = await stack.events(run_id, until=lambda e: e["type"] == "step" and e["step"]["id"] == "call_1")
    mid = await stack.events(run_id, after=first[-1]["seq"])  # connects while call_1 is still running
    everything = await stack.events(run_id)
    assert_complete(everything)
    assert first + mid == everything


async def test_a_follower_that_never_reads_is_dropped_not_buffered(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, bus: Bus
) -> None:
    """What a socket that stopped reading amounts to once the kernel's buffers are full: a follower that takes
    nothing. (Filling loopback's buffers takes megabytes of events; the hub's bound is what keeps memory flat.)"""
    monkeypatch.setattr(run_events_hub, "FOLLOWER_BUFFER_BYTES", 64 * 1024)
    feed = stack.gateway_bus()
    run_id = "r" + os.urandom(8).hex()
    events = [LogEvent(runId=run_id, seq=n, log=LogEntry(msg="x" * 1000)) for n in range(1, 201)]
    async with feed.follow_run(run_id) as stalled, feed.follow_run(run_id) as reading:
        received: list[int] = []

        async def read() -> None:
            async for event in reading.events(tick=0.5):
                if event is not None:
                    received.append(event.seq)
                    if event.seq == 200:
                        return

        reader = asyncio.create_task(read())
        with caplog.at_level(logging.WARNING):
            for event in events:
                await bus.emit(run_id, [event])  # staged as the admin: the gateway may not write run logs
                await asyncio.sleep(0.002)  # a steady run, not one burst: the reading follower keeps up
            async with asyncio.timeout(10):
                await reader
                await stalled.dropped.wait()
        assert received == list(range(1, 201)), "the reading follower is unaffected"
        assert stalled.buffered_bytes <= 64 * 1024
        assert "fell" in caplog.text
        with pytest.raises(FollowerDropped):
            async for _ in stalled.events(tick=0.1):
                pass
    assert run_id not in feed.events_hub.followed_runs()


async def test_a_gateway_restarted_mid_run_serves_the_rest(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/slow", Reply(200, {"ok": True}, delay_s=0.3))
    run_id = await stack.start_run(chain_graph(mock_http, 5, "/slow"))
    before = await stack.events(run_id, until=lambda e: e["type"] == "step" and e["step"]["id"] == "call_1")
    await stack.restart_gateway()
    rest = await stack.events(run_id, after=before[-1]["seq"])
    assert_complete(before + rest)


async def test_a_webhook_waiting_for_its_run_uses_the_same_feed(stack: Stack, mock_http: MockHttp) -> None:
    """lastNode answers from the shared feed too: many waiting requests, still no consumer each."""
    assert stack.http is not None
    mock_http.reply("/slow", Reply(200, {"n": 1}, delay_s=0.4))
    graph = {
        "nodes": [
            {"id": "hook", "type": "webhook", "position": {"x": 0, "y": 0},
             "data": {"label": "Hook", "config": {"responseMode": "lastNode", "verify": {"kind": "none"}}}},
            {"id": "call", "type": "http", "position": {"x": 0, "y": 0},
             "data": {"label": "Call", "config": {"method": "GET", "url": mock_http.url("/slow")}}},
        ],
        "edges": [{"id": "e", "source": "hook", "target": "call"}],
        "meta": {"name": "Waits"},
    }
    async with stack.http.post(f"{stack.base_url}/v1/workflows", json={"name": "Waits", "graph": graph}) as response:
        created = await response.json()
    async with stack.http.post(f"{stack.base_url}/v1/workflows/{created['id']}/activate") as response:
        assert response.status == 200
    url = created["triggers"][0]["url"]

    async def call() -> tuple[int, Any]:
        async with aiohttp.ClientSession() as anonymous, anonymous.post(url, json={"i": 1}) as response:
            return response.status, await response.json()

    calls = [asyncio.create_task(call()) for _ in range(10)]
    hub = stack.gateway_bus().events_hub

    async def waiting() -> bool:
        return len(hub.followed_runs()) == 10

    await eventually(waiting, what="all ten requests to wait on their runs")
    assert await event_consumers(stack) <= 1
    for status, body in await asyncio.gather(*calls):
        assert status == 200 and json.loads(json.dumps(body))["body"] == {"n": 1}, body


async def test_listing_and_following_without_the_feed_started_is_cheap(stack: Stack, mock_http: MockHttp) -> None:
    """No one follows: the gateway holds no consumer at all."""
    run_id = await stack.start_run(http_graph(mock_http.url("/ok")))

    async def succeeded() -> bool:
        return bool((await stack.get_run(run_id))["status"] == "succeeded")

    await eventually(succeeded, what="the run to succeed")
    assert await event_consumers(stack) == 0
