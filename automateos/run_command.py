"""`automateos run FILE.json`: submit a workflow through the gateway and print its progress live."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from schemas.runs import human_duration

from .api_client import ApiClient, CommandError

EXIT_SUCCEEDED, EXIT_FAILED = 0, 1  # and 2 (from the CLI) when the run could not be submitted
EXIT_DETACHED = 130  # Ctrl-C: as a shell reports an interrupted command

_ICONS = {"running": "…", "waiting": "⏱", "succeeded": "✓", "failed": "✗", "skipped": "↷", "cancelled": "■", "queued": "·"}


RunCommandError = CommandError  # the name tests and older callers use


def parse_inputs(pairs: list[str]) -> dict[str, Any]:
    """`a=1 payload.title=Hi` → {"a": 1, "payload": {"title": "Hi"}}; values are JSON when they parse as JSON."""
    inputs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise RunCommandError(f"--input {pair!r}: expected key=value")
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        target = inputs
        *parents, leaf = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise RunCommandError(f"--input {pair!r}: {part} is already a value, not an object")
        target[leaf] = value
    return inputs


def apply_sets(document: dict[str, Any], pairs: list[str]) -> dict[str, Any]:
    """`--set step_1.url=http://…` sets a field of a node's config (builder format) or step (template format).
    A value that parses as JSON is sent as JSON (`timeoutMs=5000` is a number, `json_body={"a":1}` an object)."""
    for pair in pairs:
        target, sep, text = pair.partition("=")
        node_id, dot, field = target.partition(".")
        if not sep or not dot:
            raise RunCommandError(f"--set {pair!r}: expected NODE.FIELD=VALUE, for example step_1.url=http://…")
        config = _node_config(document, node_id)
        if config is None:
            known = ", ".join(_node_ids(document)) or "none"
            raise RunCommandError(f"--set {pair!r}: no node {node_id!r} in this workflow (its nodes: {known})")
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        config[field] = value
    return document


def _node_ids(document: dict[str, Any]) -> list[str]:
    if "nodes" in document:
        return [str(node.get("id")) for node in document.get("nodes", []) if isinstance(node, dict)]
    steps = document.get("definition", {}).get("steps", [])
    return [f"step_{index}" for index in range(1, len(steps) + 1)]


def _node_config(document: dict[str, Any], node_id: str) -> dict[str, Any] | None:
    for node in document.get("nodes", []):
        if node.get("id") == node_id:
            data = node.setdefault("data", {})
            config: dict[str, Any] = data.setdefault("config", {})
            return config
    steps = document.get("definition", {}).get("steps", [])
    # Template steps become step_1, step_2 … (step-1 is accepted as before).
    prefix = node_id[:5]
    if prefix in ("step_", "step-") and node_id[5:].isdigit() and 0 < int(node_id[5:]) <= len(steps):
        step_config: dict[str, Any] = steps[int(node_id[5:]) - 1].setdefault("config", {})
        return step_config
    return None


async def run_workflow(path: Path, gateway: str, inputs: dict[str, Any], sets: list[str], token: str | None,
                       out: TextIO = sys.stdout) -> int:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RunCommandError(f"cannot read {path}: {error}") from None
    if not isinstance(document, dict):
        raise RunCommandError(f"{path} does not hold a JSON object")
    apply_sets(document, sets)
    async with ApiClient(gateway, token) as client:
        await check_inputs(client, document, inputs)
        body = {"graph": document, "inputs": inputs, "idempotencyKey": secrets.token_hex(16)}
        answer = await client.call("POST", "/v1/runs", body, ok=(201,))
        return await follow(client, answer["runId"], out)


async def check_inputs(client: ApiClient, document: dict[str, Any], inputs: dict[str, Any]) -> None:
    """Refuse before submitting when the workflow reads run inputs that were not given. The server says which
    inputs it reads (the rule the builder's run form uses too)."""
    try:
        validation = await client.call("POST", "/v1/workflows/validate", {"graph": document})
    except RunCommandError as refused:
        if "HTTP 403" in str(refused):
            return  # a runner token may not validate; the run itself still reports what is missing
        raise
    given = inputs or _sample_inputs(document)
    missing = [p for p in validation.get("inputs", []) if not _has_path(given, p.removeprefix("inputs."))]
    if missing:
        flags = " ".join(f"--input {p}=…" for p in missing)
        raise RunCommandError(f"this workflow reads run inputs that were not given: {', '.join(missing)}\n"
                              f"  give them with {flags}")


def _sample_inputs(document: dict[str, Any]) -> dict[str, Any]:
    """What the gateway runs a webhook or schedule draft with when no inputs are given: its sample payload."""
    for node in document.get("nodes", []):
        if not isinstance(node, dict):
            continue
        sample = (node.get("data") or {}).get("samplePayload")
        if node.get("type") in ("webhook", "schedule") and sample is not None:
            return {"payload": sample}
    return {}


def _has_path(inputs: dict[str, Any], path: str) -> bool:
    value: Any = inputs
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return True


async def follow(client: ApiClient, run_id: str, out: TextIO) -> int:
    """Print a run's events until it ends. Ctrl-C detaches: the run goes on, and we say how to cancel it."""
    print(f"▶ run {run_id}  ({client.gateway}/v1/runs/{run_id})", file=out, flush=True)
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    assert me is not None
    detached = False

    def detach() -> None:
        nonlocal detached
        detached = True
        me.cancel()

    loop.add_signal_handler(signal.SIGINT, detach)
    status = "unknown"
    try:
        assert client.session is not None
        async with client.session.ws_connect(client.events_url(run_id)) as socket:
            async for message in socket:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                status = _print_event(json.loads(message.data), out) or status
    except asyncio.CancelledError:
        if not detached:
            raise
        me.uncancel()
        print(f"\n↩ detached from run {run_id}; it goes on. Cancel it with: automateos cancel {run_id}",
              file=out, flush=True)
        return EXIT_DETACHED
    except aiohttp.ClientConnectionError as error:
        raise RunCommandError(f"lost the gateway at {client.gateway} ({error}); the run goes on "
                              f"({client.gateway}/v1/runs/{run_id})") from None
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    return EXIT_SUCCEEDED if status == "succeeded" else EXIT_FAILED


async def cancel_run(gateway: str, token: str | None, run_id: str, out: TextIO = sys.stdout) -> int:
    async with ApiClient(gateway, token) as client:
        await client.call("POST", f"/v1/runs/{run_id}/cancel", ok=(202,))
    print(f"■ cancel requested for run {run_id}", file=out, flush=True)
    return 0


def _print_event(event: dict[str, Any], out: TextIO) -> str | None:
    if event["type"] == "step":
        step = event["step"]
        if step["status"] == "queued":
            return None
        took = f"  {human_duration(step['durationMs'])}" if step.get("durationMs") is not None else ""
        error = f"  — {step['error']}" if step.get("error") else ""
        if step["status"] == "skipped" and step.get("skipReason"):
            error = f"  — {step['skipReason']}"
        elif step["status"] == "waiting" and step.get("waitUntil"):
            error = f"  — until {step['waitUntil']}"
        print(f"  {_ICONS.get(step['status'], '?')} {step['name']:<28} {step['status']:<10}{took}{error}", file=out, flush=True)
    elif event["type"] == "log":
        entry = event["log"]
        print(f"    {entry['level']:<5} {entry['msg']}", file=out, flush=True)
    elif event["type"] == "run":
        print(f"■ run {event['status']}" + (f": {event['error']}" if event.get("error") else ""), file=out, flush=True)
        return str(event["status"])
    return None
