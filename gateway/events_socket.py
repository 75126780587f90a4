"""WebSocket /v1/runs/{id}/events: replay, then live, in seq order, closing after the terminal event."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Coroutine
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from bus import TRANSIENT_ERRORS, Bus, RunEventModel, RunFollow
from schemas import RUN_ID_PATTERN, TERMINAL_RUN_STATUSES, RunStatusEvent, StepEvent

from .app_state import public_base
from .request_id import run_id as run_id_context
from .auth import principal_of
from .resume import may_see_resume_urls, with_resume_url

log = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
CLOSE_BAD_REQUEST = 4400
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4408
CLOSE_EXPIRED = 4410
# The bus did not answer (a NATS node died and its streams are electing leaders): the client reconnects with ?after=.
CLOSE_TRY_AGAIN = 1013
CLOSE_PATIENCE_S = 1.0
# A missing seq (its publisher crashed between saving the run and announcing it) is waited for this long.
GAP_PATIENCE_S = 3.0
# A run published straight onto runs.requested may not be recorded yet when its follower connects.
UNKNOWN_RUN_PATIENCE_S = 10.0


# A close frame's reason is at most 123 bytes of UTF-8; a longer one fails the close itself (the client sees 1006).
MAX_CLOSE_REASON_BYTES = 123


def close_reason(text: str) -> str:
    """`text` cut to fit a close frame, with … where it was cut."""
    if len(text.encode()) <= MAX_CLOSE_REASON_BYTES:
        return text
    return text.encode()[:MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "…"


class EventSequencer:
    """Puts events in seq order, drops repeats, and skips a gap that outlives GAP_PATIENCE_S."""

    def __init__(self, after: int) -> None:
        self.next_seq = after + 1
        self.held: dict[int, RunEventModel] = {}
        self.gap_since: float | None = None

    def push(self, event: RunEventModel | None, now: float) -> list[RunEventModel]:
        if event is not None and event.seq >= self.next_seq:
            self.held[event.seq] = event
        ready = self._release()
        if self.held and self.gap_since is None:
            self.gap_since = now
        elif self.held and self.gap_since is not None and now - self.gap_since >= GAP_PATIENCE_S:
            self.next_seq = min(self.held)
            ready += self._release()
        if not self.held:
            self.gap_since = None
        return ready

    def _release(self) -> list[RunEventModel]:
        ready = []
        while self.next_seq in self.held:
            ready.append(self.held.pop(self.next_seq))
            self.next_seq += 1
        return ready


def is_terminal(event: RunEventModel) -> bool:
    return isinstance(event, RunStatusEvent) and event.status in TERMINAL_RUN_STATUSES


async def run_events_socket(websocket: WebSocket) -> None:
    bus: Bus = websocket.app.state.bus
    await websocket.accept()
    run_id = websocket.path_params["run_id"]
    after_text = websocket.query_params.get("after") or "0"
    if not re.fullmatch(r"[0-9]{1,9}", after_text):
        await websocket.close(CLOSE_BAD_REQUEST, "after must be a whole number (the last seq you have)")
        return
    if not re.fullmatch(RUN_ID_PATTERN, run_id):
        await websocket.close(CLOSE_NOT_FOUND, close_reason(f"no run with id {run_id!r}"))
        return
    run_id_context.set(run_id)
    try:
        await _follow(websocket, bus, run_id, int(after_text))
    except TRANSIENT_ERRORS as error:
        log.warning("event socket of run %s: the bus did not answer (%s); asking the client to reconnect", run_id,
                    type(error).__name__)
        await close_soon(websocket, CLOSE_TRY_AGAIN, "the bus is briefly unavailable: reconnect with ?after=<last seq>")


async def _follow(websocket: WebSocket, bus: Bus, run_id: str, after: int) -> None:
    # Registered first, then the stored events read: any event not among them is published after this
    # registration, so it arrives live.
    async with bus.follow_run(run_id) as follow:
        await follow.load_stored()
        # Stored events, or a run this gateway just created, say the run exists; otherwise its record is read.
        known = bool(follow.stored) or bus.runs.created_here(run_id)
        if not known and (found := await bus.runs.peek(run_id)) is not None:
            known = True
            if found.finished:
                if after >= found.eventSeq:
                    await websocket.close(CLOSE_NORMAL)  # the client has seen everything already
                    return
                # A finished run's events are its state: none left means they aged out with it.
                await websocket.close(CLOSE_EXPIRED, "this run's events have expired; GET /v1/runs/{id} has its final state")
                return
        if any(is_terminal(event) and event.seq <= after for event in follow.stored):
            await websocket.close(CLOSE_NORMAL)  # it ended, and the client has seen the end already
            return
        too_slow = await serve(websocket, _stream(websocket, bus, follow, after, known=known),
                               follow.dropped, "event stream")
    if too_slow:
        # It stopped reading: its events are no longer kept for it. It may come back with ?after=.
        log.warning("closing an event socket of run %s that stopped reading", run_id)
        await close_soon(websocket, CLOSE_TOO_SLOW, "too far behind: reconnect with ?after=<last seq>")


async def serve(websocket: WebSocket, work: Coroutine[Any, Any, None], dropped: asyncio.Event, what: str) -> bool:
    """Run `work` (what the socket sends) until it ends, the client leaves, or `dropped` is set because the client
    stopped reading; True in that last case. Every socket of the gateway is served this way."""
    sender = asyncio.create_task(work)
    listener = asyncio.create_task(_until_client_leaves(websocket))
    too_slow = asyncio.create_task(dropped.wait())
    done, pending = await asyncio.wait({sender, listener, too_slow}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done - {too_slow}:
        if not task.cancelled() and (error := task.exception()) and not isinstance(error, WebSocketDisconnect):
            log.warning("%s ended with %s: %s", what, type(error).__name__, error)
    return too_slow in done


async def close_soon(websocket: WebSocket, code: int, reason: str) -> None:
    """Close, waiting at most CLOSE_PATIENCE_S: a client that does not answer the close is not waited for."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_PATIENCE_S):
            await websocket.close(code, close_reason(reason))


async def _stream(websocket: WebSocket, bus: Bus, follow: RunFollow, after: int, known: bool) -> None:
    run_id = follow.run_id
    base = public_base(websocket)
    sees_resume_urls = may_see_resume_urls(principal_of(websocket).role)
    seed: str | None = None
    sequencer = EventSequencer(after)
    give_up_at = None if known else time.monotonic() + UNKNOWN_RUN_PATIENCE_S
    last_heard = time.monotonic()
    async for event in follow.events(tick=GAP_PATIENCE_S / 3):
        now = time.monotonic()
        if event is not None:
            give_up_at = None
            last_heard = now
        elif give_up_at is not None and now > give_up_at:
            if await bus.runs.get(run_id) is None:
                await websocket.close(CLOSE_NOT_FOUND, close_reason(f"no run with id {run_id!r}"))
                return
            give_up_at = None
        elif now - last_heard >= GAP_PATIENCE_S:
            last_heard = now
            if await _ended_silently(websocket, bus, run_id, sequencer):
                return
        for ready in sequencer.push(event, time.monotonic()):
            if seed is None and sees_resume_urls and isinstance(ready, StepEvent) and ready.step.wait is not None:
                stored = await bus.runs.peek(run_id)  # the record as created holds the seed: read once
                seed = stored.seed if stored is not None else None
            await websocket.send_text(_as_sent(ready, base, seed).model_dump_json())
            if is_terminal(ready):
                await websocket.close(CLOSE_NORMAL)
                return


def _as_sent(event: RunEventModel, base: str, seed: str | None) -> RunEventModel:
    """The event as a client sees it: a waiting wait step with its resume URL for editors and admins (`seed`), as in
    GET /v1/runs/{id}. A copy: the event is shared with every other follower of the run."""
    if isinstance(event, StepEvent) and (event.step.wait is not None or event.step.resumeUrl is not None):
        return event.model_copy(update={"step": with_resume_url(event.step, event.runId, seed, base)})
    return event


async def _ended_silently(websocket: WebSocket, bus: Bus, run_id: str, sequencer: EventSequencer) -> bool:
    """A run found finished after GAP_PATIENCE_S without a word from the live feed (it lost its connection
    and missed the end): its viewers' streams still end, with its terminal event, rebuilt."""
    found = await bus.runs.get(run_id)
    if found is None or not found[0].finished:
        return False
    record = found[0]
    log.warning("run %s finished but its terminal event is missing; sending it from the record", run_id)
    ending = RunStatusEvent(runId=run_id, seq=max(record.eventSeq, sequencer.next_seq), status=record.status, error=record.error)
    await websocket.send_text(ending.model_dump_json())
    await websocket.close(CLOSE_NORMAL)
    return True


async def _until_client_leaves(websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
