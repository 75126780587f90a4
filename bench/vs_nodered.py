"""AutomateOS beside Node-RED, on the same work, on this machine, in one interleaved run: issue 19's table.

The work: a trigger, then an HTTP POST with a small JSON body to a loopback mock API (bench/mock_server.py), then
the caller learns the result.
  AutomateOS  as users run it: a real `automateos up` in a temporary directory (bench/up_stack.py): nats-server
              with nats.conf's accounts and one user per role, each actor on its own role, step results signed,
              the supervisor `up` itself included in CPU and RSS. Layout `processes`: orchestrator, one engine and
              gateway each in its own process; `one-process`: the three in one (`automateos up --layout one-process`).
              Every run is stored. Driven along each of bench/throughput.py's paths:
                webhook  POST to a saved, active webhook workflow (responseMode lastNode) until its reply
                ws       POST /v1/runs, then the run's WebSocket until its terminal event
                post     POST /v1/runs, the end learned from NATS ("POST alone": no WebSocket)
                bus      runs.requested published on NATS, the end learned from NATS (no gateway)
  Node-RED    its idiom for the same thing: a flow http in (POST /bench) → http request (POST to the same mock,
              keep-alive on like AutomateOS's pooled client unless --nodered-keepalive off) → http response;
              one run is one POST until its reply; nothing is stored. The peer of the webhook and ws rows.

Everything starts once and stays up (with --layout both, both stacks at once). Each system is warmed up; then the
stacks' and Node-RED's memory is read idle (after the warm-up settled). Then for every mock delay and concurrency
and each repeat, one cell of N runs per system (Node-RED and each layout × path) is run back to back, the order
rotated and reversed from one repeat to the next, so all see the same machine noise. Per cell: runs/s, latency
p50/p95, CPU per run of the system under test from /proc/<pid>/stat (AutomateOS: `up` and every process under
it; Node-RED: its node process) and the peak of its summed VmRSS. The mock and this load generator are left out
(their CPU is printed apart: they share the cores), and so is what other processes on the machine used meanwhile
("other load", in cores). Last, issue 19's table: target | measured | goal | met?, medians over the repeats.

Node-RED is installed from npm into a cache directory on first use (about a minute), its exact version pinned
there, and reused afterwards. Progress goes to stderr; Ctrl-C stops everything this started, by PID, and exits 130.

    python bench/vs_nodered.py                       # issue 19's table, processes layout (~6 min here)
    python bench/vs_nodered.py --quick               # a smoke run (~1-2 min)
    python bench/vs_nodered.py --layout both         # both layouts' cells interleaved with Node-RED's
    python bench/vs_nodered.py --concurrency 1,10,50 --delays 0,50 --paths ws   # the older sweep, POST + WebSocket
    python bench/vs_nodered.py --launch actors       # the actors started directly, without `up`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import NoReturn, Protocol

import aiohttp
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bus import free_port  # noqa: E402
from bus.server import ends_with_parent  # noqa: E402
from mock_server import CONTROL_DELAY  # noqa: E402
from throughput import (CLOCK_TICKS, LAYOUTS, PATHS, MockApi, Stack, StackStartError, StackUnderTest,  # noqa: E402
                        cpu_ticks, drive, layout_unavailable, measure, rss_by_name, stop_process)
from up_stack import UpStack, measured_checkout, up_layout_unavailable  # noqa: E402
from vs_nodered_report import (NODE_RED, Cell, Group, IssueTable, Memory, System, group_table, markdown,  # noqa: E402
                               other_load, plan, turn_order)

NODE_RED_SPEC = "node-red@4"
DEFAULT_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "automateos-bench" / "node-red"
INSTALLED_MARK = ".automateos-bench-installed"
BODY = b'{"text": "bench"}'  # what AutomateOS's step sends (throughput.bench_graph's json_body)


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
        with open(user_dir / "stderr.log", "wb") as errors:
            # Own session: a Ctrl-C reaches only the benchmark, which stops Node-RED by its PID.
            self.process = subprocess.Popen(["node", str(red), "--userDir", str(user_dir), "--settings",
                                             str(user_dir / "settings.js")], stdout=subprocess.DEVNULL, stderr=errors,
                                            start_new_session=True, preexec_fn=ends_with_parent())
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
        if self.process is not None:
            stop_process(self.process, "Node-RED", timeout=15)
        self.tmp.cleanup()

    def named_pids(self) -> dict[int, str]:
        return {self.process.pid: "node"} if self.process is not None else {}


async def drive_node_red(node_red: NodeRed, mock_pid: int, runs: int, concurrency: int, warmup: int) -> Cell:
    """N POSTs to the flow with C in flight, measured as throughput.drive measures AutomateOS."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency * 2)) as session:

        async def one() -> str:
            async with session.post(node_red.url, data=BODY, headers={"Content-Type": "application/json"}) as response:
                await response.read()
                return "succeeded" if 200 <= response.status < 300 else f"http {response.status}"

        result = await measure(one, runs, concurrency, warmup, node_red.named_pids(), [os.getpid(), mock_pid])
    return Cell.of(result)


class RunningStack(Stack, Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


class UnderTest:
    """Everything the comparison started: the stacks (by layout), Node-RED and the one mock they all call."""

    def __init__(self, mock: MockApi, stacks: dict[str, RunningStack], node_red: NodeRed) -> None:
        self.mock, self.stacks, self.node_red = mock, stacks, node_red

    def ours(self) -> list[int]:
        """Every PID of the benchmark's: what "other load" leaves out."""
        pids = [pid for stack in self.stacks.values() for pid in stack.named_pids()]
        return [*pids, *self.node_red.named_pids(), self.mock.process.pid, os.getpid()]

    async def run(self, system: System, runs: int, concurrency: int, warmup: int) -> Cell:
        if system.layout is None:
            return await drive_node_red(self.node_red, self.mock.process.pid, runs, concurrency, warmup)
        assert system.path is not None
        return Cell.of(await drive(self.stacks[system.layout], runs, concurrency, warmup, system.path))


async def set_mock_delay(mock_port: int, delay_ms: float) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.put(f"http://127.0.0.1:{mock_port}{CONTROL_DELAY}?ms={delay_ms:g}") as response:
            assert response.status == 204, await response.text()


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def warm_up(under_test: UnderTest, groups: list[Group], runs: int) -> None:
    """Each system along every path it will be measured on, `runs` runs at c=10, instant mock."""
    await set_mock_delay(under_test.mock.port, 0)
    systems = list(dict.fromkeys(system for group in groups for system in group.systems))
    for system in systems:
        _say(f"warming up {system.label(True)} ({runs} runs, c=10) …")
        await under_test.run(system, runs, 10, 0)


async def settle(names: dict[int, str], limit_s: float = 15.0) -> None:
    """Until the processes use under 2 % of a core over a second (the warm-up's work drained), at most `limit_s`."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = sum(cpu_ticks(pid) for pid in names)
        await asyncio.sleep(1.0)
        if (sum(cpu_ticks(pid) for pid in names) - before) / CLOCK_TICKS < 0.02:
            return


async def idle_memory(under_test: UnderTest) -> dict[str, Memory]:
    """Each system's summed VmRSS once it has settled after the warm-up: layouts by name, and Node-RED."""
    owners: dict[str, dict[int, str]] = {layout: stack.named_pids() for layout, stack in under_test.stacks.items()}
    owners[NODE_RED.label(False)] = under_test.node_red.named_pids()
    memory = {}
    for owner, names in owners.items():
        await settle(names)
        by_process = rss_by_name(names)
        memory[owner] = Memory(idle_mb=sum(by_process.values()), idle_by_process=by_process)
    return memory


async def run_group(under_test: UnderTest, group: Group, repeats: int, first_turn: int) -> None:
    """Every system's cells of one group, `repeats` times, in turn_order."""
    await set_mock_delay(under_test.mock.port, group.delay)
    group.cells = {system: [] for system in group.systems}
    for repeat in range(repeats):
        for system in turn_order(group.systems, first_turn + repeat):
            _say(f"delay {group.delay:g} ms, c={group.concurrency}, repeat {repeat + 1}/{repeats}: "
                 f"{system.label(True)}, {group.runs} runs (+{group.warmup} warm-up) …")
            background = Background(under_test.ours())
            cell = await under_test.run(system, group.runs, group.concurrency, group.warmup)
            cell.background_cores = background.cores()
            group.cells[system].append(cell)


async def compare(args: argparse.Namespace, under_test: UnderTest, groups: list[Group]) -> dict[str, Memory]:
    """Warm-up, idle memory, then every group; returns each system's memory (peaks from the c=50 cells)."""
    await warm_up(under_test, groups, 60 if args.quick else 300)
    memory = await idle_memory(under_test)
    turn = 0
    for group in groups:
        await run_group(under_test, group, args.repeats, turn)
        turn += args.repeats
        print("\n".join(group_table(group, len(args.layouts) > 1)), flush=True)
        if group.concurrency == 50:
            for system, cells in group.cells.items():
                for cell in cells:
                    memory[system.layout or NODE_RED.label(False)].saw(cell)
    return memory


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


def describe(args: argparse.Namespace, stacks: dict[str, RunningStack]) -> str:
    """What AutomateOS was, for the printout."""
    secured = ("nats.conf's accounts and one NATS user per role, each actor on its own role, step results signed "
               "(as `automateos up` runs it)")
    lines = []
    for layout, stack in stacks.items():
        names = ", ".join(stack.named_pids().values())
        how = "a real `automateos up`" if args.launch == "up" else "the actors started directly, no `up` supervisor"
        lines.append(f"AutomateOS, {layout} layout: {how}; processes measured: {names}")
    return "\n".join([*lines, f"  secured: {secured}; 1 engine, 64 steps at once",
                      f"  code: {measured_checkout()}"])


def print_summary(args: argparse.Namespace, groups: list[Group], memory: dict[str, Memory], header: str) -> None:
    delay = args.delays[0]
    median_load, largest_load = other_load(groups)
    print(f"\n{header}")
    print(f"issue 19's targets, mock delay {delay:g} ms; medians of {args.repeats} repeat(s); ratios are AutomateOS "
          f"/ Node-RED except the CPU row (POST + WebSocket / POST alone); other load during the cells: median "
          f"{median_load:.2f}, max {largest_load:.2f} cores of {os.cpu_count()}")
    for layout in args.layouts:
        print(f"\nlayout: {layout}\n")
        print("\n".join(markdown(IssueTable(groups, memory, layout, delay).rows())), flush=True)
    if largest_load >= 0.25:
        print(f"\nnote: other processes kept up to {largest_load:.2f} cores busy during some cells: throughput and "
              "latency there are lower than on a quiet machine (CPU per run less so)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layout", choices=[*LAYOUTS, "both"], default="processes",
                        help="AutomateOS's layout; both: both stacks, their cells interleaved with Node-RED's")
    parser.add_argument("--launch", choices=("up", "actors"), default="up",
                        help="up: a real `automateos up` (default); actors: the actors started directly, secured "
                             "alike, without the `up` supervisor (left out of CPU and RSS)")
    parser.add_argument("--concurrency", type=_int_list, default=[1, 50], help="runs in flight, comma-separated")
    parser.add_argument("--delays", type=_float_list, default=[0.0],
                        help="the mock API's reply delay in ms, comma-separated (the issue's table: the first)")
    parser.add_argument("--paths", type=_path_list, default=None,
                        help=f"AutomateOS paths per group, from {','.join(PATHS)} (default: all at c=50, the webhook "
                             "elsewhere)")
    parser.add_argument("--repeats", type=int, default=5, help="cells per system for each delay and concurrency")
    parser.add_argument("--runs", type=int, default=0, help="runs per cell (default: 2,000 at c=50, 500 at c=1)")
    parser.add_argument("--quick", action="store_true", help="a third of the runs and one repeat: a smoke run")
    parser.add_argument("--nodered-dir", type=Path, default=DEFAULT_DIR, help=f"where Node-RED is installed ({DEFAULT_DIR})")
    parser.add_argument("--nodered-keepalive", choices=("on", "off"), default="on",
                        help="the http request node's keep-alive (off is its editor default; AutomateOS pools)")
    args = parser.parse_args()
    args.layouts = list(LAYOUTS) if args.layout == "both" else [args.layout]
    if args.quick:
        args.repeats = 1
    return args


def _path_list(text: str) -> list[str]:
    paths = [part for part in text.split(",") if part]
    unknown = [path for path in paths if path not in PATHS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown path(s) {', '.join(unknown)}: choose from {', '.join(PATHS)}")
    return paths


def layouts_problem(args: argparse.Namespace) -> str | None:
    """Why a layout asked for cannot start in this checkout (checked before anything starts), or None."""
    check = up_layout_unavailable if args.launch == "up" else layout_unavailable
    for layout in args.layouts:
        reason = check(layout)
        if reason:
            return reason
    return None


def new_stack(args: argparse.Namespace, layout: str, mock: MockApi) -> RunningStack:
    if args.launch == "up":
        return UpStack(layout, mock)
    return StackUnderTest(1, 64, 0, secured=True, layout=layout, mock=mock)


def run(args: argparse.Namespace, started: list[Callable[[], None]]) -> None:
    """Starts everything (each stop function into `started` before its start), compares, prints."""
    version = ensure_node_red(args.nodered_dir)
    header = (f"date: {datetime.now().astimezone().isoformat(timespec='seconds')}\n{machine_info(version)}\n"
              "work: trigger → HTTP POST (JSON) to a loopback mock → result to the caller; Node-RED: http in → http "
              f"request (keep-alive {args.nodered_keepalive}) → http response")
    mock = MockApi.start(0)
    started.append(mock.stop)
    stacks: dict[str, RunningStack] = {}
    for layout in args.layouts:
        _say(f"starting AutomateOS, {layout} layout ({'automateos up' if args.launch == 'up' else 'the actors'}) …")
        stacks[layout] = new_stack(args, layout, mock)
        started.append(stacks[layout].stop)
        stacks[layout].start()
    _say("starting Node-RED …")
    node_red = NodeRed(args.nodered_dir, f"http://127.0.0.1:{mock.port}/hook", args.nodered_keepalive == "on")
    started.append(node_red.stop)
    node_red.start()
    header += "\n" + describe(args, stacks)
    print(header, flush=True)
    groups = plan(args.delays, args.concurrency, args.paths, args.layouts, args.runs, args.quick)
    began = time.monotonic()
    memory = uvloop.run(compare(args, UnderTest(mock, stacks, node_red), groups))
    print_summary(args, groups, memory, header)
    _say(f"done in {(time.monotonic() - began) / 60:.1f} min after start-up")


def _interrupted(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    problem = layouts_problem(args)
    if problem:
        print(f"✗ {problem}", file=sys.stderr)
        return 2
    # Ctrl-C even when started in the background of a script (which starts it with SIGINT ignored), and `kill`.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupted)
    started: list[Callable[[], None]] = []
    try:
        try:
            run(args, started)
        finally:
            # A second Ctrl-C must not cut the shutdown short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            for stop in reversed(started):
                stop()
    except KeyboardInterrupt:
        print("\ninterrupted; everything this started (AutomateOS, Node-RED, the mock) was stopped", file=sys.stderr)
        return 130
    except StackStartError as error:
        print(f"✗ {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
