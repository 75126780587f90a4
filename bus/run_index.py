"""`RunIndex`: one summary message per run on the RUN_INDEX stream, so listing runs costs O(page), not O(runs).

A summary's subject carries what runs are filtered by, `runs.index.<workflowId>.<status>.<trigger>.<runId>`, so
the server does the filtering (a direct get with a wildcard subject). Each new summary of a run replaces its
older ones (a purge that keeps the newest), so the stream holds one per run, in the order of their last change:
a page is read backwards by sequence, in windows that grow until the page is full.
"""

from __future__ import annotations

import asyncio
import json
import logging

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from schemas import RunSummary

from . import subjects

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
        if before is not None:
            end = await self._seq_of(before)
            if end is None:
                return [], False
        else:
            end = await self._last_seq() + 1
        found: list[tuple[int, bytes]] = []
        # Unfiltered, the newest limit + 1 are the page; a filter may need a longer look back.
        window = limit + 1 if wanted == subjects.run_index("*", "*", "*", "*") else max(_FIRST_WINDOW, limit * 4)
        while end > 1 and len(found) <= limit:
            start = max(1, end - window)
            older = [item for item in await self._read(wanted, start, end - start) if item[0] < end]
            found = older + found
            end = start
            window *= 4
        found.sort(key=lambda item: item[0], reverse=True)
        # The scan stops once it holds one more than a page, or when nothing older is left.
        page = []
        for _, data in found[:limit]:
            try:
                page.append(RunSummary.model_validate_json(data))
            except ValueError as error:
                log.warning("skipping a malformed run summary: %s", error)
        return page, len(found) > limit

    async def _last_seq(self) -> int:
        answer = await self._nc.request(f"$JS.API.STREAM.INFO.{subjects.INDEX_STREAM}", b"", timeout=_READ_TIMEOUT_S)
        return int(json.loads(answer.data)["state"]["last_seq"])

    async def _seq_of(self, run_id: str) -> int | None:
        request = {"last_by_subj": subjects.run_index("*", "*", "*", run_id)}
        answer = await self._nc.request(f"$JS.API.DIRECT.GET.{subjects.INDEX_STREAM}", json.dumps(request).encode(),
                                        timeout=_READ_TIMEOUT_S)
        headers = answer.headers or {}
        if headers.get("Status"):
            return None
        return int(headers["Nats-Sequence"])

    async def _read(self, wanted: str, start: int, count: int) -> list[tuple[int, bytes]]:
        """Matching summaries (sequence, JSON) from sequence `start` on, at most `count`: one batched direct get."""
        found: list[tuple[int, bytes]] = []
        finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def collect(msg: Msg) -> None:
            headers = msg.headers or {}
            if headers.get("Status"):  # 204: end of the batch; 404: nothing matched
                if not finished.done():
                    finished.set_result(None)
            else:
                found.append((int(headers["Nats-Sequence"]), msg.data))

        inbox = self._nc.new_inbox()
        replies = await self._nc.subscribe(inbox, cb=collect)
        try:
            request = {"seq": start, "next_by_subj": wanted, "batch": max(1, count)}
            await self._nc.publish(f"$JS.API.DIRECT.GET.{subjects.INDEX_STREAM}", json.dumps(request).encode(),
                                   reply=inbox)
            await asyncio.wait_for(finished, _READ_TIMEOUT_S)
            return found
        finally:
            await replies.unsubscribe()
