"""The fault suite: a burst of runs while processes are SIGKILLed, one after another, and restarted.

The stack is the one `automateos up` runs (automateos/up.py's `Stack`: the nats-server(s) with their users, two
engines, the orchestrator, the gateway), and its supervisor is what restarts each killed process. Meanwhile a
client posts N runs of Start → HTTP (a POST to a local mock) over REST, each with an Idempotency-Key, and retries
a post that fails (connection refused while the gateway is down, a 503 while NATS is) with the same key, as a
careful client would. In turn, it kills an engine, the orchestrator, the gateway, nats-server (on `--cluster 3`:
the node leading the run log's stream, which also carries the most leader traffic), and the other engine.

It then checks that every accepted run succeeded, that each has exactly one terminal state in its log of
changes, and that the mock received its call; it prints how many calls were repeats (a step redelivered after its
worker died mid-call: at-least-once, made safe by the Idempotency-Key the step sends). Exit status 0 only if
nothing was lost or stuck.

    python bench/faults.py                      # 2,000 runs, one nats-server (make faults)
    python bench/faults.py --cluster 3          # on three nodes with R3, killing the stream leader
    python bench/faults.py --runs 300 --rate 30  # the short version `make test` runs
    python bench/faults.py --no-faults --sync always   # a durability mode's cost, nothing killed
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import aiohttp
from aiohttp import web

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from automateos.settings import REPO_ROOT, Settings  # noqa: E402
from automateos.up import Stack  # noqa: E402
from bus import NatsLogin, free_port, new_master_key, subjects  # noqa: E402
from bus.connection import connect  # noqa: E402
from bus.jetstream import LeaderSafeJetStream  # noqa: E402
from bus.permissions import ROLES, new_password  # noqa: E402
from bus.run_log import read_changes  # noqa: E402
from schemas import RunStatusEvent  # noqa: E402
from schemas.auth import new_token  # noqa: E402

TERMINAL = {"succeeded", "failed", "cancelled"}


class Mock:
    """The API the runs call: counts the calls per Idempotency-Key (one key per run's step)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        async def answer(request: web.Request) -> web.Response:
            await request.read()
            self.calls[request.headers.get("Idempotency-Key", "?")] += 1
            return web.Response(status=204)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", answer)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def graph(url: str) -> dict[str, object]:
    return {"meta": {"name": "Fault suite"},
            "nodes": [{"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}},
                      {"id": "call", "type": "http", "position": {"x": 200, "y": 0},
                       "data": {"label": "Call", "config": {"method": "POST", "url": url, "json_body": {"n": 1}}}}],
            "edges": [{"id": "e1", "source": "start", "target": "call"}]}


def nats_config(data_dir: Path, sync: str) -> Path:
    """nats.conf, with another fsync interval if asked (the durability modes of docs/RELIABILITY.md)."""
    if sync == "2m":
        return REPO_ROOT / "nats.conf"
    conf = data_dir / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "nats-auth.conf", conf / "nats-auth.conf")
    text = (REPO_ROOT / "nats.conf").read_text().replace('sync_interval: "2m"', f"sync_interval: {sync}")
    (conf / "nats.conf").write_text(text)
    return conf / "nats.conf"


class Supervised:
    """`up`'s stack, supervised from a thread as `up` does (restarting what dies), with its output in a file."""

    def __init__(self, args: argparse.Namespace, data_dir: Path) -> None:
        passwords = {role: new_password() for role in ROLES}
        self.settings = dataclasses.replace(
            Settings(), port=free_port(), nats_port=free_port(), route_port=free_port(), data_dir=data_dir,
            cluster_size=args.cluster, master_key=new_master_key(), admin_token=new_token(),
            nats_passwords=passwords, nats_conf=nats_config(data_dir, args.sync),
        )
        if args.cluster:
            # Consecutive ports from the free ones found: the cluster's nodes take nats_port, +1, +2.
            self.settings = dataclasses.replace(self.settings, nats_port=_free_run(args.cluster),
                                                route_port=_free_run(args.cluster))
        self.log = data_dir / "stack.log"
        os.environ.update({"AUTOMATEOS_LOG_LEVEL": "WARNING", "AUTOMATEOS_STEP_ACK_WAIT": str(args.ack_wait),
                           # The mock listens on loopback; the cluster profile would refuse it.
                           "AUTOMATEOS_BLOCK_PRIVATE_NETWORKS": "false"})
        self.stack = Stack(self.settings, engines=2, log=self.log)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="supervisor", daemon=True)

    def start(self) -> None:
        self.stack.start()
        self._thread.start()

    def _supervise(self) -> None:
        while not self._stop.wait(0.2):
            self.stack.check_children()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.stack.stop()

    def pid_of(self, name: str) -> int:
        child = self.stack.children[name]
        assert child.process is not None
        return child.process.pid


def _free_run(size: int) -> int:
    for _ in range(200):
        base = free_port()
        if all(_port_free(base + i) for i in range(size)):
            return base
    raise RuntimeError("no run of free ports found")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@dataclasses.dataclass
class Burst:
    accepted: dict[str, str] = dataclasses.field(default_factory=dict)  # idempotency key -> run id
    retries: int = 0
    latencies: list[float] = dataclasses.field(default_factory=list)


async def post_until_accepted(http: aiohttp.ClientSession, url: str, body: Mapping[str, object], key: str,
                              burst: Burst, deadline: float) -> None:
    """POST /v1/runs with one Idempotency-Key until the gateway takes it (201, or 200 for a repeat)."""
    started = time.monotonic()
    while True:
        try:
            async with http.post(url, json=body, headers={"Idempotency-Key": key},
                                 timeout=aiohttp.ClientTimeout(total=15)) as response:
                if response.status in (200, 201):
                    burst.accepted[key] = (await response.json())["runId"]
                    burst.latencies.append(time.monotonic() - started)
                    return
                if response.status < 500 and response.status != 429:
                    raise RuntimeError(f"run {key} refused: HTTP {response.status} {await response.text()}")
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass  # the gateway is down or restarting
        burst.retries += 1
        if time.monotonic() > deadline:
            raise RuntimeError(f"run {key} was never accepted")
        await asyncio.sleep(0.25)


async def stream_leader(nats_url: str, admin: NatsLogin, stream: str) -> str | None:
    nc = await connect(nats_url, "faults", give_up_after=10, login=admin)
    try:
        info = await LeaderSafeJetStream(nc).stream_info(stream)
        return info.cluster.leader if info.cluster else None
    finally:
        await nc.close()


KILL_ORDER = ["engine-1", "orchestrator", "gateway", "nats", "engine-2"]


async def kill_in_turn(supervised: Supervised, burst: Burst, args: argparse.Namespace, kills: list[str]) -> None:
    admin = NatsLogin("admin", supervised.settings.nats_passwords["admin"])
    started = time.monotonic()
    for index, target in enumerate(KILL_ORDER):
        # Spread over the burst, which the posting rate makes last runs / rate seconds.
        due = started + args.runs / args.rate * (index + 1) / (len(KILL_ORDER) + 1)
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        if target == "nats":
            nodes = supervised.stack.nats
            name = None
            if len(nodes) > 1:
                name = await stream_leader(",".join(n.url for n in nodes), admin, subjects.EVENTS_STREAM)
            node = next((n for n in nodes if n.cluster is not None and n.cluster.name == name), nodes[0])
            assert node.process is not None
            pid, label = node.process.pid, f"nats-server {node.url}" + (f" (leader {name} of RUN_EVENTS)" if name else "")
        else:
            pid, label = supervised.pid_of(target), target
        os.kill(pid, signal.SIGKILL)
        kills.append(label)
        print(f"  ⚡ SIGKILL {label} after {len(burst.accepted)} runs accepted", flush=True)


async def settle(http: aiohttp.ClientSession, base: str, run_ids: list[str], deadline: float) -> dict[str, str]:
    """Each run's status once every one is terminal (or the deadline passes)."""
    statuses: dict[str, str] = {}
    pending = list(run_ids)
    last_report = 0.0
    while pending and time.monotonic() < deadline:
        still: list[str] = []
        for chunk in range(0, len(pending), 50):
            async def status_of(run_id: str) -> None:
                try:
                    async with http.get(f"{base}/v1/runs/{run_id}", timeout=aiohttp.ClientTimeout(total=10)) as response:
                        if response.status == 200:
                            statuses[run_id] = (await response.json())["status"]
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                if statuses.get(run_id) not in TERMINAL:
                    still.append(run_id)

            await asyncio.gather(*(status_of(run_id) for run_id in pending[chunk:chunk + 50]))
        pending = still
        if pending and time.monotonic() - last_report > 5:
            print(f"  … {len(run_ids) - len(pending)}/{len(run_ids)} runs finished", flush=True)
            last_report = time.monotonic()
        if pending:
            await asyncio.sleep(1)
    return statuses


async def terminal_states(nats_url: str, admin: NatsLogin, run_ids: list[str]) -> dict[str, int]:
    """How many terminal run-status events each run's log of changes holds (exactly one is right)."""
    nc = await connect(nats_url, "faults-check", give_up_after=10, login=admin)
    counts: dict[str, int] = {}
    try:
        for chunk in range(0, len(run_ids), 100):
            async def count(run_id: str) -> None:
                stored = await read_changes(nc, run_id)
                counts[run_id] = sum(1 for _, change in stored.changes for event in change.events
                                     if isinstance(event, RunStatusEvent) and event.status in TERMINAL)

            await asyncio.gather(*(count(run_id) for run_id in run_ids[chunk:chunk + 100]))
    finally:
        await nc.close()
    return counts


async def drive(args: argparse.Namespace, supervised: Supervised, mock: Mock) -> int:
    settings = supervised.settings
    base = settings.gateway_url
    body = {"graph": graph(f"http://127.0.0.1:{mock.port}/hook")}
    burst, kills = Burst(), list[str]()
    started = time.monotonic()
    deadline = started + args.timeout
    headers = {"Authorization": f"Bearer {settings.admin_token}"}
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(args.runs):
            queue.put_nowait(n)

        async def lane() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                # Paced: run n is posted no sooner than n / rate seconds in, so the kills fall inside the burst.
                await asyncio.sleep(max(0.0, started + n / args.rate - time.monotonic()))
                await post_until_accepted(http, f"{base}/v1/runs", body, f"fault-{args.tag}-{n}", burst, deadline)

        async def progress() -> None:
            while True:
                await asyncio.sleep(5)
                print(f"  … {len(burst.accepted)}/{args.runs} runs accepted ({burst.retries} retried posts)", flush=True)

        reporter = asyncio.create_task(progress())
        killer = None if args.no_faults else asyncio.create_task(kill_in_turn(supervised, burst, args, kills))
        try:
            await asyncio.gather(*(lane() for _ in range(args.concurrency)))
            if killer is not None:
                await killer
        finally:
            reporter.cancel()
        accepted_s = time.monotonic() - started
        run_ids = list(burst.accepted.values())
        statuses = await settle(http, base, run_ids, deadline)
        finished_s = time.monotonic() - started
    admin = NatsLogin("admin", settings.nats_passwords["admin"])
    nats_url = ",".join(node.url for node in supervised.stack.nats)
    terminals = await terminal_states(nats_url, admin, run_ids)

    by_status = Counter(statuses.get(run_id, "unknown") for run_id in run_ids)
    not_succeeded = [run_id for run_id in run_ids if statuses.get(run_id) != "succeeded"]
    wrong_terminals = [run_id for run_id in run_ids if terminals.get(run_id) != 1]
    uncalled = [run_id for run_id in run_ids if mock.calls[f"{run_id}-call"] == 0]
    duplicates = sum(count - 1 for key, count in mock.calls.items() if count > 1)
    mode = f"{args.cluster} nodes, R3" if args.cluster else "1 nats-server, R1"
    print(f"\n{args.runs} runs on {mode}, sync_interval {args.sync}, {args.concurrency} at once; "
          f"killed: {', '.join(kills) or 'nothing'}")
    print(f"  accepted {len(run_ids)} in {accepted_s:.1f} s ({burst.retries} posts retried with the same key); "
          f"all finished after {finished_s:.1f} s ({len(run_ids) / finished_s:.0f} runs/s overall)")
    if burst.latencies:
        print(f"  POST → 201: median {statistics.median(burst.latencies) * 1000:.0f} ms, "
              f"max {max(burst.latencies):.1f} s")
    print(f"  statuses: {dict(by_status)}")
    print(f"  exactly one terminal state: {len(run_ids) - len(wrong_terminals)}/{len(run_ids)}")
    print(f"  HTTP call made: {len(run_ids) - len(uncalled)}/{len(run_ids)}; duplicate calls: {duplicates}")
    ok = len(run_ids) == args.runs and not not_succeeded and not wrong_terminals and not uncalled
    for label, bad in (("not succeeded", not_succeeded), ("terminal states ≠ 1", wrong_terminals),
                       ("never called", uncalled)):
        if bad:
            print(f"  ✗ {label}: {len(bad)}, e.g. {bad[:5]}")
    print("✓ no run lost, stuck or doubled" if ok else "✗ FAILED", flush=True)
    if not ok:
        print(f"  the stack's log: {supervised.log}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--cluster", type=int, default=0, metavar="N", help="N local nats-servers, R3 (default: one)")
    parser.add_argument("--sync", default="2m", help='nats-server sync_interval: "2m" (the default) or "always"')
    parser.add_argument("--no-faults", action="store_true", help="kill nothing: measure the mode's cost")
    parser.add_argument("--rate", type=float, default=40.0,
                        help="runs posted per second: the burst lasts runs / rate seconds, and the kills fall in it "
                             "(--no-faults: as fast as they are accepted)")
    parser.add_argument("--ack-wait", type=float, default=5.0,
                        help="seconds before a step a dead worker held is redelivered (AUTOMATEOS_STEP_ACK_WAIT)")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (its path is printed)")
    args = parser.parse_args()
    if args.cluster and args.cluster < 3:
        parser.error("--cluster needs 3 or more nodes")
    if args.no_faults:
        args.rate = 1e9
    args.tag = os.urandom(3).hex()
    data_dir = Path(tempfile.mkdtemp(prefix="automateos-faults-"))
    supervised = Supervised(args, data_dir)
    mock = Mock()
    interrupted = False

    async def run() -> int:
        await mock.start()
        try:
            return await drive(args, supervised, mock)
        finally:
            await mock.stop()

    try:
        print(f"starting the stack ({'cluster of ' + str(args.cluster) if args.cluster else 'one nats-server'}; "
              f"log {supervised.log})", flush=True)
        supervised.start()
        return asyncio.run(run())
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted; stopping the stack", flush=True)
        return 130
    finally:
        supervised.stop()
        if args.keep or interrupted:
            print(f"data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
