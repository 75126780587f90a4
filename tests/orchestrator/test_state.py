"""The run state machine, without a server: the rules of runs in isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from orchestrator import state
from schemas import RunRecord, StepResult, Workflow, compile_workflow, fold_events

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def diamond() -> RunRecord:
    def http(node_id: str) -> dict[str, Any]:
        return {"id": node_id, "type": "http", "data": {"config": {"url": f"https://x.test/{node_id}"}}}

    graph = TypeAdapter(Workflow).validate_python({
        "nodes": [{"id": "start", "type": "start"}, http("a"), http("b"), http("join")],
        "edges": [{"id": "1", "source": "start", "target": "a"}, {"id": "2", "source": "start", "target": "b"},
                  {"id": "3", "source": "a", "target": "join"}, {"id": "4", "source": "b", "target": "join"}],
    })
    return RunRecord.new("run1", compile_workflow(graph), {"x": 1})


def result(step: str, status: str, attempt: int = 1, **extra: Any) -> StepResult:
    return StepResult(runId="run1", stepId=step, status=status, attempt=attempt, startedAt=T0, **extra)  # type: ignore[arg-type]


def apply(record: RunRecord, *results: StepResult) -> tuple[RunRecord, list[state.Transition]]:
    transitions = []
    for r in results:
        t = state.apply_result(record, r, T0 + timedelta(seconds=1))
        if t.record is not None:
            assert fold_events(record, t.events) == t.record, "the change's events say all it changed"
        transitions.append(t)
        record = t.record or record
    return record, transitions


def test_start_runs_start_and_dispatches_both_branches() -> None:
    t = state.start(diamond(), T0)
    assert t.record is not None and t.record.status == "running"
    assert t.record.step("start").status == "succeeded" and t.record.step("start").output == {"x": 1}
    assert sorted(d.stepId for d in t.dispatches) == ["a", "b"]
    assert [e.seq for e in t.events] == list(range(1, len(t.events) + 1))
    assert [(e.type, getattr(e, "status", None)) for e in t.events][:2] == [("run", "queued"), ("run", "running")]


def test_join_waits_for_both_branches() -> None:
    record = state.start(diamond(), T0).record
    assert record is not None
    record, transitions = apply(record, result("a", "running"), result("a", "succeeded"))
    assert transitions[-1].dispatches == []
    record, transitions = apply(record, result("b", "succeeded"))
    assert [d.stepId for d in transitions[-1].dispatches] == ["join"]
    record, transitions = apply(record, result("join", "succeeded", durationMs=5.0))
    assert record.status == "succeeded"
    assert transitions[-1].events[-1].type == "run"


def test_failure_skips_what_has_not_started_and_fails_the_run_when_nothing_runs() -> None:
    record = state.start(diamond(), T0).record
    assert record is not None
    record, _ = apply(record, result("a", "running"), result("b", "running"))
    record, _ = apply(record, result("a", "failed", error="HTTP 500"))
    assert record.step("join").status == "skipped"
    assert record.status == "running", "b is still in flight"
    record, _ = apply(record, result("b", "succeeded"))
    assert record.status == "failed"
    assert record.error is not None and "HTTP 500" in record.error
    assert any(log.level == "ERROR" for log in record.logs)


def test_repeated_and_late_results_change_nothing() -> None:
    record = state.start(diamond(), T0).record
    assert record is not None
    record, _ = apply(record, result("a", "succeeded"))
    t = state.apply_result(record, result("a", "succeeded"), T0)
    assert t.record is None
    t = state.apply_result(record, result("a", "running"), T0)
    assert t.record is None, "a running notice after the final result must not reopen the step"


def test_redelivered_request_re_dispatches_ready_steps_without_writing() -> None:
    record = state.start(diamond(), T0).record
    assert record is not None
    again = state.start(record, T0)
    assert again.record is None and sorted(d.stepId for d in again.dispatches) == ["a", "b"]


def test_cancel_marks_unfinished_steps_and_asks_for_abort() -> None:
    record = state.start(diamond(), T0).record
    assert record is not None
    record, _ = apply(record, result("a", "running"))
    t = state.cancel(record, T0 + timedelta(seconds=2), "user asked")
    assert t.record is not None and t.abort
    assert t.record.status == "cancelled"
    assert {s.id: s.status for s in t.record.steps} == {"start": "succeeded", "a": "cancelled", "b": "cancelled", "join": "cancelled"}
    late = state.apply_result(t.record, result("a", "succeeded"), T0)
    assert late.record is None and late.dispatches == []
    assert state.cancel(t.record, T0).record is None


def test_a_redelivered_step_is_recorded_with_a_warning() -> None:
    record = state.start(diamond(), T0).record
    assert record is not None
    record, _ = apply(record, result("a", "running"), result("a", "succeeded", delivery=2))
    assert record.step("a").attempt == 1 and record.step("a").status == "succeeded"
    assert any("delivered 2 times" in log.msg and log.level == "WARN" for log in record.logs)


def test_fast_step_reporting_once_is_shown_running_then_succeeded() -> None:
    record = state.start(diamond(), T0).record
    assert record is not None
    t = state.apply_result(record, result("a", "succeeded", durationMs=3.0, worker="w:1"), T0 + timedelta(seconds=1))
    assert t.record is not None
    statuses = [e.step.status for e in t.events if e.type == "step" and e.step.id == "a"]
    assert statuses == ["running", "succeeded"]
    step = t.record.step("a")
    assert (step.startedAt, step.attempt, step.worker, step.durationMs) == (T0, 1, "w:1", 3.0)


def test_fast_failure_does_not_skip_a_dispatched_sibling_and_waits_for_it() -> None:
    record = state.start(diamond(), T0).record  # a and b both dispatched, neither has reported
    assert record is not None
    record, _ = apply(record, result("a", "failed", error="cannot resolve host"))
    assert {s.id: s.status for s in record.steps} == {"start": "succeeded", "a": "failed", "b": "queued", "join": "skipped"}
    assert record.status == "running", "b was sent to a worker: the run waits for it"
    record, transitions = apply(record, result("b", "succeeded", output={"status": 200}))
    assert record.step("b").status == "succeeded" and record.step("b").output == {"status": 200}
    assert transitions[-1].dispatches == [], "nothing new starts once a step has failed"
    assert record.status == "failed"


def test_start_output_masks_sensitive_inputs() -> None:
    graph = TypeAdapter(Workflow).validate_python({"nodes": [{"id": "start", "type": "start"}], "edges": []})
    record = RunRecord.new("run2", compile_workflow(graph), {"apiKey": "sk_live_123", "title": "hello"})
    started = state.start(record, T0).record
    assert started is not None
    assert started.step("start").output == {"apiKey": "••••••", "title": "hello"}
