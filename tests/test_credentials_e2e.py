"""Real integrations end to end: templating, credentials, and a canary secret that must appear nowhere."""

from __future__ import annotations

import base64
import json
import logging
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from automateos.settings import REPO_ROOT
from bus import Bus, EmbeddedNats
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, http_graph
from tests.support.streams import stored_messages


async def add_credential(stack: Stack, name: str, value: str) -> str:
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/v1/credentials", json={"name": name, "value": value}) as response:
        assert response.status == 201
        return await response.text()


def notion_template(url: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((REPO_ROOT / "examples" / "notion-automation.json").read_text())
    document["nodes"][1]["data"]["config"]["url"] = url
    return document


async def test_notion_template_end_to_end_against_a_mock_notion(stack: Stack, mock_http: MockHttp) -> None:
    token = "secret_" + secrets.token_hex(16)
    await add_credential(stack, "notionToken", token)
    mock_http.reply("/v1/pages", Reply(status=200, body={"object": "page", "id": "page-1"}))
    run_id = await stack.start_run(notion_template(mock_http.url("/v1/pages")),
                                   inputs={"databaseId": "db-123", "title": "Launch day"})
    record = await stack.finish(run_id)
    assert record["status"] == "succeeded", record

    [request] = mock_http.requests_to("/v1/pages")
    assert request.headers["Authorization"] == f"Bearer {token}"
    assert request.headers["Notion-Version"] == "2022-06-28"
    assert request.json() == {"parent": {"database_id": "db-123"},
                              "properties": {"title": {"title": [{"text": {"content": "Launch day"}}]}}}


async def test_missing_credential_fails_the_step_before_any_call(stack: Stack, mock_http: MockHttp) -> None:
    run_id = await stack.start_run(notion_template(mock_http.url("/v1/pages")),
                                   inputs={"databaseId": "d", "title": "t"})
    record = await stack.finish(run_id)
    step = next(s for s in record["steps"] if s["id"] == "create-page")
    assert record["status"] == "failed" and step["error"] == "credential 'notionToken' is not defined"
    assert mock_http.received == []


async def test_missing_variable_fails_naming_it_before_any_call(stack: Stack, mock_http: MockHttp) -> None:
    await add_credential(stack, "notionToken", "secret_value_123456")
    run_id = await stack.start_run(notion_template(mock_http.url("/v1/pages")), inputs={"databaseId": "d"})
    record = await stack.finish(run_id)
    step = next(s for s in record["steps"] if s["id"] == "create-page")
    assert "template variable 'title' is not defined" in step["error"]
    assert mock_http.received == []


async def test_sandbox_escape_fails_the_step_and_executes_nothing(stack: Stack, mock_http: MockHttp, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    graph = http_graph(mock_http.url("/x"), json_body={"a": f"{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}"})
    record = await stack.finish(await stack.start_run(graph))
    step = next(s for s in record["steps"] if s["id"] == "call")
    assert record["status"] == "failed"
    assert "not defined" in step["error"] or "not allowed" in step["error"], step["error"]
    assert not marker.exists() and mock_http.received == []


async def test_upstream_step_outputs_feed_later_steps(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/customer", Reply(status=200, body={"id": 42, "email": "ada@example.test"}))
    graph = http_graph(mock_http.url("/customer"), method="GET")
    graph["nodes"].append({"id": "notify", "type": "http", "data": {"config": {
        "method": "POST", "url": mock_http.url("/customers/{{ steps.call.output.body.id }}/notes"),
        "json_body": {"to": "{{ steps.call.output.body.email }}", "status": "{{ steps.call.output.status }}"}}}})
    graph["edges"].append({"id": "e2", "source": "call", "target": "notify"})
    record = await stack.finish(await stack.start_run(graph))
    assert record["status"] == "succeeded"
    [note] = mock_http.requests_to("/customers/42/notes")
    assert note.json() == {"to": "ada@example.test", "status": 200}


@pytest.mark.parametrize("variant", ["echoed", "failed"])
async def test_canary_credential_appears_nowhere(
    stack: Stack, mock_http: MockHttp, bus: Bus, nats_server: EmbeddedNats, caplog: pytest.LogCaptureFixture, variant: str
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = "canary" + secrets.token_hex(16)
    forms = [canary, quote(canary, safe=""), base64.b64encode(canary.encode()).decode()]
    captured: list[bytes] = []

    async def capture(msg: Any) -> None:
        captured.append(msg.data)

    # Work queues delete what is acked, so watch the step subjects as the messages pass.
    await bus.nc.subscribe("steps.>", cb=capture)
    api_texts = [await add_credential(stack, "apiToken", canary)]

    # The API echoes what it received, as careless APIs do: in its body and a header. In the failing
    # variant the secret is also the URL's first path segment, which the error message quotes.
    path = f"/{canary}/echo" if variant == "failed" else "/echo"
    template_path = "/{{ getCredential('apiToken') }}/echo" if variant == "failed" else "/echo"
    mock_http.reply(path, Reply(status=500 if variant == "failed" else 200,
                                body={"got": f"Bearer {canary}", "b64": forms[2]}, headers={"X-Echo": canary}))
    headers = {"X-Api-Key": "{{ getCredential('apiToken') }}"}
    graph = http_graph(mock_http.url(template_path + "?token={{ getCredential('apiToken') }}"), headers=headers,
                       auth={"credentialName": "apiToken"}, json_body={"note": "key={{ getCredential('apiToken') }}"})
    run_id = await stack.start_run(graph)
    events = await stack.events(run_id)
    await bus.nc.flush()
    [request] = mock_http.requests_to(path)
    assert request.headers["Authorization"] == f"Bearer {canary}" and request.headers["X-Api-Key"] == canary
    assert request.json() == {"note": f"key={canary}"}, "the real call carries the secret"
    assert events[-1]["status"] == ("failed" if variant == "failed" else "succeeded")

    assert stack.http is not None
    for path in (f"/v1/runs/{run_id}", "/v1/runs", "/v1/credentials"):
        async with stack.http.get(f"{stack.base_url}{path}") as response:
            api_texts.append(await response.text())
    places: dict[str, list[bytes]] = {
        "API responses": [t.encode() for t in api_texts],
        "WebSocket events": [json.dumps(events, ensure_ascii=False).encode()],
        "logs": [record.getMessage().encode() for record in caplog.records],
        "steps.dispatch/steps.result messages": captured,
        "RUN_EVENTS stream": await stored_messages(bus, "RUN_EVENTS"),
        "runs KV": await stored_messages(bus, "KV_runs"),
        "credentials KV": await stored_messages(bus, "KV_credentials"),
        "nats store files": [path.read_bytes() for path in nats_server.store_dir.rglob("*") if path.is_file()],
    }
    assert any(run_id.encode() in blob for blob in places["nats store files"]), "the store scan sees this run's data"
    assert captured, "the step messages were seen"
    leaks = {where: form for where, blobs in places.items() for blob in blobs for form in forms if form.encode() in blob}
    assert not leaks, leaks
    assert any(b"\xe2\x80\xa2" in blob for blob in places["WebSocket events"]), "what was scrubbed shows as masked"
