"""webhook: a run started by an HTTP request to the workflow's own unguessable URL. The gateway receives and
verifies it; like Start, it completes in the orchestrator, and its output is the payload it received."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .._base import Contract
from ..credentials import CREDENTIAL_NAME_MAX, CREDENTIAL_NAME_PATTERN
from ._registry import REGISTRY, FieldUi, NodeType, NodeUi

MAX_RESPONSE_TIMEOUT_MS = 120_000
# dedupeKey is a path into the payload, as {{payload.body.id}}: the gateway resolves it before any run exists.
DEDUPE_PATH = re.compile(r"^\s*\{\{\s*(payload(?:\.[A-Za-z0-9_-]+)+)\s*\}\}\s*$")


class WebhookVerify(Contract):
    kind: Literal["none", "stripe", "hmac-sha256"] = "none"
    credentialName: str | None = Field(default=None, min_length=1, max_length=CREDENTIAL_NAME_MAX,
                                       pattern=CREDENTIAL_NAME_PATTERN)
    header: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$")

    @model_validator(mode="after")
    def _complete(self) -> WebhookVerify:
        if self.kind != "none" and self.credentialName is None:
            raise ValueError("checking the signature needs a signing secret: choose the credential that holds it")
        if self.kind == "hmac-sha256" and self.header is None:
            raise ValueError("an HMAC-SHA256 check needs a signature header: the request header that carries it")
        return self


WebhookMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class WebhookConfig(Contract):
    methods: list[WebhookMethod] = Field(
        default=["POST"], min_length=1, max_length=5,
        description="the HTTP methods the URL accepts; any other is answered 405 with Allow. A GET's payload.body is "
                    "its query parameters",
    )
    responseMode: Literal["onReceived", "lastNode"] = Field(
        default="onReceived",
        description="onReceived: 202 {runId} at once. lastNode: wait for the run and answer its last step's output",
    )
    responseTimeoutMs: int = Field(default=30_000, ge=100, le=MAX_RESPONSE_TIMEOUT_MS)
    verify: WebhookVerify = Field(default_factory=WebhookVerify)
    dedupeKey: str | None = Field(
        default=None, max_length=200,
        description="{{payload.body.id}}: a second request with the same value within 24 h starts nothing",
    )

    @field_validator("methods")
    @classmethod
    def _distinct_methods(cls, methods: list[WebhookMethod]) -> list[WebhookMethod]:
        if len(set(methods)) != len(methods):
            raise ValueError("lists a method twice")
        return methods

    @field_validator("dedupeKey")
    @classmethod
    def _path(cls, key: str | None) -> str | None:
        if key is not None and key.strip() and not DEDUPE_PATH.match(key):
            raise ValueError("must be one path into the payload, as {{payload.body.id}} or {{payload.headers.x-event-id}}")
        return key.strip() or None if key is not None else None


WEBHOOK = REGISTRY.register(NodeType(
    order=1,
    type="webhook", kind="trigger", title="Webhook", description="Start a run when a request reaches this workflow's URL",
    config=WebhookConfig, inputs=(), completes="trigger", credential_fields=("verify",),
    ui=NodeUi(
        glyph="⚡", accent="#16a34a", defaultLabel="Webhook", summary="{methods}, {responseMode}", idPrefix="webhook",
        outputFields={"payload.body": "the request body: parsed JSON, a form's fields, or text; a GET's query",
                      "payload.headers": "request headers (secrets masked)", "payload.query": "query parameters",
                      "payload.method": "the HTTP method"},
        defaults={"methods": ["POST"], "responseMode": "onReceived", "verify": {"kind": "none"}},
        fields={
            "methods": FieldUi(widget="list", label="Methods", order=-1, placeholder="POST",
                               help="GET, POST, PUT, PATCH or DELETE. Any other method is answered 405."),
            "responseMode": FieldUi(widget="select", label="Answer", order=0,
                                    optionLabels={"onReceived": "At once: 202 with the run id",
                                                  "lastNode": "When done: the last step's output"},
                                    help="When done waits at most the time below, then answers 202 with the run id."),
            "responseTimeoutMs": FieldUi(widget="number", label="Wait at most (ms)", order=1, placeholder="30000"),
            "verify": FieldUi(widget="signature", label="Check the signature", order=2,
                              optionLabels={"none": "Don't check", "stripe": "Stripe (Stripe-Signature)",
                                            "hmac-sha256": "HMAC-SHA256 of the body, in a header"},
                              help="A request whose signature does not match gets 401 and starts no run."),
            "dedupeKey": FieldUi(widget="text", label="Deduplicate on", order=3, monospace=True,
                                 placeholder="{{payload.body.id}}",
                                 help="The same value within 24 h answers the first run and starts nothing."),
        },
    ),
))
