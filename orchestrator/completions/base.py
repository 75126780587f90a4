"""What a completion handler is: the part of a node type's step the orchestrator carries out.

A node type whose steps do not simply complete in a worker (`completes` in its declaration) has one handler,
registered under its name. The state machine calls the hooks below and never looks at a type's name, so a new
control-flow node is a declaration, a handler and (if it has templates) nothing else: docs/NODES.md shows one.
Handlers are pure like the state machine: they change the run through `Change` and return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas import ResumeRequested, RunRecord, RunStatus, StepResult, TimerDue

from ..change import Change, Readiness, Transition


@dataclass(frozen=True)
class ChildOutcome:
    """How a child run ended, told to the step that started it."""

    run_id: str
    index: int | None  # a loop's item
    status: RunStatus
    output: Any = None
    output_ref: str | None = None  # a large output, stored apart
    error: str | None = None
    steps: dict[str, str] | None = None  # an item run: each body step's status


@dataclass(frozen=True)
class Collected:
    """A loop's items' results, gathered by the actor once they all ended (stored apart under `output_ref` when
    large, else `output`)."""

    output: Any
    output_ref: str | None
    error: str | None = None  # they could not be gathered: the step fails, saying why


@dataclass(frozen=True)
class Described:
    """The saved workflows a step asked to have described (an agent's tools): each one's id, version, name,
    description and inputSchema, in `output`, or stored apart under `output_ref` when large."""

    output: Any
    output_ref: str | None
    error: str | None = None  # one of them cannot be described: the step fails, saying why


class StepHandler:
    """Every hook has a default that does nothing particular; a handler overrides those its node needs."""

    def begin(self, change: Change, step_id: str, prepared: Any) -> None:
        """The step starts: `prepared` is its config with templates rendered by a worker (None: nothing to render)."""
        raise NotImplementedError

    def readiness(self, record: RunRecord, step_id: str) -> tuple[Readiness, str | None] | None:
        """When the step may start, if not by the common rule (None)."""
        return None

    def dispatch(self, record: RunRecord, step_id: str,
                 call: str | None = None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]] | None:
        """The config and upstream outputs its worker gets, if not the drawn config and what its templates read;
        for one of its calls (`call`, sent with `Change.send_to_worker`), that call's."""
        return None

    def worker_result(self, change: Change, step_id: str, result: StepResult, output_ref: str | None) -> None:
        """A worker's report on one of the calls it sent its step to workers for, after `begin` (the state machine
        has checked it is of the step's current attempt; a repeat after a crash is the handler's to recognise).
        `output_ref`: its output was stored apart (the result still carries it)."""

    def timer(self, change: Change, step_id: str, timer: TimerDue) -> None:
        """A timer it set is due (the state machine has checked it is the step's current one)."""

    def resumed(self, change: Change, step_id: str, resume: ResumeRequested) -> None:
        """Its resume URL was called."""

    def child_started(self, change: Change, step_id: str, run_id: str) -> None:
        """A child run it asked for is recorded (and starting)."""

    def child_finished(self, change: Change, step_id: str, outcome: ChildOutcome) -> None:
        """A child run it started has ended."""

    def child_not_started(self, change: Change, step_id: str, run_id: str, reason: str) -> None:
        """A child run it asked for could not be started (no such workflow, inputs refused, too deep): by default
        the attempt fails, saying why."""
        change.fail_attempt(step_id, reason)

    def collected(self, change: Change, step_id: str, collected: Collected) -> None:
        """The results it asked to be gathered are stored."""

    def described(self, change: Change, step_id: str, described: Described) -> None:
        """The saved workflows it asked to have described (`change.describe`) are."""

    def stop(self, change: Change, step_id: str, why: str) -> bool:
        """The run is failing or cancelled while the step is unfinished: end what it holds (child runs). True when
        it has recorded the step's end itself."""
        return False

    def in_flight(self, record: RunRecord, step_id: str, transition: Transition) -> None:
        """After a crash: add what should be on its way for this begun step (timers, child runs) to `transition`."""
