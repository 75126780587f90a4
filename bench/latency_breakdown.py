"""Where one run's time goes, at concurrency 1: from the timestamps the run record already keeps.

    python bench/latency_breakdown.py --runs 300

Stages (medians): the POST's answer; created → dispatched (the orchestrator picks the run up, saves it,
decides); dispatched → the worker starts (save, publish, delivery); the step's own HTTP call; and the
worker's finish → the terminal event reaching a subscriber (report, orchestrator, save, publish).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import aiohttp
import nats
from nats.aio.msg import Msg
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import BENCH_TOKEN, StackUnderTest  # noqa: E402

STAGES = ["POST answered", "created → dispatched", "dispatched → worker starts", "the step's HTTP call",
          "worker done → terminal event seen", "submit → terminal event (total)"]


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def measure(stack: StackUnderTest, runs: int, warmup: int) -> list[tuple[float, ...]]:
    graph = {"nodes": [{"id": "start", "type": "start"},
                       {"id": "post", "type": "http", "data": {"config": {
                           "method": "POST", "url": f"http://127.0.0.1:{stack.mock_port}/hook", "json_body": {"a": 1}}}}],
             "edges": [{"id": "e", "source": "start", "target": "post"}]}
    seen: dict[str, float] = {}
    finished = asyncio.Event()

    async def on_events(msg: Msg) -> None:
        for event in json.loads(msg.data)["events"]:
            if event["type"] == "run" and event["status"] in ("succeeded", "failed"):
                seen.setdefault(event["runId"], time.time())
                finished.set()

    client = await nats.connect(stack.nats.url)
    await client.subscribe("runs.events.*", cb=on_events)
    rows: list[tuple[float, ...]] = []
    base = f"http://127.0.0.1:{stack.port}/v1/runs"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {BENCH_TOKEN}"}) as session:
        for index in range(warmup + runs):
            finished.clear()
            began = time.time()
            async with session.post(base, json={"graph": graph}) as response:
                run_id = (await response.json())["runId"]
                answered = time.time()
            while run_id not in seen:
                await asyncio.wait_for(finished.wait(), timeout=30)
                finished.clear()
            async with session.get(f"{base}/{run_id}") as response:
                record = await response.json()
            step = record["steps"][1]
            if index >= warmup:
                rows.append((answered - began, _ts(step["dispatchedAt"]) - _ts(record["createdAt"]),
                             _ts(step["startedAt"]) - _ts(step["dispatchedAt"]), _ts(step["finishedAt"]) - _ts(step["startedAt"]),
                             seen[run_id] - _ts(step["finishedAt"]), seen[run_id] - began))
            if (index + 1) % 100 == 0:
                print(f"  … {index + 1}/{warmup + runs} runs", file=sys.stderr, flush=True)
    await client.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    stack = StackUnderTest(engines=1, engine_concurrency=64, mock_delay_ms=0)
    stack.start()
    try:
        rows = uvloop.run(measure(stack, args.runs, args.warmup))
    finally:
        stack.stop()
    for name, column in zip(STAGES, zip(*rows), strict=True):
        print(f"{name:36s} p50 {statistics.median(column) * 1000:6.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
