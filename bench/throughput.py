"""Throughput and latency of the whole stack, and the raw NATS floor beside it.

Starts nats-server, the orchestrator, E engine worker processes and the gateway (each its own process,
as `automateos up` does; `--layout one-process`: gateway, orchestrator and one engine in one process,
`python -m automateos stack`), plus a loopback mock API. Submits N trigger → HTTP POST runs with C in flight and
prints runs/s, submit-to-completion latency percentiles, CPU per run (actors + nats-server) and peak RSS.

How a run is started and its end learned (--path):
  ws       POST /v1/runs, then the run's WebSocket until its terminal event: what a REST user does (default)
  webhook  POST to a saved, active webhook workflow in lastNode mode, until its reply: what a webhook caller sees
  post     POST /v1/runs, the end learned from NATS (runs.events.*): the REST start without the live view
           (before `post` existed, `--path bus` measured this)
  bus      runs.requested published on NATS (a graph with its runId, as admin), the end learned from NATS:
           no gateway at all

    python bench/throughput.py --runs 3000 --concurrency 50
    python bench/throughput.py --runs 3000 --concurrency 50 --path bus
    python bench/throughput.py --runs 3000 --concurrency 50 --path post --secured   # accounts and role users
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
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urljoin

import aiohttp
import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
import uvloop
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StreamConfig

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automateos.settings import REPO_ROOT  # noqa: E402
from bus import EmbeddedNats, free_port, new_master_key, new_results_key, subjects  # noqa: E402
from bus.permissions import ROLES, new_password, password_variable  # noqa: E402
from bus.server import ends_with_parent  # noqa: E402
from schemas import new_run_id  # noqa: E402

HERE = Path(__file__).resolve().parent
BENCH_TOKEN = "bench-admin-" + os.urandom(16).hex()
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PATHS = ("ws", "webhook", "post", "bus")
LAYOUTS = ("processes", "one-process")
TERMINAL = ("succeeded", "failed", "cancelled")
RUN_TIMEOUT_S = 60.0


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
    peak_rss_by_process: dict[str, float] = field(default_factory=dict)  # MB, at the sample where the sum peaked

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


def rss_by_name(names: dict[int, str]) -> dict[str, float]:
    """VmRSS in MB of each named process (processes of the same name summed)."""
    found: dict[str, float] = {}
    for pid, name in names.items():
        found[name] = found.get(name, 0.0) + rss_kb(pid) / 1024
    return found


class StackStartError(RuntimeError):
    """The stack under test did not start; the message says why (and how to see more)."""


class Stack(Protocol):
    """What `drive` needs of a running stack: where it listens and which processes are it."""

    @property
    def engines(self) -> int: ...
    @property
    def port(self) -> int: ...
    @property
    def mock_port(self) -> int: ...
    @property
    def mock(self) -> subprocess.Popen[bytes] | None: ...
    @property
    def nats_url(self) -> str: ...
    def login(self) -> dict[str, str]: ...
    def named_pids(self) -> dict[int, str]: ...


@dataclass
class MockApi:
    """bench/mock_server.py in a process of its own, in its own session (a Ctrl-C reaches only the benchmark)."""

    port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, delay_ms: float, port: int | None = None) -> MockApi:
        port = port or free_port()
        process = subprocess.Popen([sys.executable, str(HERE / "mock_server.py"), "--port", str(port),
                                    "--delay-ms", str(delay_ms)], start_new_session=True, preexec_fn=ends_with_parent())
        return cls(port, process)

    def stop(self) -> None:
        stop_process(self.process, "the mock API")


def stop_process(process: subprocess.Popen[bytes], name: str, timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL after `timeout` s: by its PID, nothing else."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            print(f"{name} (pid {process.pid}) did not stop in {timeout:g} s; killing it", file=sys.stderr)
            process.kill()
            process.wait()


def wait_until_ready(url: str, children: dict[str, subprocess.Popen[bytes]], timeout: float = 60) -> None:
    """Until `url` answers 200; a child that exits meanwhile is a StackStartError naming it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in children.items():
            if process.poll() is not None:
                raise StackStartError(f"{name} (pid {process.pid}) exited with code {process.returncode} while "
                                      "starting; its output is above")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise StackStartError(f"the stack did not become ready at {url} within {timeout:g} s")


def layout_unavailable(layout: str) -> str | None:
    """Why `python -m automateos stack` (the one-process layout) cannot run in this checkout, or None."""
    if layout == "processes":
        return None
    found = subprocess.run([sys.executable, "-m", "automateos", "stack", "--help"], capture_output=True, text=True,
                           check=False)
    if found.returncode != 0:
        return ("the one-process layout needs `python -m automateos stack`, which this checkout does not have yet "
                f"(`automateos stack --help` exited with {found.returncode}); the processes layout works")
    return None


class StackUnderTest:
    """The actors started directly (no `up` supervisor): `processes` starts orchestrator, E engines and gateway each
    in its own process; `one-process` starts `python -m automateos stack` (gateway + orchestrator + one engine)."""

    def __init__(self, engines: int, engine_concurrency: int, mock_delay_ms: float, secured: bool = False,
                 layout: str = "processes", mock: MockApi | None = None) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
        if layout == "one-process" and engines != 1:
            raise ValueError("the one-process layout runs exactly one engine")
        self.tmp = tempfile.TemporaryDirectory(prefix="automateos-bench-")
        # secured: nats.conf with its accounts and role users, each actor on its own role, as `make up` runs it.
        self.passwords = {role: new_password() for role in ROLES} if secured else {}
        self.nats = EmbeddedNats(Path(self.tmp.name) / "nats", port=free_port(),
                                 config_file=REPO_ROOT / "nats.conf" if secured else None,
                                 env={**os.environ, **self._variables(ROLES)} if secured else None)
        self.port = free_port()
        self.layout = layout
        self.engines = engines
        self.engine_concurrency = engine_concurrency
        self.mock_delay_ms = mock_delay_ms
        self.processes: list[subprocess.Popen[bytes]] = []
        self._own_mock = mock is None
        self._mock_api = mock
        self.mock_port = mock.port if mock else free_port()
        self.mock: subprocess.Popen[bytes] | None = mock.process if mock else None

    @property
    def nats_url(self) -> str:
        return self.nats.url

    def _variables(self, roles: tuple[str, ...]) -> dict[str, str]:
        return {password_variable(role): self.passwords[role] for role in roles if role in self.passwords}

    def login(self) -> dict[str, str]:
        """What the bench's own NATS connection signs in with."""
        return {"user": "admin", "password": self.passwords["admin"]} if self.passwords else {}

    def _actors(self) -> list[str]:
        return ["stack"] if self.layout == "one-process" else ["orchestrator", *(["engine"] * self.engines), "gateway"]

    def start(self) -> None:
        reason = layout_unavailable(self.layout)
        if reason:
            raise StackStartError(reason)
        self.nats.start()
        env = {**os.environ, "NATS_URL": self.nats.url, "AUTOMATEOS_LOG_LEVEL": "WARNING", "AUTOMATEOS_MASTER_KEY": new_master_key(),
               "AUTOMATEOS_ADMIN_TOKEN": BENCH_TOKEN, "AUTOMATEOS_PORT": str(self.port), "AUTOMATEOS_ENGINE_CONCURRENCY": str(self.engine_concurrency)}
        if self._mock_api is None:
            self._mock_api = MockApi.start(self.mock_delay_ms, self.mock_port)
            self.mock = self._mock_api.process
        subprocess.run([sys.executable, "-m", "automateos", "setup"], env={**env, **self._variables(("admin",))},
                       check=True, stdout=subprocess.DEVNULL)
        signing = {"AUTOMATEOS_RESULTS_KEY": new_results_key()} if self.passwords else {}
        for actor in self._actors():
            # The one-process stack runs three actors, each on its own role: it gets the three roles' passwords.
            roles = ("gateway", "orchestrator", "engine") if actor == "stack" else (actor,)
            signs = signing if actor in ("orchestrator", "engine", "stack") else {}
            # Own session: a Ctrl-C reaches only the benchmark, which stops these in order.
            self.processes.append(subprocess.Popen([sys.executable, "-m", "automateos", actor],
                                                   env={**env, **self._variables(roles), **signs},
                                                   start_new_session=True, preexec_fn=ends_with_parent()))
        wait_until_ready(f"http://127.0.0.1:{self.port}/readyz", dict(zip(self._actors(), self.processes)))

    def pids(self) -> list[int]:
        return list(self.named_pids())

    def named_pids(self) -> dict[int, str]:
        assert self.nats.process is not None
        return {**{p.pid: name for p, name in zip(self.processes, self._actors(), strict=True)},
                self.nats.process.pid: "nats-server"}

    def stop(self) -> None:
        # Gateway first (no new runs), then the others; the broker last.
        for process in reversed(self.processes):
            process.terminate()
        for process in reversed(self.processes):
            stop_process(process, "an actor")
        if self._own_mock and self._mock_api is not None:
            self._mock_api.stop()
        self.nats.stop()
        self.tmp.cleanup()


# -- driving runs ---------------------------------------------------------------------------------------------------

def bench_graph(path: str, mock_port: int) -> dict[str, object]:
    """Trigger → HTTP POST (a small JSON body) to the mock; the trigger a webhook for the webhook path."""
    trigger = ({"id": "start", "type": "start"} if path != "webhook" else
               {"id": "start", "type": "webhook", "data": {"config": {"responseMode": "lastNode"}}})
    return {
        "meta": {"name": "bench"},
        "nodes": [trigger,
                  {"id": "post", "type": "http", "data": {"config": {
                      "method": "POST", "url": f"http://127.0.0.1:{mock_port}/hook", "json_body": {"text": "bench"}}}}],
        "edges": [{"id": "e", "source": "start", "target": "post"}],
    }


class RunEnds:
    """Each run's terminal status as it appears on NATS (runs.events.*): how the post and bus paths learn it."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[str]] = {}
        self.early: dict[str, str] = {}

    async def on_event(self, msg: Msg) -> None:
        if b'"type":"run"' not in msg.data:
            return
        for event in json.loads(msg.data)["events"]:
            if event["type"] == "run" and event["status"] in TERMINAL:
                future = self.waiting.get(event["runId"])
                if future is None:
                    self.early[event["runId"]] = event["status"]
                elif not future.done():
                    future.set_result(event["status"])

    async def wait(self, run_id: str) -> str:
        if run_id in self.early:
            return self.early.pop(run_id)
        future = self.waiting[run_id] = asyncio.get_running_loop().create_future()
        try:
            return await asyncio.wait_for(future, timeout=RUN_TIMEOUT_S)
        finally:
            del self.waiting[run_id]


async def _webhook_url(session: aiohttp.ClientSession, base: str, graph: dict[str, object]) -> str:
    """Saves and activates the webhook workflow; its trigger's URL (relative or absolute, either is joined)."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {BENCH_TOKEN}"}
    async with session.post(f"{base}/v1/workflows", headers=headers,
                            data=json.dumps({"name": "bench", "graph": graph}).encode()) as response:
        assert response.status in (200, 201), await response.text()
        created = await response.json()
    async with session.post(f"{base}/v1/workflows/{created['id']}/activate", headers=headers) as response:
        assert response.status == 200, await response.text()
    return urljoin(base + "/", str(created["triggers"][0]["url"]))


async def _follow_socket(session: aiohttp.ClientSession, url: str) -> str:
    status = "lost"
    async with session.ws_connect(url, headers={"Authorization": f"Bearer {BENCH_TOKEN}"}) as ws:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            if '"type":"run"' in message.data:
                event = json.loads(message.data)
                if event["status"] in TERMINAL:
                    status = event["status"]
    return status


OneRun = Callable[[], Awaitable[str]]  # one run, start to end: its terminal status ("succeeded" when it worked)


async def run_of(path: str, stack: Stack, session: aiohttp.ClientSession, nc: NatsClient, ends: RunEnds) -> OneRun:
    """One run of `path`, as a callable."""
    base = f"http://127.0.0.1:{stack.port}"
    graph = bench_graph(path, stack.mock_port)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {BENCH_TOKEN}"}
    body = json.dumps({"graph": graph}).encode()
    if path == "webhook":
        hook_url = await _webhook_url(session, base, graph)

        async def webhook() -> str:
            async with session.post(hook_url, data=b'{"text": "bench"}',
                                    headers={"Content-Type": "application/json"}) as response:
                await response.read()
                return "succeeded" if response.status == 200 else f"http {response.status}"
        return webhook

    async def posted() -> str:
        async with session.post(f"{base}/v1/runs", data=body, headers=headers) as response:
            return str((await response.json())["runId"])

    async def ws() -> str:
        run_id = await posted()
        return await asyncio.wait_for(_follow_socket(session, f"ws://127.0.0.1:{stack.port}/v1/runs/{run_id}/events"),
                                      timeout=RUN_TIMEOUT_S)

    async def post() -> str:
        return await ends.wait(await posted())

    js = nc.jetstream()

    async def bus() -> str:
        run_id = new_run_id()
        request = json.dumps({"v": 1, "runId": run_id, "graph": graph}).encode()
        await js.publish(subjects.RUNS_REQUESTED, request, headers={"Nats-Msg-Id": run_id})
        return await ends.wait(run_id)

    return {"ws": ws, "post": post, "bus": bus}[path]


class Meter:
    """CPU of the named processes and of the load (this client and the mock) from now on, and the peak of the named
    processes' summed RSS, sampled every 100 ms."""

    def __init__(self, names: dict[int, str], load_pids: list[int]) -> None:
        self.names, self.load_pids = names, load_pids
        self.before = {pid: cpu_ticks(pid) for pid in names}
        self.load_before = sum(cpu_ticks(pid) for pid in load_pids)
        self.peak_mb = 0.0
        self.peak_by_process: dict[str, float] = {}
        self._sampler = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            by_process = rss_by_name(self.names)
            if sum(by_process.values()) > self.peak_mb:
                self.peak_mb, self.peak_by_process = sum(by_process.values()), by_process
            await asyncio.sleep(0.1)

    async def stop(self) -> tuple[dict[str, float], float]:
        """CPU ms by process name, and the load's CPU ms."""
        self._sampler.cancel()
        await asyncio.gather(self._sampler, return_exceptions=True)
        by_process: dict[str, float] = {}
        for pid, name in self.names.items():
            by_process[name] = by_process.get(name, 0.0) + (cpu_ticks(pid) - self.before[pid]) * 1000 / CLOCK_TICKS
        load_ms = (sum(cpu_ticks(pid) for pid in self.load_pids) - self.load_before) * 1000 / CLOCK_TICKS
        return by_process, load_ms


async def measure(one: OneRun, runs: int, concurrency: int, warmup: int, names: dict[int, str],
                  load_pids: list[int]) -> Result:
    """`warmup` runs unmeasured, then `runs` measured, `concurrency` at a time; CPU and RSS of `names`."""
    latencies: list[float] = []
    failed = 0

    async def timed(measured: bool) -> None:
        nonlocal failed
        began = time.perf_counter()
        try:
            status = await one()
        except TimeoutError:
            status = "timed out"
        if measured:
            latencies.append((time.perf_counter() - began) * 1000)
            failed += status != "succeeded"

    await in_lanes(warmup, concurrency, lambda: timed(False))
    meter = Meter(names, load_pids)
    progress = asyncio.create_task(_progress(latencies, runs))
    started = time.perf_counter()
    try:
        await in_lanes(runs, concurrency, lambda: timed(True))
    finally:
        progress.cancel()
    seconds = time.perf_counter() - started
    by_process, load_ms = await meter.stop()
    return Result(0, runs, seconds, latencies, sum(by_process.values()), meter.peak_mb, failed, by_process, load_ms,
                  meter.peak_by_process)


async def drive(stack: Stack, runs: int, concurrency: int, warmup: int, path: str = "ws") -> Result:
    """N runs of `path` (see the module's doc) on `stack`, C in flight, after `warmup` unmeasured ones."""
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}, not {path!r}")
    nc = await nats.connect(stack.nats_url, **stack.login())
    ends = RunEnds()
    try:
        if path in ("post", "bus"):
            await nc.subscribe(f"{subjects.RUN_EVENTS_PREFIX}.*", cb=ends.on_event)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency * 2)) as session:
            one = await run_of(path, stack, session, nc, ends)
            load_pids = [os.getpid(), *([stack.mock.pid] if stack.mock is not None else [])]
            result = await measure(one, runs, concurrency, warmup, stack.named_pids(), load_pids)
    finally:
        await nc.close()
    result.engines = stack.engines
    return result


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
    parser.add_argument("--path", choices=PATHS, default="ws",
                        help="how runs start and their end is learned (see above)")
    parser.add_argument("--secured", action="store_true",
                        help="nats.conf's accounts and role users, each actor on its role, results signed, as `make up` runs it")
    parser.add_argument("--layout", choices=LAYOUTS, default="processes",
                        help="each actor its own process, or gateway + orchestrator + one engine in one "
                             "(`python -m automateos stack`)")
    args = parser.parse_args()
    if args.layout == "one-process" and args.engines != "1":
        parser.error("--layout one-process runs exactly one engine")
    warmup = args.warmup if args.warmup is not None else min(300, max(args.concurrency, args.runs // 10))
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"runs={args.runs} concurrency={args.concurrency} engine-concurrency={args.engine_concurrency} "
          f"mock-delay={args.mock_delay_ms:g} ms warmup={warmup} path={args.path} secured={args.secured} "
          f"layout={args.layout}")
    results = []
    for engines in (int(e) for e in args.engines.split(",")):
        stack = StackUnderTest(engines, args.engine_concurrency, args.mock_delay_ms, secured=args.secured,
                               layout=args.layout)
        try:
            stack.start()
            result = uvloop.run(drive(stack, args.runs, args.concurrency, warmup, args.path))
            print(result.report(), flush=True)
            results.append(result)
            if not args.no_floor and not args.secured and engines == int(args.engines.split(",")[0]):
                print(uvloop.run(raw_floor(stack.nats.url)), flush=True)
        except StackStartError as error:
            print(f"✗ {error}", file=sys.stderr)
            return 2
        finally:
            stack.stop()
    if len(results) > 1:
        base = results[0].runs / results[0].seconds
        for result in results[1:]:
            print(f"scaling: {result.engines} engines = {result.runs / result.seconds / base:.2f}× the steps/s of {results[0].engines}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
