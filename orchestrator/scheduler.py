"""Fires schedule triggers. Every orchestrator runs one; a tick still starts one run, because each tick's run id
is derived from the tick (schedule_plan) and a run record is created only once. `lastTick` moving on by
compare-and-set only saves the others from re-checking ticks that are done."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta


from bus import TRANSIENT_ERRORS, Bus
from schemas import RunRecord, WorkflowInvalid, compile_workflow_off_loop
from schemas.workflows import ScheduleEntry

from .schedule_plan import DEFAULT_GRACE, Fire, plan

log = logging.getLogger(__name__)

# How often the list of active schedules is re-read: a newly activated schedule starts within this.
REFRESH_S = 2.0
# The loop wakes at the next tick, or after this at the latest.
MAX_SLEEP_S = 1.0


class Scheduler:
    def __init__(self, bus: Bus, grace: timedelta = DEFAULT_GRACE) -> None:
        self.bus = bus
        self.grace = grace
        self._entries: dict[tuple[str, str], tuple[ScheduleEntry, int]] = {}
        self._refreshed_at = float("-inf")

    async def run(self) -> None:
        while True:
            try:
                await self._turn()
            except TRANSIENT_ERRORS as error:
                # NATS away (a restart, a leader change): the ticks it costs are missed ticks, which catchUp covers.
                log.warning("scheduler: %s: %s; retrying", type(error).__name__, error)
                self._refreshed_at = float("-inf")
            except Exception:  # a bad entry must not stop every other schedule (or the orchestrator)
                log.exception("scheduler: unexpected error; retrying")
                self._refreshed_at = float("-inf")
            await asyncio.sleep(self._sleep_s())

    async def _turn(self) -> None:
        if time.monotonic() - self._refreshed_at >= REFRESH_S:
            self._entries = {(e.workflowId, e.nodeId): (e, rev) for e, rev in await self.bus.workflows.schedules()}
            self._refreshed_at = time.monotonic()
        now = datetime.now(UTC)
        for key, (entry, revision) in list(self._entries.items()):
            owed = plan(entry, now, self.grace)
            if owed.done_through is None:
                continue
            if not await self._still_active(entry):
                self._entries.pop(key, None)
                continue
            for fire in owed.fires:
                await self._fire(entry, fire)
            advanced = entry.model_copy(update={"lastTick": owed.done_through})
            new_revision = await self.bus.workflows.advance_schedule(advanced, revision)
            if new_revision is None:  # another orchestrator moved it on first: read it again next refresh
                self._entries.pop(key, None)
                self._refreshed_at = float("-inf")
            else:
                self._entries[key] = (advanced, new_revision)

    async def _still_active(self, entry: ScheduleEntry) -> bool:
        found = await self.bus.workflows.get(entry.workflowId)
        return found is not None and found[0].active and found[0].activeVersion == entry.version

    async def _fire(self, entry: ScheduleEntry, fire: Fire) -> None:
        version = await self.bus.workflows.version(entry.workflowId, entry.version)
        if version is None:
            log.warning("schedule %s/%s: version %d is gone; not firing", entry.workflowId, entry.nodeId, entry.version)
            return
        try:
            dag = await compile_workflow_off_loop(version.graph, self.bus.settings.max_graph_nodes)
        except WorkflowInvalid as invalid:
            log.warning("schedule %s/%s: version %d cannot run: %s", entry.workflowId, entry.nodeId, entry.version,
                        invalid)
            return
        record = RunRecord.new(fire.run_id, dag, {"payload": fire.payload}, trigger="schedule",
                               workflow_id=entry.workflowId, workflow_version=entry.version)
        if await self.bus.submit_run(record, version.graph):
            log.info("schedule %s/%s: run %s for %s%s", entry.workflowId, entry.nodeId, fire.run_id,
                     fire.scheduled_at.isoformat(), " (catching up on missed ticks)" if fire.catch_up else "")

    def _sleep_s(self) -> float:
        now = datetime.now(UTC)
        soonest = MAX_SLEEP_S
        for entry, _ in self._entries.values():
            upcoming = next(entry.config.ticks_after(max(now, entry.lastTick or now)))
            soonest = min(soonest, (upcoming - now).total_seconds())
        return max(0.01, soonest)
