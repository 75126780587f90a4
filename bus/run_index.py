"""`RunIndex`: one summary message per run on the RUN_INDEX stream, so listing runs costs O(page), not O(runs).

A summary's subject carries what runs are filtered by, `runs.index.<workflowId>.<status>.<trigger>.<runId>`, so
the server does the filtering (a direct get with a wildcard subject). Each new summary of a run replaces its
older ones (a purge that keeps the newest), so the stream holds one per run, in the order of their last change:
a page is read backwards by sequence, in windows that grow until the page is full.
"""

from __future__ import annotations

import json
import logging

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from schemas import RunSummary

from . import subjects
from .stream_pages import newest_first

log = logging.getLogger(__name__)

# A draft run has no workflow id; "~" can't be one (ids are letters, digits, "_" and "-").
NO_WORKFLOW = "~"
_FIRST_WINDOW = 256
_READ_TIMEOUT_S = 5.0


def index_subject(summary: RunSummary) -> str:
    return subjects.run_index(summary.workflowId or NO_WORKFLOW, summary.status, summary.trigger, summary.id)


class RunIndex:
    def __init__(self, nc: NATS, js: JetStreamContext) -> None:
        self._nc = nc
        self._js = js

    async def put(self, summary: RunSummary, first: bool = False) -> None:
        """Publishes the run's current summary, then drops its older ones (a purge keeping the newest); a run's
        `first` summary has none to drop."""
        await self._js.publish(index_subject(summary), summary.model_dump_json().encode(), stream=subjects.INDEX_STREAM)
        if first:
            return
        purge = {"filter": subjects.run_index("*", "*", "*", summary.id), "keep": 1}
        await self._nc.request(f"$JS.API.STREAM.PURGE.{subjects.INDEX_STREAM}", json.dumps(purge).encode(),
                               timeout=_READ_TIMEOUT_S)

    async def page(self, workflow_id: str | None, status: str | None, trigger: str | None, before: str | None,
                   limit: int) -> tuple[list[RunSummary], bool]:
        """Up to `limit` summaries matching the filters, most recently changed first, older than run `before`;
        and whether more are left."""
        wanted = subjects.run_index(workflow_id or "*", status or "*", trigger or "*", "*")
        end = None
        if before is not None:
            end = await self._seq_of(before)
            if end is None:
                return [], False
        # Unfiltered, the newest limit + 1 are the page; a filter may need a longer look back.
        window = limit + 1 if wanted == subjects.run_index("*", "*", "*", "*") else max(_FIRST_WINDOW, limit * 4)
        found, more = await newest_first(self._nc, subjects.INDEX_STREAM, wanted, end, limit, window)
        page = []
        for msg in found:
            try:
                page.append(RunSummary.model_validate_json(msg.data))
            except ValueError as error:
                log.warning("skipping a malformed run summary: %s", error)
        return page, more

    async def summary(self, run_id: str) -> RunSummary | None:
        """The run's latest summary, in one read; None when it has none (not listed, or not yet)."""
        found = await self._last(run_id)
        if found is None:
            return None
        try:
            return RunSummary.model_validate_json(found.data)
        except ValueError as error:
            log.warning("a malformed summary of run %s: %s", run_id, error)
            return None

    async def _seq_of(self, run_id: str) -> int | None:
        found = await self._last(run_id)
        return int((found.headers or {})["Nats-Sequence"]) if found is not None else None

    async def _last(self, run_id: str) -> Msg | None:
        request = {"last_by_subj": subjects.run_index("*", "*", "*", run_id)}
        answer = await self._nc.request(f"$JS.API.DIRECT.GET.{subjects.INDEX_STREAM}", json.dumps(request).encode(),
                                        timeout=_READ_TIMEOUT_S)
        return None if (answer.headers or {}).get("Status") else answer
