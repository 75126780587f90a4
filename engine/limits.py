"""Bounds on values, measured without building anything and without recursion.

Depth: values nested too deep cannot be read back (pydantic's JSON parser stops at about 200 levels), so a run
whose step returned one would stall with its next dispatch unreadable; the worker fails such a step instead.
Size: a template's values are capped in bytes (engine/_sandbox.py), measured before they are written out.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
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


def utf8_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def size_in_bytes(value: Any, limit: int) -> int:
    """About how many bytes `value` takes written out: text as UTF-8, lists and dicts as compact JSON (escapes
    aside). Counted only until it passes `limit`, so a list holding one long string a million times costs no more
    to measure than `limit` bytes would."""
    size = 0
    pending = [value]
    while pending and size <= limit:
        item = pending.pop()
        if isinstance(item, dict):
            size += 1 + 2 * len(item)  # braces; a colon and a comma per pair
            items: Iterable[Any] = chain.from_iterable(item.items())
        elif isinstance(item, (list, tuple)):
            size += 1 + len(item)  # brackets; a comma per item
            items = item
        else:
            size += _scalar_size(item, limit)
            continue
        for child in items:  # scalars counted here, the commonest first, so a long list of them stays quick
            if size > limit:
                break
            kind = type(child)
            if kind is str and len(child) <= limit:
                size += 2 + (len(child) if child.isascii() else utf8_length(child))  # in quotes
            elif kind is int:
                size += child.bit_length() // 3 + 1
            elif kind is dict or kind is list or isinstance(child, (dict, list, tuple)):
                pending.append(child)
            else:
                size += _scalar_size(child, limit) + (2 if isinstance(child, str) else 0)
    return size


def _scalar_size(item: Any, limit: int) -> int:
    kind = type(item)
    if kind is str or isinstance(item, str):
        # Every character is at least a byte: a text longer than the limit is over it, unencoded.
        return len(item) if len(item) > limit else utf8_length(item)
    if kind is int:
        return int(item.bit_length() // 3 + 1)  # a little over its decimal digits, without writing them
    if kind is bool or item is None:
        return 5
    if isinstance(item, int):
        return int(item.bit_length() // 3 + 1)
    # A float, or anything else a template can hold (a function, an undefined value), written as a short name.
    return len(repr(item))
