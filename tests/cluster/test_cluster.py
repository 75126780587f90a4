"""On a real 3-node NATS cluster with every stream, consumer and bucket on 3 replicas: setup, publishes and
compare-and-sets across a leader change, pull loops whose server dies, and runs while the stream leader's node
is killed."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nats.errors
import pytest
from nats.js.api import PubAck

from bus import Bus, LocalCluster, PullLoop, resources, set_up_bus, subjects
from bus.jetstream import LeaderSafeJetStream
from bus.consumer import Delivery
from tests.conftest import TEST_BUS_SETTINGS, set_up_in_thread
from tests.support.mock_http import MockHttp
from tests.support.stack import Stack, http_graph
from tests.support.waiting import eventually

R3 = dataclasses.replace(TEST_BUS_SETTINGS, replicas=3)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    with LocalCluster.on_free_ports(tmp_path / "cluster") as started:
        set_up_in_thread(started.url, R3)
        yield started


@pytest.fixture
async def cluster_bus(cluster: LocalCluster) -> AsyncIterator[Bus]:
    bus = await Bus.connect(cluster.url, "test-client", R3, give_up_after=10)
    yield bus
    await bus.close()


async def leader_of(bus: Bus, stream: str) -> str:
    info = await bus.js.stream_info(stream)
    assert info.cluster is not None and info.cluster.leader, f"{stream} has no leader"
    return info.cluster.leader


async def test_every_stream_consumer_and_bucket_has_three_replicas(cluster_bus: Bus) -> None:
    for config in resources.stream_configs(R3):
        assert config.name is not None
        info = await cluster_bus.js.stream_info(config.name)
        assert info.config.num_replicas == 3, config.name
    for stream, consumer in resources.consumer_configs(R3).items():
        info = await cluster_bus.js.consumer_info(stream, consumer.durable_name or "")
        assert info.config.num_replicas == 3, consumer.durable_name
    for bucket in resources.BUCKETS:
        info = await cluster_bus.js.stream_info(f"KV_{bucket}")
        assert info.config.num_replicas == 3, bucket


async def test_an_r1_bus_is_reconciled_to_r3_and_a_lone_server_refuses_r3_clearly(
    tmp_path: Path, nats_server: Any
) -> None:
    with LocalCluster.on_free_ports(tmp_path / "grow") as grow:
        await set_up_bus(grow.url, TEST_BUS_SETTINGS)
        await set_up_bus(grow.url, R3)
        bus = await Bus.connect(grow.url, "check", R3, give_up_after=10)
        try:
            assert (await bus.js.stream_info(subjects.RUNS_STREAM)).config.num_replicas == 3
            assert (await bus.js.stream_info(f"KV_{subjects.RUNS_BUCKET}")).config.num_replicas == 3
        finally:
            await bus.close()
    with pytest.raises(Exception, match="AUTOMATEOS_REPLICAS=1"):
        await set_up_bus(nats_server.url, R3)


class AckLost(LeaderSafeJetStream):
    """Stores its first attempt and then reports a timeout, as a publish whose ack died with a leader does."""

    lost = 0

    async def _attempt(self, subject: str, payload: bytes, timeout: float, stream: str | None,
                       headers: dict[str, Any], msg_ttl: float | None) -> PubAck:
        ack = await super()._attempt(subject, payload, timeout, stream, headers, msg_ttl)
        if self.lost == 0:
            self.lost += 1
            raise nats.errors.TimeoutError
        return ack


async def test_a_timed_out_publish_that_was_stored_is_not_stored_twice(cluster_bus: Bus) -> None:
    js = AckLost(cluster_bus.nc)
    before = (await js.stream_info(subjects.AUDIT_STREAM)).state.messages
    ack = await js.publish(subjects.AUDIT, b'{"at": "2026-01-01T00:00:00Z"}')
    assert ack.duplicate and js.lost == 1
    assert (await js.stream_info(subjects.AUDIT_STREAM)).state.messages == before + 1


async def test_a_compare_and_set_that_timed_out_is_recognised_as_applied(cluster_bus: Bus) -> None:
    # A run's log append and a KV create are both compare-and-sets; the retry of each is refused ("wrong last
    # sequence") because the first attempt was applied, and must be recognised as ours, not as a lost race.
    js = AckLost(cluster_bus.nc)
    subject = subjects.run_events("acklost")
    ack = await js.publish(subject, b"{}", stream=subjects.EVENTS_STREAM,
                           headers={"Nats-Expected-Last-Subject-Sequence": "0"})
    assert js.lost == 1 and ack.seq > 0
    stored = await cluster_bus.js.get_msg(subjects.EVENTS_STREAM, subject=subject)
    assert stored.seq == ack.seq

    kv_js = AckLost(cluster_bus.nc)
    kv = await kv_js.key_value(subjects.WORKFLOWS_BUCKET)
    revision = await kv.create("acklost", b"mine")
    assert kv_js.lost == 1 and (await kv.get("acklost")).revision == revision

    # A real conflict is still one.
    with pytest.raises(Exception, match="wrong last sequence"):
        await cluster_bus.js.publish(subject, b"{}", headers={"Nats-Expected-Last-Subject-Sequence": "0"})


async def test_publishes_ride_out_the_stream_leader_being_killed(cluster: LocalCluster, cluster_bus: Bus) -> None:
    leader = cluster.node_named(await leader_of(cluster_bus, subjects.AUDIT_STREAM))
    acked: list[int] = []

    async def publish_all() -> None:
        for n in range(200):
            ack = await cluster_bus.js.publish(subjects.AUDIT, f'{{"n": {n}}}'.encode())
            acked.append(ack.seq)
            await asyncio.sleep(0.005)

    publishing = asyncio.create_task(publish_all())
    await eventually(lambda: asyncio.sleep(0, len(acked) > 40 or None), what="publishes under way")
    leader.kill()
    await asyncio.wait_for(publishing, 60)
    info = await cluster_bus.js.stream_info(subjects.AUDIT_STREAM)
    assert len(acked) == 200 and len(set(acked)) == 200
    assert info.state.messages == 200, "a retried publish was stored twice, or one was lost"
    assert await leader_of(cluster_bus, subjects.AUDIT_STREAM) != leader.cluster.name  # type: ignore[union-attr]
    leader.start()


async def test_a_pull_loop_recovers_when_its_server_dies(cluster: LocalCluster, tmp_path: Path) -> None:
    # Connected to node 0 only at first; node 0 dies; the loop must carry on through another node.
    bus = await Bus.connect(cluster.nodes[0].url, "test-engine", R3, give_up_after=10)
    seen: set[bytes] = set()

    async def handle(delivery: Delivery) -> None:
        seen.add(delivery.data)

    loop = PullLoop(await bus.pull(subjects.GAVE_UP_STREAM, subjects.ORCHESTRATOR_GAVE_UP_CONSUMER), handle,
                    name="test", concurrency=8)
    running = asyncio.create_task(loop.run())
    publisher = await Bus.connect(cluster.nodes[1].url, "test-publisher", R3, give_up_after=10)
    try:
        for n in range(10):
            await publisher.js.publish(subjects.STEP_GAVE_UP, f"before-{n}".encode())
        await eventually(lambda: asyncio.sleep(0, len(seen) >= 10 or None), what="the first ten")
        cluster.nodes[0].kill()
        for n in range(10):
            await publisher.js.publish(subjects.STEP_GAVE_UP, f"after-{n}".encode())
        await eventually(lambda: asyncio.sleep(0, len(seen) >= 20 or None), timeout=60,
                         what="the ten published after its server died")
        assert seen == {f"{when}-{n}".encode() for when in ("before", "after") for n in range(10)}
    finally:
        loop.stop()
        await asyncio.wait_for(running, 10)
        await publisher.close()
        await bus.close()
        cluster.nodes[0].start()


async def test_runs_succeed_while_the_run_log_leader_node_is_killed(
    cluster: LocalCluster, cluster_bus: Bus, mock_http: MockHttp
) -> None:
    stack = Stack(nats_url=cluster.url, bus_settings=R3)
    try:
        await stack.start_orchestrator()
        await stack.start_worker()
        await stack.start_gateway()
        graph = http_graph(mock_http.url("/hook"))
        run_ids = [await stack.start_run(graph) for _ in range(10)]
        leader = cluster.node_named(await leader_of(cluster_bus, subjects.EVENTS_STREAM))
        leader.kill()
        run_ids += [await stack.start_run(graph) for _ in range(20)]
        records = await asyncio.gather(*(stack.finish(run_id, timeout=90) for run_id in run_ids))
        assert [r["status"] for r in records] == ["succeeded"] * 30
        # Each run's call was made (redelivery may repeat one; the fault suite counts those).
        assert len({r.headers.get("Idempotency-Key") for r in mock_http.requests_to("/hook")}) == 30
        leader.start()
    finally:
        await stack.stop()
