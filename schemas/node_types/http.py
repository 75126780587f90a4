"""http: one HTTP request. Declared here once; executed by engine/nodes/http.py."""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from .._base import Contract
from ..credentials import CREDENTIAL_NAME_MAX, CREDENTIAL_NAME_PATTERN
from ._registry import REGISTRY, FieldUi, NodeType, NodeUi

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]

DEFAULT_HTTP_TIMEOUT_MS = 30_000
# RFC 9110: a header name is a token; a value has no control character but tab (aiohttp refuses them at send time,
# which used to surface as an internal error).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def checked_url(url: str, templated: bool = True) -> str:
    """An http(s) URL, stripped, or a ValueError saying what is wrong. `templated`: a URL with {{ }} is resolved by
    the engine just before the call and checked then; otherwise a template is refused (the field is not rendered)."""
    stripped = url.strip()
    if "{{" in stripped and not templated:
        raise ValueError("is not templated: write the URL itself")
    if stripped.startswith("{{"):
        return stripped
    if not stripped.lower().startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    if "{{" in stripped:
        return stripped  # host or port may be templated; checked once resolved
    try:
        parts = urlsplit(stripped)
        parts.port  # noqa: B018 - raises ValueError when out of range
    except ValueError as error:
        raise ValueError(f"is not a valid URL ({error})") from None
    if not parts.hostname:
        raise ValueError("needs a host, as in https://example.com/path")
    if any(c.isspace() for c in stripped):
        raise ValueError("must not contain spaces (encode them as %20)")
    return stripped


class HttpAuth(Contract):
    credentialName: str = Field(min_length=1, max_length=CREDENTIAL_NAME_MAX, pattern=CREDENTIAL_NAME_PATTERN)


class HttpConfig(Contract):
    """An HTTP request. `body` is sent as-is; `json_body` is serialised as JSON. Not both."""

    method: HttpMethod = "GET"
    url: str = Field(min_length=1, max_length=8192)
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    json_body: Any = None
    auth: HttpAuth | None = None
    timeoutMs: int | None = Field(default=None, ge=1, le=300_000)
    sendIdempotencyKey: bool = Field(default=True, description="POST, PUT, PATCH and DELETE send Idempotency-Key: <runId>-<stepId>, the same on every "
        "retry and redelivery, unless the headers set one",
    )

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, url: str) -> str:
        return checked_url(url)

    @field_validator("headers")
    @classmethod
    def _header_names(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"invalid header name {name[:70]!r}: letters, digits and !#$%&'*+-.^_`|~ only")
            if "\r" in value or "\n" in value:
                raise ValueError(f"header {name!r} must not contain line breaks")
            if _CONTROL.search(value):
                raise ValueError(f"header {name!r} must not contain control characters")
        return headers

    @model_validator(mode="after")
    def _one_body(self) -> HttpConfig:
        if self.body is not None and self.json_body is not None:
            raise ValueError("set either body or json_body, not both")
        return self


HTTP = REGISTRY.register(NodeType(
    order=10,
    type="http", kind="action", title="HTTP Request", description="Call any URL with a method, headers and body",
    config=HttpConfig, aliases=("http_request_node",),
    templated={"url": "text", "headers": "text", "body": "text", "json_body": "value"},
    credential_fields=("auth",),
    ui=NodeUi(
        glyph="H", accent="#4f46e5", defaultLabel="HTTP Request", summary="{method} {url}", idPrefix="http",
        outputFields={"status": "the HTTP status, as a number", "headers": "response headers",
                      "body": "the response body: parsed JSON, or text"},
        errorHandling=True, defaults={"method": "GET", "url": "", "headers": {}, "timeoutMs": DEFAULT_HTTP_TIMEOUT_MS},
        fields={
            "method": FieldUi(widget="select", label="Method", order=0),
            "url": FieldUi(widget="text", label="URL", order=1, templated=True, monospace=True,
                           placeholder="https://api.example.com/hook"),
            "headers": FieldUi(widget="keyValue", label="Headers", order=2, templated=True),
            "json_body": FieldUi(widget="body", label="Body", order=3, templated=True, aliases=["body"]),
            "auth": FieldUi(widget="credential", label="Credential", order=4,
                            help="Sent as Authorization: Bearer <secret>. The secret stays on the server."),
            "timeoutMs": FieldUi(widget="number", label="Timeout (ms)", order=5, placeholder="30000"),
            "sendIdempotencyKey": FieldUi(
                widget="switch", label="Send Idempotency-Key", order=6,
                help="POST, PUT, PATCH, DELETE: the same key on every retry, so APIs that support it act once."),
        },
    ),
))
