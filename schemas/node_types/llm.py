"""llm: one call to an OpenAI-compatible Chat Completions API (OpenAI, Ollama, vLLM, LM Studio…). Declared here
once; executed by engine/nodes/llm.py through engine/chat_api.py."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from .._base import Contract
from ..credentials import CredentialName
from ..input_schema import object_schema
from ._registry import REGISTRY, FieldUi, NodeType, NodeUi
from .http import checked_url

DEFAULT_LLM_BASE_URL = "https://api.openai.com/v1"
DEFAULT_LLM_TIMEOUT_MS = 120_000  # models answer long prompts slowly; an HTTP step's 30 s would cut them off
MAX_JSON_SCHEMA_BYTES = 16_384
MAX_PROMPT_CHARS = 100_000  # the drawn template; what it renders to is bounded by the renderer's caps


class LlmConfig(Contract):
    """One chat completion. `responseFormat: "json"` asks for a JSON object and parses it; with `jsonSchema` the model
    is asked for that schema (OpenAI structured outputs, strict) and the answer is checked against it here too."""

    baseUrl: str = Field(default=DEFAULT_LLM_BASE_URL, min_length=1, max_length=2048,
                         description="the API's base URL; the step POSTs to {baseUrl}/chat/completions")
    credentialName: CredentialName | None = Field(
        default=None, description="the stored credential holding the API key, sent as Authorization: Bearer; none for a local "
                    "server that needs no key")
    model: str = Field(min_length=1, max_length=200)
    system: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS, description="the system message (templated)")
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, description="the user message (templated)")
    temperature: float | None = Field(default=None, ge=0, le=2)
    maxTokens: int | None = Field(default=None, ge=1, le=1_000_000, description="sent as max_tokens")
    responseFormat: Literal["text", "json"] = Field(
        default="text", description="text: the answer as text. json: a JSON object, parsed into the output's `json`")
    jsonSchema: dict[str, Any] | None = Field(
        default=None, description="with responseFormat json: a JSON Schema (Draft 2020-12, type object) the answer "
                                  "must satisfy")
    timeoutMs: int | None = Field(default=None, ge=1000, le=600_000)

    @field_validator("baseUrl")
    @classmethod
    def _base_url(cls, url: str) -> str:
        return checked_url(url, templated=False).rstrip("/")

    @field_validator("jsonSchema")
    @classmethod
    def _json_schema(cls, schema: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
        if schema is None:
            return None
        if info.data.get("responseFormat") != "json":
            raise ValueError('applies only when responseFormat is "json"')
        return checked_answer_schema(schema)


def checked_answer_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema an answer is checked against: both OpenAI's JSON modes answer an object, and it is sent with every
    call, so small."""
    return object_schema(schema, MAX_JSON_SCHEMA_BYTES, "JSON answers are objects")


LLM = REGISTRY.register(NodeType(
    order=62,
    type="llm", kind="action", title="AI Model", description="Ask an OpenAI-compatible model (OpenAI, Ollama, vLLM…)",
    config=LlmConfig, templated={"system": "text", "prompt": "text"}, credential_fields=("credentialName",),
    ui=NodeUi(
        glyph="✦", accent="#7c3aed", defaultLabel="AI Model", summary="{model}", idPrefix="llm", errorHandling=True,
        defaults={"baseUrl": DEFAULT_LLM_BASE_URL, "model": "", "prompt": "", "responseFormat": "text",
                  "timeoutMs": DEFAULT_LLM_TIMEOUT_MS},
        outputFields={"text": "the model's answer, as text", "json": "the answer parsed (responseFormat json)",
                      "model": "the model that answered", "finishReason": "why it stopped: stop, length…",
                      "usage.promptTokens": "tokens in the prompt", "usage.completionTokens": "tokens in the answer"},
        fields={
            "baseUrl": FieldUi(widget="text", label="API base URL", order=0, monospace=True,
                               placeholder=DEFAULT_LLM_BASE_URL,
                               help="Any OpenAI-compatible API: Ollama is http://localhost:11434/v1."),
            "credentialName": FieldUi(widget="credential", label="API key", order=1,
                                      help="Sent as Authorization: Bearer <key>. The key stays on the server."),
            "model": FieldUi(widget="text", label="Model", order=2, monospace=True, placeholder="gpt-4o-mini"),
            "system": FieldUi(widget="textarea", label="System message", order=3, templated=True,
                              placeholder="You are a concise assistant."),
            "prompt": FieldUi(widget="textarea", label="Prompt", order=4, templated=True,
                              placeholder="Summarise: {{ steps.http_1.output.body.text }}"),
            "responseFormat": FieldUi(widget="select", label="Answer as", order=5,
                                      optionLabels={"text": "Text", "json": "JSON object"}),
            "jsonSchema": FieldUi(widget="json", label="JSON Schema of the answer", order=6,
                                  help="Optional, with JSON: the answer must satisfy it, or the step fails."),
            "temperature": FieldUi(widget="number", label="Temperature", order=7, placeholder="0.2"),
            "maxTokens": FieldUi(widget="number", label="Max tokens", order=8, placeholder="1024"),
            "timeoutMs": FieldUi(widget="number", label="Timeout (ms)", order=9, placeholder="120000"),
        },
    ),
))
