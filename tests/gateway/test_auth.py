"""Who may do what, over real HTTP on a real nats-server: every route refuses without a token, roles are enforced,
tokens are stored hashed and shown once, the sign-in link and cookie, the WebSocket, the audit log, and run history
(trigger, who started it, filters, re-run)."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from starlette.routing import Route

from bus import Bus
from gateway import GatewayConfig
from gateway.app import routes
from schemas.auth import token_hash
from tests.gateway.test_rest_api import request
from tests.support.graphs import edge, graph, http, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import ADMIN_TOKEN, Stack
from tests.support.waiting import eventually
from tests.test_credentials_e2e import add_credential

# Every method reaches a hook (its own `methods` setting decides, tests/gateway/test_hooks.py).
OPEN = {("POST", "/v1/session"), ("DELETE", "/v1/session"),
        *((method, "/v1/hooks/{hook_id}") for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")),
        *((method, "/v1/resume/{token}") for method in ("GET", "POST", "OPTIONS"))}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def anonymous(stack: Stack, method: str, path: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.request(method, f"{stack.base_url}{path}", **kwargs) as response:
        return response.status, await response.json(content_type=None), dict(response.headers)


async def new_token(stack: Stack, name: str, role: str) -> str:
    status, body, _ = await request(stack, "POST", "/v1/tokens", json={"name": name, "role": role})
    assert status == 201, body
    assert body["token"].startswith("aos_")
    return str(body["token"])


def api_routes() -> list[tuple[str, str]]:
    found = []
    for route in routes(GatewayConfig(nats_url="nats://unused")):
        if isinstance(route, Route) and route.path.startswith("/v1/"):
            found += [(method, route.path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return found


async def test_every_route_but_the_open_ones_refuses_without_a_token(stack: Stack) -> None:
    checked = 0
    for method, template in api_routes():
        if (method, template) in OPEN:
            continue
        path = re.sub(r"\{[a-z_]+\}", "x1", template)
        for headers in ({}, bearer("aos_not-a-real-token"), {"Cookie": "automateos_session=forged.cookie"}):
            status, body, answer = await anonymous(stack, method, path, headers=headers, json={})
            assert status == 401, (method, path, headers, status, body)
            assert body["error"]["code"] == "unauthenticated" and "Bearer" in body["error"]["message"]
            assert answer["WWW-Authenticate"].startswith("Bearer")
        checked += 1
    assert checked >= 28, f"only {checked} routes checked: is the route table read?"
    # Health, the builder and webhooks stay open (a hook answers for itself: 404 for an unknown one).
    for path in ("/healthz", "/readyz"):
        status, _, _ = await anonymous(stack, "GET", path)
        assert status == 200
    status, body, _ = await anonymous(stack, "POST", "/v1/hooks/unknown", json={})
    assert status == 404 and body["error"]["code"] == "not_found"
    # So do resume URLs, whose token is the secret (tests/gateway/test_resume.py).
    for method in ("GET", "POST"):
        status, body, _ = await anonymous(stack, method, "/v1/resume/unknown", json={})
        assert status == 404 and body["error"]["code"] == "not_found"


async def test_roles_runner_editor_admin(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/ok", Reply(status=200, body="ok"))
    runner, editor = await new_token(stack, "ci-runner", "runner"), await new_token(stack, "ci-editor", "editor")
    document = graph(http("ping", mock_http.url("/ok")), edges=[edge("start", "ping")])
    status, saved, _ = await request(stack, "POST", "/v1/workflows", json={"name": "Ping", "graph": document})
    assert status == 201

    forbidden_to_runner = [
        ("POST", "/v1/runs", {"graph": document}), ("POST", "/v1/workflows", {"name": "x", "graph": document}),
        ("PUT", f"/v1/workflows/{saved['id']}", {"graph": document, "baseVersion": 1}),
        ("DELETE", f"/v1/workflows/{saved['id']}", None), ("POST", "/v1/workflows/validate", {"graph": document}),
        ("GET", "/v1/credentials", None), ("POST", "/v1/import", {"document": document}),
        ("POST", "/v1/expressions/preview", {"expression": "{{ 1 }}", "context": {"sample": {}}}),
    ]
    forbidden_to_editor = [
        ("POST", f"/v1/workflows/{saved['id']}/activate", None), ("POST", f"/v1/workflows/{saved['id']}/deactivate", None),
        ("POST", "/v1/credentials", {"name": "k", "value": "v"}), ("PUT", "/v1/credentials/k", {"value": "v"}),
        ("DELETE", "/v1/credentials/k", None), ("GET", "/v1/tokens", None),
        ("POST", "/v1/tokens", {"name": "t", "role": "admin"}), ("DELETE", "/v1/tokens/ci-runner", None),
        ("GET", "/v1/audit", None),
    ]
    for token, refused in ((runner, forbidden_to_runner + forbidden_to_editor), (editor, forbidden_to_editor)):
        for method, path, body in refused:
            status, answer, _ = await anonymous(stack, method, path, json=body, headers=bearer(token))
            assert status == 403, (method, path, status, answer)
            assert answer["error"]["code"] == "forbidden" and " role" in answer["error"]["message"]

    # What a runner may do: read, and start runs of saved workflows.
    for path in ("/v1/workflows", f"/v1/workflows/{saved['id']}", "/v1/runs", "/v1/node-types", "/v1/templates"):
        status, _, _ = await anonymous(stack, "GET", path, headers=bearer(runner))
        assert status == 200, path
    status, started, _ = await anonymous(stack, "POST", "/v1/runs", json={"workflowId": saved["id"]}, headers=bearer(runner))
    assert status == 201, started
    # An editor edits and runs drafts.
    status, _, _ = await anonymous(stack, "PUT", f"/v1/workflows/{saved['id']}", headers=bearer(editor),
                                   json={"graph": document, "baseVersion": 1})
    assert status == 200
    status, _, _ = await anonymous(stack, "POST", "/v1/runs", json={"graph": document}, headers=bearer(editor))
    assert status == 201
    status, imported, _ = await anonymous(stack, "POST", "/v1/import", json={"document": document},
                                          headers=bearer(editor))
    assert status == 200 and imported["source"] == "automateos", imported
    status, body, _ = await request(stack, "GET", f"/v1/runs/{started['runId']}")
    assert body["startedBy"] == "ci-runner" and body["trigger"] == "api" and body["workflowId"] == saved["id"]

    # Deleting an active workflow switches its triggers off: an admin's call, as deactivating is.
    assert (await request(stack, "POST", f"/v1/workflows/{saved['id']}/activate"))[0] == 200
    status, answer, _ = await anonymous(stack, "DELETE", f"/v1/workflows/{saved['id']}", headers=bearer(editor))
    assert status == 403 and "deleting an active workflow needs the admin role" in answer["error"]["message"]
    assert (await request(stack, "GET", f"/v1/workflows/{saved['id']}"))[0] == 200
    assert (await request(stack, "DELETE", f"/v1/workflows/{saved['id']}"))[0] == 204


async def test_tokens_are_stored_hashed_shown_once_and_revocable(stack: Stack, bus: Bus) -> None:
    token = await new_token(stack, "deploy-bot", "runner")
    status, body, _ = await request(stack, "GET", "/v1/tokens")
    assert status == 200 and [t["name"] for t in body["tokens"]] == ["deploy-bot"]
    assert token not in str(body), "listing never shows a token"
    stored = b"".join([(await bus.tokens.kv.get(key)).value or b"" for key in await bus.tokens.kv.keys()])
    assert token.encode() not in stored and token_hash(token).encode() in stored
    status, body, _ = await request(stack, "POST", "/v1/tokens", json={"name": "deploy-bot", "role": "admin"})
    assert status == 409 and body["error"]["fields"][0]["field"] == "name"
    status, body, _ = await request(stack, "POST", "/v1/tokens", json={"name": "bad name", "role": "boss"})
    assert status == 422 and {f["field"] for f in body["error"]["fields"]} == {"name", "role"}

    status, who, _ = await anonymous(stack, "GET", "/v1/session", headers=bearer(token))
    assert status == 200 and who == {"name": "deploy-bot", "role": "runner"}
    status, _, _ = await request(stack, "DELETE", "/v1/tokens/deploy-bot")
    assert status == 204
    status, _, _ = await anonymous(stack, "GET", "/v1/session", headers=bearer(token))
    assert status == 401, "a revoked token stops working"
    status, _, _ = await request(stack, "DELETE", "/v1/tokens/deploy-bot")
    assert status == 404


async def test_a_sign_in_code_sets_an_http_only_cookie_and_the_socket_needs_it(stack: Stack, mock_http: MockHttp) -> None:
    origin = {"Origin": stack.base_url}
    async with aiohttp.ClientSession() as cli, cli.post(f"{stack.base_url}/v1/session/codes", headers=bearer(ADMIN_TOKEN)) as made:
        code = (await made.json())["code"]
    # unsafe=True: aiohttp keeps no cookies for bare IP addresses (127.0.0.1) otherwise; browsers do.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.post(f"{stack.base_url}/v1/session", json={"code": code}, headers=origin) as response:
            assert response.status == 200
            cookie = response.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and ADMIN_TOKEN not in cookie
        async with browser.get(f"{stack.base_url}/v1/session") as response:
            assert response.status == 200 and (await response.json()) == {"name": "admin", "role": "admin"}
        async with browser.post(f"{stack.base_url}/v1/runs", json={"graph": http_graph_for(mock_http)}) as response:
            assert response.status == 201
            run_id = (await response.json())["runId"]
        async with browser.ws_connect(f"{stack.base_url.replace('http', 'ws')}/v1/runs/{run_id}/events") as socket:
            first = await socket.receive_json(timeout=10)
            assert first["runId"] == run_id
        async with browser.delete(f"{stack.base_url}/v1/session") as response:
            assert response.status == 204
        async with browser.get(f"{stack.base_url}/v1/session") as response:
            assert response.status == 401, "signed out"
    status, body, _ = await request(stack, "GET", f"/v1/runs/{run_id}")
    assert body["trigger"] == "manual" and body["startedBy"] == "admin", "a signed-in browser's run is manual"

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as stranger:
        async with stranger.post(f"{stack.base_url}/v1/session", json={"token": "wrong"}) as response:
            assert response.status == 401 and (await response.json())["error"]["fields"][0]["field"] == "token"
        async with stranger.ws_connect(f"{stack.base_url.replace('http', 'ws')}/v1/runs/{run_id}/events") as socket:
            message = await socket.receive(timeout=10)
            assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 4401
        async with stranger.post(f"{stack.base_url}/v1/session", json={"token": ADMIN_TOKEN}) as response:
            assert response.status == 200 and "HttpOnly" in response.headers["Set-Cookie"]
        async with stranger.get(f"{stack.base_url}/v1/runs/{run_id}") as response:
            assert response.status == 200, "POST /v1/session {token} (the sign-in page) signs in as a code does"
        # Another page (another port of this host) cannot post a code or a token into this browser's session.
        async with stranger.post(f"{stack.base_url}/v1/session", json={"token": ADMIN_TOKEN},
                                 headers={"Origin": "http://127.0.0.1:1"}) as response:
            assert response.status == 403


def http_graph_for(mock_http: MockHttp) -> dict[str, Any]:
    mock_http.reply("/signed-in", Reply(status=200, body="ok"))
    return graph(http("ping", mock_http.url("/signed-in")), edges=[edge("start", "ping")])


async def test_the_audit_log_records_each_change(stack: Stack, mock_http: MockHttp) -> None:
    editor = await new_token(stack, "alice", "editor")
    document = graph(http("ping", mock_http.url("/ok")), edges=[edge("start", "ping")])
    status, saved, _ = await anonymous(stack, "POST", "/v1/workflows", json={"name": "Audited", "graph": document},
                                       headers=bearer(editor))
    assert status == 201
    workflow_id = saved["id"]
    await anonymous(stack, "PUT", f"/v1/workflows/{workflow_id}", json={"graph": document, "baseVersion": 1},
                    headers=bearer(editor))
    await request(stack, "POST", f"/v1/workflows/{workflow_id}/activate", json={"version": 1})
    await request(stack, "POST", f"/v1/workflows/{workflow_id}/deactivate")
    await add_credential(stack, "auditedKey", "sk_audit_canary_123456")
    status, _, _ = await request(stack, "PUT", "/v1/credentials/auditedKey", json={"value": "sk_audit_canary_654321"})
    assert status == 200
    await request(stack, "DELETE", "/v1/credentials/auditedKey")
    await request(stack, "DELETE", f"/v1/workflows/{workflow_id}")
    await request(stack, "DELETE", "/v1/tokens/alice")

    status, body, _ = await request(stack, "GET", "/v1/audit?limit=100")
    assert status == 200
    entries = list(reversed(body["entries"]))  # oldest first
    assert [(e["actor"], e["action"], e["target"], e["version"]) for e in entries] == [
        ("admin", "token.create", "alice", None),
        ("alice", "workflow.create", workflow_id, 1),
        ("alice", "workflow.update", workflow_id, 2),
        ("admin", "workflow.activate", workflow_id, 1),
        ("admin", "workflow.deactivate", workflow_id, 1),  # the version that had been active, not the latest
        ("admin", "credential.create", "auditedKey", None),
        ("admin", "credential.replace", "auditedKey", None),
        ("admin", "credential.delete", "auditedKey", None),
        ("admin", "workflow.delete", workflow_id, 2),
        ("admin", "token.revoke", "alice", None),
    ]
    assert "sk_audit_canary" not in str(body), "the audit log names credentials, never their values"
    status, page, _ = await request(stack, "GET", "/v1/audit?limit=4")
    assert [e["seq"] for e in page["entries"]] == [e["seq"] for e in body["entries"][:4]] and page["next"] is not None
    status, older, _ = await request(stack, "GET", f"/v1/audit?limit=100&before={page['next']}")
    assert [e["seq"] for e in older["entries"]] == [e["seq"] for e in body["entries"][4:]] and older["next"] is None


async def test_history_filters_and_rerun(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/ok", Reply(status=200, body="ok"))
    mock_http.reply("/down", Reply(status=500, body="down"))
    good = graph(http("ping", mock_http.url("/ok")), edges=[edge("start", "ping")], name="Good")
    status, saved, _ = await request(stack, "POST", "/v1/workflows", json={"name": "Good", "graph": good})
    assert status == 201
    ids = []
    for inputs in ({"n": 1}, {"n": 2}):
        status, body, _ = await request(stack, "POST", "/v1/runs", json={"workflowId": saved["id"], "inputs": inputs})
        ids.append(body["runId"])
    status, draft, _ = await request(stack, "POST", "/v1/runs",
                                     json={"graph": graph(http("ping", mock_http.url("/down")), edges=[edge("start", "ping")])})
    for run_id in [*ids, draft["runId"]]:
        await stack.finish(run_id)

    status, body, _ = await request(stack, "GET", f"/v1/runs?workflowId={saved['id']}")
    assert [r["id"] for r in body["runs"]] == ids[::-1] and body["next"] is None
    assert all(r["workflowVersion"] == 1 and r["status"] == "succeeded" and r["durationMs"] > 0 for r in body["runs"])
    status, body, _ = await request(stack, "GET", "/v1/runs?status=failed")
    assert [r["id"] for r in body["runs"]] == [draft["runId"]] and "HTTP 500" in body["runs"][0]["error"]
    status, body, _ = await request(stack, "GET", "/v1/runs?trigger=api&limit=2")
    assert [r["id"] for r in body["runs"]] == [draft["runId"], ids[1]] and body["next"] == ids[1]
    status, body, _ = await request(stack, "GET", f"/v1/runs?trigger=api&limit=2&before={ids[1]}")
    assert [r["id"] for r in body["runs"]] == [ids[0]] and body["next"] is None
    status, body, _ = await request(stack, "GET", "/v1/runs?trigger=robot&workflowId=a.b")
    assert status == 422 and {f["field"] for f in body["error"]["fields"]} == {"trigger", "workflowId"}

    # A new version does not change what a re-run runs: the version and the inputs of the original.
    status, _, _ = await request(stack, "PUT", f"/v1/workflows/{saved['id']}", json={
        "graph": graph(http("ping", mock_http.url("/down")), edges=[edge("start", "ping")]), "baseVersion": 1})
    status, again, _ = await request(stack, "POST", f"/v1/runs/{ids[0]}/rerun")
    assert status == 201, again
    record = await stack.finish(again["runId"])
    assert record["status"] == "succeeded" and record["workflowVersion"] == 1 and steps_by_id(record)["start"]["output"] == {"n": 1}
    status, body, _ = await request(stack, "POST", f"/v1/runs/{draft['runId']}/rerun")
    assert status == 409 and "draft" in body["error"]["message"]


async def test_waiting_says_why(stack: Stack) -> None:
    document = graph({"id": "pause", "type": "delay", "data": {"config": {"seconds": 3600}}}, edges=[edge("start", "pause")])
    status, body, _ = await request(stack, "POST", "/v1/runs", json={"graph": document})
    run_id = body["runId"]

    async def waiting() -> str | None:
        _, view, _ = await request(stack, "GET", f"/v1/runs/{run_id}")
        return view["waiting"] if view["waiting"] and "delay" in view["waiting"] else None

    reason = await eventually(waiting, what="the delay to be reported")
    assert "pause" in reason and "until" in reason
    await request(stack, "POST", f"/v1/runs/{run_id}/cancel")
    record = await stack.finish(run_id)
    assert record["status"] == "cancelled"
    _, view, _ = await request(stack, "GET", f"/v1/runs/{run_id}")
    assert view["waiting"] is None

