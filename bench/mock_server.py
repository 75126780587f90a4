"""A loopback HTTP endpoint answering 204 (or 200 with a body of --body-kib KiB), optionally after a delay: the
benchmark's API under test.

Per request, `?kib=N` asks for a 200 with a body of N KiB instead (just under the HTTP step's 64 KiB cap at 64).
`PUT /__bench__/delay?ms=N` changes the answer delay from then on, so one mock can serve cells with different
delays without a restart.
"""

from __future__ import annotations

import argparse
import asyncio
from functools import lru_cache

from aiohttp import web

CONTROL_DELAY = "/__bench__/delay"


@lru_cache(maxsize=16)
def body_of(kib: int) -> str:
    # Just under the HTTP step's 64 KiB cap at 64, so a "64 KiB output" is kept whole.
    return "x" * max(0, kib * 1024 - 64)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--body-kib", type=int, default=0)
    args = parser.parse_args()
    delay = args.delay_ms / 1000

    async def set_delay(request: web.Request) -> web.Response:
        nonlocal delay
        delay = float(request.query["ms"]) / 1000
        return web.Response(status=204)

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        if delay:
            await asyncio.sleep(delay)
        kib = int(request.query.get("kib", args.body_kib))
        return web.Response(status=204) if not kib else web.Response(status=200, text=body_of(kib))

    app = web.Application()
    app.router.add_route("PUT", CONTROL_DELAY, set_delay)
    app.router.add_route("*", "/{tail:.*}", answer)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
