"""delay: the step waits on a timer in the TIMERS stream, holding no worker, then succeeds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from schemas import RunRecord, TimerDue
from schemas.runs import human_duration

from ..change import Change, Transition, timer_for
from .base import StepHandler


class Delay(StepHandler):
    def begin(self, change: Change, step_id: str, prepared: Any) -> None:
        seconds = float(change.record.dag.step(step_id).config.get("seconds", 0))
        until = change.now + timedelta(seconds=seconds)
        name = change.record.step(step_id).name
        change.wait_until(step_id, until, "delay",
                          f"{name}: waiting {human_duration(seconds * 1000)}, until {until:%Y-%m-%d %H:%M:%S} UTC")

    def timer(self, change: Change, step_id: str, timer: TimerDue) -> None:
        if timer.kind != "delay":
            return
        change.succeed(step_id, {"waitedSeconds": change.record.dag.step(step_id).config.get("seconds"),
                                 "resumedAt": change.now.isoformat()})

    def in_flight(self, record: RunRecord, step_id: str, transition: Transition) -> None:
        step = record.step(step_id)
        if step.status == "waiting" and step.waitUntil is not None:
            transition.timers.append(timer_for(record, step, "delay"))


DELAY = Delay()
