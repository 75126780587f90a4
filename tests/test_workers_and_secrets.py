"""Worker processes as users run them (`automateos engine`), redelivery after a kill, and the canary."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import signal
from pathlib import Path

import nats
import pytest

from bus import Bus, BusSettings, EmbeddedNats, set_up_bus, subjects
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, http_graph, spawn_actor, step_is
from tests.support.streams import stored_messages
from tests.support.waiting import eventually

# The same bus settings as the in-process actors (tests/conftest.py), so no actor reconfigures the streams.
ENGINE_ENV = {"AUTOMATEOS_STEP_ACK_WAIT": "3", "AUTOMATEOS_DUPLICATE_WINDOW": "60"}


async def test_two_worker_processes_both_execute_steps(stack_parts: Stack, mock_http: MockHttp, tmp_path: Path) -> None:
    await stack_parts.start_orchestrator()
    await stack_parts.start_gateway()
    workers = [spawn_actor("engine", stack_parts.nats_url, "--concurrency", "2", env=ENGINE_ENV,
                           log_path=tmp_path / f"engine-{i}.log") for i in range(2)]
    try:
        mock_http.reply("/work", Reply(delay_s=0.2))
        run_ids = [await stack_parts.start_run(http_graph(mock_http.url("/work"))) for _ in range(12)]
        records = [await stack_parts.finish(run_id) for run_id in run_ids]
        assert all(r["status"] == "succeeded" for r in records)
        used = {s["worker"] for r in records for s in r["steps"] if s["id"] == "call"}
        assert len(used) == 2, used
        assert {int(name.rsplit(":", 1)[1]) for name in used} == {w.pid for w in workers}
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=15)


async def test_worker_killed_mid_step_costs_no_run(stack_parts: Stack, mock_http: MockHttp, tmp_path: Path) -> None:
    await stack_parts.start_orchestrator()
    await stack_parts.start_gateway()
    # The first call hangs (the worker dies during it); the redelivered attempt gets an answer.
    mock_http.reply("/fragile", Reply(delay_s=60), Reply(status=200, body={"ok": True}))
    doomed = spawn_actor("engine", stack_parts.nats_url, "--concurrency", "1", env=ENGINE_ENV, log_path=tmp_path / "doomed.log")
    rescuer = None
    try:
        run_id = await stack_parts.start_run(http_graph(mock_http.url("/fragile")))
        await stack_parts.events(run_id, until=step_is("call", "running"))
        async def first_call_arrived() -> bool:
            return bool(mock_http.requests_to("/fragile"))

        await eventually(first_call_arrived, what="the first call to reach the mock")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)

        rescuer = spawn_actor("engine", stack_parts.nats_url, env=ENGINE_ENV, log_path=tmp_path / "rescuer.log")
        record = await stack_parts.finish(run_id, timeout=60)
        call = next(s for s in record["steps"] if s["id"] == "call")
        assert record["status"] == "succeeded"
        assert call["worker"].endswith(f":{rescuer.pid}")
        assert call["attempt"] == 1, "a redelivery is the same attempt, not a retry"
        calls = mock_http.requests_to("/fragile")
        assert len(calls) == 2
        assert any("delivered 2 times" in log["msg"] for log in record["logs"])
        keys = [c.headers.get("Idempotency-Key") for c in calls]
        assert keys[0] == keys[1] == f"{run_id}-call", "the API sees one operation, though it was sent twice"
    finally:
        for process in (doomed, rescuer):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=15)


@pytest.mark.parametrize("reply_status", [200, 500])
async def test_canary_authorization_never_appears_in_logs_events_or_api(
    stack: Stack, mock_http: MockHttp, bus: Bus, caplog: pytest.LogCaptureFixture, reply_status: int
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"canary-{secrets.token_hex(12)}"
    # The server echoes the secret back in its body and headers, as careless APIs do.
    mock_http.reply("/echo", Reply(status=reply_status, body={"youSent": f"Bearer {canary}", "note": f"token was {canary}"},
                                   headers={"X-Echo": canary, "X-Api-Token": canary}))
    graph = http_graph(mock_http.url("/echo"), headers={"Authorization": f"Bearer {canary}"}, json_body={"a": 1})
    run_id = await stack.start_run(graph)
    events = await stack.events(run_id)
    assert events[-1]["status"] == ("succeeded" if reply_status == 200 else "failed")
    assert mock_http.requests_to("/echo")[0].headers["Authorization"] == f"Bearer {canary}", "the real call carries it"

    assert stack.http is not None
    seen: list[str] = [json.dumps(events)]
    for path in (f"/v1/runs/{run_id}", "/v1/runs"):
        async with stack.http.get(f"{stack.base_url}{path}") as response:
            seen.append(await response.text())
    seen += [record.getMessage() for record in caplog.records]
    stored_events = await stored_messages(bus, subjects.EVENTS_STREAM)
    assert stored_events, "the events stream holds this run's events"
    stored = stored_events + await stored_messages(bus, subjects.RESULTS_STREAM)
    seen += [blob.decode(errors="replace") for blob in stored]

    leaks = [text[:200] for text in seen if canary in text]
    assert not leaks, leaks
    assert any("••••••" in text for text in seen), "the echoed secret is visibly masked, not silently dropped"


async def test_a_step_longer_than_ack_wait_is_kept_by_heartbeats_not_redelivered(stack: Stack, mock_http: MockHttp) -> None:
    ack_wait = stack.bus_settings.step_ack_wait_s
    mock_http.reply("/long", Reply(delay_s=ack_wait * 2))
    run_id = await stack.start_run(http_graph(mock_http.url("/long"), timeoutMs=int(ack_wait * 10 * 1000)))
    record = await stack.finish(run_id, timeout=ack_wait * 10)
    assert record["status"] == "succeeded"
    assert next(s for s in record["steps"] if s["id"] == "call")["attempt"] == 1
    assert len(mock_http.requests_to("/long")) == 1


async def test_a_step_every_worker_dies_on_fails_its_run_instead_of_hanging(
    nats_server: EmbeddedNats, mock_http: MockHttp
) -> None:
    settings = BusSettings(step_ack_wait_s=1.0, max_deliver=2, duplicate_window_s=60.0)
    await set_up_bus(nats_server.url, settings)
    stack = Stack(nats_url=nats_server.url, bus_settings=settings)
    await stack.start_orchestrator()
    await stack.start_gateway()
    client = await nats.connect(nats_server.url)
    try:
        # A "worker" that takes the step and never answers, as if it were killed each time.
        doomed = await client.jetstream().pull_subscribe_bind("engine", "STEPS_DISPATCH")

        async def keep_taking() -> None:
            while True:
                try:
                    await doomed.fetch(1, timeout=0.5)
                except TimeoutError:
                    continue

        taker = asyncio.create_task(keep_taking())
        run_id = await stack.start_run(http_graph(mock_http.url("/never-called")))
        record = await stack.finish(run_id, timeout=30)
        taker.cancel()
        await asyncio.gather(taker, return_exceptions=True)
        step = next(s for s in record["steps"] if s["id"] == "call")
        assert record["status"] == "failed"
        assert step["status"] == "failed" and step["error"].startswith("gave up after 2 attempts")
        assert mock_http.received == []
    finally:
        await client.close()
        await stack.stop()
