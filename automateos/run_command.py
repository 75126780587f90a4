"""`automateos run FILE.json`: submit a workflow through the gateway and print its progress live."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from pydantic import ValidationError

from schemas import ValidateWorkflow, WorkflowInvalid, compile_workflow, run_inputs
from schemas.runs import TERMINAL_RUN_STATUSES, human_duration

from .api_client import ApiClient, CommandError
from .interrupt import EXIT_INTERRUPTED, interrupted, pending

EXIT_SUCCEEDED, EXIT_FAILED = 0, 1  # and 2 (from the CLI) when the run could not be submitted
EXIT_DETACHED = EXIT_INTERRUPTED  # Ctrl-C while following: the run goes on
# A run still queued, or with a step waiting, this long after it was submitted is told why (the gateway's
# `waiting` sentence), and again whenever the sentence changes.
WAIT_GRACE_S = 1.0
WAIT_EVERY_S = 5.0

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
    check_inputs(document, inputs)
    async with ApiClient(gateway, token) as client:
        body = {"graph": document, "inputs": inputs, "idempotencyKey": secrets.token_hex(16)}
        answer = await submit(client, body)
        return await follow(client, answer["runId"], out)


async def submit(client: ApiClient, body: dict[str, Any]) -> Any:
    """POST /v1/runs; Ctrl-C before its answer says the run may have started, and where to look."""
    with pending(f"the run may have started; History in the builder ({client.gateway}/) lists it"):
        return await client.call("POST", "/v1/runs", body, ok=(201,))


def check_inputs(document: dict[str, Any], inputs: dict[str, Any]) -> None:
    """Refuse before submitting when the workflow reads run inputs that were not given.

    Which inputs a workflow reads is the compiler's rule (`schemas.run_inputs`, the one behind the builder's run
    form and POST /v1/workflows/validate), applied here to the graph about to be run: it needs no request, so it
    works for a runner token too, which may not call validate. A graph this CLI cannot compile is left to the
    gateway, whose refusal names the fields."""
    try:
        dag = compile_workflow(ValidateWorkflow.model_validate({"graph": document}).graph)
    except (ValidationError, WorkflowInvalid):
        return
    # payload… is never among them: a trigger brings it (or, on a manual run, the trigger's sample payload).
    missing = [p for p in run_inputs(dag) if not _has_path(inputs, p)]
    if missing:
        flags = " ".join(f"--input {p}=…" for p in missing)
        raise RunCommandError(f"this workflow reads run inputs that were not given: {', '.join(missing)}\n"
                              f"  give them with {flags}")


def _has_path(inputs: dict[str, Any], path: str) -> bool:
    value: Any = inputs
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return True


@dataclass
class _Progress:
    """What the events have said so far: whether the run is held up (queued, or a step waiting)."""

    status: str = "queued"
    waiting_steps: set[str] = field(default_factory=set)

    def apply(self, event: dict[str, Any]) -> None:
        if event["type"] == "run":
            self.status = str(event["status"])
        elif event["type"] == "step":
            step = event["step"]
            if step["status"] == "waiting":
                self.waiting_steps.add(step["id"])
            else:
                self.waiting_steps.discard(step["id"])

    @property
    def held_up(self) -> bool:
        return self.status not in TERMINAL_RUN_STATUSES and (self.status == "queued" or bool(self.waiting_steps))


async def follow(client: ApiClient, run_id: str, out: TextIO) -> int:
    """Print a run's events until it ends, and why it waits when it does. Ctrl-C (under `interruptible`)
    detaches: the run goes on, and we say how to cancel it."""
    print(f"▶ run {run_id}  ({client.gateway}/v1/runs/{run_id})", file=out, flush=True)
    progress = _Progress()
    explaining = asyncio.create_task(_say_why_it_waits(client, run_id, progress, out))
    status = "unknown"
    try:
        assert client.session is not None
        async with client.session.ws_connect(client.events_url(run_id)) as socket:
            async for message in socket:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                event = json.loads(message.data)
                progress.apply(event)
                status = _print_event(event, out) or status
    except asyncio.CancelledError:
        if not interrupted():
            raise
        me = asyncio.current_task()
        assert me is not None
        me.uncancel()
        print(f"\n↩ detached from run {run_id}; it goes on. Cancel it with: automateos cancel {run_id}",
              file=out, flush=True)
        return EXIT_DETACHED
    except aiohttp.ClientConnectionError as error:
        raise RunCommandError(f"lost the gateway at {client.gateway} ({error}); the run goes on "
                              f"({client.gateway}/v1/runs/{run_id})") from None
    finally:
        explaining.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await explaining
    return EXIT_SUCCEEDED if status == "succeeded" else EXIT_FAILED


async def _say_why_it_waits(client: ApiClient, run_id: str, progress: _Progress, out: TextIO) -> None:
    """While the run is held up, print the gateway's sentence on why (queued since when, delayed until when,
    retrying when), each time it changes. The events say what changed, not why nothing does."""
    said: str | None = None
    await asyncio.sleep(WAIT_GRACE_S)
    while True:
        if progress.held_up:
            try:
                view = await client.call("GET", f"/v1/runs/{run_id}")
            except CommandError as error:  # the gateway went away; the event socket reports that itself
                view = {"waiting": None}
                print(f"    (could not ask why the run waits: {error})", file=out, flush=True)
            reason = view.get("waiting")
            if reason and reason != said and progress.held_up:
                print(f"  ⏱ {reason}", file=out, flush=True)
                said = reason
        await asyncio.sleep(WAIT_EVERY_S)


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
