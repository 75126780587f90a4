"""POST /v1/expressions/preview: an expression's value as a step would see it, rendered by an engine worker.

The gateway never evaluates a user's template (the engine alone renders, with its sandbox and caps): it gathers
the variables, from a run or a sample, and the names of the credentials that exist, never a value, and asks any
running engine over `expressions.preview`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bus import Bus, NoEngine, TooLarge
from schemas import FieldIssue
from schemas.preview import PreviewContext, PreviewExpression, PreviewRequest, PreviewSample

from .app_state import bus_of, credentials_of
from .errors import ApiException, parse_body, read_body

# Someone is typing: an answer later than this is not worth waiting for, and one engine renders in milliseconds.
PREVIEW_TIMEOUT_S = 2.0


async def preview_expression(request: Request) -> Response:
    body = parse_body(PreviewExpression, await read_body(request))
    bus = bus_of(request)
    context = body.context
    if context.sample is not None:
        variables = _sample_variables(context.sample)
    else:
        variables = await _run_variables(bus, context)
    ask = PreviewRequest(expression=body.expression, mode=body.mode,
                         credentials=sorted(await credentials_of(request).names()), **variables)
    try:
        answer = await bus.preview(ask, PREVIEW_TIMEOUT_S)
    except NoEngine as error:
        raise ApiException(503, "unavailable", f"no engine is running to preview expressions ({error}); start one "
                           "(`automateos engine`, or `automateos up`)", headers={"Retry-After": "1"}) from None
    except TooLarge as error:
        raise ApiException(413, "bad_request", str(error), [FieldIssue(field="context", reason=str(error))]) from None
    # `{value}` or `{error}`: a null value is a value, so only what the engine set is written.
    return Response(answer.model_dump_json(exclude_unset=True), media_type="application/json")


def _sample_variables(sample: PreviewSample) -> dict[str, Any]:
    """A sample, shaped as a dispatch carries a run's data: `payload` among the inputs, and each step's output
    under `steps.<id>.output`."""
    inputs = dict(sample.inputs)
    if "payload" in sample.model_fields_set:
        inputs["payload"] = sample.payload
    steps = {step_id: {"output": output, "status": "succeeded"} for step_id, output in sample.steps.items()}
    return {"inputs": inputs, "steps": steps}


async def _run_variables(bus: Bus, context: PreviewContext) -> dict[str, Any]:
    """A run's data as step `stepId` saw it (or would see it): the run's inputs and what its ancestors left; without
    a stepId, what every step that finished left. Outputs stored apart travel as references, as in a dispatch, and
    the engine reads them: the request stays small however much the run's steps returned."""
    assert context.runId is not None
    found = await bus.runs.get(context.runId)
    if found is None:
        raise ApiException(404, "not_found", f"no run with id {context.runId!r}",
                           [FieldIssue(field="context.runId", reason="names no run")])
    record = found[0]
    if context.stepId is None:
        candidates = [*(step.id for step in record.dag.steps), *record.outer]
    elif record.dag.has(context.stepId):
        # Its ancestors, not only those it reads now: the expression being typed may read any of them.
        candidates = [*record.dag.ancestors(context.stepId), *record.outer]
    else:
        raise ApiException(422, "validation_error", f"run {record.id} has no step {context.stepId!r}",
                           [FieldIssue(field="context.stepId", reason=f"run {record.id} has no step with this id")])
    steps = {step_id: left for step_id in candidates if (left := record.left_by(step_id)) is not None}
    return {"inputs": record.inputs, "inputsRef": record.inputsRef, "steps": steps, "loop": record.loop}
