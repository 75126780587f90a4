"""Cost per step as runs grow: chains of 1/10/50/200 steps, and fan-outs (N parallel steps and a join after them).

The stack runs as `automateos up` starts it (separate processes, one engine). Each run goes through POST /v1/runs and
its WebSocket until the terminal event, like a REST user's. Chains are Set steps that each read the one before
(`{{ steps.<previous>.output.i }}`), so no network is involved and the figure is the engine's own cost per step.
A fan-out's branches are HTTP GETs to a loopback mock that answers `--output-kib` KiB each (0: a 204); the join
reads two of them. Printed per shape: wall time per run, orchestrator and whole-stack CPU per step (from /proc,
medians over `--repeats` runs), and the per-step ratio against the 10-step chain.

    python bench/run_shapes.py
    python bench/run_shapes.py --chains 10,200 --fanouts 200 --output-kib 64 --repeats 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import BENCH_TOKEN, CLOCK_TICKS, HERE, StackUnderTest, cpu_ticks  # noqa: E402

HEADERS = {"Authorization": f"Bearer {BENCH_TOKEN}", "Content-Type": "application/json"}
RUN_TIMEOUT_S = 300.0


def chain(steps: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    edges = []
    previous = "start"
    for i in range(steps):
        reads = f"{{{{ steps.{previous}.output.i }}}}" if previous != "start" else "first"
        nodes.append({"id": f"s{i}", "type": "set", "data": {"config": {"values": {"i": i, "previous": reads}}}})
        edges.append({"id": f"e{i}", "source": previous, "target": f"s{i}"})
        previous = f"s{i}"
    return {"meta": {"name": f"chain of {steps}"}, "nodes": nodes, "edges": edges}


def fan_out(width: int, mock_port: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    edges = []
    for i in range(width):
        nodes.append({"id": f"f{i}", "type": "http", "data": {"config": {
            "method": "GET", "url": f"http://127.0.0.1:{mock_port}/big/{i}"}}})
        edges += [{"id": f"a{i}", "source": "start", "target": f"f{i}"}, {"id": f"b{i}", "source": f"f{i}", "target": "join"}]
    nodes.append({"id": "join", "type": "set", "data": {"config": {"values": {
        "first": "{{ steps.f0.output.status }}", "last": f"{{{{ steps.f{width - 1}.output.status }}}}"}}}})
    return {"meta": {"name": f"fan-out of {width}"}, "nodes": nodes, "edges": edges}


async def run_once(session: aiohttp.ClientSession, port: int, graph: dict[str, Any]) -> tuple[float, str]:
    began = time.perf_counter()
    async with session.post(f"http://127.0.0.1:{port}/v1/runs", headers=HEADERS,
                            data=json.dumps({"graph": graph})) as response:
        created = await response.json()
        if response.status != 201:
            return time.perf_counter() - began, f"refused: {created}"
    status = "no terminal event"
    async with session.ws_connect(f"ws://127.0.0.1:{port}/v1/runs/{created['runId']}/events", headers=HEADERS) as ws:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            if '"type":"run"' in message.data:
                event = json.loads(message.data)
                if event["status"] in ("succeeded", "failed", "cancelled"):
                    status = event["status"]
    return time.perf_counter() - began, status


async def measure(stack: StackUnderTest, label: str, graph: dict[str, Any], steps: int, repeats: int,
                  baseline: list[float]) -> None:
    names = stack.named_pids()
    walls, orchestrator, total = [], [], []
    async with aiohttp.ClientSession() as session:
        for _ in range(repeats):
            before = {pid: cpu_ticks(pid) for pid in names}
            try:
                wall, status = await asyncio.wait_for(run_once(session, stack.port, graph), RUN_TIMEOUT_S)
            except TimeoutError:
                print(f"{label}: did not complete in {RUN_TIMEOUT_S:.0f} s", flush=True)
                return
            spent = {pid: (cpu_ticks(pid) - before[pid]) * 1000 / CLOCK_TICKS for pid in names}
            if status != "succeeded":
                print(f"{label}: the run {status}", flush=True)
                return
            walls.append(wall)
            orchestrator.append(sum(ms for pid, ms in spent.items() if names[pid] == "orchestrator") / steps)
            total.append(sum(spent.values()) / steps)
    o, t, w = statistics.median(orchestrator), statistics.median(total), statistics.median(walls)
    if label == "chain of 10":
        baseline[:] = [o, t]
    ratio = f"   per step ×{t / baseline[1]:.2f} of the 10-step chain" if baseline and label != "chain of 10" else ""
    print(f"{label:>18}: {w * 1000:8.0f} ms per run ({w * 1000 / steps:5.2f} ms per step), orchestrator "
          f"{o:5.2f} ms CPU per step, whole stack {t:5.2f} ms per step{ratio}", flush=True)


async def main_async(args: argparse.Namespace) -> None:
    stack = StackUnderTest(engines=1, engine_concurrency=64, mock_delay_ms=0)
    big_mock: subprocess.Popen[bytes] | None = None
    try:
        stack.start()
        mock_port = stack.mock_port
        if args.output_kib:
            from bus import free_port

            mock_port = free_port()
            big_mock = subprocess.Popen([sys.executable, str(HERE / "mock_server.py"), "--port", str(mock_port),
                                         "--body-kib", str(args.output_kib)])
            await asyncio.sleep(1.0)
        print(f"one engine; {args.repeats} runs per shape, medians; CPU from /proc (all actors + nats-server)")
        baseline: list[float] = []
        async with aiohttp.ClientSession() as session:
            await run_once(session, stack.port, chain(5))  # warm-up
        for steps in args.chains:
            await measure(stack, f"chain of {steps}", chain(steps), steps, args.repeats, baseline)
        for width in args.fanouts:
            label = f"fan-out of {width}" + (f" × {args.output_kib} KiB" if args.output_kib else "")
            await measure(stack, label, fan_out(width, mock_port), width + 1, args.repeats, baseline)
    finally:
        if big_mock is not None:
            big_mock.terminate()
            big_mock.wait(timeout=10)
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chains", type=lambda text: [int(n) for n in text.split(",") if n], default=[1, 10, 50, 200])
    parser.add_argument("--fanouts", type=lambda text: [int(n) for n in text.split(",") if n], default=[50])
    parser.add_argument("--output-kib", type=int, default=0, help="each fan-out branch's response size (0: a 204)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    try:
        uvloop.run(main_async(args))
    except KeyboardInterrupt:
        print("\ninterrupted; the stack was stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
