"""How a node says its step failed."""

from __future__ import annotations

from typing import Any


class StepFailed(Exception):
    """The step failed for a reason retrying the same message would not fix."""

    def __init__(self, message: str, output: Any = None, log: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.output = output
        self.log = log
