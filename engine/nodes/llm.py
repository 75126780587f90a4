"""llm: one chat completion (engine/chat_api.py), its answer checked as the step's responseFormat says."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jsonschema import Draft202012Validator

from schemas import LogEntry
from schemas.node_types import DEFAULT_LLM_TIMEOUT_MS, LlmConfig
from schemas.runs import human_duration

from ..chat_api import ChatRequest, complete, quoted
from ..errors import StepFailed
from .base import NodeOutcome, StepContext

# OpenAI's json_schema name: letters, digits, _ and -, at most 64. Ours names the step's answer, not the schema.
_SCHEMA_NAME = "answer"


async def run_llm(config: LlmConfig, context: StepContext) -> NodeOutcome:
    messages: list[dict[str, Any]] = []
    if config.system:
        messages.append({"role": "system", "content": config.system})
    messages.append({"role": "user", "content": config.prompt})
    call = ChatRequest(
        base_url=config.baseUrl, model=config.model, messages=messages,
        api_key=context.secrets[config.credentialName] if config.credentialName else None,
        temperature=config.temperature, max_tokens=config.maxTokens, response_format=_response_format(config),
        timeout_s=(config.timeoutMs or DEFAULT_LLM_TIMEOUT_MS) / 1000,
    )
    answer = await complete(context.session, call, context.scrub)
    output: dict[str, Any] = {"text": answer.text, "model": answer.model, "finishReason": answer.finish_reason,
                              "usage": answer.usage.as_output()}
    if config.responseFormat == "json":
        output["json"] = _parsed(answer.text, config.jsonSchema, context, answer.request)
    attempt = context.dispatch.attempt
    line = (f"{'attempt ' + str(attempt) + ': ' if attempt > 1 else ''}{answer.model or config.model} answered in "
            f"{human_duration(answer.elapsed_ms)} ({answer.finish_reason or 'no finish reason'}; "
            f"{answer.usage.prompt_tokens} prompt + {answer.usage.completion_tokens} completion tokens)")
    log = LogEntry(ts=datetime.now(UTC), msg=line, stepId=context.dispatch.stepId)
    return NodeOutcome(output=output, logs=[log], request=answer.request)


def _response_format(config: LlmConfig) -> dict[str, Any] | None:
    """As OpenAI documents response_format: json_object asks for any JSON object; json_schema (strict) for one
    satisfying the schema. Text sends nothing, which every compatible server reads as text."""
    if config.responseFormat == "text":
        return None
    if config.jsonSchema is None:
        return {"type": "json_object"}
    return {"type": "json_schema", "json_schema": {"name": _SCHEMA_NAME, "schema": config.jsonSchema, "strict": True}}


def _parsed(text: str, schema: dict[str, Any] | None, context: StepContext, request: Any) -> Any:
    """The answer as JSON, checked against the schema here too: a server that ignores response_format (many local
    ones do) must not pass a wrong answer on as if it were right."""
    try:
        value = json.loads(text)
    except ValueError:
        raise StepFailed(f"the model's answer is not JSON: {quoted(text, context.scrub)!r}", request=request) from None
    if schema is not None:
        errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
        if errors:
            where = "/".join(str(part) for part in errors[0].absolute_path) or "the answer"
            raise StepFailed(f"the model's answer does not satisfy the JSON Schema ({where}: "
                             f"{quoted(errors[0].message, context.scrub)}): {quoted(text, context.scrub)!r}",
                             request=request)
    return value
