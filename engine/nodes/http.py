"""http: one real HTTP request with aiohttp. Its config arrives rendered and validated (engine/step_runner.py)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from yarl import URL

from schemas import DEFAULT_HTTP_TIMEOUT_MS, HttpConfig, LogEntry, StepRequest
from schemas.masking import Scrubber, loggable_url, mask_fields, mask_headers, mask_query, mask_urls
from schemas.runs import human_duration

from ..errors import OutboundRefused, StepFailed
from .base import NodeOutcome, StepContext

# What a step keeps of a response body (and of the request body it reports); the rest is cut and flagged.
MAX_BODY_BYTES = 64 * 1024
# Read a little past the cut, so a secret straddling it is whole when scrubbed.
_SCRUB_MARGIN = 4096
# Answers another attempt may change: the server was busy, slow, or rate-limited us.
_RETRYABLE_STATUSES = frozenset({408, 429})
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_HEADER = "Idempotency-Key"


async def run_http(config: HttpConfig, context: StepContext) -> NodeOutcome:
    headers = dict(config.headers)
    if config.auth is not None and not _has_header(headers, "Authorization"):
        headers["Authorization"] = f"Bearer {context.secrets[config.auth.credentialName]}"
    if config.method in _UNSAFE_METHODS and config.sendIdempotencyKey and not _has_header(headers, IDEMPOTENCY_HEADER):
        # The same on every retry and every redelivery: an API that honours it acts once.
        headers[IDEMPOTENCY_HEADER] = f"{context.dispatch.runId}-{context.dispatch.stepId}"
    data: bytes | None = None
    if config.json_body is not None:
        data = json.dumps(config.json_body).encode()
        if not _has_header(headers, "Content-Type"):
            headers["Content-Type"] = "application/json"
    elif config.body is not None:
        data = config.body.encode()
    request = _reported_request(config, headers, data, context.scrub)
    timeout_s = (config.timeoutMs or DEFAULT_HTTP_TIMEOUT_MS) / 1000
    attempt = context.dispatch.attempt
    shown = f"{config.method} {loggable_url(config.url)}"
    numbered = f"attempt {attempt}: {shown}" if attempt > 1 else shown

    def failed(reason: str, **extra: Any) -> StepFailed:
        return StepFailed(f"{shown} {reason}", request=request, **extra)

    started = time.perf_counter()
    try:
        async with context.session.request(
            config.method, config.url, headers=headers, data=data, timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as response:
            raw = await read_capped(response.content, MAX_BODY_BYTES + _SCRUB_MARGIN)
            status, reason = response.status, response.reason or ""
            response_headers = mask_headers(dict(response.headers))
            content_type = response.headers.get("Content-Type", "")
            retry_after = retry_after_ms(response.headers.get("Retry-After"))
    except (OutboundRefused, asyncio.TimeoutError, aiohttp.ClientError) as error:
        reason, retryable = connection_failure(error, config.url, timeout_s)
        raise failed(reason, retryable=retryable) from None
    elapsed_ms = (time.perf_counter() - started) * 1000

    output = {"status": status, "headers": response_headers, **_body(raw, content_type, context.scrub)}
    line = f"{numbered} → HTTP {status} in {human_duration(elapsed_ms)}"
    if not 200 <= status < 300:
        retryable = retryable_status(status)
        raise StepFailed(f"HTTP {status} {reason} from {shown}".replace("  ", " "), output=output, log=line,
                         retryable=retryable, retry_after_ms=retry_after if retryable else None, request=request)
    log = LogEntry(ts=datetime.now(UTC), msg=line, stepId=context.dispatch.stepId)
    return NodeOutcome(output=output, logs=[log], request=request)


def retryable_status(status: int) -> bool:
    """An answer another attempt may change: the server failed, was slow, or rate-limited us."""
    return status >= 500 or status in _RETRYABLE_STATUSES


def connection_failure(error: BaseException, url: str, timeout_s: float) -> tuple[str, bool]:
    """Why a request to `url` got no answer, in words after "<METHOD> <url>", and whether another attempt may help.
    For the outbound guard's refusal, a timeout, and aiohttp's errors; anything else is the caller's to raise."""
    if isinstance(error, OutboundRefused):
        # Not retryable: the same rules refuse it next time.
        return f"refused: {_refused_hop(url, error)}{error.reason}", False
    if isinstance(error, asyncio.TimeoutError):
        return f"timed out after {human_duration(timeout_s * 1000)}", True
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return f"failed: cannot resolve host {error.host!r}", True
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"failed: cannot connect to {error.host}:{error.port} ({error.os_error.strerror or error.os_error})", True
    if isinstance(error, aiohttp.InvalidURL):
        return "failed: invalid URL", False
    if isinstance(error, aiohttp.TooManyRedirects):
        return "failed: too many redirects", False
    if isinstance(error, aiohttp.ClientResponseError):
        return f"failed: HTTP {error.status} while reading the response", True
    # Messages of aiohttp may quote URLs, which can carry secrets in their path. A connection reset or a server that
    # hung up is worth another attempt.
    return f"failed: {type(error).__name__}: {mask_urls(str(error))}", True


def _refused_hop(url: str, refused: OutboundRefused) -> str:
    """Names the redirect that led to a refused host; empty when the step's own URL was refused."""
    if refused.url is None or URL(refused.url).raw_host == URL(url).raw_host:
        return ""
    return f"redirected to {loggable_url(refused.url)}, and "


def _has_header(headers: dict[str, str], name: str) -> bool:
    return any(key.lower() == name.lower() for key in headers)


def _reported_request(config: HttpConfig, headers: dict[str, str], data: bytes | None, scrub: Scrubber) -> StepRequest:
    """What was sent, as the run shows it: sensitive fields masked and secrets scrubbed before the body is
    cut, so neither a cut JSON body nor a secret straddling the cut shows anything."""
    body: Any = mask_fields(config.json_body) if config.json_body is not None else config.body
    truncated = data is not None and len(data) > MAX_BODY_BYTES
    if truncated:
        text = body if isinstance(body, str) else json.dumps(body)
        body = scrub.text(text)[:MAX_BODY_BYTES]
    return StepRequest(
        method=config.method, url=scrub.text(mask_query(config.url)), headers=mask_headers(headers),
        body=body, truncated=truncated,
    )


def retry_after_ms(value: str | None) -> float | None:
    """Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value) * 1000.0
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds() * 1000, 0.0)


async def read_capped(stream: aiohttp.StreamReader, limit: int) -> bytes:
    """Up to `limit` bytes of the body: read(n) alone returns only what the first packets brought."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream.iter_chunked(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def _body(raw: bytes, content_type: str, scrub: Scrubber) -> dict[str, Any]:
    truncated = len(raw) > MAX_BODY_BYTES
    if not truncated and ("json" in content_type or raw.lstrip()[:1] in (b"{", b"[")):
        try:
            return {"body": mask_fields(json.loads(raw))}
        except ValueError:
            pass
    # Scrub before cutting: a secret that straddles the cut would otherwise leave its first part behind.
    text = scrub.text(raw.decode("utf-8", errors="replace"))
    return {"body": text[:MAX_BODY_BYTES], "truncated": True} if truncated else {"body": text}
