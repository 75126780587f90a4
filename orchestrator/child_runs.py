"""Carrying out what transitions ask of other runs: child runs to create, parents to tell, items to gather, error
workflows to start.

Each returns the next change to make, as (run id, pure change), and the actor makes it, so one message's work
on several runs is a queue, not a recursion, and a loop of 10,000 items that finish at once is no deeper than
one. Everything here can be done twice: child run ids are derived from where they come from, so a second try
after a crash finds the first's work.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import nats.errors
import pydantic_core

from bus import Bus, TooLarge
from schemas import CancelRequested, Dag, RunRecord, WorkflowInvalid, compile_workflow_off_loop
from schemas.input_schema import input_issues
from schemas.items import ItemResult, ItemStep, item_ref, loop_output_ref
from schemas.masking import mask_fields
from schemas.workflows import WorkflowVersion

from . import state
from .change import ChildRun, Transition, child_run_id
from .item_runs import item_dag, item_record, outer_outputs

log = logging.getLogger(__name__)

Followup = tuple[str, Callable[[RunRecord], Transition]]

# An output bigger than this (as JSON) is stored apart, as workers' results are (actor.INLINE_RESULT_BYTES).
INLINE_OUTPUT_BYTES = 8 * 1024
# Inputs bigger than this are stored once for a loop's items rather than copied into each item's run.
INLINE_INPUTS_BYTES = 4 * 1024
# A loop's gathered results above this (as JSON) keep each item's status but not its output (the bus carries 8 MiB).
GATHERED_OUTPUT_BYTES = 4 * 2**20
# Items' results read at once while gathering a loop's output.
_GATHER_AT_ONCE = 256
_CACHED_LOOPS = 32


def _now() -> datetime:
    return datetime.now(UTC)


class ChildRuns:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        # A loop's items and item DAG, read once per loop, not once per item.
        self._items: OrderedDict[tuple[str, str, int], list[Any]] = OrderedDict()
        self._dags: OrderedDict[tuple[str, str], tuple[Dag, dict[str, dict[str, Any]]]] = OrderedDict()
        self._stored_inputs: OrderedDict[str, None] = OrderedDict()

    # -- starting children ---------------------------------------------------------------------------------------

    async def start(self, parent: RunRecord, child: ChildRun) -> list[Followup]:
        """Create the child's record (if it is not there yet) and have it started, telling the step that asked; or
        fail that step."""
        step = parent.step(child.step_id)
        try:
            record = await (self._item(parent, child) if child.index is not None else
                            self._workflow_call(parent, child) if child.workflow is not None else
                            self._subworkflow(parent, child))
        except _NotStarted as why:
            reason = str(why)
            return [(parent.id, lambda current: state.child_not_started(current, child.step_id, step.attempt, reason,
                                                                       _now(), child.run_id))]
        if record is not None:
            try:
                await self.bus.runs.create(record)
            except TooLarge as error:
                reason = f"run {child.run_id} could not be recorded: {error}"
                return [(parent.id, lambda current: state.child_not_started(current, child.step_id, step.attempt,
                                                                           reason, _now(), child.run_id))]
        started: list[Followup] = [(child.run_id, lambda current: state.start(current, _now()))]
        if child.index is None:
            started.append((parent.id, lambda current: state.child_started(current, child.step_id, child.run_id,
                                                                           _now())))
        return started

    async def _item(self, parent: RunRecord, child: ChildRun) -> RunRecord | None:
        assert child.index is not None
        if await self.bus.runs.peek(child.run_id) is not None:
            return None
        items = await self._loop_items(parent, child.step_id)
        if child.index >= len(items):
            raise _NotStarted(f"item {child.index} is past the end of the list ({len(items)} items)")
        key = (parent.id, child.step_id)
        if key not in self._dags:
            self._dags[key] = (item_dag(parent.dag, child.step_id), outer_outputs(parent, child.step_id))
            _bound(self._dags)
        dag, outer = self._dags[key]
        return item_record(parent, child.step_id, child.run_id, child.index, items[child.index], dag, outer,
                           await self._inputs_ref(parent, child.step_id))

    async def _inputs_ref(self, parent: RunRecord, loop_id: str) -> str | None:
        """Large inputs are stored once for all of a loop's items (and its nested loops'), not copied into each."""
        if parent.inputsRef is not None:
            return parent.inputsRef
        if len(pydantic_core.to_json(parent.inputs)) <= INLINE_INPUTS_BYTES:
            return None
        ref = f"{parent.id}.{loop_id}.inputs"
        if ref not in self._stored_inputs:
            await self.bus.step_outputs.put(ref, parent.inputs, None)
            self._stored_inputs[ref] = None
            _bound(self._stored_inputs)
        return ref

    async def _loop_items(self, parent: RunRecord, loop_id: str) -> list[Any]:
        step = parent.step(loop_id)
        key = (parent.id, loop_id, step.attempt)
        if key not in self._items:
            prepared = await self.bus.step_outputs.output_of(step)
            items = prepared.get("items") if isinstance(prepared, dict) else None
            if not isinstance(items, list):
                raise _NotStarted("the loop's items are not stored (its rendered output is missing)")
            self._items[key] = items
            _bound(self._items)
        return self._items[key]

    async def _subworkflow(self, parent: RunRecord, child: ChildRun) -> RunRecord | None:
        if await self.bus.runs.peek(child.run_id) is not None:
            return None
        step = parent.step(child.step_id)
        prepared = await self.bus.step_outputs.output_of(step)
        if not isinstance(prepared, dict) or not isinstance(prepared.get("workflowId"), str):
            raise _NotStarted("the subworkflow's rendered configuration is missing")
        workflow_id = prepared["workflowId"]
        depth, limit = parent.depth + 1, self.bus.settings.max_subworkflow_depth
        chain = [*parent.chain, parent.workflowName]
        if depth > limit:
            raise _NotStarted(f"subworkflows nest at most {limit} deep (AUTOMATEOS_MAX_SUBWORKFLOW_DEPTH); this one "
                              f"would be {depth} deep: {' → '.join(chain)} → {workflow_id}")
        saved = await self._saved(workflow_id, prepared.get("version"))
        try:
            dag = await compile_workflow_off_loop(saved.graph, self.bus.settings.max_graph_nodes)
        except WorkflowInvalid as invalid:
            raise _NotStarted(f"workflow {saved.name!r} (v{saved.version}) cannot run: {invalid}") from None
        given = prepared.get("inputs")
        inputs: dict[str, Any] = given if isinstance(given, dict) else {}
        if issues := input_issues(saved.inputSchema, inputs):
            raise _NotStarted(f"workflow {saved.name!r} (v{saved.version}) declares its inputs, and these do not "
                              "satisfy them: " + "; ".join(f"{issue.field} {issue.reason}" for issue in issues))
        return RunRecord.new(child.run_id, dag, inputs, trigger="subworkflow", started_by=parent.startedBy,
                             workflow_id=workflow_id, workflow_version=saved.version, parent_run_id=parent.id,
                             parent_step_id=child.step_id, depth=depth, chain=chain)

    async def _workflow_call(self, parent: RunRecord, child: ChildRun) -> RunRecord | None:
        """A run of a workflow its step's handler names, with the inputs it gives (an agent's tool call), checked
        against the version's declared inputs."""
        assert child.workflow is not None
        if await self.bus.runs.peek(child.run_id) is not None:
            return None
        call = child.workflow
        depth, limit = parent.depth + 1, self.bus.settings.max_subworkflow_depth
        chain = [*parent.chain, parent.workflowName]
        if depth > limit:
            raise _NotStarted(f"workflows nest at most {limit} deep (AUTOMATEOS_MAX_SUBWORKFLOW_DEPTH); this one "
                              f"would be {depth} deep: {' → '.join(chain)} → {call.workflow_id}")
        saved = await self._saved(call.workflow_id, call.version)
        if issues := input_issues(saved.inputSchema, call.inputs):
            raise _NotStarted("the arguments do not satisfy the tool's input schema: "
                              + "; ".join(f"{issue.field} {issue.reason}" for issue in issues))
        try:
            dag = await compile_workflow_off_loop(saved.graph, self.bus.settings.max_graph_nodes)
        except WorkflowInvalid as invalid:
            raise _NotStarted(f"workflow {saved.name!r} (v{saved.version}) cannot run: {invalid}") from None
        return RunRecord.new(child.run_id, dag, call.inputs, trigger=call.trigger, started_by=parent.startedBy,
                             workflow_id=call.workflow_id, workflow_version=saved.version, parent_run_id=parent.id,
                             parent_step_id=child.step_id, depth=depth, chain=chain)

    async def describe(self, record: RunRecord, step_id: str) -> Followup:
        """The saved workflows a step names as tools (`tools` in its config), as a model is offered them: id,
        version (the live one when active, else the latest), name, description and inputSchema."""
        step = record.step(step_id)
        described: list[dict[str, Any]] = []
        error = None
        try:
            for workflow_id in record.dag.step(step_id).config.get("tools") or []:
                saved = await self._saved(str(workflow_id), None)
                described.append({"workflowId": saved.workflowId, "version": saved.version, "name": saved.name,
                                  "description": saved.description or "",
                                  "inputSchema": saved.inputSchema or {"type": "object"}})
        except _NotStarted as why:
            error = f"a tool cannot be offered: {why}"
        ref = None
        if error is None and len(pydantic_core.to_json(described)) > INLINE_OUTPUT_BYTES:
            ref = f"{record.id}.{step_id}.{step.attempt}.w"
            await self.bus.step_outputs.put(ref, described, None)
        found = state.Described(output=None if ref or error else described, output_ref=ref, error=error)
        return record.id, lambda current: state.described(current, step_id, found, _now())

    async def _saved(self, workflow_id: str, version: Any) -> WorkflowVersion:
        """The version a step or an error handler names: the one given, else the live one when the workflow is
        active, else the latest."""
        found = await self.bus.workflows.get(workflow_id)
        if found is None:
            raise _NotStarted(f"there is no saved workflow {workflow_id!r}")
        head = found[0]
        chosen = version if isinstance(version, int) else (head.activeVersion if head.active and head.activeVersion
                                                           else head.version)
        saved = await self.bus.workflows.version(workflow_id, chosen)
        if saved is None:
            raise _NotStarted(f"workflow {workflow_id!r} has no version {chosen} (latest: {head.version})")
        return saved

    # -- a child ended ---------------------------------------------------------------------------------------------

    async def finished(self, record: RunRecord) -> Followup | None:
        """Tell the step that started this run how it ended (an item's result is stored first, for the loop's
        output and the items view)."""
        if record.parentRunId is None or record.parentStepId is None:
            return None
        steps = {s.id: s for s in record.steps if record.dag.step(s.id).completes != "trigger"}
        output = await self._terminal_output(record)
        # A large output is kept apart, so what the parent's change and a loop's gathered results carry stays small
        # whatever each item or child returned.
        kept_apart = None
        if len(pydantic_core.to_json(output)) > INLINE_OUTPUT_BYTES:
            kept_apart = f"{record.parentRunId}.{record.parentStepId}.out.{record.id}"
            # An item's result is its output; a subworkflow step's, the child's id and status with it.
            stored = output if record.itemIndex is not None else \
                {"runId": record.id, "status": record.status, "output": output}
            await self.bus.step_outputs.put(kept_apart, stored, None)
        if record.itemIndex is not None:
            result = ItemResult(
                index=record.itemIndex, runId=record.id, status=record.status,
                output=None if kept_apart else output, outputRef=kept_apart, error=record.error,
                durationMs=record.summary().durationMs,
                steps={s.id: ItemStep(status=s.status, output=s.output, outputRef=s.outputRef, error=s.error,
                                      durationMs=s.durationMs) for s in steps.values()},
            )
            await self.bus.step_outputs.put(item_ref(record.parentRunId, record.parentStepId, record.itemIndex),
                                            result.model_dump(mode="json"), None)
        outcome = state.ChildOutcome(run_id=record.id, index=record.itemIndex, status=record.status,
                                     output=None if kept_apart else output, output_ref=kept_apart, error=record.error,
                                     steps={s.id: s.status for s in steps.values()})
        step_id = record.parentStepId
        return record.parentRunId, lambda parent: state.child_finished(parent, step_id, outcome, _now())

    async def _terminal_output(self, record: RunRecord) -> Any:
        """The output of its last step (of those that ran, by id, when it has several that end it). Steps inside a
        loop's body run per item and end nothing here: the loop does."""
        terminals = [s for s in record.dag.steps if s.completes != "trigger" and s.inLoop is None
                     and not [c for c in record.dag.children(s.id) if c not in (s.body or [])]]
        ran = [record.step(s.id) for s in terminals
               if record.step(s.id).status == "succeeded" or record.step(s.id).errorHandled]
        if len(terminals) == 1:
            return await self.bus.step_outputs.output_of(ran[0]) if ran else None
        return {s.id: await self.bus.step_outputs.output_of(s) for s in ran}

    async def collect(self, record: RunRecord, loop_id: str) -> Followup | None:
        """A loop's output, from its items' stored results in index order."""
        step = record.step(loop_id)
        if step.items is None or step.status != "running":
            return None
        total = step.items.total
        results: list[dict[str, Any]] = []
        for first in range(0, total, _GATHER_AT_ONCE):
            refs = [item_ref(record.id, loop_id, index) for index in range(first, min(first + _GATHER_AT_ONCE, total))]
            stored = await asyncio.gather(*(self.bus.step_outputs.get(ref) for ref in refs))
            for index, entry in enumerate(stored, start=first):
                if entry is None or not isinstance(entry.output, dict):
                    results.append({"index": index, "status": "failed", "output": None,
                                    "error": "its result was not stored"})
                    continue
                item = ItemResult.model_validate(entry.output)
                results.append({"index": index, "status": item.status, "output": item.output,
                                **({"outputRef": item.outputRef} if item.outputRef else {}),
                                **({"error": item.error} if item.error else {})})
        succeeded = sum(1 for r in results if r["status"] == "succeeded")
        output: dict[str, Any] = {"count": total, "succeeded": succeeded, "failed": total - succeeded, "results": results}
        size = len(pydantic_core.to_json(output))
        if size > GATHERED_OUTPUT_BYTES:
            # Too much to hand the next steps in one piece: the statuses stay, the outputs are read item by item.
            for result in results:
                result.pop("output", None)
            output["outputsOmitted"] = (f"the items' outputs come to {size / 2**20:.1f} MiB, more than a step's output "
                                        f"may hold ({GATHERED_OUTPUT_BYTES // 2**20} MiB): read them through GET "
                                        f"/v1/runs/{record.id}/steps/{loop_id}/items, or end the body with a Set step "
                                        "that keeps only what the steps after the loop need")
        ref = None
        try:
            if len(pydantic_core.to_json(output)) > INLINE_OUTPUT_BYTES:
                ref = loop_output_ref(record.id, loop_id)
                await self.bus.step_outputs.put(ref, output, None)
            gathered = state.Collected(output=None if ref else output, output_ref=ref)
        except (TooLarge, nats.errors.MaxPayloadError) as error:
            gathered = state.Collected(output=None, output_ref=None, error=f"the loop's results could not be stored "
                                       f"({error}): end the body with a Set step that keeps only what is needed")
        return record.id, lambda current: state.collected(current, loop_id, gathered, _now())

    # -- error workflows -------------------------------------------------------------------------------------------

    async def error_workflow(self, record: RunRecord) -> Followup | None:
        """A failed run of a saved workflow that names an error workflow starts one run of it: its id is derived
        from the failed run's, so a second try (the orchestrator killed right after the failure) finds the first."""
        # Not for a run started by a failure, a loop's item or a subworkflow's child (its parent's step fails, and
        # the parent's failure is the one reported): otherwise an error workflow that runs the failing workflow again
        # would start error runs without end.
        if record.status != "failed" or record.trigger in ("error", "loop", "subworkflow") \
                or record.workflowId is None or record.workflowVersion is None:
            return None
        failed_version = await self.bus.workflows.version(record.workflowId, record.workflowVersion)
        handler_id = failed_version.errorWorkflowId if failed_version is not None else None
        if handler_id is None:
            return None
        run_id = child_run_id(record.id, "~error", "1")
        if await self.bus.runs.peek(run_id) is not None:
            return run_id, lambda current: state.start(current, _now())
        failed_step = next((s for s in record.steps if s.status in ("failed", "cancelled") and not s.errorHandled), None)
        failed_run = {"id": record.id, "workflowId": record.workflowId, "workflowVersion": record.workflowVersion,
                      "workflowName": record.workflowName, "failedStepId": failed_step.id if failed_step else None,
                      "error": record.error, "trigger": record.trigger}
        try:
            saved = await self._saved(handler_id, None)
            dag = await compile_workflow_off_loop(saved.graph, self.bus.settings.max_graph_nodes)
        except (_NotStarted, WorkflowInvalid) as why:
            log.error("run %s failed, and its error workflow %s cannot run: %s", record.id, handler_id, why)
            return None
        depth, limit = record.depth + 1, self.bus.settings.max_subworkflow_depth
        if depth > limit:
            log.error("run %s failed, and its error workflow %s is not started: it would be %d runs deep, more than "
                      "AUTOMATEOS_MAX_SUBWORKFLOW_DEPTH (%d)", record.id, handler_id, depth, limit)
            return None
        # Counted as one level deeper than the failed run, so error workflows and subworkflows calling each other
        # stop at the depth limit however they alternate; attributed to whoever started the failed run.
        error_run = RunRecord.new(run_id, dag, {"payload": {"failedRun": mask_fields(failed_run)}}, trigger="error",
                                  started_by=record.startedBy, workflow_id=handler_id, workflow_version=saved.version,
                                  depth=depth, chain=[*record.chain, record.workflowName])
        if await self.bus.runs.create(error_run):
            log.info("run %s failed: started its error workflow %s as run %s", record.id, handler_id, run_id)
        return run_id, lambda current: state.start(current, _now())

    async def cancel(self, run_id: str, reason: str) -> None:
        await self.bus.request_cancel(CancelRequested(runId=run_id, reason=reason))


class _NotStarted(Exception):
    """Why a child run cannot start: the step that asked for it fails, saying so."""


def _bound(cache: OrderedDict[Any, Any]) -> None:
    while len(cache) > _CACHED_LOOPS:
        cache.popitem(last=False)
