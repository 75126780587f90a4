"""Hiding secrets in what a step reports: headers, JSON fields and URLs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "••••••"

_SENSITIVE_HEADERS = {"authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie"}
_SENSITIVE_WORDS = re.compile(r"token|secret|password|passwd|key|signature|credential", re.IGNORECASE)
# Paths longer than this many segments are cut in logs: webhook URLs carry their secret in the path.
_SHOWN_PATH_SEGMENTS = 2


def is_sensitive(name: str) -> bool:
    return name.lower() in _SENSITIVE_HEADERS or bool(_SENSITIVE_WORDS.search(name))


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: MASK if is_sensitive(name) else value for name, value in headers.items()}


def mask_fields(value: Any) -> Any:
    """Mask, at any depth, every object field whose name looks sensitive."""
    if isinstance(value, dict):
        return {k: MASK if isinstance(k, str) and is_sensitive(k) else mask_fields(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_fields(item) for item in value]
    return value


def loggable_url(url: str) -> str:
    """scheme://host/first/segments/… with sensitive query values masked and no user:password@."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    segments = [s for s in parts.path.split("/") if s]
    path = "/" + "/".join(segments[:_SHOWN_PATH_SEGMENTS])
    if len(segments) > _SHOWN_PATH_SEGMENTS:
        path += "/…"
    query = urlencode([(k, MASK if is_sensitive(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)])
    return urlunsplit((parts.scheme, host, path if segments else parts.path, query, ""))
