"""Waiting for a run to end from the gateway's one live feed, for answers that carry the result: a webhook in
`lastNode` mode and `POST /v1/runs?wait=SECONDS`.

The caller follows the run before it is queued (`bus.follow_run`), so every event of it arrives live and nothing
stored needs reading; the run's end is its events folded onto the record the gateway created, with no read of the
run either. Only a run this gateway did not just create (an idempotent replay) is read.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bus import Bus, FollowerDropped, RunEventModel, RunFollow
from schemas import TERMINAL_RUN_STATUSES, RunRecord, fold_events


async def run_end(bus: Bus, follow: RunFollow, created: RunRecord | None, timeout_s: float) -> RunRecord | None:
    """The run once it has ended; None while it is still going after `timeout_s`. `created`: the record as this
    gateway created it, after `follow` was registered (None: not created here, so the run is read)."""
    events: list[RunEventModel] = []
    if created is None:
        await follow.load_stored()
    try:
        async with asyncio.timeout(timeout_s):
            async for event in follow.events(tick=timeout_s):
                if event is None:
                    continue
                events.append(event)
                if event.type == "run" and event.status in TERMINAL_RUN_STATUSES:
                    break
    except TimeoutError:
        return None
    except FollowerDropped:
        created = None  # its events outgrew the follower's buffer: read the run instead
    if created is None:
        found = await bus.runs.get(follow.run_id)
        return found[0] if found is not None and found[0].finished else None
    return fold_events(created, events)


async def last_output(bus: Bus, record: RunRecord) -> Any:
    """What the run's last succeeded step returned (None when none did): a `lastNode` webhook's answer."""
    ran = [s for s in record.steps if s.status == "succeeded"]
    return await bus.step_outputs.output_of(ran[-1]) if ran else None
