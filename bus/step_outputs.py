"""`StepOutputs`: large step outputs and requests, stored apart from the run's state, one KV entry per attempt.

A step whose result is large keeps only a reference in the run (StepState.outputRef), so the run's changes stay
small however much its steps return. The entry is written once, by the orchestrator, before the change that
refers to it; it is read when someone asks: the worker whose templates use it, or GET …/steps/{id}/output.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from schemas import StepDispatch
from schemas.runs import StepOutput, StepRequest, StepState


def output_ref(run_id: str, step_id: str, attempt: int, call: str | None = None) -> str:
    """Where a large result is kept: per attempt, and per call within it (an agent's calls)."""
    return f"{run_id}.{step_id}.{attempt}" + (f".{call}" if call is not None else "")


class StepOutputs:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def put(self, ref: str, output: Any, request: StepRequest | None) -> None:
        # The same attempt's result redelivered writes the same entry again: harmless.
        await self.kv.put(ref, StepOutput(output=output, request=request).model_dump_json().encode())

    async def get(self, ref: str) -> StepOutput | None:
        try:
            entry = await self.kv.get(ref)
        except KeyNotFoundError:
            return None
        return StepOutput.model_validate_json(entry.value) if entry.value else None

    async def output_of(self, step: StepState) -> Any:
        """A step's output, wherever it is kept."""
        if step.outputRef is None:
            return step.output
        stored = await self.get(step.outputRef)
        return stored.output if stored is not None else None

    async def resolve(self, dispatch: StepDispatch) -> StepDispatch:
        """The dispatch with the outputs it refers to read in, for its templates."""
        if dispatch.inputsRef is None and not any("outputRef" in left for left in dispatch.steps.values()):
            return dispatch
        return dispatch.model_copy(update={"inputs": await self.inputs_of(dispatch.inputs, dispatch.inputsRef),
                                           "inputsRef": None, "steps": await self.steps_of(dispatch.steps)})

    async def inputs_of(self, inputs: dict[str, Any], inputs_ref: str | None) -> dict[str, Any]:
        """A run's inputs, read in when they are stored apart (`inputs_ref`, a loop item's large inputs)."""
        if inputs_ref is None:
            return inputs
        stored = await self.get(inputs_ref)
        return stored.output if stored is not None and isinstance(stored.output, dict) else {}

    async def steps_of(self, steps: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """What earlier steps left ({nodeId: {output | outputRef, …}}) with each stored output read in."""
        refs = {step_id: left["outputRef"] for step_id, left in steps.items() if "outputRef" in left}
        if not refs:
            return steps
        resolved = dict(steps)
        found = await asyncio.gather(*(self.get(ref) for ref in refs.values()))
        for step_id, stored in zip(refs, found, strict=True):
            left = {key: value for key, value in resolved[step_id].items() if key != "outputRef"}
            resolved[step_id] = {**left, "output": stored.output if stored is not None else None}
        return resolved
