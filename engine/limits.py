"""Bounds on values, measured without building anything and without recursion.

Depth: values nested too deep cannot be read back (schemas/limits.py says why), so a run whose step returned one
would stall with its next dispatch unreadable; the worker fails such a step instead, saying why.
Size: a template's values are capped in bytes (engine/_sandbox.py), measured before they are written out.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Any

from schemas.limits import MAX_VALUE_DEPTH, too_deep

MAX_OUTPUT_DEPTH = MAX_VALUE_DEPTH

__all__ = ["MAX_OUTPUT_DEPTH", "size_in_bytes", "too_deep", "utf8_length"]


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
