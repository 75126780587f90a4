"""AutomateOS beside Node-RED, on the same work, on this machine, in one interleaved run.

The work: a trigger, then an HTTP POST with a small JSON body to a loopback mock API (bench/mock_server.py), then
the caller learns the result.
  AutomateOS  what a REST user does: POST /v1/runs, then the run's WebSocket until its terminal event
              (bench/throughput.py's `ws` path), on the stack `automateos up` starts: nats-server, orchestrator,
              one engine, gateway, each its own process; every run is stored.
  Node-RED    its idiom for the same thing: a flow http in (POST /bench) → http request (POST to the same mock,
              keep-alive on like AutomateOS's pooled client unless --nodered-keepalive off) → http response;
              one run is one POST until its reply; nothing is stored.

Both systems and the one mock start once and stay up. Each is warmed up, then for every mock delay and concurrency
and each repeat an AutomateOS cell and a Node-RED cell of N runs each are run back to back, alternating which goes
first, so both see the same machine noise. Per cell: runs/s, latency p50/p95 and CPU per run of the system under
test from /proc/<pid>/stat (AutomateOS: its actors and nats-server; Node-RED: its node process). The mock and this
load generator are left out of both (their CPU is printed apart: they share the cores).

Node-RED is installed from npm into a cache directory on first use (about a minute), its exact version pinned
there, and reused afterwards.

    python bench/vs_nodered.py                      # delays 0 and 50 ms × c = 1, 10, 50; 3 repeats (~4-5 min here)
    python bench/vs_nodered.py --quick              # a smoke run, under a minute here
    python bench/vs_nodered.py --concurrency 50 --delays 0 --repeats 5 --runs 2000
    python bench/vs_nodered.py --nodered-dir /tmp/node-red --nodered-keepalive off
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bus import free_port  # noqa: E402
from mock_server import CONTROL_DELAY  # noqa: E402
from throughput import CLOCK_TICKS, StackUnderTest, _progress, cpu_ticks, drive, in_lanes  # noqa: E402

NODE_RED_SPEC = "node-red@4"
DEFAULT_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "automateos-bench" / "node-red"
INSTALLED_MARK = ".automateos-bench-installed"
BODY = b'{"text": "bench"}'  # what AutomateOS's step sends (throughput.drive's json_body)
SYSTEMS = ("AutomateOS", "Node-RED")


@dataclass
class Cell:
    """One system's measured batch of runs."""

    runs: int
    seconds: float
    latencies_ms: list[float]
    cpu_ms: float  # the system under test
    failed: int
    load_cpu_ms: float  # this load generator and the mock: not the system under test
    cpu_by_process: dict[str, float] = field(default_factory=dict)
    background_cores: float = 0.0  # CPU that other processes on this machine used meanwhile, in cores

    @property
    def runs_per_s(self) -> float:
        return self.runs / self.seconds

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]

    @property
    def cpu_ms_per_run(self) -> float:
        return self.cpu_ms / self.runs

    @property
    def load_cpu_ms_per_run(self) -> float:
        return self.load_cpu_ms / self.runs


# -- Node-RED ------------------------------------------------------------------------------------------------------

def ensure_node_red(directory: Path) -> str:
    """Installs Node-RED into `directory` unless a finished install is there; returns its exact version."""
    package = directory / "node_modules" / "node-red" / "package.json"
    mark = directory / INSTALLED_MARK
    if not (mark.exists() and package.exists()):
        directory.mkdir(parents=True, exist_ok=True)
        print(f"installing {NODE_RED_SPEC} from npm into {directory} (once; later runs reuse it) …", file=sys.stderr,
              flush=True)
        began = time.monotonic()
        # --save-exact: the version found is written to package.json as is, so the install stays pinned to it.
        npm = subprocess.Popen(["npm", "install", "--no-audit", "--no-fund", "--save-exact", "--progress=true",
                                NODE_RED_SPEC], cwd=directory)
        try:
            while npm.poll() is None:
                try:
                    npm.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    print(f"  … npm install, {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
        except BaseException:
            npm.terminate()
            npm.wait()
            raise
        if npm.returncode != 0:
            raise SystemExit(f"npm install {NODE_RED_SPEC} failed with exit code {npm.returncode}")
        version = str(json.loads(package.read_text())["version"])
        mark.write_text(version + "\n")
        print(f"installed Node-RED {version} in {time.monotonic() - began:.0f} s (pinned in {directory / 'package.json'})",
              file=sys.stderr, flush=True)
    return str(json.loads(package.read_text())["version"])


class NodeRed:
    """Node-RED with one flow, http in POST /bench → http request (POST to the mock) → http response."""

    def __init__(self, directory: Path, mock_url: str, keepalive: bool) -> None:
        self.directory = directory
        self.mock_url = mock_url
        self.keepalive = keepalive
        self.tmp = tempfile.TemporaryDirectory(prefix="automateos-vs-nodered-")
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bench"

    def start(self) -> None:
        user_dir = Path(self.tmp.name)
        flow = [
            {"id": "bench-tab", "type": "tab", "label": "bench"},
            {"id": "in", "type": "http in", "z": "bench-tab", "url": "/bench", "method": "post", "wires": [["call"]]},
            # The incoming JSON body is msg.payload, an object: the http request node sends it as a JSON body.
            {"id": "call", "type": "http request", "z": "bench-tab", "method": "POST", "ret": "txt",
             "url": self.mock_url, "persist": self.keepalive, "wires": [["out"]]},
            {"id": "out", "type": "http response", "z": "bench-tab", "wires": []},
        ]
        (user_dir / "flows.json").write_text(json.dumps(flow))
        (user_dir / "settings.js").write_text(
            "module.exports = {\n"
            "  uiHost: '127.0.0.1',\n"
            f"  uiPort: {self.port},\n"
            "  flowFile: 'flows.json',\n"
            "  credentialSecret: false,\n"
            "  logging: { console: { level: 'warn', metrics: false, audit: false } },\n"
            "  diagnostics: { enabled: false },\n"
            "  telemetry: { enabled: false },\n"
            "  externalModules: { autoInstall: false, palette: { allowInstall: false } },\n"
            "  editorTheme: { projects: { enabled: false } },\n"
            "};\n"
        )
        red = self.directory / "node_modules" / "node-red" / "red.js"
        self.process = subprocess.Popen(["node", str(red), "--userDir", str(user_dir), "--settings",
                                         str(user_dir / "settings.js")],
                                        stdout=subprocess.DEVNULL, stderr=open(user_dir / "stderr.log", "wb"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (user_dir / "stderr.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"Node-RED exited with {self.process.returncode} while starting:\n{log}")
            try:
                request = urllib.request.Request(self.url, data=BODY, method="POST",
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=2) as response:
                    if 200 <= response.status < 300:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("Node-RED did not answer on /bench within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.tmp.cleanup()


async def drive_node_red(node_red: NodeRed, mock_pid: int, runs: int, concurrency: int, warmup: int) -> Cell:
    """N POSTs to the flow with C in flight, as throughput.drive does for AutomateOS."""
    assert node_red.process is not None
    latencies: list[float] = []
    failed = 0
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(measure: bool) -> None:
            nonlocal failed
            began = time.perf_counter()
            async with session.post(node_red.url, data=BODY, headers={"Content-Type": "application/json"}) as response:
                await response.read()
                ok = 200 <= response.status < 300
            if measure:
                latencies.append((time.perf_counter() - began) * 1000)
                failed += not ok

        async def batch(total: int, measure: bool) -> None:
            await in_lanes(total, concurrency, lambda: one(measure))

        await batch(warmup, measure=False)
        pid = node_red.process.pid
        before, load_before = cpu_ticks(pid), cpu_ticks(os.getpid()) + cpu_ticks(mock_pid)
        progress = asyncio.create_task(_progress(latencies, runs))
        started = time.perf_counter()
        try:
            await batch(runs, measure=True)
        finally:
            progress.cancel()
        seconds = time.perf_counter() - started
        cpu_ms = (cpu_ticks(pid) - before) * 1000 / CLOCK_TICKS
        load_ms = (cpu_ticks(os.getpid()) + cpu_ticks(mock_pid) - load_before) * 1000 / CLOCK_TICKS
    return Cell(runs, seconds, latencies, cpu_ms, failed, load_ms, {"node": cpu_ms})


async def drive_automateos(stack: StackUnderTest, runs: int, concurrency: int, warmup: int) -> Cell:
    result = await drive(stack, runs, concurrency, warmup, path="ws")
    return Cell(result.runs, result.seconds, result.latencies_ms, result.cpu_ms, result.failed, result.load_cpu_ms,
                result.cpu_by_process)


# -- the comparison ------------------------------------------------------------------------------------------------

def machine_busy_ticks() -> int:
    """All CPUs' busy time so far (user, nice, system, irq, softirq), in clock ticks."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[0] + fields[1] + fields[2] + fields[5] + fields[6]


class Background:
    """How much CPU processes other than the benchmark's used while a cell ran: the noise it ran in."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.began = (time.perf_counter(), machine_busy_ticks(), self._ours())

    def _ours(self) -> int:
        return sum(cpu_ticks(pid) for pid in self.pids)

    def cores(self) -> float:
        began, busy, ours = self.began
        others = (machine_busy_ticks() - busy) - (self._ours() - ours)
        return max(0.0, others / CLOCK_TICKS / (time.perf_counter() - began))


def default_runs(delay_ms: float, concurrency: int, quick: bool) -> int:
    """Runs per cell: about 6-12 s of AutomateOS work (the slower of the two here) per cell, a third with --quick."""
    if delay_ms:
        runs = {1: 180, 10: 750, 50: 1400}.get(concurrency, 28 * concurrency)
    else:
        runs = {1: 450, 10: 1000, 50: 1400}.get(concurrency, 28 * concurrency)
    return max(concurrency, runs // 3) if quick else runs


async def set_mock_delay(mock_port: int, delay_ms: float) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.put(f"http://127.0.0.1:{mock_port}{CONTROL_DELAY}?ms={delay_ms:g}") as response:
            assert response.status == 204, await response.text()


Key = tuple[float, int]


async def compare(args: argparse.Namespace, stack: StackUnderTest, node_red: NodeRed) -> dict[Key, dict[str, list[Cell]]]:
    assert stack.mock is not None
    mock_pid = stack.mock.pid
    warmup_runs = 60 if args.quick else 300
    print(f"warming up both ({warmup_runs} runs each, c=10) …", file=sys.stderr, flush=True)
    await set_mock_delay(stack.mock_port, 0)
    await drive_automateos(stack, warmup_runs, 10, 0)
    await drive_node_red(node_red, mock_pid, warmup_runs, 10, 0)
    table: dict[Key, dict[str, list[Cell]]] = {}
    assert node_red.process is not None
    ours = [*stack.pids(), node_red.process.pid, mock_pid, os.getpid()]
    turn = 0
    for delay in args.delays:
        await set_mock_delay(stack.mock_port, delay)
        for concurrency in args.concurrency:
            runs = args.runs or default_runs(delay, concurrency, args.quick)
            warmup = max(concurrency, runs // 10)
            cells: dict[str, list[Cell]] = {system: [] for system in SYSTEMS}
            for repeat in range(args.repeats):
                order = SYSTEMS if turn % 2 == 0 else SYSTEMS[::-1]
                turn += 1
                for system in order:
                    print(f"delay {delay:g} ms, c={concurrency}, repeat {repeat + 1}/{args.repeats}: {system}, "
                          f"{runs} runs (+{warmup} warm-up) …", file=sys.stderr, flush=True)
                    background = Background(ours)
                    if system == "AutomateOS":
                        cell = await drive_automateos(stack, runs, concurrency, warmup)
                    else:
                        cell = await drive_node_red(node_red, mock_pid, runs, concurrency, warmup)
                    cell.background_cores = background.cores()
                    cells[system].append(cell)
            table[(delay, concurrency)] = cells
            print_cell_table(delay, concurrency, runs, cells)
    return table


def _median(cells: list[Cell], attribute: str) -> float:
    return statistics.median(float(getattr(cell, attribute)) for cell in cells)


def print_cell_table(delay: float, concurrency: int, runs: int, cells: dict[str, list[Cell]]) -> None:
    repeats = len(cells[SYSTEMS[0]])
    print(f"\nmock delay {delay:g} ms, concurrency {concurrency}: {runs} runs per cell, "
          f"median of {repeats} repeat{'s' if repeats > 1 else ''}")
    print(f"  {'':<11} {'runs/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms/run':>11} {'failed':>7}   "
          f"{'client+mock CPU ms/run':>22} {'other load, cores':>18}")
    for system in SYSTEMS:
        ours = cells[system]
        print(f"  {system:<11} {_median(ours, 'runs_per_s'):>8.1f} {_median(ours, 'p50_ms'):>8.1f} "
              f"{_median(ours, 'p95_ms'):>8.1f} {_median(ours, 'cpu_ms_per_run'):>11.2f} "
              f"{sum(cell.failed for cell in ours):>7}   {_median(ours, 'load_cpu_ms_per_run'):>22.2f} "
              f"{_median(ours, 'background_cores'):>18.2f}")
    a, n = cells["AutomateOS"], cells["Node-RED"]
    by_process: dict[str, list[float]] = {}
    for cell in a:
        for name, ms in cell.cpu_by_process.items():
            by_process.setdefault(name, []).append(ms / cell.runs)
    print(f"  AutomateOS / Node-RED: throughput ×{_ratio(a, n, 'runs_per_s'):.2f}, "
          f"CPU per run ×{_ratio(a, n, 'cpu_ms_per_run'):.2f}, p50 ×{_ratio(a, n, 'p50_ms'):.2f}")
    print("  AutomateOS CPU ms/run by process: "
          + "  ".join(f"{name} {statistics.median(values):.2f}" for name, values in by_process.items()), flush=True)


def _ratio(ours: list[Cell], theirs: list[Cell], attribute: str) -> float:
    return _median(ours, attribute) / max(_median(theirs, attribute), 1e-9)


def print_summary(table: dict[Key, dict[str, list[Cell]]]) -> None:
    print("\nsummary (medians over repeats; × = AutomateOS / Node-RED; other = CPU cores other processes used meanwhile)")
    print(f"{'delay':>5} {'c':>3} | {'runs/s AOS':>10} {'N-RED':>7} {'×':>5} | {'CPU ms/run AOS':>14} {'N-RED':>6} "
          f"{'×':>5} | {'p50 ms AOS':>10} {'N-RED':>6} | {'p95 ms AOS':>10} {'N-RED':>6} | {'other':>5}")
    noisy = 0.0
    for (delay, concurrency), cells in table.items():
        a, n = cells["AutomateOS"], cells["Node-RED"]
        other = statistics.median(cell.background_cores for cell in [*a, *n])
        noisy = max(noisy, other)
        print(f"{delay:>5g} {concurrency:>3} | {_median(a, 'runs_per_s'):>10.1f} {_median(n, 'runs_per_s'):>7.1f} "
              f"{_ratio(a, n, 'runs_per_s'):>5.2f} | {_median(a, 'cpu_ms_per_run'):>14.2f} "
              f"{_median(n, 'cpu_ms_per_run'):>6.2f} {_ratio(a, n, 'cpu_ms_per_run'):>5.2f} | "
              f"{_median(a, 'p50_ms'):>10.1f} {_median(n, 'p50_ms'):>6.1f} | "
              f"{_median(a, 'p95_ms'):>10.1f} {_median(n, 'p95_ms'):>6.1f} | {other:>5.2f}")
    failures = sum(cell.failed for cells in table.values() for runs in cells.values() for cell in runs)
    if failures:
        print(f"\n{failures} runs failed: the figures above are not comparable")
    if noisy >= 0.25:
        print(f"\nnote: other processes kept up to {noisy:.2f} of the {os.cpu_count()} cores busy during some cells; "
              "throughput and latency there are lower than on a quiet machine (CPU per run less so)")


def machine_info(node_red_version: str) -> str:
    model = platform.processor() or "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return (f"machine: {model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, node {node}, Node-RED {node_red_version}")


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def _float_list(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=_int_list, default=[1, 10, 50], help="runs in flight, comma-separated")
    parser.add_argument("--delays", type=_float_list, default=[0.0, 50.0],
                        help="the mock API's reply delay in ms, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="cells per system for each delay and concurrency")
    parser.add_argument("--runs", type=int, default=0, help="runs per cell (default: by delay and concurrency)")
    parser.add_argument("--quick", action="store_true", help="a third of the runs and one repeat: a smoke run")
    parser.add_argument("--nodered-dir", type=Path, default=DEFAULT_DIR, help=f"where Node-RED is installed ({DEFAULT_DIR})")
    parser.add_argument("--nodered-keepalive", choices=("on", "off"), default="on",
                        help="the http request node's keep-alive (off is its editor default; AutomateOS pools)")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 1
    stack: StackUnderTest | None = None
    node_red: NodeRed | None = None
    try:
        try:
            version = ensure_node_red(args.nodered_dir)
            print(machine_info(version))
            print("work: trigger → HTTP POST (JSON) to a loopback mock → result to the caller; AutomateOS: POST /v1/runs "
                  "+ WebSocket, 1 engine; Node-RED: http in → http request "
                  f"(keep-alive {args.nodered_keepalive}) → http response", flush=True)
            print("starting AutomateOS (nats-server, orchestrator, engine, gateway) and Node-RED …", file=sys.stderr,
                  flush=True)
            stack = StackUnderTest(engines=1, engine_concurrency=64, mock_delay_ms=0)
            stack.start()
            node_red = NodeRed(args.nodered_dir, f"http://127.0.0.1:{stack.mock_port}/hook", args.nodered_keepalive == "on")
            node_red.start()
            table = uvloop.run(compare(args, stack, node_red))
            print_summary(table)
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
            if node_red is not None:
                node_red.stop()
            if stack is not None:
                stack.stop()
    except KeyboardInterrupt:
        print("\ninterrupted; AutomateOS, Node-RED and the mock were stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
