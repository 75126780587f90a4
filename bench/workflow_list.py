"""Listing saved workflows under load: N large workflows, C concurrent `GET /v1/workflows`, the gateway in its own
process (as `automateos gateway` runs it) so its memory is its own.

Prints the median and p95 latency of a list, the median and worst `/healthz` latency while the lists run (how
much the lists stall the gateway's event loop), and the gateway's resident memory before and at its peak.

    python bench/workflow_list.py --workflows 60 --nodes 400 --concurrency 20 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bus import EmbeddedNats, free_port, set_up_bus  # noqa: E402
from tests.conftest import TEST_BUS_SETTINGS  # noqa: E402
from tests.support.graphs import edge, graph, http  # noqa: E402
from tests.support.stack import ADMIN, spawn_actor  # noqa: E402


def large_graph(nodes: int, index: int) -> dict[str, Any]:
    """Start → `nodes` HTTP steps in a chain, each with a header and a JSON body: a few hundred bytes a node."""
    steps = [http(f"call-{n}", f"https://api.example.com/{index}/items/{n}", method="POST",
                  headers={"X-Trace": f"{index}-{n}"}, body={"item": n, "note": "x" * 120}) for n in range(nodes)]
    chain = [edge("start", "call-0"), *(edge(f"call-{n}", f"call-{n + 1}") for n in range(nodes - 1))]
    return graph(*steps, edges=chain, name=f"Large {index}")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(workflows: int, nodes: int, concurrency: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedNats(Path(tmp) / "nats", port=free_port()) as server:
        await set_up_bus(server.url, TEST_BUS_SETTINGS)
        port = free_port()
        gateway = spawn_actor("gateway", server.url, "--host", "127.0.0.1", "--port", str(port),
                              log_path=Path(tmp) / "gateway.log")
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession(headers=ADMIN) as http_client:
                await _until_ready(http_client, base)
                for index in range(workflows):
                    async with http_client.post(f"{base}/v1/workflows",
                                                json={"name": f"Large {index}", "graph": large_graph(nodes, index)}) as r:
                        assert r.status == 201, await r.text()
                rss_before = rss_mib(gateway.pid)
                peak = rss_before
                latencies: list[float] = []
                health: list[float] = []
                listing = True

                async def one_list() -> None:
                    started = time.perf_counter()
                    async with http_client.get(f"{base}/v1/workflows") as response:
                        assert response.status == 200, await response.text()
                        assert (await response.json())["workflows"]
                    latencies.append(time.perf_counter() - started)

                async def probe() -> None:
                    nonlocal peak
                    while listing:
                        started = time.perf_counter()
                        async with http_client.get(f"{base}/healthz") as response:
                            await response.read()
                        health.append(time.perf_counter() - started)
                        peak = max(peak, rss_mib(gateway.pid))
                        await asyncio.sleep(0.02)

                prober = asyncio.create_task(probe())
                for _ in range(rounds):
                    await asyncio.gather(*(one_list() for _ in range(concurrency)))
                listing = False
                await prober
                latencies.sort()
                print(f"{workflows} workflows of {nodes} HTTP steps, {concurrency} concurrent lists × {rounds} rounds:")
                print(f"  list latency    median {statistics.median(latencies) * 1000:8.1f} ms   "
                      f"p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:8.1f} ms")
                print(f"  /healthz        median {statistics.median(health) * 1000:8.1f} ms   "
                      f"max {max(health) * 1000:8.1f} ms")
                print(f"  gateway RSS     before {rss_before:8.1f} MiB   peak {peak:8.1f} MiB")
        finally:
            gateway.terminate()
            gateway.wait(timeout=15)


async def _until_ready(http_client: aiohttp.ClientSession, base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            async with http_client.get(f"{base}/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the gateway did not become ready within 30 s")
        await asyncio.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workflows", type=int, default=60)
    parser.add_argument("--nodes", type=int, default=400, help="HTTP steps per workflow")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(measure(args.workflows, args.nodes, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()
