"""What a code step costs in a worker: a trivial body through the whole step runner, and through the sandbox alone.

No server: the step runner and the sandbox are called in-process, as a worker calls them.

    python bench/code_step.py --runs 200
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import aiohttp

from engine.js_sandbox import JsSandbox
from engine.nodes import NodeContext
from engine.step_runner import run_step
from schemas import StepDispatch

TRIVIAL = "return 1;"
TRANSFORM = "return steps.get.output.rows.filter(r => r.n % 2).map(r => ({ id: r.id, double: r.n * 2 }));"


def percentiles(durations: list[float]) -> str:
    ordered = sorted(durations)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(ordered) * 1000:.3f} ms, p95 {p95 * 1000:.3f} ms"


async def measure(runs: int) -> None:
    rows = [{"id": f"r{i}", "n": i} for i in range(1000)]
    async with aiohttp.ClientSession() as session:
        context = NodeContext(session=session)
        for name, code, steps in (("trivial body", TRIVIAL, {}),
                                  ("map/filter over 1,000 rows", TRANSFORM, {"get": {"output": {"rows": rows}}})):
            dispatch = StepDispatch(runId="bench", stepId="code_1", name="Code", type="code", config={"code": code},
                                    steps=steps)
            await run_step(dispatch, context)
            durations = []
            for _ in range(runs):
                started = time.perf_counter()
                await run_step(dispatch, context)
                durations.append(time.perf_counter() - started)
            print(f"step runner, {name}: {percentiles(durations)} ({runs} runs)")
    sandbox = JsSandbox()
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        await sandbox.run(TRIVIAL, {"inputs": {}, "steps": {}, "loop": None}, 1000, 64)
        durations.append(time.perf_counter() - started)
    sandbox.close()
    print(f"sandbox alone, trivial body: {percentiles(durations)} ({runs} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    asyncio.run(measure(parser.parse_args().runs))


if __name__ == "__main__":
    main()
