"""A canary secret's hunt: everywhere a run's data can end up (API answers, WebSocket events, logs, step messages,
streams, buckets, the nats store's files), gathered once so each test that plants a canary looks in all of them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from bus import Bus, EmbeddedNats
from tests.support.stack import Stack
from tests.support.streams import stored_messages

STORES = ("RUN_EVENTS", "KV_runs", "KV_step_outputs")


async def add_credential(stack: Stack, name: str, value: str) -> None:
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/v1/credentials", json={"name": name, "value": value}) as response:
        assert response.status == 201, await response.text()


async def places(stack: Stack, bus: Bus, nats_server: EmbeddedNats, run_id: str, events: list[dict[str, Any]],
                 logs: Iterable[logging.LogRecord], step_messages: list[bytes],
                 paths: Iterable[str] = ()) -> dict[str, list[bytes]]:
    """Every place the run's data is, by name: `step_messages` are what a `steps.>` subscription saw."""
    assert stack.http is not None
    texts = []
    for path in (f"/v1/runs/{run_id}", "/v1/runs", "/v1/credentials", *paths):
        async with stack.http.get(f"{stack.base_url}{path}") as response:
            texts.append(await response.text())
    found: dict[str, list[bytes]] = {
        "API responses": [t.encode() for t in texts],
        "WebSocket events": [json.dumps(events, ensure_ascii=False).encode()],
        "logs": [record.getMessage().encode() for record in logs],
        "steps.dispatch/steps.result messages": step_messages,
    }
    for stream in STORES:
        found[f"{stream} stream"] = await stored_messages(bus, stream)
    found["nats store files"] = [path.read_bytes() for path in nats_server.store_dir.rglob("*") if path.is_file()]
    return found


def leaks(found: dict[str, list[bytes]], canary: str) -> list[str]:
    return [where for where, blobs in found.items() for blob in blobs if canary.encode() in blob]
