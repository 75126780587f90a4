"""Connecting to NATS: retry the first connection with backoff, then reconnect forever."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import nats
from nats.aio.client import Client as NATS

from .errors import BusError
from .permissions import inbox_prefix

log = logging.getLogger(__name__)

_MAX_BACKOFF_S = 5.0


def server_list(url: str) -> list[str]:
    """NATS_URL's servers: one URL, or several separated by commas (a cluster's nodes; any one will do to start)."""
    servers = [part.strip() for part in url.split(",") if part.strip()]
    if not servers:
        raise BusError("NATS_URL names no server")
    return servers


@dataclass(frozen=True)
class NatsLogin:
    """Who an actor is on the bus: its role's NATS user (bus/permissions.py) and that user's password."""

    role: str
    password: str = field(repr=False)


async def connect(url: str, name: str, give_up_after: float | None = None, login: NatsLogin | None = None) -> NATS:
    """Connect to `url` (one server or a comma-separated list); while none is reachable, retry with backoff
    (forever unless told). Once connected, the client also learns the cluster's other nodes from the server."""
    deadline = None if give_up_after is None else time.monotonic() + give_up_after
    backoff = 0.1
    while True:
        nc = NATS()
        try:
            await nc.connect(
                servers=server_list(url),
                name=name,
                connect_timeout=2,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                error_cb=_on_error,
                disconnected_cb=_on_disconnected(nc),
                reconnected_cb=_on_reconnected,
                pending_size=32 * 1024 * 1024,
                # Actors drain their own work before closing; what is left to flush is small. nats-py's 30 s default
                # let one stuck subscription hold a shutdown (and a test's teardown) for half a minute per connection.
                drain_timeout=5,
                user=login.role if login else None,
                password=login.password if login else None,
                inbox_prefix=inbox_prefix(login.role) if login else "_INBOX",
            )
            return nc
        except (OSError, nats.errors.Error, asyncio.TimeoutError) as error:
            if deadline is not None and time.monotonic() + backoff > deadline:
                raise BusError(f"cannot reach NATS at {_safe(url)}: {error or type(error).__name__}") from error
            log.warning("NATS at %s unreachable (%s); retrying in %.1f s", _safe(url), error, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_S)


def _safe(url: str) -> str:
    """Drop user:password@ from each NATS URL before it is logged."""
    safe = []
    for server in server_list(url):
        scheme, sep, rest = server.partition("://")
        if "@" in rest:
            rest = rest.split("@", 1)[1]
        safe.append(f"{scheme}{sep}{rest}")
    return ",".join(safe)


def _on_disconnected(nc: NATS) -> Callable[[], Awaitable[None]]:
    async def warn() -> None:
        if not (nc.is_closed or nc.is_draining):  # a deliberate close is not worth a warning
            log.warning("disconnected from NATS; reconnecting")

    return warn


async def _on_error(error: Exception) -> None:
    log.warning("NATS error: %s", error)


async def _on_reconnected() -> None:
    log.info("reconnected to NATS")
