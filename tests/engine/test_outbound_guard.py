"""The outbound guard through the real HTTP node and its aiohttp session, against a local server: refused
hosts, redirects to them, names that resolve to them, and the allowlist."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from engine.errors import StepFailed
from engine.nodes import NodeContext
from engine.outbound_guard import guarded_session
from engine.outbound_policy import OutboundPolicy
from engine.step_runner import run_step
from schemas import StepDispatch
from schemas.masking import loggable_url
from tests.support.graphs import edge, graph, http, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack

ALWAYS = "(always blocked)"
PRIVATE_SUFFIX = ("(blocked because AUTOMATEOS_BLOCK_PRIVATE_NETWORKS=true; allow it with "
                  "AUTOMATEOS_OUTBOUND_ALLOW)")


class HostsFile(AbstractResolver):
    """A resolver that knows only the names a test gives it, with their addresses in this order."""

    def __init__(self, hosts: dict[str, list[str]]) -> None:
        self.hosts = hosts

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host not in self.hosts:
            raise OSError(f"{host} is not in this test's hosts file")
        return [ResolveResult(hostname=host, host=address, port=port,
                              family=socket.AF_INET6 if ":" in address else socket.AF_INET, proto=0, flags=0)
                for address in self.hosts[host]]

    async def close(self) -> None:
        pass


Guarded = Callable[..., AbstractAsyncContextManager[NodeContext]]


@pytest.fixture
def guarded() -> Guarded:
    """`async with guarded(block_private=..., allow=..., hosts=...) as context`: the worker's session, as
    configured by those settings, with an optional hosts file instead of the system resolver."""

    @asynccontextmanager
    async def open_context(block_private: bool = False, allow: str = "",
                           hosts: dict[str, list[str]] | None = None) -> AsyncIterator[NodeContext]:
        policy = OutboundPolicy.parse(block_private, allow)
        resolver = HostsFile(hosts) if hosts is not None else None
        async with guarded_session(policy, resolver=resolver) as session:
            yield NodeContext(session=session)

    return open_context


def dispatch(url: str, **config: Any) -> StepDispatch:
    return StepDispatch(runId="r1", stepId="s1", name="Call", type="http",
                        config={"method": "GET", "url": url, "timeoutMs": 5000, **config})


async def refusal(context: NodeContext, url: str) -> StepFailed:
    with pytest.raises(StepFailed) as failure:
        await run_step(dispatch(url), context)
    assert failure.value.retryable is False, "the same rules refuse the next attempt too"
    return failure.value


@pytest.mark.parametrize(("url", "reason"), [
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254 is a cloud metadata address"),
    ("http://0xa9fea9fe/latest/", "0xa9fea9fe is 169.254.169.254, a cloud metadata address"),
    ("http://[::ffff:169.254.169.254]/latest/", "::ffff:a9fe:a9fe is 169.254.169.254, a cloud metadata address"),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal is a cloud metadata name"),
    ("http://100.100.100.200/latest/meta-data/", "100.100.100.200 is a cloud metadata address"),
    ("http://169.254.1.2/", "169.254.1.2 is a link-local address"),
])
async def test_metadata_and_link_local_are_refused_by_default(guarded: Guarded, url: str, reason: str) -> None:
    async with guarded() as context:
        failure = await refusal(context, url)
    assert failure.message == f"GET {loggable_url(url)} refused: {reason} {ALWAYS}"


async def test_the_unspecified_address_is_refused_even_with_loopback_allowed(guarded: Guarded,
                                                                            mock_http: MockHttp) -> None:
    async with guarded() as context:
        failure = await refusal(context, f"http://0.0.0.0:{mock_http.port}/")
    assert failure.message.endswith("refused: 0.0.0.0 is the unspecified address, which reaches this machine "
                                    f"{ALWAYS}")
    assert mock_http.received == []


@pytest.mark.parametrize(("host", "reason"), [
    ("127.0.0.1", "127.0.0.1 is a loopback address"),
    ("0x7f000001", "0x7f000001 is 127.0.0.1, a loopback address"),
    ("2130706433", "2130706433 is 127.0.0.1, a loopback address"),
    ("127.1", "127.1 is 127.0.0.1, a loopback address"),
    ("[::ffff:127.0.0.1]", "::ffff:7f00:1 is 127.0.0.1, a loopback address"),
    ("[::1]", "::1 is a loopback address"),
    ("localhost", "localhost resolves to"),
])
async def test_loopback_in_every_spelling_is_refused_when_private_networks_are_blocked(
    guarded: Guarded, mock_http: MockHttp, host: str, reason: str
) -> None:
    async with guarded(block_private=True) as context:
        failure = await refusal(context, f"http://{host}:{mock_http.port}/hook")
    assert f"refused: {reason}" in failure.message and failure.message.endswith(PRIVATE_SUFFIX)
    assert mock_http.received == []


@pytest.mark.parametrize("host", ["127.0.0.1", "0x7f000001", "localhost"])
async def test_loopback_is_reached_when_private_networks_are_not_blocked(
    guarded: Guarded, mock_http: MockHttp, host: str
) -> None:
    mock_http.reply("/hook", Reply(status=200, body={"ok": True}))
    async with guarded(block_private=False) as context:
        outcome = await run_step(dispatch(f"http://{host}:{mock_http.port}/hook"), context)
    assert outcome.output["body"] == {"ok": True}


async def test_the_allowlist_reopens_a_private_address_or_a_name(guarded: Guarded, mock_http: MockHttp) -> None:
    async with guarded(block_private=True, allow="127.0.0.1/32") as context:
        outcome = await run_step(dispatch(mock_http.url("/by-cidr")), context)
    assert outcome.output["status"] == 204
    async with guarded(block_private=True, allow="localhost") as context:
        outcome = await run_step(dispatch(f"http://localhost:{mock_http.port}/by-name"), context)
        assert outcome.output["status"] == 204
        failure = await refusal(context, mock_http.url("/by-address"))
    assert "127.0.0.1 is a loopback address" in failure.message, "the name is allowed, not its address"
    assert [r.path for r in mock_http.received] == ["/by-cidr", "/by-name"]


async def test_a_redirect_to_a_metadata_address_is_refused(guarded: Guarded, mock_http: MockHttp) -> None:
    mock_http.reply("/hop", Reply(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/iam"}))
    async with guarded() as context:
        failure = await refusal(context, mock_http.url("/hop"))
    assert failure.message == (
        f"GET http://127.0.0.1:{mock_http.port}/hop refused: redirected to http://169.254.169.254/latest/meta-data/…, "
        f"and 169.254.169.254 is a cloud metadata address {ALWAYS}"
    )
    assert [r.path for r in mock_http.received] == ["/hop"]


async def test_a_redirect_from_an_allowed_name_to_a_blocked_address_is_refused(guarded: Guarded,
                                                                              mock_http: MockHttp) -> None:
    mock_http.reply("/hop", Reply(status=307, headers={"Location": mock_http.url("/internal")}))
    async with guarded(block_private=True, allow="localhost") as context:
        failure = await refusal(context, f"http://localhost:{mock_http.port}/hop")
    hop = f"redirected to http://127.0.0.1:{mock_http.port}/internal, and 127.0.0.1 is a loopback address"
    assert hop in failure.message
    assert [r.path for r in mock_http.received] == ["/hop"]


async def test_a_redirect_to_a_name_resolving_to_a_blocked_address_is_refused(guarded: Guarded,
                                                                             mock_http: MockHttp) -> None:
    mock_http.reply("/hop", Reply(status=301, headers={"Location": "http://rebind.test/latest/meta-data/"}))
    async with guarded(hosts={"rebind.test": ["169.254.169.254"]}) as context:
        failure = await refusal(context, mock_http.url("/hop"))
    assert failure.message.endswith("refused: redirected to http://rebind.test/latest/meta-data, and rebind.test "
                                    f"resolves to 169.254.169.254, a cloud metadata address {ALWAYS}")


async def test_a_name_resolving_to_a_blocked_address_is_refused(guarded: Guarded) -> None:
    async with guarded(hosts={"rebind.test": ["169.254.169.254"], "intranet.test": ["10.0.0.7", "192.168.1.9"]},
                       block_private=True) as context:
        metadata = await refusal(context, "http://rebind.test/latest/meta-data/")
        intranet = await refusal(context, "http://intranet.test/")
    assert metadata.message.endswith(
        f"refused: rebind.test resolves to 169.254.169.254, a cloud metadata address {ALWAYS}")
    assert intranet.message.endswith(
        f"refused: intranet.test resolves to 10.0.0.7, a private network address {PRIVATE_SUFFIX}")


async def test_only_the_allowed_addresses_of_a_name_are_connected_to(guarded: Guarded, mock_http: MockHttp) -> None:
    # mixed.test resolves to a refused address first, where a trap listens on the mock's port: a guard that
    # checked one lookup and let aiohttp connect after another, or to every address, would reach the trap.
    trap = await MockHttp().start("127.0.0.2", mock_http.port)
    try:
        async with guarded(block_private=True, allow="127.0.0.1",
                           hosts={"mixed.test": ["127.0.0.2", "127.0.0.1"]}) as context:
            outcome = await run_step(dispatch(f"http://mixed.test:{mock_http.port}/hook"), context)
    finally:
        await trap.stop()
    assert outcome.output["status"] == 204
    assert trap.received == [] and [r.headers["Host"] for r in mock_http.received] == [f"mixed.test:{mock_http.port}"]


async def test_a_workflow_cannot_reach_the_metadata_service_and_is_not_retried(stack: Stack) -> None:
    retry = {"maxAttempts": 3, "initialIntervalMs": 100, "backoffCoefficient": 1.0, "maxIntervalMs": 100}
    document = graph(http("call", "http://169.254.169.254/latest/meta-data/", method="GET", settings={"retry": retry}),
                     edges=[edge("start", "call")])
    record = await stack.finish(await stack.start_run(document))
    call = steps_by_id(record)["call"]
    assert record["status"] == "failed" and call["attempt"] == 1
    assert call["error"] == (f"GET http://169.254.169.254/latest/meta-data refused: 169.254.169.254 is a cloud "
                             f"metadata address {ALWAYS}")
