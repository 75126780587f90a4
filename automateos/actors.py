"""Running one actor in this process until SIGINT/SIGTERM, then shutting it down gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal
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


def _nats_url(settings: Settings) -> str:
    return settings.nats_url or settings.embedded_nats_url


async def _until_stopped(actor: Actor, bus: Bus, name: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running = asyncio.create_task(actor.run())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            running.result()  # an actor that ends by itself has failed: surface why
            raise RuntimeError(f"{name} stopped unexpectedly")
        log.info("%s shutting down", name)
        await asyncio.shield(actor.shutdown())
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    finally:
        stopping.cancel()
        await bus.close()
        log.info("%s stopped", name)


async def run_orchestrator(settings: Settings) -> None:
    bus = await Bus.connect(_nats_url(settings), "orchestrator", settings.bus, login=settings.nats_login("orchestrator"))
    signer = ResultSigner(settings.results_key) if settings.results_key else None
    if signer is None:
        log.warning("no AUTOMATEOS_RESULTS_KEY: step results are believed unsigned (`automateos up` sets one)")
    orchestrator = Orchestrator(bus, schedule_grace=timedelta(seconds=settings.schedule_grace_s), result_signer=signer)
    await _until_stopped(orchestrator, bus, "orchestrator")


async def run_engine(settings: Settings) -> None:
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
    await _until_stopped(worker, bus, "engine")


async def run_gateway(settings: Settings) -> None:
    config = GatewayConfig(
        nats_url=_nats_url(settings), bus=settings.bus, examples_dir=settings.examples_dir, web_dist=settings.web_dist,
        master_key=settings.master_key, master_password=settings.master_password,
        admin_token=settings.admin_token or "",
        public_hosts=public_hosts(settings.public_url), public_url=settings.public_url,
        nats_login=settings.nats_login("gateway"),
    )
    server = uvicorn.Server(
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
    log.info("gateway listening on %s", settings.gateway_url)
    await server.serve()
