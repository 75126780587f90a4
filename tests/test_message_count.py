"""What one Start → HTTP run costs on the bus, counted on a real nats-server: an upper bound, so a change that adds
messages to every run is seen (docs/PERFORMANCE.md, "Messages per run"; bench/message_count.py prints them all).

Counted: what the actors send (publishes, KV writes, JetStream API requests, acks), as the app's account sees it.
Not counted: deliveries to consumers (they follow from the publishes), answers on inboxes (one per request, so they follow the requests), pull requests (their number depends
on timing, not on the run) and the server's advisories.
"""

from __future__ import annotations

from collections import Counter

import nats
from nats.aio.msg import Msg

from bus import EmbeddedNats
from tests.support.mock_http import MockHttp
from tests.support.stack import Stack, http_graph

RUNS = 10
# Before issue 19 a run (POST /v1/runs and its WebSocket) sent 17 of these; now 14: the run request, its record and
# queued summary (gateway); the read of the record, two appends (start, end), the dispatch, the end's summary and
# the purge of the queued one, two acks (orchestrator); the result and the dispatch's ack (engine); the stored
# events' read (the WebSocket).
MOST_PER_RUN = 14
# Answers and import replies (_R_), pull requests, advisories.
_NOT_COUNTED = ("_INBOX", "_R_.", "$JS.API.CONSUMER.MSG.NEXT.", "$JS.EVENT.", "$JS.FC.", "$SYS.")


def _kind(subject: str) -> str:
    if subject.startswith("$KV."):
        return "$KV." + subject.split(".")[1]
    if subject.startswith("$JS.API."):
        return ".".join(subject.split(".")[:4])
    if subject.startswith("$JS.ACK."):
        return "$JS.ACK." + subject.split(".")[2]
    return ".".join(subject.split(".")[:2])


async def test_a_start_to_http_run_sends_at_most_a_dozen_messages(
    stack: Stack, mock_http: MockHttp, nats_server: EmbeddedNats
) -> None:
    graph = http_graph(mock_http.url("/ok"))
    await stack.finish(await stack.start_run(graph))  # warm-up: the first run opens what every later one reuses
    seen: Counter[str] = Counter()

    async def count(msg: Msg) -> None:
        # A stored message on its way to a consumer carries its ack subject: deliveries follow from the publishes.
        if not msg.subject.startswith(_NOT_COUNTED) and not (msg.reply or "").startswith("$JS.ACK."):
            seen[_kind(msg.subject)] += 1

    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.subscribe(">", cb=count)
        await nc.flush()
        for _ in range(RUNS):
            events = await stack.events(await stack.start_run(graph))  # as a REST user follows a run
            assert events[-1]["type"] == "run" and events[-1]["status"] == "succeeded", events[-2:]
        await nc.flush()
        await sub.unsubscribe()
    finally:
        await nc.close()
    per_run = sum(seen.values()) / RUNS
    breakdown = ", ".join(f"{kind} {n / RUNS:g}" for kind, n in seen.most_common())
    assert per_run <= MOST_PER_RUN, f"{per_run:g} messages per run: {breakdown}"
    assert seen["steps.dispatch"] == RUNS and seen["runs.requested"] == RUNS, breakdown
