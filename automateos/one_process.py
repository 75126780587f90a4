"""`automateos stack`: the gateway, the orchestrator and one engine worker in this one process.

They stay separate actors: each has its own Bus connection, signed in as its own NATS role, and they talk only through
NATS, exactly as when each has a process of its own; only the process (and its memory) is shared. More engine workers
are more `automateos engine` processes, on any machine, as always.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn

from .actors import Hosted, gateway_server, open_engine, open_orchestrator, until_stopped
from .settings import Settings

log = logging.getLogger("automateos")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: here SIGINT/SIGTERM stop every actor of the process, in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class GatewayActor:
    """The gateway's uvicorn server as an actor: `run` serves until `shutdown` (graceful, as uvicorn's own)."""

    def __init__(self, settings: Settings) -> None:
        self.server = gateway_server(settings, _Server)
        self._served = asyncio.Event()

    async def run(self) -> None:
        try:
            await self.server.serve()
        except SystemExit as exit:  # uvicorn's way of saying it could not start (a port in use, the bus not set up)
            raise RuntimeError(f"the gateway could not start (uvicorn exit code {exit.code}); see its log") from None
        finally:
            self._served.set()

    async def shutdown(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._served.wait(), timeout)


async def run_stack(settings: Settings) -> None:
    """Run the three actors until SIGINT/SIGTERM: then the gateway stops first (no new work arrives), and the
    orchestrator and the engine drain together. If one of them ends by itself, the others stop too and its error is
    raised, so that the process ends non-zero and its supervisor starts it again (whatever was in flight is
    redelivered by the bus's durable consumers)."""
    opened: list[Hosted] = []
    try:
        opened.append(await open_orchestrator(settings))
        opened.append(await open_engine(settings))
        gateway = Hosted("gateway", GatewayActor(settings))  # inside: a gateway that cannot be built closes the rest
    except BaseException:
        for hosted in opened:
            assert hosted.bus is not None
            await hosted.bus.close()
        raise
    orchestrator, engine = opened
    log.info("one process: gateway listening on %s, orchestrator and engine worker beside it", settings.gateway_url)
    await until_stopped([gateway], [orchestrator, engine])
