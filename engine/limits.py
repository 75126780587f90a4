"""What a step may report: values nested too deep cannot be read back (pydantic's JSON parser stops at about 200
levels), so a run whose step returned one would stall with its next dispatch unreadable. The worker fails such a
step instead, saying why."""

from __future__ import annotations

from typing import Any

MAX_OUTPUT_DEPTH = 64


def too_deep(value: Any, limit: int = MAX_OUTPUT_DEPTH) -> bool:
    """Whether `value` nests dicts and lists more than `limit` levels deep. Iterative: a deep value must not
    exhaust the stack of the check meant to catch it."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: list[Any] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
