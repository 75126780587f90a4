"""Does cost grow with the work? Listing runs at 1k / 10k / 100k stored runs, through the real gateway.

Starts nats-server, the gateway (its own process, as `automateos up` does), then stores N runs the way the
orchestrator does (a record in the `runs` bucket and its summary in the run index, pipelined), and times
`GET /v1/runs?limit=50` unfiltered and filtered (status=failed, one run in ten), medians of 20 requests, with the
gateway's RSS before and after.

    python bench/growth.py                 # 1k, 10k, 100k
    python bench/growth.py --sizes 1000,10000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bus import Bus, EmbeddedNats, free_port, new_master_key  # noqa: E402
from bus.run_index import index_subject  # noqa: E402
from schemas import Dag, RunRecord  # noqa: E402

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="stored runs at each measurement")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="automateos-growth-") as tmp:
        nats = EmbeddedNats(Path(tmp) / "nats", port=free_port()).start()
        port = free_port()
        env = {**os.environ, "NATS_URL": nats.url, "AUTOMATEOS_LOG_LEVEL": "WARNING",
               "AUTOMATEOS_MASTER_KEY": new_master_key(), "AUTOMATEOS_ADMIN_TOKEN": TOKEN, "AUTOMATEOS_PORT": str(port)}
        subprocess.run([sys.executable, "-m", "automateos", "setup"], env=env, check=True, stdout=subprocess.DEVNULL)
        gateway = subprocess.Popen([sys.executable, "-m", "automateos", "gateway"], env=env)
        try:
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
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        finally:
            gateway.terminate()
            gateway.wait(timeout=20)
            nats.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
