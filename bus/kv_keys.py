"""Listing a KV bucket's keys in one request."""

from __future__ import annotations

from nats.js.kv import KeyValue


async def kv_keys(kv: KeyValue, prefix: str = "") -> list[str]:
    """Keys of a bucket, from the server's own per-subject counts.

    KeyValue.keys() watches the bucket and can return before the watch has caught up;
    stream_info with a subject filter answers in one request. Deleted keys may be listed
    (their marker remains); reading them finds nothing.
    """
    stream = f"KV_{kv._name}"  # noqa: SLF001 - nats-py keeps the bucket name private
    info = await kv._js.stream_info(stream, subjects_filter=f"$KV.{kv._name}.{prefix}>")  # noqa: SLF001
    start = len(f"$KV.{kv._name}.")  # noqa: SLF001
    return sorted(subject[start:] for subject in (info.state.subjects or {}))
