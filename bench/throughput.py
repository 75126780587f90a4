"""Throughput and latency of the whole stack, and the raw NATS floor beside it.

Starts nats-server, the orchestrator, E engine worker processes and the gateway (each its own process,
as `automateos up` does), plus a loopback mock API. Submits N trigger → HTTP POST runs with C in flight and
prints runs/s, submit-to-completion latency percentiles, CPU per run (actors + nats-server) and peak RSS.

How a run is started and its end learned (--path):
  ws       POST /v1/runs, then the run's WebSocket until its terminal event: what a REST user does (default)
  webhook  POST to a saved, active webhook workflow in lastNode mode, until its reply: what a webhook caller sees
  bus      POST /v1/runs, the end learned from NATS directly: the engine alone, without the live view

    python bench/throughput.py --runs 3000 --concurrency 50
    python bench/throughput.py --runs 3000 --concurrency 50 --path bus
    python bench/throughput.py --runs 3000 --concurrency 50 --path bus --secured   # accounts and role users
    python bench/throughput.py --runs 300 --concurrency 1
    python bench/throughput.py --runs 600 --concurrency 64 --engines 1,4 --engine-concurrency 1 --mock-delay-ms 50
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import nats
from nats.aio.msg import Msg
import uvloop
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StreamConfig

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automateos.settings import REPO_ROOT  # noqa: E402
from bus import EmbeddedNats, free_port, new_master_key, new_results_key  # noqa: E402
from bus.permissions import ROLES, new_password, password_variable  # noqa: E402

HERE = Path(__file__).resolve().parent
BENCH_TOKEN = "bench-admin-" + os.urandom(16).hex()
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    engines: int
    runs: int
    seconds: float
    latencies_ms: list[float]
    cpu_ms: float
    peak_rss_mb: float
    failed: int
    cpu_by_process: dict[str, float]
    load_cpu_ms: float  # the benchmark's own client and the mock API: same cores, not the stack

    def report(self) -> str:
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            return lat[min(len(lat) - 1, int(p / 100 * len(lat)))]

        rate = self.runs / self.seconds
        return (
            f"engines={self.engines}  runs={self.runs}  failed={self.failed}  "
            f"runs/s={rate:,.0f}  steps/s={2 * rate:,.0f} (http steps/s={rate:,.0f})\n"
            f"  latency submit→terminal event: p50={pct(50):.1f} ms  p95={pct(95):.1f} ms  p99={pct(99):.1f} ms\n"
            f"  CPU per run (actors + nats-server): {self.cpu_ms / self.runs:.2f} ms   peak RSS of the stack: {self.peak_rss_mb:.0f} MB\n"
            "  CPU per run by process: " + "  ".join(f"{name} {ms / self.runs:.2f} ms" for name, ms in self.cpu_by_process.items())
            + f"\n  (not the stack: load generator + mock API {self.load_cpu_ms / self.runs:.2f} ms per run, on the same cores)"
        )


async def in_lanes(total: int, concurrency: int, one: Callable[[], Awaitable[None]]) -> None:
    """`total` calls of `one`, `concurrency` at a time: each lane starts its next call when its last one ends."""
    async def lane(count: int) -> None:
        for _ in range(count):
            await one()

    counts = [total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)]
    await asyncio.gather(*(lane(n) for n in counts if n))


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class StackUnderTest:
    def __init__(self, engines: int, engine_concurrency: int, mock_delay_ms: float, secured: bool = False) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="automateos-bench-")
        # secured: nats.conf with its accounts and role users, each actor on its own role, as `make up` runs it.
        self.passwords = {role: new_password() for role in ROLES} if secured else {}
        self.nats = EmbeddedNats(Path(self.tmp.name) / "nats", port=free_port(),
                                 config_file=REPO_ROOT / "nats.conf" if secured else None,
                                 env={**os.environ, **self._variables(ROLES)} if secured else None)
        self.port = free_port()
        self.mock_port = free_port()
        self.engines = engines
        self.engine_concurrency = engine_concurrency
        self.mock_delay_ms = mock_delay_ms
        self.processes: list[subprocess.Popen[bytes]] = []
        self.mock: subprocess.Popen[bytes] | None = None

    def _variables(self, roles: tuple[str, ...]) -> dict[str, str]:
        return {password_variable(role): self.passwords[role] for role in roles if role in self.passwords}

    def login(self) -> dict[str, str]:
        """What the bench's own NATS connection signs in with."""
        return {"user": "admin", "password": self.passwords["admin"]} if self.passwords else {}

    def start(self) -> None:
        self.nats.start()
        env = {**os.environ, "NATS_URL": self.nats.url, "AUTOMATEOS_LOG_LEVEL": "WARNING", "AUTOMATEOS_MASTER_KEY": new_master_key(),
               "AUTOMATEOS_ADMIN_TOKEN": BENCH_TOKEN, "AUTOMATEOS_PORT": str(self.port), "AUTOMATEOS_ENGINE_CONCURRENCY": str(self.engine_concurrency)}
        self.mock = subprocess.Popen([sys.executable, str(HERE / "mock_server.py"), "--port", str(self.mock_port),
                                      "--delay-ms", str(self.mock_delay_ms)])
        subprocess.run([sys.executable, "-m", "automateos", "setup"], env={**env, **self._variables(("admin",))},
                       check=True, stdout=subprocess.DEVNULL)
        actors = ["orchestrator", *(["engine"] * self.engines), "gateway"]
        signing = {"AUTOMATEOS_RESULTS_KEY": new_results_key()} if self.passwords else {}
        for actor in actors:
            signs = signing if actor in ("orchestrator", "engine") else {}
            self.processes.append(subprocess.Popen([sys.executable, "-m", "automateos", actor],
                                                   env={**env, **self._variables((actor,)), **signs}))
        deadline = time.monotonic() + 60
        import urllib.request

        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the stack did not become ready")

    def pids(self) -> list[int]:
        return list(self.named_pids())

    def named_pids(self) -> dict[int, str]:
        assert self.nats.process is not None
        names = ["orchestrator", *(["engine"] * self.engines), "gateway"]
        return {**{p.pid: name for p, name in zip(self.processes, names, strict=True)}, self.nats.process.pid: "nats-server"}

    def stop(self) -> None:
        for process in [*self.processes, *( [self.mock] if self.mock else [])]:
            process.terminate()
        for process in [*self.processes, *( [self.mock] if self.mock else [])]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.nats.stop()
        self.tmp.cleanup()


async def drive(stack: StackUnderTest, runs: int, concurrency: int, warmup: int, path: str = "ws") -> Result:
    trigger = ({"id": "start", "type": "start"} if path != "webhook" else
               {"id": "start", "type": "webhook", "data": {"config": {"responseMode": "lastNode"}}})
    graph = {
        "meta": {"name": "bench"},
        "nodes": [trigger,
                  {"id": "post", "type": "http", "data": {"config": {
                      "method": "POST", "url": f"http://127.0.0.1:{stack.mock_port}/hook", "json_body": {"text": "bench"}}}}],
        "edges": [{"id": "e", "source": "start", "target": "post"}],
    }
    body = json.dumps({"graph": graph}).encode()
    done: dict[str, asyncio.Future[str]] = {}
    early: dict[str, str] = {}
    nc = await nats.connect(stack.nats.url, **stack.login())

    async def on_event(msg: Msg) -> None:
        if b'"type":"run"' not in msg.data:
            return
        for event in json.loads(msg.data)["events"]:
            if event["type"] == "run" and event["status"] in ("succeeded", "failed", "cancelled"):
                future = done.get(event["runId"])
                if future is None:
                    early[event["runId"]] = event["status"]
                elif not future.done():
                    future.set_result(event["status"])

    if path == "bus":
        await nc.subscribe("runs.events.*", cb=on_event)
    latencies: list[float] = []
    failed = 0
    base = f"http://127.0.0.1:{stack.port}"
    url = f"{base}/v1/runs"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {BENCH_TOKEN}"}
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        hook_url = ""
        if path == "webhook":
            async with session.post(f"{base}/v1/workflows", headers=headers,
                                    data=json.dumps({"name": "bench", "graph": graph}).encode()) as response:
                created = await response.json()
            async with session.post(f"{base}/v1/workflows/{created['id']}/activate", headers=headers) as response:
                assert response.status == 200, await response.text()
            hook_url = created["triggers"][0]["url"]  # absolute: the gateway's public URL

        async def follow_socket(run_id: str) -> str:
            status = "lost"
            async with session.ws_connect(f"ws://127.0.0.1:{stack.port}/v1/runs/{run_id}/events", headers=headers) as ws:
                async for message in ws:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    if '"type":"run"' in message.data:
                        event = json.loads(message.data)
                        if event["status"] in ("succeeded", "failed", "cancelled"):
                            status = event["status"]
            return status

        async def one(measure: bool) -> None:
            nonlocal failed
            began = time.perf_counter()
            if path == "webhook":
                async with session.post(hook_url, data=b'{"text": "bench"}',
                                        headers={"Content-Type": "application/json"}) as response:
                    await response.read()
                    status = "succeeded" if response.status == 200 else f"http {response.status}"
            else:
                async with session.post(url, data=body, headers=headers) as response:
                    run_id = (await response.json())["runId"]
                if path == "ws":
                    status = await asyncio.wait_for(follow_socket(run_id), timeout=60)
                else:
                    future = done[run_id] = asyncio.get_running_loop().create_future()
                    if run_id in early:
                        future.set_result(early.pop(run_id))
                    status = await asyncio.wait_for(future, timeout=60)
                    del done[run_id]
            if measure:
                latencies.append((time.perf_counter() - began) * 1000)
                failed += status != "succeeded"

        async def batch(total: int, measure: bool) -> None:
            await in_lanes(total, concurrency, lambda: one(measure))

        await batch(warmup, measure=False)
        pids = stack.pids()
        before = {pid: cpu_ticks(pid) for pid in pids}
        assert stack.mock is not None
        load_before, mock_before = cpu_ticks(os.getpid()), cpu_ticks(stack.mock.pid)
        peak = 0
        sampling = True

        async def sample_rss() -> None:
            nonlocal peak
            while sampling:
                peak = max(peak, sum(rss_kb(pid) for pid in pids))
                await asyncio.sleep(0.1)

        sampler = asyncio.create_task(sample_rss())
        started = time.perf_counter()
        progress = asyncio.create_task(_progress(latencies, runs))
        await batch(runs, measure=True)
        seconds = time.perf_counter() - started
        sampling = False
        progress.cancel()
        await sampler
        by_process: dict[str, float] = {}
        for pid, name in stack.named_pids().items():
            by_process[name] = by_process.get(name, 0.0) + (cpu_ticks(pid) - before[pid]) * 1000 / CLOCK_TICKS
        load_ms = (cpu_ticks(os.getpid()) - load_before) * 1000 / CLOCK_TICKS
        assert stack.mock is not None
        load_ms += (cpu_ticks(stack.mock.pid) - mock_before) * 1000 / CLOCK_TICKS
    await nc.close()
    return Result(stack.engines, runs, seconds, latencies, sum(by_process.values()), peak / 1024, failed, by_process, load_ms)


async def _progress(latencies: list[float], total: int) -> None:
    while True:
        await asyncio.sleep(2)
        print(f"  … {len(latencies)}/{total} runs", file=sys.stderr, flush=True)


async def raw_floor(url: str, rounds: int = 2000, in_flight: int = 1000) -> str:
    """publish → pull → ack → publish → pull, with nothing else: the floor under one step."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    for name in ("FLOOR_DISPATCH", "FLOOR_RESULT"):
        await js.add_stream(StreamConfig(name=name, subjects=[name.lower()], retention=RetentionPolicy.WORK_QUEUE))
        await js.add_consumer(name, ConsumerConfig(durable_name="c", ack_policy=AckPolicy.EXPLICIT, max_ack_pending=100_000))
    work = await js.pull_subscribe_bind("c", "FLOOR_DISPATCH")
    results = await js.pull_subscribe_bind("c", "FLOOR_RESULT")

    async def worker(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                msgs = await work.fetch(256, timeout=0.5)
            except TimeoutError:
                continue
            async def answer(msg: Msg) -> None:
                await js.publish("floor_result", msg.data)
                await msg.ack()

            await asyncio.gather(*(answer(msg) for msg in msgs))

    async def collect(count: int) -> None:
        got = 0
        while got < count:
            try:
                msgs = await results.fetch(256, timeout=5)
            except TimeoutError:
                continue
            for msg in msgs:
                await msg.ack()
            got += len(msgs)

    stop = asyncio.Event()
    worker_task = asyncio.create_task(worker(stop))
    samples = []
    for _ in range(300):
        began = time.perf_counter()
        await js.publish("floor_dispatch", b"x")
        await collect(1)
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    began = time.perf_counter()
    sent = 0
    collector = asyncio.create_task(collect(rounds))
    while sent < rounds:
        batch = min(in_flight, rounds - sent)
        await asyncio.gather(*(js.publish("floor_dispatch", b"x") for _ in range(batch)))
        sent += batch
    await collector
    rate = rounds / (time.perf_counter() - began)
    stop.set()
    await worker_task
    await nc.close()
    p50 = statistics.median(samples)
    return f"raw JetStream step round trip (same process, no engine): p50={p50:.2f} ms  p99={samples[int(0.99 * len(samples))]:.2f} ms  throughput={rate:,.0f} round trips/s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3000, help="measured runs (after warm-up)")
    parser.add_argument("--concurrency", type=int, default=50, help="runs in flight")
    parser.add_argument("--engines", default="1", help="engine worker processes; a list like 1,4 runs each")
    parser.add_argument("--engine-concurrency", type=int, default=64, help="steps each worker runs at once")
    parser.add_argument("--mock-delay-ms", type=float, default=0.0, help="the mock API's answer delay")
    parser.add_argument("--warmup", type=int, default=None, help="unmeasured runs first (default: runs/10, ≤ 300)")
    parser.add_argument("--no-floor", action="store_true", help="skip the raw NATS floor")
    parser.add_argument("--path", choices=("ws", "webhook", "bus"), default="ws",
                        help="how runs start and their end is learned (see above)")
    parser.add_argument("--secured", action="store_true",
                        help="nats.conf's accounts and role users, each actor on its role, results signed, as `make up` runs it")
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else min(300, max(args.concurrency, args.runs // 10))
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"runs={args.runs} concurrency={args.concurrency} engine-concurrency={args.engine_concurrency} "
          f"mock-delay={args.mock_delay_ms:g} ms warmup={warmup} path={args.path} secured={args.secured}")
    results = []
    for engines in (int(e) for e in args.engines.split(",")):
        stack = StackUnderTest(engines, args.engine_concurrency, args.mock_delay_ms, secured=args.secured)
        stack.start()
        try:
            result = uvloop.run(drive(stack, args.runs, args.concurrency, warmup, args.path))
            print(result.report(), flush=True)
            results.append(result)
            if not args.no_floor and not args.secured and engines == int(args.engines.split(",")[0]):
                print(uvloop.run(raw_floor(stack.nats.url)), flush=True)
        finally:
            stack.stop()
    if len(results) > 1:
        base = results[0].runs / results[0].seconds
        for result in results[1:]:
            print(f"scaling: {result.engines} engines = {result.runs / result.seconds / base:.2f}× the steps/s of {results[0].engines}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
