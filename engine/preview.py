"""An expression's value for the builder, rendered as a step would render it: the same Renderer, sandbox and caps.

A preview never reads a credential: the gateway sends the names that exist, and `getCredential('x')` gives a
Secret whose value is MASKED_CREDENTIAL. So nothing here can leak one, whatever the expression.
"""

from __future__ import annotations

import logging

import pydantic_core
from pydantic import ValidationError

from bus import StepOutputs
from schemas.preview import MASKED_CREDENTIAL, ExpressionPreview, PreviewRequest

from .errors import StepFailed
from .templating import MAX_TEMPLATE_CHARS, Renderer, credential_names

log = logging.getLogger(__name__)

_WHERE = "the expression"


async def answer_preview(data: bytes, outputs: StepOutputs) -> ExpressionPreview:
    """The answer to one request on `expressions.preview`; never raises, so no request can stop the worker."""
    try:
        request = PreviewRequest.model_validate_json(data)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False)
        log.warning("malformed preview request: %s", problems)
        return ExpressionPreview(error=f"malformed preview request: {problems[0]['msg']}")
    try:
        # Outputs stored apart are read in as for a step's dispatch.
        request = request.model_copy(update={"inputs": await outputs.inputs_of(request.inputs, request.inputsRef),
                                             "inputsRef": None, "steps": await outputs.steps_of(request.steps)})
        return rendered(request)
    except Exception as error:  # the worker goes on whatever one preview does
        log.exception("a preview failed")
        return ExpressionPreview(error=f"internal error in the engine's preview: {type(error).__name__}")


def rendered(request: PreviewRequest) -> ExpressionPreview:
    """Synchronous, as a step's render is: it holds the worker's loop no longer than a templated field would."""
    source = request.expression
    try:
        # Before any parsing: credential_names parses what names getCredential, and the renderer checks this later.
        if len(source) > MAX_TEMPLATE_CHARS:
            raise StepFailed(f"the template in {_WHERE} is longer than {MAX_TEMPLATE_CHARS} characters")
        existing = set(request.credentials)
        # Only the credentials it names, as a step's: the renderer hides an error's details once any is in play.
        masked = {name: MASKED_CREDENTIAL for name in credential_names(source) if name in existing}
        render = Renderer(request.inputs, request.steps, masked, request.loop)
        if request.mode == "condition":
            value = render.expression(source, _WHERE)
        else:
            value = render.value(source, _WHERE)
        render.bounded(value, _WHERE)
        pydantic_core.to_json(value)
    except StepFailed as failure:
        return ExpressionPreview(error=failure.message)
    except pydantic_core.PydanticSerializationError:
        return ExpressionPreview(error=f"{_WHERE}'s value cannot be written as JSON (a variable inside it may be "
                                 "undefined)")
    return ExpressionPreview(value=value)
