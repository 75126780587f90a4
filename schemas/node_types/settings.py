"""Per-node error handling (`data.settings` of an action node): retries with backoff, and what a failure does."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import Field

from .._base import Contract

# A Retry-After longer than this is cut to it: a step should not sleep for a day because a server said so.
MAX_RETRY_AFTER_MS = 15 * 60 * 1000
# Jitter takes up to this share off each wait, so retries from many runs do not arrive in lockstep.
JITTER = 0.2


class RetryPolicy(Contract):
    """Modelled on Temporal's RetryPolicy. maxAttempts counts the first try: 1 means no retry."""

    maxAttempts: int = Field(default=1, ge=1, le=10, title="Attempts", description="1 means no retry")
    initialIntervalMs: int = Field(default=1000, ge=1, le=3_600_000, title="First wait (ms)")
    backoffCoefficient: float = Field(default=2.0, ge=1.0, le=10.0, title="Backoff factor",
                                      description="each wait is this many times the one before")
    maxIntervalMs: int = Field(default=60_000, ge=1, le=86_400_000, title="Longest wait (ms)")

    def wait_ms(self, attempt: int, seed: str, retry_after_ms: float | None = None) -> float:
        """The wait after failed attempt `attempt` (1-based). Deterministic: the jitter is drawn from `seed`,
        so a replayed transition waits the same."""
        base = min(self.initialIntervalMs * self.backoffCoefficient ** (attempt - 1), self.maxIntervalMs)
        draw = int.from_bytes(hashlib.sha256(f"{seed}:{attempt}".encode()).digest()[:4], "big") / 2**32
        wait = base * (1 - JITTER * draw)
        if retry_after_ms is not None:
            wait = max(wait, min(retry_after_ms, MAX_RETRY_AFTER_MS))
        return round(wait, 3)


class NodeSettings(Contract):
    retry: RetryPolicy = Field(default_factory=RetryPolicy, title="Retry")
    onError: Literal["fail", "continue"] = Field(
        default="fail", title="When it fails",
        description="fail: the run fails. continue: the steps after it run, and can read its error.",
    )
