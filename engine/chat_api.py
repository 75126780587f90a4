"""One call to an OpenAI-compatible Chat Completions API (POST {baseUrl}/chat/completions).

The llm step makes one call; the agent step makes one per turn, with `tools`, and reads `tool_calls` back, so this
takes messages and tools and returns the assistant message whole. The call goes through the worker's aiohttp session,
so the outbound guard and credential fences apply to it as to any HTTP step, and its failures are the HTTP step's
words (`connection_failure`), with its retry rules (5xx, 408 and 429 retryable, `Retry-After` honoured).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from schemas import StepRequest
from schemas.masking import Scrubber, loggable_url, mask_headers, mask_query
from schemas.runs import human_duration

from .errors import OutboundRefused, StepFailed
from .nodes.http import MAX_BODY_BYTES, connection_failure, read_capped, retry_after_ms, retryable_status

# A completion larger than this is refused rather than kept: a step's output is kept in the run (a code step's
# return value has the same cap).
MAX_ANSWER_BYTES = 1024 * 1024
# How much of an answer an error quotes: enough to recognise it, not a page of it.
QUOTED_CHARS = 200


@dataclass(frozen=True)
class ChatRequest:
    base_url: str
    model: str
    messages: list[dict[str, Any]]
    api_key: str | None = None
    tools: list[dict[str, Any]] | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    response_format: dict[str, Any] | None = None
    timeout_s: float = 120.0

    @property
    def url(self) -> str:
        return f"{self.base_url.rstrip('/')}/chat/completions"

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": self.messages}
        optional = {"tools": self.tools, "temperature": self.temperature, "max_tokens": self.max_tokens,
                    "response_format": self.response_format}
        body.update({name: value for name, value in optional.items() if value is not None})
        return body


@dataclass(frozen=True)
class ChatUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: ChatUsage) -> ChatUsage:
        return ChatUsage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens)

    def as_output(self) -> dict[str, int]:
        return {"promptTokens": self.prompt_tokens, "completionTokens": self.completion_tokens}


@dataclass
class ChatAnswer:
    """The first choice's assistant message as the API gave it (role, content, tool_calls), and what came with it."""

    message: dict[str, Any]
    finish_reason: str | None
    model: str
    usage: ChatUsage
    request: StepRequest
    elapsed_ms: float
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        content = self.message.get("content")
        if isinstance(content, list):  # some servers answer content parts
            return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
        return content if isinstance(content, str) else ""


def quoted(text: str, scrub: Scrubber) -> str:
    """The start of `text` for an error message: scrubbed before it is cut, so a secret straddling the cut leaves
    nothing behind."""
    clean = scrub.text(text)
    return clean if len(clean) <= QUOTED_CHARS else clean[:QUOTED_CHARS] + "…"


async def complete(session: aiohttp.ClientSession, call: ChatRequest, scrub: Scrubber) -> ChatAnswer:
    """Make the call; raises StepFailed (with the request reported) when there is no usable answer."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if call.api_key:
        headers["Authorization"] = f"Bearer {call.api_key}"
    data = json.dumps(call.body()).encode()
    request = _reported_request(call, headers, data, scrub)
    shown = f"POST {loggable_url(call.url)}"

    started = time.perf_counter()
    try:
        async with session.post(call.url, data=data, headers=headers,
                                timeout=aiohttp.ClientTimeout(total=call.timeout_s)) as response:
            raw = await read_capped(response.content, MAX_ANSWER_BYTES + 1)
            status, reason = response.status, response.reason or ""
            retry_after = retry_after_ms(response.headers.get("Retry-After"))
    except (OutboundRefused, TimeoutError, aiohttp.ClientError) as error:
        why, retryable = connection_failure(error, call.url, call.timeout_s)
        raise StepFailed(f"{shown} {why}", retryable=retryable, request=request) from None
    elapsed_ms = (time.perf_counter() - started) * 1000
    took = f"{shown} → HTTP {status} in {human_duration(elapsed_ms)}"

    text = raw.decode("utf-8", errors="replace")
    if not 200 <= status < 300:
        retryable = retryable_status(status)
        raise StepFailed(f"HTTP {status} {reason} from {shown}: {quoted(_api_error(text), scrub)}".replace("  ", " "),
                         log=took, retryable=retryable, retry_after_ms=retry_after if retryable else None,
                         request=request)
    if len(raw) > MAX_ANSWER_BYTES:
        raise StepFailed(f"{shown} answered more than {MAX_ANSWER_BYTES // 1024} KiB", log=took, request=request)
    return _answer(text, scrub, request, elapsed_ms, shown)


def _answer(text: str, scrub: Scrubber, request: StepRequest, elapsed_ms: float, shown: str) -> ChatAnswer:
    try:
        body = json.loads(text)
        choice = body["choices"][0]
        message = choice["message"]
        if not isinstance(message, dict):
            raise TypeError("message is not an object")
    except (ValueError, KeyError, IndexError, TypeError):
        raise StepFailed(f"{shown} did not answer a chat completion: {quoted(text, scrub)}", request=request) from None
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    tool_calls = message.get("tool_calls")
    return ChatAnswer(
        message=message, finish_reason=_text_or_none(choice.get("finish_reason")),
        model=str(body.get("model") or ""), request=request, elapsed_ms=elapsed_ms,
        usage=ChatUsage(_count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))),
        tool_calls=[c for c in tool_calls if isinstance(c, dict)] if isinstance(tool_calls, list) else [],
    )


def _api_error(text: str) -> str:
    """OpenAI and most compatible servers say why in {"error": {"message": …}}; otherwise the body as it came."""
    try:
        body = json.loads(text)
    except ValueError:
        return text
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return text


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _reported_request(call: ChatRequest, headers: dict[str, str], data: bytes, scrub: Scrubber) -> StepRequest:
    """What was sent, as the run shows it: the key masked in the headers, and the body cut as an HTTP step's is."""
    body: Any = call.body()
    truncated = len(data) > MAX_BODY_BYTES
    if truncated:
        body = scrub.text(data.decode())[:MAX_BODY_BYTES]
    return StepRequest(method="POST", url=scrub.text(mask_query(call.url)), headers=mask_headers(headers), body=body,
                       truncated=truncated)
