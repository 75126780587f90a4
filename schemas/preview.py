"""POST /v1/expressions/preview: an expression's value against a run's data or a sample, and the bus request the
gateway sends for it to an engine worker (`expressions.preview`), which alone renders user templates."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from ._base import Contract
from .limits import SHALLOW
from .runs import RUN_ID_PATTERN

# template: rendered as a templated field is (a whole `{{ expr }}` keeps its type, anything else is text);
# condition: as an If's condition, one expression written bare (`payload.body.amount > 100`) or in `{{ }}`.
PreviewMode = Literal["template", "condition"]

# What `getCredential('x')` gives a preview for a credential that exists: its value is never read for one.
MASKED_CREDENTIAL = "••••"


class PreviewSample(Contract):
    payload: Annotated[Any, SHALLOW] = Field(default=None, description="what the trigger brings (`payload…`)")
    inputs: Annotated[dict[str, Any], SHALLOW] = Field(default_factory=dict, description="the run's inputs")
    steps: Annotated[dict[str, Any], SHALLOW] = Field(
        default_factory=dict, description="node id -> that step's output, read as `steps.<id>.output`")


class PreviewContext(Contract):
    """A run's data (as step `stepId` saw it, or would see it) or a sample: one of the two."""

    runId: str | None = Field(default=None, pattern=RUN_ID_PATTERN)
    stepId: str | None = Field(default=None, min_length=1, max_length=200,
                               description="with runId: only the outputs of this step's ancestors, as it sees them")
    sample: PreviewSample | None = None

    @model_validator(mode="after")
    def _one_source(self) -> PreviewContext:
        if (self.runId is None) == (self.sample is None):
            raise ValueError("send either runId (a run's data, with stepId optional) or sample, not both"
                             if self.sample is not None else
                             "send either runId (a run's data, with stepId optional) or sample")
        if self.stepId is not None and self.runId is None:
            raise ValueError("stepId belongs to a run: send runId with it")
        return self


class PreviewExpression(Contract):
    expression: str = Field(description="a template (`Hello {{ payload.name }}`) or, in condition mode, one "
                            "expression")
    context: PreviewContext
    mode: PreviewMode = "template"


class ExpressionPreview(Contract):
    """The answer: `value`, or `error` in words (what the step would fail with). The REST answer and the engine's
    reply on the bus alike."""

    value: Any = None
    error: str | None = None


class PreviewRequest(Contract):
    """Sent on `expressions.preview` by the gateway; one engine worker answers with an ExpressionPreview. The
    variables are shaped as a StepDispatch's, references to outputs stored apart included (the engine reads them,
    as for a step); credentials are names only, never values."""

    v: Literal[1] = 1
    expression: str
    mode: PreviewMode = "template"
    inputs: dict[str, Any] = Field(default_factory=dict)
    inputsRef: str | None = None
    steps: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="{nodeId: {output | outputRef, status, error?}}, as a dispatch carries them")
    loop: dict[str, Any] | None = None
    credentials: list[str] = Field(default_factory=list, description="the names of the credentials that exist")
