"""Streams, consumers and KV buckets: declared by one owner (`automateos setup`, which `automateos up` runs), with
the settings of the deployment; every actor only binds to them. An actor that declared on connect would reconcile
them to whatever settings that one process had (an engine started with another retention would change it for all)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import APIError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from schemas.compiler import MAX_GRAPH_NODES
from schemas.node_types import MAX_LOOP_ITEMS, MAX_SUBWORKFLOW_DEPTH
from schemas.node_types.delay import MAX_DELAY_S

from . import subjects
from .errors import BusError

log = logging.getLogger(__name__)

DAY = 24 * 3600.0
# nats-server's default duplicate window for a stream that sets none.
_DEFAULT_DUPLICATE_WINDOW_S = 120.0
# nats-server's error code for "stream name already in use with a different configuration".
_STREAM_CONFIG_DIFFERS = 10058
# A cluster that is still forming: "temporarily unavailable" (no leader yet), "insufficient resources" and "no
# suitable peers for placement" (not enough peers have joined to place the replicas), and a consumer's replicas
# "exceeding its stream's" while the stream's own change to more replicas is still being applied. Worth waiting out.
NOT_READY_CODES = frozenset({10008, 10023, 10005, 10126})


@dataclass(frozen=True)
class BusSettings:
    """Limits of the bus resources. The defaults suit one machine; all are tunable per deployment."""

    # Within this window a repeated Nats-Msg-Id on runs.requested is dropped: bus-level idempotency.
    duplicate_window_s: float = 120.0
    # How long a worker may hold a step without acking or heartbeating before JetStream redelivers it.
    step_ack_wait_s: float = 30.0
    # A step delivered this many times without an answer (its workers keep dying) is failed by the orchestrator.
    max_deliver: int = 5
    # nats-py's default of 1000 would silently cap steps in flight.
    max_ack_pending: int = 50_000
    # Every waiting delay or retry is one unacknowledged timer message, so this caps waits across all runs.
    max_waiting_timers: int = 1_000_000
    # A run's summary (the listing index) goes this long after its last change (AUTOMATEOS_RUN_RETENTION_DAYS);
    # its record, log and stored outputs stay record_grace_s longer, see runs_record_ttl_s.
    run_retention_s: float = 30 * DAY
    # The longest a run can wait without its record changing: the longest delay (schemas/node_types/delay.py).
    record_grace_s: float = float(MAX_DELAY_S)
    # A webhook event with the same dedupeKey within this window starts no second run.
    hook_dedupe_s: float = DAY
    audit_max_age_s: float = 365 * DAY
    # A browser session unused this long ends (AUTOMATEOS_SESSION_IDLE_HOURS); also the `sessions` bucket's TTL,
    # which is safe because a session's record is rewritten whenever it is refreshed.
    session_idle_s: float = 12 * 3600.0
    # How long the sign-in link `up` prints works (AUTOMATEOS_SIGN_IN_CODE_MINUTES); checked on use, not a TTL.
    sign_in_code_s: float = 300.0
    # Nodes a run's graph may have, however it arrives (REST, a hook, a schedule, the bus): AUTOMATEOS_MAX_GRAPH_NODES.
    max_graph_nodes: int = MAX_GRAPH_NODES
    # Items one loop may have (AUTOMATEOS_MAX_LOOP_ITEMS), and how deep subworkflows may nest
    # (AUTOMATEOS_MAX_SUBWORKFLOW_DEPTH).
    max_loop_items: int = MAX_LOOP_ITEMS
    max_subworkflow_depth: int = MAX_SUBWORKFLOW_DEPTH
    # Copies of every stream, consumer and bucket (AUTOMATEOS_REPLICAS): 1 on one server, 3 on a cluster, where
    # any one node may be lost (quorum is 2 of 3).
    replicas: int = 1


def runs_record_ttl_s(settings: BusSettings) -> float:
    """A waiting run writes nothing until its delay ends: its record, log and outputs must outlive the retention
    by the longest delay, or a run waiting 30 days under a 7-day retention would lose its state mid-run."""
    return settings.run_retention_s + settings.record_grace_s


def _work_queue(name: str, subject_list: list[str], settings: BusSettings) -> StreamConfig:
    return StreamConfig(
        name=name,
        subjects=subject_list,
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        duplicate_window=settings.duplicate_window_s,
        num_replicas=settings.replicas,
    )


def _history(name: str, subject: str, max_age: float, settings: BusSettings, direct: bool = False) -> StreamConfig:
    """A stream kept for reading back (LIMITS), until its messages are max_age old."""
    # The server refuses a duplicate window longer than max_age, and keeps the old window on an update.
    return StreamConfig(name=name, subjects=[subject], retention=RetentionPolicy.LIMITS, storage=StorageType.FILE,
                        max_age=max_age, allow_direct=direct, duplicate_window=min(_DEFAULT_DUPLICATE_WINDOW_S, max_age),
                        num_replicas=settings.replicas)


def stream_configs(settings: BusSettings) -> list[StreamConfig]:
    return [
        _work_queue(subjects.RUNS_STREAM, [subjects.RUNS_REQUESTED, subjects.RUNS_CANCEL, subjects.RUNS_RESUME,
                                           f"{subjects.RUNS_EXTERNAL_PREFIX}.>"], settings),
        _work_queue(subjects.DISPATCH_STREAM, [subjects.STEPS_DISPATCH], settings),
        _work_queue(subjects.RESULTS_STREAM, [subjects.STEPS_RESULT], settings),
        _work_queue(subjects.GAVE_UP_STREAM, [subjects.STEP_GAVE_UP], settings),
        _work_queue(subjects.TIMERS_STREAM, [subjects.TIMERS_ALL], settings),
        # Both are read with batched direct gets (followers, listing), never through a consumer of their own.
        # A run's log is its state (bus/run_store.py), so it lives as long as its record.
        _history(subjects.EVENTS_STREAM, subjects.RUN_EVENTS_ALL, runs_record_ttl_s(settings), settings, direct=True),
        _history(subjects.INDEX_STREAM, subjects.RUN_INDEX_ALL, settings.run_retention_s, settings, direct=True),
        _history(subjects.AUDIT_STREAM, subjects.AUDIT, settings.audit_max_age_s, settings),
    ]


def consumer_configs(settings: BusSettings) -> dict[str, ConsumerConfig]:
    """Stream name -> its one durable pull consumer (work queues allow one per subject)."""

    def durable(name: str, ack_wait: float) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ack_wait,
            max_deliver=settings.max_deliver,
            max_ack_pending=settings.max_ack_pending,
            num_replicas=settings.replicas,
        )

    # A timer is handed back (nak with the time left) until it is due, as often as it takes: no max_deliver.
    timers = ConsumerConfig(
        durable_name=subjects.ORCHESTRATOR_TIMERS_CONSUMER,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=30.0,
        max_deliver=-1,
        max_ack_pending=settings.max_waiting_timers,
        num_replicas=settings.replicas,
    )
    return {
        subjects.TIMERS_STREAM: timers,
        subjects.RUNS_STREAM: durable(subjects.ORCHESTRATOR_RUNS_CONSUMER, 30.0),
        subjects.RESULTS_STREAM: durable(subjects.ORCHESTRATOR_RESULTS_CONSUMER, 30.0),
        subjects.DISPATCH_STREAM: durable(subjects.ENGINE_CONSUMER, settings.step_ack_wait_s),
        subjects.GAVE_UP_STREAM: durable(subjects.ORCHESTRATOR_GAVE_UP_CONSUMER, 30.0),
    }


BUCKETS = (subjects.RUNS_BUCKET, subjects.STEP_OUTPUTS_BUCKET, subjects.CREDENTIALS_BUCKET, subjects.HOOK_DEDUPE_BUCKET,
           subjects.WORKFLOWS_BUCKET, subjects.TOKENS_BUCKET, subjects.IDEMPOTENCY_BUCKET, subjects.SESSIONS_BUCKET)


class NotSetUp(BusError):
    """The bus has not been set up: its streams and buckets are missing."""


async def bind(js: JetStreamContext) -> dict[str, KeyValue]:
    """The buckets, which must exist (and with them the streams, declared together by `declare`)."""
    try:
        await js.stream_info(subjects.RUNS_STREAM)
        return {name: await js.key_value(name) for name in BUCKETS}
    except (BucketNotFoundError, NotFoundError):
        raise NotSetUp("the bus is not set up (its streams and buckets are missing): run `automateos setup` "
                       "against this NATS (`automateos up` does it)") from None


async def declare(js: JetStreamContext, settings: BusSettings) -> dict[str, KeyValue]:
    """Create or reconcile every stream, consumer and bucket. Idempotent; run by the deployment's one owner."""
    for config in stream_configs(settings):
        try:
            await js.add_stream(config)
        except APIError as error:
            if error.err_code in NOT_READY_CODES:
                raise
            if error.err_code != _STREAM_CONFIG_DIFFERS:
                raise _cannot(f"stream {config.name}", error) from None
            log.info("stream %s exists with other settings; updating it", config.name)
            await _update_stream(js, config)
    for stream, consumer in consumer_configs(settings).items():
        # Creating a durable that exists updates its editable fields (ack_wait, max_ack_pending, replicas, …).
        try:
            await js.add_consumer(stream, consumer)
        except APIError as error:
            if error.err_code in NOT_READY_CODES:
                raise
            raise _cannot(f"consumer {consumer.durable_name} of {stream}", error) from None
    ttl = runs_record_ttl_s(settings)
    buckets = {
        subjects.RUNS_BUCKET: ttl,
        subjects.STEP_OUTPUTS_BUCKET: ttl,
        subjects.CREDENTIALS_BUCKET: None,
        subjects.HOOK_DEDUPE_BUCKET: settings.hook_dedupe_s,
        subjects.WORKFLOWS_BUCKET: None,
        subjects.TOKENS_BUCKET: None,
        subjects.IDEMPOTENCY_BUCKET: settings.duplicate_window_s,
        # Unused codes go with it too: a code is refused after sign_in_code_s however long its record stays.
        subjects.SESSIONS_BUCKET: max(settings.session_idle_s, settings.sign_in_code_s),
    }
    return {
        name: await _bucket(js, KeyValueConfig(bucket=name, history=1, direct=True, ttl=bucket_ttl,
                                               replicas=settings.replicas))
        for name, bucket_ttl in buckets.items()
    }


async def _bucket(js: JetStreamContext, config: KeyValueConfig) -> KeyValue:
    try:
        kv = await js.key_value(config.bucket)
    except BucketNotFoundError:
        try:
            return await js.create_key_value(config)
        except APIError as error:
            if error.err_code in NOT_READY_CODES:
                raise
            raise _cannot(f"bucket {config.bucket}", error) from None
    # A bucket made before its TTL was configured (or with another one, or other replicas) gets the configured ones.
    info = await js.stream_info(f"KV_{config.bucket}")
    changes = []
    if config.ttl and abs((info.config.max_age or 0.0) - config.ttl) > 1.0:
        changes.append(f"its TTL to {config.ttl:.0f} s")
        info.config.max_age = config.ttl
        info.config.duplicate_window = min(info.config.duplicate_window or config.ttl, config.ttl)
    if (info.config.num_replicas or 1) != config.replicas:
        changes.append(f"its replicas to {config.replicas}")
        info.config.num_replicas = config.replicas
    if changes:
        log.info("bucket %s: setting %s", config.bucket, " and ".join(changes))
        await _update_stream(js, info.config)
    return kv


async def _update_stream(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        await js.update_stream(config)
    except APIError as error:
        if error.err_code in NOT_READY_CODES:
            raise
        raise _cannot(f"stream {config.name}", error) from None


def _cannot(what: str, error: APIError) -> BusError:
    """NATS refuses some settings outright (replicas over 1 on a lone server) and others as changes in place
    (storage, retention): say which resource, what NATS said, and the way out."""
    hint = ("set AUTOMATEOS_REPLICAS=1 for a single nats-server, or run on a cluster"
            if "replicas" in (error.description or "").lower() else
            "NATS cannot change this in place: back up what it holds, delete it (nats stream rm) and run setup again")
    return BusError(f"cannot set up {what}: {error.description} (NATS error {error.err_code}); {hint}")
