"""Does cost grow with the work? Listing runs at 1k / 10k / 100k stored runs, and runs of growing shape.

Listing (the default, or with --sizes): starts nats-server and the gateway (its own process, as `automateos up`
does), then stores N runs the way the orchestrator does (a record in the `runs` bucket and its summary in the run
index, pipelined), and times `GET /v1/runs?limit=50` unfiltered and filtered (status=failed, one run in ten),
medians of 20 requests, with the gateway's RSS before and after.

Shapes (with --chains and/or --fanout): starts the whole stack as bench/throughput.py does (nats-server,
orchestrator, one engine, gateway, a loopback mock API) and runs each shape --repeats times, one at a time, each
through POST /v1/runs and its WebSocket until the terminal event, after one unmeasured warm-up run:
  chain of N   trigger → N steps in a row; Set steps (no network) that each read the one before, or with
               --chain-step http GETs to the mock
  fan-out of W trigger → W parallel steps (HTTP GETs to the mock, or --fanout-step set) → one join step that
               depends on all W (W edges into it) and reads two of them (--join-reads all: every one);
               --output-kib K makes every branch's output K KiB (the mock's body, or a Set value)
  loop of N    trigger → a loop over N items (--loop-concurrency at a time) → one Set step per item, reading the
               item; per "step" below means per item
Printed per shape: median wall time per run, orchestrator and whole-stack CPU per step (/proc utime+stime of each
actor and nats-server, summed over the runs; ticks are 10 ms, too coarse for one short run, so shapes of few steps
get more runs than --repeats, at least 100 steps in all), the per-step ratio
against the 10-step chain, and for chains where a step's time goes (from the run's step timestamps). A run that
has not ended after --timeout seconds is reported as "did not complete" and cancelled.

    python bench/growth.py                 # listing at 1k, 10k, 100k
    python bench/growth.py --sizes 1000,10000
    python bench/growth.py --chains 1,10,50,200 --fanout 50
    python bench/growth.py --chains 10 --fanout 200 --output-kib 64 --timeout 120
    python bench/growth.py --chains 10,50 --chain-step http --fanout 50 --join-reads all --repeats 3
    python bench/growth.py --loops 10,1000,10000 --repeats 1 --timeout 900
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bus import Bus, EmbeddedNats, free_port, new_master_key  # noqa: E402
from bus.run_index import index_subject  # noqa: E402
from schemas import Dag, RunRecord  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import BENCH_TOKEN, CLOCK_TICKS, StackUnderTest, cpu_ticks  # noqa: E402

TOKEN = "bench-admin-" + os.urandom(16).hex()
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def store_runs(bus: Bus, start: int, count: int) -> None:
    """Records and summaries as the orchestrator leaves them, in pipelined batches."""
    dag = Dag(workflowName="stored", steps=[])
    batch: list[asyncio.Future[object]] = []
    for n in range(start, start + count):
        record = RunRecord.new(f"{n:024x}", dag, {})
        record.status = "failed" if n % 10 == 0 else "succeeded"
        summary = record.summary()
        batch.append(asyncio.ensure_future(bus.runs.kv.put(record.id, record.model_dump_json().encode())))
        batch.append(asyncio.ensure_future(bus.js.publish(index_subject(summary), summary.model_dump_json().encode())))
        if len(batch) >= 1000:
            await asyncio.gather(*batch)
            batch = []
            print(f"  … {n + 1 - start}/{count} stored", file=sys.stderr, flush=True)
    await asyncio.gather(*batch)


async def timed(session: aiohttp.ClientSession, url: str, rounds: int = 20) -> tuple[float, int]:
    samples = []
    count = 0
    for _ in range(rounds):
        began = time.perf_counter()
        async with session.get(url, headers=HEADERS) as response:
            assert response.status == 200, await response.text()
            count = len((await response.json())["runs"])
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), count


async def measure(nats_url: str, port: int, gateway_pid: int, sizes: list[int]) -> None:
    bus = await Bus.connect(nats_url, "bench-growth")
    stored = 0
    base = f"http://127.0.0.1:{port}/v1/runs"
    try:
        async with aiohttp.ClientSession() as session:
            for size in sizes:
                await store_runs(bus, stored, size - stored)
                stored = size
                rss_before = rss_mb(gateway_pid)
                plain, plain_count = await timed(session, f"{base}?limit=50")
                failed, failed_count = await timed(session, f"{base}?limit=50&status=failed")
                deep, _ = await timed(session, f"{base}?limit=50&before={size // 2:024x}")
                print(f"stored={size:>7,}  GET /v1/runs?limit=50: {plain:6.1f} ms ({plain_count} runs)   "
                      f"status=failed: {failed:6.1f} ms ({failed_count})   before=<middle>: {deep:6.1f} ms   "
                      f"gateway RSS {rss_before:.0f} → {rss_mb(gateway_pid):.0f} MB", flush=True)
    finally:
        await bus.close()


# -- runs of growing shape ---------------------------------------------------------------------------------------

TERMINAL = ("succeeded", "failed", "cancelled")
MIN_MEASURED_STEPS = 100


def _step(node_id: str, kind: str, mock_port: int, output_kib: int, reads: str | None) -> dict[str, Any]:
    """A Set step (values i, optionally the one before and a big value) or an HTTP GET to the mock."""
    if kind == "http":
        query = f"?kib={output_kib}" if output_kib else ""
        return {"id": node_id, "type": "http", "data": {"config": {
            "method": "GET", "url": f"http://127.0.0.1:{mock_port}/{node_id}{query}"}}}
    values: dict[str, Any] = {"i": node_id}
    if reads is not None:
        values["previous"] = f"{{{{ steps.{reads}.output.i }}}}"
    if output_kib:
        values["big"] = f"{{{{ 'x' * {output_kib * 1024 - 64} }}}}"
    return {"id": node_id, "type": "set", "data": {"config": {"values": values}}}


def chain(length: int, kind: str, mock_port: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    edges: list[dict[str, str]] = []
    previous = "start"
    for i in range(length):
        node_id = f"s{i}"
        nodes.append(_step(node_id, kind, mock_port, 0, previous if previous != "start" else None))
        edges.append({"id": f"e{i}", "source": previous, "target": node_id})
        previous = node_id
    return {"meta": {"name": f"chain of {length}"}, "nodes": nodes, "edges": edges}


def fan_out(width: int, kind: str, mock_port: int, output_kib: int, join_reads: str) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    edges: list[dict[str, str]] = []
    for i in range(width):
        nodes.append(_step(f"f{i}", kind, mock_port, output_kib, None))
        edges += [{"id": f"a{i}", "source": "start", "target": f"f{i}"},
                  {"id": f"b{i}", "source": f"f{i}", "target": "join"}]
    field = "status" if kind == "http" else "i"
    if join_reads == "all":
        every = ", ".join(f"steps.f{i}.output.{field}" for i in range(width))
        values = {"branches": f"{{{{ [{every}] | length }}}}"}
    else:
        values = {"first": f"{{{{ steps.f0.output.{field} }}}}", "last": f"{{{{ steps.f{width - 1}.output.{field} }}}}"}
    nodes.append({"id": "join", "type": "set", "data": {"config": {"values": values}}})
    return {"meta": {"name": f"fan-out of {width}"}, "nodes": nodes, "edges": edges}


def loop(items: int) -> dict[str, Any]:
    return {"meta": {"name": f"loop of {items}"}, "nodes": [
        {"id": "start", "type": "start"},
        {"id": "each", "type": "loop", "data": {"config": {"items": "{{ inputs.items }}", "concurrency": LOOP_CONCURRENCY}}},
        {"id": "double", "type": "set", "data": {"config": {"values": {"n": "{{ loop.item * 2 }}"}}}},
    ], "edges": [{"id": "e0", "source": "start", "target": "each"},
                 {"id": "e1", "source": "each", "target": "double", "sourceHandle": "each"}]}


LOOP_CONCURRENCY = 16


@dataclass
class Outcome:
    run_id: str | None
    status: str  # succeeded / failed / cancelled / refused … / did not complete …
    wall_s: float


class ShapeRunner:
    def __init__(self, stack: StackUnderTest, session: aiohttp.ClientSession, timeout_s: float) -> None:
        self.stack = stack
        self.session = session
        self.timeout_s = timeout_s
        self.base = f"http://127.0.0.1:{stack.port}/v1/runs"
        self.headers = {"Authorization": f"Bearer {BENCH_TOKEN}", "Content-Type": "application/json"}

    async def run(self, graph: dict[str, Any], inputs: dict[str, Any] | None = None) -> Outcome:
        began = time.perf_counter()
        run_id: str | None = None

        async def submit_and_follow() -> str:
            nonlocal run_id
            body = {"graph": graph, **({"inputs": inputs} if inputs else {})}
            async with self.session.post(self.base, headers=self.headers, data=json.dumps(body)) as response:
                text = await response.text()
                if response.status != 201:
                    return f"refused ({response.status}): {text[:300]}"
                run_id = json.loads(text)["runId"]
            status = "the WebSocket closed before the terminal event"
            async with self.session.ws_connect(f"ws://127.0.0.1:{self.stack.port}/v1/runs/{run_id}/events",
                                               headers=self.headers, max_msg_size=0) as ws:
                async for message in ws:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    if '"type":"run"' in message.data:
                        event = json.loads(message.data)
                        if event.get("status") in TERMINAL:
                            status = event["status"]
            return status

        try:
            status = await asyncio.wait_for(submit_and_follow(), self.timeout_s)
        except TimeoutError:
            status = f"did not complete in {self.timeout_s:g} s"
            if run_id is not None:
                async with self.session.post(f"{self.base}/{run_id}/cancel", headers=self.headers) as response:
                    await response.read()
        return Outcome(run_id, status, time.perf_counter() - began)

    async def view(self, run_id: str) -> dict[str, Any]:
        async with self.session.get(f"{self.base}/{run_id}", headers=self.headers) as response:
            return dict(await response.json()) if response.status == 200 else {}


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def chain_timeline(view: dict[str, Any]) -> dict[str, list[float]]:
    """Where a chain's time goes, per step in ms: orchestrator (previous step finished → this one dispatched),
    queue (dispatched → started on the engine) and execution (started → finished)."""
    parts: dict[str, list[float]] = {"orchestrator": [], "queue": [], "execution": []}
    previous_end: datetime | None = None  # of the previous step but the trigger's (that is the run's creation)
    for step in view.get("steps", []):
        dispatched, started, finished = (_when(step.get(key)) for key in ("dispatchedAt", "startedAt", "finishedAt"))
        if step["nodeId"] == "start":
            continue
        if previous_end and dispatched:
            parts["orchestrator"].append((dispatched - previous_end).total_seconds() * 1000)
        if dispatched and started:
            parts["queue"].append((started - dispatched).total_seconds() * 1000)
        if started and finished:
            parts["execution"].append((finished - started).total_seconds() * 1000)
        previous_end = finished or previous_end
    return parts


def _progress_of(view: dict[str, Any]) -> str:
    steps = view.get("steps", [])
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.get("status", "?")] = counts.get(step.get("status", "?"), 0) + 1
    said = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    waiting = f"; waiting: {view['waiting']}" if view.get("waiting") else ""
    error = f"; error: {view['error']}" if view.get("error") else ""
    return f"run status {view.get('status', '?')}, steps: {said or 'none'}{waiting}{error}"


async def measure_shape(runner: ShapeRunner, label: str, graph: dict[str, Any], steps: int, repeats: int,
                        baseline: dict[str, float], is_chain: bool, inputs: dict[str, Any] | None = None,
                        base_label: str = "chain of 10 ") -> None:
    names = runner.stack.named_pids()
    warm = await runner.run(graph, inputs)
    if warm.status != "succeeded":
        detail = _progress_of(await runner.view(warm.run_id)) if warm.run_id else ""
        print(f"{label:>24}: {warm.status} (warm-up run){'; ' + detail if detail else ''}", flush=True)
        return
    # CPU ticks are 10 ms: short shapes get more runs, so at least MIN_MEASURED_STEPS steps are measured.
    repeats = max(repeats, -(-MIN_MEASURED_STEPS // steps))
    walls: list[float] = []
    spent: dict[str, float] = {}
    timeline: dict[str, list[float]] = {"orchestrator": [], "queue": [], "execution": []}
    joined: Any = None
    view_kib = 0.0
    for _ in range(repeats):
        before = {pid: cpu_ticks(pid) for pid in names}
        outcome = await runner.run(graph, inputs)
        after = {pid: cpu_ticks(pid) for pid in names}
        if outcome.status != "succeeded":
            detail = _progress_of(await runner.view(outcome.run_id)) if outcome.run_id else ""
            print(f"{label:>24}: {outcome.status}{'; ' + detail if detail else ''}", flush=True)
            return
        walls.append(outcome.wall_s)
        for pid, name in names.items():
            spent[name] = spent.get(name, 0.0) + (after[pid] - before[pid]) * 1000 / CLOCK_TICKS
        if outcome.run_id and (is_chain or len(walls) == repeats):
            view = await runner.view(outcome.run_id)
            if is_chain:
                for part, values in chain_timeline(view).items():
                    timeline[part] += values
            else:
                joined = next((step.get("output") for step in view.get("steps", []) if step["nodeId"] == "join"), None)
                view_kib = len(json.dumps(view)) / 1024
    per_step = {name: ms / (repeats * steps) for name, ms in spent.items()}
    orchestrator, total = per_step.get("orchestrator", 0.0), sum(per_step.values())
    wall = statistics.median(walls) * 1000
    if label.startswith(base_label):
        baseline.update(orchestrator=orchestrator, total=total)
    ratio = ""
    if baseline and not label.startswith(base_label):
        ratio = (f"   per step vs {base_label.strip()}: orchestrator "
                 f"×{orchestrator / max(baseline['orchestrator'], 1e-9):.2f}, "
                 f"stack ×{total / max(baseline['total'], 1e-9):.2f}")
    print(f"{label:>24}: {wall:8.0f} ms per run ({wall / steps:6.2f} ms per step)   CPU per step: orchestrator "
          f"{orchestrator:6.2f} ms, whole stack {total:6.2f} ms{ratio}", flush=True)
    print(f"{'':>26}CPU ms per step by process: "
          + "  ".join(f"{name} {ms:.2f}" for name, ms in per_step.items())
          + f"   ({len(walls)} runs, {min(walls) * 1000:.0f}–{max(walls) * 1000:.0f} ms)", flush=True)
    if not is_chain and joined is not None:
        print(f"{'':>26}the join's output (last run): {json.dumps(joined)[:200]}", flush=True)
    if not is_chain:
        print(f"{'':>26}GET /v1/runs/{{id}} of the last run: {view_kib:.1f} KiB", flush=True)
    if is_chain and timeline["execution"]:
        medians = {part: f"{statistics.median(values):.2f} ms" if values else "–" for part, values in timeline.items()}
        print(f"{'':>26}per step (medians): previous done → dispatched {medians['orchestrator']}, "
              f"dispatched → started {medians['queue']}, running {medians['execution']}", flush=True)


async def measure_shapes(stack: StackUnderTest, args: argparse.Namespace) -> None:
    print(f"shapes: one engine (engine concurrency 64), {args.repeats} measured runs per shape (more for short ones: "
          f"≥ {MIN_MEASURED_STEPS} steps) after one warm-up, "
          f"one run at a time; chain steps: {args.chain_step}; fan-out steps: {args.fanout_step}, "
          f"output {args.output_kib or 'small'}{' KiB' if args.output_kib else ''}, join reads {args.join_reads}; "
          f"timeout {args.timeout:g} s per run", flush=True)
    baseline: dict[str, float] = {}
    async with aiohttp.ClientSession() as session:
        runner = ShapeRunner(stack, session, args.timeout)
        await runner.run(chain(3, args.chain_step, stack.mock_port))  # the stack's first run pays for imports
        chains = sorted(args.chains, key=lambda n: (n != 10, n))  # the 10-step chain first: the others' baseline
        for length in chains:
            await measure_shape(runner, f"chain of {length} ({args.chain_step})", chain(length, args.chain_step, stack.mock_port),
                                length, args.repeats, baseline, is_chain=True)
        loop_baseline: dict[str, float] = {}
        for items in sorted(args.loops, key=lambda n: (n != 10, n)):  # the 10-item loop first: the others' baseline
            await measure_shape(runner, f"loop of {items} (set)", loop(items), items, args.repeats, loop_baseline,
                                is_chain=False, inputs={"items": list(range(items))}, base_label="loop of 10 ")
        for width in args.fanout:
            label = f"fan-out of {width} ({args.fanout_step}" + (f", {args.output_kib} KiB)" if args.output_kib else ")")
            graph = fan_out(width, args.fanout_step, stack.mock_port, args.output_kib, args.join_reads)
            await measure_shape(runner, label, graph, width + 1, args.repeats, baseline, is_chain=False)


def run_shapes(args: argparse.Namespace) -> None:
    stack = StackUnderTest(engines=1, engine_concurrency=64, mock_delay_ms=0)
    try:
        stack.start()
        uvloop.run(measure_shapes(stack, args))
    finally:
        stack.stop()


def run_listing(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory(prefix="automateos-growth-") as tmp:
        nats = EmbeddedNats(Path(tmp) / "nats", port=free_port()).start()
        port = free_port()
        env = {**os.environ, "NATS_URL": nats.url, "AUTOMATEOS_LOG_LEVEL": "WARNING",
               "AUTOMATEOS_MASTER_KEY": new_master_key(), "AUTOMATEOS_ADMIN_TOKEN": TOKEN, "AUTOMATEOS_PORT": str(port)}
        gateway: subprocess.Popen[bytes] | None = None
        try:
            subprocess.run([sys.executable, "-m", "automateos", "setup"], env=env, check=True, stdout=subprocess.DEVNULL)
            gateway = subprocess.Popen([sys.executable, "-m", "automateos", "gateway"], env=env)
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the gateway did not become ready") from None
                    time.sleep(0.1)
            uvloop.run(measure(nats.url, port, gateway.pid, sizes))
        finally:
            if gateway is not None:
                gateway.terminate()
                gateway.wait(timeout=20)
            nats.stop()


def _counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=_counts, default=None,
                        help="stored runs at each listing measurement (default 1000,10000,100000 when no shape is asked)")
    parser.add_argument("--chains", type=_counts, default=[], help="chain lengths, e.g. 1,10,50,200")
    parser.add_argument("--chain-step", choices=("set", "http"), default="set", help="what each chain step is")
    parser.add_argument("--fanout", type=_counts, default=[], help="fan-out widths (each then joined), e.g. 50")
    parser.add_argument("--fanout-step", choices=("http", "set"), default="http", help="what each branch is")
    parser.add_argument("--output-kib", type=int, default=0, help="each fan-out branch's output in KiB (0: small)")
    parser.add_argument("--join-reads", choices=("two", "all"), default="two",
                        help="which branch outputs the join's template reads")
    parser.add_argument("--loops", type=_counts, default=[], help="loop sizes (items of one Set step), e.g. 10,1000")
    parser.add_argument("--repeats", type=int, default=5, help="measured runs per shape")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a shape's run may take")
    args = parser.parse_args()
    shapes = bool(args.chains or args.fanout or args.loops)
    sizes = sorted(args.sizes) if args.sizes is not None else ([] if shapes else [1000, 10000, 100000])
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    try:
        if sizes:
            run_listing(sizes)
        if shapes:
            run_shapes(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
