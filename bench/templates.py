"""What rendering a step's templates costs the worker: microseconds per render of typical templates, with the
compiled-template cache (engine/templating.py) and, in the same run, without it (every render compiles, as before
the cache). No network and no bus: only the worker's CPU per templated field.

    python bench/templates.py
    python bench/templates.py --renders 1000 --rounds 9
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine import templating  # noqa: E402
from engine.templating import Renderer  # noqa: E402

CASES = {
    "text with a filter": ("Sale: {{ payload.body.amount / 100 }} {{ payload.body.currency | upper }}", "text"),
    "whole expression": ("{{ steps.fetch.output.items }}", "value"),
    "a placed credential": ("Bearer {{ getCredential('token') }}", "text"),
}


def renderer() -> Renderer:
    return Renderer({"payload": {"body": {"id": "evt_1", "amount": 4200, "currency": "eur"}}},
                    {"fetch": {"output": {"items": [1, 2, 3]}}}, {"token": "bench-secret-value-0123"})


def per_render_us(render: Callable[[], Any], renders: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(renders):
            render()
        samples.append((time.perf_counter() - started) / renders * 1e6)
    return statistics.median(samples)


def measure(renders: int, rounds: int, cached: bool) -> dict[str, float]:
    r = renderer()
    results = {}
    for name, (template, kind) in CASES.items():
        method = r.text if kind == "text" else r.value

        def render(method: Callable[[str, str], Any] = method, template: str = template) -> Any:
            if not cached:
                templating._compiled.cache_clear()
                templating._compiled_expression.cache_clear()
            return method(template, "config.field")

        results[name] = per_render_us(render, renders, rounds)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=300, help="renders per round (default 300)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds; the median is printed (default 7)")
    args = parser.parse_args()
    uncached = measure(args.renders, args.rounds, cached=False)
    cached = measure(args.renders, args.rounds, cached=True)
    print(f"{'template':<22} {'compiled each time':>19} {'cached':>9} {'ratio':>7}")
    for name in CASES:
        print(f"{name:<22} {uncached[name]:>16.0f} µs {cached[name]:>6.0f} µs {uncached[name] / cached[name]:>6.0f}×")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
