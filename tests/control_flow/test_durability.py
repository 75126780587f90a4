"""Control flow survives SIGKILL: a loop loses no item, a failed run starts its error workflow exactly once."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from bus import Bus, EmbeddedNats
from schemas import RunRequested
from tests.conftest import TEST_BUS_SETTINGS
from tests.support.graphs import edge, graph, http, node
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import spawn_actor
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
