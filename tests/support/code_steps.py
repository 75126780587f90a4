"""Running code steps through the step runner, as a worker does: the real sandbox, no server needed."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import StepFailed
from engine.nodes import NodeContext, NodeOutcome
from engine.step_runner import run_step
from schemas import StepDispatch


def code_step(code: str, *, steps: dict[str, Any] | None = None, inputs: dict[str, Any] | None = None,
              loop: dict[str, Any] | None = None, step_id: str = "code_1", **config: Any) -> StepDispatch:
    return StepDispatch(runId="run-code", stepId=step_id, name="Code", type="code", config={"code": code, **config},
                        steps=steps or {}, inputs=inputs or {}, loop=loop)


async def succeed(context: NodeContext, code: str, **options: Any) -> NodeOutcome:
    return await run_step(code_step(code, **options), context)


async def output_of(context: NodeContext, code: str, **options: Any) -> Any:
    return (await succeed(context, code, **options)).output


async def failure_of(context: NodeContext, code: str, **options: Any) -> StepFailed:
    with pytest.raises(StepFailed) as caught:
        await run_step(code_step(code, **options), context)
    return caught.value
