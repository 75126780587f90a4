"""How deep a value may nest where a run keeps it: pydantic's JSON parser stops at about 200 levels, and a run
record wraps what it keeps (inputs, a trigger's payload, a node's config, a step's output) a few levels deeper, so
a value near that limit would make its run unreadable: stalled, and a 500 to whoever reads it. Values are held to
MAX_VALUE_DEPTH where they enter (REST bodies, bus messages, step outputs) and refused there, saying why."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import AfterValidator

MAX_VALUE_DEPTH = 64

T = TypeVar("T")


def too_deep(value: Any, limit: int = MAX_VALUE_DEPTH) -> bool:
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


def shallow(value: T) -> T:
    """A pydantic after-validator: `value`, or a ValueError saying it nests too deep."""
    if too_deep(value):
        raise ValueError(f"nested more than {MAX_VALUE_DEPTH} levels deep, more than a run keeps; flatten it "
                         "(fewer nested objects or lists)")
    return value


# For a model's field: `inputs: Annotated[dict[str, Any], SHALLOW]`.
SHALLOW = AfterValidator(shallow)
