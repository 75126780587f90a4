"""Loops, merges, waits and subworkflows in the state machine, without a server: what each transition asks for,
and that repeats after a crash are recognised. Every transition's events fold into its record (Run.apply)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from orchestrator import state
from schemas.items import item_run_id
from schemas import ResumeRequested
from tests.orchestrator.test_branches_and_retries import Run, edge, http, record_of


def node(node_id: str, node_type: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "data": {"config": config}}


def loop_run(concurrency: int = 2, on_item_error: str = "stop") -> Run:
    return Run(record_of(
        [node("each", "loop", items="{{ inputs.xs }}", concurrency=concurrency, onItemError=on_item_error),
         http("body"), http("after")],
        [edge("start", "each"), edge("each", "body", "each"), edge("each", "after", "done")],
    ))


def item(run: Run, index: int, status: str = "succeeded", body: str = "succeeded") -> state.Transition:
    run.now += timedelta(seconds=1)
    outcome = state.ChildOutcome(run_id=item_run_id("run1", "each", index), index=index, status=status,  # type: ignore[arg-type]
                                 error=None if status == "succeeded" else "boom", steps={"body": body})
    return run.apply(state.child_finished(run.record, "each", outcome, run.now))


def test_a_loop_is_rendered_by_a_worker_then_starts_items_up_to_its_concurrency() -> None:
    run = loop_run()
    assert run.dispatched() == ["each"], "the worker renders the items first"
    transition = run.result("each", output={"items": ["a", "b", "c"]})
    assert [(c.index, c.run_id) for c in transition.children] == [(0, item_run_id("run1", "each", 0)),
                                                                  (1, item_run_id("run1", "each", 1))]
    loop = run.record.step("each")
    assert loop.status == "running" and loop.begun and loop.items is not None and loop.items.running == [0, 1]
    assert run.record.step("body").status == "running" and run.record.step("body").items.total == 3  # type: ignore[union-attr]
    assert transition.dispatches == [], "the body is never dispatched in the parent run"


def test_each_finished_item_starts_the_next_a_repeat_changes_nothing_and_the_last_asks_for_gathering() -> None:
    run = loop_run()
    run.result("each", output={"items": ["a", "b", "c"]})
    assert [c.index for c in item(run, 0).children] == [2]
    repeat = item(run, 0)
    assert repeat.events == [] and repeat.children == []
    item(run, 2)
    last = item(run, 1)
    assert last.collect == ["each"] and run.record.step("each").status == "running"
    again = item(run, 1)
    assert again.collect == ["each"], "told again after a crash, it asks for the gathering again"
    run.now += timedelta(seconds=1)
    done = run.apply(state.collected(run.record, "each", state.Collected(output={"count": 3}, output_ref=None), run.now))
    assert run.record.step("each").status == "succeeded" and run.record.step("each").handles == ["done"]
    assert run.record.step("body").status == "succeeded" and run.record.step("body").items.succeeded == 3  # type: ignore[union-attr]
    assert [d.stepId for d in done.dispatches] == ["after"]


def test_a_failed_item_stops_the_loop_and_cancels_the_items_still_running() -> None:
    run = loop_run(concurrency=3)
    run.result("each", output={"items": [1, 2, 3, 4]})
    transition = item(run, 1, status="failed", body="failed")
    assert transition.cancel_runs == [item_run_id("run1", "each", 0), item_run_id("run1", "each", 2)]
    assert run.record.step("each").status == "failed" and "item 1 failed" in (run.record.step("each").error or "")
    assert run.record.step("after").status == "skipped"
    assert run.record.status == "failed"


def test_with_continue_a_failed_item_is_counted_and_the_rest_run() -> None:
    run = loop_run(concurrency=1, on_item_error="continue")
    run.result("each", output={"items": [1, 2]})
    assert [c.index for c in item(run, 0, status="failed", body="failed").children] == [1]
    assert item(run, 1).collect == ["each"]
    run.apply(state.collected(run.record, "each", state.Collected(output={"failed": 1}, output_ref=None), run.now))
    body = run.record.step("body")
    assert body.status == "failed" and body.errorHandled and run.record.status == "running"


def test_an_empty_list_finishes_the_loop_without_items() -> None:
    run = loop_run()
    transition = run.result("each", output={"items": []})
    assert transition.children == [] and transition.collect == ["each"]


def test_cancel_cancels_the_running_items_and_again_after_a_crash() -> None:
    run = loop_run()
    run.result("each", output={"items": [1, 2, 3]})
    run.now += timedelta(seconds=1)
    cancelled = run.apply(state.cancel(run.record, run.now))
    expected = [item_run_id("run1", "each", 0), item_run_id("run1", "each", 1)]
    assert cancelled.cancel_runs == expected and run.record.status == "cancelled"
    assert state.cancel(run.record, run.now).cancel_runs == expected


def test_merge_first_goes_on_with_the_first_parent_to_reach_it() -> None:
    run = Run(record_of([http("a"), http("b"), node("join", "merge", mode="first"), http("after")],
                        [edge("start", "a"), edge("start", "b"), edge("a", "join"), edge("b", "join"),
                         edge("join", "after")]))
    transition = run.result("b", output={"who": "b"})
    assert [d.stepId for d in transition.dispatches] == ["join"]
    assert list(transition.dispatches[0].steps) == ["b"], "only the parent that reached it"
    run.result("join", output={"b": {"who": "b"}})
    assert run.result("a").dispatches == [], "a later arrival starts nothing"


def test_merge_wait_all_waits_for_every_parent_and_gets_those_that_ran_in_edge_order() -> None:
    run = Run(record_of([http("a"), http("b"), node("join", "merge")],
                        [edge("start", "a"), edge("start", "b"), edge("a", "join"), edge("b", "join")]))
    assert run.result("b").dispatches == []
    transition = run.result("a")
    assert list(transition.dispatches[0].steps) == ["a", "b"]


def wait_run(timeout_s: int = 60) -> Run:
    run = Run(record_of([node("ask", "wait", resume="approval", timeoutSeconds=timeout_s, message="ok?"),
                         http("yes"), http("late")],
                        [edge("start", "ask"), edge("ask", "yes", "approved"), edge("ask", "late", "timeout")]))
    run.result("ask", output={"resume": "approval", "timeoutSeconds": timeout_s, "message": "Refund 5?"})
    return run


def test_a_wait_waits_with_a_resume_url_a_timeout_timer_and_its_rendered_message() -> None:
    run = wait_run()
    ask = run.record.step("ask")
    assert ask.status == "waiting" and ask.wait is not None and ask.wait.message == "Refund 5?"
    assert ask.resumeUrl is None, "the resume URL is never in the run's state or events: the gateway derives it"
    [timer] = run.last.timers
    assert timer.kind == "timeout" and timer.dueAt == run.now + timedelta(seconds=60)


def test_the_first_of_an_answer_and_the_timeout_wins() -> None:
    run = wait_run()
    [timer] = run.last.timers
    stale = state.resumed(run.record, ResumeRequested(runId="run1", stepId="ask", attempt=2, handle="approved"), run.now)
    assert stale.record is None, "an answer to another attempt changes nothing"
    transition = run.apply(state.resumed(run.record, ResumeRequested(runId="run1", stepId="ask", attempt=1,
                                                                     handle="approved", output={"approved": True}),
                                         run.now))
    assert [d.stepId for d in transition.dispatches] == ["yes"]
    assert run.fire(timer).record is None, "the timeout after the answer is stale"


def test_a_subworkflow_asks_for_its_child_and_ends_as_the_child_ends() -> None:
    run = Run(record_of([{"id": "sub", "type": "subworkflow", "data": {"config": {"workflowId": "wf_child"}}}],
                        [edge("start", "sub")]))
    transition = run.result("sub", output={"workflowId": "wf_child", "inputs": {}, "waitForCompletion": True})
    [child] = transition.children
    assert run.record.step("sub").childRunId == child.run_id and child.index is None
    run.now += timedelta(seconds=1)
    outcome = state.ChildOutcome(run_id=child.run_id, index=None, status="succeeded", output={"x": 1})
    run.apply(state.child_finished(run.record, "sub", outcome, run.now))
    assert run.record.step("sub").output == {"runId": child.run_id, "status": "succeeded", "output": {"x": 1}}
    assert run.record.status == "succeeded"
