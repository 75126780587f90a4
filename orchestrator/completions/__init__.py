"""The completion handlers, by node type: the one table the state machine dispatches on (see base.py)."""

from __future__ import annotations

from schemas import REGISTRY, DagStep

from .base import ChildOutcome, Collected, Described, StepHandler

HANDLERS: dict[str, StepHandler] = {}


def register_handler(node_type: str, handler: StepHandler) -> StepHandler:
    """Pair a node type (declared in schemas.node_types) with its handler; a test or a plugin may add one."""
    HANDLERS[node_type] = handler
    return handler


def unregister_handler(node_type: str) -> None:
    HANDLERS.pop(node_type, None)


def handler_for(step: DagStep) -> StepHandler | None:
    """The step's handler; none for a worker's step without one, or a trigger (a loop item's entry is a copy of its
    loop step completing as a trigger)."""
    return None if step.completes == "trigger" else HANDLERS.get(step.type)


def renders_first(step: DagStep) -> bool:
    """A step the orchestrator completes has its templates rendered by a worker first: only the engine renders
    (credentials and large outputs are read there)."""
    node_type = REGISTRY.get(step.type)
    return step.completes not in ("worker", "trigger") and node_type is not None and bool(node_type.templated)


from . import agent, delay, loop, merge, subworkflow, wait  # noqa: E402

register_handler("agent", agent.AGENT)

register_handler("delay", delay.DELAY)
register_handler("loop", loop.LOOP)
register_handler("merge", merge.MERGE)
register_handler("subworkflow", subworkflow.SUBWORKFLOW)
register_handler("wait", wait.WAIT)

__all__ = ["HANDLERS", "ChildOutcome", "Collected", "Described", "agent", "StepHandler", "delay", "handler_for", "loop", "merge",
           "register_handler", "renders_first", "subworkflow", "unregister_handler", "wait"]
