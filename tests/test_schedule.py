"""Schedule triggers: exactly one run per tick with two orchestrator processes, none missed; catch-up after every
orchestrator was down; the preview; and the tick arithmetic itself (cron in a time zone, across DST)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from orchestrator.schedule_plan import plan
from schemas.node_types import ScheduleConfig
from schemas.workflows import ScheduleEntry
from tests.gateway.test_rest_api import request
from tests.support.graphs import edge, http, node
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, spawn_actor
from tests.support.waiting import eventually

GRACE_S = 2


def scheduled(mock_http: MockHttp, path: str, **schedule: Any) -> dict[str, Any]:
    return {"meta": {"name": "Every second"}, "edges": [edge("tick", "ping")], "nodes": [
        node("tick", "schedule", "Schedule", **schedule),
        http("ping", mock_http.url(path), json_body={"at": "{{ payload.scheduledAt }}"}),
    ]}


async def saved_and_active(stack: Stack, document: dict[str, Any]) -> str:
    status, body, _ = await request(stack, "POST", "/v1/workflows", json={"name": "Scheduled", "graph": document})
    assert status == 201, body
    workflow_id = str(body["id"])
    status, body, _ = await request(stack, "POST", f"/v1/workflows/{workflow_id}/activate")
    assert status == 200, body
    [trigger] = body["triggers"]
    assert trigger["type"] == "schedule" and len(trigger["nextRuns"]) == 3
    return workflow_id


async def schedule_runs(stack: Stack, workflow_id: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    before = ""
    while True:
        status, body, _ = await request(stack, "GET", f"/v1/runs?workflowId={workflow_id}&trigger=schedule&limit=200{before}")
        assert status == 200, body
        runs += body["runs"]
        if body["next"] is None:
            return runs
        before = f"&before={body['next']}"


async def scheduled_at(stack: Stack, run_id: str) -> tuple[str, dict[str, Any]]:
    status, body, _ = await request(stack, "GET", f"/v1/runs/{run_id}")
    assert status == 200
    start = next(s for s in body["steps"] if s["id"] == "tick")
    return body["status"], start["output"]["payload"]


def orchestrators(stack: Stack, count: int, tmp_path: Path, tag: str) -> list[subprocess.Popen[bytes]]:
    env = {"AUTOMATEOS_SCHEDULE_GRACE": str(GRACE_S)}
    return [spawn_actor("orchestrator", stack.nats_url, env=env, log_path=tmp_path / f"orchestrator-{tag}-{i}.log")
            for i in range(count)]


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=20)


async def test_two_orchestrators_fire_each_tick_once_and_miss_none(
    stack_parts: Stack, mock_http: MockHttp, tmp_path: Path
) -> None:
    mock_http.reply("/tick", Reply(status=200, body="ok"))
    await stack_parts.start_worker()
    await stack_parts.start_gateway()
    two = orchestrators(stack_parts, 2, tmp_path, "pair")
    try:
        workflow_id = await saved_and_active(stack_parts, scheduled(mock_http, "/tick", intervalSeconds=1))
        await eventually(lambda: _at_least(stack_parts, workflow_id, 12), timeout=40, what="12 scheduled runs")
        status, _, _ = await request(stack_parts, "POST", f"/v1/workflows/{workflow_id}/deactivate")
        assert status == 200
        await asyncio.sleep(GRACE_S + 1.5)  # anything still owed would have fired by now
        runs = await schedule_runs(stack_parts, workflow_id)
        await eventually(lambda: _all_finished(stack_parts, runs), timeout=30, what="the scheduled runs to finish")
    finally:
        stop(two)

    ticks = [datetime.fromisoformat((await scheduled_at(stack_parts, run["id"]))[1]["scheduledAt"]) for run in runs]
    assert len(ticks) == len(set(ticks)), f"a tick fired twice: {Counter(ticks).most_common(3)}"
    ordered = sorted(ticks)
    assert all(b - a == timedelta(seconds=1) for a, b in zip(ordered, ordered[1:], strict=False)), \
        f"a tick was missed between {ordered[0]} and {ordered[-1]}"
    assert len(ordered) >= 12
    assert all(run["trigger"] == "schedule" and run["workflowId"] == workflow_id for run in runs)
    # One HTTP call per tick, each carrying its own tick.
    sent = sorted(r.json()["at"] for r in mock_http.requests_to("/tick"))
    assert len(sent) == len(ticks) and len(set(sent)) == len(sent)


async def _at_least(stack: Stack, workflow_id: str, count: int) -> bool:
    return len(await schedule_runs(stack, workflow_id)) >= count


async def _all_finished(stack: Stack, runs: list[dict[str, Any]]) -> bool:
    for run in runs:
        status, _ = await scheduled_at(stack, run["id"])
        if status not in ("succeeded", "failed"):
            return False
    return True


async def test_after_downtime_catch_up_one_fires_one_run_and_none_fires_nothing(
    stack_parts: Stack, mock_http: MockHttp, tmp_path: Path
) -> None:
    mock_http.reply("/one", Reply(status=200, body="ok"))
    mock_http.reply("/none", Reply(status=200, body="ok"))
    await stack_parts.start_worker()
    await stack_parts.start_gateway()
    first = orchestrators(stack_parts, 1, tmp_path, "before")
    try:
        catch_up = await saved_and_active(stack_parts, scheduled(mock_http, "/one", intervalSeconds=1, catchUp="one"))
        skip = await saved_and_active(stack_parts, scheduled(mock_http, "/none", intervalSeconds=1, catchUp="none"))
        await eventually(lambda: _at_least(stack_parts, catch_up, 2), timeout=30, what="ticks before the downtime")
        await eventually(lambda: _at_least(stack_parts, skip, 2), timeout=30, what="ticks before the downtime")
    finally:
        stop(first)
    stopped_at = datetime.now(UTC)
    before = {wf: {r["id"] for r in await schedule_runs(stack_parts, wf)} for wf in (catch_up, skip)}
    await asyncio.sleep(GRACE_S + 4)  # several ticks go by with no orchestrator: they are missed
    restarted_at = datetime.now(UTC)
    second = orchestrators(stack_parts, 1, tmp_path, "after")
    try:
        await eventually(lambda: _at_least(stack_parts, catch_up, len(before[catch_up]) + 3), timeout=30,
                         what="ticks after the restart")
        await eventually(lambda: _at_least(stack_parts, skip, len(before[skip]) + 3), timeout=30,
                         what="ticks after the restart")
    finally:
        stop(second)

    async def new_payloads(workflow_id: str) -> list[dict[str, Any]]:
        runs = [r for r in await schedule_runs(stack_parts, workflow_id) if r["id"] not in before[workflow_id]]
        return [(await scheduled_at(stack_parts, r["id"]))[1] for r in runs]

    caught_up = [p for p in await new_payloads(catch_up) if p.get("catchUp")]
    assert len(caught_up) == 1, caught_up
    missed_tick = datetime.fromisoformat(caught_up[0]["scheduledAt"])
    assert stopped_at - timedelta(seconds=1) <= missed_tick <= restarted_at
    skipped = await new_payloads(skip)
    assert not [p for p in skipped if p.get("catchUp")]
    # catchUp none: nothing for the ticks older than the grace; the runs after the restart are on time.
    earliest = min(datetime.fromisoformat(p["scheduledAt"]) for p in skipped)
    assert earliest >= restarted_at - timedelta(seconds=GRACE_S + 1)


async def test_preview_and_its_errors(stack: Stack) -> None:
    status, body, _ = await request(stack, "POST", "/v1/schedules/preview",
                                    json={"cron": "30 9 * * 1-5", "timezone": "Europe/Berlin"})
    assert status == 200, body
    runs = [datetime.fromisoformat(t) for t in body["nextRuns"]]
    assert len(runs) == 3 and runs == sorted(runs)
    assert all(t.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") == "09:30" for t in runs)
    assert all(t.astimezone(ZoneInfo("Europe/Berlin")).isoweekday() <= 5 for t in runs)
    for bad, field in [({"cron": "61 * * * *"}, "cron"), ({"cron": "* * *"}, "cron"),
                       ({"intervalSeconds": 0}, "intervalSeconds"), ({"cron": "* * * * *", "timezone": "Mars/Base"}, "timezone"),
                       ({}, "body"), ({"cron": "* * * * *", "intervalSeconds": 5}, "body")]:
        status, body, _ = await request(stack, "POST", "/v1/schedules/preview", json=bad)
        assert status == 422, (bad, body)
        assert body["error"]["fields"][0]["field"] == field, (bad, body)


def _entry(config: ScheduleConfig, activated: datetime, last: datetime | None = None) -> ScheduleEntry:
    return ScheduleEntry(workflowId="wf_1", nodeId="tick", version=1, config=config, activatedAt=activated, lastTick=last)


def test_cron_follows_the_time_zone_across_daylight_saving() -> None:
    config = ScheduleConfig(cron="0 9 * * *", timezone="Europe/Berlin")
    # Berlin leaves summer time on 25 October 2026: 09:00 is 07:00 UTC before and 08:00 UTC after.
    runs = config.next_runs(datetime(2026, 10, 24, 12, tzinfo=UTC))
    assert [t.isoformat() for t in runs] == ["2026-10-25T08:00:00+00:00", "2026-10-26T08:00:00+00:00",
                                             "2026-10-27T08:00:00+00:00"]
    assert config.next_runs(datetime(2026, 10, 23, 12, tzinfo=UTC), 1)[0].isoformat() == "2026-10-24T07:00:00+00:00"


def test_the_plan_is_the_same_everywhere_and_bounded_after_long_downtime() -> None:
    config = ScheduleConfig(intervalSeconds=60, catchUp="one")
    activated = datetime(2026, 12, 1, 0, 0, 30, tzinfo=UTC)
    now = activated + timedelta(minutes=2, seconds=35)  # 00:03:05: 00:01 and 00:02 are missed, 00:03 on time
    owed = plan(_entry(config, activated), now, timedelta(seconds=10))
    assert [f.scheduled_at.strftime("%H:%M:%S") for f in owed.fires] == ["00:02:00", "00:03:00"]
    assert owed.fires[0].catch_up and not owed.fires[1].catch_up
    assert plan(_entry(config, activated), now, timedelta(seconds=10)) == owed, "pure: same entry, same runs and ids"
    # A year of downtime on a 1-second schedule is one catch-up run and the on-time ticks, not 31 million runs.
    every_second = ScheduleConfig(intervalSeconds=1, catchUp="one")
    long_ago = now - timedelta(days=365)
    owed = plan(_entry(every_second, long_ago, long_ago), now, timedelta(seconds=10))
    assert len(owed.fires) == 11 and sum(f.catch_up for f in owed.fires) == 1
    assert owed.done_through == now.replace(microsecond=0)
    # Nothing is owed before the first tick, or twice for a tick already done.
    assert plan(_entry(config, activated), activated + timedelta(seconds=5)).fires == []
    assert plan(_entry(config, activated, now), now).fires == []


@pytest.mark.parametrize("config", [{"cron": "0 0 30 2 *"}, {"cron": "@daily"}, {"intervalSeconds": 1.5}])
def test_configs_that_cannot_fire_are_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ScheduleConfig.model_validate(config)
