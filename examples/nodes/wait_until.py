"""A control-flow node added without touching the state machine: `wait_until`, which waits until a moment given
by a template (`{{ payload.sendAt }}`), then goes on. docs/NODES.md walks through it; tests/control_flow/
test_new_node.py imports this module and runs it on real actors.

Three parts, each in the place any node type's goes:
1. the declaration (schemas/node_types/ for a built-in): how its step completes, and its config;
2. the worker's part: render the template (the generic `run_rendered` does it);
3. the orchestrator's part: a handler, registered under the type's name, that waits on a timer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from engine.nodes import register_executor
from engine.nodes.control import run_rendered
from orchestrator.change import Change, Transition, timer_for
from orchestrator.completions import StepHandler, register_handler
from schemas import REGISTRY, RunRecord, TimerDue
from schemas._base import Contract
from schemas.node_types import FieldUi, NodeType, NodeUi


# 1. The declaration: one timer, so it `completes` on a "timer"; `until` is templated, so a worker renders it first.
class WaitUntilConfig(Contract):
    until: str = Field(min_length=1, max_length=200, description="when to go on: an ISO 8601 time (templated)")


WAIT_UNTIL = NodeType(
    type="wait_until", kind="logic", title="Wait until", description="Wait until a given time, then go on",
    config=WaitUntilConfig, completes="timer", templated={"until": "text"}, order=53,
    ui=NodeUi(glyph="◴", accent="#64748b", defaultLabel="Wait until", summary="{until}", idPrefix="until",
              defaults={"until": ""}, outputFields={"resumedAt": "when it went on"},
              fields={"until": FieldUi(widget="text", label="Until", templated=True,
                                       placeholder="{{ payload.sendAt }}", help="An ISO 8601 time, with its zone.")}),
)


# 3. The orchestrator's part. `begin` gets the rendered config; the state machine calls `timer` when it is due
# (after checking the timer is this step's current one), and `in_flight` after a crash, to set it again.
class WaitUntil(StepHandler):
    def begin(self, change: Change, step_id: str, prepared: Any) -> None:
        try:
            until = datetime.fromisoformat(str(prepared["until"]))
        except (KeyError, TypeError, ValueError):
            change.fail_attempt(step_id, f"until is not an ISO 8601 time: {str(prepared.get('until'))[:60]!r}")
            return
        if until.tzinfo is None:
            change.fail_attempt(step_id, "until needs a time zone (…Z or …+02:00)")
            return
        if until <= change.now:
            change.succeed(step_id, {"resumedAt": change.now.isoformat()})
            return
        change.wait_until(step_id, until, "delay", f"waiting until {until.isoformat()}")

    def timer(self, change: Change, step_id: str, timer: TimerDue) -> None:
        change.succeed(step_id, {"resumedAt": change.now.isoformat()})

    def in_flight(self, record: RunRecord, step_id: str, transition: Transition) -> None:
        step = record.step(step_id)
        if step.status == "waiting" and step.waitUntil is not None:
            transition.timers.append(timer_for(record, step, "delay"))


def register() -> None:
    """What a plugin does at import; built-in nodes do the same in their packages' __init__."""
    REGISTRY.register(WAIT_UNTIL)
    register_executor("wait_until", run_rendered)  # 2. the worker's part
    register_handler("wait_until", WaitUntil())


def unregister() -> None:
    from engine.nodes import unregister_executor
    from orchestrator.completions import unregister_handler

    REGISTRY.unregister("wait_until")
    unregister_executor("wait_until")
    unregister_handler("wait_until")


__all__ = ["WAIT_UNTIL", "WaitUntil", "WaitUntilConfig", "register", "timedelta", "unregister"]
