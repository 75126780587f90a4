"""Disk per run: the bytes each stream and bucket holds per Start → HTTP run, as the README quotes them.

Runs N small runs (and, with --output-kib, runs whose HTTP step returns that much) through POST /v1/runs on an
in-process stack with a real nats-server, then divides each stream's stored bytes by N.

    python bench/disk_per_run.py --runs 100
    python bench/disk_per_run.py --runs 50 --output-kib 64
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bus import EmbeddedNats, free_port, set_up_bus, subjects  # noqa: E402
from tests.conftest import TEST_BUS_SETTINGS  # noqa: E402
from tests.support.graphs import edge, graph, http  # noqa: E402
from tests.support.mock_http import MockHttp, Reply  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

STREAMS = {
    "record (KV runs)": f"KV_{subjects.RUNS_BUCKET}",
    "events (RUN_EVENTS)": subjects.EVENTS_STREAM,
    "listing index (RUN_INDEX)": subjects.INDEX_STREAM,
    "large outputs (KV step_outputs)": f"KV_{subjects.STEP_OUTPUTS_BUCKET}",
}


async def measure(runs: int, output_kib: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedNats(Path(tmp) / "nats", port=free_port()) as server:
        await set_up_bus(server.url, TEST_BUS_SETTINGS)
        mock = await MockHttp().start()
        body = "x" * (output_kib * 1024 - 64) if output_kib else {"ok": True}
        mock.reply("/call", Reply(status=200, body=body))
        stack = Stack(nats_url=server.url, bus_settings=TEST_BUS_SETTINGS)
        try:
            await stack.start_orchestrator()
            await stack.start_worker()
            await stack.start_gateway()
            workflow = graph(http("call", mock.url("/call")), edges=[edge("start", "call")])
            for done in range(runs):
                await stack.finish(await stack.start_run(workflow))
                if (done + 1) % 25 == 0:
                    print(f"  {done + 1}/{runs} runs", file=sys.stderr)
            js = stack.gateway_bus().js
            total = 0.0
            print(f"{runs} Start → HTTP runs" + (f", {output_kib} KiB responses" if output_kib else "") + ":")
            for label, stream in STREAMS.items():
                info = await js.stream_info(stream)
                per_run = info.state.bytes / runs / 1024
                total += per_run
                print(f"  {label:34s} {per_run:7.2f} KiB per run")
            print(f"  {'total':34s} {total:7.2f} KiB per run")
        finally:
            await stack.stop()
            await mock.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--output-kib", type=int, default=0, help="size of the HTTP step's response (0: a small JSON)")
    args = parser.parse_args()
    try:
        asyncio.run(measure(args.runs, args.output_kib))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
