"""The outbound guard: the engine's HTTP session connects only where engine/outbound_policy.py allows.

aiohttp asks the connector for every connection, each redirect hop included. The connector checks the URL's
host first (metadata names, and numeric hosts in any spelling, which aiohttp connects to without asking a
resolver); the resolver then keeps only the allowed addresses of a name, and aiohttp connects to exactly
those, so a name that resolves to a public address once and a private one later (DNS rebinding) gets nowhere.

The same place enforces credential fences: a step that sends fenced credentials runs inside `sending_credentials`,
and the connector refuses any connection, each redirect hop included, to a host one of their fences does not name.
aiohttp calls the connector in the task that made the request, so the step's fences are the ones in force.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.connector import Connection
from aiohttp.tracing import Trace

from .errors import OutboundRefused
from .outbound_policy import OutboundPolicy, fence_refusal, host_refusal, parse_address, resolved_refusal

# Credential name -> allowedHosts, for the credentials the current step sends; empty: none is fenced.
_fences: ContextVar[Mapping[str, Sequence[str]]] = ContextVar("credential_fences", default={})


@contextmanager
def sending_credentials(fences: Mapping[str, Sequence[str]]) -> Iterator[None]:
    """Every connection made inside goes only where each of these fences allows."""
    token = _fences.set(fences)
    try:
        yield
    finally:
        _fences.reset(token)


def current_fences() -> Mapping[str, Sequence[str]]:
    """The fences of the credentials the running step sends (empty: none is fenced), for guards of other clients."""
    return _fences.get()


def connection_refusal(host: str, port: int, url_host: str, policy: OutboundPolicy) -> str | None:
    """Why a request to `host` may not even be attempted, before any lookup: a refused metadata name or numeric host,
    or a credential fence that does not name it; None: go on (a name is then judged by what it resolves to).
    `url_host` is the host as the URL spells it (IPv6 in brackets), for the refusal's words."""
    reason = host_refusal(host, policy)
    if reason is None and (fences := _fences.get()):
        reason = fence_refusal(fences, host, port, url_host)
    return reason


def guard_of(session: aiohttp.ClientSession) -> GuardedResolver:
    """The guard of the worker's session, so that a client other than aiohttp (the MCP SDK's httpx2) applies the same
    policy with the same resolver. A session without one is refused: fail closed, never unguarded."""
    connector = session.connector
    if not isinstance(connector, GuardedConnector):
        raise OutboundRefused("this worker's HTTP session has no outbound guard, so it makes no other connection")
    return connector.guard


class GuardedResolver(AbstractResolver):
    """Resolves with `inner` (the system resolver by default) and drops the addresses the policy refuses;
    raises OutboundRefused when none is left."""

    def __init__(self, policy: OutboundPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        # getaddrinfo in a thread: it reads /etc/hosts and numeric spellings as the rest of the system does.
        self.inner = inner or aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if (reason := host_refusal(host, self.policy)) is not None:
            raise OutboundRefused(reason)
        address = parse_address(host)
        if address is not None:
            # A legacy spelling (0x7f000001) that aiohttp took for a name: connect to the address it means.
            numeric_family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            return [ResolveResult(hostname=host, host=str(address), port=port, family=numeric_family, proto=0,
                                  flags=socket.AI_NUMERICHOST)]
        kept: list[ResolveResult] = []
        refusals: list[str] = []
        for result in await self.inner.resolve(host, port, family):
            reason = resolved_refusal(host, ipaddress.ip_address(result["host"]), self.policy)
            if reason is None:
                kept.append(result)
            else:
                refusals.append(reason)
        if not kept:
            raise OutboundRefused(refusals[0] if refusals else f"{host} resolves to no address")
        return kept

    async def close(self) -> None:
        await self.inner.close()


class GuardedConnector(aiohttp.TCPConnector):
    """A TCPConnector that refuses what the policy refuses, before connecting and on every redirect."""

    def __init__(self, policy: OutboundPolicy, *, resolver: AbstractResolver | None = None, limit: int = 100,
                 ttl_dns_cache: int | None = 10) -> None:
        self.guard = GuardedResolver(policy, resolver)
        super().__init__(resolver=self.guard, limit=limit, ttl_dns_cache=ttl_dns_cache)

    async def connect(self, req: aiohttp.ClientRequest, traces: list[Trace],
                      timeout: aiohttp.ClientTimeout) -> Connection:
        try:
            host = req.url.raw_host or ""
            shown = req.url.host or host
            shown = shown if req.url.is_default_port() else f"{shown}:{req.url.port}"
            reason = connection_refusal(host, req.url.port or 0, shown, self.guard.policy)
            if reason is not None:
                raise OutboundRefused(reason)
            return await super().connect(req, traces, timeout)
        except OutboundRefused as refused:
            # The resolver does not know the URL; and a refusal raised once may reach several waiters.
            raise OutboundRefused(refused.reason, str(req.url)) from None

    async def close(self, *args: Any, **kwargs: Any) -> None:
        # aiohttp closes only a resolver it made itself.
        try:
            await super().close(*args, **kwargs)
        finally:
            await self.guard.close()


def guarded_session(policy: OutboundPolicy, *, limit: int = 100, ttl_dns_cache: int | None = 300,
                    resolver: AbstractResolver | None = None) -> aiohttp.ClientSession:
    """The session HTTP steps use. `resolver`: what resolves names before the guard filters them (tests)."""
    connector = GuardedConnector(policy, resolver=resolver, limit=limit, ttl_dns_cache=ttl_dns_cache)
    return aiohttp.ClientSession(connector=connector, trust_env=False)
