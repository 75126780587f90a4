"""`RunStore`: a run's state is its record as created plus its log of changes (bus/run_log.py).

Each change is stored as just its events: one message on `runs.events.<runId>`, published only if the subject's
last sequence is still the one the change was computed from (`Nats-Expected-Last-Subject-Sequence`), so writers
race safely, the way a compare-and-set would, and a change costs what it changes, not the run's size. The same
message is what the run's viewers receive: there is no second write to narrate it.

The `runs` KV entry holds the record as created (the DAG and inputs, written once). Reading a run is that entry
plus the changes after the stream sequence it includes. Before a wait of an hour or more it is overwritten with a
snapshot, so a run's state stays readable after its older changes have aged out of the stream (a run can wait up
to 30 days at a time, and there may be several waits); that is the only rewrite, and it is rare.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TypeVar

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from schemas import RunEvents, RunRecord, StepEvent, fold_events

from . import subjects
from .errors import StaleRevision, TooLarge
from .run_events_hub import RunEventModel
from .run_index import RunIndex
from .run_log import read_changes

log = logging.getLogger(__name__)

T = TypeVar("T")
Change = tuple[RunRecord | None, Sequence[RunEventModel], T]

_CAS_ATTEMPTS = 100
# nats-server's error code for a publish whose Nats-Expected-Last-Subject-Sequence is not the subject's last.
_WRONG_LAST_SEQUENCE = 10071
# Runs this process changed last, by id: their next change starts from this copy, with no read.
_REMEMBERED_RUNS = 10_000
# A wait at least this long is preceded by a snapshot.
LONG_WAIT = timedelta(hours=1)
# A run is listed as running only once it has run this long: most runs end sooner, and nobody lists them as
# running, so their end's summary replaces `queued` directly (an index write and a purge fewer per run).
RUNNING_LISTED_AFTER_S = 1.0


class RunStore:
    def __init__(self, nc: NATS, js: JetStreamContext, kv: KeyValue, index: RunIndex) -> None:
        self.nc = nc
        self.js = js
        self.kv = kv
        self.index = index
        self._latest: OrderedDict[str, RunRecord] = OrderedDict()
        self._unlisted_running: dict[str, asyncio.TimerHandle] = {}
        # Runs this process created lately: a follower that connects right after asking for one knows it exists.
        self._created: OrderedDict[str, None] = OrderedDict()
        self._listing: set[asyncio.Task[None]] = set()

    async def get(self, run_id: str) -> tuple[RunRecord, int] | None:
        """The run as it is now, and the stream sequence of its last change (0: none yet)."""
        stored = await self._stored(run_id)
        if stored is None:
            return None
        record = await self._caught_up(stored)
        return record, record.streamSeq

    async def peek(self, run_id: str) -> RunRecord | None:
        """The run's KV entry alone: as created, or its last snapshot. One read, but it lags the run's changes."""
        return await self._stored(run_id)

    async def create(self, record: RunRecord) -> bool:
        """Store a new record; False when one with that id exists already. TooLarge when it does not fit in a
        message."""
        data = record.model_dump_json().encode()
        try:
            await self.kv.create(record.id, data)
        except (KeyWrongLastSequenceError, KeyNotFoundError):
            # KeyNotFoundError too: nats-py's create, refused because the key exists, reads it to see whether it is
            # a deletion, and a read served by a replica that lags the leader does not find it yet.
            return False
        except nats.errors.MaxPayloadError:
            raise TooLarge(f"the run's record is {len(data) // 1024} KiB, more than the bus takes in one message "
                           f"({self.nc.max_payload // 1024} KiB): make the workflow or its inputs smaller") from None
        if record.listed:
            await self.index.put(record.summary(), first=True)
        self._created[record.id] = None
        if len(self._created) > _REMEMBERED_RUNS:
            self._created.popitem(last=False)
        return True

    def created_here(self, run_id: str) -> bool:
        """Whether this process created the run lately (so it exists, with no read to learn it)."""
        return run_id in self._created

    async def mutate(self, run_id: str, change: Callable[[RunRecord], Change[T]]) -> T:
        """Apply `change` to the run as it is and store its events if nobody stored another change first.

        `change` is pure: on a lost race it is re-applied to the run caught up. It returns the changed record
        (None: no change), the events that say what changed (the record must be the old one with the events
        folded in: orchestrator/state.py keeps that true and its tests check it) and an outcome, which mutate()
        passes back. A missing run raises KeyError.

        The first attempt starts from the copy this process last wrote, if any, else from the KV entry, without
        reading the log: a stale start costs a refused publish and a read of what it missed. A change that does
        nothing is checked against the log before it is believed (nothing else would catch a stale copy).
        """
        current = self._latest.pop(run_id, None)
        if current is None:
            current = await self._stored(run_id)
            if current is None:
                raise KeyError(run_id)
        verified = False  # a copy known to be current: the publish's check proves it, else a read
        for _ in range(_CAS_ATTEMPTS):
            new_record, events, outcome = change(current)
            if new_record is None or not events:
                # Doing nothing writes nothing, so no publish checks the copy: read what it may lack first.
                if not verified:
                    verified = True
                    caught_up = await self._caught_up(current)
                    if caught_up.streamSeq != current.streamSeq:
                        current = caught_up
                        continue
                if not current.finished:
                    self._remember(current)
                elif verified and current.listed:
                    # A repeat for a finished run: its sender may have died after the last change but before the
                    # listing heard of it, so the summary is published again (rare: redeliveries only).
                    await self.index.put(current.summary())
                return outcome
            try:
                seq = await self._append(run_id, events, current.streamSeq)
            except _Stale:
                caught_up = await self._caught_up(current)
                # A read that found nothing new came from a follower that lags the leader (direct gets on a
                # cluster may): give it a moment rather than spend the attempts at once.
                await asyncio.sleep(0 if caught_up.streamSeq != current.streamSeq else 0.01)
                current, verified = caught_up, True
                continue
            new_record.streamSeq = seq
            if new_record.finished:
                self._latest.pop(run_id, None)
                if (pending := self._unlisted_running.pop(run_id, None)) is not None:
                    pending.cancel()
            else:
                self._remember(new_record)
            after_writes = []
            if _starts_long_wait(events):
                after_writes.append(self._snapshot(new_record))
            if new_record.listed and _listed_differently(current, new_record):
                if (current.status, new_record.status) == ("queued", "running") and new_record.error is None:
                    self._list_running_later(run_id)
                else:
                    after_writes.append(self.index.put(new_record.summary()))
            await asyncio.gather(*after_writes)
            return outcome
        raise StaleRevision(f"run {run_id}: {_CAS_ATTEMPTS} attempts to store a change lost the race")

    def _list_running_later(self, run_id: str) -> None:
        if run_id not in self._unlisted_running:
            self._unlisted_running[run_id] = asyncio.get_running_loop().call_later(
                RUNNING_LISTED_AFTER_S, self._list_running, run_id)

    def _list_running(self, run_id: str) -> None:
        self._unlisted_running.pop(run_id, None)
        task = asyncio.create_task(self._put_running_summary(run_id))
        self._listing.add(task)
        task.add_done_callback(self._listing.discard)

    async def _put_running_summary(self, run_id: str) -> None:
        """The run's summary, if it is still running: read first, since another orchestrator may have ended it
        meanwhile (its summary must not be replaced by an older state)."""
        try:
            found = await self.get(run_id)
            if found is not None and found[0].status == "running":
                await self.index.put(found[0].summary())
        except (nats.errors.Error, TimeoutError) as error:
            log.warning("run %s: running summary not listed (%s); its next change lists it", run_id, error)

    async def _append(self, run_id: str, events: Sequence[RunEventModel], after: int) -> int:
        batch = RunEvents(runId=run_id, events=list(events))
        try:
            ack = await self.js.publish(
                subjects.run_events(run_id), batch.model_dump_json().encode(), stream=subjects.EVENTS_STREAM,
                headers={"Nats-Expected-Last-Subject-Sequence": str(after)},
            )
        except nats.js.errors.BadRequestError as error:
            if error.err_code == _WRONG_LAST_SEQUENCE:
                raise _Stale from None
            raise
        return int(ack.seq)

    async def _stored(self, run_id: str) -> RunRecord | None:
        try:
            entry = await self.kv.get(run_id)
        except KeyNotFoundError:
            return None
        return RunRecord.model_validate_json(entry.value) if entry.value else None

    async def _caught_up(self, record: RunRecord) -> RunRecord:
        stored = await read_changes(self.nc, record.id, after=record.streamSeq)
        if stored.last_seq == record.streamSeq:
            return record
        folded = fold_events(record, [event for _, change in stored.changes for event in change.events])
        # Past what was skipped too: the next change is appended after the subject's last message, whatever it is.
        folded.streamSeq = stored.last_seq
        return folded

    async def _snapshot(self, record: RunRecord) -> None:
        """The run's state so far (its changes stay the truth), so its older changes may expire."""
        try:
            await self.kv.put(record.id, record.model_dump_json().encode())
        except nats.js.errors.Error as error:
            log.warning("run %s: snapshot not stored (%s); reads fold its changes instead", record.id, error)

    def _remember(self, record: RunRecord) -> None:
        self._latest[record.id] = record
        if len(self._latest) > _REMEMBERED_RUNS:
            self._latest.popitem(last=False)


class _Stale(Exception):
    """Another change was stored first."""


def _starts_long_wait(events: Sequence[RunEventModel]) -> bool:
    return any(isinstance(e, StepEvent) and e.step.status == "waiting" and e.step.waitUntil is not None
               and e.step.waitUntil - e.ts >= LONG_WAIT for e in events)


def _listed_differently(old: RunRecord, new: RunRecord) -> bool:
    """Whether a change shows in the run's summary: a new status or error (steps and logs do not)."""
    return (old.status, old.error, old.workflowName) != (new.status, new.error, new.workflowName)
