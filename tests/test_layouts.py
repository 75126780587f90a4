"""`automateos up --layout`: one process per actor, or the one-process stack (`automateos stack`), which hosts the
gateway, the orchestrator and an engine worker as separate actors, each with its own NATS login, in one process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from dotenv import dotenv_values

from bus import EmbeddedNats, free_port
from tests.support.mock_http import MockHttp, Reply
from tests.support.process_tree import actor_of, children
from tests.support.stack import TERMINAL, http_graph, spawn_actor
from tests.support.waiting import eventually
from tests.test_cli import read_until, start_up, stop_up


def up_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "AUTOMATEOS_DATA_DIR": str(tmp_path), "AUTOMATEOS_PORT": str(free_port()),
           "AUTOMATEOS_NATS_PORT": str(free_port()), **extra}
    for name in ("NATS_URL", "AUTOMATEOS_MASTER_KEY", "AUTOMATEOS_ADMIN_TOKEN", "AUTOMATEOS_LAYOUT"):
        if name not in extra:
            env.pop(name, None)
    return env


def actors_of(up_pid: int) -> dict[int, str]:
    """`up`'s children but its nats-server, by what they run: gateway, orchestrator, engine or stack."""
    found = {pid: actor_of(command) for pid, command in children(up_pid).items()}
    assert list(found.values()).count("nats-server") == 1, found
    return {pid: actor for pid, actor in found.items() if actor != "nats-server"}


class Client:
    """The REST API as a user calls it, with the admin token `up` wrote into .env."""

    def __init__(self, env: dict[str, str]) -> None:
        self.base = f"http://127.0.0.1:{env['AUTOMATEOS_PORT']}"
        self.token = dotenv_values(Path(env["AUTOMATEOS_DATA_DIR"]) / ".env")["AUTOMATEOS_ADMIN_TOKEN"]

    async def start_run(self, url: str) -> str:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.token}"}) as http:
            async with http.post(f"{self.base}/v1/runs", json={"graph": http_graph(url)}) as response:
                assert response.status == 201, await response.text()
                return str((await response.json())["runId"])

    async def finished(self, run_id: str, timeout: float = 60) -> dict[str, Any]:
        async def read() -> dict[str, Any] | None:
            try:
                async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.token}"}) as http:
                    async with http.get(f"{self.base}/v1/runs/{run_id}") as response:
                        run: dict[str, Any] = await response.json()
                        return run if response.status == 200 and run["status"] in TERMINAL else None
            except aiohttp.ClientConnectionError:
                return None  # the gateway is restarting

        return await eventually(read, timeout=timeout, what=f"run {run_id} to finish")


def worker_pid(run: dict[str, Any], step_id: str = "call") -> int:
    [step] = [step for step in run["steps"] if step["id"] == step_id]
    return int(step["worker"].rsplit(":", 1)[1])


@pytest.mark.parametrize("layout", ["processes", "one-process"])
async def test_a_start_http_run_end_to_end_in_each_layout(layout: str, tmp_path: Path, mock_http: MockHttp) -> None:
    mock_http.reply("/orders", Reply(status=200, body={"accepted": True}))
    # The flag wins over the environment.
    other = "processes" if layout == "one-process" else "one-process"
    env = up_env(tmp_path, AUTOMATEOS_LAYOUT=other)
    up, _ = await start_up(env, "--layout", layout)
    try:
        actors = actors_of(up.pid)
        expected = ["stack"] if layout == "one-process" else ["engine", "gateway", "orchestrator"]
        assert sorted(actors.values()) == expected, actors
        client = Client(env)
        run = await client.finished(await client.start_run(mock_http.url("/orders")))
        assert run["status"] == "succeeded", run
        [step] = [step for step in run["steps"] if step["id"] == "call"]
        assert step["status"] == "succeeded" and step["output"]["body"] == {"accepted": True}, step
        engine = next(pid for pid, actor in actors.items() if actor in ("engine", "stack"))
        assert worker_pid(run) == engine, "the step ran in the engine worker's process"
        assert len(mock_http.requests_to("/orders")) == 1
    finally:
        status, rest = await stop_up(up)
    assert status == 0, rest
    assert "✓ stopped" in rest


async def test_a_sigkilled_one_process_stack_is_restarted_and_its_run_finishes(tmp_path: Path,
                                                                                mock_http: MockHttp) -> None:
    # The first call hangs until the stack is killed under it; the redelivered step's call answers at once.
    mock_http.reply("/slow", Reply(status=200, body="first", delay_s=30), Reply(status=200, body="again"))
    env = up_env(tmp_path, AUTOMATEOS_LAYOUT="one-process", AUTOMATEOS_STEP_ACK_WAIT="3")
    up, _ = await start_up(env)
    try:
        [(killed, actor)] = actors_of(up.pid).items()
        assert actor == "stack"
        client = Client(env)
        run_id = await client.start_run(mock_http.url("/slow"))

        async def in_flight() -> bool:
            return bool(mock_http.requests_to("/slow"))

        await eventually(in_flight, timeout=30, what="the step to be running")
        os.kill(killed, signal.SIGKILL)
        lines = await read_until(up, "restarting stack")
        assert any("stack was killed by SIGKILL" in line for line in lines), lines
        run = await client.finished(run_id)
        assert run["status"] == "succeeded", run
        [(restarted, actor)] = actors_of(up.pid).items()
        assert actor == "stack" and restarted != killed
        assert worker_pid(run) == restarted, "the step was redelivered to the restarted stack's engine"
        assert len(mock_http.requests_to("/slow")) == 2
    finally:
        status, rest = await stop_up(up)
    assert status == 0, rest


async def test_stack_stops_in_order_on_sigterm_and_ends_non_zero_when_an_actor_dies(
        nats_server: EmbeddedNats, tmp_path: Path) -> None:
    port = str(free_port())
    log = tmp_path / "stack.log"
    stack = spawn_actor("stack", nats_server.url, "--port", port, log_path=log)
    second: subprocess.Popen[bytes] | None = None
    try:
        async def ready() -> bool:
            try:
                async with aiohttp.ClientSession() as http:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                        return response.status == 200
            except aiohttp.ClientConnectionError:
                assert stack.poll() is None, log.read_text()
                return False

        await eventually(ready, timeout=30, what="the stack's gateway to be ready")
        # A second stack on the same port: its gateway cannot listen, so its orchestrator and engine are stopped
        # too and the process ends non-zero (for a supervisor to start it again).
        second_log = tmp_path / "second.log"
        second = spawn_actor("stack", nats_server.url, "--port", port, log_path=second_log)
        assert await asyncio.to_thread(second.wait, 60) != 0
        said = second_log.read_text()
        assert "gateway stopped unexpectedly" in said, said
        assert "orchestrator stopped" in said and "engine stopped" in said, said

        stack.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(stack.wait, 60) == 0, log.read_text()
        said = log.read_text()
        order = [said.index(f"automateos: {actor} shutting down") for actor in ("gateway", "orchestrator", "engine")]
        assert order[0] < min(order[1:]), "the gateway stops first, so no new work arrives"
        assert said.index("uvicorn.error: Finished server process") < order[1], "and is done before the others drain"
    finally:
        for process in (stack, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
