"""Node types and their configuration: one declaration per node type."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ._base import Contract

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]

DEFAULT_HTTP_TIMEOUT_MS = 30_000


class HttpAuth(Contract):
    credentialName: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class HttpConfig(Contract):
    """An HTTP request. `body` is sent as-is; `json_body` is serialised as JSON. Not both."""

    method: HttpMethod = "GET"
    url: str = Field(min_length=1, max_length=8192)
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    json_body: Any = None
    auth: HttpAuth | None = None
    timeoutMs: int | None = Field(default=None, ge=1, le=300_000)

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, url: str) -> str:
        stripped = url.strip()
        # A template ("{{webhookUrl}}") is resolved by the engine just before the call.
        if stripped.startswith("{{") or stripped.lower().startswith(("http://", "https://")):
            return stripped
        raise ValueError("must start with http:// or https://")

    @field_validator("headers")
    @classmethod
    def _header_names(cls, headers: dict[str, str]) -> dict[str, str]:
        for name in headers:
            if not name.strip() or any(c in name for c in " :\r\n"):
                raise ValueError(f"invalid header name {name!r}")
        return headers

    @model_validator(mode="after")
    def _one_body(self) -> HttpConfig:
        if self.body is not None and self.json_body is not None:
            raise ValueError("set either body or json_body, not both")
        return self


class StartConfig(Contract):
    """Start takes no configuration; it is the run's trigger and outputs the run's inputs."""


# Builder node type -> (engine step type, config model).
NODE_TYPES: dict[str, tuple[str, type[Contract]]] = {
    "start": ("start", StartConfig),
    "http": ("http_request_node", HttpConfig),
}

StepType = Literal["start", "http_request_node"]
