"""The orchestrator actor: consumes run requests, cancels and step results; keeps run records."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pydantic_core
from pydantic import ValidationError

from bus import (
    SIGNATURE_HEADER,
    Bus,
    BusUnavailable,
    Defer,
    Delivery,
    PullLoop,
    Reject,
    ResultSigner,
    Retry,
    TooLarge,
    log_context,
    output_ref,
    subjects,
)
from schemas import (
    CancelRequested,
    Dag,
    RunRecord,
    ResumeRequested,
    RunRequested,
    StepAbort,
    StepResult,
    TimerDue,
    WorkflowInvalid,
    compile_workflow_off_loop,
    issues_from_validation,
)
from schemas.auth import AuditEntry
from schemas.input_schema import input_issues
from schemas.runs import RUN_ID_PATTERN
from schemas.workflows import WorkflowVersion

from . import state
from .run_locks import RunLocks
from .schedule_plan import DEFAULT_GRACE
from .child_runs import ChildRuns, Followup
from .scheduler import Scheduler

log = logging.getLogger(__name__)

# A result bigger than this has its output and request stored apart (bus/step_outputs.py).
INLINE_RESULT_BYTES = 8 * 1024
# A run request bigger than this is parsed in a thread (a thousand-node graph is about 200 KiB).
_LARGE_REQUEST_BYTES = 64 * 1024


class Orchestrator:
    """Run with `await orchestrator.run()`; stop with `await orchestrator.shutdown()`."""

    def __init__(self, bus: Bus, concurrency: int = 256, schedule_grace: timedelta = DEFAULT_GRACE,
                 result_signer: ResultSigner | None = None) -> None:
        # With a signer, only results an engine signed are believed.
        self.result_signer = result_signer
        self.bus = bus
        self.concurrency = concurrency
        self.scheduler = Scheduler(bus, schedule_grace)
        # Within one process, changes to one run are serialised so its events leave in seq order.
        self.locks = RunLocks()
        self.loops: list[PullLoop] = []
        self.children = ChildRuns(bus)

    async def run(self) -> None:
        runs = await self.bus.pull(subjects.RUNS_STREAM, subjects.ORCHESTRATOR_RUNS_CONSUMER)
        results = await self.bus.pull(subjects.RESULTS_STREAM, subjects.ORCHESTRATOR_RESULTS_CONSUMER)
        gave_up = await self.bus.pull(subjects.GAVE_UP_STREAM, subjects.ORCHESTRATOR_GAVE_UP_CONSUMER)
        timers = await self.bus.pull(subjects.TIMERS_STREAM, subjects.ORCHESTRATOR_TIMERS_CONSUMER)
        self.loops = [
            PullLoop(runs, self._on_run_message, name="orchestrator.runs", concurrency=self.concurrency),
            PullLoop(results, self._on_result, name="orchestrator.results", concurrency=self.concurrency),
            PullLoop(gave_up, self._on_gave_up, name="orchestrator.gave-up", concurrency=4),
            PullLoop(timers, self._on_timer, name="orchestrator.timers", concurrency=self.concurrency),
        ]
        log.info("orchestrator consuming %s, %s, %s and %s", subjects.RUNS_REQUESTED, subjects.RUNS_CANCEL,
                 subjects.STEPS_RESULT, subjects.TIMERS_ALL)
        scheduler = asyncio.create_task(self.scheduler.run(), name="orchestrator.scheduler")
        try:
            await asyncio.gather(*(loop.run() for loop in self.loops))
        finally:
            scheduler.cancel()
            await asyncio.gather(scheduler, return_exceptions=True)

    async def shutdown(self, timeout: float = 10.0) -> None:
        await asyncio.gather(*(loop.drain(timeout) for loop in self.loops))

    # -- runs.requested / runs.cancel -------------------------------------------------------------

    async def _on_run_message(self, msg: Delivery) -> None:
        if msg.subject == subjects.RUNS_CANCEL:
            await self._on_cancel(msg)
        elif msg.subject == subjects.RUNS_RESUME:
            await self._on_resume(msg)
        else:
            await self._on_run_requested(msg)

    async def _on_resume(self, msg: Delivery) -> None:
        """A wait step's resume URL was called (the gateway checked the token)."""
        try:
            resume = ResumeRequested.model_validate_json(msg.data)
        except ValidationError as error:
            raise Reject(f"invalid resume: {error.errors(include_url=False, include_input=False)}") from None
        try:
            await self._change(resume.runId, lambda record: state.resumed(record, resume, _now()))
        except KeyError:
            raise Reject(f"resume for unknown run {resume.runId}") from None

    async def _on_run_requested(self, msg: Delivery) -> None:
        # A large request (the bus has no body limit but max_payload) is parsed in a thread, so reading it does
        # not hold up the steps of other runs.
        large = len(msg.data) > _LARGE_REQUEST_BYTES
        try:
            # The parser the models use: it refuses what they could not read back (200 levels deep, say).
            raw = await asyncio.to_thread(pydantic_core.from_json, msg.data) if large else pydantic_core.from_json(msg.data)
        except ValueError as error:
            raise Reject(f"runs.requested message is not JSON ({error})") from None
        # Who asked: the gateway's own account (`runs.requested`), or another account's user, whose requests the
        # import maps to `runs.external.<user>` (bus/permissions.py): those may only start saved workflows.
        requester = msg.subject.removeprefix(f"{subjects.RUNS_EXTERNAL_PREFIX}.") \
            if msg.subject.startswith(f"{subjects.RUNS_EXTERNAL_PREFIX}.") else None
        run_id = _claimed_run_id(raw)
        if run_id is not None and requester is None:
            # The gateway records the run before publishing it, having validated it: just start it.
            try:
                await self._change(run_id, lambda record: state.start(record, _now()))
                return
            except KeyError:
                pass  # published straight onto the bus: validate and record it first
        limit = self.bus.settings.max_graph_nodes
        if (count := _claimed_node_count(raw)) > limit:
            await self._record_failure(run_id, raw, f"invalid workflow: the workflow has {count} nodes; at most "
                                                    f"{limit} are allowed (AUTOMATEOS_MAX_GRAPH_NODES)")
            return
        try:
            request = (await asyncio.to_thread(RunRequested.model_validate, raw) if large
                       else RunRequested.model_validate(raw))
        except ValidationError as error:
            reason = "invalid run request: " + "; ".join(f"{i.field}: {i.reason}" for i in issues_from_validation(error))
            await self._record_failure(run_id, raw, reason)
            return
        published_ms = int(msg.timestamp.timestamp() * 1000) if msg.timestamp else 0
        run_id = request.runId or state.derived_run_id(request.idempotencyKey, published_ms, msg.stream_seq)
        if requester is not None and request.graph is not None:
            # A graph could send any credential anywhere: through REST only an editor may run one.
            await self._record_failure(run_id, raw, f"{requester} may start saved workflows only: send workflowId "
                                                    "(and version), not a graph")
            return
        graph, version = request.graph, None
        if request.workflowId is not None:
            saved = await self._saved_version(request.workflowId, request.version)
            if isinstance(saved, str):
                await self._record_failure(run_id, raw, saved)
                return
            graph, version = saved.graph, saved.version
            if issues := input_issues(saved.inputSchema, request.inputs):
                await self._record_failure(run_id, raw, "the inputs do not satisfy the workflow's input schema: "
                                           + "; ".join(f"{issue.field} {issue.reason}" for issue in issues))
                return
        assert graph is not None  # RunRequested insists on one of the two
        try:
            dag = await compile_workflow_off_loop(graph, limit)
        except WorkflowInvalid as invalid:
            await self._record_failure(run_id, raw, f"invalid workflow: {invalid}")
            return
        record = RunRecord.new(run_id, dag, request.inputs, request.idempotencyKey, trigger="bus",
                               started_by=requester, workflow_id=request.workflowId, workflow_version=version)
        try:
            created = await self.bus.runs.create(record)
        except TooLarge as error:
            await self._record_failure(run_id, raw, str(error))
            return
        if created:
            await self._audit_start(record)
        else:
            found = await self.bus.runs.get(run_id)
            if found is None:
                # Recorded (the create was refused) but not readable yet: a read served by a replica that lags the
                # leader. The gateway records a run before publishing it, so this is the usual case on a cluster.
                raise Retry(f"run {run_id} is recorded but not readable yet; trying again", delay=0.5)
            if requester is not None and found[0].startedBy != requester:
                # Another's run under that id (an outside request naming a run it did not start): not touched.
                # A request on runs.requested comes from the gateway or an orchestrator, which recorded it.
                log.warning("ignoring a request from %s for run %s, which it did not start", requester or "the bus", run_id)
                return
            log.info("run %s exists already (a repeat, or created concurrently); continuing with it", run_id)
        await self._change(run_id, lambda record: state.start(record, _now()))

    async def _saved_version(self, workflow_id: str, version: int | None) -> WorkflowVersion | str:
        """The saved version a request names (default: the latest), or why there is none."""
        found = await self.bus.workflows.get(workflow_id)
        if found is None:
            return f"there is no saved workflow {workflow_id!r}"
        chosen = version or found[0].version
        saved = await self.bus.workflows.version(workflow_id, chosen)
        if saved is None:
            return f"workflow {workflow_id!r} has no version {chosen} (latest: {found[0].version})"
        return saved

    async def _audit_start(self, record: RunRecord) -> None:
        """A run that arrived on the bus is in the audit log, under the NATS user that asked for it."""
        entry = AuditEntry(actor=record.startedBy or "bus", action="run.start",
                           target=record.workflowId or record.workflowName, version=record.workflowVersion,
                           detail={"runId": record.id, "trigger": record.trigger})
        try:
            await self.bus.audit(entry)
        except BusUnavailable as error:
            # The run is recorded and will start; say loudly that its entry is missing rather than hold it back.
            log.error("audit entry lost (%s): %s", error, entry.model_dump_json())

    async def _record_failure(self, run_id: str | None, raw: object, reason: str) -> None:
        if run_id is None:
            raise Reject(f"{reason} (no runId, so no run to record it on)")
        name = _claimed_workflow_name(raw)
        record = RunRecord.new(run_id, Dag(workflowName=name, steps=[]), {})
        if await self.bus.runs.create(record):
            log.warning("run %s failed on arrival: %s", run_id, reason)
            await self._change(run_id, lambda r: state.failed_on_arrival(r, reason, _now()))
        else:
            log.warning("ignoring an invalid request for existing run %s: %s", run_id, reason)

    async def _on_cancel(self, msg: Delivery) -> None:
        try:
            cancel = CancelRequested.model_validate_json(msg.data)
        except ValidationError as error:
            raise Reject(f"invalid cancel request: {error.errors(include_url=False)}") from None
        if await self.bus.runs.get(cancel.runId) is None:
            if state.retry_cancel_of_unknown_run(msg.delivered, self.bus.settings.max_deliver):
                raise Retry(f"cancel for run {cancel.runId}, not recorded yet", delay=1.0)
            raise Reject(f"cancel for unknown run {cancel.runId}")
        await self._change(cancel.runId, lambda record: state.cancel(record, _now(), cancel.reason))

    # -- steps.result -----------------------------------------------------------------------------

    async def _on_result(self, msg: Delivery) -> None:
        if self.result_signer is not None and not self.result_signer.verify(msg.data, msg.headers.get(SIGNATURE_HEADER)):
            # Not from an engine holding the results key: it must not steer a run (bus/signing.py).
            raise Reject("a step result without a valid signature (AUTOMATEOS_RESULTS_KEY): not from an engine")
        try:
            result = StepResult.model_validate_json(msg.data)
        except ValidationError as error:
            raise Reject(f"invalid step result: {error.errors(include_url=False, include_input=False)}") from None
        ref = None
        if len(msg.data) > INLINE_RESULT_BYTES and (result.output is not None or result.request is not None):
            # Kept apart, so the run's changes (and every viewer's feed) stay small whatever a step returns.
            ref = output_ref(result.runId, result.stepId, result.attempt, result.call)
            await self.bus.step_outputs.put(ref, result.output, result.request)
        try:
            await self._change(result.runId, lambda record: state.apply_result(record, result, _now(), ref))
        except KeyError:
            raise Reject(f"result for unknown run {result.runId}") from None

    async def _on_gave_up(self, msg: Delivery) -> None:
        """A step every worker died on, max_deliver times: fail it, so its run ends instead of waiting forever."""
        try:
            advisory = pydantic_core.from_json(msg.data)
            stream_seq, deliveries = int(advisory["stream_seq"]), int(advisory.get("deliveries", 0))
        except (ValueError, KeyError, TypeError, OverflowError) as error:
            raise Reject(f"unreadable max-deliveries advisory ({error})") from None
        if stream_seq < 1:
            raise Reject(f"max-deliveries advisory for stream sequence {stream_seq}, which cannot be")
        dispatch = await self.bus.gave_up_dispatch(stream_seq)
        if dispatch is None:
            return
        log_context.run_id.set(dispatch.runId)
        log.warning("step %s of run %s: every worker stopped before finishing it, %d times; failing it",
                    dispatch.stepId, dispatch.runId, deliveries)
        try:
            await self._change(dispatch.runId, lambda record: state.gave_up(record, dispatch.stepId, dispatch.attempt,
                                                                            deliveries, _now(), dispatch.call))
        except KeyError:
            raise Reject(f"gave-up step for unknown run {dispatch.runId}") from None

    # -- timers.<runId>.<stepId> --------------------------------------------------------------------

    async def _on_timer(self, msg: Delivery) -> None:
        """A delay or a retry wait. Until it is due the message goes back to the stream, so a wait holds no
        task and survives restarts of every process; a timer fired twice is recognised by its attempt."""
        try:
            timer = TimerDue.model_validate_json(msg.data)
        except ValidationError as error:
            raise Reject(f"invalid timer: {error.errors(include_url=False, include_input=False)}") from None
        left = (timer.dueAt - _now()).total_seconds()
        if left > 0:
            raise Defer(left)
        try:
            await self._change(timer.runId, lambda record: state.timer_due(record, timer, _now()))
        except KeyError:
            raise Reject(f"timer for unknown run {timer.runId}") from None

    # -- carrying out a transition ----------------------------------------------------------------

    async def _change(self, run_id: str, step: Callable[[RunRecord], state.Transition]) -> None:
        """Make the change, then what it asks of other runs (children, parents, gathering), in turn: a queue, so
        however many runs one message touches, the work is no deeper than one change."""
        pending: deque[Followup] = deque([(run_id, step)])
        first = True
        while pending:
            current_id, change = pending.popleft()
            try:
                pending.extend(await self._change_one(current_id, change))
            except KeyError:
                if first:
                    raise
                log.warning("run %s is not recorded; what it was to be told is dropped", current_id)
            first = False

    async def _change_one(self, run_id: str, step: Callable[[RunRecord], state.Transition]) -> list[Followup]:
        log_context.run_id.set(run_id)  # each message is handled in its own task, so this stays local
        seen: list[RunRecord] = []
        async with self.locks.hold(run_id):

            def apply(record: RunRecord) -> tuple[RunRecord | None, list[state.Event], state.Transition]:
                seen[:] = [record]
                transition = step(record)
                return transition.record, transition.events, transition

            # Storing the change is publishing its events: the run's viewers get them from the same write.
            transition = await self.bus.runs.mutate(run_id, apply)
        if transition.note:
            log.debug("run %s: %s", run_id, transition.note)
        if transition.abort:
            await self.bus.broadcast_abort(StepAbort(runId=run_id))
        if transition.drop_timers:
            await self.bus.drop_timers(run_id)
        if transition.dispatches or transition.timers or transition.cancel_runs:
            await asyncio.gather(
                *(self.bus.dispatch(d) for d in transition.dispatches),
                *(self.bus.schedule(t) for t in transition.timers),
                *(self.children.cancel(child, f"cancelled with its parent run {run_id}") for child in transition.cancel_runs),
            )
        record = transition.record or (seen[0] if seen else None)
        if record is None:
            return []
        followups = [f for child in transition.children for f in await self.children.start(record, child)]
        for loop_id in transition.collect:
            if (collecting := await self.children.collect(record, loop_id)) is not None:
                followups.append(collecting)
        for step_id in transition.describe:
            followups.append(await self.children.describe(record, step_id))
        # The run ended now, or had ended and this is a repeat after a crash (which may have come before these).
        if record.finished and (transition.record is not None or transition.note is not None):
            ended = [await self.children.finished(record), await self.children.error_workflow(record)]
            followups.extend(f for f in ended if f is not None)
        return followups

def _now() -> datetime:
    return datetime.now(UTC)


def _claimed_run_id(raw: object) -> str | None:
    """The runId a malformed request carries, if it is a usable one."""
    run_id = raw.get("runId") if isinstance(raw, dict) else None
    return run_id if isinstance(run_id, str) and re.fullmatch(RUN_ID_PATTERN, run_id) else None


def _claimed_node_count(raw: object) -> int:
    """How many nodes (or template steps) a request's graph has, read before the request is parsed."""
    graph = raw.get("graph") if isinstance(raw, dict) else None
    if not isinstance(graph, dict):
        return 0
    nodes = graph.get("nodes")
    if isinstance(nodes, list):
        return len(nodes)
    definition = graph.get("definition")
    steps = definition.get("steps") if isinstance(definition, dict) else None
    return len(steps) + 1 if isinstance(steps, list) else 0


def _claimed_workflow_name(raw: object) -> str:
    graph = raw.get("graph") if isinstance(raw, dict) else None
    if isinstance(graph, dict):
        if isinstance(graph.get("name"), str):
            return str(graph["name"])
        for key in ("meta", "metadata"):
            meta = graph.get(key)
            if isinstance(meta, dict) and isinstance(meta.get("name"), str):
                return str(meta["name"])
    return "invalid workflow"
