"""Run records in the `runs` KV bucket, changed only by compare-and-set on the revision; each change that
alters a run's summary also updates the listing index (bus/run_index.py)."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from schemas import RunRecord

from .errors import StaleRevision
from .run_index import RunIndex

log = logging.getLogger(__name__)

T = TypeVar("T")

_CAS_ATTEMPTS = 100
# Records this process wrote last, by run id: the first compare-and-set tries them without a read.
_REMEMBERED_RECORDS = 10_000


class RunStore:
    def __init__(self, kv: KeyValue, index: RunIndex) -> None:
        self.kv = kv
        self.index = index
        self._written: OrderedDict[str, tuple[RunRecord, int]] = OrderedDict()

    async def get(self, run_id: str) -> tuple[RunRecord, int] | None:
        try:
            entry = await self.kv.get(run_id)
        except KeyNotFoundError:
            return None
        if entry.value is None:
            return None
        return RunRecord.model_validate_json(entry.value), entry.revision or 0

    async def create(self, record: RunRecord) -> bool:
        """Store a new record; False when one with that id exists already."""
        try:
            await self.kv.create(record.id, record.model_dump_json().encode())
        except KeyWrongLastSequenceError:
            return False
        await self.index.put(record.summary())
        return True

    async def mutate(self, run_id: str, change: Callable[[RunRecord], tuple[RunRecord | None, T]]) -> T:
        """Apply `change` to the current record and store the result if the revision is still current.

        `change` is pure: on a lost race it is re-applied to the fresh record. It returns the
        record to write (None: nothing to write) and an outcome that mutate() passes back.
        A missing record raises KeyError.

        The first attempt uses the record this process last wrote, if any: with one orchestrator
        it is always current, and with several a stale one only costs a failed compare-and-set.
        """
        current = self._written.pop(run_id, None)
        for _ in range(_CAS_ATTEMPTS):
            if current is None:
                current = await self.get(run_id)
                if current is None:
                    raise KeyError(run_id)
            record, revision = current
            new_record, outcome = change(record)
            if new_record is None:
                if not record.finished:
                    self._remember(run_id, current)
                return outcome
            try:
                revision = await self.kv.update(run_id, new_record.model_dump_json().encode(), last=revision)
            except KeyWrongLastSequenceError:
                current = None
                await asyncio.sleep(0)
                continue
            if not new_record.finished:
                self._remember(run_id, (new_record, revision))
            if _listed_differently(record, new_record):
                await self.index.put(new_record.summary())
            return outcome
        raise StaleRevision(f"run {run_id}: {_CAS_ATTEMPTS} compare-and-set attempts lost the race")

    def _remember(self, run_id: str, current: tuple[RunRecord, int]) -> None:
        self._written[run_id] = current
        if len(self._written) > _REMEMBERED_RECORDS:
            self._written.popitem(last=False)

def _listed_differently(old: RunRecord, new: RunRecord) -> bool:
    """Whether a change shows in the run's summary: a new status or error (steps and logs do not)."""
    return (old.status, old.error, old.workflowName) != (new.status, new.error, new.workflowName)


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
