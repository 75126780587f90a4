"""The HTTP node against a real local server: what it sends, what it reports, how it fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bus import free_port
from engine.errors import StepFailed
from engine.nodes import NodeContext
from engine.step_runner import run_step
from schemas import StepDispatch
from schemas.masking import MASK, loggable_url, mask_fields, mask_headers
from tests.support.mock_http import MockHttp, Reply


@pytest.fixture
async def context() -> AsyncIterator[NodeContext]:
    async with aiohttp.ClientSession() as session:
        yield NodeContext(session=session)


def dispatch(**config: Any) -> StepDispatch:
    return StepDispatch(runId="r1", stepId="s1", name="Call", type="http", config=config)


async def test_success_reports_status_masked_headers_and_parsed_body(mock_http: MockHttp, context: NodeContext) -> None:
    mock_http.reply("/ok", Reply(status=200, body={"id": 7, "api_key": "sk_live_123", "nested": {"password": "p"}},
                                 headers={"Set-Cookie": "session=abc", "X-Plain": "yes"}))
    outcome = await run_step(dispatch(method="GET", url=mock_http.url("/ok")), context)
    assert outcome.output["status"] == 200
    assert outcome.output["body"] == {"id": 7, "api_key": MASK, "nested": {"password": MASK}}
    assert outcome.output["headers"]["Set-Cookie"] == MASK and outcome.output["headers"]["X-Plain"] == "yes"
    assert outcome.logs[0].msg.startswith(f"GET http://127.0.0.1:{mock_http.port}/ok → HTTP 200 in ")


async def test_raw_body_is_sent_as_is(mock_http: MockHttp, context: NodeContext) -> None:
    await run_step(dispatch(method="PUT", url=mock_http.url("/raw"), body="a=1&b=2",
                            headers={"Content-Type": "application/x-www-form-urlencoded"}), context)
    [received] = mock_http.received
    assert received.method == "PUT" and received.body == b"a=1&b=2"


async def test_non_2xx_fails_with_status_and_output(mock_http: MockHttp, context: NodeContext) -> None:
    mock_http.reply("/missing", Reply(status=404, body="no such thing"))
    with pytest.raises(StepFailed) as failure:
        await run_step(dispatch(method="DELETE", url=mock_http.url("/missing")), context)
    assert failure.value.message.startswith("HTTP 404 Not Found from DELETE")
    assert failure.value.output["body"] == "no such thing"
    assert failure.value.log is not None and "→ HTTP 404" in failure.value.log


async def test_timeout_fails_with_a_clear_message(mock_http: MockHttp, context: NodeContext) -> None:
    mock_http.reply("/slow", Reply(delay_s=5))
    with pytest.raises(StepFailed, match=r"timed out after 200 ms"):
        await run_step(dispatch(url=mock_http.url("/slow"), timeoutMs=200), context)


async def test_connection_refused_fails_with_a_clear_message(context: NodeContext) -> None:
    port = free_port()
    with pytest.raises(StepFailed, match=rf"cannot connect to 127.0.0.1:{port}"):
        await run_step(dispatch(url=f"http://127.0.0.1:{port}/"), context)


async def test_unresolvable_host_fails_with_a_clear_message(context: NodeContext) -> None:
    with pytest.raises(StepFailed, match="cannot resolve host 'no-such-host.invalid'"):
        await run_step(dispatch(url="http://no-such-host.invalid/hook", timeoutMs=5000), context)


async def test_large_bodies_are_cut(mock_http: MockHttp, context: NodeContext) -> None:
    mock_http.reply("/big", Reply(status=200, body="x" * 200_000))
    outcome = await run_step(dispatch(url=mock_http.url("/big")), context)
    assert outcome.output["truncated"] is True and len(outcome.output["body"]) == 64 * 1024


def test_masking_rules() -> None:
    assert mask_headers({"Authorization": "Bearer x", "X-API-Key": "k", "X-Auth-Token": "t", "Accept": "a"}) == {
        "Authorization": MASK, "X-API-Key": MASK, "X-Auth-Token": MASK, "Accept": "a"}
    assert mask_fields([{"client_secret": "s", "ok": [{"Password": "p"}]}]) == [{"client_secret": MASK, "ok": [{"Password": MASK}]}]
    assert loggable_url("https://discord.com/api/webhooks/123/tok") == "https://discord.com/api/webhooks/…"
    assert loggable_url("http://[fd00:ec2::254]:8080/latest/x") == "http://[fd00:ec2::254]:8080/latest/x"
    assert loggable_url("https://u:pw@x.test/a?api_key=s&q=1") == "https://x.test/a?api_key=%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2&q=1"


async def test_a_body_sent_in_several_chunks_is_read_whole(context: NodeContext) -> None:
    from aiohttp import web

    document = {"items": [{"n": i, "text": "x" * 50} for i in range(100)]}  # ~6 KB

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        payload = __import__("json").dumps(document).encode()
        for start in range(0, len(payload), 1000):
            await response.write(payload[start:start + 1000])
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/chunked", chunked)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        outcome = await run_step(dispatch(method="GET", url=f"http://127.0.0.1:{port}/chunked"), context)
    finally:
        await runner.cleanup()
    assert outcome.output["body"] == document and "truncated" not in outcome.output


class _Credentials:
    """The node's view of the store: a name → value lookup (the store itself is tested on real NATS)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    async def reveal_fenced(self, name: str) -> tuple[str, list[str]]:
        return self.values[name], []


@pytest.mark.parametrize("secret", ["pässwörd-Zürich-42", 'ab"cd\\ef-123456', "a/b/c/d/e/f-7", "12345", "x<y>&z-pass"])
async def test_echoed_secrets_are_scrubbed_in_every_form(mock_http: MockHttp, secret: str) -> None:
    import json as json_module

    async with aiohttp.ClientSession() as session:
        context = NodeContext(session=session, credentials=_Credentials({"k": secret}))
        echo = {"raw_json_text": json_module.dumps({"v": secret}), "text": f"value={secret}"}
        mock_http.reply("/echo", Reply(status=400, body=echo))
        with pytest.raises(StepFailed) as failure:
            await run_step(dispatch(method="POST", url=mock_http.url("/echo"), json_body={"v": "{{ getCredential('k') }}"}), context)
    reported = json_module.dumps([failure.value.message, failure.value.output, failure.value.log], ensure_ascii=False)
    escaped = json_module.dumps(secret)[1:-1]
    assert secret not in reported and escaped not in reported and json_module.dumps(secret, ensure_ascii=False)[1:-1] not in reported
    assert mock_http.requests_to("/echo")[0].json() == {"v": secret}


async def test_a_secret_straddling_the_body_cut_leaves_nothing(mock_http: MockHttp) -> None:
    secret = "straddling-secret-0123456789"
    body = "x" * (64 * 1024 - 10) + secret + "y" * 1000
    mock_http.reply("/big", Reply(status=200, body=body, headers={"Content-Type": "text/plain"}))
    async with aiohttp.ClientSession() as session:
        context = NodeContext(session=session, credentials=_Credentials({"k": secret}))
        outcome = await run_step(dispatch(url=mock_http.url("/big"), headers={"X-K": "{{ getCredential('k') }}"}), context)
    assert outcome.output["truncated"] is True and secret[:10] not in outcome.output["body"]


async def test_validation_after_templates_names_fields_not_values(mock_http: MockHttp) -> None:
    async with aiohttp.ClientSession() as session:
        context = NodeContext(session=session, credentials=_Credentials({"slash": "ab/cdefgh"}))
        with pytest.raises(StepFailed) as failure:
            await run_step(dispatch(url="https://user:{{ getCredential('slash') }}@x.example/"), context)
    assert "config.url" in failure.value.message and "ab" not in failure.value.message.replace("about", "")
