"""How a node says its step failed."""

from __future__ import annotations

from typing import Any

from schemas import StepRequest


class StepFailed(Exception):
    """The step failed. `retryable`: another attempt may succeed (a timeout, a 503), so the orchestrator
    retries it if the node's settings allow; otherwise (a 404, a bad template) it fails at once."""

    def __init__(
        self,
        message: str,
        output: Any = None,
        log: str | None = None,
        *,
        retryable: bool = False,
        retry_after_ms: float | None = None,
        request: StepRequest | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.output = output
        self.log = log
        self.retryable = retryable
        self.retry_after_ms = retry_after_ms
        self.request = request
