"""`Bus`: one actor's handle on NATS: typed publishing, pull subscriptions, run records, run events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.kv import KeyValue
from pydantic import BaseModel

from schemas import (
    CancelRequested,
    Graph,
    RunEvents,
    RunRecord,
    ResumeRequested,
    RunRequested,
    StepAbort,
    StepDispatch,
    StepResult,
    TimerDue,
)
from schemas.auth import AuditEntry
from schemas.mcp_tools import McpToolsList, McpToolsRequest
from schemas.preview import ExpressionPreview, PreviewRequest

from . import subjects
from .claims import Claims
from .connection import NatsLogin, connect
from .consumer import PullSource
from .errors import BusError, BusUnavailable
from .jetstream import LeaderSafeJetStream
from .engine_questions import ask_engine, serve_engine
from .resources import NOT_READY_CODES, BusSettings, bind, declare
from .run_index import RunIndex
from .run_events_hub import RunEventModel, RunEventsHub, RunFollow
from .signing import SIGNATURE_HEADER, ResultSigner
from .run_list_feed import RunListFeed, RunListWatch
from .run_store import RunStore
from .sessions_kv import SessionStore
from .step_outputs import StepOutputs
from .tokens_kv import TokenStore
from .workflows_kv import WorkflowStore

log = logging.getLogger(__name__)


class Bus:
    """Connect with `await Bus.connect(url, name)`; close with `await bus.close()` or `async with`."""

    def __init__(self, nc: NATS, js: JetStreamContext, buckets: dict[str, KeyValue], settings: BusSettings) -> None:
        self.nc = nc
        self.js = js
        self.settings = settings
        self.runs = RunStore(nc, js, buckets[subjects.RUNS_BUCKET], RunIndex(nc, js))
        self.step_outputs = StepOutputs(buckets[subjects.STEP_OUTPUTS_BUCKET])
        self.idempotency = Claims(buckets[subjects.IDEMPOTENCY_BUCKET])
        self.credentials_kv = buckets[subjects.CREDENTIALS_BUCKET]
        self.workflows = WorkflowStore(buckets[subjects.WORKFLOWS_BUCKET], nc)
        self.hook_dedupe = Claims(buckets[subjects.HOOK_DEDUPE_BUCKET])
        self.tokens = TokenStore(buckets[subjects.TOKENS_BUCKET])
        self.sessions = SessionStore(buckets[subjects.SESSIONS_BUCKET])
        self._subscriptions: list[Any] = []
        self._questions: list[Subscription] = []
        self.events_hub = RunEventsHub(nc, js)
        # An engine's: signs each result it reports (bus/signing.py). None: results go unsigned.
        self.result_signer: ResultSigner | None = None
        self.run_list_feed = RunListFeed(js)

    @classmethod
    async def connect(
        cls, url: str, name: str, settings: BusSettings | None = None, give_up_after: float | None = None,
        set_up: bool = False, login: NatsLogin | None = None,
    ) -> Bus:
        """Binds to the bus's streams and buckets (NotSetUp if they are missing). `set_up=True` first declares
        them with `settings`: for the one owner of a deployment (`automateos setup`) and for tests."""
        settings = settings or BusSettings()
        nc = await connect(url, name, give_up_after=give_up_after, login=login)
        js = LeaderSafeJetStream(nc, timeout=10)
        try:
            buckets = await declare(js, settings) if set_up else await _bind_when_ready(js, name)
        except BaseException:
            await nc.close()
            raise
        return cls(nc, js, buckets, settings)

    async def close(self) -> None:
        if self.nc.is_closed:
            return
        # Unsubscribe before draining: a pull subscription whose fetch was cancelled keeps the
        # server's late "request expired" notice queued forever, and drain would wait on it.
        for sub in self._subscriptions:
            await _quietly_unsubscribe(sub)
        self._subscriptions.clear()
        await self.stop_answering()
        await self.events_hub.close()
        await self.run_list_feed.close()
        try:
            await self.nc.drain()
        except nats.errors.Error as error:
            # Reconnecting or already gone: nothing left to flush, so just close.
            log.info("closing NATS connection without drain (%s)", error)
            await self.nc.close()

    async def __aenter__(self) -> Bus:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return bool(self.nc.is_connected)

    # -- publishing ---------------------------------------------------------------------------------

    async def _publish(self, subject: str, message: BaseModel, msg_id: str | None = None) -> PubAck:
        headers = {"Nats-Msg-Id": msg_id} if msg_id else None
        return await self.js.publish(subject, message.model_dump_json(exclude_none=True).encode(), headers=headers)

    async def request_run(self, request: RunRequested, msg_id: str) -> PubAck:
        """`msg_id` dedupes within the stream's duplicate window; PubAck.duplicate is True for a repeat."""
        return await self._publish(subjects.RUNS_REQUESTED, request, msg_id)

    async def submit_run(self, record: RunRecord, graph: Graph | None) -> bool:
        """Record a queued run, then hand it to the orchestrator; False when it was recorded already.

        The record exists before the request is published, so the run can be read as soon as this returns. A
        record that exists and is still queued is published again (its first submitter may have died between the
        two): the message id is the run id, so the stream drops a repeat, and one it no longer remembers is a
        no-op for the orchestrator.
        """
        try:
            created = await self.runs.create(record)
            if not created:
                found = await self.runs.get(record.id)
                if found is None or found[0].status != "queued":
                    return False
            # A saved workflow's request names it rather than carrying its graph: the orchestrator starts from the
            # record, and reads the saved version only if the record were missing.
            message = (RunRequested(runId=record.id, graph=graph, inputs=record.inputs, idempotencyKey=record.idempotencyKey)
                       if graph is not None or record.workflowId is None else
                       RunRequested(runId=record.id, workflowId=record.workflowId, version=record.workflowVersion,
                                    inputs=record.inputs, idempotencyKey=record.idempotencyKey))
            await self.request_run(message, msg_id=record.id)
        except (nats.errors.Error, TimeoutError) as error:
            raise BusUnavailable(f"{type(error).__name__}: {error}") from error
        return created

    async def request_cancel(self, cancel: CancelRequested) -> PubAck:
        return await self._publish(subjects.RUNS_CANCEL, cancel)

    async def request_resume(self, resume: ResumeRequested) -> PubAck:
        """One resume per wait: its message id names the step and attempt, so PubAck.duplicate is True for a second
        within the stream's duplicate window (the gateway answers 409); after it, the step's state says so."""
        return await self._publish(subjects.RUNS_RESUME, resume, f"resume.{resume.runId}.{resume.stepId}.{resume.attempt}")

    async def dispatch(self, dispatch: StepDispatch) -> PubAck:
        # A re-dispatch after an orchestrator crash carries the same id, so the stream drops it; each retry
        # is a new attempt with an id of its own.
        msg_id = f"{dispatch.runId}.{dispatch.stepId}"
        if dispatch.attempt > 1 or dispatch.call is not None:
            msg_id += f".{dispatch.attempt}"
        if dispatch.call is not None:  # one of several calls in one attempt (an agent's): each is its own message
            msg_id += f".{dispatch.call}"
        return await self._publish(subjects.STEPS_DISPATCH, dispatch, msg_id)

    async def schedule(self, timer: TimerDue) -> PubAck:
        msg_id = f"{timer.runId}.{timer.stepId}.{timer.kind}.{timer.attempt}"
        return await self._publish(subjects.timer(timer.runId, timer.stepId), timer, msg_id)

    async def drop_timers(self, run_id: str) -> None:
        """Remove a finished run's waiting timers, so a cancelled 30-day delay does not sit in the stream."""
        await self.js.purge_stream(subjects.TIMERS_STREAM, subject=subjects.run_timers(run_id))

    async def report(self, result: StepResult) -> PubAck:
        data = result.model_dump_json(exclude_none=True).encode()
        return await self.js.publish(subjects.STEPS_RESULT, data, headers=self._signed(data))

    async def report_nowait(self, result: StepResult) -> None:
        """Fire-and-forget into the results stream: for `running` notices, which a final result supersedes."""
        data = result.model_dump_json(exclude_none=True).encode()
        await self.nc.publish(subjects.STEPS_RESULT, data, headers=self._signed(data))

    def _signed(self, data: bytes) -> dict[str, str] | None:
        return {SIGNATURE_HEADER: self.result_signer.sign(data)} if self.result_signer is not None else None

    async def broadcast_abort(self, abort: StepAbort) -> None:
        await self.nc.publish(subjects.STEPS_ABORT, abort.model_dump_json().encode())

    async def emit(self, run_id: str, events: Sequence[RunEventModel]) -> None:
        """Append events to a run's log unconditionally, bypassing the store's compare-and-set: for tests that
        stage a run's history. Actors change runs through `runs.mutate`."""
        if events:
            batch = RunEvents(runId=run_id, events=list(events))
            await self.js.publish(subjects.run_events(run_id), batch.model_dump_json().encode(),
                                  stream=subjects.EVENTS_STREAM)

    async def audit(self, entry: AuditEntry) -> None:
        try:
            await self._publish(subjects.AUDIT, entry)
        except (nats.errors.Error, TimeoutError) as error:
            raise BusUnavailable(f"{type(error).__name__}: {error}") from error

    async def audit_log(self, before: int | None, limit: int) -> list[AuditEntry]:
        """Up to `limit` entries, newest first, older than sequence `before` (default: from the newest).

        Read backwards by sequence, so the cost is the page's, not the log's."""
        info = await self.js.stream_info(subjects.AUDIT_STREAM)
        seq = min(info.state.last_seq, (before or info.state.last_seq + 1) - 1)
        entries: list[AuditEntry] = []
        while seq >= max(1, info.state.first_seq) and len(entries) < limit:
            try:
                msg = await self.js.get_msg(subjects.AUDIT_STREAM, seq)
            except nats.js.errors.NotFoundError:
                seq -= 1  # aged out or deleted
                continue
            try:
                entries.append(AuditEntry.model_validate_json(msg.data or b"{}").model_copy(update={"seq": seq}))
            except ValueError as error:
                log.warning("skipping unreadable audit entry %d: %s", seq, error)
            seq -= 1
        return entries

    # -- consuming ----------------------------------------------------------------------------------

    async def pull(self, stream: str, durable: str) -> PullSource:
        """A durable consumer (declared by `bus.resources`) for a `PullLoop` to read."""
        return PullSource(self.nc, stream, durable)

    async def gave_up_dispatch(self, stream_seq: int) -> StepDispatch | None:
        """The dispatch JetStream stopped delivering, removed from its stream; None if it is gone already."""
        try:
            msg = await self.js.get_msg(subjects.DISPATCH_STREAM, stream_seq)
        except nats.js.errors.NotFoundError:
            return None
        dispatch = StepDispatch.model_validate_json(msg.data or b"{}")
        try:
            await self.js.delete_msg(subjects.DISPATCH_STREAM, stream_seq)
        except nats.js.errors.NotFoundError:
            pass  # another orchestrator got there first; handling it twice is harmless
        return dispatch

    async def subscribe_aborts(self) -> Subscription:
        sub = await self.nc.subscribe(subjects.STEPS_ABORT)
        self._subscriptions.append(sub)
        return sub

    async def preview(self, request: PreviewRequest, timeout: float) -> ExpressionPreview:
        """An expression's value from any one engine worker; NoEngine when none answers within `timeout`."""
        return await ask_engine(self.nc, subjects.EXPRESSIONS_PREVIEW, request, ExpressionPreview, timeout,
                                ExpressionPreview(error="the engine's answer could not be read"))

    async def mcp_tools(self, request: McpToolsRequest, timeout: float) -> McpToolsList:
        """An MCP server's tools, listed by any one engine worker; NoEngine when none answers within `timeout`."""
        return await ask_engine(self.nc, subjects.MCP_TOOLS_LIST, request, McpToolsList, timeout,
                                McpToolsList(error="the engine's answer could not be read"))

    async def answer_questions(self, answers: Mapping[str, Callable[[bytes], Awaitable[BaseModel]]]) -> None:
        """An engine's: answer each subject's questions (in the engines' queue group) until stopped or closed."""
        if not self._questions:
            self._questions = [await serve_engine(self.nc, subject, answer) for subject, answer in answers.items()]

    async def stop_answering(self) -> None:
        questions, self._questions = self._questions, []
        for subscription in questions:
            await _quietly_unsubscribe(subscription)

    def watch_runs(self) -> contextlib.AbstractAsyncContextManager[RunListWatch]:
        """Every run's summary as it changes, from this process's one shared feed (History, live)."""
        return self.run_list_feed.watch()

    def follow_run(self, run_id: str) -> contextlib.AbstractAsyncContextManager[RunFollow]:
        """A run's stored events, then its live ones, from this process's one shared feed (no consumer of its own)."""
        return self.events_hub.follow(run_id)

    async def run_events(self, run_id: str, tick: float = 3600.0) -> AsyncGenerator[RunEventModel | None, None]:
        """Every stored event of a run, then live ones, until the caller stops; None after each `tick` of silence."""
        async with self.follow_run(run_id) as follow:
            await follow.load_stored()
            async for event in follow.events(tick):
                yield event

    async def events_pending(self, run_id: str) -> int:
        """How many events the stream holds for a run (0 when none or expired)."""
        info = await self.js.stream_info(subjects.EVENTS_STREAM, subjects_filter=subjects.run_events(run_id))
        return int((info.state.subjects or {}).get(subjects.run_events(run_id), 0))


_BIND_PATIENCE_S = 60.0


async def _bind_when_ready(js: JetStreamContext, name: str) -> dict[str, KeyValue]:
    """bind(), waiting out a JetStream that does not answer yet: an actor restarted while its cluster elects a
    leader (a node just died) would otherwise exit, and be restarted again and again until the election ends."""
    give_up_at = time.monotonic() + _BIND_PATIENCE_S
    while True:
        try:
            return await bind(js)
        except (nats.errors.TimeoutError, nats.errors.NoRespondersError, nats.js.errors.ServiceUnavailableError,
                nats.js.errors.NoStreamResponseError) as error:
            if time.monotonic() > give_up_at:
                raise BusUnavailable(f"JetStream did not answer within {_BIND_PATIENCE_S:.0f} s: {error}") from error
            log.warning("%s: JetStream does not answer yet (%s); waiting", name, type(error).__name__)
            await asyncio.sleep(1.0)


async def _quietly_unsubscribe(sub: Any) -> None:
    try:
        await sub.unsubscribe()
    except nats.errors.Error as error:  # the connection is closing or the sub is gone: nothing to clean up
        log.debug("unsubscribe failed: %s", error)


async def set_up_bus(url: str, settings: BusSettings, give_up_after: float | None = 10.0,
                     ready_within: float = 60.0, login: NatsLogin | None = None) -> None:
    """Declare (or reconcile) every stream, consumer and bucket with `settings`: the deployment owner's step.

    A cluster that has just started has no JetStream leader for a few seconds (and places no replicas until
    enough peers have joined), so that is waited out, up to `ready_within`."""
    nc = await connect(url, "setup", give_up_after=give_up_after, login=login)
    try:
        js = LeaderSafeJetStream(nc, timeout=10)
        probe = JetStreamContext(nc, timeout=1)
        deadline = time.monotonic() + ready_within
        while True:
            try:
                # A short probe first: with no leader, a JetStream request goes unanswered until its timeout.
                await probe.account_info()
                await declare(js, settings)
                return
            except (nats.errors.NoRespondersError, nats.errors.TimeoutError) as error:
                reason = type(error).__name__
            except nats.js.errors.APIError as error:
                if error.err_code not in NOT_READY_CODES:
                    raise
                reason = str(error.description)
            if time.monotonic() > deadline:
                raise BusError(f"JetStream did not become ready within {ready_within:.0f} s ({reason})")
            log.info("JetStream not ready yet (%s); waiting", reason)
            await asyncio.sleep(0.25)
    finally:
        await nc.close()
