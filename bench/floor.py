"""The floor of this design (issue 19): the bare cost of one Start → HTTP run's NATS messages in Python, no logic.

A Start → HTTP run crosses the bus with a fixed pattern of messages (tests/test_message_count.py). Here three
processes send exactly those, with the same sizes, on the same streams, consumers and buckets (declared by
bus.resources through set_up_bus), and do nothing else: no pydantic, no state machine, every payload prepared
before the clock starts (captured from a real run, its run id swapped in).

  gateway       KV create of the run record (≈1.8 KB), the queued summary on RUN_INDEX, runs.requested (its
                Nats-Msg-Id the run id); its live feed (one ordered consumer on runs.events.>) receives the run's
                two appends, and the second ends the run. It is also the load: C lanes, each one run at a time.
  orchestrator  pull-delivered request → KV get of the record (direct get) → append the start change
                (Nats-Expected-Last-Subject-Sequence: 0) → steps.dispatch → ack; pull-delivered result → append the
                end change (expected: the start's sequence) → end summary → purge request (keep 1) → ack.
  engine        pull-delivered dispatch → steps.result (signed: its signature header, computed beforehand) → ack.

Variants (--variants):
  repo   the actors' own messaging code: bus.connection.connect, LeaderSafeJetStream (a Nats-Msg-Id on every
         publish), nats-py's KeyValue bound through it, bus.consumer.PullLoop / PullSource (orchestrator 256 slots,
         engine 64 with its in-progress heartbeat task), the ordered consumer as bus/run_events_hub.py opens it.
  plain  plain nats-py calls: nats.connect; each JetStream publish, KV create, direct get and purge one nc.request
         with its headers (the Nats-Msg-Ids prepared too); the same credit pull requests on a bare subscription,
         msg.ack(); only the start append's ack is parsed (its sequence is the end append's expected one).

Prints runs/s, latency, CPU ms per run of each process (from /proc/<pid>/stat) and of nats-server, and the total.
Each variant gets a fresh nats-server. `--secured`: nats.conf's accounts and role users, each process on its
actor's role (the engine in its own account), results signed, as `throughput.py --secured` runs the real actors.

    python bench/floor.py --runs 2000 --concurrency 50 --secured
    python bench/floor.py --runs 2000 --concurrency 1 --secured --variants repo
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import platform
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bus import EmbeddedNats, NatsLogin, free_port, subjects  # noqa: E402
from bus.client import set_up_bus  # noqa: E402
from bus.permissions import ROLES, inbox_prefix, new_password, password_variable  # noqa: E402
from bus.resources import BusSettings  # noqa: E402
from bus.server import ends_with_parent  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
VARIANTS = ("repo", "plain")
ROLES_HERE = ("gateway", "orchestrator", "engine")
RUN_TIMEOUT_S = 60.0
PASSWORD_ENV = "FLOOR_NATS_PASSWORD"
RESULTS_KEY_ENV = "FLOOR_RESULTS_KEY"
SIGNATURE_HEADER = "AutomateOS-Signature"  # bus/signing.py's
EXPECTED_SEQ = "Nats-Expected-Last-Subject-Sequence"
MSG_ID = "Nats-Msg-Id"
EXPECTED_STREAM = "Nats-Expected-Stream"
# Where a request, a dispatch and a result carry their run id: all begin {"v":1,"runId":"<24 characters>".
RUN_ID_AT = slice(16, 40)
# The same concurrency as the actors: Orchestrator(concurrency=256), Worker(concurrency=64, batch=64, heartbeat 10 s).
ORCHESTRATOR_SLOTS = 256
ENGINE_SLOTS = 64
ENGINE_HEARTBEAT_S = BusSettings().step_ack_wait_s / 3
PULL_EXPIRES_S = 20.0
PULL_HEARTBEAT_S = 5.0

# -- the messages of one real Start → HTTP run (POST /v1/runs), captured on the bus; the run id is @ × 24 -------------
PLACEHOLDER = "@" * 24

RECORD = (
    '{"v":1,"id":"@@@@@@@@@@@@@@@@@@@@@@@@","status":"queued","workflowName":"bench","workflowId":null,"w'
    'orkflowVersion":null,"trigger":"api","startedBy":"admin","dag":{"workflowName":"bench","steps":[{"id'
    '":"start","name":"start","type":"start","config":{},"deps":[],"branches":{},"settings":null,"complet'
    'es":"trigger","body":null,"inLoop":null,"reads":[]},{"id":"post","name":"post","type":"http","config'
    '":{"method":"POST","url":"http://127.0.0.1:50583/hook","headers":{},"json_body":{"text":"bench"},"se'
    'ndIdempotencyKey":true},"deps":["start"],"branches":{},"settings":null,"completes":"worker","body":n'
    'ull,"inLoop":null,"reads":[]}]},"inputs":{},"steps":[{"id":"start","nodeId":"start","name":"start","'
    'type":"start","status":"queued","dispatchedAt":null,"startedAt":null,"finishedAt":null,"durationMs":'
    'null,"attempt":0,"error":null,"output":null,"worker":null,"waitUntil":null,"skipReason":null,"errorH'
    'andled":false,"handles":null,"request":null,"outputRef":null,"attempts":[],"begun":false,"items":nul'
    'l,"childRunId":null,"resumeUrl":null,"wait":null},{"id":"post","nodeId":"post","name":"post","type":'
    '"http","status":"queued","dispatchedAt":null,"startedAt":null,"finishedAt":null,"durationMs":null,"a'
    'ttempt":0,"error":null,"output":null,"worker":null,"waitUntil":null,"skipReason":null,"errorHandled"'
    ':false,"handles":null,"request":null,"outputRef":null,"attempts":[],"begun":false,"items":null,"chil'
    'dRunId":null,"resumeUrl":null,"wait":null}],"logs":[],"error":null,"idempotencyKey":null,"eventSeq":'
    '0,"streamSeq":0,"createdAt":"2026-12-07T11:39:25.892359Z","updatedAt":"2026-12-07T11:39:25.892366Z",'
    '"parentRunId":null,"parentStepId":null,"itemIndex":null,"loop":null,"outer":{},"inputsRef":null,"dep'
    'th":0,"chain":[],"seed":"bc2b9dd56999ff9cec641ab9e75fa4fc"}'
)

QUEUED_SUMMARY = (
    '{"id":"@@@@@@@@@@@@@@@@@@@@@@@@","status":"queued","workflowName":"bench","workflowId":null,"workflo'
    'wVersion":null,"trigger":"api","startedBy":"admin","parentRunId":null,"durationMs":null,"error":null'
    ',"createdAt":"2026-12-07T11:39:25.892359Z","updatedAt":"2026-12-07T11:39:25.892366Z"}'
)

REQUEST = (
    '{"v":1,"runId":"@@@@@@@@@@@@@@@@@@@@@@@@","graph":{"nodes":[{"id":"start","type":"start","position":'
    '{"x":0.0,"y":0.0},"data":{"config":{}}},{"id":"post","type":"http","position":{"x":0.0,"y":0.0},"dat'
    'a":{"config":{"method":"POST","url":"http://127.0.0.1:50583/hook","json_body":{"text":"bench"}}}}],"'
    'edges":[{"id":"e","source":"start","target":"post"}],"meta":{"name":"bench"}},"inputs":{}}'
)

START_CHANGE = (
    '{"v":1,"runId":"@@@@@@@@@@@@@@@@@@@@@@@@","events":[{"runId":"@@@@@@@@@@@@@@@@@@@@@@@@","seq":1,"ts"'
    ':"2026-12-07T11:39:25.895393Z","type":"run","status":"queued","error":null},{"runId":"@@@@@@@@@@@@@@'
    '@@@@@@@@@@","seq":2,"ts":"2026-12-07T11:39:25.895393Z","type":"run","status":"running","error":null}'
    ',{"runId":"@@@@@@@@@@@@@@@@@@@@@@@@","seq":3,"ts":"2026-12-07T11:39:25.895393Z","type":"step","step"'
    ':{"id":"start","nodeId":"start","name":"start","type":"start","status":"succeeded","dispatchedAt":nu'
    'll,"startedAt":"2026-12-07T11:39:25.895393Z","finishedAt":"2026-12-07T11:39:25.895393Z","durationMs"'
    ':0.0,"attempt":1,"error":null,"output":{},"worker":null,"waitUntil":null,"skipReason":null,"errorHan'
    'dled":false,"handles":null,"request":null,"outputRef":null,"attempts":[],"begun":false,"items":null,'
    '"childRunId":null,"resumeUrl":null,"wait":null}},{"runId":"@@@@@@@@@@@@@@@@@@@@@@@@","seq":4,"ts":"2'
    '026-12-07T11:39:25.895393Z","type":"step","step":{"id":"post","nodeId":"post","name":"post","type":"'
    'http","status":"queued","dispatchedAt":"2026-12-07T11:39:25.895393Z","startedAt":null,"finishedAt":n'
    'ull,"durationMs":null,"attempt":0,"error":null,"output":null,"worker":null,"waitUntil":null,"skipRea'
    'son":null,"errorHandled":false,"handles":null,"request":null,"outputRef":null,"attempts":[],"begun":'
    'false,"items":null,"childRunId":null,"resumeUrl":null,"wait":null}}]}'
)

DISPATCH = (
    '{"v":1,"runId":"@@@@@@@@@@@@@@@@@@@@@@@@","stepId":"post","name":"post","type":"http","attempt":1,"c'
    'onfig":{"method":"POST","url":"http://127.0.0.1:50583/hook","headers":{},"json_body":{"text":"bench"'
    '},"sendIdempotencyKey":true},"inputs":{},"steps":{}}'
)

RESULT = (
    '{"v":1,"runId":"@@@@@@@@@@@@@@@@@@@@@@@@","stepId":"post","status":"succeeded","attempt":1,"delivery'
    '":1,"worker":"vm:1681","startedAt":"2026-12-07T11:39:25.898369Z","finishedAt":"2026-12-07T11:39:25.9'
    '00420Z","durationMs":2.051,"output":{"status":204,"headers":{"Date":"Mon, 07 Dec 2026 11:39:25 GMT",'
    '"Server":"Python/3.11 aiohttp/3.14.5"},"body":""},"logs":[{"ts":"2026-12-07T11:39:25.900317Z","level'
    '":"INFO","msg":"POST http://127.0.0.1:50583/hook → HTTP 204 in 2 ms","stepId":"post"}],"retryable":f'
    'alse,"request":{"method":"POST","url":"http://127.0.0.1:50583/hook","headers":{"Idempotency-Key":"@@'
    '@@@@@@@@@@@@@@@@@@@@@@-post","Content-Type":"application/json"},"body":{"text":"bench"},"truncated":'
    'false}}'
)

END_CHANGE = (
    '{"v":1,"runId":"@@@@@@@@@@@@@@@@@@@@@@@@","events":[{"runId":"@@@@@@@@@@@@@@@@@@@@@@@@","seq":5,"ts"'
    ':"2026-12-07T11:39:25.901271Z","type":"step","step":{"id":"post","nodeId":"post","name":"post","type'
    '":"http","status":"running","dispatchedAt":"2026-12-07T11:39:25.895393Z","startedAt":"2026-12-07T11:'
    '39:25.898369Z","finishedAt":null,"durationMs":null,"attempt":1,"error":null,"output":null,"worker":"'
    'vm:1681","waitUntil":null,"skipReason":null,"errorHandled":false,"handles":null,"request":null,"outp'
    'utRef":null,"attempts":[],"begun":false,"items":null,"childRunId":null,"resumeUrl":null,"wait":null}'
    '},{"runId":"@@@@@@@@@@@@@@@@@@@@@@@@","seq":6,"ts":"2026-12-07T11:39:25.901271Z","type":"log","log":'
    '{"ts":"2026-12-07T11:39:25.900317Z","level":"INFO","msg":"POST http://127.0.0.1:50583/hook → HTTP 20'
    '4 in 2 ms","stepId":"post"}},{"runId":"@@@@@@@@@@@@@@@@@@@@@@@@","seq":7,"ts":"2026-12-07T11:39:25.9'
    '01271Z","type":"step","step":{"id":"post","nodeId":"post","name":"post","type":"http","status":"succ'
    'eeded","dispatchedAt":"2026-12-07T11:39:25.895393Z","startedAt":"2026-12-07T11:39:25.898369Z","finis'
    'hedAt":"2026-12-07T11:39:25.900420Z","durationMs":2.051,"attempt":1,"error":null,"output":{"status":'
    '204,"headers":{"Date":"Mon, 07 Dec 2026 11:39:25 GMT","Server":"Python/3.11 aiohttp/3.14.5"},"body":'
    '""},"worker":"vm:1681","waitUntil":null,"skipReason":null,"errorHandled":false,"handles":null,"reque'
    'st":{"method":"POST","url":"http://127.0.0.1:50583/hook","headers":{"Idempotency-Key":"@@@@@@@@@@@@@'
    '@@@@@@@@@@@-post","Content-Type":"application/json"},"body":{"text":"bench"},"truncated":false},"out'
    'putRef":null,"attempts":[{"attempt":1,"status":"succeeded","startedAt":"2026-12-07T11:39:25.898369Z"'
    ',"finishedAt":"2026-12-07T11:39:25.900420Z","durationMs":2.051,"error":null,"worker":"vm:1681","requ'
    'est":null,"output":null,"retryInMs":null}],"begun":false,"items":null,"childRunId":null,"resumeUrl":'
    'null,"wait":null}},{"runId":"@@@@@@@@@@@@@@@@@@@@@@@@","seq":8,"ts":"2026-12-07T11:39:25.901271Z","t'
    'ype":"run","status":"succeeded","error":null}]}'
)

END_SUMMARY = (
    '{"id":"@@@@@@@@@@@@@@@@@@@@@@@@","status":"succeeded","workflowName":"bench","workflowId":null,"work'
    'flowVersion":null,"trigger":"api","startedBy":"admin","parentRunId":null,"durationMs":5.878,"error":'
    'null,"createdAt":"2026-12-07T11:39:25.892359Z","updatedAt":"2026-12-07T11:39:25.901271Z"}'
)

# -- one run's prepared bytes ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """Everything one run sends, prepared before the clock starts (each process uses its own part)."""

    id: str
    key: bytes  # the run id as the bytes of a request, a dispatch or a result carry it
    record: bytes
    kv_subject: str
    kv_get_subject: str
    queued_subject: str
    queued_summary: bytes
    request: bytes
    events_subject: str
    start_change: bytes
    end_change: bytes
    dispatch: bytes
    dispatch_id: str
    result: bytes
    result_headers: dict[str, str]  # the engine's signature, if results are signed (as Bus.report sends it)
    end_subject: str
    end_summary: bytes
    purge: bytes
    # The plain variant's headers, each with its Nats-Msg-Id (LeaderSafeJetStream makes one per publish).
    plain_kv: dict[str, str]
    plain_queued: dict[str, str]
    plain_request: dict[str, str]
    plain_start: dict[str, str]
    plain_dispatch: dict[str, str]
    plain_result: dict[str, str]
    plain_end_summary: dict[str, str]


def run_id(i: int) -> str:
    return f"{i:024x}"


def prepare(i: int, results_key: bytes | None) -> Run:
    rid = run_id(i)

    def filled(template: str) -> bytes:
        return template.replace(PLACEHOLDER, rid).encode()

    result = filled(RESULT)
    signed = {SIGNATURE_HEADER: "v1=" + hmac.new(results_key, result, hashlib.sha256).hexdigest()} if results_key else {}
    kv_subject = f"$KV.{subjects.RUNS_BUCKET}.{rid}"
    return Run(
        id=rid, key=rid.encode(), record=filled(RECORD), kv_subject=kv_subject,
        kv_get_subject=f"$JS.API.DIRECT.GET.KV_{subjects.RUNS_BUCKET}.{kv_subject}",
        queued_subject=subjects.run_index("~", "queued", "api", rid), queued_summary=filled(QUEUED_SUMMARY),
        request=filled(REQUEST), events_subject=subjects.run_events(rid), start_change=filled(START_CHANGE),
        end_change=filled(END_CHANGE), dispatch=filled(DISPATCH), dispatch_id=f"{rid}.post", result=result,
        result_headers=signed, end_subject=subjects.run_index("~", "succeeded", "api", rid),
        end_summary=filled(END_SUMMARY),
        purge=json.dumps({"filter": subjects.run_index("*", "*", "*", rid), "keep": 1}).encode(),
        plain_kv={EXPECTED_SEQ: "0", MSG_ID: rid + ".k"},
        plain_queued={MSG_ID: rid + ".q", EXPECTED_STREAM: subjects.INDEX_STREAM},
        plain_request={MSG_ID: rid},
        plain_start={EXPECTED_SEQ: "0", MSG_ID: rid + ".s", EXPECTED_STREAM: subjects.EVENTS_STREAM},
        plain_dispatch={MSG_ID: f"{rid}.post"},
        plain_result={**signed, MSG_ID: rid + ".r"},
        plain_end_summary={MSG_ID: rid + ".x", EXPECTED_STREAM: subjects.INDEX_STREAM},
    )


def message_sizes() -> str:
    run = prepare(0, b"k" * 32)
    return (f"record {len(run.record)} B, queued summary {len(run.queued_summary)} B, request {len(run.request)} B, "
            f"start change {len(run.start_change)} B, dispatch {len(run.dispatch)} B, result {len(run.result)} B, "
            f"end change {len(run.end_change)} B, end summary {len(run.end_summary)} B, purge {len(run.purge)} B")


# -- the three processes -----------------------------------------------------------------------------------------------


@dataclass
class Role:
    name: str
    variant: str
    url: str
    runs: int
    warmup: int
    concurrency: int

    @property
    def total(self) -> int:
        return self.warmup + self.runs


async def connect_as(role: Role) -> tuple[NatsClient, Any]:
    """The repo's connect and LeaderSafeJetStream (as Bus.connect), or plain nats-py's."""
    password = os.environ.get(PASSWORD_ENV) or None
    if role.variant == "repo":
        from bus.connection import connect
        from bus.jetstream import LeaderSafeJetStream

        nc = await connect(role.url, f"floor-{role.name}", give_up_after=10,
                           login=NatsLogin(role.name, password) if password else None)
        return nc, LeaderSafeJetStream(nc, timeout=10)
    import nats

    nc = await nats.connect(servers=[role.url], name=f"floor-{role.name}", pending_size=32 * 1024 * 1024,
                            user=role.name if password else None, password=password,
                            inbox_prefix=inbox_prefix(role.name) if password else "_INBOX")
    return nc, nc.jetstream(timeout=10)


async def say(line: str) -> None:
    print(line, flush=True)


async def hear(expected: str) -> None:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if line.strip() != expected:
        raise SystemExit(f"expected {expected!r} from the parent, got {line.strip()!r}")


def _stored(reply: Msg) -> bytes:
    """A JetStream answer the plain variant does not parse: only checked not to be an error (a status header, as a
    direct get that found nothing answers, or an "error" object, as a refused publish or purge does)."""
    if (reply.headers and "Status" in reply.headers) or b'"error":{' in reply.data[:200]:
        raise RuntimeError(f"JetStream refused: {reply.headers} {reply.data[:200]!r}")
    return bytes(reply.data)


class BarePull:
    """PullLoop's credit protocol with nothing else: pull requests for the free slots on one inbox, a task per
    message, msg.ack() when its handler returns."""

    def __init__(self, nc: NatsClient, stream: str, durable: str, handler: Callable[[Msg], Awaitable[None]],
                 slots: int) -> None:
        self.nc, self.handler, self.slots = nc, handler, slots
        self.next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.busy = self.credit = 0
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.inbox = self.nc.new_inbox()
        await self.nc.subscribe(self.inbox, cb=self.on_message)
        await self.ask()

    async def ask(self) -> None:
        free = self.slots - self.busy - self.credit
        if free <= 0 or (free < self.slots // 4 and self.credit > 0):
            return
        self.credit += free
        request = b'{"batch":%d,"expires":%d,"idle_heartbeat":%d}' % (free, PULL_EXPIRES_S * 1e9, PULL_HEARTBEAT_S * 1e9)
        await self.nc.publish(self.next_subject, request, reply=self.inbox)

    async def on_message(self, msg: Msg) -> None:
        headers = msg.headers or {}
        status = headers.get("Status")
        if status is not None:
            if status != "100":  # a request expired or was cut short: forget what it did not use
                unused = headers.get("Nats-Pending-Messages")
                self.credit = max(0, self.credit - int(unused)) if unused is not None else 0
                await self.ask()
            return
        self.credit -= 1
        self.busy += 1
        task = asyncio.create_task(self.handle(msg))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def handle(self, msg: Msg) -> None:
        try:
            await self.handler(msg)
            await msg.ack()
        finally:
            self.busy -= 1
        await self.ask()


async def gateway(role: Role) -> None:
    from nats.js.api import DeliverPolicy

    nc, js = await connect_as(role)
    runs = [prepare(i, None) for i in range(role.total)]
    waiting: dict[str, list[Any]] = {}  # run id -> [appends seen, future of its end]
    follow_prefix = len(subjects.run_events(""))

    async def on_event(msg: Msg) -> None:
        seen = waiting.get(msg.subject[follow_prefix:])
        if seen is not None:
            seen[0] += 1
            if seen[0] == 2:
                seen[1].set_result(None)

    # The live feed as bus/run_events_hub.py opens it: one ordered consumer on runs.events.>, new messages only.
    await js.subscribe(subjects.RUN_EVENTS_ALL, stream=subjects.EVENTS_STREAM, ordered_consumer=True,
                       deliver_policy=DeliverPolicy.NEW, cb=on_event)
    if role.variant == "repo":
        kv = await js.key_value(subjects.RUNS_BUCKET)

        async def submit(run: Run) -> None:  # Bus.submit_run: RunStore.create (KV create, index put), request_run
            await kv.create(run.id, run.record)
            await js.publish(run.queued_subject, run.queued_summary, stream=subjects.INDEX_STREAM)
            await js.publish(subjects.RUNS_REQUESTED, run.request, headers={MSG_ID: run.id})
    else:
        async def submit(run: Run) -> None:
            _stored(await nc.request(run.kv_subject, run.record, timeout=10, headers=run.plain_kv))
            _stored(await nc.request(run.queued_subject, run.queued_summary, timeout=10, headers=run.plain_queued))
            _stored(await nc.request(subjects.RUNS_REQUESTED, run.request, timeout=10, headers=run.plain_request))

    loop = asyncio.get_running_loop()
    latencies: list[float] = []

    async def drive(batch: list[Run], label: str) -> float:
        latencies.clear()
        queue = iter(batch)

        async def lane() -> None:
            for run in queue:
                ended = loop.create_future()
                waiting[run.id] = [0, ended]
                began = time.perf_counter()
                await submit(run)
                await ended
                latencies.append(time.perf_counter() - began)
                del waiting[run.id]

        async def progress() -> None:
            done, quiet = -1, 0.0
            while True:
                await asyncio.sleep(2)
                print(f"  {role.variant} {label}: {len(latencies)}/{len(batch)} runs", file=sys.stderr, flush=True)
                quiet = quiet + 2 if len(latencies) == done else 0.0
                done = len(latencies)
                if quiet >= RUN_TIMEOUT_S:
                    print(f"floor gateway: no run ended in {RUN_TIMEOUT_S:g} s; giving up", file=sys.stderr, flush=True)
                    os._exit(3)

        watch = asyncio.create_task(progress())
        began = time.perf_counter()
        try:
            await asyncio.gather(*(lane() for _ in range(min(role.concurrency, len(batch)))))
        finally:
            watch.cancel()
        return time.perf_counter() - began

    await say("ready")
    await hear("start")
    await drive(runs[:role.warmup], "warm-up")
    await say("warm")
    await hear("go")
    seconds = await drive(runs[role.warmup:], "measured")
    lat = sorted(latencies)
    await say(f"done {seconds:.6f} {1000 * statistics.median(lat):.3f} {1000 * lat[int(0.99 * (len(lat) - 1))]:.3f}")
    await hear("stop")
    await nc.close()


async def orchestrator(role: Role) -> None:
    nc, js = await connect_as(role)
    by_key = {run.key: run for run in (prepare(i, None) for i in range(role.total))}
    started_at: dict[str, int] = {}  # run id -> stream sequence of its start change (the end's expected one)
    purge_subject = f"$JS.API.STREAM.PURGE.{subjects.INDEX_STREAM}"
    if role.variant == "repo":
        from bus.consumer import Delivery, PullLoop, PullSource

        kv = await js.key_value(subjects.RUNS_BUCKET)

        async def on_request(msg: Delivery) -> None:
            run = by_key[msg.data[RUN_ID_AT]]
            await kv.get(run.id)  # RunStore.mutate's first read of a run it has no copy of
            ack = await js.publish(run.events_subject, run.start_change, stream=subjects.EVENTS_STREAM,
                                   headers={EXPECTED_SEQ: "0"})
            started_at[run.id] = ack.seq
            await js.publish(subjects.STEPS_DISPATCH, run.dispatch, headers={MSG_ID: run.dispatch_id})

        async def on_result(msg: Delivery) -> None:
            run = by_key[msg.data[RUN_ID_AT]]
            await js.publish(run.events_subject, run.end_change, stream=subjects.EVENTS_STREAM,
                             headers={EXPECTED_SEQ: str(started_at.pop(run.id))})
            await js.publish(run.end_subject, run.end_summary, stream=subjects.INDEX_STREAM)  # RunIndex.put
            await nc.request(purge_subject, run.purge, timeout=5)

        loops = [PullLoop(PullSource(nc, subjects.RUNS_STREAM, subjects.ORCHESTRATOR_RUNS_CONSUMER), on_request,
                          name="floor.runs", concurrency=ORCHESTRATOR_SLOTS),
                 PullLoop(PullSource(nc, subjects.RESULTS_STREAM, subjects.ORCHESTRATOR_RESULTS_CONSUMER), on_result,
                          name="floor.results", concurrency=ORCHESTRATOR_SLOTS)]
        running = [asyncio.create_task(loop.run()) for loop in loops]
        await say("ready")
        await hear("stop")
        await asyncio.gather(*(loop.drain(5) for loop in loops))
        await asyncio.gather(*running, return_exceptions=True)
    else:
        async def on_request_plain(msg: Msg) -> None:
            run = by_key[msg.data[RUN_ID_AT]]
            _stored(await nc.request(run.kv_get_subject, b"", timeout=10))
            ack = _stored(await nc.request(run.events_subject, run.start_change, timeout=10, headers=run.plain_start))
            started_at[run.id] = json.loads(ack)["seq"]
            _stored(await nc.request(subjects.STEPS_DISPATCH, run.dispatch, timeout=10, headers=run.plain_dispatch))

        async def on_result_plain(msg: Msg) -> None:
            run = by_key[msg.data[RUN_ID_AT]]
            _stored(await nc.request(run.events_subject, run.end_change, timeout=10, headers={
                EXPECTED_SEQ: str(started_at.pop(run.id)), MSG_ID: run.id + ".e",
                EXPECTED_STREAM: subjects.EVENTS_STREAM}))
            _stored(await nc.request(run.end_subject, run.end_summary, timeout=10, headers=run.plain_end_summary))
            _stored(await nc.request(purge_subject, run.purge, timeout=5))

        for stream, durable, handler in ((subjects.RUNS_STREAM, subjects.ORCHESTRATOR_RUNS_CONSUMER, on_request_plain),
                                         (subjects.RESULTS_STREAM, subjects.ORCHESTRATOR_RESULTS_CONSUMER, on_result_plain)):
            await BarePull(nc, stream, durable, handler, ORCHESTRATOR_SLOTS).start()
        await say("ready")
        await hear("stop")
    await nc.close()


async def engine(role: Role) -> None:
    nc, js = await connect_as(role)
    key = os.environ.get(RESULTS_KEY_ENV) or None
    by_key = {run.key: run for run in (prepare(i, bytes.fromhex(key) if key else None) for i in range(role.total))}
    if role.variant == "repo":
        from bus.consumer import Delivery, PullLoop, PullSource

        async def on_dispatch(msg: Delivery) -> None:
            run = by_key[msg.data[RUN_ID_AT]]
            await js.publish(subjects.STEPS_RESULT, run.result, headers=run.result_headers or None)  # Bus.report

        loop = PullLoop(PullSource(nc, subjects.DISPATCH_STREAM, subjects.ENGINE_CONSUMER), on_dispatch,
                        name="floor.engine", concurrency=ENGINE_SLOTS, batch=ENGINE_SLOTS, heartbeat_s=ENGINE_HEARTBEAT_S)
        running = asyncio.create_task(loop.run())
        await say("ready")
        await hear("stop")
        await loop.drain(5)
        await asyncio.gather(running, return_exceptions=True)
    else:
        async def on_dispatch_plain(msg: Msg) -> None:
            run = by_key[msg.data[RUN_ID_AT]]
            _stored(await nc.request(subjects.STEPS_RESULT, run.result, timeout=10, headers=run.plain_result))

        await BarePull(nc, subjects.DISPATCH_STREAM, subjects.ENGINE_CONSUMER, on_dispatch_plain, ENGINE_SLOTS).start()
        await say("ready")
        await hear("stop")
    await nc.close()


# -- the parent: a fresh nats-server per variant, the three processes, their CPU --------------------------------------


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@dataclass
class Outcome:
    variant: str
    runs: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_ms: dict[str, float]  # by process, over the measured runs
    checked: str

    @property
    def rate(self) -> float:
        return self.runs / self.seconds

    def per_run(self, name: str) -> float:
        return self.cpu_ms[name] / self.runs

    @property
    def total(self) -> float:
        return sum(self.cpu_ms.values()) / self.runs


COLUMNS = ("gateway", "orchestrator", "engine", "nats-server")


def header() -> str:
    return (f"{'variant':<8} {'runs/s':>7} {'p50 ms':>7} {'p99 ms':>7} | CPU ms/run: "
            + " ".join(f"{name:>12}" for name in COLUMNS) + f" {'total':>7}")


def row(outcome: Outcome) -> str:
    return (f"{outcome.variant:<8} {outcome.rate:7,.0f} {outcome.p50_ms:7.2f} {outcome.p99_ms:7.2f} |             "
            + " ".join(f"{outcome.per_run(name):12.3f}" for name in COLUMNS) + f" {outcome.total:7.3f}")


class Child:
    def __init__(self, name: str, process: subprocess.Popen[str]) -> None:
        self.name, self.process = name, process

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def expect(self, word: str) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith(word):
            self.process.poll()
            raise RuntimeError(f"floor {self.name} (pid {self.process.pid}) said {line.strip()!r} instead of {word!r}"
                               f" (exit code {self.process.returncode}); its stderr is above")
        return line.strip()

    def stop(self, timeout: float = 10) -> None:
        """By its PID: SIGTERM, then SIGKILL."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def _set_up(url: str, login: NatsLogin | None) -> None:
    await set_up_bus(url, BusSettings(), login=login)


async def _check(url: str, login: NatsLogin | None, total: int) -> str:
    """What the streams hold once the runs are done: 2 changes, 1 summary, 1 record per run, work queues empty."""
    import nats

    nc = await nats.connect(url, user=login.role if login else None, password=login.password if login else None)
    js = nc.jetstream()
    expected = {subjects.EVENTS_STREAM: 2 * total, subjects.INDEX_STREAM: total, f"KV_{subjects.RUNS_BUCKET}": total,
                subjects.RUNS_STREAM: 0, subjects.DISPATCH_STREAM: 0, subjects.RESULTS_STREAM: 0}
    found: dict[str, int] = {}
    for _ in range(20):
        found = {stream: (await js.stream_info(stream)).state.messages for stream in expected}
        if found == expected:
            break
        await asyncio.sleep(0.25)
    await nc.close()
    wrong = {stream: (found[stream], want) for stream, want in expected.items() if found[stream] != want}
    return "streams as expected" if not wrong else f"UNEXPECTED stream contents (found, expected): {wrong}"


def measure(variant: str, args: argparse.Namespace, warmup: int) -> Outcome:
    tmp = tempfile.TemporaryDirectory(prefix="automateos-floor-")
    passwords = {role: new_password() for role in ROLES} if args.secured else {}
    server = EmbeddedNats(Path(tmp.name) / "nats", port=free_port(),
                          config_file=ROOT / "nats.conf" if args.secured else None,
                          env={**os.environ, **{password_variable(r): p for r, p in passwords.items()}}
                          if args.secured else None, tied_to_parent=True)
    admin = NatsLogin("admin", passwords["admin"]) if args.secured else None
    children: dict[str, Child] = {}
    try:
        server.start()
        asyncio.run(_set_up(server.url, admin))
        results_key = secrets.token_bytes(32).hex() if args.secured else ""
        for name in ("engine", "orchestrator", "gateway"):
            env = {**os.environ, PASSWORD_ENV: passwords.get(name, ""), RESULTS_KEY_ENV: results_key}
            command = [sys.executable, str(Path(__file__).resolve()), "--role", name, "--variant", variant,
                       "--url", server.url, "--runs", str(args.runs), "--warmup", str(warmup),
                       "--concurrency", str(args.concurrency)]
            # Own session: a Ctrl-C reaches only this process, which stops them by PID.
            children[name] = Child(name, subprocess.Popen(command, env=env, stdin=subprocess.PIPE,
                                                          stdout=subprocess.PIPE, text=True, start_new_session=True,
                                                          preexec_fn=ends_with_parent()))
        for child in children.values():
            child.expect("ready")
        print(f"{variant}: {warmup} warm-up runs", file=sys.stderr, flush=True)
        children["gateway"].send("start")
        children["gateway"].expect("warm")
        assert server.process is not None
        pids = {**{name: child.process.pid for name, child in children.items()}, "nats-server": server.process.pid}
        before = {name: cpu_ticks(pid) for name, pid in pids.items()}
        children["gateway"].send("go")
        done = children["gateway"].expect("done").split()
        after = {name: cpu_ticks(pid) for name, pid in pids.items()}
        checked = asyncio.run(_check(server.url, admin, warmup + args.runs))
        for child in children.values():
            child.send("stop")
        cpu = {name: (after[name] - before[name]) * 1000 / CLOCK_TICKS for name in pids}
        return Outcome(variant, args.runs, float(done[1]), float(done[2]), float(done[3]), cpu, checked)
    finally:
        for child in children.values():
            child.stop()
        server.stop()
        tmp.cleanup()


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000, help="measured runs (after warm-up)")
    parser.add_argument("--concurrency", type=int, default=50, help="runs in flight")
    parser.add_argument("--warmup", type=int, default=None, help="unmeasured runs first (default: runs/10, ≤ 300)")
    parser.add_argument("--variants", default="repo,plain", help="comma-separated: repo, plain")
    parser.add_argument("--repeats", type=int, default=1, help="each variant this often, alternating; medians printed")
    parser.add_argument("--secured", action="store_true",
                        help="nats.conf's accounts and role users, results signed (as throughput.py --secured)")
    parser.add_argument("--role", choices=ROLES_HERE, help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else min(300, max(args.concurrency, args.runs // 10))
    if args.role is not None:
        import uvloop

        role = Role(args.role, args.variant, args.url, args.runs, warmup, args.concurrency)
        uvloop.run({"gateway": gateway, "orchestrator": orchestrator, "engine": engine}[args.role](role))
        return 0
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not variants or any(v not in VARIANTS for v in variants):
        parser.error(f"--variants takes a comma-separated list of {VARIANTS}")
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"floor: runs={args.runs} concurrency={args.concurrency} warmup={warmup} secured={args.secured} uvloop")
    print(f"messages: {message_sizes()}")
    print(header(), flush=True)
    outcomes: dict[str, list[Outcome]] = {v: [] for v in variants}
    # Ctrl-C (or a SIGTERM) stops what this started, by PID, in measure()'s finally; also when started in the
    # background, where a shell leaves SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupted)
    try:
        for _ in range(args.repeats):
            for variant in variants:
                outcome = measure(variant, args, warmup)
                outcomes[variant].append(outcome)
                print(row(outcome) + ("" if outcome.checked == "streams as expected" else f"   ✗ {outcome.checked}"),
                      flush=True)
    except KeyboardInterrupt:
        print("interrupted: what this started is stopped", file=sys.stderr)
        return 130
    if args.repeats > 1:
        print(f"medians of {args.repeats}:")
        for variant, done in outcomes.items():
            print(row(Outcome(variant, args.runs, statistics.median(o.seconds for o in done),
                              statistics.median(o.p50_ms for o in done), statistics.median(o.p99_ms for o in done),
                              {name: statistics.median(o.cpu_ms[name] for o in done) for name in COLUMNS}, "")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
