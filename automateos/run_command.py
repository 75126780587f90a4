"""`automateos run FILE.json`: submit a workflow through the gateway and print its progress live."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from schemas.runs import human_duration

EXIT_SUCCEEDED, EXIT_FAILED = 0, 1  # and 2 (from the CLI) when the run could not be submitted

_ICONS = {"running": "…", "waiting": "⏱", "succeeded": "✓", "failed": "✗", "skipped": "↷", "cancelled": "■", "queued": "·"}


class RunCommandError(Exception):
    """The run could not be submitted; the message says why."""


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
    body = {"graph": document, "inputs": inputs, "idempotencyKey": secrets.token_hex(16)}
    try:
        async with aiohttp.ClientSession(headers=auth_headers(token)) as session:
            async with session.post(f"{gateway}/v1/runs", json=body) as response:
                answer = await response.json(content_type=None)
                if response.status != 201:
                    raise RunCommandError(_describe_error(answer, response.status))
            run_id = answer["runId"]
            print(f"▶ run {run_id}  ({gateway}/v1/runs/{run_id})", file=out, flush=True)
            ws_url = gateway.replace("http", "ws", 1) + f"/v1/runs/{run_id}/events"
            status = "unknown"
            async with session.ws_connect(ws_url) as socket:
                async for message in socket:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    status = _print_event(json.loads(message.data), out) or status
    except aiohttp.ClientConnectionError as error:
        raise RunCommandError(f"cannot reach the gateway at {gateway} ({error}); start it with `automateos up`") from None
    return EXIT_SUCCEEDED if status == "succeeded" else EXIT_FAILED


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


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


def _describe_error(answer: Any, status: int) -> str:
    error = answer.get("error", {}) if isinstance(answer, dict) else {}
    lines = [f"the gateway refused the run (HTTP {status}): {error.get('message', answer)}"]
    lines += [f"  - {field['field']}: {field['reason']}" for field in error.get("fields", [])]
    return "\n".join(lines)

