"""How many NATS messages one Start → HTTP run costs, by kind: the first figure issue 19 asks for.

Starts the stack as bench/throughput.py does (nats-server without accounts, so one subscription to `>` sees every
message of the app: requests, publishes, acks, KV writes and the server's answers on inboxes), lets it idle, then
runs --runs runs one at a time, each POST /v1/runs + its WebSocket until the terminal event. The same length of idle
time is counted too and subtracted, so the pull loops' long polls and heartbeats that happen anyway are not charged to
the runs. Prints messages per run by kind, and the total.

    python bench/message_count.py --runs 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import nats
from nats.aio.msg import Msg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from throughput import BENCH_TOKEN, StackUnderTest  # noqa: E402

KINDS = [
    ("run request (runs.requested)", "runs.requested"),
    ("run cancel/resume", "runs.cancel"),
    ("dispatch (steps.dispatch)", "steps.dispatch"),
    ("step result (steps.result)", "steps.result"),
    ("run change, one append (runs.events.<id>)", "runs.events."),
    ("JetStream advisory ($JS.EVENT…)", "$JS.EVENT."),
    ("run summary (runs.index.…)", "runs.index."),
    ("timer", "timers."),
    ("KV write ($KV.<bucket>.…)", "$KV."),
    ("ack ($JS.ACK.…)", "$JS.ACK."),
    ("pull request ($JS.API.CONSUMER.MSG.NEXT)", "$JS.API.CONSUMER.MSG.NEXT."),
    ("direct get ($JS.API.DIRECT.GET)", "$JS.API.DIRECT.GET."),
    ("index purge ($JS.API.STREAM.PURGE)", "$JS.API.STREAM.PURGE."),
    ("other JetStream API ($JS.API.…)", "$JS.API."),
    ("flow control / heartbeat ($JS.FC…)", "$JS.FC."),
    ("answers on inboxes (acks, deliveries, gets)", "_INBOX."),
]


def kind_of(subject: str, reply: str) -> str:
    if reply.startswith("$JS.ACK."):
        # A stored message on its way to a consumer (the stream's copy of a publish, to be acked).
        return "delivery to a consumer (" + subject.split(".")[0] + "." + subject.split(".")[1] + ")"
    for name, prefix in KINDS:
        if subject.startswith(prefix) or subject == prefix:
            return name
    if ".inbox." in subject or subject.startswith("_INBOX") or subject.startswith("inbox."):
        return "answers on inboxes (acks, deliveries, gets)"
    return "other: " + ".".join(subject.split(".")[:2])


def graph(mock_port: int) -> dict[str, object]:
    return {"meta": {"name": "count"}, "nodes": [
        {"id": "start", "type": "start"},
        {"id": "post", "type": "http", "data": {"config": {"method": "POST", "url": f"http://127.0.0.1:{mock_port}/hook",
                                                           "json_body": {"text": "count"}}}}],
        "edges": [{"id": "e", "source": "start", "target": "post"}]}


async def one_run(session: aiohttp.ClientSession, port: int, body: bytes) -> None:
    headers = {"Authorization": f"Bearer {BENCH_TOKEN}", "Content-Type": "application/json"}
    async with session.post(f"http://127.0.0.1:{port}/v1/runs", data=body, headers=headers) as response:
        run_id = (await response.json())["runId"]
    async with session.ws_connect(f"ws://127.0.0.1:{port}/v1/runs/{run_id}/events", headers=headers) as ws:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            event = json.loads(message.data)
            if event.get("type") == "run" and event.get("status") in ("succeeded", "failed", "cancelled"):
                break


async def count(stack: StackUnderTest, runs: int, trace: bool) -> None:
    body = json.dumps({"graph": graph(stack.mock_port)}).encode()
    seen: Counter[str] = Counter()
    nc = await nats.connect(stack.nats.url, **stack.login())

    async def on_message(msg: Msg) -> None:
        seen[kind_of(msg.subject, msg.reply or "")] += 1
        if trace:
            print(f"  {msg.subject:<70} reply={msg.reply or '-':<40} {len(msg.data):>6} B", flush=True)

    async with aiohttp.ClientSession() as session:
        for _ in range(5):  # warm-up: imports, first connections
            await one_run(session, stack.port, body)
        await asyncio.sleep(1.0)
        sub = await nc.subscribe(">", cb=on_message)
        began = time.perf_counter()
        for _ in range(runs):
            await one_run(session, stack.port, body)
        busy_s = time.perf_counter() - began
        await asyncio.sleep(0.5)  # the last run's trailing writes
        busy = Counter(seen)
        seen.clear()
        await asyncio.sleep(busy_s + 0.5)  # the same time idle: what happens anyway
        idle = Counter(seen)
        await sub.unsubscribe()
    await nc.close()
    print(f"{runs} Start → HTTP runs, one at a time (POST /v1/runs + WebSocket), {busy_s:.1f} s; idle counted over "
          f"as long and subtracted", flush=True)
    print(f"{'kind':<48} {'per run':>8}   (busy − idle, over {runs} runs)")
    total = 0.0
    for name in sorted(set(busy) | set(idle), key=lambda n: -(busy[n] - idle[n])):
        per_run = (busy[name] - idle[name]) / runs
        total += per_run
        if abs(per_run) >= 0.05:
            print(f"{name:<48} {per_run:8.2f}   ({busy[name]} − {idle[name]})")
    print(f"{'total messages per run':<48} {total:8.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--trace", action="store_true", help="print every message's subject (use with --runs 1)")
    args = parser.parse_args()
    stack = StackUnderTest(engines=1, engine_concurrency=64, mock_delay_ms=0)
    try:
        stack.start()
        asyncio.run(count(stack, args.runs, args.trace))
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
