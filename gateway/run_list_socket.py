"""WebSocket /v1/runs/live: each run summary as it changes (a run queued, started, ended), for History.

One JSON text frame per change, each shaped as an item of `GET /v1/runs`'s `runs`. Only changes from the moment of
connecting: a client loads the list with GET, then applies these. A client too slow to keep up is closed with 4408
and reloads the list when it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect

from bus import TRANSIENT_ERRORS, Bus
from schemas import RunSummary

from .events_socket import CLOSE_PATIENCE_S, CLOSE_TOO_SLOW, CLOSE_TRY_AGAIN

log = logging.getLogger(__name__)


async def run_list_socket(websocket: WebSocket) -> None:
    bus: Bus = websocket.app.state.bus
    await websocket.accept()
    try:
        async with bus.watch_runs() as watch:
            sender = asyncio.create_task(_send(websocket, watch.queue))
            listener = asyncio.create_task(_until_client_leaves(websocket))
            too_slow = asyncio.create_task(watch.dropped.wait())
            done, pending = await asyncio.wait({sender, listener, too_slow}, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
    except TRANSIENT_ERRORS as error:
        log.warning("run list socket: the bus did not answer (%s); asking the client to reconnect", type(error).__name__)
        await _close(websocket, CLOSE_TRY_AGAIN, "the bus is briefly unavailable: reconnect and reload the list")
        return
    if too_slow in done:
        await _close(websocket, CLOSE_TOO_SLOW, "too far behind: reconnect and reload the list")
    for task in done - {too_slow}:
        if not task.cancelled() and (failure := task.exception()) and not isinstance(failure, WebSocketDisconnect):
            log.warning("run list socket ended with %s: %s", type(failure).__name__, failure)


async def _send(websocket: WebSocket, queue: asyncio.Queue[RunSummary]) -> None:
    while True:
        summary = await queue.get()
        await websocket.send_text(summary.model_dump_json())


async def _until_client_leaves(websocket: WebSocket) -> None:
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_PATIENCE_S):
            await websocket.close(code, reason)
