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
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from schemas.node_types.delay import MAX_DELAY_S

from . import subjects
from .errors import BusError

log = logging.getLogger(__name__)

DAY = 24 * 3600.0
# nats-server's default duplicate window for a stream that sets none.
_DEFAULT_DUPLICATE_WINDOW_S = 120.0
# nats-server's error code for "stream name already in use with a different configuration".
_STREAM_CONFIG_DIFFERS = 10058


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
    )


def _history(name: str, subject: str, max_age: float, direct: bool = False) -> StreamConfig:
    """A stream kept for reading back (LIMITS), until its messages are max_age old."""
    # The server refuses a duplicate window longer than max_age, and keeps the old window on an update.
    return StreamConfig(name=name, subjects=[subject], retention=RetentionPolicy.LIMITS, storage=StorageType.FILE,
                        max_age=max_age, allow_direct=direct, duplicate_window=min(_DEFAULT_DUPLICATE_WINDOW_S, max_age))


def stream_configs(settings: BusSettings) -> list[StreamConfig]:
    return [
        _work_queue(subjects.RUNS_STREAM, [subjects.RUNS_REQUESTED, subjects.RUNS_CANCEL], settings),
        _work_queue(subjects.DISPATCH_STREAM, [subjects.STEPS_DISPATCH], settings),
        _work_queue(subjects.RESULTS_STREAM, [subjects.STEPS_RESULT], settings),
        _work_queue(subjects.GAVE_UP_STREAM, [subjects.STEP_GAVE_UP], settings),
        _work_queue(subjects.TIMERS_STREAM, [subjects.TIMERS_ALL], settings),
        # Both are read with batched direct gets (followers, listing), never through a consumer of their own.
        # A run's log is its state (bus/run_store.py), so it lives as long as its record.
        _history(subjects.EVENTS_STREAM, subjects.RUN_EVENTS_ALL, runs_record_ttl_s(settings), direct=True),
        _history(subjects.INDEX_STREAM, subjects.RUN_INDEX_ALL, settings.run_retention_s, direct=True),
        _history(subjects.AUDIT_STREAM, subjects.AUDIT, settings.audit_max_age_s),
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
        )

    # A timer is handed back (nak with the time left) until it is due, as often as it takes: no max_deliver.
    timers = ConsumerConfig(
        durable_name=subjects.ORCHESTRATOR_TIMERS_CONSUMER,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=30.0,
        max_deliver=-1,
        max_ack_pending=settings.max_waiting_timers,
    )
    return {
        subjects.TIMERS_STREAM: timers,
        subjects.RUNS_STREAM: durable(subjects.ORCHESTRATOR_RUNS_CONSUMER, 30.0),
        subjects.RESULTS_STREAM: durable(subjects.ORCHESTRATOR_RESULTS_CONSUMER, 30.0),
        subjects.DISPATCH_STREAM: durable(subjects.ENGINE_CONSUMER, settings.step_ack_wait_s),
        subjects.GAVE_UP_STREAM: durable(subjects.ORCHESTRATOR_GAVE_UP_CONSUMER, 30.0),
    }


BUCKETS = (subjects.RUNS_BUCKET, subjects.STEP_OUTPUTS_BUCKET, subjects.CREDENTIALS_BUCKET, subjects.HOOK_DEDUPE_BUCKET,
           subjects.WORKFLOWS_BUCKET, subjects.TOKENS_BUCKET, subjects.IDEMPOTENCY_BUCKET)


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
        except BadRequestError as error:
            if error.err_code != _STREAM_CONFIG_DIFFERS:
                raise
            log.info("stream %s exists with other settings; updating it", config.name)
            await js.update_stream(config)
    for stream, consumer in consumer_configs(settings).items():
        # Creating a durable that exists updates its editable fields (ack_wait, max_ack_pending, …).
        await js.add_consumer(stream, consumer)
    return {
        subjects.RUNS_BUCKET: await _bucket(
            js, KeyValueConfig(bucket=subjects.RUNS_BUCKET, history=1, direct=True, ttl=runs_record_ttl_s(settings))
        ),
        subjects.STEP_OUTPUTS_BUCKET: await _bucket(
            js, KeyValueConfig(bucket=subjects.STEP_OUTPUTS_BUCKET, history=1, direct=True, ttl=runs_record_ttl_s(settings))
        ),
        subjects.CREDENTIALS_BUCKET: await _bucket(
            js, KeyValueConfig(bucket=subjects.CREDENTIALS_BUCKET, history=1, direct=True)
        ),
        subjects.HOOK_DEDUPE_BUCKET: await _bucket(
            js, KeyValueConfig(bucket=subjects.HOOK_DEDUPE_BUCKET, history=1, direct=True, ttl=settings.hook_dedupe_s)
        ),
        subjects.WORKFLOWS_BUCKET: await _bucket(
            js, KeyValueConfig(bucket=subjects.WORKFLOWS_BUCKET, history=1, direct=True)
        ),
        subjects.TOKENS_BUCKET: await _bucket(js, KeyValueConfig(bucket=subjects.TOKENS_BUCKET, history=1, direct=True)),
        subjects.IDEMPOTENCY_BUCKET: await _bucket(
            js,
            KeyValueConfig(
                bucket=subjects.IDEMPOTENCY_BUCKET, history=1, direct=True, ttl=settings.duplicate_window_s
            ),
        ),
    }


async def _bucket(js: JetStreamContext, config: KeyValueConfig) -> KeyValue:
    try:
        kv = await js.key_value(config.bucket)
    except BucketNotFoundError:
        return await js.create_key_value(config)
    if config.ttl:
        # A bucket made before its TTL was configured (or with another one) gets the configured one.
        info = await js.stream_info(f"KV_{config.bucket}")
        if abs((info.config.max_age or 0.0) - config.ttl) > 1.0:
            log.info("bucket %s: setting its TTL to %.0f s", config.bucket, config.ttl)
            info.config.max_age = config.ttl
            info.config.duplicate_window = min(info.config.duplicate_window or config.ttl, config.ttl)
            await js.update_stream(info.config)
    return kv
