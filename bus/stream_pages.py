"""Reading a stream backwards by sequence, a page at a time: what makes a list O(page) rather than O(stream).

A stream that keeps one message per item (the run index; a KV bucket, whose history is 1) holds them in the order
of their last change, so the newest page is the last matching messages. They are read with batched direct gets,
filtered by the server on the subject, in windows that grow until the page is full.
"""

from __future__ import annotations

import json

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from .batch_gets import BatchGets

_READ_TIMEOUT_S = 5.0


async def newest_first(nc: NATS, stream: str, wanted: str, end: int | None, limit: int,
                       window: int) -> tuple[list[Msg], bool]:
    """Up to `limit` messages on subjects matching `wanted` with a sequence below `end` (None: all), newest first,
    and whether more are left. `window` is how many sequences the first read looks back."""
    if end is None:
        end = await last_seq(nc, stream) + 1
    found: list[tuple[int, Msg]] = []
    while end > 1 and len(found) <= limit:
        start = max(1, end - window)
        older = [item for item in await _read(nc, stream, wanted, start, end - start) if item[0] < end]
        found = older + found
        end = start
        window *= 4
    found.sort(key=lambda item: item[0], reverse=True)
    # The scan stops once it holds one more than a page, or when nothing older is left.
    return [msg for _, msg in found[:limit]], len(found) > limit


def sequence_of(msg: Msg) -> int:
    return int((msg.headers or {})["Nats-Sequence"])


async def last_seq(nc: NATS, stream: str) -> int:
    answer = await nc.request(f"$JS.API.STREAM.INFO.{stream}", b"", timeout=_READ_TIMEOUT_S)
    return int(json.loads(answer.data)["state"]["last_seq"])


async def _read(nc: NATS, stream: str, wanted: str, start: int, count: int) -> list[tuple[int, Msg]]:
    """Matching messages from sequence `start` on, at most `count`: one batched direct get."""
    request = {"seq": start, "next_by_subj": wanted, "batch": max(1, count)}
    found, _ = await BatchGets.of(nc).get(stream, request, _READ_TIMEOUT_S)
    return [(int((msg.headers or {})["Nats-Sequence"]), msg) for msg in found]
