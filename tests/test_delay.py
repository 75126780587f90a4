"""The delay step: durable, holding no worker, cancellable, surviving SIGKILL of every process."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from bus import Bus, EmbeddedNats, subjects
from schemas import RunRequested
from tests.conftest import TEST_BUS_SETTINGS
from tests.support.graphs import edge, graph, http, node, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, spawn_actor, step_is
from tests.support.waiting import eventually
from tests.test_workers_and_secrets import ENGINE_ENV


def delayed_call(mock_http: MockHttp, seconds: float) -> dict[str, object]:
    return graph(node("wait", "delay", seconds=seconds), http("after", mock_http.url("/after")),
                 edges=[edge("start", "wait"), edge("wait", "after")])


async def test_delay_waits_then_the_next_step_runs(stack: Stack, mock_http: MockHttp) -> None:
    record = await stack.finish(await stack.start_run(delayed_call(mock_http, 0.5)))
    wait = steps_by_id(record)["wait"]
    assert record["status"] == "succeeded"
    assert wait["status"] == "succeeded" and wait["durationMs"] >= 500 and wait["worker"] is None
    assert len(mock_http.requests_to("/after")) == 1


async def test_a_waiting_delay_holds_no_worker(stack_parts: Stack, mock_http: MockHttp) -> None:
    await stack_parts.start_orchestrator()
    await stack_parts.start_worker(concurrency=1)
    await stack_parts.start_gateway()
    waiting = await stack_parts.start_run(delayed_call(mock_http, 30))
    await stack_parts.events(waiting, until=step_is("wait", "waiting"))
    other = graph(http("call", mock_http.url("/other")), edges=[edge("start", "call")])
    record = await stack_parts.finish(await stack_parts.start_run(other), timeout=15)
    assert record["status"] == "succeeded", "the only worker slot was free while the delay waited"
    assert (await stack_parts.get_run(waiting))["status"] == "running"


async def test_cancel_ends_a_waiting_delay_and_removes_its_timer(stack: Stack, mock_http: MockHttp, bus: Bus) -> None:
    run_id = await stack.start_run(delayed_call(mock_http, 3600))
    await stack.events(run_id, until=step_is("wait", "waiting"))
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/v1/runs/{run_id}/cancel") as response:
        assert response.status == 202
    record = await stack.finish(run_id)
    assert record["status"] == "cancelled" and steps_by_id(record)["wait"]["status"] == "cancelled"

    async def timer_gone() -> bool:
        info = await bus.js.stream_info(subjects.TIMERS_STREAM, subjects_filter=subjects.run_timers(run_id))
        return not (info.state.subjects or {})

    await eventually(timer_gone, what="the cancelled run's timer to be removed")
    assert mock_http.requests_to("/after") == []


async def test_delay_survives_sigkill_of_orchestrator_worker_and_nats_server(
    nats_server: EmbeddedNats, mock_http: MockHttp, tmp_path: Path
) -> None:
    mock_http.reply("/after", Reply(status=200, body={"ok": True}))
    env = {**ENGINE_ENV}

    def actors(round_: int) -> list[subprocess.Popen[bytes]]:
        return [spawn_actor(name, nats_server.url, env=env, log_path=tmp_path / f"{name}-{round_}.log")
                for name in ("orchestrator", "engine")]

    processes = actors(1)
    bus = await Bus.connect(nats_server.url, "test-client", TEST_BUS_SETTINGS, give_up_after=10)
    try:
        await bus.request_run(RunRequested.model_validate({"runId": "durable-delay", "graph": delayed_call(mock_http, 4)}), "durable-delay")

        async def waiting() -> bool:
            found = await bus.runs.get("durable-delay")
            return found is not None and found[0].step("wait").status == "waiting"

        await eventually(waiting, what="the delay to start waiting")
        await bus.close()
        for process in processes:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        assert nats_server.process is not None
        nats_server.process.send_signal(signal.SIGKILL)
        nats_server.process.wait(timeout=10)
        nats_server.stop()  # already dead: this only tidies up its pipe

        nats_server.start()
        processes = actors(2)
        bus = await Bus.connect(nats_server.url, "test-client", TEST_BUS_SETTINGS, give_up_after=10)

        async def finished() -> str | None:
            found = await bus.runs.get("durable-delay")
            return found[0].status if found is not None and found[0].finished else None

        assert await eventually(finished, timeout=60, what="the run to finish after the restart") == "succeeded"
        found = await bus.runs.get("durable-delay")
        assert found is not None and found[0].step("wait").status == "succeeded"
        assert len(mock_http.requests_to("/after")) == 1, "the step after the delay ran exactly once"
    finally:
        await bus.close()
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=15)
