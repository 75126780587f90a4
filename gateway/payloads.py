"""A request body read as its sender meant it, for the routes other systems call with any body: webhooks
(`POST /v1/hooks/{hookId}`) and wait steps' resume URLs (`POST /v1/resume/{token}`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pydantic_core

from schemas import FieldIssue
from schemas.limits import MAX_VALUE_DEPTH, too_deep

from .errors import ApiException


def media_type(content_type: str) -> str:
    """`Application/JSON; charset=utf-8` → `application/json`."""
    return content_type.split(";")[0].strip().lower()


def is_json(content_type: str) -> bool:
    media = media_type(content_type)
    return media == "application/json" or media.endswith("+json")


def payload_body(raw: bytes, content_type: str, query: dict[str, str], method: str) -> Any:
    """The body as its sender meant it: JSON (read by the parser every actor reads runs with), a form's fields as an
    object, text as a string; a GET's (or a bodiless DELETE's) query parameters. A body that says it is JSON and is
    not is refused, so no run starts to fail later on a misleading message."""
    media = media_type(content_type)
    if not raw and method in ("GET", "DELETE"):
        return query
    if is_json(content_type):
        return json_value(raw)
    if media == "application/x-www-form-urlencoded":
        return form_fields(raw)
    if not media and raw.lstrip()[:1] in (b"{", b"["):  # no Content-Type (curl -d with -H omitted): try JSON
        try:
            return json_value(raw)
        except ApiException:
            pass
    return raw.decode("utf-8", errors="replace")


def json_value(raw: bytes) -> Any:
    if not raw.strip():
        raise ApiException(400, "bad_request", "the body is empty, but Content-Type says JSON",
                           [FieldIssue(field="body", reason="is empty; send a JSON value, or no JSON Content-Type")])
    try:
        body = pydantic_core.from_json(raw)
    except ValueError as error:
        raise ApiException(400, "bad_request", f"the body is not valid JSON: {error}",
                           [FieldIssue(field="body", reason=f"is not valid JSON: {error}")]) from None
    if too_deep(body):
        raise ApiException(422, "validation_error", "the request body is nested too deep to keep in a run",
                           [FieldIssue(field="body", reason=f"nests more than {MAX_VALUE_DEPTH} levels")])
    return body


def form_fields(raw: bytes) -> dict[str, str | list[str]]:
    """`a=1&b=2&b=3` → {"a": "1", "b": ["2", "3"]}: a field sent once is text, as Slack's `payload=…` is."""
    fields: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in fields.items()}
