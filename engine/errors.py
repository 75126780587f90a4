"""How a node says its step failed."""

from __future__ import annotations

from typing import Any

from schemas import LogEntry, StepRequest


class StepFailed(Exception):
    """The step failed. `retryable`: another attempt may succeed (a timeout, a 503), so the orchestrator
    retries it if the node's settings allow; otherwise (a 404, a bad template) it fails at once. `logs`: what the
    step logged before it failed (a code step's console lines), reported before the `log` line."""

    def __init__(
        self,
        message: str,
        output: Any = None,
        log: str | None = None,
        *,
        retryable: bool = False,
        retry_after_ms: float | None = None,
        request: StepRequest | None = None,
        logs: list[LogEntry] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.output = output
        self.log = log
        self.retryable = retryable
        self.retry_after_ms = retry_after_ms
        self.request = request
        self.logs = logs or []


class OutboundRefused(Exception):
    """The outbound guard refused a connection (engine/outbound_guard.py). `reason` names the address and the
    rule; `url` is the request it stopped, which after a redirect is not the one the step was given."""

    def __init__(self, reason: str, url: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.url = url
