"""Measuring values without building or recursing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.limits import size_in_bytes


@pytest.mark.parametrize("value", [
    "plain", "pässwörd", [], {}, [1, 22, 333], {"a": [True, None, "x"], "b": {"c": -12345}}, [[[]]], 10**30,
])
def test_the_size_is_about_the_compact_json_in_utf8(value: Any) -> None:
    written = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    expected = len(written) - 2 if isinstance(value, str) else len(written)  # text alone is measured unquoted
    assert abs(size_in_bytes(value, 10**6) - expected) <= max(1, expected // 10)


def test_measuring_stops_once_past_the_limit() -> None:
    huge = ["x" * 1000] * 10_000_000  # 10 GB written out, 80 MB of references in memory
    assert size_in_bytes(huge, 1000) > 1000
    assert 1000 < size_in_bytes(["x" * 1000] * 1000, 1000) <= 2 * 1000 + 1000 + 2, "two of the thousand are read"
    assert size_in_bytes("y" * 10**7, 1000) > 1000
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    assert abs(size_in_bytes(deep, 10**6) - 2 * 100_001) <= 1, "no recursion: as deep as you like"
