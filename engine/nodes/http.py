"""http_request_node: one real HTTP request with aiohttp."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
from pydantic import ValidationError

from bus import CredentialMissing, DecryptionError
from schemas import (
    DEFAULT_HTTP_TIMEOUT_MS,
    HttpConfig,
    LogEntry,
    StepDispatch,
    issues_from_validation,
)
from schemas.masking import (
    Scrubber,
    loggable_url,
    mask_fields,
    mask_headers,
    mask_urls,
    request_secrets,
)
from schemas.runs import human_duration

from ..errors import StepFailed
from ..templating import Renderer, credential_names, has_template
from .base import NodeContext, NodeOutcome

# What a step keeps of a response body; the rest is cut and flagged.
MAX_BODY_BYTES = 64 * 1024
# Read a little past the cut, so a secret straddling it is whole when scrubbed.
_SCRUB_MARGIN = 4096


async def run_http(dispatch: StepDispatch, context: NodeContext) -> NodeOutcome:
    drawn = _validated(dispatch.config, "invalid HTTP configuration")
    if drawn.auth is None and not has_template(dispatch.config):
        return await _request(drawn, dispatch, context, Scrubber(request_secrets(drawn.url, drawn.headers)))
    secrets = await _credentials(drawn, context)
    known = list(secrets.values())
    # Whatever was sent may come back (an API echoing its Authorization header in an error page), and a
    # template error may quote a value: scrub every secret this step touched from all it reports.
    try:
        config = _resolved(drawn, dispatch, secrets)
    except StepFailed as failure:
        raise _scrubbed(failure, Scrubber([], known=known)) from None
    return await _request(config, dispatch, context, Scrubber(request_secrets(config.url, config.headers), known=known))


def _scrubbed(failure: StepFailed, scrub: Scrubber) -> StepFailed:
    failure.message = scrub.text(failure.message)
    failure.log = scrub.text(failure.log) if failure.log else None
    failure.output = scrub.value(failure.output)
    return failure


def _validated(config: dict[str, Any], problem: str, quote_reasons: bool = True) -> HttpConfig:
    try:
        return HttpConfig.model_validate(config)
    except ValidationError as error:
        issues = issues_from_validation(error, "config")
        # A reason may quote part of a value ("…cast to integer value as 'ab'"): with secrets in play, name fields only.
        shown = [f"{i.field}: {i.reason}" if quote_reasons else i.field for i in issues]
        raise StepFailed(f"{problem}: {'; '.join(shown)}") from None


async def _credentials(config: HttpConfig, context: NodeContext) -> dict[str, str]:
    """Every credential the step uses, fetched and decrypted before anything is rendered or sent."""
    names = credential_names([config.url, config.headers, config.body, config.json_body])
    if config.auth is not None:
        names.add(config.auth.credentialName)
    if not names:
        return {}
    store = context.credentials
    if store is None:
        raise StepFailed("this worker has no master key, so it cannot use credentials")
    values = {}
    for name in sorted(names):
        try:
            values[name] = await store.reveal(name)
        except CredentialMissing as missing:
            raise StepFailed(str(missing)) from None
        except DecryptionError as error:
            raise StepFailed(str(error)) from None
    return values


def _resolved(config: HttpConfig, dispatch: StepDispatch, secrets: dict[str, str]) -> HttpConfig:
    """The config with every {{template}} rendered, auth applied, and checked again."""
    render = Renderer(dispatch.inputs, dispatch.steps, secrets)
    headers = {name: render.text(value, f"headers.{name}") for name, value in config.headers.items()}
    if config.auth is not None and not any(name.lower() == "authorization" for name in headers):
        headers["Authorization"] = f"Bearer {secrets[config.auth.credentialName]}"
    resolved = config.model_dump()
    resolved.update(
        url=render.text(config.url, "url"),
        headers=headers,
        body=None if config.body is None else render.text(config.body, "body"),
        json_body=render.value(config.json_body, "json_body"),
    )
    return _validated(resolved, "after filling in its templates, the HTTP configuration is invalid",
                      quote_reasons=not secrets)


async def _request(config: HttpConfig, dispatch: StepDispatch, context: NodeContext, scrub: Scrubber) -> NodeOutcome:
    """Send it; what it reports is scrubbed of every secret the step used (a server may echo them)."""
    try:
        outcome = await _send(config, dispatch, context, scrub)
    except StepFailed as failure:
        raise _scrubbed(failure, scrub) from None
    if scrub:
        outcome.output = scrub.value(outcome.output)
        for entry in outcome.logs:
            entry.msg = scrub.text(entry.msg)
    return outcome


async def _send(config: HttpConfig, dispatch: StepDispatch, context: NodeContext, scrub: Scrubber) -> NodeOutcome:
    headers = dict(config.headers)
    data: bytes | None = None
    if config.json_body is not None:
        data = json.dumps(config.json_body).encode()
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
    elif config.body is not None:
        data = config.body.encode()
    timeout_s = (config.timeoutMs or DEFAULT_HTTP_TIMEOUT_MS) / 1000
    shown = f"{config.method} {loggable_url(config.url)}"

    started = time.perf_counter()
    try:
        async with context.session.request(
            config.method, config.url, headers=headers, data=data, timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as response:
            raw = await _read_capped(response.content, MAX_BODY_BYTES + _SCRUB_MARGIN)
            status, reason = response.status, response.reason or ""
            response_headers = mask_headers(dict(response.headers))
            content_type = response.headers.get("Content-Type", "")
    except asyncio.TimeoutError:
        raise StepFailed(f"{shown} timed out after {human_duration(timeout_s * 1000)}") from None
    except aiohttp.ClientConnectorDNSError as error:
        raise StepFailed(f"{shown} failed: cannot resolve host {error.host!r}") from None
    except aiohttp.ClientConnectorError as error:
        raise StepFailed(f"{shown} failed: cannot connect to {error.host}:{error.port} ({error.os_error.strerror or error.os_error})") from None
    except aiohttp.InvalidURL:
        raise StepFailed(f"{shown} failed: invalid URL") from None
    except aiohttp.TooManyRedirects:
        raise StepFailed(f"{shown} failed: too many redirects") from None
    except aiohttp.ClientResponseError as error:
        raise StepFailed(f"{shown} failed: HTTP {error.status} while reading the response") from None
    except aiohttp.ClientError as error:
        # Messages of aiohttp may quote URLs, which can carry secrets in their path.
        raise StepFailed(f"{shown} failed: {type(error).__name__}: {mask_urls(str(error))}") from None
    elapsed_ms = (time.perf_counter() - started) * 1000

    output = {"status": status, "headers": response_headers, **_body(raw, content_type, scrub)}
    line = f"{shown} → HTTP {status} in {human_duration(elapsed_ms)}"
    if not 200 <= status < 300:
        raise StepFailed(f"HTTP {status} {reason} from {shown}".replace("  ", " "), output=output, log=line)
    return NodeOutcome(output=output, logs=[LogEntry(ts=datetime.now(UTC), msg=line, stepId=dispatch.stepId)])


async def _read_capped(stream: aiohttp.StreamReader, limit: int) -> bytes:
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

