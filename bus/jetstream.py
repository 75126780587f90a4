"""`LeaderSafeJetStream`: JetStream publishes that ride out a leader change on a cluster.

While a stream elects a new leader (a node died, or is restarting), a publish gets no responders or times out,
and one that timed out may have been stored all the same. nats-py does not retry (nats.py issue 751), so every
publish of ours, the KV buckets' included, goes through `publish` here:

- each carries a `Nats-Msg-Id` (its own, or a fresh one), the same on every attempt, so the stream drops a
  repeat of one that was stored;
- it is retried on no-responders, timeouts and "JetStream temporarily unavailable" until a deadline;
- a compare-and-set (`Nats-Expected-Last-Subject-Sequence`) refused on a retry may be refused because the attempt
  that timed out was applied: the stream is asked for the subject's first message after the expected sequence,
  and if that message is ours, the write succeeded. (The server checks the expected sequence before the message
  id, so the duplicate window alone cannot tell.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.nuid import NUID

log = logging.getLogger(__name__)

MSG_ID = "Nats-Msg-Id"
_EXPECTED_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence"
# nats-server's error codes for "the subject's last sequence is not the expected one".
_WRONG_LAST_SEQUENCE = frozenset({10071, 10164})
# "JetStream system temporarily unavailable": no meta or stream leader yet.
_TEMPORARILY_UNAVAILABLE = 10008
_KV_PREFIX = "$KV."


class LeaderSafeJetStream(JetStreamContext):
    def __init__(self, nc: NATS, timeout: float = 10.0, attempt_timeout: float = 4.0, deadline: float = 30.0) -> None:
        super().__init__(nc, timeout=timeout)
        # NATS's own unique ids: cheaper than uuid4 on a path every publish takes.
        self._ids = NUID()
        # Short attempts: an election takes a few seconds, and a publish parked on a dead leader never answers.
        self.attempt_timeout = attempt_timeout
        self.deadline = deadline

    async def publish(
        self,
        subject: str,
        payload: bytes = b"",
        timeout: float | None = None,
        stream: str | None = None,
        headers: dict[str, Any] | None = None,
        msg_ttl: float | None = None,
    ) -> PubAck:
        sent = dict(headers or {})
        msg_id = str(sent.setdefault(MSG_ID, self._ids.next().decode()))
        give_up_at = time.monotonic() + (timeout if timeout is not None else self.deadline)
        attempt, backoff = 0, 0.05
        while True:
            attempt += 1
            left = give_up_at - time.monotonic()
            try:
                return await self._attempt(subject, payload, max(0.1, min(self.attempt_timeout, left)), stream,
                                           dict(sent), msg_ttl)
            except nats.js.errors.APIError as error:
                if attempt > 1 and error.err_code in _WRONG_LAST_SEQUENCE and _EXPECTED_SUBJECT_SEQ in sent:
                    applied = await self._applied(subject, stream, int(sent[_EXPECTED_SUBJECT_SEQ]), msg_id)
                    if applied is not None:
                        return applied
                if error.err_code != _TEMPORARILY_UNAVAILABLE or time.monotonic() + backoff >= give_up_at:
                    raise
                reason: str = "JetStream temporarily unavailable"
            except (nats.js.errors.NoStreamResponseError, nats.errors.NoRespondersError, nats.errors.TimeoutError,
                    asyncio.TimeoutError) as error:
                if time.monotonic() + backoff >= give_up_at:
                    raise
                reason = type(error).__name__
            log.info("publish to %s: %s (attempt %d); retrying with the same message id", subject, reason, attempt)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 1.0)

    async def _attempt(self, subject: str, payload: bytes, timeout: float, stream: str | None,
                       headers: dict[str, Any], msg_ttl: float | None) -> PubAck:
        return await super().publish(subject, payload, timeout=timeout, stream=stream, headers=headers, msg_ttl=msg_ttl)

    async def _applied(self, subject: str, stream: str | None, after: int, msg_id: str) -> PubAck | None:
        """Our compare-and-set, if a timed-out attempt stored it: the subject's first message after `after`."""
        name = stream or _kv_stream(subject) or await self.find_stream_name_by_subject(subject)
        try:
            msg = await self.get_msg(name, seq=after + 1, subject=subject, next=True)
        except nats.js.errors.NotFoundError:
            return None
        if (msg.headers or {}).get(MSG_ID) != msg_id:
            return None
        log.info("publish to %s: an attempt that timed out was stored (seq %s)", subject, msg.seq)
        return PubAck(stream=name, seq=int(msg.seq or 0), duplicate=True)


def _kv_stream(subject: str) -> str | None:
    if not subject.startswith(_KV_PREFIX):
        return None
    bucket = subject[len(_KV_PREFIX):].split(".", 1)[0]
    return f"KV_{bucket}"


__all__ = ["LeaderSafeJetStream", "MSG_ID"]
