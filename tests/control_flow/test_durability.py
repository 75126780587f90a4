"""Control flow survives SIGKILL: a loop loses no item, a failed run starts its error workflow exactly once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

from bus import Bus, EmbeddedNats
from schemas import RunRequested
from tests.conftest import TEST_BUS_SETTINGS
from tests.support.graphs import edge, graph, http, node
from tests.support.mock_http import MockHttp, Reply
from schemas.items import child_run_id
from tests.support.stack import Stack, spawn_actor
from tests.support.waiting import eventually
from tests.test_workers_and_secrets import ENGINE_ENV


def actors(nats_url: str, tmp_path: Path, round_: int) -> list[subprocess.Popen[bytes]]:
    return [spawn_actor(name, nats_url, env=ENGINE_ENV, log_path=tmp_path / f"{name}-{round_}.log")
            for name in ("orchestrator", "engine")]


def kill(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=15)


async def test_the_orchestrator_and_an_engine_killed_mid_loop_lose_no_item(
        nats_server: EmbeddedNats, mock_http: MockHttp, tmp_path: Path) -> None:
    mock_http.reply("/item", Reply(status=200, body={"ok": True}, delay_s=0.05))
    document = graph(
        node("each", "loop", items="{{ inputs.numbers }}", concurrency=2),
        http("call", mock_http.url("/item"), body='{"i": {{ loop.item }}}'),
        edges=[edge("start", "each"), edge("each", "call", "each")],
    )
    processes = actors(nats_server.url, tmp_path, 1)
    bus = await Bus.connect(nats_server.url, "test-client", TEST_BUS_SETTINGS, give_up_after=10)
    try:
        request = RunRequested.model_validate({"runId": "killed-loop", "graph": document,
                                               "inputs": {"numbers": list(range(40))}})
        await bus.request_run(request, "killed-loop")
        await eventually(lambda: _at_least(mock_http, 8), what="some items to be called")
        kill(processes)
        called_before = len(mock_http.requests_to("/item"))
        assert called_before < 40, "the kill came mid-loop"
        processes = actors(nats_server.url, tmp_path, 2)

        async def finished() -> str | None:
            found = await bus.runs.get("killed-loop")
            return found[0].status if found is not None and found[0].finished else None

        assert await eventually(finished, timeout=120, what="the loop's run to finish after the restart") == "succeeded"
        called = {r.json()["i"] for r in mock_http.requests_to("/item")}
        assert called == set(range(40)), f"items never called: {sorted(set(range(40)) - called)}"
        found = await bus.runs.get("killed-loop")
        assert found is not None
        loop = found[0].step("each")
        assert loop.items is not None and loop.items.succeeded == 40
        output = await bus.step_outputs.output_of(loop)
        assert [r["index"] for r in output["results"]] == list(range(40))
    finally:
        await bus.close()
        stop(processes)


async def _at_least(mock_http: MockHttp, count: int) -> bool:
    return len(mock_http.requests_to("/item")) >= count


async def test_a_failed_run_starts_its_error_workflow_exactly_once_with_the_orchestrator_killed_at_the_failure(
        stack_parts: Stack, mock_http: MockHttp, tmp_path: Path) -> None:
    """The orchestrator is SIGKILLed as soon as the run is seen failed (a few milliseconds after it stored the
    failure, before or after it started the error run: the test cannot choose, so it tries three delays), then
    restarted: each failed run has started exactly one error run."""
    await stack_parts.start_gateway()
    mock_http.reply("/fail", Reply(status=500, body="down"))
    handler = await saved(stack_parts, graph(
        http("note", mock_http.url("/failures"), body='{"failed": "{{ payload.failedRun.id }}", '
                                                      '"step": "{{ payload.failedRun.failedStepId }}"}'),
        edges=[edge("start", "note")], name="On failure"))
    failing = await saved(stack_parts, graph(http("call", mock_http.url("/fail")), edges=[edge("start", "call")],
                                             name="Calls out"), errorWorkflowId=handler)
    engine = spawn_actor("engine", stack_parts.nats_url, env=ENGINE_ENV, log_path=tmp_path / "engine.log")
    orchestrator = spawn_actor("orchestrator", stack_parts.nats_url, env=ENGINE_ENV,
                               log_path=tmp_path / "orchestrator-0.log")
    bus = stack_parts.gateway_bus()
    failed_runs: list[str] = []
    try:
        for attempt, delay_s in enumerate((0.0, 0.005, 0.02)):
            run_id = f"fails-{attempt}"
            await bus.request_run(RunRequested(runId=run_id, workflowId=failing), run_id)

            async def failed(run_id: str = run_id) -> bool:
                found = await bus.runs.get(run_id)
                return found is not None and found[0].status == "failed"

            await eventually(failed, timeout=30, what=f"run {run_id} to fail")
            await asyncio.sleep(delay_s)
            kill([orchestrator])
            failed_runs.append(run_id)
            orchestrator = spawn_actor("orchestrator", stack_parts.nats_url, env=ENGINE_ENV,
                                       log_path=tmp_path / f"orchestrator-{attempt + 1}.log")

        async def every_error_run_done() -> bool:
            return len(mock_http.requests_to("/failures")) >= len(failed_runs)

        await eventually(every_error_run_done, timeout=60, what="an error run per failed run")
        await asyncio.sleep(2.0)  # time for a second error run to show, if the orchestrator made one
        noted = [r.json()["failed"] for r in mock_http.requests_to("/failures")]
        assert sorted(noted) == sorted(failed_runs), "exactly one error run per failed run"
        assert {r.json()["step"] for r in mock_http.requests_to("/failures")} == {"call"}
        for run_id in failed_runs:
            error_run = await bus.runs.get(child_run_id(run_id, "~error", "1"))
            assert error_run is not None and error_run[0].trigger == "error"
            assert error_run[0].workflowId == handler and error_run[0].status == "succeeded"
    finally:
        stop([engine, orchestrator])


async def saved(stack: Stack, document: dict[str, object], **extra: object) -> str:
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/v1/workflows",
                               json={"name": document["meta"]["name"], "graph": document, **extra}) as response:  # type: ignore[index]
        assert response.status == 201, await response.text()
        return str((await response.json())["id"])
