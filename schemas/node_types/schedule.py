"""schedule: a run at every tick of a cron expression or a fixed interval, in a time zone. The orchestrators
fire it (exactly once per tick, however many run); like Start, it completes in the orchestrator, and its output
is the payload `{scheduledAt}`.

The tick arithmetic lives here, next to the config, so the gateway's preview and the orchestrators' firing can
never disagree about when a schedule fires.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import ConfigDict, Field, field_validator, model_validator

from .._base import Contract
from ._registry import REGISTRY, FieldUi, NodeType, NodeUi

MAX_INTERVAL_S = 366 * 24 * 3600
# A schedule fires on a cron expression or at an interval, never both. Said once here, and published in the JSON
# Schema as `oneOf` single-key `required` groups, which the builder draws as a choice between the two fields.
ONE_OF = ("cron", "intervalSeconds")


class ScheduleConfig(Contract):
    model_config = ConfigDict(
        **Contract.model_config, json_schema_extra={"oneOf": [{"required": [name]} for name in ONE_OF]}
    )

    cron: str | None = Field(default=None, max_length=200,
                             description="five fields: minute hour day-of-month month day-of-week, as `*/15 9-17 * * 1-5`")
    intervalSeconds: int | None = Field(default=None, ge=1, le=MAX_INTERVAL_S,
                                        description="instead of cron: every this many seconds")
    timezone: str = Field(default="UTC", max_length=64, description="an IANA time zone, as Europe/Berlin")
    catchUp: Literal["none", "one"] = Field(
        default="none", description="after downtime: none (skip the missed ticks) or one (one run for all of them)"
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, cron: str | None) -> str | None:
        if cron is None or not cron.strip():
            return None
        cron = " ".join(cron.split())
        if len(cron.split(" ")) != 5:
            raise ValueError("must have five fields: minute hour day-of-month month day-of-week")
        try:
            next(CronSim(cron, datetime.now(UTC)))
        except CronSimError as error:
            raise ValueError(f"is not a valid cron expression: {error}") from None
        except StopIteration:
            raise ValueError("never fires") from None
        return cron

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not an IANA time zone (as UTC, Europe/Berlin, America/New_York)") from None
        return name

    @model_validator(mode="after")
    def _one_kind(self) -> ScheduleConfig:
        if sum(getattr(self, name) is not None for name in ONE_OF) != 1:
            raise ValueError("choose either Cron or Every: one of the two, not both")
        return self

    def ticks_after(self, after: datetime) -> Iterator[datetime]:
        """Fire times strictly after `after`, ascending, in UTC."""
        if self.intervalSeconds is not None:
            # Aligned to the epoch, so every orchestrator agrees on the ticks whenever it started.
            step = self.intervalSeconds
            tick = (int(after.timestamp()) // step + 1) * step
            while True:
                yield datetime.fromtimestamp(tick, UTC)
                tick += step
        assert self.cron is not None
        for fire_time in CronSim(self.cron, after.astimezone(ZoneInfo(self.timezone))):
            yield fire_time.astimezone(UTC)

    def last_tick_at_or_before(self, moment: datetime) -> datetime | None:
        if self.intervalSeconds is not None:
            return datetime.fromtimestamp(int(moment.timestamp()) // self.intervalSeconds * self.intervalSeconds, UTC)
        assert self.cron is not None
        # CronSim's reverse iteration is strictly before its start, so start a microsecond after `moment`.
        start = (moment + timedelta(microseconds=1)).astimezone(ZoneInfo(self.timezone))
        return next((tick.astimezone(UTC) for tick in CronSim(self.cron, start, reverse=True)), None)

    def next_runs(self, after: datetime, count: int = 3) -> list[datetime]:
        ticks = self.ticks_after(after)
        return [tick for _, tick in zip(range(count), ticks, strict=False)]


SCHEDULE = REGISTRY.register(NodeType(
    order=2,
    type="schedule", kind="trigger", title="Schedule", description="Start a run on a cron schedule or every N seconds",
    config=ScheduleConfig, inputs=(), completes="trigger",
    ui=NodeUi(
        glyph="↻", accent="#16a34a", defaultLabel="Schedule", summary="{cron}|every {intervalSeconds} s", idPrefix="schedule",
        outputFields={"payload.scheduledAt": "the tick this run is for (UTC)"},
        defaults={"cron": "0 9 * * 1-5", "timezone": "UTC", "catchUp": "none"},
        fields={
            "cron": FieldUi(widget="text", label="Cron", order=0, monospace=True, placeholder="0 9 * * 1-5",
                            help="minute hour day-of-month month day-of-week, as 0 9 * * 1-5 (09:00 on weekdays)."),
            "intervalSeconds": FieldUi(widget="number", label="Every", order=1, placeholder="3600",
                                       help="Ticks are aligned to the clock: every 5 minutes fires at :00, :05, :10…"),
            "timezone": FieldUi(widget="text", label="Time zone", order=2, placeholder="UTC",
                                help="IANA name, as Europe/Berlin; cron times are read in it, across DST changes."),
            "catchUp": FieldUi(widget="select", label="After downtime", order=3,
                               optionLabels={"none": "Skip the missed ticks", "one": "One run for the missed ticks"},
                               help="What happens to the ticks that fell while AutomateOS was down."),
        },
    ),
))
