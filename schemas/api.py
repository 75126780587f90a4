"""REST bodies of the gateway."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, ValidationInfo, field_validator

from ._base import Contract
from .errors import FieldIssue
from .auth import SignInConflict
from .limits import SHALLOW
from .messages import Workflow
from .runs import RunStatus
from .workflows import WORKFLOW_ID_PATTERN


class CreateRun(Contract):
    """POST /v1/runs: a draft (`graph`) or a saved workflow (`workflowId`, and `version`, default the latest)."""

    # Declared before graph, so graph's check below can see them.
    workflowId: str | None = Field(default=None, pattern=WORKFLOW_ID_PATTERN, description="a saved workflow's id")
    version: int | None = Field(default=None, ge=1)
    graph: Workflow | None = Field(default=None, validate_default=True)
    inputs: Annotated[dict[str, Any], SHALLOW] = Field(default_factory=dict)
    idempotencyKey: str | None = Field(default=None, min_length=1, max_length=200)
    pinData: Annotated[dict[str, Any], SHALLOW] = Field(
        default_factory=dict, description="node id -> its pinned output: the node is not executed, its step succeeds "
        "with this (`pinned: true`); a trigger's is what the run begins with (its inputs)")
    runTo: str | None = Field(default=None, min_length=1, description="a partial run: only this node and the "
                              "ancestors it needs run (not past a pinned one); every other step is skipped")

    @field_validator("graph")
    @classmethod
    def _one_source(cls, graph: Any, info: ValidationInfo) -> Any:
        saved = info.data.get("workflowId") is not None
        if (graph is None) != saved:
            raise ValueError("send either graph (a draft) or workflowId (a saved workflow), not both" if saved
                             else "send either graph (a draft) or workflowId (a saved workflow)")
        if info.data.get("version") is not None and not saved:
            raise ValueError("a version belongs to a saved workflow: send workflowId with it")
        return graph


class CreateRunResponse(Contract):
    runId: str


class RunResult(Contract):
    """`POST /v1/runs?wait=SECONDS`, for a run that ended within the wait: how it ended, and what its last succeeded
    step returned (what a `lastNode` webhook answers)."""

    runId: str
    status: RunStatus
    error: str | None = None
    output: Any = None
    durationMs: float | None = None


class IdempotencyClaim(Contract):
    """Stored in the `idempotency` KV bucket under a hash of the key: which run the key started, for which body."""

    runId: str
    fingerprint: str


class CancelAccepted(Contract):
    """The 202 answer to POST /v1/runs/{id}/cancel: the cancel is queued for the orchestrator."""

    runId: str


class ValidateWorkflow(Contract):
    graph: Workflow


class ValidatedStep(Contract):
    id: str
    name: str
    type: str
    deps: list[str]


class ValidationResponse(Contract):
    ok: Literal[True] = True
    workflowName: str
    steps: list[ValidatedStep]
    inputs: list[str] = Field(default_factory=list, description="the run inputs its templates read, as databaseId or customer.email (never payload…, which the trigger brings)")


class TemplateInfo(Contract):
    id: str
    name: str
    description: str | None = None


class TemplateList(Contract):
    templates: list[TemplateInfo]


ErrorCode = Literal[
    "validation_error", "not_found", "idempotency_conflict", "conflict", "bad_request", "unavailable", "internal_error",
    "unauthorized", "run_failed", "unauthenticated", "forbidden", "in_use", "method_not_allowed",
    # A wait step's resume URL called when the step no longer waits for it (POST /v1/resume/{token}).
    "already_resumed", "timed_out", "not_waiting",
]

MAX_APPROVAL_COMMENT = 4000


class ResumeApproval(Contract):
    """POST /v1/resume/{token} to a wait step in approval mode: as JSON, or as the approval page's form
    (`approved=true|false&comment=…`)."""

    approved: StrictBool = Field(description="true: approved; false: rejected")
    comment: str | None = Field(default=None, max_length=MAX_APPROVAL_COMMENT)


class ResumeAccepted(Contract):
    """The 200 answer to POST /v1/resume/{token}: the answer is on its way to the step."""

    runId: str
    stepId: str


class HookAccepted(Contract):
    """A webhook's answer (200) to a repeat of a deduplicated event: the run the first one started."""

    runId: str
    duplicate: bool = True


class WorkflowRef(Contract):
    """A saved workflow named in an error: which one, and whether its triggers are live."""

    id: str
    name: str
    active: bool = False


class ErrorBody(Contract):
    code: ErrorCode
    message: str
    fields: list[FieldIssue] = Field(default_factory=list)
    usedBy: list[WorkflowRef] | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="in_use: the saved workflows that still use what was to be deleted")
    signIn: SignInConflict | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="conflict on POST /v1/session: signed in as someone else; send replace: true to switch")


class ApiError(Contract):
    error: ErrorBody
