"""code: a few lines of JavaScript, run in the worker's sandbox (engine/js_sandbox.py). What they return is the
step's output; console lines are its logs. No credential is revealed to a code step, and nothing it returns or
logs leaves without passing the step runner's scrubber."""

from __future__ import annotations

from schemas import LogEntry
from schemas.node_types import CodeConfig

from ..errors import StepFailed
from ..js_sandbox import default_sandbox
from .base import NodeOutcome, StepContext


async def run_code(config: CodeConfig, context: StepContext) -> NodeOutcome:
    dispatch = context.dispatch
    data = {"inputs": dispatch.inputs, "steps": dispatch.steps, "loop": dispatch.loop}
    result = await default_sandbox().run(config.code, data, config.timeoutMs, config.memoryMb)
    logs = [LogEntry(level=level, msg=text, stepId=dispatch.stepId) for level, text in result.logs]
    if result.failure is not None:
        # Only a timeout may go otherwise another time: timeoutMs counts the worker's CPU time, which other work
        # shares. The rest (a throw, the memory cap, a bad return value) would fail the same way again.
        raise StepFailed(result.message, retryable=result.failure == "timeout", logs=logs)
    return NodeOutcome(output=result.output, logs=logs)
