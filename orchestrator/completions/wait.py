"""wait: the step waits for its resume URL to be called (an approval, or any callback), or for its timeout.

Its resume URL is made from a token only this run's record can produce (schemas/resume.py), by the gateway, for
editors and admins: it is never part of the run's state or events.
The gateway checks the token and publishes `runs.resume`; the step then succeeds with what was sent and takes the
output it names. The timeout is a timer like a delay's: the first of the two to arrive wins, the other is stale."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from schemas import ResumeRequested, RunRecord, TimerDue
from schemas.runs import WaitState, human_duration

from ..change import Change, Transition, timer_for
from .base import StepHandler


class Wait(StepHandler):
    def begin(self, change: Change, step_id: str, prepared: Any) -> None:
        config = prepared if isinstance(prepared, dict) else change.record.dag.step(step_id).config
        seconds = int(config.get("timeoutSeconds", 86400))
        mode: Literal["webhook", "approval"] = "webhook" if config.get("resume") == "webhook" else "approval"
        until = change.now + timedelta(seconds=seconds)
        step = change.step(step_id)
        step.attempt = max(step.attempt, 1)
        step.output = None
        step.wait = WaitState(mode=mode, message=str(config.get("message") or ""), timeoutAt=until)
        # The resume URL is not stored in the run's state: its events reach every viewer of the run (and the
        # integrations account). The gateway derives it from the run's seed for editors and admins only.
        what = "an approval" if mode == "approval" else "a callback to its resume URL"
        change.wait_until(step_id, until, "timeout",
                          f"{step.name}: waiting for {what}, at most {human_duration(seconds * 1000)} "
                          f"(until {until:%Y-%m-%d %H:%M:%S} UTC)")

    def resumed(self, change: Change, step_id: str, resume: ResumeRequested) -> None:
        step = change.step(step_id)
        step.resumeUrl = None
        verdict = {"approved": "approved", "rejected": "rejected"}.get(resume.handle, "resumed")
        change.succeed(step_id, resume.output, [resume.handle], said=f"{step.name}: {verdict}")

    def timer(self, change: Change, step_id: str, timer: TimerDue) -> None:
        if timer.kind != "timeout":
            return
        step = change.step(step_id)
        step.resumeUrl = None
        waited = (change.now - step.startedAt).total_seconds() if step.startedAt else None
        change.succeed(step_id, {"timedOut": True, "waitedSeconds": waited}, ["timeout"],
                       said=f"{step.name}: no answer in time; going on from timeout")

    def stop(self, change: Change, step_id: str, why: str) -> bool:
        change.step(step_id).resumeUrl = None
        return False  # ended as any waiting step is

    def in_flight(self, record: RunRecord, step_id: str, transition: Transition) -> None:
        step = record.step(step_id)
        if step.status == "waiting" and step.waitUntil is not None:
            transition.timers.append(timer_for(record, step, "timeout"))


WAIT = Wait()
