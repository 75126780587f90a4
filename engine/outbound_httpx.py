"""The outbound guard for httpx2, the HTTP client the official MCP SDK uses: the same rules, resolver and credential
fences as the aiohttp session's (engine/outbound_guard.py), applied at the same two places.

- Per request (`GuardedTransport`): the URL's host is refused before anything is sent when it is a metadata name or a
  numeric host the policy refuses, or when a credential the step sends is fenced away from it. The MCP SDK never lets
  httpx2 follow redirects; it sends each same-origin hop itself, so each hop is a request here.
- Per connection (`GuardedBackend`): httpcore2 asks its network backend to connect to a host name; the backend asks
  the worker's `GuardedResolver`, which keeps only the allowed addresses, and connects to exactly those. TLS still
  verifies the name (httpcore2 takes SNI from the URL, not from the address), and a name that re-resolves to another
  address between a check and the connection (DNS rebinding) gets nowhere.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpcore2
import httpx2

from .errors import OutboundRefused
from .outbound_guard import GuardedResolver, connection_refusal


class GuardedBackend(httpcore2.AsyncNetworkBackend):
    def __init__(self, resolver: GuardedResolver) -> None:
        self.resolver = resolver
        self.inner = httpcore2.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore2.AsyncNetworkStream:
        addresses = await self.resolver.resolve(host, port, socket.AF_UNSPEC)  # OutboundRefused when none is allowed
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(address["host"], port, timeout=timeout,
                                                    local_address=local_address, socket_options=socket_options)
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as error:
                failure = error  # the next allowed address may answer, as a resolver's list is meant to be tried
        assert failure is not None  # the resolver returns at least one address or raises
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore2.AsyncNetworkStream:
        raise OutboundRefused("unix sockets are not reachable from a step")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx2.AsyncHTTPTransport):
    """httpx2's transport with its connection pool on a `GuardedBackend`, checking each request's URL first."""

    def __init__(self, resolver: GuardedResolver) -> None:
        super().__init__(trust_env=False)
        # httpx2 offers no argument for the network backend, so the pool it built is replaced by one with the same
        # defaults on ours; the request and response conversion around the pool stays httpx2's.
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False), network_backend=GuardedBackend(resolver))
        # Were httpx2 to rename its pool, the assignment above would quietly guard nothing: fail loudly instead.
        if vars(self).get("_pool") is None or not isinstance(self._pool._network_backend, GuardedBackend):
            raise RuntimeError("httpx2's transport changed: its connection pool can no longer be guarded")
        self.policy = resolver.policy

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        shown = f"[{host}]" if ":" in host else host
        shown = shown if url.port is None else f"{shown}:{url.port}"
        reason = connection_refusal(host, port, shown, self.policy)
        try:
            if reason is not None:
                raise OutboundRefused(reason)
            response = await super().handle_async_request(request)
        except OutboundRefused as refused:
            # The backend knows only the host; the step names the request it stopped.
            raise OutboundRefused(refused.reason, str(url)) from None
        # A server's answer is read into the worker's memory, where 64 steps share it: cut it off at a bound rather
        # than after it has all arrived (the SDK reads a JSON answer whole).
        response.stream = _Capped(response.stream, MAX_ANSWER_BYTES, str(url))
        return response


# Far above any tool's or tool list's answer a step keeps (engine/nodes/mcp_tool.py cuts at 1 MiB).
MAX_ANSWER_BYTES = 4 * 1024 * 1024


class AnswerTooLarge(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(f"the answer from {url} is larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MiB")


class _Capped(httpx2.AsyncByteStream):
    def __init__(self, inner: Any, limit: int, url: str) -> None:
        self.inner, self.limit, self.url = inner, limit, url

    async def __aiter__(self) -> AsyncIterator[bytes]:
        read = 0
        async for chunk in self.inner:
            read += len(chunk)
            if read > self.limit:
                raise AnswerTooLarge(self.url)
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


def guarded_client(resolver: GuardedResolver, headers: dict[str, str], timeout_s: float) -> httpx2.AsyncClient:
    """An httpx2 client for one step: the guard on every request and connection, no proxy from the environment
    (HTTP(S)_PROXY would route around the guard), and the step's timeout on every read."""
    return httpx2.AsyncClient(headers=headers, transport=GuardedTransport(resolver), trust_env=False,
                              timeout=httpx2.Timeout(min(timeout_s, 10.0), read=timeout_s), follow_redirects=False)
