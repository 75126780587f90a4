"""Which runs a schedule owes right now: a pure function of its entry and the time, so every orchestrator that
looks at the same entry at about the same time owes the same runs, under the same run ids."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas.workflows import ScheduleEntry

# A tick up to this late still fires as itself (a restart, a busy machine, the scheduler's own refresh); older
# ticks count as missed, and catchUp decides about them.
DEFAULT_GRACE = timedelta(seconds=10)


@dataclass(frozen=True)
class Fire:
    run_id: str
    scheduled_at: datetime
    catch_up: bool = False

    @property
    def payload(self) -> dict[str, object]:
        payload: dict[str, object] = {"scheduledAt": self.scheduled_at.isoformat().replace("+00:00", "Z")}
        if self.catch_up:
            payload["catchUp"] = True
        return payload


@dataclass(frozen=True)
class Plan:
    fires: list[Fire] = field(default_factory=list)
    # Ticks up to here are done once the fires are submitted; None: nothing is due, store nothing.
    done_through: datetime | None = None


def tick_run_id(entry: ScheduleEntry, moment: datetime, kind: str) -> str:
    """Time-ordered like every run id, and the same in every orchestrator for the same tick."""
    digest = hashlib.sha256(f"{entry.workflowId}\x00{entry.nodeId}\x00{kind}\x00{moment.isoformat()}".encode())
    return f"{int(moment.timestamp() * 1000):012x}{digest.hexdigest()[:12]}"


def plan(entry: ScheduleEntry, now: datetime, grace: timedelta = DEFAULT_GRACE) -> Plan:
    config = entry.config
    since = max(entry.lastTick or entry.activatedAt, entry.activatedAt)
    latest = config.last_tick_at_or_before(now)
    if latest is None or latest <= since:
        return Plan()
    fires = []
    cutoff = now - grace
    on_time_from = since
    if since < cutoff:
        first_due = next(config.ticks_after(since))
        if first_due <= cutoff:  # ticks went by while no orchestrator was looking
            if config.catchUp == "one":
                missed = config.last_tick_at_or_before(cutoff)
                assert missed is not None  # first_due is one
                # Named after where the gap began, which every orchestrator reads the same.
                fires.append(Fire(tick_run_id(entry, since, "catch-up"), missed, catch_up=True))
            on_time_from = cutoff
    for tick in config.ticks_after(on_time_from):
        if tick > now:
            break
        fires.append(Fire(tick_run_id(entry, tick, "tick"), tick))
    return Plan(fires, latest)
