"""A run's log: every change to a run is one `RunEvents` message on `runs.events.<runId>`, in the RUN_EVENTS stream.

The log is the truth about a run (bus/run_store.py folds it into the run's state) and what its viewers follow
(bus/run_events_hub.py). Reading it is batched direct gets by subject: no consumer, one request per
STORED_BATCH messages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nats.aio.client import Client as NATS

from schemas import RunEvents

from . import subjects
from .batch_gets import BatchGets

log = logging.getLogger(__name__)

# Stored messages asked for per direct-get request; a run with more is read in several.
STORED_BATCH = 512
STORED_READ_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class StoredChanges:
    """A run's stored changes, oldest first, each with its stream sequence; and the last sequence read, skipped
    messages included: a writer's expected-last-sequence check counts those too."""

    changes: list[tuple[int, RunEvents]]
    last_seq: int


async def read_changes(nc: NATS, run_id: str, after: int = 0) -> StoredChanges:
    """The run's stored changes after stream sequence `after`. Only the orchestrator writes here, but anyone on
    the bus may publish: a malformed message, or one about another run, is logged and skipped."""
    subject = subjects.run_events(run_id)
    changes: list[tuple[int, RunEvents]] = []
    last_seq = after
    gets = BatchGets.of(nc)
    start = after + 1
    while True:
        request = {"seq": start, "next_by_subj": subject, "batch": STORED_BATCH}
        found, end = await gets.get(subjects.EVENTS_STREAM, request, STORED_READ_TIMEOUT_S)
        for msg in found:
            seq = int((msg.headers or {}).get("Nats-Sequence", start))
            last_seq, start = seq, seq + 1
            try:
                change = RunEvents.model_validate_json(msg.data)
            except ValueError as error:
                log.warning("skipping malformed stored events of run %s: %s", run_id, error)
                continue
            if change.runId != run_id:
                log.warning("skipping stored events of run %s found under run %s", change.runId, run_id)
                continue
            changes.append((seq, change))
        # 204 ends a batch, with how many are left; 404: nothing (more) for this run.
        headers = end.headers or {}
        if not (headers.get("Status") == "204" and headers.get("Nats-Num-Pending", "0") != "0"):
            return StoredChanges(changes, last_seq)
