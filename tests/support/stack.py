"""The real system for tests: nats-server, orchestrator, engine workers and gateway on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn

from automateos.settings import REPO_ROOT
from bus import Bus, BusSettings, CredentialStore, NatsLogin, ResultSigner, free_port, new_master_key, new_results_key
from bus.permissions import ROLES, new_password, password_variable
from engine import Worker
from gateway import SHUTDOWN_GRACE_S, GatewayConfig, create_app, public_hosts
from orchestrator import Orchestrator

TERMINAL = {"succeeded", "failed", "cancelled"}


# One key for a whole test session: every actor of a test stack must share it.
MASTER_KEY = new_master_key()
# Engines sign their results with it and the orchestrator checks them, in every test, as under `up`.
RESULTS_KEY = new_results_key()
ADMIN_TOKEN = "test-admin-" + secrets.token_hex(16)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# The test broker runs with nats.conf's users (bus/permissions.py), as `automateos up` runs it: every actor of a
# test stack connects as its own role, so the whole suite runs with least privilege.
NATS_PASSWORDS = {role: new_password() for role in ROLES}
ROLE_LOGINS = {role: NatsLogin(role, NATS_PASSWORDS[role]) for role in ("gateway", "orchestrator", "engine")}


@dataclass
class Stack:
    nats_url: str
    bus_settings: BusSettings
    base_url: str = ""
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    actors: list[Any] = field(default_factory=list)
    buses: list[Bus] = field(default_factory=list)
    server: uvicorn.Server | None = None
    admin_token: str = ADMIN_TOKEN
    server_task: asyncio.Task[None] | None = None
    http: aiohttp.ClientSession | None = None
    app: Any = None
    # Each actor's NATS user (a broker without users accepts any).
    logins: dict[str, NatsLogin] = field(default_factory=lambda: dict(ROLE_LOGINS))

    async def start_orchestrator(self) -> Orchestrator:
        bus = await Bus.connect(self.nats_url, "test-orchestrator", self.bus_settings, give_up_after=10,
                                login=self.logins.get("orchestrator"))
        orchestrator = Orchestrator(bus, result_signer=ResultSigner(RESULTS_KEY))
        self._run(orchestrator, bus)
        return orchestrator

    async def start_worker(self, concurrency: int = 16) -> Worker:
        bus = await Bus.connect(self.nats_url, "test-engine", self.bus_settings, give_up_after=10,
                                login=self.logins.get("engine"))
        await write_key_check(self.nats_url, self.logins.get("admin"))
        credentials = await CredentialStore.open(bus.credentials_kv, MASTER_KEY, None, writes_key_check=False)
        bus.result_signer = ResultSigner(RESULTS_KEY)
        worker = Worker(bus, concurrency=concurrency, credentials=credentials)
        self._run(worker, bus)
        return worker

    def _run(self, actor: Any, bus: Bus) -> None:
        self.actors.append(actor)
        self.buses.append(bus)
        self.tasks.append(asyncio.create_task(actor.run()))

    async def start_gateway(self, web_dist: Path | None = None, public_url: str | None = None) -> None:
        await write_key_check(self.nats_url, self.logins.get("admin"))
        port = free_port()
        config = GatewayConfig(
            nats_url=self.nats_url, bus=self.bus_settings, examples_dir=REPO_ROOT / "examples", web_dist=web_dist,
            master_key=MASTER_KEY, admin_token=self.admin_token, nats_login=self.logins.get("gateway"),
            public_url=public_url, public_hosts=public_hosts(public_url),
        )
        self.app = create_app(config)
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=port, log_config=None, ws="websockets-sansio",
                          timeout_graceful_shutdown=SHUTDOWN_GRACE_S)
        )
        self.server_task = asyncio.create_task(self.server.serve())
        self.base_url = f"http://127.0.0.1:{port}"
        while not self.server.started:
            if self.server_task.done():
                self.server_task.result()
            await asyncio.sleep(0.01)
        self.http = aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.admin_token}"})

    def gateway_bus(self) -> Bus:
        bus: Bus = self.app.state.bus
        return bus

    async def stop_gateway(self) -> None:
        if self.http is not None:
            await self.http.close()
            self.http = None
        if self.server is not None and self.server_task is not None:
            self.server.should_exit = True
            await self.server_task
            self.server = self.server_task = None

    async def restart_gateway(self) -> None:
        await self.stop_gateway()
        await self.start_gateway()

    async def stop(self) -> None:
        await self.stop_gateway()
        for actor in self.actors:
            await actor.shutdown(timeout=5)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for bus in self.buses:
            await bus.close()

    # -- the REST and WebSocket API, as a client uses it ---------------------------------------

    async def post_run(self, graph: dict[str, Any], **extra: Any) -> tuple[int, Any]:
        assert self.http is not None
        async with self.http.post(f"{self.base_url}/v1/runs", json={"graph": graph, **extra}) as response:
            return response.status, await response.json()

    async def start_run(self, graph: dict[str, Any], **extra: Any) -> str:
        status, body = await self.post_run(graph, **extra)
        assert status == 201, body
        return str(body["runId"])

    async def get_run(self, run_id: str) -> dict[str, Any]:
        assert self.http is not None
        async with self.http.get(f"{self.base_url}/v1/runs/{run_id}") as response:
            assert response.status == 200, await response.text()
            result: dict[str, Any] = await response.json()
            return result

    async def events(self, run_id: str, after: int | None = None, until: Callable[[dict[str, Any]], bool] | None = None,
                     timeout: float = 30.0) -> list[dict[str, Any]]:
        """Read the run's event WebSocket until the server closes it (or an event satisfies `until`)."""
        assert self.http is not None
        query = f"?after={after}" if after is not None else ""
        events: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            async with self.http.ws_connect(f"{self.base_url.replace('http', 'ws', 1)}/v1/runs/{run_id}/events{query}") as ws:
                async for message in ws:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    events.append(json.loads(message.data))
                    if until is not None and until(events[-1]):
                        break
        return events

    async def finish(self, run_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for the run's terminal event over the WebSocket, then return the run record."""
        events = await self.events(run_id, timeout=timeout)
        assert events and events[-1]["type"] == "run" and events[-1]["status"] in TERMINAL, events[-3:]
        return await self.get_run(run_id)


def http_graph(url: str, method: str = "POST", name: str = "Test workflow", **config: Any) -> dict[str, Any]:
    """Start → one HTTP node."""
    return {
        "meta": {"name": name},
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}},
            {"id": "call", "type": "http", "position": {"x": 200, "y": 0},
             "data": {"label": "Call API", "config": {"method": method, "url": url, **config}}},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "call"}],
    }


async def write_key_check(nats_url: str, login: NatsLogin | None = None) -> None:
    """What `up` does as admin before any actor starts: the credential store's key check, for MASTER_KEY. Signs in as
    `login`, else as the URL says (tests/conftest.py's carries admin's); a check already there is only compared."""
    bus = await Bus.connect(nats_url, "test-admin", BusSettings(), give_up_after=10, login=login)
    try:
        await CredentialStore.open(bus.credentials_kv, MASTER_KEY, None)
    finally:
        await bus.close()


def spawn_actor(actor: str, nats_url: str, *args: str, env: dict[str, str] | None = None,
                log_path: Path | None = None) -> subprocess.Popen[bytes]:
    """An actor in its own process, exactly as `automateos <actor>` runs it (after `up`'s admin steps); `stack` is
    the gateway, the orchestrator and an engine worker in one process, each signed in as its own role."""
    if actor in ("engine", "gateway", "stack") and "AUTOMATEOS_MASTER_KEY" not in (env or {}):
        run_in_thread(write_key_check(nats_url))
    environment = {**os.environ, "NATS_URL": nats_url, "AUTOMATEOS_MASTER_KEY": MASTER_KEY,
                   "AUTOMATEOS_RESULTS_KEY": RESULTS_KEY,
                   "AUTOMATEOS_ADMIN_TOKEN": ADMIN_TOKEN, **(env or {})}
    for role in ("gateway", "orchestrator", "engine") if actor == "stack" else (actor,):
        if role in NATS_PASSWORDS:
            environment[password_variable(role)] = NATS_PASSWORDS[role]
    command = [sys.executable, "-m", "automateos", actor, *args]
    if log_path is None:
        return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    with open(log_path, "wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, env=environment, stdout=out, stderr=subprocess.STDOUT)


def step_is(step_id: str, status: str) -> Callable[[dict[str, Any]], bool]:
    """An `until` for Stack.events: the event that moves `step_id` to `status`."""
    return lambda event: event["type"] == "step" and event["step"]["id"] == step_id and event["step"]["status"] == status


def run_in_thread(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` to the end on a loop of its own, from sync code that may be called while a loop runs (fixtures,
    spawn_actor); its exception is raised here."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(work)
        except BaseException as error:  # re-raised in the caller's thread
            failures.append(error)

    thread = threading.Thread(target=run, name="run-in-thread")
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
