"""The wait step on real actors: answered through runs.resume (the gateway's part is tested in tests/gateway),
timing out once, and surviving SIGKILL of every actor while it waits."""

from __future__ import annotations

import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bus import Bus, EmbeddedNats
from schemas import ResumeRequested, RunRequested
from schemas.resume import RESUME_PATH, parse_resume_token
from tests.conftest import TEST_BUS_SETTINGS
from tests.control_flow.test_durability import actors, stop
from tests.support.graphs import edge, graph, http, node, steps_by_id
from tests.support.mock_http import MockHttp
from tests.support.stack import Stack, step_is
from tests.support.waiting import eventually


def approval(mock_http: MockHttp, timeout_s: int = 3600) -> dict[str, Any]:
    return graph(
        node("ask", "wait", resume="approval", timeoutSeconds=timeout_s, message="Refund {{ payload.amount }}?"),
        http("yes", mock_http.url("/approved")), http("no", mock_http.url("/rejected")),
        http("late", mock_http.url("/timeout")),
        edges=[edge("start", "ask"), edge("ask", "yes", "approved"), edge("ask", "no", "rejected"),
               edge("ask", "late", "timeout")],
    )


async def waiting_step(stack: Stack, run_id: str) -> dict[str, Any]:
    await stack.events(run_id, until=step_is("ask", "waiting"))
    return steps_by_id(await stack.get_run(run_id))["ask"]


async def test_an_approval_waits_with_its_message_and_resume_url_then_takes_the_approved_branch(
        stack: Stack, bus: Bus, mock_http: MockHttp) -> None:
    run_id = await stack.start_run(approval(mock_http), inputs={"payload": {"amount": 42}})
    ask = await waiting_step(stack, run_id)
    assert ask["wait"]["mode"] == "approval" and ask["wait"]["message"] == "Refund 42?"
    assert RESUME_PATH in ask["resumeUrl"]
    token = parse_resume_token(ask["resumeUrl"].rsplit("/", 1)[1])
    assert token is not None and token.run_id == run_id and token.step_id == "ask"
    await bus.request_resume(ResumeRequested(runId=run_id, stepId="ask", attempt=1, handle="approved",
                                             output={"approved": True, "comment": "fine"}))
    record = await stack.finish(run_id)
    steps = steps_by_id(record)
    assert record["status"] == "succeeded"
    assert steps["ask"]["output"] == {"approved": True, "comment": "fine"} and steps["ask"]["resumeUrl"] is None
    assert steps["no"]["status"] == "skipped" and steps["late"]["status"] == "skipped"
    assert len(mock_http.requests_to("/approved")) == 1


async def test_a_rejection_takes_the_rejected_branch_and_a_second_answer_changes_nothing(
        stack: Stack, bus: Bus, mock_http: MockHttp) -> None:
    run_id = await stack.start_run(approval(mock_http), inputs={"payload": {"amount": 1}})
    await waiting_step(stack, run_id)
    rejected = ResumeRequested(runId=run_id, stepId="ask", attempt=1, handle="rejected", output={"approved": False})
    first = await bus.request_resume(rejected)
    again = await bus.request_resume(rejected.model_copy(update={"handle": "approved"}))
    assert not first.duplicate and again.duplicate, "the second answer to one wait is a duplicate on the stream"
    record = await stack.finish(run_id)
    assert steps_by_id(record)["ask"]["handles"] == ["rejected"]
    assert len(mock_http.requests_to("/rejected")) == 1 and mock_http.requests_to("/approved") == []


async def test_no_answer_in_time_takes_the_timeout_branch_once(stack: Stack, bus: Bus, mock_http: MockHttp) -> None:
    run_id = await stack.start_run(approval(mock_http, timeout_s=1), inputs={"payload": {"amount": 1}})
    record = await stack.finish(run_id)
    ask = steps_by_id(record)["ask"]
    assert ask["handles"] == ["timeout"] and ask["output"]["timedOut"] is True
    await bus.request_resume(ResumeRequested(runId=run_id, stepId="ask", attempt=1, handle="approved", output={}))
    assert len(mock_http.requests_to("/timeout")) == 1 and mock_http.requests_to("/approved") == []


async def test_a_wait_survives_sigkill_of_every_actor_and_the_nats_server_then_is_approved(
        nats_server: EmbeddedNats, mock_http: MockHttp, tmp_path: Path) -> None:
    processes = actors(nats_server.url, tmp_path, 1)
    bus = await Bus.connect(nats_server.url, "test-client", TEST_BUS_SETTINGS, give_up_after=10)
    try:
        request = RunRequested.model_validate({"runId": "waits", "graph": approval(mock_http),
                                               "inputs": {"payload": {"amount": 5}}})
        await bus.request_run(request, "waits")

        async def waiting() -> bool:
            found = await bus.runs.get("waits")
            return found is not None and found[0].step("ask").status == "waiting"

        await eventually(waiting, what="the wait to start")
        await bus.close()
        for process in processes:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        assert nats_server.process is not None
        nats_server.process.send_signal(signal.SIGKILL)
        nats_server.process.wait(timeout=10)
        nats_server.stop()
        nats_server.start()
        processes = actors(nats_server.url, tmp_path, 2)
        bus = await Bus.connect(nats_server.url, "test-client", TEST_BUS_SETTINGS, give_up_after=10)
        found = await bus.runs.get("waits")
        assert found is not None and found[0].step("ask").status == "waiting", "still waiting after the restart"
        await bus.request_resume(ResumeRequested(runId="waits", stepId="ask", attempt=1, handle="approved",
                                                 output={"approved": True}))

        async def finished() -> str | None:
            found = await bus.runs.get("waits")
            return found[0].status if found is not None and found[0].finished else None

        assert await eventually(finished, timeout=60, what="the run to finish") == "succeeded"
        assert len(mock_http.requests_to("/approved")) == 1
    finally:
        await bus.close()
        stop(processes)


async def test_a_timeout_due_while_the_orchestrator_is_down_fires_once_when_it_is_back(
        nats_server: EmbeddedNats, mock_http: MockHttp, tmp_path: Path) -> None:
    processes = actors(nats_server.url, tmp_path, 1)
    bus = await Bus.connect(nats_server.url, "test-client", TEST_BUS_SETTINGS, give_up_after=10)
    try:
        request = RunRequested.model_validate({"runId": "times-out", "graph": approval(mock_http, timeout_s=2),
                                               "inputs": {"payload": {"amount": 5}}})
        await bus.request_run(request, "times-out")

        async def waiting() -> bool:
            found = await bus.runs.get("times-out")
            return found is not None and found[0].step("ask").status == "waiting"

        await eventually(waiting, what="the wait to start")
        for process in processes:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        await eventually(_after(3.0), what="the timeout to pass with no orchestrator")
        processes = actors(nats_server.url, tmp_path, 2)

        async def finished() -> str | None:
            found = await bus.runs.get("times-out")
            return found[0].status if found is not None and found[0].finished else None

        assert await eventually(finished, timeout=60, what="the run to finish") == "succeeded"
        await eventually(_after(1.0), what="a moment for a second firing")
        assert len(mock_http.requests_to("/timeout")) == 1
    finally:
        await bus.close()
        stop(processes)


def _after(seconds: float) -> Callable[[], Awaitable[bool]]:
    deadline = time.monotonic() + seconds

    async def passed() -> bool:
        return time.monotonic() >= deadline

    return passed
