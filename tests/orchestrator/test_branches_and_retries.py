"""Branches, joins, retries, onError and delays in the state machine, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from orchestrator import state
from schemas import RunRecord, StepResult, TimerDue, Workflow, compile_workflow, fold_events

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def http(node_id: str, url: str | None = None, **settings: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"config": {"method": "POST", "url": url or f"https://x.test/{node_id}"}}
    if settings:
        data["settings"] = settings
    return {"id": node_id, "type": "http", "data": data}


def edge(source: str, target: str, handle: str | None = None) -> dict[str, Any]:
    return {"id": f"{source}-{target}-{handle}", "source": source, "target": target, "sourceHandle": handle}


def record_of(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> RunRecord:
    graph = TypeAdapter(Workflow).validate_python({"nodes": [{"id": "start", "type": "start"}, *nodes], "edges": edges})
    return RunRecord.new("run1", compile_workflow(graph), {})


def report(step: str, status: str = "succeeded", attempt: int = 1, **extra: Any) -> StepResult:
    return StepResult(runId="run1", stepId=step, status=status, attempt=attempt, startedAt=T0, **extra)  # type: ignore[arg-type]


class Run:
    """Drives a record through transitions, keeping what each one asked for."""

    def __init__(self, record: RunRecord) -> None:
        self.now = T0
        self.last = state.start(record, self.now)
        assert self.last.record is not None
        assert fold_events(record, self.last.events) == self.last.record
        self.record = self.last.record

    def apply(self, transition: state.Transition) -> state.Transition:
        if transition.record is not None:
            # The store keeps only a change's events: they must say everything the transition changed.
            assert fold_events(self.record, transition.events) == transition.record
        self.last = transition
        self.record = transition.record or self.record
        return transition

    def result(self, step: str, status: str = "succeeded", attempt: int = 1, **extra: Any) -> state.Transition:
        self.now += timedelta(seconds=1)
        return self.apply(state.apply_result(self.record, report(step, status, attempt, **extra), self.now))

    def fire(self, timer: TimerDue) -> state.Transition:
        self.now = max(self.now, timer.dueAt)
        return self.apply(state.timer_due(self.record, timer, self.now))

    def statuses(self) -> dict[str, str]:
        return {s.id: s.status for s in self.record.steps}

    def dispatched(self) -> list[str]:
        return [d.stepId for d in self.last.dispatches]


def if_workflow() -> RunRecord:
    return record_of(
        [{"id": "check", "type": "if", "data": {"config": {"condition": "{{ true }}"}}},
         http("big"), http("small"), http("join")],
        [edge("start", "check"), edge("check", "big", "true"), edge("check", "small", "false"),
         edge("big", "join"), edge("small", "join")],
    )


def test_if_takes_one_branch_skips_the_other_and_the_join_runs() -> None:
    run = Run(if_workflow())
    assert run.dispatched() == ["check"]
    run.result("check", output={"result": True}, handles=["true"])
    assert run.dispatched() == ["big"]
    assert run.record.step("small").status == "skipped"
    assert "branch not taken" in (run.record.step("small").skipReason or "")
    run.result("big")
    assert run.dispatched() == ["join"], "a parent skipped by a branch is ignored"
    run.result("join")
    assert run.record.status == "succeeded", "branch-skips alone do not fail a run"


def test_a_step_whose_parents_were_all_skipped_is_skipped_and_so_on_down() -> None:
    run = Run(record_of(
        [{"id": "check", "type": "if", "data": {"config": {"condition": "x"}}}, http("a"), http("b"), http("c")],
        [edge("start", "check"), edge("check", "a", "true"), edge("a", "b"), edge("b", "c"),
         edge("check", "c", "true")],
    ))
    run.result("check", output={"result": False}, handles=["false"])
    assert run.statuses() == {"start": "succeeded", "check": "succeeded", "a": "skipped", "b": "skipped", "c": "skipped"}
    assert run.record.step("b").skipReason == "every step before it was skipped"
    assert run.record.status == "succeeded"


def test_switch_default_branch() -> None:
    run = Run(record_of(
        [{"id": "route", "type": "switch", "data": {"config": {"value": "{{ 'x' }}", "cases": ["eu", "us"]}}},
         http("eu"), http("us"), http("other")],
        [edge("start", "route"), edge("route", "eu", "eu"), edge("route", "us", "us"), edge("route", "other", "default")],
    ))
    run.result("route", output={"value": "x", "matched": "default"}, handles=["default"])
    assert run.dispatched() == ["other"]
    assert run.statuses()["eu"] == run.statuses()["us"] == "skipped"


def test_retry_waits_with_growing_backoff_then_succeeds_on_attempt_3() -> None:
    retry = {"maxAttempts": 3, "initialIntervalMs": 1000, "backoffCoefficient": 2.0, "maxIntervalMs": 60000}
    run = Run(record_of([http("call", retry=retry)], [edge("start", "call")]))
    waits = []
    for attempt in (1, 2):
        run.result("call", "failed", attempt=attempt, error="HTTP 503", retryable=True)
        step = run.record.step("call")
        assert step.status == "waiting" and run.last.dispatches == []
        [timer] = run.last.timers
        assert (timer.kind, timer.attempt) == ("retry", attempt + 1)
        waits.append((timer.dueAt - run.now).total_seconds())
        run.fire(timer)
        [dispatch] = run.last.dispatches
        assert dispatch.attempt == attempt + 1
    assert 0.8 <= waits[0] <= 1.0 and 1.6 <= waits[1] <= 2.0 and waits[1] > waits[0]
    run.result("call", attempt=3)
    step = run.record.step("call")
    assert step.status == "succeeded" and [a.attempt for a in step.attempts] == [1, 2, 3]
    assert [a.retryInMs is not None for a in step.attempts] == [True, True, False]
    assert run.record.status == "succeeded"
    assert any("attempt 1 of 3 failed: HTTP 503; retrying in" in log.msg for log in run.record.logs)


def test_a_failure_that_is_not_retryable_fails_at_once() -> None:
    run = Run(record_of([http("call", retry={"maxAttempts": 5})], [edge("start", "call")]))
    run.result("call", "failed", error="HTTP 404", retryable=False)
    assert run.record.step("call").status == "failed" and run.last.timers == []
    # Said plainly: "attempt 1 of 5" would read as if four more were coming.
    [said] = [log.msg for log in run.record.logs if log.stepId == "call"]
    assert "of 5" not in said and "not retried: trying again would fail the same way" in said and "HTTP 404" in said


def test_a_failure_with_its_retries_spent_says_so() -> None:
    run = Run(record_of([http("call", retry={"maxAttempts": 2, "initialIntervalMs": 100})], [edge("start", "call")]))
    run.result("call", "failed", error="HTTP 503", retryable=True)
    [timer] = run.last.timers
    run.fire(timer)
    run.result("call", "failed", attempt=2, error="HTTP 503", retryable=True)
    assert any("failed on attempt 2 of 2: HTTP 503" in log.msg for log in run.record.logs)
    assert run.record.status == "failed"


def test_retry_after_is_honoured_when_longer_than_the_backoff() -> None:
    run = Run(record_of([http("call", retry={"maxAttempts": 2})], [edge("start", "call")]))
    run.result("call", "failed", error="HTTP 429", retryable=True, retryAfterMs=5000)
    [timer] = run.last.timers
    assert (timer.dueAt - run.now).total_seconds() == 5.0


def test_late_and_repeated_reports_of_an_old_attempt_are_ignored() -> None:
    run = Run(record_of([http("call", retry={"maxAttempts": 3})], [edge("start", "call")]))
    run.result("call", "failed", error="boom", retryable=True)
    repeat = run.result("call", "failed", error="boom", retryable=True)
    assert repeat.record is None, "the repeat changes nothing"
    [timer] = repeat.timers  # but re-sends the timer, in case the first was lost in a crash
    run.fire(timer)
    assert run.result("call", "succeeded", attempt=1).record is None, "attempt 1 is over"


def test_a_timer_fired_twice_starts_one_retry() -> None:
    run = Run(record_of([http("call", retry={"maxAttempts": 3})], [edge("start", "call")]))
    run.result("call", "failed", error="boom", retryable=True)
    [timer] = run.last.timers
    first = run.fire(timer)
    again = state.timer_due(run.record, timer, run.now)
    assert first.record is not None and again.record is None
    assert [d.attempt for d in again.dispatches] == [2], "re-sent with the same attempt: the stream drops the repeat"


def test_continue_on_fail_runs_downstream_with_the_error_and_the_run_succeeds() -> None:
    after = http("after", url="https://x.test/{{ steps.flaky.output.status }}")
    run = Run(record_of([http("flaky", onError="continue"), after], [edge("start", "flaky"), edge("flaky", "after")]))
    run.result("flaky", "failed", error="HTTP 500 Internal Server Error", output={"status": 500})
    step = run.record.step("flaky")
    assert step.status == "failed" and step.errorHandled
    [dispatch] = run.last.dispatches
    assert dispatch.stepId == "after"
    assert dispatch.steps["flaky"] == {"output": {"status": 500}, "status": "failed", "error": "HTTP 500 Internal Server Error"}
    run.result("after")
    assert run.record.status == "succeeded"


def test_delay_waits_on_a_timer_and_completes_in_the_orchestrator() -> None:
    run = Run(record_of([{"id": "wait", "type": "delay", "data": {"config": {"seconds": 90}}}, http("after")],
                        [edge("start", "wait"), edge("wait", "after")]))
    assert run.last.dispatches == [], "a delay never reaches a worker"
    [timer] = run.last.timers
    assert timer.kind == "delay" and timer.dueAt == T0 + timedelta(seconds=90)
    assert run.record.step("wait").status == "waiting"
    run.fire(timer)
    assert run.record.step("wait").status == "succeeded" and run.dispatched() == ["after"]
    assert run.record.step("wait").durationMs == 90_000


def test_cancel_ends_a_waiting_delay_and_a_late_timer_is_ignored() -> None:
    run = Run(record_of([{"id": "wait", "type": "delay", "data": {"config": {"seconds": 3600}}}], [edge("start", "wait")]))
    [timer] = run.last.timers
    cancelled = run.apply(state.cancel(run.record, run.now))
    assert cancelled.abort and run.record.step("wait").status == "cancelled"
    assert state.timer_due(run.record, timer, timer.dueAt).record is None


def test_a_redelivered_request_resends_timers_of_waiting_steps() -> None:
    run = Run(record_of([{"id": "wait", "type": "delay", "data": {"config": {"seconds": 60}}}], [edge("start", "wait")]))
    again = state.start(run.record, run.now)
    assert again.record is None and [t.stepId for t in again.timers] == ["wait"]


def test_no_retry_starts_once_another_step_has_failed_for_good() -> None:
    run = Run(record_of([http("a"), http("b", retry={"maxAttempts": 3})], [edge("start", "a"), edge("start", "b")]))
    run.result("b", "running")
    run.result("a", "failed", error="HTTP 404", retryable=False)
    run.result("b", "failed", error="HTTP 503", retryable=True)
    assert run.last.timers == [] and run.record.step("b").status == "failed"
    assert run.record.status == "failed"


def test_a_redelivered_parent_result_does_not_resend_a_step_a_worker_is_running() -> None:
    run = Run(record_of([http("a"), http("b")], [edge("start", "a"), edge("a", "b")]))
    run.result("a")
    run.result("b", "running")
    again = state.apply_result(run.record, report("a"), run.now)
    assert again.record is None and again.dispatches == [], "b's worker has it; JetStream redelivers if it dies"
    assert state.start(run.record, run.now).dispatches == []


def test_a_failure_ends_other_waits_and_drops_their_timers() -> None:
    run = Run(record_of([{"id": "wait", "type": "delay", "data": {"config": {"seconds": 3600}}}, http("a")],
                        [edge("start", "wait"), edge("start", "a")]))
    run.result("a", "failed", error="boom")
    assert run.record.step("wait").status == "cancelled" and run.last.drop_timers
    assert run.record.status == "failed"


def test_a_dispatch_carries_only_the_outputs_its_templates_read() -> None:
    chain = [http("a"), http("b"), http("c", url="https://x.test/{{ steps.a.output.status }}"),
             http("d", url="https://x.test/{{ steps | length }}")]
    run = Run(record_of(chain, [edge("start", "a"), edge("a", "b"), edge("b", "c"), edge("c", "d")]))
    run.result("a", output={"status": 201})
    run.result("b", output={"status": 202})
    [dispatch] = run.last.dispatches
    assert dispatch.stepId == "c" and set(dispatch.steps) == {"a"}, "c names only a"
    run.result("c", output={"status": 203})
    [dispatch] = run.last.dispatches
    assert set(dispatch.steps) == {"start", "a", "b", "c"}, "d reads `steps` as a whole: every earlier step"


def test_a_large_output_travels_as_its_reference() -> None:
    run = Run(record_of([http("a"), http("b", url="https://x.test/{{ steps.a.output.body }}")],
                        [edge("start", "a"), edge("a", "b")]))
    run.apply(state.apply_result(run.record, report("a", output={"body": "x" * 100}), run.now, "run1.a.1"))
    step = run.record.step("a")
    assert step.output is None and step.outputRef == "run1.a.1"
    [dispatch] = run.last.dispatches
    assert dispatch.steps["a"] == {"outputRef": "run1.a.1", "status": "succeeded", "error": None}


def test_a_step_every_worker_died_on_fails_and_ends_the_run() -> None:
    run = Run(record_of([http("a"), http("b")], [edge("start", "a"), edge("a", "b")]))
    transition = run.apply(state.gave_up(run.record, "a", attempt=1, deliveries=5, now=run.now))
    step = run.record.step("a")
    assert step.status == "failed" and "gave up after 5 attempts" in (step.error or "")
    assert run.record.step("b").status == "skipped" and run.record.status == "failed"
    assert transition.dispatches == []


def test_a_cancel_for_a_run_not_recorded_yet_is_retried_until_redelivery_runs_out() -> None:
    assert state.retry_cancel_of_unknown_run(delivered=1, max_deliver=5)
    assert not state.retry_cancel_of_unknown_run(delivered=5, max_deliver=5)


def test_a_run_id_derived_from_a_request_is_stable() -> None:
    assert state.derived_run_id("order-42", 0, 7) == state.derived_run_id("order-42", 99, 8), "the key decides"
    assert state.derived_run_id(None, 0x18f, 7) == "00000000018f000000000007", "else time, then stream position"
    assert state.derived_run_id(None, 1, 7) != state.derived_run_id(None, 1, 8)
