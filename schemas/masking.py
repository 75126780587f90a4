"""Hiding secrets in what runs report: headers, JSON fields, URLs and known secret values.

Shared by the orchestrator (a run's inputs) and the engine (what a request sent and got back).
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

MASK = "••••••"

_SENSITIVE_HEADERS = {"authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie"}
# auth and sig only as whole words (x-auth, sig=, auth_type): inside "author" or "design" they mean nothing.
_SENSITIVE_WORDS = re.compile(r"token|secret|password|passwd|pwd|key|signature|credential|authorization|jwt|session"
                              r"|(?:^|[^a-z])(?:auth|sig)(?:[^a-z]|$)", re.IGNORECASE)
_AUTH_SCHEME = re.compile(r"^(bearer|basic|token|bot)\s+", re.IGNORECASE)
# Shorter values are too likely to occur by chance in unrelated text to be replaced.
_MIN_SECRET_LENGTH = 6
_MIN_KNOWN_SECRET_LENGTH = 4
# Paths longer than this many segments are cut in logs: webhook URLs carry their secret in the path.
_SHOWN_PATH_SEGMENTS = 2


# A preview shows at most this many characters of a value, and only of one at least _PREVIEWED_FROM long: four
# of a 12-character secret (with its prefix, another four) narrowed a guess too much.
_PREVIEW_CHARS = 4
_PREVIEWED_FROM = 16


def mask_secret(value: str) -> str:
    """`••••9f3a`: enough to tell two keys apart, never enough to use one; short values are hidden whole."""
    return "••••••••" if len(value) < _PREVIEWED_FROM else f"••••{value[-_PREVIEW_CHARS:]}"


# Named like secrets but meant to be seen: an idempotency key identifies an operation, it grants nothing.
_NOT_SENSITIVE = {"idempotency-key", "x-idempotency-key"}


def is_sensitive(name: str) -> bool:
    lowered = name.lower()
    if lowered in _NOT_SENSITIVE:
        return False
    return lowered in _SENSITIVE_HEADERS or bool(_SENSITIVE_WORDS.search(name))


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: MASK if is_sensitive(name) else value for name, value in headers.items()}


_URL = re.compile(r"https?://[^\s'\"<>]+")


def mask_urls(text: str) -> str:
    """Every URL in free text (an error message, say) shortened as loggable_url does."""
    return _URL.sub(lambda match: loggable_url(match.group()), text)


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
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    host = _netloc(parts.hostname, port)
    segments = [s for s in parts.path.split("/") if s]
    path = "/" + "/".join(segments[:_SHOWN_PATH_SEGMENTS])
    if len(segments) > _SHOWN_PATH_SEGMENTS:
        path += "/…"
    query = urlencode([(k, MASK if is_sensitive(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)])
    return urlunsplit((parts.scheme, host, path if segments else parts.path, query, ""))


def mask_query(url: str) -> str:
    """The whole URL, for a step's request view, with sensitive query values masked and no user:password@.
    (Logs use loggable_url, which also cuts the path; a credential in the path is scrubbed as a known secret.)"""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    host = _netloc(parts.hostname, port)
    query = urlencode([(k, MASK if is_sensitive(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)])
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def _netloc(host: str | None, port: int | None) -> str:
    """host:port without user:password@; an IPv6 address keeps its brackets."""
    shown = f"[{host}]" if host and ":" in host else host or ""
    return f"{shown}:{port}" if port else shown


def _forms(secret: str) -> set[str]:
    """The ways a value reappears when something echoes it: as is, URL-encoded (every '/' too, or keeping them
    as urllib's quote() and Jinja's urlencode do), base64 (both alphabets), inside a JSON string (ASCII-escaped or
    not, with or without escaped slashes), HTML-escaped, repr()'d."""
    raw = secret.encode()
    in_json = json.dumps(secret)[1:-1]
    # A URL kept as a credential (a webhook's) is often logged without its trailing slash, or cut where its
    # path is: its parts after the host are the secret too, from the first long one on.
    stripped = {secret.rstrip("/")} if secret.rstrip("/") != secret and len(secret.rstrip("/")) >= 4 else set()
    return stripped | _url_path_forms(secret) | {
        secret, quote(secret, safe=""), quote(secret, safe="/"), quote_plus(secret),
        base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="), base64.urlsafe_b64encode(raw).decode().rstrip("="),
        in_json, json.dumps(secret, ensure_ascii=False)[1:-1], in_json.replace("/", "\\/"),
        html.escape(secret), repr(secret)[1:-1],
    }


def _url_path_forms(secret: str) -> set[str]:
    """For a URL-shaped secret, each path segment of 8 characters or more (the token in
    hooks.slack.com/services/T…/B…/<token>), which is what survives when a log shortens the URL."""
    if not secret.startswith(("http://", "https://")):
        return set()
    try:
        path = urlsplit(secret).path
    except ValueError:
        return set()
    return {segment for segment in path.split("/") if len(segment) >= 8}


class Scrubber:
    """Replaces secret values, in every form they take when echoed, in any text or JSON value.

    `known` are values the step used on purpose (credentials): scrubbed from 4 characters on.
    `guessed` are values found in sensitive headers or query fields: from 6, lest short ones mask noise.
    """

    def __init__(self, guessed: list[str], known: list[str] | None = None) -> None:
        forms: set[str] = set()
        for secrets, shortest in ((guessed, _MIN_SECRET_LENGTH), (known or [], _MIN_KNOWN_SECRET_LENGTH)):
            for secret in secrets:
                forms.update(form for form in _forms(secret) if len(form) >= shortest)
        # Longest first, so a secret that contains another is replaced whole.
        self.forms = sorted(forms, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self.forms)

    def text(self, value: str) -> str:
        for form in self.forms:
            if form in value:
                value = value.replace(form, MASK)
        return value

    def value(self, value: Any) -> Any:
        if not self.forms:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return value


def request_secrets(url: str, headers: Mapping[str, str]) -> list[str]:
    """The secret values an HTTP request carries: sensitive header values, URL password, sensitive query values."""
    found: list[str] = []
    for name, value in headers.items():
        if is_sensitive(name) and value:
            found.append(value)
            bare = _AUTH_SCHEME.sub("", value)
            if bare != value:
                found.append(bare)
    try:
        parts = urlsplit(url)
    except ValueError:
        return found
    if parts.password:
        found.append(parts.password)
    found += [v for k, v in parse_qsl(parts.query) if is_sensitive(k) and v]
    return found
