"""The `automateos` command as a user types it: up, run, Ctrl-C, and runs that survive a restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from dotenv import dotenv_values

from automateos.run_command import RunCommandError, apply_sets, parse_inputs
from automateos.settings import REPO_ROOT, Settings, SettingsError
from bus import free_port, free_port_blocks
from engine import OutboundPolicy
from tests.gateway.test_rest_api import request
from tests.support.graphs import edge, graph, http
from tests.support.mock_http import MockHttp, Reply
from tests.support.process_tree import children as child_processes
from tests.support.stack import Stack
from tests.support.waiting import eventually

EXAMPLES = REPO_ROOT / "examples"
# The template format of the first examples: still accepted everywhere a workflow is.
LEGACY_TEMPLATE = REPO_ROOT / "tests" / "fixtures" / "legacy-stripe-discord.json"


async def start_up(env: dict[str, str], *args: str) -> tuple[asyncio.subprocess.Process, list[str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "automateos", "up", *args, env=env, cwd=env["AUTOMATEOS_DATA_DIR"],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    lines: list[str] = []
    assert process.stdout is not None
    async with asyncio.timeout(60):
        while True:
            line = (await process.stdout.readline()).decode()
            assert line, f"`automateos up` ended early:\n{''.join(lines)}"
            lines.append(line)
            if "AutomateOS is up" in line:
                return process, lines


async def stop_up(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    assert process.stdout is not None
    async with asyncio.timeout(60):
        rest = (await process.stdout.read()).decode()
        return await process.wait(), rest


async def automateos_run(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "automateos", "run", *args, env=env, cwd=env.get("AUTOMATEOS_DATA_DIR"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(60):
        output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_up_run_stop_and_runs_survive_a_restart(tmp_path: Path, mock_http: MockHttp) -> None:
    mock_http.reply("/slack", Reply(status=200, body="ok"))
    mock_http.reply("/discord-down", Reply(status=503))
    env = {**os.environ, "AUTOMATEOS_DATA_DIR": str(tmp_path), "AUTOMATEOS_PORT": str(free_port()),
           "AUTOMATEOS_NATS_PORT": str(free_port())}
    env.pop("NATS_URL", None)
    env.pop("AUTOMATEOS_MASTER_KEY", None)  # `up` must make one, into .env in its working directory
    env.pop("AUTOMATEOS_ADMIN_TOKEN", None)  # and an admin token, which `automateos run` then reads from there
    gateway = f"http://127.0.0.1:{env['AUTOMATEOS_PORT']}"

    up, lines = await start_up(env)
    try:
        assert any("nats-server (embedded" in line for line in lines)
        assert any("generated a master key" in line for line in lines)
        dotenv = dict(line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines())
        assert {"AUTOMATEOS_MASTER_KEY", "AUTOMATEOS_ADMIN_TOKEN"} <= dotenv.keys()
        token = dotenv["AUTOMATEOS_ADMIN_TOKEN"]
        assert not any(token in line for line in lines), "the admin token is never printed"
        links = [word for line in lines for word in line.split() if word.startswith(f"{gateway}/?code=")]
        assert len(links) == 1, f"one sign-in link is printed: {lines}"
        sign_in_code = links[0].split("?code=", 1)[1]
        async with aiohttp.ClientSession() as session:
            for expected in (200, 401):  # it works once
                async with session.post(f"{gateway}/v1/session", json={"code": sign_in_code}) as response:
                    assert response.status == expected, await response.text()
        code, output = await automateos_run(str(EXAMPLES / "slack-notification.json"), "--gateway", gateway,
                                            "--set", f"notify-slack.url={mock_http.url('/slack')}", env=env)
        assert code == 0, output
        assert "Post to Slack" in output and "→ HTTP 200" in output and "■ run succeeded" in output
        assert mock_http.requests_to("/slack")[0].json() == {"text": "Hello from AutomateOS :wave:"}
        run_id = output.split()[2]

        assert dotenv["AUTOMATEOS_PORT"] == env["AUTOMATEOS_PORT"], "a new terminal finds the gateway through .env"
        new_terminal = {k: v for k, v in env.items() if k != "AUTOMATEOS_PORT"}
        code, output = await automateos_run(str(LEGACY_TEMPLATE), "--set",
                                            f"step-1.url={mock_http.url('/discord-down')}", env=new_terminal)
        assert code == 1, output
        assert "HTTP 503" in output and "■ run failed" in output
    finally:
        status, rest = await stop_up(up)
    assert status == 0, rest
    assert "✓ stopped" in rest
    assert token not in rest, "nor logged by any process `up` started"

    up, _ = await start_up(env)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{gateway}/v1/runs/{run_id}") as response:
                assert response.status == 401, "no token, no run"
            async with session.get(f"{gateway}/v1/runs/{run_id}", headers={"Authorization": f"Bearer {token}"}) as response:
                assert response.status == 200
                assert (await response.json())["status"] == "succeeded"
    finally:
        status, _ = await stop_up(up)
    assert status == 0


async def read_until(process: asyncio.subprocess.Process, marker: str, timeout: float = 60) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            line = (await process.stdout.readline()).decode()
            assert line, f"`automateos up` ended early:\n{''.join(lines)}"
            lines.append(line)
            if marker in line:
                return lines


async def test_up_cluster_restarts_a_killed_engine_and_a_killed_nats_node(tmp_path: Path, mock_http: MockHttp) -> None:
    mock_http.reply("/slack", Reply(status=200, body="ok"))
    client_base, route_base = free_port_blocks(2, 3)
    env = {**os.environ, "AUTOMATEOS_DATA_DIR": str(tmp_path), "AUTOMATEOS_PORT": str(free_port()),
           "AUTOMATEOS_NATS_PORT": str(client_base), "AUTOMATEOS_NATS_ROUTE_PORT": str(route_base),
           # The cluster profile blocks private networks, and the mock listens on loopback.
           "AUTOMATEOS_BLOCK_PRIVATE_NETWORKS": "false"}
    for name in ("NATS_URL", "AUTOMATEOS_MASTER_KEY", "AUTOMATEOS_ADMIN_TOKEN"):
        env.pop(name, None)
    gateway = f"http://127.0.0.1:{env['AUTOMATEOS_PORT']}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "automateos", "up", "--cluster", "3", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        lines = await read_until(process, "AutomateOS is up", timeout=90)
        assert any("3 nats-servers (a local cluster" in line for line in lines), lines
        children = child_processes(process.pid)
        engine = next(pid for pid, command in children.items() if "automateos engine" in command)
        node = next(pid for pid, command in children.items() if "nats-server" in command)
        os.kill(engine, signal.SIGKILL)
        os.kill(node, signal.SIGKILL)
        seen = await read_until(process, "restarting engine-1")
        seen += await read_until(process, "engine worker")
        if not any("was killed by SIGKILL; restarting it" in line for line in seen):
            await read_until(process, "was killed by SIGKILL; restarting it")
        code, output = await automateos_run(str(EXAMPLES / "slack-notification.json"), "--gateway", gateway,
                                            "--set", f"notify-slack.url={mock_http.url('/slack')}", env=env)
        assert code == 0 and "■ run succeeded" in output, output
        assert len(mock_http.requests_to("/slack")) == 1
        assert process.returncode is None, "the stack stays up"
    finally:
        status, rest = await stop_up(process)
    assert status == 0, rest


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing


async def test_a_sigkilled_up_takes_its_children_with_it_and_up_starts_again(tmp_path: Path) -> None:
    env = {**os.environ, "AUTOMATEOS_DATA_DIR": str(tmp_path), "AUTOMATEOS_PORT": str(free_port()),
           "AUTOMATEOS_NATS_PORT": str(free_port())}
    for name in ("NATS_URL", "AUTOMATEOS_MASTER_KEY", "AUTOMATEOS_ADMIN_TOKEN"):
        env.pop(name, None)
    up, _ = await start_up(env)
    children = child_processes(up.pid)
    assert {"nats-server", "automateos gateway", "automateos orchestrator", "automateos engine"} <= {
        next((k for k in ("nats-server", "automateos gateway", "automateos orchestrator", "automateos engine")
              if k in command), command) for command in children.values()}, children
    up.kill()
    await up.wait()

    async def all_gone() -> bool:
        return not any(_alive(pid) for pid in children)

    await eventually(all_gone, timeout=30, what="up's children to end with it")
    again, _ = await start_up(env)  # the ports are free again
    status, _ = await stop_up(again)
    assert status == 0


async def test_run_reports_an_invalid_file_with_field_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"nodes": [{"id": "a", "type": "http", "data": {"config": {"url": "x"}}}], "edges": []}))
    # The gateway is not even needed to fail on an unreadable file.
    code, output = await automateos_run(str(tmp_path / "missing.json"), "--gateway", "http://127.0.0.1:9", env=dict(os.environ))
    assert code == 2 and "cannot read" in output
    code, output = await automateos_run(str(bad), "--gateway", f"http://127.0.0.1:{free_port()}", env=dict(os.environ))
    assert code == 2 and "cannot reach the gateway" in output


def test_inputs_nest_and_parse_json() -> None:
    assert parse_inputs(["a=1", "payload.title=Hello world", "flag=true", "list=[1,2]"]) == {
        "a": 1, "payload": {"title": "Hello world"}, "flag": True, "list": [1, 2]}
    with pytest.raises(RunCommandError):
        parse_inputs(["novalue"])


def test_set_overrides_builder_and_template_nodes() -> None:
    builder = json.loads((EXAMPLES / "slack-notification.json").read_text())
    assert apply_sets(builder, ["notify-slack.url=http://x.test"])["nodes"][1]["data"]["config"]["url"] == "http://x.test"
    template = json.loads(LEGACY_TEMPLATE.read_text())
    assert apply_sets(template, ["step-1.url=http://y.test"])["definition"]["steps"][0]["config"]["url"] == "http://y.test"
    with pytest.raises(RunCommandError, match=r"no node 'nope' in this workflow \(its nodes: start, notify-slack\)"):
        apply_sets(builder, ["nope.url=x"])
    assert apply_sets(template, ["step_1.url=http://z.test"])["definition"]["steps"][0]["config"]["url"] == "http://z.test"


def test_set_values_that_are_json_are_sent_as_json() -> None:
    builder = json.loads((EXAMPLES / "slack-notification.json").read_text())
    config = apply_sets(builder, ["notify-slack.timeoutMs=5000", 'notify-slack.json_body={"text": "hi", "n": 2}',
                                  "notify-slack.method=POST"])["nodes"][1]["data"]["config"]
    assert config["timeoutMs"] == 5000 and config["json_body"] == {"text": "hi", "n": 2} and config["method"] == "POST"


def test_settings_read_the_environment_and_reject_bad_values() -> None:
    settings = Settings.from_env({"AUTOMATEOS_PORT": "9000", "NATS_URL": "nats://h:1", "AUTOMATEOS_STEP_ACK_WAIT": "5"})
    assert (settings.port, settings.nats_url, settings.bus.step_ack_wait_s) == (9000, "nats://h:1", 5.0)
    assert Settings.from_env({}).nats_url is None
    with pytest.raises(SettingsError, match="AUTOMATEOS_PORT"):
        Settings.from_env({"AUTOMATEOS_PORT": "eighty"})


def test_the_layout_is_read_from_the_environment_and_checked() -> None:
    assert Settings.from_env({}).layout == "processes"
    assert Settings.from_env({"AUTOMATEOS_LAYOUT": "one-process"}).layout == "one-process"
    with pytest.raises(SettingsError, match="AUTOMATEOS_LAYOUT must be one of processes, one-process, not 'one'"):
        Settings.from_env({"AUTOMATEOS_LAYOUT": "one"})


def test_outbound_settings_default_to_loopback_allowed_and_are_checked() -> None:
    assert Settings.from_env({}).outbound == OutboundPolicy(block_private=False)
    outbound = Settings.from_env({"AUTOMATEOS_BLOCK_PRIVATE_NETWORKS": "TRUE",
                                  "AUTOMATEOS_OUTBOUND_ALLOW": "10.1.0.0/16, api.internal"}).outbound
    assert outbound.block_private and outbound.allow_hosts == {"api.internal"}
    assert [str(n) for n in outbound.allow_networks] == ["10.1.0.0/16"]
    with pytest.raises(SettingsError, match="AUTOMATEOS_BLOCK_PRIVATE_NETWORKS must be true or false, not 'maybe'"):
        Settings.from_env({"AUTOMATEOS_BLOCK_PRIVATE_NETWORKS": "maybe"})
    with pytest.raises(SettingsError, match=r"AUTOMATEOS_OUTBOUND_ALLOW: '10\.0\.0\.0/40' is neither a CIDR"):
        Settings.from_env({"AUTOMATEOS_OUTBOUND_ALLOW": "10.0.0.0/40"})


async def test_env_credentials_are_offered_and_survive_key_rotation(tmp_path: Path, mock_http: MockHttp) -> None:
    token = "secret_notion_from_env_0123456789"
    env = {**os.environ, "AUTOMATEOS_DATA_DIR": str(tmp_path), "AUTOMATEOS_PORT": str(free_port()),
           "AUTOMATEOS_NATS_PORT": str(free_port()), "NOTION_TOKEN": token}
    env.pop("NATS_URL", None)
    env.pop("AUTOMATEOS_MASTER_KEY", None)
    gateway = f"http://127.0.0.1:{env['AUTOMATEOS_PORT']}"
    notion = ["--gateway", gateway, "--set", f"create-page.url={mock_http.url('/v1/pages')}",
              "--input", "databaseId=db-1", "--input", "title=Rotated"]

    up, lines = await start_up(env)
    try:
        assert any("credential notionToken added from NOTION_TOKEN, to be sent only to api.notion.com" in line
                   for line in lines), lines
        # Fenced by default: the token does not go to the mock standing in for Notion.
        code, output = await automateos_run(str(EXAMPLES / "notion-automation.json"), *notion, env=env)
        assert code == 1 and "credential 'notionToken' may only be sent to api.notion.com" in output, output
        assert mock_http.requests_to("/v1/pages") == []
        admin = dotenv_values(tmp_path / ".env")["AUTOMATEOS_ADMIN_TOKEN"]
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {admin}"}) as http_client:
            async with http_client.put(f"{gateway}/v1/credentials/notionToken", json={
                    "value": token, "allowedHosts": ["api.notion.com", f"127.0.0.1:{mock_http.port}"]}) as response:
                assert response.status == 200, await response.text()
        first_key = (tmp_path / ".env").read_text()
        rotate = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "automateos", "credentials", "rotate-key",
            "--nats-url", f"nats://127.0.0.1:{env['AUTOMATEOS_NATS_PORT']}", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        async with asyncio.timeout(60):
            output = (await rotate.communicate())[0].decode()
        assert rotate.returncode == 0, output
        assert "re-encrypted 1 credential(s)" in output and token not in output
        assert (tmp_path / ".env").read_text() != first_key
    finally:
        await stop_up(up)

    up, _ = await start_up(env)  # the new key, read from .env
    try:
        code, output = await automateos_run(str(EXAMPLES / "notion-automation.json"), *notion, env=env)
        assert code == 0, output
        assert mock_http.requests_to("/v1/pages")[0].headers["Authorization"] == f"Bearer {token}"
        assert token not in output
    finally:
        await stop_up(up)


async def automateos(*args: str, env: dict[str, str], until: str | None = None) -> tuple[int, str]:
    """`automateos ARGS`; with `until`, Ctrl-C (SIGINT) once a line containing it was printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "automateos", *args, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    output = []
    async with asyncio.timeout(60):
        while line := (await process.stdout.readline()).decode():
            output.append(line)
            if until is not None and until in line:
                process.send_signal(signal.SIGINT)
                until = None
        return await process.wait(), "".join(output)


async def test_workflows_tokens_missing_inputs_and_ctrl_c(stack: Stack, mock_http: MockHttp, tmp_path: Path) -> None:
    mock_http.reply("/ping", Reply(status=200, body="ok"))
    env = {**os.environ, "AUTOMATEOS_TOKEN": stack.admin_token, "AUTOMATEOS_ADMIN_TOKEN": ""}
    gateway = ["--gateway", stack.base_url]

    # Missing inputs are reported before anything is submitted.
    runs_before = len((await request(stack, "GET", "/v1/runs"))[1]["runs"])
    code, output = await automateos("run", str(EXAMPLES / "notion-automation.json"), *gateway, env=env)
    assert code == 2 and "reads run inputs that were not given: databaseId, title" in output, output
    assert "--input databaseId=…" in output
    assert len((await request(stack, "GET", "/v1/runs"))[1]["runs"]) == runs_before, "nothing was submitted"

    # Saved workflows: push (new, then a new version), list, run by name.
    document = graph(http("ping", mock_http.url("/ping"), json_body={"who": "{{ who }}"}), edges=[edge("start", "ping")],
                     name="Nightly ping")
    path = tmp_path / "nightly.json"
    path.write_text(json.dumps(document))
    code, output = await automateos("workflows", "push", str(path), *gateway, env=env)
    assert code == 0 and "version 1" in output, output
    code, output = await automateos("workflows", "push", str(path), *gateway, env=env)
    assert code == 0 and "as version 2" in output, output
    code, output = await automateos("workflows", "list", *gateway, env=env)
    assert code == 0 and "Nightly ping" in output and " 2 " in output, output
    code, output = await automateos("workflows", "run", "Nightly ping", *gateway, env=env)
    assert code == 2 and "who" in output, "its input is asked for"
    code, output = await automateos("workflows", "run", "Nightly ping", "--input", "who=cli", *gateway, env=env)
    assert code == 0 and "■ run succeeded" in output, output
    assert mock_http.requests_to("/ping")[-1].json() == {"who": "cli"}

    # Tokens: created (shown once), listed (never shown), used, revoked.
    code, output = await automateos("tokens", "create", "--name", "cron-box", "--role", "runner", *gateway, env=env)
    assert code == 0, output
    new = output.strip().splitlines()[-1]
    assert new.startswith("aos_")
    code, output = await automateos("tokens", "list", *gateway, env=env)
    assert "cron-box" in output and "runner" in output and new not in output
    runner_env = {**env, "AUTOMATEOS_TOKEN": new}
    # A runner may not call validate; its missing inputs are found all the same, before anything is submitted.
    runs_before = len((await request(stack, "GET", "/v1/runs"))[1]["runs"])
    code, output = await automateos("workflows", "run", "Nightly ping", *gateway, env=runner_env)
    assert code == 2 and "reads run inputs that were not given: who" in output, output
    assert len((await request(stack, "GET", "/v1/runs"))[1]["runs"]) == runs_before, "nothing was submitted"
    code, output = await automateos("workflows", "run", "Nightly ping", "--input", "who=runner", *gateway, env=runner_env)
    assert code == 0 and "■ run succeeded" in output, output
    code, output = await automateos("tokens", "create", "--name", "x", "--role", "admin", *gateway, env=runner_env)
    assert code == 2 and "HTTP 403" in output and "admin role" in output
    code, _ = await automateos("tokens", "revoke", "cron-box", *gateway, env=env)
    assert code == 0
    code, output = await automateos("workflows", "list", *gateway, env=runner_env)
    assert code == 2 and "HTTP 401" in output and "AUTOMATEOS_TOKEN" in output

    # Ctrl-C while following detaches cleanly: no traceback, the run goes on, and we are told how to cancel it.
    waiting = tmp_path / "wait.json"
    waiting.write_text(json.dumps(graph({"id": "nap", "type": "delay", "data": {"config": {"seconds": 600}}},
                                        edges=[edge("start", "nap")])))
    code, output = await automateos("run", str(waiting), *gateway, env=env, until="nap")
    assert code == 130 and "Traceback" not in output, output
    run_id = output.split()[2]
    assert f"Cancel it with: automateos cancel {run_id}" in output
    assert (await request(stack, "GET", f"/v1/runs/{run_id}"))[1]["status"] == "running"
    code, output = await automateos("cancel", run_id, *gateway, env=env)
    assert code == 0, output
    assert (await stack.finish(run_id))["status"] == "cancelled"


async def test_admin_token_rotate_writes_a_new_token_and_ends_the_old_ones_sessions(tmp_path: Path,
                                                                                   stack_parts: Stack) -> None:
    old = stack_parts.admin_token
    (tmp_path / ".env").write_text(f"AUTOMATEOS_MASTER_KEY=kept\nAUTOMATEOS_ADMIN_TOKEN={old}\n")
    await stack_parts.start_gateway()
    origin = {"Origin": stack_parts.base_url}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.post(f"{stack_parts.base_url}/v1/session", json={"token": old}, headers=origin) as response:
            assert response.status == 200

        env = {**os.environ, "AUTOMATEOS_DATA_DIR": str(tmp_path)}
        env.pop("AUTOMATEOS_ADMIN_TOKEN", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "automateos", "admin-token", "rotate", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        async with asyncio.timeout(60):
            output = (await process.communicate())[0].decode()
        assert process.returncode == 0, output
        dotenv = dict(line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines())
        new = dotenv["AUTOMATEOS_ADMIN_TOKEN"]
        assert new != old and new.startswith("aos_") and dotenv["AUTOMATEOS_MASTER_KEY"] == "kept"
        assert (tmp_path / ".env").stat().st_mode & 0o777 == 0o600
        assert new not in output and old not in output and "restart" in output

        stack_parts.admin_token = new  # the gateway restarted with the new .env, as the command says to
        await stack_parts.restart_gateway()
        async with browser.get(f"{stack_parts.base_url}/v1/session") as response:
            assert response.status == 401, "the old token's session ended"
        for token, expected in ((old, 401), (new, 200)):
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as client:
                async with client.get(f"{stack_parts.base_url}/v1/session") as response:
                    assert response.status == expected
