"""GET /v1/runs/{runId}/steps/{stepId}/items: a loop's items, a page at a time, for the loop step or a step of its
body. The run itself holds only counts (its size does not grow with the items); each item is read where it is: its
result, stored when it ended (schemas/items.py `ItemResult`), else its run, still going."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from bus import Bus
from schemas import FINISHED_STEP_STATUSES, Dag, FieldIssue, RunRecord, StepState
from schemas.items import ItemResult, StepItem, StepItems, item_ref, item_run_id

from .app_state import bus_of
from .errors import ApiException, json_response
from .runs import existing_run

DEFAULT_ITEMS_LIMIT = 50
MAX_ITEMS_LIMIT = 200
_WHOLE = re.compile(r"[0-9]{1,9}")


def _page(request: Request) -> tuple[int, int]:
    query = request.query_params
    issues = []
    offset_text, limit_text = query.get("offset") or "0", query.get("limit") or str(DEFAULT_ITEMS_LIMIT)
    offset = int(offset_text) if _WHOLE.fullmatch(offset_text) else -1
    limit = int(limit_text) if _WHOLE.fullmatch(limit_text) else 0
    if offset < 0:
        issues.append(FieldIssue(field="offset", reason="must be a whole number from 0"))
    if not 1 <= limit <= MAX_ITEMS_LIMIT:
        issues.append(FieldIssue(field="limit", reason=f"must be a whole number from 1 to {MAX_ITEMS_LIMIT}"))
    if issues:
        raise ApiException(422, "validation_error", "invalid query parameters", issues)
    return offset, limit


def loop_of(dag: Dag, step_id: str) -> str | None:
    """The loop whose items `step_id` runs in, in this run: the outermost loop around it (an inner loop's items run
    inside the outer loop's item runs), or the step itself when it is a loop outside any; None outside loops."""
    step = dag.step(step_id)
    if step.inLoop is None:
        return step_id if step.body is not None else None
    loop_id = step.inLoop
    while (outer := dag.step(loop_id).inLoop) is not None:
        loop_id = outer
    return loop_id


async def list_items(request: Request) -> Response:
    record = await existing_run(request)
    step_id = request.path_params["step_id"]
    if not record.dag.has(step_id):
        raise ApiException(404, "not_found", f"run {record.id} has no step {step_id!r}")
    loop_id = loop_of(record.dag, step_id)
    if loop_id is None:
        raise ApiException(422, "validation_error", f"step {step_id!r} runs once per run, not per item",
                           [FieldIssue(field="stepId", reason="not a loop's step")])
    offset, limit = _page(request)
    loop = record.step(loop_id)
    total = loop.items.total if loop.items is not None else 0
    reader = _Items(bus_of(request), record, loop, step_id)
    items = await asyncio.gather(*(reader.item(index) for index in range(offset, min(offset + limit, total))))
    return json_response(StepItems(items=list(items), total=total))


class _Items:
    def __init__(self, bus: Bus, record: RunRecord, loop: StepState, step_id: str) -> None:
        self.bus = bus
        self.record = record
        self.loop = loop
        self.step_id = step_id
        progress = loop.items
        # Items start in index order: those from here on have no run yet (orchestrator/completions/loop.py).
        self.started = progress.done + len(progress.running) if progress is not None else 0
        self.loop_over = loop.status in FINISHED_STEP_STATUSES

    @property
    def whole_item(self) -> bool:
        return self.step_id == self.loop.id

    async def item(self, index: int) -> StepItem:
        stored = await self.bus.step_outputs.get(item_ref(self.record.id, self.loop.id, index))
        if stored is not None:
            try:
                return await self._from_result(index, ItemResult.model_validate(stored.output))
            except ValidationError:
                return StepItem(index=index, status="failed", error="its stored result is unreadable",
                                runId=item_run_id(self.record.id, self.loop.id, index))
        found = await self.bus.runs.get(item_run_id(self.record.id, self.loop.id, index)) \
            if index < self.started or self.loop_over else None
        if found is None:
            # Not begun: still to come, or never, when the loop ended first (a failed item stopped it, a cancel).
            return StepItem(index=index, status="skipped" if self.loop_over else "queued")
        return await self._from_run(index, found[0])

    async def _from_result(self, index: int, result: ItemResult) -> StepItem:
        if self.whole_item:
            output = result.output if result.outputRef is None else await self._stored(result.outputRef)
            return StepItem(index=index, status=result.status, output=output, error=result.error,
                            durationMs=result.durationMs, runId=result.runId)
        step = result.steps.get(self.step_id)
        if step is None:
            return StepItem(index=index, status="skipped", runId=result.runId)
        output = step.output if step.outputRef is None else await self._stored(step.outputRef)
        return StepItem(index=index, status=step.status, output=output, error=step.error, durationMs=step.durationMs,
                        runId=result.runId)

    async def _from_run(self, index: int, run: RunRecord) -> StepItem:
        if self.whole_item:
            return StepItem(index=index, status=run.status, error=run.error, durationMs=run.summary().durationMs,
                            runId=run.id)
        if not run.dag.has(self.step_id):
            return StepItem(index=index, status="skipped", runId=run.id)
        step = run.step(self.step_id)
        output = step.output if step.outputRef is None else await self._stored(step.outputRef)
        return StepItem(index=index, status=step.status, output=output, error=step.error, durationMs=step.durationMs,
                        runId=run.id)

    async def _stored(self, ref: str) -> Any:
        stored = await self.bus.step_outputs.get(ref)
        return stored.output if stored is not None else None
