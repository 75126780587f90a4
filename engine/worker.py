"""The engine worker actor: executes dispatched steps, many at once, and reports their results."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from pydantic import ValidationError

from bus import Bus, CredentialStore, Delivery, PullLoop, Reject, log_context, subjects
from schemas import LogEntry, StepAbort, StepDispatch, StepRequest, StepResult
from schemas.messages import StepResultStatus
from schemas.mcp_tools import McpToolsList
from schemas.preview import ExpressionPreview

from .errors import StepFailed
from .limits import MAX_OUTPUT_DEPTH, too_deep
from .nodes import NodeContext, NodeOutcome
from .nodes.mcp_tool import list_tools
from .outbound_guard import guarded_session
from .outbound_policy import OutboundPolicy
from .preview import answer_preview
from .step_runner import run_step

log = logging.getLogger(__name__)

# Runs cancelled recently: their steps still queued in the stream are skipped, not executed.
_REMEMBERED_ABORTS = 10_000
# A step still running after this long announces it; a faster one reports once, and the orchestrator
# shows it running → finished from that one result. Saves a message and a state write per fast step.
# A quarter second (it was 50 ms): a person watching does not see a shorter "running" anyway, and under load a
# loopback call itself passes 50 ms, so a busy engine sent a notice for a fifth of its steps, adding messages
# exactly when the machine had the least to spare (issue 19's profile: 19 % of steps at c=50).
RUNNING_NOTICE_AFTER_S = 0.25


@dataclass
class _Ending:
    """How a step ended, before it becomes a StepResult."""

    status: StepResultStatus
    output: Any = None
    error: str | None = None
    logs: list[LogEntry] = field(default_factory=list)
    request: StepRequest | None = None
    handles: list[str] | None = None
    retryable: bool = False
    retry_after_ms: float | None = None


class Worker:
    """Run with `await worker.run()`; stop with `await worker.shutdown()`. `outbound`: where HTTP steps may
    connect (engine/outbound_policy.py); the default refuses metadata, link-local and unspecified addresses only."""

    def __init__(
        self, bus: Bus, concurrency: int = 64, name: str | None = None, credentials: CredentialStore | None = None,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        self.bus = bus
        self.credentials = credentials
        self.outbound = outbound or OutboundPolicy()
        self.concurrency = concurrency
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.in_flight: dict[str, set[asyncio.Task[NodeOutcome]]] = {}
        self.aborted: OrderedDict[str, None] = OrderedDict()
        self.loop: PullLoop | None = None
        self.session: aiohttp.ClientSession | None = None
        self._notices: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        self.session = guarded_session(self.outbound, limit=max(self.concurrency, 100), ttl_dns_cache=300)
        aborts = await self.bus.subscribe_aborts()
        abort_listener = asyncio.create_task(self._listen_for_aborts(aborts))
        await self.bus.answer_questions({subjects.EXPRESSIONS_PREVIEW: self._answer_preview,
                                         subjects.MCP_TOOLS_LIST: self._list_mcp_tools})
        source = await self.bus.pull(subjects.DISPATCH_STREAM, subjects.ENGINE_CONSUMER)
        self.loop = PullLoop(
            source,
            self._on_dispatch,
            name=f"engine[{self.name}]",
            concurrency=self.concurrency,
            batch=self.concurrency,
            heartbeat_s=self.bus.settings.step_ack_wait_s / 3,
        )
        log.info("engine worker %s consuming %s, concurrency %d", self.name, subjects.STEPS_DISPATCH, self.concurrency)
        try:
            await self.loop.run()
        finally:
            abort_listener.cancel()
            await asyncio.gather(abort_listener, return_exceptions=True)

    async def shutdown(self, timeout: float = 10.0) -> None:
        await self.bus.stop_answering()  # first, so that the next questions go to a running engine
        if self.loop is not None:
            await self.loop.drain(timeout)
        if self.session is not None:
            await self.session.close()

    async def _on_dispatch(self, msg: Delivery) -> None:
        try:
            dispatch = StepDispatch.model_validate_json(msg.data)
        except ValidationError as error:
            raise Reject(f"invalid step dispatch: {error.errors(include_url=False, include_input=False)}") from None
        log_context.run_id.set(dispatch.runId)
        if dispatch.runId in self.aborted:
            log.info("skipping step %s of cancelled run %s", dispatch.stepId, dispatch.runId)
            return
        delivery = msg.delivered
        started_at = datetime.now(UTC)
        started = time.perf_counter()
        running = StepResult(runId=dispatch.runId, stepId=dispatch.stepId, status="running", attempt=dispatch.attempt,
                             delivery=delivery, worker=self.name, startedAt=started_at, call=dispatch.call)
        notice = asyncio.get_running_loop().call_later(RUNNING_NOTICE_AFTER_S, self._announce, running)
        try:
            ending = await self._execute(await self.bus.step_outputs.resolve(dispatch))
        finally:
            notice.cancel()
        if too_deep(ending.output) or (ending.request is not None and too_deep(ending.request.body)):
            ending = _Ending("failed", error=f"the step's output or request is nested more than {MAX_OUTPUT_DEPTH} "
                             "levels deep, more than a run keeps; flatten it (fewer nested objects or lists)")
        result = running.model_copy(update={
            "status": ending.status, "output": ending.output, "error": ending.error, "logs": ending.logs,
            "finishedAt": datetime.now(UTC), "durationMs": round((time.perf_counter() - started) * 1000, 3),
            "request": ending.request, "handles": ending.handles, "retryable": ending.retryable,
            "retryAfterMs": ending.retry_after_ms,
        })
        # Report first, ack after (the loop acks when this returns): a crash in between re-runs the
        # step rather than losing it, and the orchestrator ignores the repeated result.
        await self.bus.report(result)

    async def _answer_preview(self, data: bytes) -> ExpressionPreview:
        return await answer_preview(data, self.bus.step_outputs)

    async def _list_mcp_tools(self, data: bytes) -> McpToolsList:
        assert self.session is not None, "questions are answered only while the worker runs"
        return await list_tools(data, self.session, self.credentials)

    def _announce(self, running: StepResult) -> None:
        task = asyncio.create_task(self.bus.report_nowait(running))
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def _execute(self, dispatch: StepDispatch) -> _Ending:
        assert self.session is not None
        task = asyncio.create_task(run_step(dispatch, NodeContext(
            session=self.session, credentials=self.credentials, max_loop_items=self.bus.settings.max_loop_items)))
        self.in_flight.setdefault(dispatch.runId, set()).add(task)
        try:
            outcome = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled() and dispatch.runId in self.aborted:
                abort_log = LogEntry(level="WARN", msg=f"{dispatch.name}: aborted", stepId=dispatch.stepId)
                return _Ending("cancelled", error="cancelled while running", logs=[abort_log])
            task.cancel()  # this worker is shutting down: the step is redelivered elsewhere
            raise
        except StepFailed as failure:
            logs = [*failure.logs, *([LogEntry(level="ERROR", msg=failure.log, stepId=dispatch.stepId)] if failure.log
                                     else [])]
            return _Ending("failed", output=failure.output, error=failure.message, logs=logs, request=failure.request,
                           retryable=failure.retryable, retry_after_ms=failure.retry_after_ms)
        except Exception as error:
            log.exception("step %s of run %s crashed", dispatch.stepId, dispatch.runId)
            return _Ending("failed", error=f"internal error in {dispatch.type}: {type(error).__name__}")
        finally:
            tasks = self.in_flight.get(dispatch.runId)
            if tasks is not None:
                tasks.discard(task)
                if not tasks:
                    del self.in_flight[dispatch.runId]
        return _Ending("succeeded", output=outcome.output, logs=outcome.logs, request=outcome.request,
                       handles=outcome.handles)

    async def _listen_for_aborts(self, sub: object) -> None:
        async for msg in sub.messages:  # type: ignore[attr-defined]
            try:
                abort = StepAbort.model_validate_json(msg.data)
            except ValidationError as error:
                log.warning("ignoring malformed abort: %s", error.errors(include_url=False, include_input=False))
                continue
            self.aborted[abort.runId] = None
            if len(self.aborted) > _REMEMBERED_ABORTS:
                self.aborted.popitem(last=False)
            for task in self.in_flight.get(abort.runId, ()):
                task.cancel()
            log.info("run %s cancelled: aborting its steps here", abort.runId)
