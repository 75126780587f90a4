"""Whole-stack memory of `automateos up`, per layout: the sum of VmRSS over up's process tree (the supervisor, its
nats-server and the actor processes), idle after start, and again idle after some runs.

    .venv/bin/python -m tests.support.measure_rss [--layout processes one-process] [--idle 20] [--runs 20]

Each layout runs in a temporary directory, with free ports and a fresh store, as tests/test_cli.py runs `up`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path

import aiohttp
from dotenv import dotenv_values

from bus import free_port
from tests.support.mock_http import MockHttp, Reply
from tests.support.process_tree import actor_of, command_line, rss_kib, tree
from tests.support.stack import http_graph

MIB = 1024


def report(up_pid: int, when: str) -> int:
    rows = [(actor_of(command_line(pid)), pid, rss_kib(pid)) for pid in tree(up_pid)]
    total = sum(kib for _, _, kib in rows)
    print(f"  {when}: {total / MIB:.1f} MiB in all", flush=True)
    for actor, pid, kib in rows:
        print(f"    {kib / MIB:6.1f} MiB  {actor} ({pid})", flush=True)
    return total


async def measure(layout: str, idle_s: float, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix=f"rss-{layout}-") as directory:
        env = {**os.environ, "AUTOMATEOS_DATA_DIR": directory, "AUTOMATEOS_PORT": str(free_port()),
               "AUTOMATEOS_NATS_PORT": str(free_port())}
        for name in ("NATS_URL", "AUTOMATEOS_MASTER_KEY", "AUTOMATEOS_ADMIN_TOKEN", "AUTOMATEOS_LAYOUT"):
            env.pop(name, None)
        log = Path(directory) / "up.log"
        with log.open("wb") as out:
            up = await asyncio.create_subprocess_exec(sys.executable, "-m", "automateos", "up", "--layout", layout,
                                                      env=env, cwd=directory, stdout=out, stderr=out)
        try:
            async with asyncio.timeout(90):
                while "AutomateOS is up" not in log.read_text():
                    assert up.returncode is None, log.read_text()
                    await asyncio.sleep(0.2)
            print(f"up --layout {layout}", flush=True)
            await asyncio.sleep(idle_s)
            report(up.pid, f"idle {idle_s:g} s after start")
            if runs:
                await run_workflows(env, runs)
                await asyncio.sleep(idle_s)
                report(up.pid, f"idle {idle_s:g} s after {runs} Start → HTTP runs")
        finally:
            up.send_signal(signal.SIGINT)
            await up.wait()


async def run_workflows(env: dict[str, str], runs: int) -> None:
    mock = await MockHttp().start()
    mock.reply("/ok", Reply(status=200, body={"ok": True}))
    token = dotenv_values(Path(env["AUTOMATEOS_DATA_DIR"]) / ".env")["AUTOMATEOS_ADMIN_TOKEN"]
    base = f"http://127.0.0.1:{env['AUTOMATEOS_PORT']}"
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
            run_ids = []
            for _ in range(runs):
                async with http.post(f"{base}/v1/runs", json={"graph": http_graph(mock.url("/ok"))}) as response:
                    run_ids.append((await response.json())["runId"])
            async with asyncio.timeout(120):
                for run_id in run_ids:
                    while True:
                        async with http.get(f"{base}/v1/runs/{run_id}") as response:
                            if (await response.json())["status"] in ("succeeded", "failed", "cancelled"):
                                break
                        await asyncio.sleep(0.1)
    finally:
        await mock.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layout", nargs="+", default=["processes", "one-process"],
                        choices=["processes", "one-process"])
    parser.add_argument("--idle", type=float, default=20.0, help="seconds to stay idle before each measurement")
    parser.add_argument("--runs", type=int, default=20, help="runs between the two measurements (0: idle only)")
    args = parser.parse_args()
    for layout in args.layout:
        asyncio.run(measure(layout, args.idle, args.runs))


if __name__ == "__main__":
    main()
