"""Running actors in this process until SIGINT/SIGTERM, then shutting them down gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import uvicorn

from bus import Bus, CredentialStore, ResultSigner
from engine import Worker
from gateway import SHUTDOWN_GRACE_S, GatewayConfig, create_app, public_hosts
from orchestrator import Orchestrator

from .settings import Settings

log = logging.getLogger("automateos")


class Actor(Protocol):
    async def run(self) -> None: ...
    async def shutdown(self, timeout: float = 10.0) -> None: ...


@dataclass
class Hosted:
    """An actor this process runs, and the Bus connection it owns (None: it opens and closes its own)."""

    name: str
    actor: Actor
    bus: Bus | None = None


class ActorStopped(RuntimeError):
    """An actor ended by itself: it failed, and the process must end non-zero so that a supervisor restarts it."""


def _nats_url(settings: Settings) -> str:
    return settings.nats_url or settings.embedded_nats_url


async def until_stopped(*stages: Sequence[Hosted]) -> None:
    """Run every actor until SIGINT/SIGTERM, then shut them down stage by stage (a stage's actors together, the
    next stage once they are done) and close their buses. An actor that ends by itself has failed: the others are
    shut down the same way, then its error is raised."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    hosted = [each for stage in stages for each in stage]
    running = {each.name: asyncio.create_task(each.actor.run(), name=each.name) for each in hosted}
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({*running.values(), stopping}, return_when=asyncio.FIRST_COMPLETED)
        failed = [name for name, task in running.items() if task.done()]
        for name in failed:
            task = running[name]
            log.error("%s stopped unexpectedly (%s); stopping the rest of this process", name,
                      "cancelled" if task.cancelled() else repr(task.exception()))
        for stage in stages:
            alive = [each for each in stage if not running[each.name].done()]
            for each in alive:
                log.info("%s shutting down", each.name)
            # One actor's failed shutdown must not leave the next stages running on closed connections.
            outcomes = await asyncio.shield(asyncio.gather(*(each.actor.shutdown() for each in alive),
                                                           return_exceptions=True))
            for each, outcome in zip(alive, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    log.error("%s did not shut down cleanly: %r", each.name, outcome)
        for task in running.values():
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)
        if failed:
            running[failed[0]].result()  # why it ended, if it raised
            raise ActorStopped(f"{failed[0]} stopped unexpectedly")
    finally:
        stopping.cancel()
        for each in hosted:
            if each.bus is not None:
                await each.bus.close()
            log.info("%s stopped", each.name)


async def open_orchestrator(settings: Settings) -> Hosted:
    bus = await Bus.connect(_nats_url(settings), "orchestrator", settings.bus, login=settings.nats_login("orchestrator"))
    signer = ResultSigner(settings.results_key) if settings.results_key else None
    if signer is None:
        log.warning("no AUTOMATEOS_RESULTS_KEY: step results are believed unsigned (`automateos up` sets one)")
    orchestrator = Orchestrator(bus, schedule_grace=timedelta(seconds=settings.schedule_grace_s), result_signer=signer)
    return Hosted("orchestrator", orchestrator, bus)


async def open_engine(settings: Settings) -> Hosted:
    bus = await Bus.connect(_nats_url(settings), "engine", settings.bus, login=settings.nats_login("engine"))
    try:
        credentials = await CredentialStore.open(bus.credentials_kv, settings.master_key, settings.master_password,
                                                 writes_key_check=False)
    except BaseException:
        await bus.close()
        raise
    if settings.results_key:
        bus.result_signer = ResultSigner(settings.results_key)
    worker = Worker(bus, concurrency=settings.engine_concurrency, credentials=credentials, outbound=settings.outbound)
    return Hosted("engine", worker, bus)


def gateway_server(settings: Settings, server_class: type[uvicorn.Server] = uvicorn.Server) -> uvicorn.Server:
    config = GatewayConfig(
        nats_url=_nats_url(settings), bus=settings.bus, examples_dir=settings.examples_dir, web_dist=settings.web_dist,
        master_key=settings.master_key, master_password=settings.master_password,
        admin_token=settings.admin_token or "",
        public_hosts=public_hosts(settings.public_url), public_url=settings.public_url,
        nats_login=settings.nats_login("gateway"), mcp_call_timeout_s=settings.mcp_call_timeout_s,
    )
    return server_class(
        uvicorn.Config(
            create_app(config),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            ws="websockets-sansio",
            timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        )
    )


async def run_orchestrator(settings: Settings) -> None:
    await until_stopped([await open_orchestrator(settings)])


async def run_engine(settings: Settings) -> None:
    await until_stopped([await open_engine(settings)])


async def run_gateway(settings: Settings) -> None:
    server = gateway_server(settings)  # uvicorn handles SIGINT/SIGTERM itself: a graceful shutdown
    log.info("gateway listening on %s", settings.gateway_url)
    await server.serve()
