"""Pinned data and partial runs (POST /v1/runs pinData, runTo) in the state machine, without a server: a pinned
step succeeds when it becomes ready, with no dispatch; a partial run skips what the step under test does not need.
Every transition's events fold into its record (Run.apply)."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator import state
from orchestrator.item_runs import item_dag
from schemas import RunRecord, WorkflowInvalid, partial_run
from tests.orchestrator.test_branches_and_retries import Run, edge, http, record_of
from tests.orchestrator.test_control_flow_state import node


def pinned(record: RunRecord, pins: dict[str, Any] | None = None, run_to: str | None = None,
           inputs: dict[str, Any] | None = None) -> RunRecord:
    dag, run_inputs = partial_run(record.dag, inputs or {}, pins or {}, run_to, bool(inputs))
    return RunRecord.new("run1", dag, run_inputs)


def chain() -> RunRecord:
    """start → a → b → check (if) → yes | no"""
    return record_of(
        [http("a"), http("b"), node("check", "if", condition="{{ steps.b.output.body.big }}"), http("yes"), http("no")],
        [edge("start", "a"), edge("a", "b"), edge("b", "check"), edge("check", "yes", "true"),
         edge("check", "no", "false")],
    )


def test_a_pinned_step_succeeds_when_ready_with_its_output_masked_and_is_never_dispatched() -> None:
    run = Run(pinned(chain(), {"a": {"body": {"id": 7}, "headers": {"Authorization": "Bearer sk_live_123456"}}}))
    assert run.dispatched() == ["b"], "a is pinned: the step after it is the first dispatched"
    a = run.record.step("a")
    assert a.status == "succeeded" and a.pinned and a.attempt == 1 and a.dispatchedAt is None
    assert a.output == {"body": {"id": 7}, "headers": {"Authorization": "••••••"}}, "a pin is masked as any output"
    assert any("pinned" in log.msg for log in run.record.logs)
    transition = run.result("b", output={"body": {"big": True}})
    assert [d.stepId for d in transition.dispatches] == ["check"]
    assert "a" not in transition.dispatches[0].steps and "b" in transition.dispatches[0].steps, \
        "the If reads b's output, not a's"


def test_run_to_skips_what_the_step_under_test_does_not_need_naming_it() -> None:
    run = Run(pinned(chain(), {"a": {"body": 1}, "b": {"body": {"big": True}}}, run_to="check"))
    statuses = run.statuses()
    assert statuses == {"start": "succeeded", "a": "skipped", "b": "succeeded", "check": "queued",
                        "yes": "skipped", "no": "skipped"}, "b is pinned: what comes before it is not needed, but for the trigger (the run's inputs)"
    assert run.dispatched() == ["check"], "b is pinned and its parent is left out: it succeeds at the start"
    for skipped in ("a", "yes", "no"):
        assert "'check' (check)" in (run.record.step(skipped).skipReason or "")
    run.result("check", output={"result": True}, handles=["true"])
    assert run.record.status == "succeeded"
    assert run.record.step("yes").status == "skipped", "after the step under test nothing runs"


def test_run_to_without_pins_runs_every_ancestor() -> None:
    run = Run(pinned(chain(), run_to="b"))
    assert run.statuses()["start"] == "succeeded" and run.dispatched() == ["a"]
    run.result("a")
    run.result("b")
    assert run.record.status == "succeeded"
    assert {s for s, status in run.statuses().items() if status == "skipped"} == {"check", "yes", "no"}


def test_a_pinned_trigger_is_what_the_run_begins_with() -> None:
    record = pinned(chain(), {"start": {"payload": {"body": {"amount": 150}}}})
    assert record.inputs == {"payload": {"body": {"amount": 150}}}, "templates read payload from the inputs"
    run = Run(record)
    start = run.record.step("start")
    assert start.pinned and start.output == {"payload": {"body": {"amount": 150}}}
    assert run.dispatched() == ["a"]


def test_unknown_ids_and_a_trigger_pin_that_is_not_what_a_run_begins_with_are_refused_naming_the_field() -> None:
    dag = chain().dag
    with pytest.raises(WorkflowInvalid) as refused:
        partial_run(dag, {}, {"nope": 1, "a": 2}, "gone", False)
    assert [issue.field for issue in refused.value.issues] == ["pinData.nope", "runTo"]
    with pytest.raises(WorkflowInvalid) as refused:
        partial_run(dag, {}, {"start": [1]}, None, False)
    assert [issue.field for issue in refused.value.issues] == ["pinData.start"]
    with pytest.raises(WorkflowInvalid) as refused:
        partial_run(dag, {"x": 1}, {"start": {"payload": {}}}, None, True)
    assert "not both" in refused.value.issues[0].reason


def test_pinned_wait_delay_and_subworkflow_succeed_at_once() -> None:
    record = record_of(
        [node("hold", "wait", resume="approval", timeoutSeconds=60), node("pause", "delay", seconds=30),
         node("sub", "subworkflow", workflowId="wf_other"), http("end")],
        [edge("start", "hold"), edge("hold", "pause", "approved"), edge("pause", "sub"), edge("sub", "end")],
    )
    run = Run(pinned(record, {"hold": {"approved": True}, "pause": {}, "sub": {"ok": 1}}))
    assert run.dispatched() == ["end"]
    assert run.last.timers == [] and run.last.children == []
    assert all(run.record.step(s).pinned for s in ("hold", "pause", "sub"))


def loop_record() -> RunRecord:
    return record_of(
        [node("each", "loop", items="{{ inputs.xs }}"), http("fetch"), http("use"), http("other"), http("after")],
        [edge("start", "each"), edge("each", "fetch", "each"), edge("fetch", "use"), edge("each", "other", "each"),
         edge("each", "after", "done")],
    )


def test_a_pinned_loop_goes_on_from_done_and_its_body_does_not_run() -> None:
    run = Run(pinned(loop_record(), {"each": [{"a": 1}]}))
    assert run.dispatched() == ["after"]
    assert run.record.step("each").handles == ["done"] and run.last.children == []
    assert {run.record.step(s).status for s in ("fetch", "use", "other")} == {"skipped"}


def test_run_to_inside_a_loop_body_runs_the_loop_and_only_the_body_steps_it_needs_in_each_item() -> None:
    record = pinned(loop_record(), {"fetch": {"body": "pinned"}}, run_to="use")
    run = Run(record)
    assert run.statuses()["after"] == "skipped" and run.statuses()["other"] == "skipped"
    assert run.dispatched() == ["each"], "the loop runs: its items are rendered first"
    run.result("each", output={"items": [1, 2]})
    assert run.record.step("fetch").status == "running" and run.record.step("fetch").pinned
    assert run.record.step("other").status == "skipped", "a skipped body step stays skipped in the parent"

    body = item_dag(run.record.dag, "each")
    assert body.step("each").pin is None and body.step("each").outsideRunTo is None
    item = Run(RunRecord.new("item0", body, {}))
    assert item.statuses()["other"] == "skipped" and "'use' (use)" in (item.record.step("other").skipReason or "")
    assert item.record.step("fetch").pinned and item.record.step("fetch").output == {"body": "pinned"}
    assert item.dispatched() == ["use"]


def test_a_pinned_if_takes_the_branch_its_pin_says_and_a_pin_that_does_not_say_is_refused() -> None:
    run = Run(pinned(chain(), {"a": {}, "b": {}, "check": {"result": False}}))
    assert run.dispatched() == ["no"]
    assert run.record.step("check").handles == ["false"] and run.record.step("yes").status == "skipped"
    with pytest.raises(WorkflowInvalid) as refused:
        partial_run(chain().dag, {}, {"check": {"value": 1}}, None, False)
    assert refused.value.issues[0].field == "pinData.check" and '{"result": true}' in refused.value.issues[0].reason


def test_pinned_switch_and_wait_take_the_outputs_their_pins_say() -> None:
    record = record_of(
        [node("route", "switch", value="{{ inputs.region }}", cases=["eu", "us"]), http("eu"), http("us"),
         node("hold", "wait", resume="approval", timeoutSeconds=60), http("yes"), http("late")],
        [edge("start", "route"), edge("route", "eu", "eu"), edge("route", "us", "us"), edge("eu", "hold"),
         edge("hold", "yes", "approved"), edge("hold", "late", "timeout")],
    )
    run = Run(pinned(record, {"route": {"value": "eu", "matched": "eu"}, "eu": {}, "hold": {"timedOut": True}}))
    assert run.dispatched() == ["late"]
    assert run.statuses()["us"] == "skipped" and run.statuses()["yes"] == "skipped"
    with pytest.raises(WorkflowInvalid) as refused:
        partial_run(record.dag, {}, {"route": {"matched": "asia"}, "hold": {}}, None, False)
    assert [issue.field for issue in refused.value.issues] == ["pinData.route", "pinData.hold"]


def test_run_to_after_a_loop_runs_its_whole_body_and_skips_only_what_comes_after() -> None:
    record = record_of(
        [node("each", "loop", items="{{ inputs.xs }}"), http("fetch"), http("after"), http("later")],
        [edge("start", "each"), edge("each", "fetch", "each"), edge("each", "after", "done"), edge("after", "later")],
    )
    dag = pinned(record, run_to="after").dag
    assert [s.id for s in dag.steps if s.outsideRunTo] == ["later"], "the loop's output is its body's results"
