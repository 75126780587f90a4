"""WebSocket /v1/runs/live: each run summary as it changes (a run queued, started, ended), for History.

One JSON text frame per change, each shaped as an item of `GET /v1/runs`'s `runs`. Only changes from the moment of
connecting: a client loads the list with GET, then applies these. A client too slow to keep up is closed with 4408
and reloads the list when it reconnects.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.websockets import WebSocket

from bus import TRANSIENT_ERRORS, Bus
from schemas import RunSummary

from .events_socket import CLOSE_TOO_SLOW, CLOSE_TRY_AGAIN, close_soon, serve

log = logging.getLogger(__name__)


async def run_list_socket(websocket: WebSocket) -> None:
    bus: Bus = websocket.app.state.bus
    await websocket.accept()
    try:
        async with bus.watch_runs() as watch:
            too_slow = await serve(websocket, _send(websocket, watch.queue), watch.dropped, "run list socket")
    except TRANSIENT_ERRORS as error:
        log.warning("run list socket: the bus did not answer (%s); asking the client to reconnect", type(error).__name__)
        await close_soon(websocket, CLOSE_TRY_AGAIN, "the bus is briefly unavailable: reconnect and reload the list")
        return
    if too_slow:
        await close_soon(websocket, CLOSE_TOO_SLOW, "too far behind: reconnect and reload the list")


async def _send(websocket: WebSocket, queue: asyncio.Queue[RunSummary]) -> None:
    while True:
        summary = await queue.get()
        await websocket.send_text(summary.model_dump_json())
