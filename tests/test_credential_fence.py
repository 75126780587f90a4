"""Credential fences end to end: set over REST, kept with the credential, listed, and enforced by the engine on a
run through the real actors (gateway, orchestrator, engine) on a real nats-server, with real HTTP to the mock.
The secret is a canary, looked for in every response, log line, event and stored message."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import pytest

from bus import Bus, subjects
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, http_graph
from tests.support.streams import stored_messages


async def call(stack: Stack, method: str, path: str, **kwargs: Any) -> tuple[int, Any, str]:
    assert stack.http is not None
    async with stack.http.request(method, f"{stack.base_url}{path}", **kwargs) as response:
        text = await response.text()
        return response.status, (await response.json(content_type=None)) if text else None, text


async def test_allowed_hosts_are_checked_stored_listed_and_kept_on_replace(stack: Stack) -> None:
    status, body, _ = await call(stack, "POST", "/v1/credentials", json={
        "name": "notionToken", "value": "secret-notion-value-1",
        "allowedHosts": ["API.notion.com", "*.slack.com", "127.0.0.1:9999", "[::1]:8080", "api.notion.com"]})
    assert status == 201, body
    fence = ["api.notion.com", "*.slack.com", "127.0.0.1:9999", "[::1]:8080"]  # normalised, repeats dropped
    assert body["allowedHosts"] == fence
    _, listed, _ = await call(stack, "GET", "/v1/credentials")
    assert [c["allowedHosts"] for c in listed] == [fence]
    # Leaving the field out of a PUT keeps the fence (an older client must not unfence by omission); [] removes it.
    _, body, _ = await call(stack, "PUT", "/v1/credentials/notionToken", json={"value": "secret-notion-value-2"})
    assert body["allowedHosts"] == fence
    _, body, _ = await call(stack, "PUT", "/v1/credentials/notionToken", json={"value": "v3", "allowedHosts": []})
    assert body["allowedHosts"] == []
    _, body, _ = await call(stack, "PUT", "/v1/credentials/notionToken", json={"value": "v4",
                                                                              "allowedHosts": ["hooks.slack.com"]})
    assert body["allowedHosts"] == ["hooks.slack.com"]
    _, audit, _ = await call(stack, "GET", "/v1/audit")
    assert {"action": "credential.replace", "allowedHosts": ["hooks.slack.com"]} in [
        {"action": e["action"], **e.get("detail", {})} for e in audit["entries"]], "who fenced what is audited"


@pytest.mark.parametrize(("entry", "reason"), [
    ("https://api.notion.com", "without a scheme, path or spaces"),
    ("api.notion.com/v1", "without a scheme, path or spaces"),
    ("*.com", "every name under a top-level domain"),
    ("api.*.com", "only as a leading '*.'"),
    ("*", "only as a leading '*.'"),
    ("api.notion.com:0", "the port must be a number from 1 to 65535"),
    ("api.notion.com:http", "the port must be a number from 1 to 65535"),
    ("::1:8080x", "not a valid host name"),
    ("[::1", "[address]:port"),
    ("", "empty"),
    ("bad_-.host-", "not a valid host name"),
])
@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_bad_host_patterns_are_a_422_naming_the_entry(stack: Stack, entry: str, reason: str, method: str) -> None:
    body: dict[str, Any] = {"value": "v", "allowedHosts": ["api.notion.com", entry]}
    if method == "POST":
        status, answer, _ = await call(stack, "POST", "/v1/credentials", json={"name": "c", **body})
    else:
        status, answer, _ = await call(stack, "PUT", "/v1/credentials/c", json=body)
    assert status == 422, answer
    [issue] = answer["error"]["fields"]
    assert issue["field"] == "allowedHosts[1]" and reason in issue["reason"], issue
    if entry:
        assert repr(entry.lower()) in issue["reason"] or repr(entry) in issue["reason"], "the reason quotes the entry"
    _, listed, _ = await call(stack, "GET", "/v1/credentials")
    assert listed == [], "nothing was stored"


async def test_too_many_hosts_is_a_422(stack: Stack) -> None:
    status, answer, _ = await call(stack, "POST", "/v1/credentials", json={
        "name": "c", "value": "v", "allowedHosts": [f"h{i}.example.com" for i in range(51)]})
    assert status == 422 and answer["error"]["fields"][0]["field"] == "allowedHosts"


async def test_a_run_sends_a_fenced_credential_only_where_its_fence_allows(
    stack: Stack, mock_http: MockHttp, bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"canary-{secrets.token_hex(12)}"
    port = mock_http.port
    status, _, create_text = await call(stack, "POST", "/v1/credentials", json={
        "name": "notionToken", "value": canary, "allowedHosts": [f"127.0.0.1:{port}"]})
    assert status == 201
    mock_http.reply("/pages", Reply(status=200, body={"echo": canary}))
    mock_http.reply("/hop", Reply(status=307, headers={"Location": f"http://localhost:{port}/stolen"}))

    allowed = await stack.finish(await stack.start_run(http_graph(
        mock_http.url("/pages"), auth={"credentialName": "notionToken"}, json_body={"k": "{{getCredential('notionToken')}}"})))
    assert allowed["status"] == "succeeded"
    assert mock_http.requests_to("/pages")[0].headers["Authorization"] == f"Bearer {canary}"

    elsewhere = await stack.finish(await stack.start_run(http_graph(
        f"http://localhost:{port}/stolen", headers={"X-Token": "{{getCredential('notionToken')}}"})))
    redirected = await stack.finish(await stack.start_run(http_graph(
        mock_http.url("/hop"), auth={"credentialName": "notionToken"})))
    assert mock_http.requests_to("/stolen") == [], "neither the URL nor the redirect reached another host"
    assert len(mock_http.requests_to("/hop")) == 1
    rule = f"credential 'notionToken' may only be sent to 127.0.0.1:{port}; this request goes to localhost:{port}"
    for run, prefix in ((elsewhere, f"POST http://localhost:{port}/stolen refused: "),
                        (redirected, f"POST http://127.0.0.1:{port}/hop refused: redirected to "
                                     f"http://localhost:{port}/stolen, and ")):
        assert run["status"] == "failed"
        [step] = [s for s in run["steps"] if s["id"] == "call"]
        assert step["error"] == prefix + rule and step["attempt"] == 1, step

    seen = [create_text, json.dumps([allowed, elsewhere, redirected])]
    for run in (allowed, elsewhere, redirected):
        seen.append(json.dumps(await stack.events(run["id"])))
    for path in ("/v1/runs", "/v1/credentials", "/v1/audit"):
        seen.append((await call(stack, "GET", path))[2])
    seen += [record.getMessage() for record in caplog.records]
    for stream in (subjects.EVENTS_STREAM, subjects.RESULTS_STREAM):
        seen += [blob.decode(errors="replace") for blob in await stored_messages(bus, stream)]
    assert not [text[:200] for text in seen if canary in text]
