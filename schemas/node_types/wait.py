"""wait: pause the run until someone approves or rejects it, or a callback arrives, or the timeout passes.

The step holds no worker while it waits: the orchestrator keeps a timer for the timeout, and the resume URL
(`/v1/resume/{token}`) brings the answer; both survive restarts of every process."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .._base import Contract
from ._registry import REGISTRY, DynamicOutputs, FieldUi, Handle, NodeType, NodeUi

MAX_WAIT_S = 30 * 24 * 3600
DEFAULT_WAIT_S = 24 * 3600
MAX_WAIT_MESSAGE = 4000


class WaitConfig(Contract):
    resume: Literal["webhook", "approval"] = Field(default="approval", description="webhook: a POST to the resume "
                                                   "URL goes on; approval: a person approves or rejects")
    timeoutSeconds: int = Field(default=DEFAULT_WAIT_S, ge=1, le=MAX_WAIT_S, description="1 s to 30 days")
    message: str = Field(default="", max_length=MAX_WAIT_MESSAGE, description="shown to the approver (templated)")


_TIMEOUT = Handle(id="timeout", label="timeout")

def _wait_pinned(config: dict[str, Any], output: Any) -> list[str]:
    """As the step would end: {"timedOut": true} from timeout, else an approval's verdict or a callback received."""
    if isinstance(output, dict) and output.get("timedOut") is True:
        return ["timeout"]
    if config.get("resume", "approval") == "webhook":
        return ["received"]
    if not isinstance(output, dict) or not isinstance(output.get("approved"), bool):
        raise ValueError('an approval\'s pinned output says how it was answered: {"approved": true|false}, or '
                         '{"timedOut": true}')
    return ["approved" if output["approved"] else "rejected"]


WAIT = REGISTRY.register(NodeType(
    order=52,
    type="wait", kind="logic", title="Wait", description="Wait for an approval or a callback",
    config=WaitConfig, completes="event", templated={"message": "text"}, pinned_handles=_wait_pinned,
    outputs=(Handle(id="approved", label="approved"), Handle(id="rejected", label="rejected"), _TIMEOUT),
    dynamic_outputs=DynamicOutputs(field="resume", byValue={
        "approval": [Handle(id="approved", label="approved"), Handle(id="rejected", label="rejected"), _TIMEOUT],
        "webhook": [Handle(id="received", label="received"), _TIMEOUT],
    }),
    ui=NodeUi(
        glyph="◐", accent="#b45309", defaultLabel="Wait", summary="{resume}", idPrefix="wait",
        defaults={"resume": "approval", "timeoutSeconds": DEFAULT_WAIT_S, "message": ""},
        outputFields={"approved": "approval: true or false", "comment": "approval: the approver's comment",
                      "body": "webhook: the JSON posted", "query": "webhook: the query string",
                      "headers": "webhook: the request's headers (sensitive ones masked)"},
        fields={
            "resume": FieldUi(widget="select", label="Wait for", order=0,
                              optionLabels={"approval": "An approval (Approve / Reject page)",
                                            "webhook": "A callback (POST to the resume URL)"}),
            "message": FieldUi(widget="textarea", label="Message", order=1, templated=True,
                               placeholder="Refund {{ payload.body.amount }} to {{ payload.body.email }}?",
                               help="Shown on the approval page."),
            "timeoutSeconds": FieldUi(widget="number", label="Timeout", order=2, placeholder="1",
                                      help="Then it goes on from 'timeout'. From 1 second to 30 days."),
        },
    ),
))
