"""`automateos` while a run waits and when Ctrl-C comes: it says why a run waits, and Ctrl-C at any stage ends the
command with one line and exit 130, never a traceback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from automateos.run_command import RunCommandError, check_inputs
from schemas import Graph, compile_workflow
from schemas.runs import RunRecord, waiting_reason
from tests.support.graphs import edge, graph, http
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.support.waiting import eventually
from tests.test_cli import EXAMPLES, automateos


def ping_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "ping.json"
    path.write_text(json.dumps(graph(http("ping", url), edges=[edge("start", "ping")], name="Ping")))
    return path


async def interrupt_when(mock_http: MockHttp, path: str, *args: str) -> tuple[int, str]:
    """`automateos ARGS` against the mock as its gateway; Ctrl-C once the request to `path` is being answered."""
    env = {**os.environ, "AUTOMATEOS_TOKEN": "t" * 32}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "automateos", *args, "--gateway", mock_http.url(""), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )

    async def asked() -> bool:
        return bool(mock_http.requests_to(path))

    await eventually(asked, what=f"the CLI to ask for {path}")
    process.send_signal(signal.SIGINT)
    async with asyncio.timeout(30):
        output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_ctrl_c_while_submitting_says_the_run_may_have_started(mock_http: MockHttp, tmp_path: Path) -> None:
    mock_http.reply("/v1/runs", Reply(201, {"runId": "r1"}, delay_s=30))
    code, output = await interrupt_when(mock_http, "/v1/runs", "run", str(ping_file(tmp_path, mock_http.url("/x"))))
    assert code == 130, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert output.strip().splitlines() == [
        f"✗ interrupted before the gateway answered: the run may have started; History in the builder "
        f"({mock_http.url('')}/) lists it"
    ], output


async def test_ctrl_c_before_anything_changed_says_so(mock_http: MockHttp) -> None:
    mock_http.reply("/v1/workflows", Reply(200, {"workflows": []}, delay_s=30))
    for args in (("workflows", "list"), ("workflows", "run", "Nightly")):
        mock_http.received.clear()
        code, output = await interrupt_when(mock_http, "/v1/workflows", *args)
        assert code == 130 and "Traceback" not in output, output
        assert output.strip().splitlines() == ["✗ interrupted; nothing was changed"], (args, output)


async def test_ctrl_c_while_creating_a_token_says_how_to_revoke_it(mock_http: MockHttp) -> None:
    mock_http.reply("/v1/tokens", Reply(201, {}, delay_s=30))
    code, output = await interrupt_when(mock_http, "/v1/tokens", "tokens", "create", "--name", "box", "--role", "runner")
    assert code == 130 and "Traceback" not in output, output
    assert "`automateos tokens revoke box`" in output


async def test_a_queued_run_says_why_and_ctrl_c_detaches(stack_parts: Stack, mock_http: MockHttp, tmp_path: Path) -> None:
    await stack_parts.start_gateway()  # no orchestrator: the run stays queued
    env = {**os.environ, "AUTOMATEOS_TOKEN": stack_parts.admin_token, "AUTOMATEOS_ADMIN_TOKEN": ""}
    code, output = await automateos("run", str(ping_file(tmp_path, mock_http.url("/x"))), "--gateway",
                                    stack_parts.base_url, env=env, until="no orchestrator has picked the run up")
    assert code == 130 and "Traceback" not in output, output
    assert "  ⏱ queued since " in output and "(is one running?)" in output, output
    assert "↩ detached from run" in output


async def test_a_delay_says_until_when(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "nap.json"
    path.write_text(json.dumps(graph({"id": "nap", "type": "delay", "data": {"config": {"seconds": 600}}},
                                     edges=[edge("start", "nap")])))
    env = {**os.environ, "AUTOMATEOS_TOKEN": stack.admin_token, "AUTOMATEOS_ADMIN_TOKEN": ""}
    code, output = await automateos("run", str(path), "--gateway", stack.base_url, env=env,
                                    until="step nap is a delay, waiting until")
    assert code == 130 and "Traceback" not in output, output
    run_id = output.split()[2]
    await stack.http.post(f"{stack.base_url}/v1/runs/{run_id}/cancel")  # type: ignore[union-attr]
    assert (await stack.finish(run_id))["status"] == "cancelled"


def test_missing_inputs_are_found_without_asking_the_gateway() -> None:
    """The check runs on the CLI's side (the compiler's rule), so a runner token, which may not call validate,
    is told too; a graph the CLI cannot compile is left to the gateway's own refusal."""
    document = json.loads((EXAMPLES / "notion-automation.json").read_text())
    with pytest.raises(RunCommandError, match="not given: databaseId, title"):
        check_inputs(document, {})
    check_inputs(document, {"databaseId": "db", "title": "Hi"})
    check_inputs({"nodes": "not a graph"}, {})
    webhook = graph(http("ping", "http://127.0.0.1:9/x", json_body={"n": "{{ payload.body.n }}"}),
                    edges=[edge("start", "ping")])
    webhook["nodes"][0] = {"id": "start", "type": "webhook", "position": {"x": 0, "y": 0},
                           "data": {"label": "Hook", "config": {"responseMode": "onReceived"}}}
    check_inputs(webhook, {})  # payload.… is what the trigger brings (or its sample payload), never an input to ask for
    webhook["nodes"][1]["data"]["config"]["json_body"] = {"n": "{{ payload.body.n }}", "team": "{{ team }}"}
    with pytest.raises(RunCommandError, match="not given: team\n"):
        check_inputs(webhook, {})


def test_a_queued_run_says_since_when() -> None:
    dag = compile_workflow(Graph.model_validate(graph(http("ping", "http://127.0.0.1:9/x"), edges=[edge("start", "ping")])))
    record = RunRecord.new("r1", dag, {})
    reason = waiting_reason(record)
    assert reason is not None and reason.startswith(f"queued since {record.createdAt:%Y-%m-%d %H:%M:%S} UTC: ")
