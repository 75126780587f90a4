"""What a step may report: values nested too deep cannot be read back (schemas/limits.py says why), so a run whose
step returned one would stall with its next dispatch unreadable. The worker fails such a step instead, saying why."""

from __future__ import annotations

from schemas.limits import MAX_VALUE_DEPTH, too_deep

MAX_OUTPUT_DEPTH = MAX_VALUE_DEPTH

__all__ = ["MAX_OUTPUT_DEPTH", "too_deep"]
